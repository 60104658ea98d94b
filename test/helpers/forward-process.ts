import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The developer forwarding script (`npm run forward`), running as a developer would run it. */
export interface ForwardProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the local URL once the script prints it. */
  waitForUrl(timeoutMs?: number): Promise<string>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends SIGINT (Ctrl-C) and resolves with the exit code. */
  interrupt(): Promise<number>;
  exited: Promise<number>;
}

export function startForward(args: readonly string[], env: Record<string, string | undefined>): ForwardProcess {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, NODE_OPTIONS: '', ...env })) {
    if (value !== undefined) environment[name] = value;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/forward.ts', ...args], {
    cwd: ROOT,
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))),
  );
  const waitForOutput = (pattern: RegExp, timeoutMs = 20_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      const check = setInterval(() => {
        const match = pattern.exec(output);
        if (match) {
          clearInterval(check);
          resolve(match[1] ?? match[0]);
        } else if (child.exitCode !== null || Date.now() - started > timeoutMs) {
          clearInterval(check);
          reject(new Error(`forward did not print ${pattern} (exit ${child.exitCode}):\n${output}`));
        }
      }, 25);
    });
  return {
    child,
    output: () => output,
    waitForUrl: (timeoutMs) => waitForOutput(/(http:\/\/127\.0\.0\.1:\d+) →/, timeoutMs),
    waitForOutput,
    async interrupt() {
      child.kill('SIGINT');
      return exited;
    },
    exited,
  };
}
