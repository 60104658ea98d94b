/**
 * The reliable, ordered stream a data channel carries on top of the WebSocket: sequence numbers
 * from 0, an outgoing buffer filled before sending, retransmission on an adaptive timeout, a
 * reorder buffer, acknowledgements (re-sent for duplicates), and two bounds as the only
 * backpressure the protocol has: unacked messages, and the span of sequence numbers in flight (so a
 * lost message never makes the peer's reorder buffer overflow). Both peers use it: the client
 * sends input_stream_data, the agent output_stream_data. State survives a change of transport
 * (ResumeSession).
 */
import { EventEmitter } from 'node:events';
import {
  HeaderFlag,
  MessageFormatError,
  MessageType,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  parseJsonPayload,
  type AcknowledgeContent,
  type ClientMessage,
} from './codec.js';

/** What the channel needs of a WebSocket. */
export interface FrameSink {
  send(frame: Buffer): void;
}

interface Outgoing {
  readonly sequenceNumber: bigint;
  readonly frame: Buffer;
  lastSent: number;
  attempts: number;
}

export interface ReliableChannelOptions {
  /** input_stream_data for a client, output_stream_data for an agent. */
  readonly sendType: string;
  /**
   * Called with each in-order stream message from the peer. Return false when not ready to take it
   * (it is then neither acknowledged nor consumed, and the peer retransmits it).
   */
  readonly onMessage: (message: ClientMessage) => boolean;
  /** Unacked messages above which `writable` turns false. @default 1000 */
  readonly maxUnacked?: number;
  /** Messages held for reordering. @default 10000 */
  readonly reorderCapacity?: number;
  /**
   * The widest span of sequence numbers on the wire: a message is sent only while it is fewer than
   * this many numbers past the oldest unacked one, so the peer's reorder buffer (which holds what
   * arrived after a lost message) never overflows. Past it `writable` turns false and messages wait
   * here. @default 10000 (the plugin's reorder buffer, the smaller of the two peers')
   */
  readonly maxInFlight?: number;
  /** Resends of one message after which the channel gives up ('stalled'). @default 3000 */
  readonly maxResends?: number;
  readonly now?: () => number;
  /** Resend check period. @default 100 ms */
  readonly tickMs?: number;
  /**
   * Mark the first stream message SYN (header flags 1), as the agent does on output_stream_data.
   * The plugin's input_stream_data always carries 0, so a client passes false. @default true
   */
  readonly synOnFirstMessage?: boolean;
  /**
   * How long acknowledgements may wait to leave together, or with the next message sent, like TCP's
   * delayed ACK. Each write on the transport wakes the peer; in a request/response exchange this
   * merges the ack of a response with the FIN that follows it. Keep it far below the peer's
   * retransmission timeout (the agent's RTO is at least 10 ms over the round trip, checked every
   * 100 ms). @default 0: acks leave with the other frames of the current turn of the event loop
   */
  readonly ackDelayMs?: number;
}

export const RTO = { initialMs: 200, minVarianceMs: 10, maxMs: 1000, initialRttMs: 100 } as const;

/**
 * Events: 'drain' (writable again), 'closed' (channel_closed, with its Output), 'stalled' (a message
 * went unacked for maxResends resends), 'pause' / 'resume' (publication paused by the service),
 * 'acked' (the sequence number of a sent message the peer acknowledged, once).
 */
export class ReliableChannel extends EventEmitter {
  private nextSequence = 0n;
  private expected = 0n;
  private readonly outgoing = new Map<bigint, Outgoing>();
  private readonly reorder = new Map<bigint, ClientMessage>();
  private sink?: FrameSink;
  private paused = false;
  private timer?: NodeJS.Timeout;
  private rtt: number = RTO.initialRttMs;
  private rttVariance = 0;
  private rto: number = RTO.initialMs;
  private readonly now: () => number;
  private readonly maxUnacked: number;
  private readonly maxInFlight: bigint;
  /** The first sequence number never transmitted: later ones wait for the in-flight window. */
  private unsentFrom = 0n;
  private wasFull = false;
  private pendingAcks: Buffer[] = [];
  private ackTimer?: NodeJS.Timeout;
  /** Counters for tests and benchmarks; reorderFull counts messages dropped because the reorder buffer was full. */
  readonly stats = {
    sent: 0,
    resent: 0,
    received: 0,
    duplicates: 0,
    reordered: 0,
    reorderFull: 0,
    dropped: 0,
    acksSent: 0,
  };

