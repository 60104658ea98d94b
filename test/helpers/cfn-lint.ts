import { spawnSync } from 'node:child_process';

export interface LintResult {
  readonly exitCode: number;
  readonly output: string;
}

/** Runs cfn-lint (Python, preinstalled on the CI machine) on templates; exit 0 means no finding. */
export function cfnLint(templates: readonly string[]): LintResult {
  const run = spawnSync('cfn-lint', ['--format', 'parseable', '--', ...templates], { encoding: 'utf8' });
  if (run.error) {
    throw new Error(`cfn-lint could not run (${run.error.message}). Install it for python3: pip install cfn-lint`);
  }
  return { exitCode: run.status ?? -1, output: `${run.stdout}${run.stderr}`.trim() };
}
