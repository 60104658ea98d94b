import type { SelectedStack, StackOutputs } from './commands.js';
import type { NagReport } from './nag.js';

const code = (value: string): string => `\`${value.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;

/** The synth job summary: stacks, resources and validation findings. */
export function synthSummary(stacks: readonly SelectedStack[], nag: NagReport, verdict: 'passed' | 'failed'): string {
  const lines = [`## CDK synth: cdk-nag ${verdict}`, ''];
  if (stacks.length) {
    lines.push('| stack | account | region | resources |', '| --- | --- | --- | --- |');
    for (const stack of stacks)
      lines.push(`| ${code(stack.stackName)} | ${code(stack.account)} | ${code(stack.region)} | ${stack.resources} |`);
    lines.push('');
  }
  if (nag.findings.length) {
    lines.push(
      `### ${nag.findings.length} finding(s)`,
      '',
      '| rule | severity | construct path | description |',
      '| --- | --- | --- | --- |',
    );
    for (const finding of nag.findings) {
      lines.push(
        `| ${code(finding.rule)} | ${finding.severity} | ${code(finding.path)} | ${finding.description.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`,
      );
    }
  } else {
    lines.push('No unacknowledged cdk-nag finding.');
  }
  if (nag.acknowledged) lines.push('', `${nag.acknowledged} finding(s) acknowledged on their constructs.`);
  return `${lines.join('\n')}\n`;
}

/** The deploy job summary: every output of every deployed stack. */
export function deploySummary(environment: string, outputs: StackOutputs): string {
  const lines = [`## CDK deploy: \`${environment}\``, '', '| stack | output | value |', '| --- | --- | --- |'];
  for (const [stack, values] of Object.entries(outputs)) {
    const entries = Object.entries(values);
    if (entries.length === 0) lines.push(`| ${code(stack)} | – | – |`);
    for (const [key, value] of entries) lines.push(`| ${code(stack)} | ${code(key)} | ${code(value)} |`);
  }
  return `${lines.join('\n')}\n`;
}
