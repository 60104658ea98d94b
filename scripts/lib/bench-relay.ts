/**
 * The relay row of `npm run bench:forward`: plain TCP relays in Node (`socket.pipe`, no protocol at
 * all), one in the benchmark's process where the native client runs and one in a process of its
 * own where the emulator runs. A connection through them crosses the same four processes and
 * wake-ups as one through the native client and the emulator, so their latency is what any Node
 * client through a Node agent pays before it does any work of its own, on the machine at hand.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Relay {
  readonly port: number;
  stop(): Promise<void>;
}

/** A relay on an ephemeral loopback port to 127.0.0.1:targetPort, in this process. */
export async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server: Server = createServer({ noDelay: true }, (inbound) => {
    const outbound = connect({ port: targetPort, host: '127.0.0.1', noDelay: true });
    track(inbound);
    track(outbound);
    // A failure on either side ends both; what the relay carries is the load's to check.
    inbound.once('error', () => outbound.destroy());
    outbound.once('error', () => inbound.destroy());
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
