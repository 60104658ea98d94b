/**
 * `npm run bench:forward`: throughput, request latency and client CPU per MB through the native
 * port-forwarding client (and the session-manager-plugin when it is on PATH) and the local emulator,
 * which runs in its own process, beside a direct loopback connection to the same nginx. Loopback
 * only; bounded in count and time. Prints a table.
 *
 *   npm run bench:forward [-- --size-mb 20 --requests 300 --concurrency 4]
 */
import { createHash, randomBytes } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from '../actions/shared/src/logger.js';
import { startForwarding, type Engine } from '../actions/shared/src/ssm/forwarding.js';
import { PLUGIN_BINARY, pluginVersion } from '../actions/shared/src/ssm/plugin-engine.js';
import { startNginx } from '../test/helpers/nginx.js';
import { UsageError, cliArgs, integerValue, type CliSpec } from './lib/args.js';
import { childCpuSeconds, ownCpuSeconds, startEmulatorProcess } from './lib/bench-emulator.js';

const CLI = {
  command: 'npm run bench:forward',
  usage: 'Usage: npm run bench:forward [-- --size-mb N] [--requests N] [--concurrency N]',
  description:
    'Measures throughput (one download of a random payload, checked by SHA-256) and request latency (p50, p99 ' +
    'of GET /) and client CPU per MB through the native port-forwarding client (and session-manager-plugin when ' +
    'it is on PATH, with the native/plugin ratio) and the local SSM emulator in its own process, beside a direct loopback ' +
    'connection to the same local nginx (or the built-in HTTP target when nginx is missing). Loopback only, no ' +
    'AWS account; bounded in count and time. Prints a table.',
  options: {
    'size-mb': { type: 'string', value: 'N', default: '20', description: 'Payload size in MiB, 1 to 200' },
    requests: { type: 'string', value: 'N', default: '300', description: 'Latency requests, 1 to 5000' },
    concurrency: { type: 'string', value: 'N', default: '4', description: 'Requests in flight at once, 1 to 64' },
  },
  examples: ['npm run bench:forward', 'npm run bench:forward -- --size-mb 100 --requests 1000 --concurrency 8'],
  exitCodes: [
    [0, 'measured; the table is printed'],
    [1, 'a failure (a download that does not match, a server that does not start)'],
    [2, 'bad options'],
  ],
} as const satisfies CliSpec;

const REGION = 'ap-northeast-1';
const quiet: Logger = { info: () => undefined, warning: (m) => console.error(m), debug: () => undefined };

function fetchOnce(port: number, path: string): Promise<{ bytes: number; ms: number; digest: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const request = httpGet({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      const hash = createHash('sha256');
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      response.on('end', () =>
        resolve({ bytes, ms: Number(process.hrtime.bigint() - started) / 1e6, digest: hash.digest('hex') }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.setTimeout(120_000, () => request.destroy(new Error('request timed out')));
  });
}

async function latencies(port: number, requests: number, concurrency: number): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        samples.push((await fetchOnce(port, '/')).ms);
      }
    }),
  );
  return samples.sort((a, b) => a - b);
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
  await fetchOnce(port, '/'); // warm up
  // Latency first: right after a download the emulator may still be working through the client's
  // acknowledgements (one per message), and the first requests would measure that backlog.
  const samples = await latencies(port, requests, concurrency);
  const cpuBefore = cpu();
  const download = await fetchOnce(port, '/payload.bin');
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
  const rows: [string, Figures][] = [];
  try {
    const run = (name: string, port: number, cpu: () => number | undefined): Promise<Figures> =>
      measure(name, port, expected, requests, concurrency, cpu);
    const direct = `direct loopback (${nginx.kind === 'nginx' ? 'nginx' : 'built-in target'})`;
    rows.push([direct, await run(direct, nginx.port, ownCpuSeconds)]);
    const native = 'native client + emulator (mux)';
    rows.push([native, await throughEngine('native', ssm, (port) => run(native, port, ownCpuSeconds))]);
    if (plugin) {
      const name = `session-manager-plugin ${plugin} + emulator`;
      rows.push([
        name,
        await throughEngine('plugin', ssm, (port) => run(name, port, () => childCpuSeconds(PLUGIN_BINARY))),
      ]);
    }
  } finally {
    await emulator.stop();
    await nginx.stop();
  }
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
  const nativeFigures = rows[1]![1];
  const pluginFigures = rows[2]?.[1];
  if (pluginFigures) {
    console.log(
      `\nnative / plugin: throughput ${(nativeFigures.mbPerSecond / pluginFigures.mbPerSecond).toFixed(2)}x, ` +
        `p50 ${(nativeFigures.p50 / pluginFigures.p50).toFixed(2)}x, p99 ${(nativeFigures.p99 / pluginFigures.p99).toFixed(2)}x` +
        (nativeFigures.cpuPerMb !== undefined && pluginFigures.cpuPerMb !== undefined
          ? `, CPU per MB ${(nativeFigures.cpuPerMb / pluginFigures.cpuPerMb).toFixed(2)}x`
          : ''),
    );
  } else {
    console.log(`\n${PLUGIN_BINARY} is not on PATH: native figures only, no native/plugin ratio.`);
  }
  console.log(
    'Loopback only; the emulator plays the SSM service and agent in its own process, so these figures bound the ' +
      'client, not AWS. Client CPU is this process for the native engine (and the direct row), the plugin process ' +
      'for the plugin engine.',
  );
}

main().catch((error: unknown) => {
  console.error(`bench:forward: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