  constructor(private readonly options: ReliableChannelOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.maxUnacked = options.maxUnacked ?? 1000;
    this.maxInFlight = BigInt(options.maxInFlight ?? 10_000);
  }

  /** Sends over a (new) transport; every unacked message is resent on it at once. */
  attach(sink: FrameSink): void {
    this.sink = sink;
    this.timer ??= setInterval(() => this.tick(), this.options.tickMs ?? 100);
    this.timer.unref?.();
    this.retransmitAll();
  }

  /** Stops sending (the transport is gone); state is kept for a resume. */
  detach(): void {
    this.sink = undefined;
  }

  /** Stops the resend timer for good. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.pendingAcks = [];
    this.sink = undefined;
  }

  /**
   * True while both windows have room (unacked messages, and sequence numbers in flight); when
   * false, stop reading local sockets until 'drain'.
   */
  get writable(): boolean {
    return this.outgoing.size < this.maxUnacked && this.nextSequence - this.oldestUnacked() < this.maxInFlight;
  }

  get unacked(): number {
    return this.outgoing.size;
  }

  get currentRto(): number {
    return this.rto;
  }

  /** Queues one stream message (buffered before it is sent) and returns its sequence number. */
  send(payloadType: number, payload: Buffer): bigint {
    const sequenceNumber = this.nextSequence++;
    const frame = encodeMessage({
      messageType: this.options.sendType,
      sequenceNumber,
      flags: sequenceNumber === 0n && this.options.synOnFirstMessage !== false ? HeaderFlag.Syn : HeaderFlag.None,
      payloadType,
      payload,
    });
    const message: Outgoing = { sequenceNumber, frame, lastSent: 0, attempts: 0 };
    this.outgoing.set(sequenceNumber, message);
    this.transmitNew();
    if (!this.writable) this.wasFull = true;
    return sequenceNumber;
  }

  /**
   * Offers the held in-order messages to onMessage again. A message the handler refused while it sat
   * in the reorder buffer was already acknowledged, so the peer never resends it: without this retry
   * it would stay there and stall the stream. Runs on every tick; call it when the handler becomes
   * ready (e.g. a local connection arrives in basic mode) to deliver at once.
   */
  retryDelivery(): void {
    this.deliverBuffered();
  }

  /** Handles one binary frame from the peer. Malformed frames are dropped (the peer resends). */
  receive(frame: Buffer): void {
    let message: ClientMessage;
    try {
      message = decodeMessage(frame);
    } catch (error) {
      if (error instanceof MessageFormatError) {
        this.stats.dropped++;
        return;
      }
      throw error;
    }
    switch (message.messageType) {
      case MessageType.Acknowledge:
        this.handleAcknowledge(message);
        return;
      case MessageType.ChannelClosed:
        this.emit('closed', parseJsonPayload<{ Output?: string; SessionId?: string }>(message));
        return;
      case MessageType.PausePublication:
        this.paused = true;
        this.emit('pause');
        return;
      case MessageType.StartPublication:
        this.paused = false;
        this.emit('resume');
        this.retransmitAll();
        return;
      case MessageType.InputStreamData:
      case MessageType.OutputStreamData:
        if (message.messageType !== this.options.sendType) this.handleStreamData(message);
        return;
      default:
        return; // unknown types (e.g. agent_session_state) are ignored, as the protocol requires
    }
  }

  private handleStreamData(message: ClientMessage): void {
    this.stats.received++;
    if (message.sequenceNumber < this.expected) {
      this.stats.duplicates++;
      this.acknowledge(message); // re-ack, or the peer resends it forever
      return;
    }
    if (message.sequenceNumber > this.expected) {
      if (this.reorder.has(message.sequenceNumber)) {
        this.stats.duplicates++;
        this.acknowledge(message);
      } else if (this.reorder.size < (this.options.reorderCapacity ?? 10_000)) {
        this.stats.reordered++;
        this.reorder.set(message.sequenceNumber, message);
        this.acknowledge(message);
      } else {
        this.stats.reorderFull++; // not acked: the peer resends it
      }
      return;
    }
    if (!this.options.onMessage(message)) return;
    this.acknowledge(message);
    this.reorder.delete(this.expected); // a copy that arrived ahead, if the peer resent it after our ack was lost
    this.expected++;
    this.deliverBuffered();
  }

