/**
 * Drift of an environment: what runs in the account no longer matches main. Two kinds:
 *
 * - out-of-band changes: CloudFormation drift detection (DetectStackDrift), resource by resource,
 *   with the properties that differ;
 * - a template difference: main's template against the deployed one (a merge that never
 *   deployed, a failed deploy).
 *
 * Reported in the job summary and in one issue per environment, opened on the first drift,
 * updated on later runs, closed when the drift is gone (only issues the workflow wrote).
 */
import { fullDiff } from '@aws-cdk/cloudformation-diff';
import {
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackResourceDriftsCommand,
  DetectStackDriftCommand,
  type CloudFormationClient,
  type StackResourceDrift,
} from '@aws-sdk/client-cloudformation';
import { withOperation } from '../../shared/src/errors.js';
import type { Logger } from '../../shared/src/logger.js';
import type { GitHubClient } from './comment.js';
import type { SelectedStack } from './commands.js';
import { deployedTemplate } from './diff-data.js';
import { code, table, text } from './markdown.js';
import { WORKFLOW_LOGIN, type Repository } from './review-gate.js';

export interface StackDrift {
  readonly stack: string;
  /** DRIFTED, IN_SYNC, NOT_DEPLOYED, or DETECTION_FAILED with the reason. */
  readonly status: string;
  readonly reason?: string;
  readonly resources: readonly StackResourceDrift[];
  /** Resources whose template on main differs from the deployed one (logical id → what). */
  readonly templateChanges: readonly { readonly logicalId: string; readonly change: string }[];
}

export interface DriftReport {
  readonly environment: string;
  readonly commit: string;
  readonly stacks: readonly StackDrift[];
}

export const isDrifted = (report: DriftReport): boolean =>
  report.stacks.some(
    (stack) => stack.status !== 'IN_SYNC' || stack.resources.length > 0 || stack.templateChanges.length > 0,
  );

export interface DriftDeps {
  readonly cloudformation: CloudFormationClient;
  readonly sleep: (ms: number) => Promise<void>;
  /** How long to wait for one stack's detection. @default 5 minutes */
  readonly timeoutMs?: number;
}

/** Detects drift of each stack and compares main's templates with the deployed ones. */
export async function detectDrift(
  environment: string,
  commit: string,
  stacks: readonly SelectedStack[],
  deps: DriftDeps,
): Promise<DriftReport> {
  // The stacks side by side: a detection takes from seconds to minutes on AWS, and each stack's is its own.
  const results = await Promise.all(
    stacks.map(async (stack): Promise<StackDrift> => {
      const deployed = await deployedTemplate(deps.cloudformation, stack.stackName);
      if (!deployed) return { stack: stack.stackName, status: 'NOT_DEPLOYED', resources: [], templateChanges: [] };
      const templateChanges: { logicalId: string; change: string }[] = [];
      fullDiff(deployed, stack.template).resources.forEachDifference((logicalId, change) => {
        const what = change.isAddition ? 'added on main' : change.isRemoval ? 'removed on main' : 'changed on main';
        templateChanges.push({ logicalId, change: what });
      });
      const detection = await detectStack(stack.stackName, deps);
      return { stack: stack.stackName, ...detection, templateChanges };
    }),
  );
  return { environment, commit, stacks: results };
}

async function detectStack(
  stackName: string,
  deps: DriftDeps,
): Promise<{ status: string; reason?: string; resources: StackResourceDrift[] }> {
  try {
    const { StackDriftDetectionId } = await deps.cloudformation.send(
      new DetectStackDriftCommand({ StackName: stackName }),
    );
    const deadline = Date.now() + (deps.timeoutMs ?? 300_000);
    for (;;) {
      const status = await deps.cloudformation.send(
        new DescribeStackDriftDetectionStatusCommand({ StackDriftDetectionId }),
      );
      if (status.DetectionStatus === 'DETECTION_FAILED')
        return { status: 'DETECTION_FAILED', reason: status.DetectionStatusReason, resources: [] };
      if (status.DetectionStatus === 'DETECTION_COMPLETE') break;
      if (Date.now() > deadline) return { status: 'DETECTION_FAILED', reason: 'timed out', resources: [] };
      await deps.sleep(5_000);
    }
    const drifts: StackResourceDrift[] = [];
    let token: string | undefined;
    do {
      const page = await deps.cloudformation.send(
        new DescribeStackResourceDriftsCommand({
          StackName: stackName,
          StackResourceDriftStatusFilters: ['MODIFIED', 'DELETED'],
          NextToken: token,
        }),
      );
      drifts.push(...(page.StackResourceDrifts ?? []));
      token = page.NextToken;
    } while (token);
    return { status: drifts.length > 0 ? 'DRIFTED' : 'IN_SYNC', resources: drifts };
  } catch (error) {
    throw withOperation(`Detecting the drift of ${stackName}`, error);
  }
}

