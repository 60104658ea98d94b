import { spawnSync } from 'node:child_process';
import { MOTO_INSTALL_COMMAND } from './moto.js';

export interface LintResult {
  readonly exitCode: number;
  readonly output: string;
}

/**
 * Runs cfn-lint (Python; the CI installs it in the moto venv) on templates; exit 0 means no finding.
 * When it is missing, fails with the venv command that installs it with moto: a plain `pip install`
 * fails on Debian's and the runners' Python (PEP 668: externally-managed-environment).
 */
export function cfnLint(templates: readonly string[]): LintResult {
  const run = spawnSync('cfn-lint', ['--format', 'parseable', '--', ...templates], { encoding: 'utf8' });
  if (run.error) {
    throw new Error(
      `cfn-lint could not run (${run.error.message}). Install it (with moto) in a venv first on PATH: ${MOTO_INSTALL_COMMAND}`,
    );
  }
  return { exitCode: run.status ?? -1, output: `${run.stdout}${run.stderr}`.trim() };
}
