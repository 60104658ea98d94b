import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { startRelay, type Relay } from '../lib/bench-relay.js';

let echo: Server;
let relay: Relay | undefined;

beforeAll(async () => {
  // An echo server that upper-cases, so a relay that answered by itself would be seen.
  echo = createServer((socket) => socket.on('data', (chunk: Buffer) => socket.write(chunk.toString().toUpperCase())));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
});

afterEach(async () => {
  await relay?.stop();
  relay = undefined;
});

afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

async function roundTrip(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(text);
  const [reply] = (await once(socket, 'data')) as [Buffer];
  socket.destroy();
  return reply.toString();
}

it("carries a connection's bytes both ways to its target", async () => {
  relay = await startRelay((echo.address() as AddressInfo).port);
  expect(relay.port).not.toBe((echo.address() as AddressInfo).port);
  await expect(roundTrip(relay.port, 'through the relay')).resolves.toBe('THROUGH THE RELAY');
  await expect(roundTrip(relay.port, 'and again')).resolves.toBe('AND AGAIN');
});

it('closes the connections it carries and its port when stopped', async () => {
  relay = await startRelay((echo.address() as AddressInfo).port);
  const socket = connect(relay.port, '127.0.0.1');
  socket.on('error', () => undefined); // a reset is as good as a close here
  await once(socket, 'connect');
  const closed = once(socket, 'close');
  const port = relay.port;
  await relay.stop();
  relay = undefined;
  await closed;
  const refused = connect(port, '127.0.0.1');
  const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  expect(error.code).toBe('ECONNREFUSED');
});

it('ends the connection when its target refuses', async () => {
  const unused = createServer();
  unused.listen(0, '127.0.0.1');
  await once(unused, 'listening');
  const deadPort = (unused.address() as AddressInfo).port;
  await new Promise<void>((resolve) => unused.close(() => resolve()));
  relay = await startRelay(deadPort);
  const socket = connect(relay.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'close');
  expect(socket.bytesRead).toBe(0);
});
