/**
 * The load of `npm run bench:forward`, in a process of its own as a browser or curl would be: the
 * engine under test then spends its process (and its CPU figure) on forwarding alone, and the
 * native engine, which runs in the benchmark's process, competes with the load no more than the
 * plugin, which runs in its own. Prints one JSON line and exits.
 *
 *   tsx scripts/lib/bench-load.ts latency PORT[,PORT...] REQUESTS CONCURRENCY BATCH
 *       → {"samples":[[ms...] per port]}
 *   tsx scripts/lib/bench-load.ts download PORT PATH → {"bytes":N,"ms":N,"digest":"hex"}
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';

interface Fetched {
  readonly bytes: number;
  readonly ms: number;
  readonly digest: string;
}

/**
 * One GET on a new connection (as a forwarded client opens one), timed from connect to the last
 * byte of the body. A plain socket and a fixed request rather than node:http: its client cost
 * more per request than the tunnel under test, and that cost is the same on every row.
 */
function fetchOnce(port: number, path: string): Promise<Fetched> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const timer = setTimeout(
      () => socket.destroy(new Error(`GET ${path} on port ${port} timed out after 120 s`)),
      120_000,
    );
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const hash = createHash('sha256');
    let head: Buffer | undefined = Buffer.alloc(0);
    let remaining = 0;
    let bytes = 0;
    const body = (chunk: Buffer): void => {
      const part = chunk.subarray(0, remaining);
      hash.update(part);
      bytes += part.length;
      remaining -= part.length;
      if (remaining === 0) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ bytes, ms: Number(process.hrtime.bigint() - started) / 1e6, digest: hash.digest('hex') });
      }
    };
    socket.on('data', (chunk: Buffer) => {
      if (!head) return body(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers = head.subarray(0, end).toString('latin1');
      const rest = head.subarray(end + 4);
      head = undefined;
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(headers)?.[1];
      const length = /\r\ncontent-length: *(\d+)/i.exec(headers)?.[1];
      if (status !== '200' || length === undefined) {
        fail(new Error(`GET ${path}: expected 200 with a Content-Length, got '${headers.split('\r\n')[0]}'`));
        return;
      }
      remaining = Number(length);
      body(rest);
    });
    socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    socket.once('error', fail);
    socket.once('end', () => {
      if (head !== undefined || remaining > 0)
        fail(new Error(`GET ${path}: the connection closed before the body's end`));
    });
  });
}

/**
 * REQUESTS GETs through each port, taken in batches of BATCH that rotate over the ports: the paths
 * under comparison are measured side by side, so a drift of the machine's speed (by a third over
 * minutes on a shared VM) lands on all of them alike instead of on whichever ran in a slow minute.
 */
async function latency(
  ports: readonly number[],
  requests: number,
  concurrency: number,
  batch: number,
): Promise<number[][]> {
  for (const port of ports) await fetchOnce(port, '/'); // warm up
  const samples = ports.map((): number[] => []);
  while (samples.some((taken) => taken.length < requests)) {
    for (const [index, port] of ports.entries()) {
      const taken = samples[index]!;
      const target = Math.min(requests, taken.length + batch);
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (taken.length < target) {
            const slot = taken.push(Number.NaN) - 1;
            taken[slot] = (await fetchOnce(port, '/')).ms;
          }
        }),
      );
    }
  }
  return samples;
}

const [mode, portText = '', ...rest] = process.argv.slice(2);
try {
  if (mode === 'latency') {
    const ports = portText.split(',').map(Number);
    const [requests, concurrency, batch] = rest.map(Number);
    console.log(JSON.stringify({ samples: await latency(ports, requests!, concurrency!, batch!) }));
  } else if (mode === 'download') {
    console.log(JSON.stringify(await fetchOnce(Number(portText), rest[0] ?? '/')));
  } else {
    throw new Error(
      "expected 'latency PORT[,PORT...] REQUESTS CONCURRENCY BATCH' or 'download PORT PATH', " +
        `got '${process.argv.slice(2).join(' ')}'`,
    );
  }
} catch (error) {
  console.error(`bench-load: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