  /** Delivers consecutive held messages from `expected` on, until one is missing or refused. */
  private deliverBuffered(): void {
    for (let next = this.reorder.get(this.expected); next; next = this.reorder.get(this.expected)) {
      if (!this.options.onMessage(next)) return;
      this.reorder.delete(this.expected);
      this.expected++;
    }
  }

  private handleAcknowledge(message: ClientMessage): void {
    const content = parseJsonPayload<AcknowledgeContent>(message);
    const sequenceNumber = BigInt(content.AcknowledgedMessageSequenceNumber);
    const acked = this.outgoing.get(sequenceNumber);
    if (!acked) return;
    this.outgoing.delete(sequenceNumber);
    this.emit('acked', sequenceNumber);
    // Karn: only a message sent once gives an unambiguous round-trip time.
    if (acked.attempts === 1) this.updateRto(this.now() - acked.lastSent);
    this.transmitNew(); // the in-flight window may have moved on
    if (this.wasFull && this.writable) {
      this.wasFull = false;
      this.emit('drain');
    }
  }

  private updateRto(sample: number): void {
    this.rttVariance = 0.75 * this.rttVariance + 0.25 * Math.abs(this.rtt - sample);
    this.rtt = 0.875 * this.rtt + 0.125 * sample;
    this.rto = Math.min(RTO.maxMs, this.rtt + Math.max(RTO.minVarianceMs, 4 * this.rttVariance));
  }

  private acknowledge(message: ClientMessage): void {
    this.stats.acksSent++;
    const delay = this.options.ackDelayMs ?? 0;
    if (delay <= 0) {
      this.sink?.send(encodeAcknowledge(message));
      return;
    }
    this.pendingAcks.push(encodeAcknowledge(message));
    if (!this.ackTimer) {
      this.ackTimer = setTimeout(() => this.flushAcks(), delay);
      this.ackTimer.unref?.();
    }
  }

  /** Sends the delayed acknowledgements (lost if the transport is gone: the peer resends, and gets a re-ack). */
  private flushAcks(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.pendingAcks.length === 0) return;
    const acks = this.pendingAcks;
    this.pendingAcks = [];
    for (const frame of acks) this.sink?.send(frame);
  }

  /** The oldest unacked sequence number, or the next one when all are acked (Map keeps insertion order). */
  private oldestUnacked(): bigint {
    for (const sequenceNumber of this.outgoing.keys()) return sequenceNumber;
    return this.nextSequence;
  }

  /** Sends never-sent messages, in order, while they fit in the in-flight window. */
  private transmitNew(): void {
    if (this.unsentFrom >= this.nextSequence || !this.sink || this.paused) return;
    const limit = this.oldestUnacked() + this.maxInFlight;
    while (this.unsentFrom < this.nextSequence && this.unsentFrom < limit) {
      const message = this.outgoing.get(this.unsentFrom++);
      if (message) this.transmit(message);
    }
  }

  /** On a new transport or after a pause: everything sent before goes again, then what waited. */
  private retransmitAll(): void {
    for (const message of this.outgoing.values()) {
      if (message.sequenceNumber >= this.unsentFrom) break;
      this.transmit(message);
    }
    this.transmitNew();
  }

  private transmit(message: Outgoing): void {
    if (!this.sink || this.paused) return;
    this.flushAcks(); // acks ride along with the message
    if (message.attempts > 0) this.stats.resent++;
    else this.stats.sent++;
    message.attempts++;
    message.lastSent = this.now();
    this.sink.send(message.frame);
  }

  private tick(): void {
    this.deliverBuffered();
    this.resendDue();
  }

  /** Resends every sent, unacked message older than the RTO (oldest first). */
  private resendDue(): void {
    if (!this.sink || this.paused) return;
    const now = this.now();
    for (const message of this.outgoing.values()) {
      if (message.sequenceNumber >= this.unsentFrom) break; // never sent: waits for the window
      if (now - message.lastSent < this.rto) continue;
      if (message.attempts > (this.options.maxResends ?? 3000)) {
        this.emit('stalled', message.sequenceNumber);
        return;
      }
      this.transmit(message);
    }
  }
}
