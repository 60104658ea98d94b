/**
 * Starts and stops the benchmark's SSM emulator in a child process (bench-emulator-server.ts) and
 * the relay row's far relay in another (bench-relay-server.ts), runs its load in a third
 * (bench-load.ts), and reads a process's CPU time, so `npm run bench:forward` measures only the
 * client.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopProcess } from '../../test/helpers/ports.js';
import { LOAD_READY, LOAD_START } from './bench-load-protocol.js';

const SERVER = fileURLToPath(new URL('./bench-emulator-server.ts', import.meta.url));
const RELAY = fileURLToPath(new URL('./bench-relay-server.ts', import.meta.url));
const LOAD = fileURLToPath(new URL('./bench-load.ts', import.meta.url));

export interface EmulatorProcess {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** A server of the benchmark in its own Node process (through tsx), once it printed its JSON line. */
interface ServerProcess {
  readonly ready: Record<string, unknown>;
  readonly pid: number;
  stop(): Promise<void>;
}

async function startServerProcess(
  script: string,
  args: readonly string[],
  options: { readonly nodeArgs?: readonly string[]; readonly timeoutMs: number },
): Promise<ServerProcess> {
  const what = script.slice(script.lastIndexOf('/') + 1);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = (): Promise<void> => stopProcess(child, exited);
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${what} printed nothing within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      createInterface({ input: child.stdout! }).once('line', (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${what} exited (code ${code}) before it was ready`));
      });
    });
    let ready: unknown;
    try {
      ready = JSON.parse(line);
    } catch {
      ready = undefined;
    }
    if (typeof ready !== 'object' || ready === null)
      throw new Error(`${what} printed '${line}', expected a JSON object`);
    return { ready: ready as Record<string, unknown>, pid: child.pid!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
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
  const server = await startServerProcess(SERVER, [target.host, String(target.port)], {
    nodeArgs: options.nodeArgs,
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  const { endpoint } = server.ready;
  if (typeof endpoint !== 'string') {
    await server.stop();
    throw new Error(`the emulator process printed ${JSON.stringify(server.ready)}, expected {"endpoint":...}`);
  }
  return { endpoint, pid: server.pid, stop: server.stop };
}

/** A plain TCP relay to 127.0.0.1:targetPort in its own Node process (the relay row's far side). */
export async function startRelayProcess(targetPort: number): Promise<{ readonly port: number; stop(): Promise<void> }> {
  const server = await startServerProcess(RELAY, [String(targetPort)], { timeoutMs: 30_000 });
  const { port } = server.ready;
  if (typeof port !== 'number') {
    await server.stop();
    throw new Error(`the relay process printed ${JSON.stringify(server.ready)}, expected {"port":N}`);
  }
  return { port, stop: server.stop };
}

/**
 * Runs the benchmark's load (bench-load.ts) in its own process and returns what it printed:
 * `latency new|open PORTS REQUESTS CONCURRENCY BATCH` or `download PORT PATH`. The load loads its
 * modules, says it is ready, and starts when told: `beforeStart` runs in between, so a CPU figure
 * sampled there leaves out this process's share of spawning it (a fork of a large process).
 */
export async function runLoad<T>(
  args: readonly (string | number)[],
  options: { readonly beforeStart?: () => void } = {},
): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', LOAD, ...args.map(String)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
    if (stdout.startsWith(`${LOAD_READY}\n`)) {
      stdout = stdout.slice(LOAD_READY.length + 1);
      options.beforeStart?.();
      child.stdin.end(`${LOAD_START}\n`);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin.on('error', () => undefined); // a load that failed before reading it: its exit code says why
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
