/**
 * `npm run bench:forward`: throughput and request latency through the native port-forwarding client
 * and the local emulator, beside a direct loopback connection to the same nginx. Loopback only;
 * bounded in count and time. Prints a table.
 *
 *   npm run bench:forward [-- --size-mb 20 --requests 300 --concurrency 4]
 */
import { createHash, randomBytes } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from '../actions/shared/src/logger.js';
import { PortForwardingSession } from '../actions/shared/src/ssm/port-session.js';
import { startNginx } from '../test/helpers/nginx.js';
import { SsmEmulator } from '../test/helpers/ssm-emulator/emulator.js';
import { healthyScenario } from '../test/helpers/ssm-emulator/scenario.js';
import { UsageError, cliArgs, integerValue, type CliSpec } from './lib/args.js';

const CLI = {
  command: 'npm run bench:forward',
  usage: 'Usage: npm run bench:forward [-- --size-mb N] [--requests N] [--concurrency N]',
  description:
    'Measures throughput (one download of a random payload, checked by SHA-256) and request latency (p50, p99 ' +
    'of GET /) through the native port-forwarding client and the local SSM emulator, beside a direct loopback ' +
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

async function main(): Promise<void> {
  const values = cliArgs(CLI);
  const sizeMb = integerValue(CLI, 'size-mb', values['size-mb'], 1, 200);
  const requests = integerValue(CLI, 'requests', values.requests, 1, 5000);
  const concurrency = integerValue(CLI, 'concurrency', values.concurrency, 1, 64);
  const payload = randomBytes(sizeMb * 1024 * 1024);
  const expected = createHash('sha256').update(payload).digest('hex');

  const nginx = await startNginx({ 'payload.bin': payload });
  const emulator = await new SsmEmulator(healthyScenario({ target: { host: '127.0.0.1', port: nginx.port } })).start();
  const ssm = new SSMClient({
    region: 'ap-northeast-1',
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
    maxAttempts: 1,
  });
  const session = await PortForwardingSession.start({
    ssm,
    target: 'ecs:dev-cluster_0a1b2c3d4e5f60718293a4b5c6d7e8f9_0a1b2c3d4e5f60718293a4b5c6d7e8f9-1234567890',
    remotePort: 80,
    logger: quiet,
  });
  const rows: string[][] = [];
  try {
    for (const [name, port] of [
      [`direct loopback (${nginx.kind === 'nginx' ? 'nginx' : 'built-in target'})`, nginx.port],
      ['native client + emulator (mux)', session.localPort],
    ] as const) {
      await fetchOnce(port, '/'); // warm up
      const download = await fetchOnce(port, '/payload.bin');
      if (download.digest !== expected) throw new Error(`${name}: the download's SHA-256 does not match`);
      const samples = await latencies(port, requests, concurrency);
      rows.push([
        name,
        (download.bytes / 1024 / 1024 / (download.ms / 1000)).toFixed(1),
        percentile(samples, 50).toFixed(2),
        percentile(samples, 99).toFixed(2),
      ]);
    }
  } finally {
    await session.stop();
    await emulator.stop();
    await nginx.stop();
  }
  const header = ['path', `MB/s (${sizeMb} MB)`, `p50 ms (${requests} GET /, ${concurrency} at once)`, 'p99 ms'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) console.log(line(row));
  console.log(
    '\nLoopback only; the emulator plays the SSM service and agent in this process, so these figures bound the client, not AWS.',
  );
}

main().catch((error: unknown) => {
  console.error(`bench:forward: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
