import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

function channel(
  options: { ready?: (message: ClientMessage) => boolean; maxUnacked?: number; now?: () => number } = {},
) {
  const delivered: string[] = [];
  const sent: ClientMessage[] = [];
  const ch = new ReliableChannel({
    sendType: MessageType.InputStreamData,
    onMessage: (message) => {
      if (options.ready && !options.ready(message)) return false;
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

  it('delivers a held message the handler refused once the handler is ready, though the peer never resends it', async () => {
    // Basic mode: Output is refused until a local connection exists. Message 1 came ahead of order,
    // so it was acked and held; when 0 fills the gap, 1 is refused, and the peer (holding our ack)
    // will not send it again.
    let connected = false;
    const { ch, delivered, acks } = channel({ ready: (message) => connected || message.payload.toString() === 'm0' });
    ch.receive(peer(1));
    ch.receive(peer(0));
    expect(acks()).toEqual([1, 0]);
    expect(delivered).toEqual(['m0']);
    connected = true;
    await waitUntil('the held message to be delivered', () => delivered.length === 2, 1000);
    ch.receive(peer(2));
    expect(delivered).toEqual(['m0', 'm1', 'm2']);
    ch.close();
  });

  it('retryDelivery() hands a refused held message over at once', () => {
    let connected = false;
    const { ch, delivered } = channel({ ready: (message) => connected || message.payload.toString() === 'm0' });
    ch.receive(peer(1));
    ch.receive(peer(0));
    connected = true;
    ch.retryDelivery();
    expect(delivered).toEqual(['m0', 'm1']);
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

describe('ReliableChannel in-flight window', () => {
  it("never puts more messages past a lost one on the wire than the peer's reorder buffer holds", async () => {
    let now = 0;
    const received: bigint[] = [];
    const receiver = new ReliableChannel({
      sendType: MessageType.OutputStreamData,
      onMessage: (message) => {
        received.push(message.sequenceNumber);
        return true;
      },
      tickMs: 5,
    });
    const sender = new ReliableChannel({
      sendType: MessageType.InputStreamData,
      onMessage: () => true,
      now: () => now,
      tickMs: 5,
    });
    let lost = false;
    sender.attach({
      send: (frame) => {
        if (decodeMessage(frame).sequenceNumber === 5n && !lost)
          lost = true; // lost once on the way
        else receiver.receive(frame);
      },
    });
    receiver.attach({ send: (frame) => sender.receive(frame) });
    const drained = jest.fn();
    sender.on('drain', drained);

    let written = 0;
    while (sender.writable && written < 20_000) {
      sender.send(PayloadType.Output, Buffer.from('x'));
      written++;
    }
    // Everything but message 5 is acked at once, so only the span from the lost message bounds it.
    expect(written).toBe(5 + 10_000);
    expect(sender.unacked).toBe(1);
    expect(receiver.stats.reorderFull).toBe(0);
    expect(received).toHaveLength(5);

    now += RTO.maxMs; // message 5 is due for its resend
    await waitUntil('the window to drain', () => drained.mock.calls.length > 0);
    expect(received).toHaveLength(written);
    expect(received.every((sequenceNumber, index) => sequenceNumber === BigInt(index))).toBe(true);
    sender.close();
    receiver.close();
  });

  it('holds messages beyond the window unsent and sends them as the window moves', () => {
    const sent: bigint[] = [];
    const ch = new ReliableChannel({
      sendType: MessageType.InputStreamData,
      onMessage: () => true,
      maxInFlight: 3,
      tickMs: 5,
    });
    const frames: Buffer[] = [];
    ch.attach({
      send: (frame) => {
        frames.push(frame);
        sent.push(decodeMessage(frame).sequenceNumber);
      },
    });
    for (let i = 0; i < 5; i++) ch.send(PayloadType.Output, Buffer.from('w'));
    expect(sent).toEqual([0n, 1n, 2n]);
    expect(ch.writable).toBe(false);
    ch.receive(encodeAcknowledge(decodeMessage(frames[1]!))); // 0 still unacked: the window stays put
    expect(sent).toEqual([0n, 1n, 2n]);
    ch.receive(encodeAcknowledge(decodeMessage(frames[0]!)));
    expect(sent).toEqual([0n, 1n, 2n, 3n, 4n]);
    ch.close();
  });
});

/** A deterministic PRNG (mulberry32), so a failing lossy run can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One direction of a bad network: loses, duplicates and reorders frames (a held frame goes out after
 * up to 8 later ones), and delivers asynchronously in batches, as a socket does.
 */
class LossyLink {
  readonly counts = { lost: 0, duplicated: 0, reordered: 0 };
  private queue: Buffer[] = [];
  private held?: { frame: Buffer; after: number };
  private scheduled = false;

  constructor(
    private readonly deliver: (frame: Buffer) => void,
    private readonly random: () => number,
    private readonly rates = { loss: 0.0005, duplicate: 0.001, reorder: 0.001 },
  ) {}

  send(frame: Buffer): void {
    const roll = this.random();
    if (roll < this.rates.loss) {
      this.counts.lost++;
    } else if (roll < this.rates.loss + this.rates.duplicate) {
      this.counts.duplicated++;
      this.queue.push(frame, frame);
    } else if (roll < this.rates.loss + this.rates.duplicate + this.rates.reorder && !this.held) {
      this.counts.reordered++;
      this.held = { frame, after: 1 + Math.floor(this.random() * 8) };
    } else {
      this.queue.push(frame);
      if (this.held && --this.held.after === 0) this.release();
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.pump());
    }
  }

  private release(): void {
    this.queue.push(this.held!.frame);
    this.held = undefined;
  }

  private pump(): void {
    this.scheduled = false;
    if (this.held) this.release(); // nothing came after it in this batch: let it out late
    const batch = this.queue;
    this.queue = [];
    for (const frame of batch) this.deliver(frame);
  }
}

describe('ReliableChannel over a lossy link', () => {
  it('moves 50 MB each way intact through loss, duplication and reordering', async () => {
    const size = 50 * 1024 * 1024;
    const random = seededRandom(0x5e55);
    const ends = ['a', 'b'].map((name) => {
      const payload = randomBytes(size);
      const hash = createHash('sha256');
      let receivedBytes = 0;
      const channel = new ReliableChannel({
        sendType: name === 'a' ? MessageType.InputStreamData : MessageType.OutputStreamData,
        onMessage: (message) => {
          hash.update(message.payload);
          receivedBytes += message.payload.length;
          return true;
        },
        // A window and reorder buffer of 1,000 (the real ones hold 10,000): at this link's rate a
        // resent message leaves a gap of thousands, so without the bound the peer's buffer overflows.
        reorderCapacity: 1_000,
        maxInFlight: 1_000,
      });
      return {
        channel,
        payload,
        expected: createHash('sha256').update(payload).digest('hex'),
        received: () => receivedBytes,
        digest: () => hash.digest('hex'),
      };
    });
    const [a, b] = ends as [(typeof ends)[0], (typeof ends)[0]];
    const toB = new LossyLink((frame) => b.channel.receive(frame), random);
    const toA = new LossyLink((frame) => a.channel.receive(frame), random);
    a.channel.attach(toB);
    b.channel.attach(toA);

    const write = async (channel: ReliableChannel, payload: Buffer): Promise<void> => {
      for (let offset = 0; offset < payload.length; offset += 1024) {
        if (!channel.writable) await once(channel, 'drain');
        channel.send(PayloadType.Output, payload.subarray(offset, offset + 1024));
      }
    };
    const started = Date.now();
    await Promise.all([write(a.channel, a.payload), write(b.channel, b.payload)]);
    await waitUntil('both transfers to complete', () => a.received() === size && b.received() === size, 30_000);
    const elapsed = Date.now() - started;

    expect(b.digest()).toBe(a.expected);
    expect(a.digest()).toBe(b.expected);
    // The link did its worst, and the channels recovered without overflowing a reorder buffer.
    expect(toB.counts.lost + toA.counts.lost).toBeGreaterThan(20);
    expect(toB.counts.duplicated + toA.counts.duplicated).toBeGreaterThan(20);
    expect(toB.counts.reordered + toA.counts.reordered).toBeGreaterThan(20);
    expect(a.channel.stats.resent + b.channel.stats.resent).toBeGreaterThan(0);
    expect(a.channel.stats.reorderFull + b.channel.stats.reorderFull).toBe(0);
    expect(elapsed).toBeLessThan(20_000);
    a.channel.close();
    b.channel.close();
  }, 60_000);
});

describe('ReliableChannel with delayed acknowledgements (ackDelayMs)', () => {
  /**
   * A channel whose sink records each frame with its batch: frames sent in one synchronous run (no
   * microtask or other callback between them) share a batch number.
   */
  function delayed(ackDelayMs: number) {
    const sent: Array<{ message: ClientMessage; batch: number }> = [];
    let batch = 0;
    let batchOpen = false;
    const sink = {
      send: (frame: Buffer) => {
        if (!batchOpen) {
          batchOpen = true;
          batch++;
          queueMicrotask(() => (batchOpen = false));
        }
        sent.push({ message: decodeMessage(frame), batch });
      },
    };
    const ch = new ReliableChannel({
      sendType: MessageType.InputStreamData,
      onMessage: () => true,
      ackDelayMs,
      tickMs: 5,
    });
    ch.attach(sink);
    const acks = () => sent.filter((entry) => entry.message.messageType === 'acknowledge');
    const ackedSequences = () =>
      acks().map((entry) => JSON.parse(entry.message.payload.toString()).AcknowledgedMessageSequenceNumber);
    return { ch, sent, acks, ackedSequences };
  }

  it('holds the acks of received messages and sends them together after the delay', async () => {
    const { ch, acks, ackedSequences } = delayed(20);
    const started = Date.now();
    ch.receive(peer(0));
    ch.receive(peer(1));
    ch.receive(peer(2));
    expect(acks()).toHaveLength(0);
    await sleep(5);
    expect(acks()).toHaveLength(0);
    await waitUntil('the delayed acks', () => acks().length > 0, 1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    expect(ackedSequences()).toEqual([0, 1, 2]);
    // All three in one batch: one timer sent them, one after the other.
    expect(new Set(acks().map((entry) => entry.batch)).size).toBe(1);
    await sleep(40);
    expect(ackedSequences()).toEqual([0, 1, 2]);
    ch.close();
  });

  it('sends a pending ack just before the next message it transmits, in the same call', async () => {
    const { ch, sent } = delayed(1000);
    ch.receive(peer(0));
    expect(sent).toHaveLength(0);
    ch.send(PayloadType.Output, Buffer.from('reply'));
    expect(sent.map((entry) => entry.message.messageType)).toEqual(['acknowledge', 'input_stream_data']);
    expect(JSON.parse(sent[0]!.message.payload.toString()).AcknowledgedMessageSequenceNumber).toBe(0);
    expect(sent[0]!.batch).toBe(sent[1]!.batch);
    // The ack left with the message: nothing is left for the timer to send.
    await sleep(30);
    expect(sent.filter((entry) => entry.message.messageType === 'acknowledge')).toHaveLength(1);
    ch.close();
  });

  it('close() drops the pending acks and their timer', async () => {
    const { ch, sent } = delayed(20);
    ch.receive(peer(0));
    ch.receive(peer(1));
    ch.close();
    await sleep(60);
    expect(sent).toHaveLength(0);
    // Even on a transport attached later, neither the timer nor the next message sends them.
    const later: ClientMessage[] = [];
    ch.attach({ send: (frame) => later.push(decodeMessage(frame)) });
    await sleep(60);
    expect(later).toHaveLength(0);
    ch.send(PayloadType.Output, Buffer.from('after'));
    expect(later.map((message) => message.messageType)).toEqual(['input_stream_data']);
    ch.close();
  });

  it('close() leaves no timer behind', () => {
    jest.useFakeTimers();
    try {
      const { ch } = delayed(20);
      ch.receive(peer(0));
      expect(jest.getTimerCount()).toBe(2); // the resend tick and the ack delay
      ch.close();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('acks at once without the option (the default)', () => {
    const { ch, acks } = channel();
    ch.receive(peer(0));
    expect(acks()).toEqual([0]);
    ch.close();
  });
});
