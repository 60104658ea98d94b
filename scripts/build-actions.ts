/**
 * `npm run build:actions`: bundles every action under actions/<name>/ (one with an action.yml) into
 * its committed dist/: src/index.ts → dist/index.cjs and, when present, src/post.ts → dist/post.cjs.
 *
 * CommonJS output (.cjs): the @actions/* packages are ESM-only, and an ESM bundle crashes at run
 * time on `Dynamic require of "net"`; entries have no top-level await, so CJS bundles them cleanly.
 * Target node20: the same file runs in the tests here and on the runner's node24.
 *
 *   npm run build:actions [-- --outdir DIR]   (DIR/<name>/... instead of actions/<name>/dist/...)
 *   npm run check:dist                         (rebuild, then fail if dist/ differs from Git)
 *
 * An action that bundles the CloudFormation diff (actions/cdk) also gets, in dist/, the data files
 * the bundled code reads at run time: the resource-model table that stands in for the AWS service
 * spec database (`resource-models.json`, see scripts/lib/resource-model-table.ts) and a
 * `package.json` with toolkit-lib's version (the toolkit looks for one above its own file to learn
 * its version).
 *
 * Start-up matters: the action starts for every diff, deploy and comment, so the SDK clients the
 * toolkit requires but the action rarely uses load on first use (scripts/lib/lazy-sdk-clients.ts).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { cliArgs, type CliSpec } from './lib/args.js';
import { lazySdkClients } from './lib/lazy-sdk-clients.js';
import { resourceModelTable, writeResourceModelTable } from './lib/resource-model-table.js';

const ACTIONS_DIR = fileURLToPath(new URL('../actions/', import.meta.url));

/** The actions of the repository: folders of actions/ with an action.yml. */
export function actionNames(): string[] {
  return readdirSync(ACTIONS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(ACTIONS_DIR, entry.name, 'action.yml')))
    .map((entry) => entry.name)
    .sort();
}

/** Bundles one action; returns the files written. */
export async function buildAction(name: string, outdir = join(ACTIONS_DIR, name, 'dist')): Promise<string[]> {
  const written: string[] = [];
  for (const entry of ['index', 'post', 'cleanup']) {
    const source = join(ACTIONS_DIR, name, 'src', `${entry}.ts`);
    if (!existsSync(source)) continue;
    const outfile = join(outdir, `${entry}.cjs`);
    const options: BuildOptions = {
      entryPoints: [source],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      legalComments: 'none',
      logLevel: 'warning',
      // Stable output for check-dist: no absolute paths, no timestamps.
      sourcemap: false,
      charset: 'utf8',
    };
    const result = await build({ ...options, metafile: true, plugins: [resourceModelTable, lazySdkClients] });
    written.push(outfile);
    const inputs = Object.keys(result.metafile?.inputs ?? {});
    if (inputs.some((input) => input.includes('node_modules/@aws-cdk/cloudformation-diff/'))) {
      written.push(...writeToolkitData(outdir));
    }
  }
  if (written.length === 0) throw new Error(`actions/${name} has an action.yml but no src/index.ts`);
  return [...new Set(written)];
}

const require = createRequire(import.meta.url);

/** Writes the resource-model table and the toolkit's package.json into `outdir`. */
function writeToolkitData(outdir: string): string[] {
  mkdirSync(outdir, { recursive: true });
  const table = writeResourceModelTable(outdir);
  const toolkit = JSON.parse(readFileSync(require.resolve('@aws-cdk/toolkit-lib/package.json'), 'utf8')) as {
    version: string;
  };
  const manifest = join(outdir, 'package.json');
  // No "name": a second package named like a real one would collide in jest's module map.
  writeFileSync(
    manifest,
    `${JSON.stringify({ private: true, version: toolkit.version, description: 'bundled @aws-cdk/toolkit-lib' }, null, 2)}\n`,
  );
  return [table, manifest];
}

const CLI = {
  command: 'npm run build:actions',
  usage: 'Usage: npm run build:actions [-- --outdir DIR]',
  description:
    'Bundles every action under actions/<name>/ (a folder with an action.yml) with esbuild into its committed dist/: ' +
    'src/index.ts to dist/index.cjs and, when present, src/post.ts and src/cleanup.ts likewise, plus the data files ' +
    "the CDK toolkit reads at run time. 'npm run check:dist' rebuilds, then fails if dist/ differs from Git.",
  options: {
    outdir: {
      type: 'string',
      value: 'dir',
      description: 'Write DIR/<name>/... instead of actions/<name>/dist/...',
      defaultText: "each action's own dist/",
    },
  },
  examples: ['npm run build:actions', 'npm run build:actions -- --outdir /tmp/actions-dist'],
  exitCodes: [
    [0, 'every action bundled'],
    [1, 'a bundle failed (the esbuild error is printed)'],
    [2, 'bad options'],
  ],
} as const satisfies CliSpec;

async function main(): Promise<void> {
  const values = cliArgs(CLI);
  for (const name of actionNames()) {
    const files = await buildAction(name, values.outdir ? join(values.outdir, name) : undefined);
    console.log(`${name}: ${files.map((file) => file.replace(`${process.cwd()}/`, '')).join(', ')}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
