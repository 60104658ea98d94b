import { jest } from '@jest/globals';
import {
  MessageType,
  PayloadType,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  type ClientMessage,
} from '../../src/ssm/codec.js';
import { RTO, ReliableChannel } from '../../src/ssm/reliable-channel.js';

/** A peer's output_stream_data message. */
const peer = (sequenceNumber: number, text = `m${sequenceNumber}`): Buffer =>
  encodeMessage({
    messageType: MessageType.OutputStreamData,
    sequenceNumber: BigInt(sequenceNumber),
    payloadType: PayloadType.Output,
    payload: Buffer.from(text),
  });

function channel(options: { ready?: () => boolean; maxUnacked?: number; now?: () => number } = {}) {
  const delivered: string[] = [];
  const sent: ClientMessage[] = [];
  const ch = new ReliableChannel({
    sendType: MessageType.InputStreamData,
    onMessage: (message) => {
      if (options.ready && !options.ready()) return false;
      delivered.push(message.payload.toString());
      return true;
    },
    maxUnacked: options.maxUnacked,
    now: options.now,
    tickMs: 5,
  });
  ch.attach({ send: (frame) => sent.push(decodeMessage(frame)) });
  const acks = () =>
    sent
      .filter((m) => m.messageType === 'acknowledge')
      .map((m) => JSON.parse(m.payload.toString()).AcknowledgedMessageSequenceNumber);
  const data = () => sent.filter((m) => m.messageType === 'input_stream_data');
  return { ch, delivered, sent, acks, data };
}

describe('ReliableChannel receiving', () => {
  it('delivers in order and acks each message', () => {
    const { ch, delivered, acks } = channel();
    ch.receive(peer(0));
    ch.receive(peer(1));
    expect(delivered).toEqual(['m0', 'm1']);
    expect(acks()).toEqual([0, 1]);
    ch.close();
  });

  it('acks early messages at once, buffers them, and delivers them when the gap fills', () => {
    const { ch, delivered, acks } = channel();
    ch.receive(peer(2));
    ch.receive(peer(1));
    expect(delivered).toEqual([]);
    ch.receive(peer(0));
    expect(delivered).toEqual(['m0', 'm1', 'm2']);
    expect(acks()).toEqual([2, 1, 0]);
    ch.close();
  });

  it('re-acks duplicates without delivering them again', () => {
    const { ch, delivered, acks } = channel();
    ch.receive(peer(0));
    ch.receive(peer(0));
    expect(delivered).toEqual(['m0']);
    expect(acks()).toEqual([0, 0]);
    expect(ch.stats.duplicates).toBe(1);
    ch.close();
  });

  it('neither acks nor consumes a message the handler is not ready for (the peer resends it)', () => {
    let ready = false;
    const { ch, delivered, acks } = channel({ ready: () => ready });
    ch.receive(peer(0));
    expect(acks()).toEqual([]);
    ready = true;
    ch.receive(peer(0));
    expect(delivered).toEqual(['m0']);
    expect(acks()).toEqual([0]);
    ch.close();
  });

  it('drops corrupted frames without acking them, and ignores unknown types', () => {
    const { ch, acks } = channel();
    const bad = peer(0);
    bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 0xff, bad.length - 1);
    ch.receive(bad);
    ch.receive(encodeMessage({ messageType: 'agent_session_state', payload: Buffer.from('{}') }));
    expect(acks()).toEqual([]);
    expect(ch.stats.dropped).toBe(1);
    ch.close();
  });

  it('surfaces channel_closed with its Output', () => {
    const { ch } = channel();
    const closed = jest.fn();
    ch.on('closed', closed);
    ch.receive(
      encodeMessage({
        messageType: MessageType.ChannelClosed,
        payload: Buffer.from(JSON.stringify({ Output: 'bye' })),
      }),
    );
    expect(closed).toHaveBeenCalledWith({ Output: 'bye' });
    ch.close();
  });
});

describe('ReliableChannel sending', () => {
  it('numbers from 0, marks the first message SYN, and buffers before sending (an immediate ack is not lost)', () => {
    const sent: ClientMessage[] = [];
    const ch: ReliableChannel = new ReliableChannel({
      sendType: MessageType.InputStreamData,
      onMessage: () => true,
      tickMs: 5,
    });
    ch.attach({
      send: (frame) => {
        const message = decodeMessage(frame);
        sent.push(message);
        // The peer acknowledges before send() returns, as on a fast link.
        if (message.messageType === 'input_stream_data') queueMicrotask(() => ch.receive(encodeAcknowledge(message)));
      },
    });
    expect(ch.send(PayloadType.Output, Buffer.from('a'))).toBe(0n);
    expect(ch.send(PayloadType.Output, Buffer.from('b'))).toBe(1n);
    expect(sent.map((m) => [m.sequenceNumber, m.flags])).toEqual([
      [0n, 1n],
      [1n, 0n],
    ]);
    return Promise.resolve().then(() => {
      expect(ch.unacked).toBe(0);
      ch.close();
    });
  });

  it('resends unacked messages after the RTO, and keeps them across a change of transport', async () => {
    const { ch, data } = channel();
    ch.send(PayloadType.Output, Buffer.from('x'));
    await new Promise((resolve) => setTimeout(resolve, RTO.initialMs + 60));
    expect(data().length).toBeGreaterThanOrEqual(2);
    expect(data().every((m) => m.sequenceNumber === 0n)).toBe(true);
    ch.detach();
    const second: ClientMessage[] = [];
    ch.attach({ send: (frame) => second.push(decodeMessage(frame)) });
    expect(second.map((m) => m.sequenceNumber)).toEqual([0n]);
    ch.close();
  });

  it('adapts the RTO to measured round trips, within 200 ms-1 s bounds', () => {
    let now = 0;
    const { ch, data } = channel({ now: () => now });
    for (let i = 0; i < 20; i++) {
      ch.send(PayloadType.Output, Buffer.from('x'));
      now += 5;
      ch.receive(encodeAcknowledge(data().at(-1)!));
    }
    expect(ch.currentRto).toBeLessThan(RTO.initialMs);
    for (let i = 0; i < 40; i++) {
      ch.send(PayloadType.Output, Buffer.from('y'));
      now += 5000;
      ch.receive(encodeAcknowledge(data().at(-1)!));
    }
    expect(ch.currentRto).toBe(RTO.maxMs);
    ch.close();
  });

  it('reports backpressure when the unacked window is full and drains when acks arrive', () => {
    const { ch, data } = channel({ maxUnacked: 3 });
    const drained = jest.fn();
    ch.on('drain', drained);
    for (let i = 0; i < 3; i++) ch.send(PayloadType.Output, Buffer.from('z'));
    expect(ch.writable).toBe(false);
    ch.receive(encodeAcknowledge(data()[0]!));
    expect(ch.writable).toBe(true);
    expect(drained).toHaveBeenCalledTimes(1);
    ch.close();
  });

  it('holds sending while publication is paused and resends on start_publication', () => {
    const { ch, data } = channel();
    ch.receive(encodeMessage({ messageType: MessageType.PausePublication }));
    ch.send(PayloadType.Output, Buffer.from('p'));
    expect(data()).toHaveLength(0);
    ch.receive(encodeMessage({ messageType: MessageType.StartPublication }));
    expect(data()).toHaveLength(1);
    ch.close();
  });
});
