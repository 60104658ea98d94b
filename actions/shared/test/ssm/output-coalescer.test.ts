import { OutputCoalescer } from '../../src/ssm/output-coalescer.js';

/** Resolves after the callbacks queued with process.nextTick so far have run. */
const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

function coalescer(maxPayload = 1024) {
  const sent: Buffer[] = [];
  const output = new OutputCoalescer((payload) => sent.push(payload), maxPayload);
  return { output, sent };
}

describe('OutputCoalescer', () => {
  it('sends the small writes of one callback as one message, in order, after the current tick', async () => {
    const { output, sent } = coalescer();
    output.write(Buffer.from('SYN.'));
    output.write(Buffer.from('PSH:'));
    output.write(Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    expect(sent).toHaveLength(0);
    expect(output.buffered).toBe(4 + 4 + 18);
    await nextTick();
    expect(sent.map((payload) => payload.toString())).toEqual(['SYN.PSH:GET / HTTP/1.0\r\n\r\n']);
    expect(output.buffered).toBe(0);
  });

  it('sends full messages at once and the remainder after the tick', async () => {
    const { output, sent } = coalescer(1024);
    const bytes = Buffer.from(Array.from({ length: 2500 }, (_, index) => index % 251));
    output.write(bytes.subarray(0, 1000));
    expect(sent).toHaveLength(0);
    output.write(bytes.subarray(1000));
    expect(sent.map((payload) => payload.length)).toEqual([1024, 1024]);
    expect(output.buffered).toBe(452);
    await nextTick();
    expect(sent.map((payload) => payload.length)).toEqual([1024, 1024, 452]);
    expect(Buffer.concat(sent)).toEqual(bytes);
  });

  it('flush() sends what waits at once, and the tick then sends nothing more', async () => {
    const { output, sent } = coalescer();
    output.write(Buffer.from('abc'));
    output.write(Buffer.from('def'));
    output.flush();
    expect(sent.map((payload) => payload.toString())).toEqual(['abcdef']);
    expect(output.buffered).toBe(0);
    await nextTick();
    expect(sent).toHaveLength(1);
  });

  it('clear() forgets what waits', async () => {
    const { output, sent } = coalescer();
    output.write(Buffer.from('lost'));
    output.clear();
    expect(output.buffered).toBe(0);
    await nextTick();
    output.flush();
    expect(sent).toHaveLength(0);
    // Writing goes on working after a clear.
    output.write(Buffer.from('next'));
    await nextTick();
    expect(sent.map((payload) => payload.toString())).toEqual(['next']);
  });

  it('hands out a view of the written chunk when it holds the next message', async () => {
    const { output, sent } = coalescer(1024);
    const chunk = Buffer.alloc(3000, 7);
    output.write(chunk);
    expect(sent).toHaveLength(2);
    await nextTick();
    expect(sent.map((payload) => payload.length)).toEqual([1024, 1024, 952]);
    for (const payload of sent) expect(payload.buffer).toBe(chunk.buffer);
    expect(sent.map((payload) => payload.byteOffset - chunk.byteOffset)).toEqual([0, 1024, 2048]);

    // A chunk of exactly one message is sent as it is.
    const { output: exact, sent: exactSent } = coalescer(1024);
    const whole = Buffer.alloc(1024, 1);
    exact.write(whole);
    expect(exactSent[0]).toBe(whole);
  });
});
