/**
 * Starts and stops the benchmark's SSM emulator in a child process (bench-emulator-server.ts), runs
 * its load in another (bench-load.ts), and reads a process's CPU time, so `npm run bench:forward`
 * measures only the client.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopProcess } from '../../test/helpers/ports.js';

const SERVER = fileURLToPath(new URL('./bench-emulator-server.ts', import.meta.url));
const LOAD = fileURLToPath(new URL('./bench-load.ts', import.meta.url));

export interface EmulatorProcess {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The emulator serving a healthy scenario whose task reaches target, in its own Node process. */
export async function startEmulatorProcess(
  target: { readonly host: string; readonly port: number },
  options: {
    /** Extra Node options for the emulator, e.g. ['--cpu-prof']. @default [] */
    readonly nodeArgs?: readonly string[];
    /** @default 30000 */
    readonly timeoutMs?: number;
  } = {},
): Promise<EmulatorProcess> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const args = [...(options.nodeArgs ?? []), '--import', 'tsx', SERVER, target.host, String(target.port)];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = (): Promise<void> => stopProcess(child, exited);
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the emulator process printed no endpoint within ${timeoutMs} ms`)),
        timeoutMs,
      );
      createInterface({ input: child.stdout! }).once('line', (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the emulator process exited (code ${code}) before printing its endpoint`));
      });
    });
    const { endpoint } = JSON.parse(line) as { endpoint?: string };
    if (!endpoint) throw new Error(`the emulator process printed '${line}', expected {"endpoint":...}`);
    return { endpoint, pid: child.pid!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Runs the benchmark's load (bench-load.ts) in its own process and returns what it printed:
 * `latency PORT REQUESTS CONCURRENCY` or `download PORT PATH`.
 */
export async function runLoad<T>(args: readonly (string | number)[]): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', LOAD, ...args.map(String)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`the load process (${args.join(' ')}) exited with code ${code}: ${stderr.trim()}`);
  return JSON.parse(stdout) as T;
}

/** User + system CPU seconds of this process. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * User + system CPU seconds of this process's live children named `name` (Linux /proc), or
 * undefined where /proc is missing or no such child runs.
 */
export function childCpuSeconds(name: string): number | undefined {
  let total: number | undefined;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux that Node supports
  for (const pid of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // the process ended meanwhile
    }
    // Fields after the parenthesised command name: state ppid ... utime(14) stime(15), 1-based.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    if (comm !== name.slice(0, 15) || Number(fields[1]) !== process.pid) continue;
    total = (total ?? 0) + (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  }
  return total;
}
