import type { DestructiveChange, ResourceAction, StackReport } from './analyze.js';
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

/** A table cell: pipes escaped, new lines flattened, code spans where asked. */
function cell(value: string, code = false): string {
  const flat = value.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
  return code ? `\`${flat.replace(/`/g, "'")}\`` : flat;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

/** Renders rows from the diff library's summaries (first row is the header). */
function summaryTable(rows: readonly string[][]): string {
  const [header, ...body] = rows;
  if (!header) return '';
  return table(
    header.map((h) => cell(h || ' ')),
    body.map((row) => row.map((value) => cell(value))),
  );
}

const usd = (value: number | undefined): string => (value === undefined ? '–' : `$${value.toFixed(2)}`);
const signedUsd = (value: number): string => `${value >= 0 ? '+' : '-'}$${Math.abs(value).toFixed(2)}`;

function header(report: DiffReport): string {
  const commit = report.commit ? `\`${report.commit.slice(0, 7)}\`` : 'unknown';
  const run = report.runUrl ? `[run](${report.runUrl})` : '–';
  return [
    `## CDK diff: \`${report.environment}\``,
    '',
    table(
      ['environment', 'account', 'region', 'commit', 'run', 'method'],
      [
        [
          `\`${report.environment}\``,
          `\`${report.account}\``,
          `\`${report.region}\``,
          commit,
          run,
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
      `\`${stack.stackName}\``,
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
  const verdict = !report.failOnDestructive
    ? 'The step does not fail on destructive changes (`fail-on-destructive: false`).'
    : report.allowed
      ? `Allowed by the \`${report.allowLabel}\` label on this pull request.`
      : `This check fails until they are removed from the change, or a maintainer adds the \`${report.allowLabel ?? 'allow label'}\` label to accept them.`;
  const lines = [
    `> [!CAUTION]`,
    `> **${changes.length} destructive change${changes.length === 1 ? '' : 's'}**: data or availability can be lost. ${verdict}`,
    '>',
    ...table(
      ['stack', 'change', 'type', 'logical id', 'construct path'],
      shown.map((change) => [
        `\`${change.stack}\``,
        KIND_LABEL[change.kind],
        `\`${change.type}\``,
        `\`${change.logicalId}\``,
        cell(change.path, true),
      ]),
    )
      .split('\n')
      .map((line) => `> ${line}`),
  ];
  if (shown.length < changes.length)
    lines.push('>', `> …and ${changes.length - shown.length} more: see the job summary.`);
  return lines.join('\n');
}

function expectedBlock(report: DiffReport): string {
  const rows = report.stacks.flatMap((stack) => stack.rows.filter((row) => row.expected));
  if (rows.length === 0) return '';
  return [
    '> [!NOTE]',
    '> Expected replacements (not counted as destructive):',
    ...rows.map((row) => `> - \`${row.stack}\` \`${row.type}\` \`${row.logicalId}\`: ${row.expected}`),
  ].join('\n');
}

function securityBlock(report: DiffReport, detailed: boolean): string {
  const parts: string[] = [];
  for (const stack of report.stacks) {
    const { iam, securityGroups } = stack;
    if (iam.statements.length || iam.managedPolicies.length) {
      const flag = iam.broadened ? ' :warning: **broadens permissions**' : '';
      parts.push(`#### IAM changes in \`${stack.stackName}\`${flag}`);
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
      parts.push(`#### Security group changes in \`${stack.stackName}\`${flag}`);
      parts.push(
        detailed
          ? summaryTable(securityGroups.rules)
          : `${securityGroups.rules.length - 1} rule change(s): see the job summary.`,
      );
    }
  }
  return parts.length ? ['### Security', ...parts].join('\n\n') : '';
}

function nagBlock(report: Pick<DiffReport, 'nag'>): string {
  if (report.nag.length === 0) return '**cdk-nag**: no unacknowledged finding.';
  return [
    `### cdk-nag: ${report.nag.length} finding${report.nag.length === 1 ? '' : 's'}`,
    '',
    table(
      ['rule', 'severity', 'construct path', 'description'],
      report.nag.map((finding) => [
        cell(finding.rule, true),
        finding.severity,
        cell(finding.path, true),
        cell(finding.description),
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
  const commit = context.commit ? `\`${context.commit.slice(0, 7)}\`` : 'this commit';
  return [
    commentMarker(context.environment),
    `## CDK diff: \`${context.environment}\``,
    '',
    '> [!CAUTION]',
    `> cdk-nag refused ${commit}: synthesis stopped, so there is no diff yet.${context.runUrl ? ` See the [run](${context.runUrl}).` : ''}`,
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
    `**${usd(cost.before.total)} → ${usd(cost.after.total)}** (${signedUsd(cost.delta)} per month) for the fixed costs of \`${report.environment}\`'s selected stacks.`,
  ];
  if (detailed && cost.changed.length) {
    lines.push(
      '',
      table(
        ['stack', 'resource', 'type', 'before', 'after', 'basis'],
        cost.changed.map((row) => [
          `\`${row.stack}\``,
          `\`${row.logicalId}\``,
          `\`${row.type}\``,
          usd(row.before),
          usd(row.after),
          cell(row.basis),
        ]),
      ),
    );
  }
  const usage = [...new Set([...cost.before.usageBased, ...cost.after.usageBased])].sort();
  const unknown = [...new Set([...cost.before.notPriced, ...cost.after.notPriced])].sort();
  if (usage.length) lines.push('', `Usage-based, not in the figure: ${usage.map((t) => `\`${t}\``).join(', ')}.`);
  if (unknown.length)
    lines.push('', `Not priced (not in the price table): ${unknown.map((t) => `\`${t}\``).join(', ')}.`);
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
      row.expected ? `replace (expected)` : ACTION_LABEL[row.action],
      `\`${row.type}\``,
      `\`${row.logicalId}\``,
      cell(row.path, true),
    ]),
  );
}

function stackDetails(report: DiffReport, level: DetailLevel): string {
  if (level === 'no-resource-rows' || level === 'summary') return '';
  const parts: string[] = [];
  for (const stack of report.stacks.filter((s) => s.hasChanges)) {
    parts.push(`#### \`${stack.stackName}\``);
    if (stack.rows.length) parts.push(resourceRows(stack));
    if (level === 'full' && stack.rawDiff) {
      const fence = stack.rawDiff.includes('```') ? '````' : '```';
      parts.push(
        `<details><summary>Raw diff of ${stack.stackName}</summary>\n\n${fence}\n${stack.rawDiff}\n${fence}\n\n</details>`,
      );
    }
  }
  return parts.length ? ['### Changes by stack', ...parts].join('\n\n') : '';
}

/** The one-line report when nothing changes. */
export function renderNoChanges(report: DiffReport): string {
  return `${commentMarker(report.environment)}\n**CDK diff \`${report.environment}\`**: no changes (${report.stacks.length} stack${report.stacks.length === 1 ? '' : 's'} compared with what is deployed in \`${report.account}\`/\`${report.region}\` at \`${report.commit.slice(0, 7)}\`).`;
}

/** Renders the report at one detail level. */
export function renderReport(report: DiffReport, level: DetailLevel = 'full', destructiveLimit = Infinity): string {
  if (!hasChanges(report) && report.nag.length === 0) return renderNoChanges(report);
  const omitted: string[] = [];
  if (level !== 'full') omitted.push('raw diffs');
  if (level === 'no-resource-rows' || level === 'summary') omitted.push('per-resource rows');
  if (level === 'summary') omitted.push('IAM, security-group and cost details');
  const detailed = level !== 'summary';
  const sections = [
    commentMarker(report.environment),
    header(report),
    '### Summary',
    summary(report.stacks),
    destructiveBlock(report, destructiveLimit),
    expectedBlock(report),
    securityBlock(report, detailed),
    nagBlock(report),
    costBlock(report, detailed),
    stackDetails(report, level),
    omitted.length
      ? `_Too large for one comment: ${omitted.join(', ')} omitted. The full report is in the run's job summary${report.runUrl ? ` ([run](${report.runUrl}))` : ''}._`
      : '',
  ];
  return `${sections.filter(Boolean).join('\n\n')}\n`;
}

/**
 * The richest rendering within `limit` characters: raw diffs go first, then per-resource rows and
 * detail tables, then (at worst) the tail of the destructive list. The summary table and the
 * destructive count always stay.
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
  return `${commentMarker(report.environment)}\n**CDK diff \`${report.environment}\`**: the report is too large for a comment; see the job summary${report.runUrl ? ` of the [run](${report.runUrl})` : ''}.\n`;
}

/** Renders successively smaller versions, for retrying after GitHub rejects a body (422). */
export function* smallerReports(report: DiffReport, limit: number = COMMENT_LIMIT): Generator<string> {
  let last = '';
  for (const level of DETAIL_LEVELS) {
    const body = fitReport(report, limit, level);
    if (body !== last) yield body;
    last = body;
  }
  yield `${commentMarker(report.environment)}\n**CDK diff \`${report.environment}\`**: ${destructiveChanges(report).length} destructive change(s); the report did not fit in a comment. See the job summary${report.runUrl ? ` of the [run](${report.runUrl})` : ''}.\n`;
}
