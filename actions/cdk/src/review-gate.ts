/**
 * The review gate of a deploy, in code that runs from main after review (never in the pull
 * request's own job): what reaches the account must be what a reviewer saw and approved.
 *
 * - The merged pull request's diff comment, written by the workflow's own identity, records the
 *   fingerprint of the reviewed change (fingerprint.ts). The deploy recomputes it for the merge and
 *   refuses when they differ: a stale pull request, another merge in between, drift.
 * - A destructive change deploys only when the merged pull request carries the allow label,
 *   applied by someone other than its author, after its last push (and the comment workflow
 *   removes the label on every new push, so an old approval never covers a new change).
 *
 * The one override: a `workflow_dispatch` of the deploy with `reviewed-fingerprint` set to the
 * fingerprint a refused run printed, behind the environment's required reviewers (docs/workflows.md).
 */
import { withOperation } from '../../shared/src/errors.js';
import type { GitHubClient } from './comment.js';
import { fingerprintDifferences, fingerprintId, parseFingerprint, type ReviewFingerprint } from './fingerprint.js';

/** The login GitHub gives the workflow's GITHUB_TOKEN: the only author whose comments count. */
export const WORKFLOW_LOGIN = 'github-actions[bot]';

export interface LabelEvent {
  readonly action: 'labeled' | 'unlabeled';
  readonly label: string;
  readonly actor: string;
  readonly at: string;
}

/** What GitHub says about the pull request that brought a commit to main. */
export interface ReviewEvidence {
  readonly number: number;
  readonly author: string;
  readonly headSha: string;
  readonly labels: readonly string[];
  /** The newest committer date among the pull request's commits. */
  readonly lastCommitAt: string;
  readonly labelEvents: readonly LabelEvent[];
  /** The fingerprint in the workflow's own diff comment for the environment, if any. */
  readonly reviewed?: ReviewFingerprint;
}

export interface Repository {
  readonly owner: string;
  readonly repo: string;
}

/** Reads the merged pull request of `commit` and its review evidence, or undefined when none brought it. */
export async function gatherReviewEvidence(
  github: GitHubClient,
  repository: Repository,
  commit: string,
  environment: string,
): Promise<ReviewEvidence | undefined> {
  const { owner, repo } = repository;
  try {
    const { data: pulls } = await github.rest.repos.listPullRequestsAssociatedWithCommit({
      owner,
      repo,
      commit_sha: commit,
    });
    const pull = pulls.find((candidate) => candidate.merged_at) ?? pulls[0];
    if (!pull) return undefined;
    const commits = await github.paginate(github.rest.pulls.listCommits, {
      owner,
      repo,
      pull_number: pull.number,
      per_page: 100,
    });
    const events = await github.paginate(github.rest.issues.listEvents, {
      owner,
      repo,
      issue_number: pull.number,
      per_page: 100,
    });
    const comments = await github.paginate(github.rest.issues.listComments, {
      owner,
      repo,
      issue_number: pull.number,
      per_page: 100,
    });
    const reviewed = comments
      .filter((comment) => comment.user?.login === WORKFLOW_LOGIN)
      .map((comment) => parseFingerprint(comment.body ?? '', environment))
      .find((fingerprint) => fingerprint !== undefined);
    return {
      number: pull.number,
      author: pull.user?.login ?? '',
      headSha: pull.head.sha,
      labels: pull.labels.map((label) => (typeof label === 'string' ? label : (label.name ?? ''))),
      lastCommitAt:
        commits
          .map((c) => c.commit.committer?.date ?? c.commit.author?.date ?? '')
          .sort()
          .at(-1) ?? '',
      labelEvents: events.flatMap((event): LabelEvent[] => {
        const label = (event as { label?: { name?: string } }).label?.name;
        return (event.event === 'labeled' || event.event === 'unlabeled') && label
          ? [{ action: event.event, label, actor: event.actor?.login ?? '', at: event.created_at }]
          : [];
      }),
      reviewed,
    };
  } catch (error) {
    throw withOperation(`Reading the pull request that brought ${commit.slice(0, 7)} (the review gate)`, error);
  }
}

export interface GateInput {
  readonly environment: string;
  readonly commit: string;
  /** The fingerprint of what this deploy would change, recomputed now. */
  readonly current: ReviewFingerprint;
  /** Destructive changes of this deploy (`<kind> of <type> <logicalId> (<stack>)`). */
  readonly destructive: readonly string[];
  readonly allowLabel: string;
  readonly evidence?: ReviewEvidence;
  /** The override: the fingerprint id an operator approved after reading a refused run. */
  readonly approvedFingerprint?: string;
}

