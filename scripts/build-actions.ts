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
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type BuildOptions } from 'esbuild';

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
    await build(options);
    written.push(outfile);
  }
  if (written.length === 0) throw new Error(`actions/${name} has an action.yml but no src/index.ts`);
  return written;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
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
