import type { DestructiveChange, ResourceAction, StackReport } from './analyze.js';
import { cacheSeedCommands } from '../../../infra/lib/image-cache.js';
import { readableImage } from './image-cache-check.js';
import { code, codeLines, fence, html, link, table, text } from './markdown.js';
import { PRICE_TABLE } from './prices.js';
import { destructiveChanges, hasChanges, type DiffReport } from './report.js';

/** GitHub rejects issue comments over 65,536 characters; keep a margin for the API's own counting. */
export const COMMENT_LIMIT = 60_000;
/** `$GITHUB_STEP_SUMMARY` takes 1 MiB per step. */
export const SUMMARY_LIMIT = 1_000_000;

/**
 * How much of the report a rendering keeps, from everything to the least that must stay: the
 * summary table and the list of destructive changes.
 */
export const DETAIL_LEVELS = ['full', 'no-raw-diffs', 'no-resource-rows', 'summary'] as const;
export type DetailLevel = (typeof DETAIL_LEVELS)[number];

/** The hidden marker that makes the comment sticky: one per pull request and environment. */
export function commentMarker(environment: string): string {
  return `<!-- private-aws-gitops:cdk-diff:${environment} -->`;
}

const ACTION_LABEL: Record<ResourceAction, string> = {
  add: 'add',
  update: 'update',
  replace: '**replace**',
  'may-replace': '**may replace**',
  remove: '**remove**',
  orphan: '**orphan**',
  import: 'import',
};

const KIND_LABEL: Record<DestructiveChange['kind'], string> = {
  removal: 'removal',
  replacement: 'replacement',
  'may-replace': 'may be replaced',
  orphan: 'orphaned (retained, no longer managed)',
};

const ROUTINE_LABEL: Partial<Record<ResourceAction, string>> = {
  replace: 'replacement of',
  'may-replace': 'possible replacement of',
  remove: 'removal of',
  orphan: 'orphaning of',
};

/** The diff library's summary table (first row the header): the sign as text, every value as code. */
function summaryTable(rows: readonly string[][]): string {
  const [header, ...body] = rows;
  if (!header) return '';
  return table(
    header.map((h) => text(h) || ' '),
    body.map((row) => row.map((value, index) => (index === 0 ? text(value) : codeLines(value)))),
  );
}

const usd = (value: number | undefined): string => (value === undefined ? '–' : `$${value.toFixed(2)}`);
const signedUsd = (value: number): string => `${value >= 0 ? '+' : '-'}$${Math.abs(value).toFixed(2)}`;
const shortCommit = (commit: string): string => code(commit.slice(0, 7));
const runLink = (runUrl: string | undefined, label = 'run'): string | undefined =>
  runUrl ? link(label, runUrl) : undefined;

function header(report: DiffReport): string {
  return [
    `## CDK diff: ${code(report.environment)}`,
    '',
    table(
      ['environment', 'account', 'region', 'commit', 'run', 'method'],
      [
        [
          code(report.environment),
          code(report.account),
          code(report.region),
          report.commit ? shortCommit(report.commit) : 'unknown',
          runLink(report.runUrl) ?? '–',
          `${report.method} diff`,
        ],
      ],
    ),
  ].join('\n');
}

function summary(stacks: readonly StackReport[]): string {
  return table(
    ['stack', 'added', 'updated', 'removed', 'replaced'],
    stacks.map((stack) => [
      code(stack.stackName),
      String(stack.added),
      String(stack.updated),
      String(stack.removed),
      String(stack.replaced),
    ]),
  );
}

