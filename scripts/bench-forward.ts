/**
 * `npm run bench:forward`: throughput, request latency and client CPU per MB through the native
 * port-forwarding client (and the session-manager-plugin when it is on PATH) and the local emulator,
 * which runs in its own process, beside a direct loopback connection to the same nginx. The load
 * runs in a process of its own too. Loopback only; bounded in count and time. Prints a table of
 * medians over rounds.
 *
 *   npm run bench:forward [-- --size-mb 20 --requests 300 --concurrency 1 --rounds 3]
 */
import { createHash, randomBytes } from 'node:crypto';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from '../actions/shared/src/logger.js';
import { startForwarding, type Engine } from '../actions/shared/src/ssm/forwarding.js';
import { PLUGIN_BINARY, pluginVersion } from '../actions/shared/src/ssm/plugin-engine.js';
import { startNginx } from '../test/helpers/nginx.js';
import { UsageError, cliArgs, integerValue, type CliSpec } from './lib/args.js';
import { childCpuSeconds, ownCpuSeconds, runLoad, startEmulatorProcess } from './lib/bench-emulator.js';

const CLI = {
  command: 'npm run bench:forward',
  usage: 'Usage: npm run bench:forward [-- --size-mb N] [--requests N] [--concurrency N] [--rounds N]',
  description:
    'Measures throughput (one download of a random payload, checked by SHA-256) and request latency (p50, p99 ' +
    'of GET /) and client CPU per MB through the native port-forwarding client (and session-manager-plugin when ' +
    'it is on PATH, with the native/plugin ratio) and the local SSM emulator in its own process, beside a direct loopback ' +
    'connection to the same local nginx (or the built-in HTTP target when nginx is missing). Loopback only, no ' +
    'AWS account; bounded in count and time. The load (new connections, one GET each) runs in its own process. ' +
    'Prints the median of each figure over the rounds. Latency is taken one request at a time by default: on a ' +
    '2-core machine, requests at once measure how the load, the emulator, nginx and the client share the cores.',
  options: {
    'size-mb': { type: 'string', value: 'N', default: '20', description: 'Payload size in MiB, 1 to 200' },
    requests: { type: 'string', value: 'N', default: '300', description: 'Latency requests, 1 to 5000' },
    concurrency: { type: 'string', value: 'N', default: '1', description: 'Requests in flight at once, 1 to 64' },
    rounds: { type: 'string', value: 'N', default: '3', description: 'Rounds of every path, 1 to 20' },
  },
  examples: [
    'npm run bench:forward',
    'npm run bench:forward -- --size-mb 100 --requests 1000 --concurrency 4 --rounds 5',
  ],
  exitCodes: [
    [0, 'measured; the table is printed'],
    [1, 'a failure (a download that does not match, a server that does not start)'],
    [2, 'bad options'],
  ],
} as const satisfies CliSpec;

