/**
 * The two halves of the review that run trusted code from main:
 *
 * - `runComment` (the `comment` command, in pr-comment.yml): from the templates a pull request's
 *   diff job handed over, computes each environment's diff, report and review fingerprint itself,
 *   and updates that environment's sticky comment (only one the workflow wrote); when the pull
 *   request's head moved since the last comment, it removes the allow label, which approved an
 *   earlier change.
 * - `reviewGate` (before every deploy): recomputes the fingerprint of the merge and applies the
 *   gate's rules (review-gate.ts) to the merged pull request's evidence.
 */
import { fullDiff, type TemplateDiff } from '@aws-cdk/cloudformation-diff';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { UserInputError, withOperation } from '../../shared/src/errors.js';
import type { Logger } from '../../shared/src/logger.js';
import { pullRequestLabels, upsertStickyComment, type GitHubClient, type PullRequestRef } from './comment.js';
import type { SelectedStack } from './commands.js';
import { deployedTemplate, readDiffDataDir, type DiffData } from './diff-data.js';
import {
  fingerprintId,
  fingerprintOf,
  formatFingerprint,
  parseFingerprint,
  type ReviewFingerprint,
} from './fingerprint.js';
import { commentMarker, smallerReports } from './render.js';
import { buildReport, destructiveChanges, type DiffReport } from './report.js';
import {
  decideDeploy,
  gatherReviewEvidence,
  WORKFLOW_LOGIN,
  type GateDecision,
  type Repository,
} from './review-gate.js';

/** The report and fingerprint of one environment's diff data: what the reviewer sees and approves. */
export function reviewOf(
  data: DiffData,
  options: { readonly runUrl?: string; readonly allowLabel?: string; readonly labels: readonly string[] },
): {
  report: DiffReport;
  fingerprint: ReviewFingerprint;
} {
  const diffs: Record<string, TemplateDiff> = {};
  const templates: Record<string, { Resources?: Record<string, unknown> }> = {};
  for (const stack of data.stacks) {
    diffs[stack.stackName] = fullDiff(stack.deployed ?? {}, stack.template);
    templates[stack.stackName] = stack.template as { Resources?: Record<string, unknown> };
  }
  const allowed = Boolean(options.allowLabel && options.labels.includes(options.allowLabel));
  const report = buildReport(diffs, templates, {
    environment: data.environment,
    account: data.account,
    region: data.region,
    commit: data.commit,
    runUrl: options.runUrl,
    method: data.method,
    nag: data.nag,
    allowLabel: options.allowLabel,
    allowed,
    failOnDestructive: true,
  });
  const fingerprint = fingerprintOf(
    data.environment,
    data.commit,
    data.stacks.map((stack) => ({ stack: stack.stackName, template: stack.template, deployed: stack.deployed })),
  );
  return { report, fingerprint };
}

/** The comment bodies of a review, richest first, each carrying the fingerprint (hidden). */
export function reviewComments(report: DiffReport, fingerprint: ReviewFingerprint): string[] {
  return [...smallerReports(report)].map((body) => `${body}\n${formatFingerprint(fingerprint)}`);
}

export interface CommentOutcome {
  readonly command: 'comment';
  readonly message: string;
  readonly summary: string;
}