/** The marker of an environment's drift issue (the workflow's own issues only are updated). */
export function driftMarker(environment: string): string {
  return `<!-- private-aws-gitops:drift:${environment} -->`;
}

/** The report as Markdown (every value from AWS escaped), for the job summary and the issue. */
export function renderDrift(report: DriftReport, runUrl?: string): string {
  const lines = [
    driftMarker(report.environment),
    `## Drift of ${code(report.environment)} at ${code(report.commit.slice(0, 7))}`,
    '',
  ];
  const drifted = isDrifted(report);
  lines.push(
    drifted
      ? 'What runs in the account no longer matches main. Fix it by deploying main again (or by reverting the out-of-band change), then re-run the drift workflow: this issue closes itself when the drift is gone.'
      : 'No drift: what runs in the account matches main.',
    '',
  );
  lines.push(
    table(
      ['stack', 'drift detection', 'resources drifted', 'template differs from main'],
      report.stacks.map((stack) => [
        code(stack.stack),
        code(stack.status) + (stack.reason ? ` ${text(stack.reason)}` : ''),
        String(stack.resources.length),
        String(stack.templateChanges.length),
      ]),
    ),
    '',
  );
  const rows = report.stacks.flatMap((stack) =>
    stack.resources.flatMap((resource) =>
      (resource.PropertyDifferences?.length ? resource.PropertyDifferences : [undefined]).map((difference) => [
        code(stack.stack),
        code(resource.LogicalResourceId ?? ''),
        code(resource.ResourceType ?? ''),
        code(resource.StackResourceDriftStatus ?? ''),
        difference ? code(difference.PropertyPath ?? '') : '',
        difference ? code(difference.ExpectedValue ?? '') : '',
        difference ? code(difference.ActualValue ?? '') : '',
      ]),
    ),
  );
  if (rows.length > 0) {
    lines.push(
      '### Out-of-band changes',
      '',
      table(['stack', 'resource', 'type', 'status', 'property', 'expected', 'actual'], rows),
      '',
    );
  }
  const changes = report.stacks.flatMap((stack) =>
    stack.templateChanges.map((change) => [code(stack.stack), code(change.logicalId), text(change.change)]),
  );
  if (changes.length > 0) {
    lines.push(
      '### Main is not deployed',
      '',
      'These resources differ between main and the deployed template (a merge that did not deploy, or a failed deploy):',
      '',
      table(['stack', 'resource', 'difference'], changes),
      '',
    );
  }
  if (runUrl && /^https:\/\/[^\s()<>]+$/.test(runUrl)) lines.push(`[The run](${runUrl})`, '');
  return lines.join('\n');
}

/** Opens, updates or closes the environment's drift issue; the issue number and what was done. */
export async function syncDriftIssue(
  report: DriftReport,
  body: string,
  repository: Repository,
  deps: { readonly github: GitHubClient; readonly logger: Logger },
): Promise<{ action: 'opened' | 'updated' | 'closed' | 'none'; number?: number }> {
  const { github } = deps;
  const marker = driftMarker(report.environment);
  try {
    const open = await github.paginate(github.rest.issues.listForRepo, {
      ...repository,
      state: 'open',
      creator: WORKFLOW_LOGIN,
      per_page: 100,
    });
    const existing = open.find((issue) => !issue.pull_request && issue.body?.includes(marker));
    const drifted = isDrifted(report);
    if (!drifted) {
      if (!existing) return { action: 'none' };
      await github.rest.issues.update({ ...repository, issue_number: existing.number, body, state: 'closed' });
      return { action: 'closed', number: existing.number };
    }
    const title = `Drift in ${report.environment}: the account no longer matches main`;
    if (existing) {
      await github.rest.issues.update({ ...repository, issue_number: existing.number, title, body });
      return { action: 'updated', number: existing.number };
    }
    const { data } = await github.rest.issues.create({ ...repository, title, body });
    return { action: 'opened', number: data.number };
  } catch (error) {
    throw withOperation(`Updating the drift issue of ${report.environment}`, error);
  }
}
