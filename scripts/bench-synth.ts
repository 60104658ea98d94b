/**
 * `npm run bench:synth`: what the pull-request check costs, per environment and for all of them:
 * the wall time and peak memory (max RSS) of a synthesis with cdk-nag enforced plus the rendering
 * of its diff comment (against nothing deployed: every resource added, the largest comment), so the
 * cost of adding environments is visible. Each measurement runs in a fresh process, as CI runs it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../actions/shared/src/errors.js';
import { ENVIRONMENTS } from '../infra/lib/project.js';
import { cliArgs, integerValue, type CliSpec } from './lib/args.js';

const CLI = {
  command: 'npm run bench:synth',
  usage: 'Usage: npm run bench:synth [-- --runs N]',
  description:
    'Measures, per configured environment and for all of them together, the wall time and peak memory of ' +
    'synthesizing with cdk-nag enforced plus rendering the diff comment, each in a fresh process, and prints a table.',
  options: {
    runs: {
      type: 'string',
      value: 'n',
      default: '3',
      description: 'Runs per measurement (the table shows the median)',
    },
  },
  examples: ['npm run bench:synth', 'npm run bench:synth -- --runs 5'],
  exitCodes: [
    [0, 'measured'],
    [1, 'a measurement failed'],
    [2, 'bad options'],
  ],
} as const satisfies CliSpec;

const WORKER = fileURLToPath(new URL('./lib/bench-synth-worker.ts', import.meta.url));

interface Measurement {
  readonly seconds: number;
  readonly peakMiB: number;
  readonly stacks: number;
  readonly resources: number;
  readonly commentCharacters: number;
}

/** One measurement in a fresh Node process (so memory and module loading are counted as in CI). */
function measure(environments: readonly string[]): Measurement {
  const outdir = mkdtempSync(join(tmpdir(), 'bench-synth-'));
  try {
    const started = performance.now();
    const result = spawnSync(process.execPath, ['--import', 'tsx', WORKER, outdir, ...environments], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 0)
      throw new Error(`synth of ${environments.join(', ')} failed:\n${result.stderr.slice(-2000)}`);
    const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as Omit<Measurement, 'seconds'>;
    return { ...report, seconds };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function main(): number {
  const values = cliArgs(CLI);
  const runs = integerValue(CLI, 'runs', values.runs, 1, 20);
  const cases: [string, string[]][] = [
    ...ENVIRONMENTS.map((env): [string, string[]] => [env.name, [env.name]]),
    [`all ${ENVIRONMENTS.length}`, ENVIRONMENTS.map((env) => env.name)],
  ];
  const rows: string[][] = [];
  for (const [label, names] of cases) {
    const samples = Array.from({ length: runs }, () => measure(names));
    const last = samples.at(-1)!;
    rows.push([
      label,
      String(last.stacks),
      String(last.resources),
      `${median(samples.map((s) => s.seconds)).toFixed(2)} s`,
      `${median(samples.map((s) => s.peakMiB)).toFixed(0)} MiB`,
      String(last.commentCharacters),
    ]);
    process.stderr.write(`measured ${label}\n`);
  }
  const header = ['environments', 'stacks', 'resources', 'wall time', 'peak memory', 'comment chars'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log(
    `\nMedian of ${runs} run(s) each, in a fresh process: synthesis with cdk-nag (AwsSolutions + NIST 800-53 R5) and the diff comment against nothing deployed. Node ${process.version}.`,
  );
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`bench:synth: ${errorMessage(error)}`);
  process.exitCode = 1;
}