export interface GateDecision {
  readonly allowed: boolean;
  /** Why, as lines for the log and the job summary. */
  readonly reasons: readonly string[];
}

/** The review gate's decision. Pure: every fact comes in `input`. */
export function decideDeploy(input: GateInput): GateDecision {
  const id = fingerprintId(input.current);
  const override = `To deploy it anyway, get a fresh review: re-run the pr workflow on a pull request with this change, or, after reading this run's summary, run the deploy workflow by hand with reviewed-fingerprint=${id} (the environment's reviewers approve that run).`;
  if (input.approvedFingerprint !== undefined) {
    return input.approvedFingerprint === id
      ? { allowed: true, reasons: [`Deploying the change approved by hand as fingerprint ${id}.`] }
      : {
          allowed: false,
          reasons: [
            `The approved fingerprint ${input.approvedFingerprint} is not this deploy's (${id}): the change differs from what was approved. Nothing was deployed.`,
            override,
          ],
        };
  }
  const unchanged = input.current.stacks.every((stack) => stack.head === stack.base);
  if (unchanged) return { allowed: true, reasons: ['No stack changes: nothing to review.'] };
  const { evidence } = input;
  if (!evidence) {
    return {
      allowed: false,
      reasons: [
        `${input.commit.slice(0, 7)} reached main without a pull request: nothing was reviewed. Nothing was deployed.`,
        override,
      ],
    };
  }
  if (!evidence.reviewed) {
    return {
      allowed: false,
      reasons: [
        `Pull request #${evidence.number} has no diff comment of ${input.environment} written by the workflow (${WORKFLOW_LOGIN}): nothing proves what was reviewed. Nothing was deployed.`,
        override,
      ],
    };
  }
  const differences = fingerprintDifferences(evidence.reviewed, input.current);
  if (differences.length > 0) {
    return {
      allowed: false,
      reasons: [
        `The change this deploy would make differs from the one reviewed on #${evidence.number} (diff of ${evidence.reviewed.commit.slice(0, 7)}): ${differences.join('; ')}. Nothing was deployed.`,
        override,
      ],
    };
  }
  if (input.destructive.length > 0) {
    const approval = labelApproval(evidence, input.allowLabel);
    if (!approval.ok) {
      return {
        allowed: false,
        reasons: [
          `${input.destructive.length} destructive change(s): ${input.destructive.join('; ')}. ${approval.reason} Nothing was deployed.`,
          `Fix: a maintainer other than the author reviews the diff comment and adds the '${input.allowLabel}' label after the last push, then the pull request is merged; or ${override.charAt(0).toLowerCase()}${override.slice(1)}`,
        ],
      };
    }
    return {
      allowed: true,
      reasons: [`Reviewed on #${evidence.number}; destructive change(s) allowed by ${approval.reason}`],
    };
  }
  return { allowed: true, reasons: [`The change is the one reviewed on #${evidence.number} (fingerprint ${id}).`] };
}

/** Whether the allow label counts: on the pull request, added by someone other than the author, after the last push. */
function labelApproval(evidence: ReviewEvidence, label: string): { ok: boolean; reason: string } {
  if (!evidence.labels.includes(label))
    return { ok: false, reason: `Pull request #${evidence.number} was merged without the '${label}' label.` };
  const events = evidence.labelEvents.filter((event) => event.label === label);
  const last = events.at(-1);
  if (!last || last.action !== 'labeled')
    return { ok: false, reason: `No event shows who added the '${label}' label to #${evidence.number}.` };
  if (last.actor === evidence.author)
    return {
      ok: false,
      reason: `The '${label}' label was added by ${last.actor}, the pull request's author: someone else must approve a destructive change.`,
    };
  if (evidence.lastCommitAt && last.at < evidence.lastCommitAt)
    return {
      ok: false,
      reason: `The '${label}' label was added at ${last.at}, before the last push (${evidence.lastCommitAt}): it approved an earlier change.`,
    };
  return { ok: true, reason: `the '${label}' label, added by ${last.actor} at ${last.at}.` };
}

/** A decision as one message (the step's failure). */
export function refusal(decision: GateDecision): string {
  return decision.reasons.join(' ');
}
