import type { getOctokit } from '@actions/github';
import { errorMessage, withOperation } from '../../shared/src/errors.js';
import type { Logger } from '../../shared/src/logger.js';

export type GitHubClient = ReturnType<typeof getOctokit>;

/** The pull request a comment belongs to. */
export interface PullRequestRef {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
}

export interface StickyResult {
  readonly action: 'created' | 'updated';
  readonly commentId: number;
  /** Which of the candidate bodies GitHub accepted (0 = the first, richest one). */
  readonly attempt: number;
}

function status(error: unknown): number | undefined {
  const value = (error as { status?: unknown } | undefined)?.status;
  return typeof value === 'number' ? value : undefined;
}

/**
 * Finds the comment carrying `marker` on the pull request, paging through every comment (GitHub
 * returns 30 a page by default; a busy pull request has more). With `author`, only a comment that
 * author wrote counts: anyone can paste the marker into a comment of their own, and editing it
 * would let them choose where the workflow writes.
 */
export async function findComment(
  github: GitHubClient,
  pr: PullRequestRef,
  marker: string,
  author?: string,
): Promise<number | undefined> {
  try {
    const pages = github.paginate.iterator(github.rest.issues.listComments, {
      owner: pr.owner,
      repo: pr.repo,
      issue_number: pr.number,
      per_page: 100,
    });
    for await (const page of pages) {
      const found = page.data.find(
        (comment) => comment.body?.includes(marker) && (author === undefined || comment.user?.login === author),
      );
      if (found) return found.id;
    }
    return undefined;
  } catch (error) {
    throw withOperation(`Listing the comments of pull request #${pr.number}`, error);
  }
}

/**
 * Creates the sticky comment, or updates it in place when one with the marker exists: one comment
 * per pull request and marker, never a second copy. `bodies` are tried in order while GitHub
 * answers 422 (a body it will not take, e.g. "Body is too long").
 */
export async function upsertStickyComment(
  github: GitHubClient,
  pr: PullRequestRef,
  marker: string,
  bodies: Iterable<string>,
  logger: Logger,
  options: { readonly author?: string } = {},
): Promise<StickyResult> {
  const existing = await findComment(github, pr, marker, options.author);
  let attempt = 0;
  let lastError: unknown;
  for (const body of bodies) {
    if (!body.includes(marker)) throw new Error('A sticky comment body must contain its marker.');
    try {
      if (existing !== undefined) {
        await github.rest.issues.updateComment({ owner: pr.owner, repo: pr.repo, comment_id: existing, body });
        return { action: 'updated', commentId: existing, attempt };
      }
      const { data } = await github.rest.issues.createComment({
        owner: pr.owner,
        repo: pr.repo,
        issue_number: pr.number,
        body,
      });
      return { action: 'created', commentId: data.id, attempt };
    } catch (error) {
      if (status(error) !== 422) {
        throw withOperation(
          `${existing === undefined ? 'Creating' : 'Updating'} the diff comment on #${pr.number}`,
          error,
        );
      }
      logger.warning(
        `GitHub rejected the comment (${body.length} characters): ${errorMessage(error)}; trying a shorter one.`,
      );
      lastError = error;
      attempt++;
    }
  }
  throw withOperation(`Posting the diff comment on #${pr.number}`, lastError ?? new Error('no comment body to post'));
}

/** The pull request's current labels (live, so a label added after the event counts on a re-run). */
export async function pullRequestLabels(github: GitHubClient, pr: PullRequestRef): Promise<string[]> {
  try {
    const labels = await github.paginate(github.rest.issues.listLabelsOnIssue, {
      owner: pr.owner,
      repo: pr.repo,
      issue_number: pr.number,
      per_page: 100,
    });
    return labels.map((label) => label.name);
  } catch (error) {
    throw withOperation(`Reading the labels of pull request #${pr.number}`, error);
  }
}
