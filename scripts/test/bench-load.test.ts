import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { runLoad } from '../lib/bench-emulator.js';

/**
 * A raw HTTP/1.1 server for the load to measure: answers every request on a connection in turn,
 * says `Connection: close` and closes after `perConnection` responses (as nginx does after
 * keepalive_requests), and counts connections and requests.
 */
async function httpServer(options: { perConnection: number; status?: string }): Promise<{
  port: number;
  connections: () => number;
  requests: () => number;
  close(): Promise<void>;
}> {
  let connections = 0;
  let requests = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let buffered = '';
    let answered = 0;
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        buffered = buffered.slice(end + 4);
        requests++;
        answered++;
        const last = answered >= options.perConnection;
        const body = 'hello';
        socket.write(
          `HTTP/1.1 ${options.status ?? '200 OK'}\r\nContent-Length: ${body.length}\r\n` +
            `Connection: ${last ? 'close' : 'keep-alive'}\r\n\r\n${body}`,
        );
        if (last) socket.end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

it('times GETs on kept-alive connections, opening another when the server closes one', async () => {
  const server = await httpServer({ perConnection: 4 });
  try {
    const { samples } = await runLoad<{ samples: number[][] }>(['latency', 'open', server.port, 10, 1, 3]);
    expect(samples).toHaveLength(1);
    expect(samples[0]).toHaveLength(10);
    for (const ms of samples[0]!) expect(ms).toBeGreaterThan(0);
    // 1 warm-up and 10 timed requests, 4 to a connection: 3 connections, none wasted.
    expect(server.requests()).toBe(11);
    expect(server.connections()).toBe(3);
  } finally {
    await server.close();
  }
}, 60_000);

it('times GETs on new connections, one connection each, and starts only when told', async () => {
  const server = await httpServer({ perConnection: 100 });
  try {
    let requestsBeforeStart: number | undefined;
    const { samples } = await runLoad<{ samples: number[][] }>(['latency', 'new', server.port, 10, 2, 5], {
      beforeStart: () => (requestsBeforeStart = server.requests()),
    });
    // The benchmark samples its CPU figures there: the load is up and has sent nothing yet.
    expect(requestsBeforeStart).toBe(0);
    expect(samples[0]).toHaveLength(10);
    // A warm-up per request in flight, then one connection per GET.
    expect(server.requests()).toBe(12);
    expect(server.connections()).toBe(12);
  } finally {
    await server.close();
  }
}, 60_000);

it('fails with what it got when a response is not a 200 with a Content-Length', async () => {
  const server = await httpServer({ perConnection: 100, status: '404 Not Found' });
  try {
    await expect(runLoad(['latency', 'open', server.port, 5, 1, 5])).rejects.toThrow(
      /expected 200 with a Content-Length, got 'HTTP\/1\.1 404 Not Found'/,
    );
  } finally {
    await server.close();
  }
}, 60_000);

it('refuses a latency series that is neither new nor open connections', async () => {
  await expect(runLoad(['latency', 'reused', 80, 5, 1, 5])).rejects.toThrow(
    /expected 'latency new\|open PORT\[,PORT\.\.\.\] REQUESTS CONCURRENCY BATCH'.*got 'reused 80 5 1 5'/,
  );
}, 60_000);
