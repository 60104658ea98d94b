/**
 * The load of `npm run bench:forward`, in a process of its own as a browser or curl would be: the
 * engine under test then spends its process (and its CPU figure) on forwarding alone, and the
 * native engine, which runs in the benchmark's process, competes with the load no more than the
 * plugin, which runs in its own. Prints `ready`, waits for `start` on standard input, then prints
 * one JSON line and exits.
 *
 *   tsx scripts/lib/bench-load.ts latency new|open PORT[,PORT...] REQUESTS CONCURRENCY BATCH
 *       → {"samples":[[ms...] per port]}
 *   tsx scripts/lib/bench-load.ts download PORT PATH → {"bytes":N,"ms":N,"digest":"hex"}
 *
 * Two latencies, because a forward carries both: `new` opens a connection per GET (curl in a loop,
 * a health check), so each sample includes the tunnel's connection set-up through every process;
 * `open` sends each GET on a kept-alive connection (a browser, an HTTP client's pool), so each
 * sample is one request's round trip through the data channel alone.
 */
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { LOAD_READY, LOAD_START } from './bench-load-protocol.js';

interface Fetched {
  readonly bytes: number;
  readonly ms: number;
  readonly digest: string;
}

/**
 * Reads HTTP/1.1 responses off a socket's chunks: the head, then a body of Content-Length bytes.
 * A plain parser rather than node:http: its client cost more per request than the tunnel under
 * test, and that cost would be the same on every row.
 */
class ResponseReader {
  private head: Buffer | undefined = Buffer.alloc(0);
  private remaining = 0;
  private bytes = 0;
  private hash: Hash | undefined;
  /** Whether the server said it closes the connection after this response. */
  closing = false;

  constructor(
    private readonly label: string,
    private readonly digest: boolean,
  ) {
    this.hash = digest ? createHash('sha256') : undefined;
  }

  get inBody(): boolean {
    return this.head === undefined;
  }

  /** Takes a chunk; returns the body's byte count and digest once the body ends, and what follows it. */
  push(chunk: Buffer): { bytes: number; digest: string; rest: Buffer } | undefined {
    if (this.head !== undefined) {
      this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const headers = this.head.subarray(0, end).toString('latin1');
      chunk = this.head.subarray(end + 4);
      this.head = undefined;
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(headers)?.[1];
      const length = /\r\ncontent-length: *(\d+)/i.exec(headers)?.[1];
      if (status !== '200' || length === undefined)
        throw new Error(`${this.label}: expected 200 with a Content-Length, got '${headers.split('\r\n')[0]}'`);
      this.closing = /\r\nconnection: *close/i.test(headers);
      this.remaining = Number(length);
    }
    const part = chunk.subarray(0, this.remaining);
    this.hash?.update(part);
    this.bytes += part.length;
    this.remaining -= part.length;
    if (this.remaining > 0) return undefined;
    return { bytes: this.bytes, digest: this.hash?.digest('hex') ?? '', rest: chunk.subarray(part.length) };
  }

  /** Ready for the next response on the same connection. */
  reset(): void {
    this.head = Buffer.alloc(0);
    this.bytes = 0;
    this.hash = this.digest ? createHash('sha256') : undefined;
  }
}

/** A loopback connection with Nagle off, and a 120 s limit from its opening or the last refresh. */
function openSocket(port: number, label: string): { socket: Socket; clear(): void; refresh(): void } {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const timer = setTimeout(() => socket.destroy(new Error(`${label} timed out after 120 s`)), 120_000);
  return { socket, clear: () => clearTimeout(timer), refresh: () => void timer.refresh() };
}

/** One GET on a new connection (as a forwarded client opens one), timed from connect to the last byte of the body. */
function fetchOnce(port: number, path: string): Promise<Fetched> {
  const started = process.hrtime.bigint();
  const label = `GET ${path} on port ${port}`;
  return new Promise((resolve, reject) => {
    const { socket, clear } = openSocket(port, label);
    const reader = new ResponseReader(label, true);
    const fail = (error: Error): void => {
      clear();
      socket.destroy();
      reject(error);
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        const done = reader.push(chunk);
        if (!done) return;
        clear();
        socket.destroy();
        resolve({ bytes: done.bytes, ms: Number(process.hrtime.bigint() - started) / 1e6, digest: done.digest });
      } catch (error) {
        fail(error as Error);
      }
    });
    socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    socket.once('error', fail);
    socket.once('end', () => fail(new Error(`${label}: the connection closed before the body's end`)));
  });
}

/**
 * A kept-alive connection for GET /, each timed from the request's write to the last byte of its
 * body. When the server closes it (nginx after `keepalive_requests`), the next GET opens another
 * before its clock starts: only round trips on an open connection are measured.
 */
