/**
 * `npm run synth`: synthesizes every environment to cdk.out with cdk-nag enforced, needing no AWS
 * account, and prints what it checked. Exits 1 with the findings when any is unacknowledged.
 *
 *   npm run synth [-- --environments dev,canary] [--output DIR]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { addEnvironments } from '../infra/lib/build-app.js';
import { cdkJsonContext } from '../infra/lib/cdk-json.js';
import { resolveEnvironments } from '../infra/lib/config.js';
import { ENVIRONMENTS } from '../infra/lib/project.js';
import { enforceNag, nagAcknowledgments, nagFindings, nagPacks } from '../infra/lib/nag.js';
import { cliArgs, type CliSpec } from './lib/args.js';

const CLI = {
  command: 'npm run synth',
  usage: 'Usage: npm run synth [-- --environments NAMES] [--output DIR]',
  description:
    'Synthesizes every environment of gitops.config.json (or those named) to CloudFormation templates with ' +
    'cdk-nag enforced (AWS Solutions and NIST 800-53 R5), needing no AWS credentials, and prints a table of the stacks with ' +
    'their resources, findings and acknowledged findings.',
  options: {
    environments: {
      type: 'string',
      value: 'names',
      description: `Comma-separated environments to synthesize, of ${ENVIRONMENTS.map((e) => e.name).join(', ')}`,
      defaultText: 'all of them',
    },
    output: { type: 'string', value: 'dir', default: 'cdk.out', description: 'Where the templates are written' },
  },
  examples: ['npm run synth', 'npm run synth -- --environments dev --output /tmp/cdk.out'],
  exitCodes: [
    [0, 'synthesized, no unacknowledged cdk-nag finding'],
    [1, 'an unacknowledged cdk-nag finding (listed with the fix) or an invalid configuration'],
    [2, 'bad options'],
  ],
} as const satisfies CliSpec;

function main(): number {
  const values = cliArgs(CLI);
  const names = (values.environments ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const configs = resolveEnvironments(ENVIRONMENTS, { names });

  const app = new App({ outdir: values.output, context: cdkJsonContext() });
  const environments = addEnvironments(app, configs);
  const stacks = [
    ...new Set(
      [...environments.values()].flatMap((env) => [
        ...(env.oidcProvider ? [env.oidcProvider] : []),
        env.foundation,
        env.network,
        env.service,
      ]),
    ),
  ];

  // The packs run once, as validation plugins of the synthesis (as `cdk synth` runs them, with the
  // same validation report in the assembly); only on a refusal are they run again, for the list.
  enforceNag(app);
  try {
    app.synth();
  } catch (error) {
    const findings = stacks.flatMap((stack) => nagFindings(stack));
    if (findings.length === 0) throw error;
    console.error(`cdk-nag: ${findings.length} unacknowledged finding(s):`);
    for (const finding of findings) console.error(`  ${finding.rule}  ${finding.path}\n    ${finding.description}`);
    console.error(
      'Fix the resource, or acknowledge the finding on that construct with a reason (see docs/security.md).',
    );
    return 1;
  }

  const rows = stacks.map((stack) => {
    const template = JSON.parse(readFileSync(join(values.output!, `${stack.artifactId}.template.json`), 'utf8')) as {
      Resources: Record<string, unknown>;
    };
    return [
      stack.stackName,
      String(Object.keys(template.Resources).length),
      '0',
      String(nagAcknowledgments(stack).length),
    ];
  });
  const packs = nagPacks()
    .map((pack) => pack.readPackName)
    .join(' + ');
  printTable(['stack', 'resources', 'findings', 'acknowledged'], rows);
  const written = readdirSync(values.output!).filter((f) => f.endsWith('.template.json')).length;
  console.log(
    `\nSynthesized ${configs.length} environment(s) (${configs.map((c) => c.name).join(', ')}), ${written} templates in ${values.output}/; ` +
      `cdk-nag ${packs}: no unacknowledged finding. No AWS credentials used.`,
  );
  return 0;
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