/** Posts the diff comments of every environment's data for one pull request. */
export async function runComment(
  input: {
    readonly dataDir: string;
    readonly pullRequest: PullRequestRef;
    readonly headSha?: string;
    readonly allowLabel?: string;
    readonly runUrl?: string;
  },
  deps: { readonly github: GitHubClient; readonly logger: Logger },
): Promise<CommentOutcome> {
  const all = readDiffDataDir(input.dataDir);
  const data = input.headSha ? all.filter((d) => d.commit === input.headSha) : all;
  for (const skipped of all.filter((d) => !data.includes(d))) {
    deps.logger.warning(
      `The diff data of ${skipped.environment} is for ${skipped.commit.slice(0, 7)}, not the pull request's head ${input.headSha?.slice(0, 7)}: not posted.`,
    );
  }
  if (data.length === 0)
    throw new UserInputError(`No diff data for the head commit ${input.headSha} in ${input.dataDir}.`);
  const { github, logger } = deps;
  const pr = input.pullRequest;
  let labels = await pullRequestLabels(github, pr);
  const lines: string[] = [];
  for (const environment of data) {
    const marker = commentMarker(environment.environment);
    const previous = await ownComment(github, pr, marker);
    const earlier = previous ? parseFingerprint(previous.body, environment.environment) : undefined;
    if (input.allowLabel && labels.includes(input.allowLabel) && earlier && earlier.commit !== environment.commit) {
      await removeLabel(github, pr, input.allowLabel);
      labels = labels.filter((label) => label !== input.allowLabel);
      logger.warning(
        `Removed the '${input.allowLabel}' label from #${pr.number}: it approved ${earlier.commit.slice(0, 7)}, and the pull request now is ${environment.commit.slice(0, 7)}. A reviewer adds it again after reading the new diff.`,
      );
    }
    const { report, fingerprint } = reviewOf(environment, {
      runUrl: input.runUrl,
      allowLabel: input.allowLabel,
      labels,
    });
    const posted = await upsertStickyComment(github, pr, marker, reviewComments(report, fingerprint), logger, {
      author: WORKFLOW_LOGIN,
    });
    const destructive = destructiveChanges(report).length;
    lines.push(
      `${environment.environment}: comment ${posted.action} (${destructive} destructive change(s), fingerprint ${fingerprintId(fingerprint)})`,
    );
  }
  return {
    command: 'comment',
    message: `Diff comments on #${pr.number}: ${lines.join('; ')}.`,
    summary: `### Diff comments on #${pr.number}\n\n${lines.map((line) => `- ${line}`).join('\n')}\n`,
  };
}

async function ownComment(
  github: GitHubClient,
  pr: PullRequestRef,
  marker: string,
): Promise<{ body: string } | undefined> {
  const comments = await github.paginate(github.rest.issues.listComments, {
    owner: pr.owner,
    repo: pr.repo,
    issue_number: pr.number,
    per_page: 100,
  });
  const found = comments.find((comment) => comment.user?.login === WORKFLOW_LOGIN && comment.body?.includes(marker));
  return found ? { body: found.body ?? '' } : undefined;
}

async function removeLabel(github: GitHubClient, pr: PullRequestRef, label: string): Promise<void> {
  try {
    await github.rest.issues.removeLabel({ owner: pr.owner, repo: pr.repo, issue_number: pr.number, name: label });
  } catch (error) {
    throw withOperation(`Removing the '${label}' label from #${pr.number}`, error);
  }
}

/**
 * The review gate of a deploy: the fingerprint of deploying `stacks` over what is deployed now,
 * the destructive changes among them, and the decision on the merged pull request's evidence.
 */
export async function reviewGate(
  input: {
    readonly environment: string;
    readonly commit: string;
    readonly repository: Repository;
    readonly stacks: readonly SelectedStack[];
    readonly allowLabel: string;
    readonly approvedFingerprint?: string;
  },
  deps: { readonly github: GitHubClient; readonly cloudformation: CloudFormationClient },
): Promise<GateDecision & { readonly fingerprint: string }> {
  const data: DiffData = {
    version: 1,
    environment: input.environment,
    account: input.stacks[0]?.account ?? '',
    region: input.stacks[0]?.region ?? '',
    commit: input.commit,
    method: 'template',
    nag: [],
    stacks: await Promise.all(
      input.stacks.map(async (stack) => ({
        stackName: stack.stackName,
        template: stack.template as Record<string, unknown>,
        deployed: await deployedTemplate(deps.cloudformation, stack.stackName),
      })),
    ),
  };
  const { report, fingerprint } = reviewOf(data, { labels: [] });
  const evidence = await gatherReviewEvidence(deps.github, input.repository, input.commit, input.environment);
  const decision = decideDeploy({
    environment: input.environment,
    commit: input.commit,
    current: fingerprint,
    destructive: destructiveChanges(report).map((c) => `${c.kind} of ${c.type} ${c.logicalId} (${c.stack})`),
    allowLabel: input.allowLabel,
    evidence,
    approvedFingerprint: input.approvedFingerprint,
  });
  return { ...decision, fingerprint: fingerprintId(fingerprint) };
}