class KeptAlive {
  private socket: Socket | undefined;
  private timer = { clear: (): void => undefined, refresh: (): void => undefined };
  private pending: { started: bigint; resolve(ms: number): void; reject(error: Error): void } | undefined;
  private readonly reader: ResponseReader;
  private readonly label: string;

  constructor(private readonly port: number) {
    this.label = `GET / on a kept-alive connection to port ${port}`;
    this.reader = new ResponseReader(this.label, false);
  }

  async get(): Promise<number> {
    const socket = this.socket ?? (await this.open());
    return new Promise((resolve, reject) => {
      this.timer.refresh(); // the limit is per request, however long the connection lives
      this.pending = { started: process.hrtime.bigint(), resolve, reject };
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    });
  }

  close(): void {
    this.timer.clear();
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const opened = openSocket(this.port, this.label);
      const { socket, clear } = opened;
      const fail = (error: Error): void => {
        clear();
        socket.destroy();
        if (this.socket === socket) this.socket = undefined;
        const pending = this.pending;
        this.pending = undefined;
        (pending?.reject ?? reject)(error);
      };
      socket.on('data', (chunk: Buffer) => {
        try {
          const done = this.reader.push(chunk);
          if (!done) return;
          if (done.rest.length > 0) throw new Error(`${this.label}: bytes after the response that nothing asked for`);
          const pending = this.pending;
          if (!pending) throw new Error(`${this.label}: a response that nothing asked for`);
          this.pending = undefined;
          if (this.reader.closing) this.close();
          this.reader.reset();
          pending.resolve(Number(process.hrtime.bigint() - pending.started) / 1e6);
        } catch (error) {
          fail(error as Error);
        }
      });
      socket.once('error', fail);
      socket.once('end', () => {
        if (this.pending || this.reader.inBody) fail(new Error(`${this.label}: the connection closed mid-response`));
        else if (this.socket === socket) this.close();
      });
      socket.once('connect', () => {
        this.socket = socket;
        this.timer = opened;
        resolve(socket);
      });
    });
  }
}

/**
 * REQUESTS GETs through each port, taken in batches of BATCH that rotate over the ports: the paths
 * under comparison are measured side by side, so a drift of the machine's speed (by a third over
 * minutes on a shared VM) lands on all of them alike instead of on whichever ran in a slow minute.
 */
async function latency(
  connections: 'new' | 'open',
  ports: readonly number[],
  requests: number,
  concurrency: number,
  batch: number,
): Promise<number[][]> {
  // One kept-alive connection per request in flight, per port.
  const pools = ports.map((port) => Array.from({ length: concurrency }, () => new KeptAlive(port)));
  const timed = (index: number, worker: number): Promise<number> =>
    connections === 'open' ? pools[index]![worker]!.get() : fetchOnce(ports[index]!, '/').then((got) => got.ms);
  try {
    for (const index of ports.keys()) for (let worker = 0; worker < concurrency; worker++) await timed(index, worker); // warm up
    const samples = ports.map((): number[] => []);
    while (samples.some((taken) => taken.length < requests)) {
      for (const index of ports.keys()) {
        const taken = samples[index]!;
        const target = Math.min(requests, taken.length + batch);
        await Promise.all(
          Array.from({ length: concurrency }, async (_, worker) => {
            while (taken.length < target) {
              const slot = taken.push(Number.NaN) - 1;
              taken[slot] = await timed(index, worker);
            }
          }),
        );
      }
    }
    return samples;
  } finally {
    for (const pool of pools) for (const connection of pool) connection.close();
  }
}

const USAGE = "expected 'latency new|open PORT[,PORT...] REQUESTS CONCURRENCY BATCH' or 'download PORT PATH'";
const [mode, ...rest] = process.argv.slice(2);
try {
  // Ready, then wait for the word to start: the benchmark samples its CPU figures in between.
  console.log(LOAD_READY);
  const [line] = (await once(createInterface({ input: process.stdin }), 'line')) as [string];
  if (line !== LOAD_START) throw new Error(`expected '${LOAD_START}' on standard input, got '${line}'`);
  if (mode === 'latency') {
    const [connections, portText = '', ...counts] = rest;
    if (connections !== 'new' && connections !== 'open') throw new Error(`${USAGE}, got '${rest.join(' ')}'`);
    const ports = portText.split(',').map(Number);
    const [requests, concurrency, batch] = counts.map(Number);
    console.log(JSON.stringify({ samples: await latency(connections, ports, requests!, concurrency!, batch!) }));
  } else if (mode === 'download') {
    console.log(JSON.stringify(await fetchOnce(Number(rest[0]), rest[1] ?? '/')));
  } else {
    throw new Error(`${USAGE}, got '${process.argv.slice(2).join(' ')}'`);
  }
} catch (error) {
  console.error(`bench-load: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
