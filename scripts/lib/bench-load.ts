/**
 * The load of `npm run bench:forward`, in a process of its own as a browser or curl would be: the
 * engine under test then spends its process (and its CPU figure) on forwarding alone, and the
 * native engine, which runs in the benchmark's process, competes with the load no more than the
 * plugin, which runs in its own. Prints one JSON line and exits.
 *
 *   tsx scripts/lib/bench-load.ts latency PORT REQUESTS CONCURRENCY   → {"samples":[ms...]}
 *   tsx scripts/lib/bench-load.ts download PORT PATH                  → {"bytes":N,"ms":N,"digest":"hex"}
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

async function latency(port: number, requests: number, concurrency: number): Promise<number[]> {
  await fetchOnce(port, '/'); // warm up
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
  return samples;
}

const [mode, portText, ...rest] = process.argv.slice(2);
const port = Number(portText);
try {
  if (mode === 'latency') {
    console.log(JSON.stringify({ samples: await latency(port, Number(rest[0]), Number(rest[1])) }));
  } else if (mode === 'download') {
    console.log(JSON.stringify(await fetchOnce(port, rest[0] ?? '/')));
  } else {
    throw new Error(
      `expected 'latency PORT REQUESTS CONCURRENCY' or 'download PORT PATH', got '${process.argv.slice(2).join(' ')}'`,
    );
  }
} catch (error) {
  console.error(`bench-load: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
