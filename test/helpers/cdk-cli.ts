import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (where cdk.json is). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CDK_BIN = fileURLToPath(new URL('../../node_modules/aws-cdk/bin/cdk', import.meta.url));

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CDK CLI from the repository root (so it reads cdk.json), quietly and non-interactively. */
export async function runCdk(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = spawn(process.execPath, [CDK_BIN, ...args, '--no-notices', '--no-version-reporting', '--ci'], {
    cwd: REPO_ROOT,
    env: { ...env, NODE_OPTIONS: '', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return { exitCode, stdout, stderr };
}

/** Like runCdk, but throws with the CLI's output when it fails. */
export async function cdk(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const result = await runCdk(args, env);
  if (result.exitCode !== 0) {
    throw new Error(
      `cdk ${args.join(' ')} exited ${result.exitCode}:\n${result.stderr.slice(-4000)}\n${result.stdout.slice(-2000)}`,
    );
  }
  return result;
}
