import type { SelectedStack, StackOutputs } from './commands.js';
import { code, table, text } from './markdown.js';
import type { NagReport } from './nag.js';

/** The synth job summary: stacks, resources and validation findings. */
export function synthSummary(stacks: readonly SelectedStack[], nag: NagReport, verdict: 'passed' | 'failed'): string {
  const lines = [`## CDK synth: cdk-nag ${verdict}`, ''];
  if (stacks.length) {
    lines.push(
      table(
        ['stack', 'account', 'region', 'resources'],
        stacks.map((stack) => [
          code(stack.stackName),
          code(stack.account),
          code(stack.region),
          String(stack.resources),
        ]),
      ),
      '',
    );
  }
  if (nag.findings.length) {
    lines.push(
      `### ${nag.findings.length} finding(s)`,
      '',
      table(
        ['rule', 'severity', 'construct path', 'description'],
        nag.findings.map((finding) => [
          code(finding.rule),
          text(finding.severity),
          code(finding.path),
          text(finding.description),
        ]),
      ),
    );
  } else {
    lines.push('No unacknowledged cdk-nag finding.');
  }
  if (nag.acknowledged) lines.push('', `${nag.acknowledged} finding(s) acknowledged on their constructs.`);
  return `${lines.join('\n')}\n`;
}

/** The deploy job summary: every output of every deployed stack. */
export function deploySummary(environment: string, outputs: StackOutputs): string {
  const rows = Object.entries(outputs).flatMap(([stack, values]) => {
    const entries = Object.entries(values);
    if (entries.length === 0) return [[code(stack), '–', '–']];
    return entries.map(([key, value]) => [code(stack), code(key), code(value)]);
  });
  return `${[`## CDK deploy: ${code(environment)}`, '', table(['stack', 'output', 'value'], rows)].join('\n')}\n`;
}

/** The job summary of a deploy the review gate refused: why, and the fingerprint of the refused change. */
export function reviewRefusalSummary(reason: string, fingerprint: string): string {
  return [
    '### Deploy refused by the review gate',
    '',
    text(reason),
    '',
    `This change's fingerprint: ${code(fingerprint)}. To deploy exactly this change after reading it, run the deploy workflow by hand with ${code(`reviewed-fingerprint=${fingerprint}`)}; the environment's reviewers approve that run.`,
    '',
  ].join('\n');
}
