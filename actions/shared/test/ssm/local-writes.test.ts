import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { jest } from '@jest/globals';
import { writeBatched } from '../../src/ssm/local-writes.js';

/** A loopback connection: the accepted socket (written to) and the client (read from). */
async function socketPair(): Promise<{ server: Server; accepted: Socket; client: Socket }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  return { server, accepted: (await accepted)[0], client };
}

const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

describe('writeBatched', () => {
  let pair: Awaited<ReturnType<typeof socketPair>>;

  beforeEach(async () => {
    pair = await socketPair();
  });

  afterEach(async () => {
    pair.client.destroy();
    pair.accepted.destroy();
    await new Promise((resolve) => pair.server.close(resolve));
  });

  it('hands the writes of one callback to the socket as one write, after the callback', async () => {
    const { accepted, client } = pair;
    const write = jest.spyOn(accepted, '_write');
    // The chunks of each writev, read when it is called (the stream reuses its buffer list).
    const batches: string[][] = [];
    const original = accepted._writev!.bind(accepted);
    const writev = jest.spyOn(accepted, '_writev');
    writev.mockImplementation((chunks, callback) => {
      batches.push(chunks.map(({ chunk }) => String(chunk)));
      original(chunks, callback);
    });
    const received: Buffer[] = [];
    client.on('data', (chunk: Buffer) => received.push(chunk));

    writeBatched(accepted, Buffer.from('first,'));
    writeBatched(accepted, Buffer.from('second,'));
    writeBatched(accepted, Buffer.from('third'));
    expect(accepted.writableCorked).toBe(1);
    expect(write).not.toHaveBeenCalled();
    expect(writev).not.toHaveBeenCalled();

    await nextTick();
    expect(accepted.writableCorked).toBe(0);
    expect(write).not.toHaveBeenCalled();
    expect(writev).toHaveBeenCalledTimes(1);
    expect(batches).toEqual([['first,', 'second,', 'third']]);

    const deadline = Date.now() + 2000;
    while (Buffer.concat(received).length < 18 && Date.now() < deadline) await once(client, 'data');
    expect(Buffer.concat(received).toString()).toBe('first,second,third');
  });
});