const REGION = 'ap-northeast-1';
const quiet: Logger = { info: () => undefined, warning: (m) => console.error(m), debug: () => undefined };

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The median of each figure over the rounds (CPU only over the rounds that could read it). */
function medianFigures(rounds: readonly Figures[]): Figures {
  const cpu = rounds.flatMap((figures) => (figures.cpuPerMb === undefined ? [] : [figures.cpuPerMb]));
  return {
    mbPerSecond: median(rounds.map((figures) => figures.mbPerSecond)),
    p50: median(rounds.map((figures) => figures.p50)),
    p99: median(rounds.map((figures) => figures.p99)),
    cpuPerMb: cpu.length > 0 ? median(cpu) : undefined,
  };
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

interface Figures {
  readonly mbPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  /** CPU seconds of the client process per MiB downloaded; undefined when it cannot be read. */
  readonly cpuPerMb?: number;
}

/** The latency series and one download (checked) through `port`; `cpu` reads the client's CPU seconds. */
async function measure(
  name: string,
  port: number,
  expected: string,
  requests: number,
  concurrency: number,
  cpu: () => number | undefined,
): Promise<Figures> {
  // Latency first: right after a download the emulator may still be working through the client's
  // acknowledgements (one per message), and the first requests would measure that backlog.
  const { samples } = await runLoad<{ samples: number[] }>(['latency', port, requests, concurrency]);
  samples.sort((a, b) => a - b);
  const cpuBefore = cpu();
  const download = await runLoad<{ bytes: number; ms: number; digest: string }>(['download', port, '/payload.bin']);
  const cpuAfter = cpu();
  if (download.digest !== expected) throw new Error(`${name}: the download's SHA-256 does not match`);
  const mb = download.bytes / 1024 / 1024;
  return {
    mbPerSecond: mb / (download.ms / 1000),
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    cpuPerMb: cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / mb,
  };
}

async function throughEngine(
  engine: Engine,
  ssm: SSMClient,
  measureSession: (port: number) => Promise<Figures>,
): Promise<Figures> {
  const session = await startForwarding({
    engine,
    ssm,
    region: REGION,
    target: 'ecs:dev-cluster_0a1b2c3d4e5f60718293a4b5c6d7e8f9_0a1b2c3d4e5f60718293a4b5c6d7e8f9-1234567890',
    remotePort: 80,
    localPort: 0,
    logger: quiet,
  });
  try {
    return await measureSession(session.localPort);
  } finally {
    await session.stop();
  }
}

async function main(): Promise<void> {
  const values = cliArgs(CLI);
  const sizeMb = integerValue(CLI, 'size-mb', values['size-mb'], 1, 200);
  const requests = integerValue(CLI, 'requests', values.requests, 1, 5000);
  const concurrency = integerValue(CLI, 'concurrency', values.concurrency, 1, 64);
  const rounds = integerValue(CLI, 'rounds', values.rounds, 1, 20);
  const payload = randomBytes(sizeMb * 1024 * 1024);
  const expected = createHash('sha256').update(payload).digest('hex');
  const plugin = pluginVersion();

  const nginx = await startNginx({ 'payload.bin': payload });
  const emulator = await startEmulatorProcess({ host: '127.0.0.1', port: nginx.port });
  const ssm = new SSMClient({
    region: REGION,
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
    maxAttempts: 1,
  });
  const paths: { name: string; measure: () => Promise<Figures> }[] = [];
  const run = (name: string, port: number, cpu: () => number | undefined): Promise<Figures> =>
    measure(name, port, expected, requests, concurrency, cpu);
  const direct = `direct loopback (${nginx.kind === 'nginx' ? 'nginx' : 'built-in target'})`;
  paths.push({ name: direct, measure: () => run(direct, nginx.port, () => undefined) });
  const native = 'native client + emulator (mux)';
  paths.push({ name: native, measure: () => throughEngine('native', ssm, (port) => run(native, port, ownCpuSeconds)) });
  if (plugin) {
    const name = `session-manager-plugin ${plugin} + emulator`;
    paths.push({
      name,
      measure: () => throughEngine('plugin', ssm, (port) => run(name, port, () => childCpuSeconds(PLUGIN_BINARY))),
    });
  }
  // Rounds, each path once per round in a rotating order: this VM's speed drifts by a third over
  // minutes, and a ratio of figures taken side by side drifts far less than either figure.
  const samples = new Map<string, Figures[]>(paths.map((path) => [path.name, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < paths.length; i++) {
        const path = paths[(round + i) % paths.length]!;
        samples.get(path.name)!.push(await path.measure());
      }
    }
  } finally {
    await emulator.stop();
    await nginx.stop();
  }
  const rows: [string, Figures][] = paths.map((path) => [path.name, medianFigures(samples.get(path.name)!)]);
  const cells = (figures: Figures): string[] => [
    figures.mbPerSecond.toFixed(1),
    figures.p50.toFixed(2),
    figures.p99.toFixed(2),
    figures.cpuPerMb === undefined ? 'n/a' : figures.cpuPerMb.toFixed(4),
  ];
  const header = [
    'path',
    `MB/s (${sizeMb} MB)`,
    `p50 ms (${requests} GET /, ${concurrency} at once)`,
    'p99 ms',
    'client CPU s/MB',
  ];
  const table = rows.map(([name, figures]) => [name, ...cells(figures)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (row: string[]): string =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of table) console.log(line(row));
  const nativeRounds = samples.get(paths[1]!.name)!;
  const pluginRounds = paths[2] ? samples.get(paths[2].name)! : undefined;
  if (pluginRounds) {
    // Each round's ratio of figures taken side by side, then the median and range over the rounds.
    const ratio = (figure: (f: Figures) => number | undefined): string => {
      const values = nativeRounds.flatMap((native, round) => {
        const [a, b] = [figure(native), figure(pluginRounds[round]!)];
        return a === undefined || b === undefined ? [] : [a / b];
      });
      if (values.length === 0) return 'n/a';
      const [low, high] = [Math.min(...values), Math.max(...values)];
      const range = values.length > 1 ? ` (${low.toFixed(2)}-${high.toFixed(2)})` : '';
      return `${median(values).toFixed(2)}x${range}`;
    };
    console.log(
      `\nnative / plugin, median of ${rounds} rounds (range): throughput ${ratio((f) => f.mbPerSecond)}, ` +
        `p50 ${ratio((f) => f.p50)}, p99 ${ratio((f) => f.p99)}, CPU per MB ${ratio((f) => f.cpuPerMb)}`,
    );
  } else {
    console.log(`\n${PLUGIN_BINARY} is not on PATH: native figures only, no native/plugin ratio.`);
  }
  console.log(
    'Loopback only; the emulator plays the SSM service and agent in its own process, so these figures bound the ' +
      'client, not AWS. Each figure is the median of its rounds. Client CPU is this process for the native engine ' +
      '(the load runs in another) and the plugin process for the plugin engine; the direct row has no client.',
  );
}

main().catch((error: unknown) => {
  console.error(`bench:forward: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