function destructiveBlock(report: DiffReport, limit = Infinity): string {
  const changes = destructiveChanges(report);
  if (changes.length === 0) return '';
  const shown = changes.slice(0, limit);
  const label = code(report.allowLabel ?? 'allow label');
  const verdict = !report.failOnDestructive
    ? `The step does not fail on destructive changes (${code('fail-on-destructive: false')}).`
    : report.allowed
      ? `Allowed by the ${label} label on this pull request.`
      : `This check fails until they are removed from the change, or a maintainer adds the ${label} label to accept them.`;
  const reasons = new Map(shown.map((change) => [change.type, change.reason]));
  const lines = [
    `> [!CAUTION]`,
    `> **${changes.length} destructive change${changes.length === 1 ? '' : 's'}**: each removes or replaces something stateful or shared, so data or availability can be lost. ${verdict}`,
    '>',
    ...table(
      ['stack', 'change', 'type', 'logical id', 'construct path'],
      shown.map((change) => [
        code(change.stack),
        KIND_LABEL[change.kind],
        code(change.type),
        code(change.logicalId),
        code(change.path),
      ]),
    )
      .split('\n')
      .map((line) => `> ${line}`),
    '>',
    `> Why (${code('docs/security.md')}, what the diff comment calls destructive):`,
    ...[...reasons].map(([type, reason]) => `> - ${code(type)}: ${reason}`),
  ];
  if (shown.length < changes.length)
    lines.push('>', `> …and ${changes.length - shown.length} more: see the job summary.`);
  return lines.join('\n');
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;

function seedBlock(report: DiffReport): string {
  const images = report.imagesToSeed ?? [];
  if (images.length === 0) return '';
  const lines = ['> [!IMPORTANT]'];
  for (const { stack, image, ruleExists } of images) {
    lines.push(
      `> **Seed the image cache before merging**: ${code(stack)} will pull ${code(`${image.upstreamRepository}:${image.tag}`)} through the pull-through cache ${code(image.repositoryPrefix)}, and a tag's first pull cannot come through the VPC's endpoints. Until the cache holds it, the deploy stops before any change.`,
    );
    // The report comes from the pull request's job: commands only from fields a shell cannot
    // misread (readableImage checks the image's), never from whatever the data file says.
    if (readableImage(image) && ACCOUNT.test(report.account) && REGION.test(report.region)) {
      lines.push(
        `> An administrator of ${code(report.account)} runs, from a machine with internet access and Docker (${code('docs/setup.md')}, "Seed the image cache"):`,
        '>',
        ...fence(cacheSeedCommands(image, report.account, report.region, ruleExists).join('\n'), 'sh')
          .split('\n')
          .map((line) => `> ${line}`),
      );
    } else {
      lines.push(
        `> ${code('npm run configure -- --show')} prints the commands that seed it (${code('docs/setup.md')}, "Seed the image cache").`,
      );
    }
  }
  return lines.join('\n');
}

function routineBlock(report: DiffReport): string {
  const rows = report.stacks.flatMap((stack) => stack.rows.filter((row) => row.routine));
  if (rows.length === 0) return '';
  return [
    '> [!NOTE]',
    '> Routine replacements and removals (not destructive):',
    ...rows.map(
      (row) =>
        `> - ${ROUTINE_LABEL[row.action] ?? row.action} ${code(row.type)} ${code(row.logicalId)} in ${code(row.stack)}: ${row.routine}`,
    ),
  ].join('\n');
}

/** The sentence that says the security section was checked and found nothing. */
export const NO_SECURITY_CHANGE = 'No IAM or security-group change.';

function securityBlock(report: DiffReport, detailed: boolean): string {
  const parts: string[] = [];
  for (const stack of report.stacks) {
    const { iam, securityGroups } = stack;
    if (iam.statements.length || iam.managedPolicies.length) {
      const flag = iam.broadened ? ' :warning: **broadens permissions**' : '';
      parts.push(`#### IAM changes in ${code(stack.stackName)}${flag}`);
      if (detailed) {
        if (iam.statements.length) parts.push(summaryTable(iam.statements));
        if (iam.managedPolicies.length) parts.push(summaryTable(iam.managedPolicies));
      } else {
        parts.push(
          `${Math.max(0, iam.statements.length - 1)} statement and ${Math.max(0, iam.managedPolicies.length - 1)} managed-policy change(s): see the job summary.`,
        );
      }
    }
    if (securityGroups.rules.length) {
      const flag = securityGroups.broadened ? ' :warning: **adds rules (broadens network access)**' : '';
      parts.push(`#### Security group changes in ${code(stack.stackName)}${flag}`);
      parts.push(
        detailed
          ? summaryTable(securityGroups.rules)
          : `${securityGroups.rules.length - 1} rule change(s): see the job summary.`,
      );
    }
  }
  return ['### Security', ...(parts.length ? parts : [NO_SECURITY_CHANGE])].join('\n\n');
}

function nagBlock(report: Pick<DiffReport, 'nag'>): string {
  if (report.nag.length === 0) return '**cdk-nag**: no unacknowledged finding.';
  return [
    `### cdk-nag: ${report.nag.length} finding${report.nag.length === 1 ? '' : 's'}`,
    '',
    table(
      ['rule', 'severity', 'construct path', 'description'],
      report.nag.map((finding) => [
        code(finding.rule),
        text(finding.severity),
        code(finding.path),
        text(finding.description),
      ]),
    ),
  ].join('\n');
}

/**
 * The comment of a pull request whose change cdk-nag refuses: synthesis stopped, so there is no
 * diff; the findings say what to fix (or acknowledge, with a reason, on the construct).
 */
export function renderNagFailure(context: {
  readonly environment: string;
  readonly commit: string;
  readonly runUrl?: string;
  readonly nag: DiffReport['nag'];
}): string {
  const commit = context.commit ? shortCommit(context.commit) : 'this commit';
  const run = runLink(context.runUrl);
  return [
    commentMarker(context.environment),
    `## CDK diff: ${code(context.environment)}`,
    '',
    '> [!CAUTION]',
    `> cdk-nag refused ${commit}: synthesis stopped, so there is no diff yet.${run ? ` See the ${run}.` : ''}`,
    '> Fix each resource, or acknowledge the finding on its construct with a reason a reviewer can check',
    '> (`Validations.of(construct).acknowledge({ id, reason })`; see docs/security.md).',
    '',
    nagBlock(context),
    '',
  ].join('\n');
}

function costBlock(report: DiffReport, detailed: boolean): string {
  const { cost } = report;
  const lines = [
    '### Estimated monthly cost',
    '',
    `**${usd(cost.before.total)} → ${usd(cost.after.total)}** (${signedUsd(cost.delta)} per month) for the fixed costs of ${code(report.environment)}'s selected stacks.`,
  ];
  if (detailed && cost.changed.length) {
    lines.push(
      '',
      table(
        ['stack', 'resource', 'type', 'before', 'after', 'basis'],
        cost.changed.map((row) => [
          code(row.stack),
          code(row.logicalId),
          code(row.type),
          usd(row.before),
          usd(row.after),
          text(row.basis),
        ]),
      ),
    );
  }
  const usage = [...new Set([...cost.before.usageBased, ...cost.after.usageBased])].sort();
  const unknown = [...new Set([...cost.before.notPriced, ...cost.after.notPriced])].sort();
  if (usage.length) lines.push('', `Usage-based, not in the figure: ${usage.map(code).join(', ')}.`);
  if (unknown.length) lines.push('', `Not priced (not in the price table): ${unknown.map(code).join(', ')}.`);
  lines.push(
    '',
    `<sub>List prices of ${PRICE_TABLE.date}, ${PRICE_TABLE.region}, ${PRICE_TABLE.currency}, ${PRICE_TABLE.hoursPerMonth} h/month; source: ${PRICE_TABLE.source} (actions/cdk/src/prices.ts). Data transfer and per-GB charges are not estimated.</sub>`,
  );
  return lines.join('\n');
}

function resourceRows(stack: StackReport): string {
  return table(
    ['change', 'type', 'logical id', 'construct path'],
    stack.rows.map((row) => [
      row.routine ? `${ACTION_LABEL[row.action].replace(/\*\*/g, '')} (routine)` : ACTION_LABEL[row.action],
      code(row.type),
      code(row.logicalId),
      code(row.path),
    ]),
  );
}

function stackDetails(report: DiffReport, level: DetailLevel): string {
  if (level === 'no-resource-rows' || level === 'summary') return '';
  const parts: string[] = [];
  for (const stack of report.stacks.filter((s) => s.hasChanges)) {
    parts.push(`#### ${code(stack.stackName)}`);
    if (stack.rows.length) parts.push(resourceRows(stack));
    if (level === 'full' && stack.rawDiff) {
      parts.push(
        `<details><summary>Raw diff of ${html(stack.stackName)}</summary>\n\n${fence(stack.rawDiff)}\n\n</details>`,
      );
    }
  }
  return parts.length ? ['### Changes by stack', ...parts].join('\n\n') : '';
}

/** The one-line report when nothing changes. */
export function renderNoChanges(report: DiffReport): string {
  return `${commentMarker(report.environment)}\n**CDK diff ${code(report.environment)}**: no changes (${report.stacks.length} stack${report.stacks.length === 1 ? '' : 's'} compared with what is deployed in ${code(report.account)}/${code(report.region)} at ${report.commit ? shortCommit(report.commit) : 'an unknown commit'}).`;
}

/** Renders the report at one detail level. */
export function renderReport(report: DiffReport, level: DetailLevel = 'full', destructiveLimit = Infinity): string {
  if (!hasChanges(report) && report.nag.length === 0) return renderNoChanges(report);
  const omitted: string[] = [];
  if (level !== 'full') omitted.push('raw diffs');
  if (level === 'no-resource-rows' || level === 'summary') omitted.push('per-resource rows');
  if (level === 'summary') omitted.push('IAM, security-group and cost details');
  const detailed = level !== 'summary';
  const run = runLink(report.runUrl);
  const sections = [
    commentMarker(report.environment),
    header(report),
    '### Summary',
    summary(report.stacks),
    destructiveBlock(report, destructiveLimit),
    seedBlock(report),
    routineBlock(report),
    securityBlock(report, detailed),
    nagBlock(report),
    costBlock(report, detailed),
    stackDetails(report, level),
    omitted.length
      ? `_Too large for one comment: ${omitted.join(', ')} omitted. The full report is in the run's job summary${run ? ` (${run})` : ''}._`
      : '',
  ];
  return `${sections.filter(Boolean).join('\n\n')}\n`;
}

/**
 * The richest rendering within `limit` characters: raw diffs go first, then per-resource rows and
 * detail tables, then (at worst) the tail of the destructive list. The summary table, the
 * destructive count and the security section always stay.
 */
export function fitReport(report: DiffReport, limit: number = COMMENT_LIMIT, from: DetailLevel = 'full'): string {
  for (const level of DETAIL_LEVELS.slice(DETAIL_LEVELS.indexOf(from))) {
    const body = renderReport(report, level);
    if (body.length <= limit) return body;
  }
  let shown = destructiveChanges(report).length;
  while (shown > 0) {
    shown = Math.floor(shown / 2);
    const body = renderReport(report, 'summary', shown);
    if (body.length <= limit) return body;
  }
  const run = runLink(report.runUrl);
  return `${commentMarker(report.environment)}\n**CDK diff ${code(report.environment)}**: the report is too large for a comment; see the job summary${run ? ` of the ${run}` : ''}.\n`;
}

/** Renders successively smaller versions, for retrying after GitHub rejects a body (422). */
export function* smallerReports(report: DiffReport, limit: number = COMMENT_LIMIT): Generator<string> {
  let last = '';
  for (const level of DETAIL_LEVELS) {
    const body = fitReport(report, limit, level);
    if (body !== last) yield body;
    last = body;
  }
  const run = runLink(report.runUrl);
  yield `${commentMarker(report.environment)}\n**CDK diff ${code(report.environment)}**: ${destructiveChanges(report).length} destructive change(s); the report did not fit in a comment. See the job summary${run ? ` of the ${run}` : ''}.\n`;
}
