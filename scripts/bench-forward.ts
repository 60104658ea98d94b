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
import {
  childCpuSeconds,
  ownCpuSeconds,
  runLoad,
  startEmulatorProcess,
  startRelayProcess,
} from './lib/bench-emulator.js';
import { startRelay } from './lib/bench-relay.js';

const CLI = {
  command: 'npm run bench:forward',
  usage: 'Usage: npm run bench:forward [-- --size-mb N] [--requests N] [--concurrency N] [--rounds N]',
  description:
    'Measures throughput (one download of a random payload, checked by SHA-256) and request latency (p50, p99 ' +
    'of GET /) and client CPU per MB through the native port-forwarding client (and session-manager-plugin when ' +
    'it is on PATH, with the native/plugin ratio) and the local SSM emulator in its own process, beside a direct loopback ' +
    'connection to the same local nginx (or the built-in HTTP target when nginx is missing) and two plain Node TCP ' +
    'relays in the places of the client and the emulator (what any Node client through a Node agent ' +
    'pays on this machine before it does any work of its own). Loopback only, no ' +
    'AWS account; bounded in count and time. The load runs in its own process and takes two latency series: ' +
    "GETs on new connections (each pays the tunnel's connection set-up) and GETs on kept-alive connections (each " +
    'one round trip through the open tunnel), through every path in rotating batches of 50, so that the paths are measured ' +
    'side by side, after a warm-up round whose figures are dropped. Prints the median of each figure over the rounds. Latency is taken one request at a time by default: on a ' +
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
  const of = (figure: (figures: Figures) => number): number => median(rounds.map(figure));
  return {
    mbPerSecond: of((figures) => figures.mbPerSecond),
    newConnection: { p50: of((f) => f.newConnection.p50), p99: of((f) => f.newConnection.p99) },
    openConnection: { p50: of((f) => f.openConnection.p50), p99: of((f) => f.openConnection.p99) },
    cpuPerMb: cpu.length > 0 ? median(cpu) : undefined,
  };
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

interface Latency {
  readonly p50: number;
  readonly p99: number;
}

interface Figures {
  readonly mbPerSecond: number;
  /** GET / on a new connection: the tunnel's connection set-up and one round trip. */
  readonly newConnection: Latency;
  /** GET / on a kept-alive connection: one round trip through the open tunnel. */
  readonly openConnection: Latency;
  /** CPU seconds of the client process per MiB downloaded; undefined when it cannot be read. */
  readonly cpuPerMb?: number;
}

/**
 * Latency requests per path before the load moves on to the next. Small enough that the paths are
 * measured side by side: this VM's speed drifts by a third over minutes. Large enough that the
 * first requests of a batch, which find the path's processes asleep after another path's turn, are
 * a small share: at 1 request per batch the native/plugin ratio of p50 read 0.72-0.82, at 10
 * 0.58-0.73, at 50 0.51-0.65 (one machine, side by side). Likely why: on a VM, a process woken
 * from idle pays for its virtual CPU's wake-up too, and Go's scheduler spins a little before it
 * parks a thread, where Node sleeps in epoll at once.
 */
const LATENCY_BATCH = 50;

/** One way to nginx: its local port while open, and the CPU seconds of the process forwarding it. */
interface Path {
  readonly name: string;
  open(): Promise<{ readonly port: number; stop(): Promise<void> }>;
  readonly cpu: () => number | undefined;
}

function enginePath(name: string, engine: Engine, ssm: SSMClient, cpu: () => number | undefined): Path {
  return {
    name,
    cpu,
    open: async () => {
      const session = await startForwarding({
        engine,
        ssm,
        region: REGION,
        target: 'ecs:dev-cluster_0a1b2c3d4e5f60718293a4b5c6d7e8f9_0a1b2c3d4e5f60718293a4b5c6d7e8f9-1234567890',
        remotePort: 80,
        localPort: 0,
        logger: quiet,
      });
      return { port: session.localPort, stop: () => session.stop() };
    },
  };
}

/**
 * One round: every path open at once, the latency series through all of them in rotating batches
 * (one load process), then one download through each, in an order that rotates with the round.
 */
async function measureRound(
  paths: readonly Path[],
  round: number,
  options: { readonly requests: number; readonly concurrency: number; readonly expected: string },
): Promise<Figures[]> {
  const open: { port: number; stop(): Promise<void> }[] = [];
  try {
    for (const path of paths) open.push(await path.open());
    // Latency first: right after a download the emulator may still be working through the client's
    // acknowledgements (one per message), and the first requests would measure that backlog.
    const latency = (connections: 'new' | 'open'): Promise<{ samples: number[][] }> =>
      runLoad([
        'latency',
        connections,
        open.map((session) => session.port).join(','),
        options.requests,
        options.concurrency,
        LATENCY_BATCH,
      ]);
    const newSamples = (await latency('new')).samples;
    const openSamples = (await latency('open')).samples;
    const throughput = new Map<number, { mbPerSecond: number; cpuPerMb?: number }>();
    for (let i = 0; i < paths.length; i++) {
      const index = (round + i) % paths.length;
      const path = paths[index]!;
      let cpuBefore: number | undefined;
      const download = await runLoad<{ bytes: number; ms: number; digest: string }>(
        ['download', open[index]!.port, '/payload.bin'],
        { beforeStart: () => (cpuBefore = path.cpu()) }, // after the load's spawn, which this process pays for
      );
      const cpuAfter = path.cpu();
      if (download.digest !== options.expected) throw new Error(`${path.name}: the download's SHA-256 does not match`);
      const mb = download.bytes / 1024 / 1024;
      throughput.set(index, {
        mbPerSecond: mb / (download.ms / 1000),
        cpuPerMb: cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / mb,
      });
    }
    const percentiles = (samples: readonly number[]): Latency => {
      const sorted = [...samples].sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    };
    return paths.map((_, index) => ({
      ...throughput.get(index)!,
      newConnection: percentiles(newSamples[index]!),
      openConnection: percentiles(openSamples[index]!),
    }));
  } finally {
    for (const session of open) await session.stop();
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
  const direct = `direct loopback (${nginx.kind === 'nginx' ? 'nginx' : 'built-in target'})`;
  const relays: Path = {
    name: 'two plain Node relays (no protocol)',
    cpu: ownCpuSeconds, // the near relay, in this process where the native client runs
    open: async () => {
      const far = await startRelayProcess(nginx.port);
      try {
        const near = await startRelay(far.port);
        return { port: near.port, stop: () => near.stop().then(() => far.stop()) };
      } catch (error) {
        await far.stop();
        throw error;
      }
    },
  };
  const native = enginePath('native client + emulator (mux)', 'native', ssm, ownCpuSeconds);
  const pluginPath = plugin
    ? enginePath(`session-manager-plugin ${plugin} + emulator`, 'plugin', ssm, () => childCpuSeconds(PLUGIN_BINARY))
    : undefined;
  const paths: Path[] = [
    { name: direct, open: async () => ({ port: nginx.port, stop: async () => undefined }), cpu: () => undefined },
    relays,
    native,
    ...(pluginPath ? [pluginPath] : []),
  ];
  // Rounds, each a new session per engine: a ratio of figures taken side by side drifts far less
  // than either figure, and the rounds show how far it still moves.
  const samples = new Map<string, Figures[]>(paths.map((path) => [path.name, []]));
  try {
    // One round whose figures are dropped: V8 compiles the native engine's code as it first runs
    // (the plugin is compiled ahead of time), and the first download would count the compiling.
    await measureRound(paths, 0, { requests: Math.min(requests, LATENCY_BATCH), concurrency, expected });
    for (let round = 0; round < rounds; round++) {
      const figures = await measureRound(paths, round, { requests, concurrency, expected });
      paths.forEach((path, index) => samples.get(path.name)!.push(figures[index]!));
    }
  } finally {
    await emulator.stop();
    await nginx.stop();
  }
  const rows: [string, Figures][] = paths.map((path) => [path.name, medianFigures(samples.get(path.name)!)]);
  const cells = (figures: Figures): string[] => [
    figures.mbPerSecond.toFixed(1),
    figures.newConnection.p50.toFixed(2),
    figures.newConnection.p99.toFixed(2),
    figures.openConnection.p50.toFixed(2),
    figures.openConnection.p99.toFixed(2),
    figures.cpuPerMb === undefined ? 'n/a' : figures.cpuPerMb.toFixed(4),
  ];
  const header = [
    'path',
    `MB/s (${sizeMb} MB)`,
    'p50 ms new conn',
    'p99 ms',
    'p50 ms open conn',
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
  // Each round's ratio of figures taken side by side, then the median and range over the rounds.
  const ratio = (of: Path, to: Path, figure: (f: Figures) => number | undefined): string => {
    const [numerators, denominators] = [samples.get(of.name)!, samples.get(to.name)!];
    const values = numerators.flatMap((figures, round) => {
      const [a, b] = [figure(figures), figure(denominators[round]!)];
      return a === undefined || b === undefined ? [] : [a / b];
    });
    if (values.length === 0) return 'n/a';
    const [low, high] = [Math.min(...values), Math.max(...values)];
    const range = values.length > 1 ? ` (${low.toFixed(2)}-${high.toFixed(2)})` : '';
    return `${median(values).toFixed(2)}x${range}`;
  };
  const latencies = (of: Path, to: Path, which: keyof Latency): string =>
    `${which} new conn ${ratio(of, to, (f) => f.newConnection[which])}, ` +
    `${which} open conn ${ratio(of, to, (f) => f.openConnection[which])}`;
  console.log(
    `\nmedian of ${rounds} ${rounds === 1 ? 'round' : 'rounds'} (range); ${requests} GET / per series, ` +
      `${concurrency} at once:`,
  );
  if (pluginPath) {
    console.log(
      `native / plugin: throughput ${ratio(native, pluginPath, (f) => f.mbPerSecond)}, ` +
        `${latencies(native, pluginPath, 'p50')}, ${latencies(native, pluginPath, 'p99')}, ` +
        `CPU per MB ${ratio(native, pluginPath, (f) => f.cpuPerMb)}`,
    );
    console.log(`plain relays / plugin: ${latencies(relays, pluginPath, 'p50')}`);
  } else {
    console.log(`${PLUGIN_BINARY} is not on PATH: native figures only, no native/plugin ratio.`);
  }
  console.log(`native / plain relays: ${latencies(native, relays, 'p50')}`);
  console.log(
    'Loopback only; the emulator plays the SSM service and agent in its own process, so these figures bound the ' +
      'client, not AWS. Each figure is the median of its rounds. Client CPU is this process for the native engine ' +
      'and the near relay (the load runs in another) and the plugin process for the plugin engine; the direct row ' +
      'has no client. The relays cross the same processes as the native client and the emulator with no protocol: ' +
      "no Node client through a Node agent answers faster here. A new connection pays the tunnel's set-up (a " +
      'stream opened through the client, the emulator and a connect to nginx) besides one round trip; an open one ' +
      'pays the round trip alone.',
  );
}

main().catch((error: unknown) => {
  console.error(`bench:forward: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
