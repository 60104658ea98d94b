/**
 * The service and agent side of one port-forwarding session, as the protocol reference's emulator
 * checklist (§10) describes it: HandshakeRequest with the scenario's AgentVersion, acks (re-acks
 * for duplicates; ack-and-drop before the handshake), retransmission of unacked output, the
 * forwarder the versions call for (agent-forwarders.ts: an smux v1 server that dials the real
 * destination, Flag 3 and FIN when it cannot; or basic mode with DisconnectToPort), channel_closed
 * with real-looking Output texts, an idle timeout, the agent's smux keep-alive when the client
 * version asks for it, and faults (drop, delay, reorder, duplicate).
 */
import { BasicConnection, MuxServer, type AgentForwarder, type AgentPort } from './agent-forwarders.js';
import { Cmd, smuxFrame } from './smux-wire.js';
import { versionCompare } from './versions.js';
import {
  FlagValues,
  HeaderFlags,
  MessageTypes,
  PayloadTypes,
  WireRejection,
  flagBytes,
  flagOf,
  jsonOf,
  readWireMessage,
  writeAck,
  writeWireMessage,
  type AckBody,
  type WireMessage,
} from './wire.js';
import type { Destination } from './scenario.js';

export const OUTPUTS = {
  handshakeTimeout:
    '\n----------ERROR-------\nEncountered error while initiating handshake. Handshake timed out. Please ensure that you have the latest version of the session manager plugin.',
  idleTimeout: 'Your session timed out due to inactivity and has been terminated.',
  keepAliveTimeout:
    '\n----------ERROR-------\nsmux session closed: no data or keep-alive from the client for too long (keep-alive timeout).',
  dialFailed: (address: string, reason: string) =>
    `Unable to connect to specified port: dial tcp ${address}: connect: ${reason}`,
} as const;

/** Misbehaviour of the service, applied to frames it sends (and, for drops, to frames it receives). */
export interface Faults {
  /** Drop this fraction of outgoing stream messages (their retransmissions get through again by chance). */
  dropRate?: number;
  /** Drop the first N outgoing stream messages once each. */
  dropFirst?: number;
  /** Send this fraction of outgoing stream messages twice. */
  duplicateRate?: number;
  /** Hold this fraction of outgoing stream messages back and send them after the next one. */
  reorderRate?: number;
  /** Delay every outgoing frame by this many ms. */
  delayMs?: number;
  /** Drop this fraction of incoming client stream messages without ack. */
  dropIncomingRate?: number;
  /** Never send the HandshakeRequest (an agent that hangs): the client's handshake timeout fires. */
  silent?: boolean;
}

export interface AgentSessionOptions {
  readonly sessionId: string;
  readonly agentVersion: string;
  readonly properties: Record<string, string>;
  readonly resolve: (host: string, port: number) => Destination | undefined;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAlive: { readonly intervalMs: number; readonly timeoutMs: number };
  readonly faults: Faults;
  readonly random: () => number;
  readonly onEnd: (output: string) => void;
}

interface Outgoing {
  readonly sequenceNumber: bigint;
  readonly frame: Buffer;
  lastSent: number;
}

/** Frames go out through this; the emulator swaps it on reconnect. */
export type FrameSink = (frame: Buffer) => void;

export class AgentSession {
  clientVersion?: string;
  mux = false;
  ended = false;
  readonly stats = {
    received: 0,
    duplicatesReacked: 0,
    droppedBeforeHandshake: 0,
    resent: 0,
    sent: 0,
    streamsOpened: 0,
    dialFailures: 0,
    /** Frames dropped as malformed (bad header, length or digest, not JSON where JSON is due). */
    rejected: 0,
  };
  /** Why each rejected frame was dropped, oldest first. */
  readonly rejections: string[] = [];
  private sink?: FrameSink;
  private nextSequence = 0n;
  private expected = 0n;
  private readonly outgoing = new Map<bigint, Outgoing>();
  private readonly reorder = new Map<bigint, WireMessage>();
  private handshakeComplete = false;
  private held?: Buffer;
  private droppedFirst = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private lastActivity = Date.now();
  private lastClientFrame = Date.now();
  private keepAliveOn = false;
  /** Carries the client's connections once the handshake picked mux or basic. */
  private forwarder?: AgentForwarder;
  // Output written and not yet sent (see writeStream)
  private pendingOutput: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;

  constructor(private readonly options: AgentSessionOptions) {
    this.timers.push(setInterval(() => this.tick(), 100));
  }

  /** A (re)connected client: start sending through it and resend what it has not acknowledged. */
  attach(sink: FrameSink): void {
    this.sink = sink;
    if (this.options.faults.silent) return; // an agent that never starts the handshake
    if (this.nextSequence === 0n) {
      this.sendStream(
        PayloadTypes.handshakeRequest,
        Buffer.from(
          JSON.stringify({
            AgentVersion: this.options.agentVersion,
            RequestedClientActions: [
              {
                ActionType: 'SessionType',
                ActionParameters: { SessionType: 'Port', Properties: this.options.properties },
              },
            ],
          }),
        ),
      );
      const handshakeStarted = Date.now();
      const timer = setInterval(() => {
        if (this.handshakeComplete || this.ended) clearInterval(timer);
        else if (Date.now() - handshakeStarted > this.options.handshakeTimeoutMs) {
          clearInterval(timer);
          this.end(OUTPUTS.handshakeTimeout);
        }
      }, 50);
      this.timers.push(timer);
    } else {
      for (const message of this.outgoing.values()) this.transmit(message);
    }
  }

  detach(): void {
    this.sink = undefined;
  }

  /** Ends the session from the service side; the emulator sends channel_closed with `output`. */
  end(output: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const timer of this.timers) clearInterval(timer);
    this.forwarder?.close();
    this.options.onEnd(output);
  }

  /** One binary frame from the client. */
  receive(frame: Buffer): void {
    if (this.ended) return;
    try {
      this.handle(readWireMessage(frame));
    } catch (error) {
      if (!(error instanceof WireRejection)) throw error;
      // The agent drops a malformed frame without an ack; the client resends it. Kept for tests.
      this.stats.rejected++;
      this.rejections.push(error.message);
    }
  }

  private handle(message: WireMessage): void {
    if (message.messageType === MessageTypes.acknowledge) {
      const content = jsonOf<AckBody>(message);
      this.outgoing.delete(BigInt(content.AcknowledgedMessageSequenceNumber));
      return;
    }
    if (message.messageType !== MessageTypes.input) return;
    if ((this.options.faults.dropIncomingRate ?? 0) > this.options.random()) return;
    this.stats.received++;
    if (message.sequenceNumber < this.expected) {
      this.stats.duplicatesReacked++;
      this.ack(message);
      return;
    }
    if (message.sequenceNumber > this.expected) {
      this.reorder.set(message.sequenceNumber, message);
      this.ack(message);
      return;
    }
    this.process(message);
    this.ack(message);
    this.expected++;
    for (let next = this.reorder.get(this.expected); next; next = this.reorder.get(this.expected)) {
      this.reorder.delete(this.expected);
      this.process(next);
      this.expected++;
    }
  }

  private process(message: WireMessage): void {
    if (!this.handshakeComplete) {
      if (message.payloadType === PayloadTypes.handshakeResponse) this.onHandshakeResponse(message);
      else this.stats.droppedBeforeHandshake++; // "Handshake still in progress, ignore stream data message"
      return;
    }
    this.lastActivity = Date.now();
    if (message.payloadType === PayloadTypes.flag) {
      const flag = flagOf(message);
      if (flag === FlagValues.terminateSession) this.end('');
      else if (flag === FlagValues.disconnectToPort) this.forwarder?.disconnect();
      return;
    }
    if (message.payloadType !== PayloadTypes.output) return;
    this.lastClientFrame = Date.now(); // what smux's keep-alive timeout watches
    this.forwarder?.receive(message.payload);
  }

  private onHandshakeResponse(message: WireMessage): void {
    const response = jsonOf<{
      ClientVersion?: string;
      ProcessedClientActions?: Array<{ ActionType: string; ActionStatus: number; Error?: string }>;
    }>(message);
    this.clientVersion = response.ClientVersion ?? '';
    const failed = (response.ProcessedClientActions ?? []).find((action) => action.ActionStatus !== 1);
    if (failed) {
      this.end(`${failed.ActionType} failed on client with status ${failed.ActionStatus} error: ${failed.Error ?? ''}`);
      return;
    }
    this.handshakeComplete = true;
    const version = this.clientVersion;
    // Agents up to 3.0.196.0 have no multiplexing; newer ones multiplex for clients ≥ 1.1.70.
    this.mux =
      this.options.properties.type === 'LocalPortForwarding' &&
      versionCompare(version, '1.1.70') >= 0 &&
      versionCompare(this.options.agentVersion, '3.0.196.0') > 0;
    // Agents ≥ 3.1.1575.0 turn keep-alive off for clients > 1.2.331.0; 3.1.1476.0-3.1.1511.0 keep it on.
    const agentAlwaysKeepsAlive = versionCompare(this.options.agentVersion, '3.1.1511.0') <= 0;
    this.keepAliveOn = this.mux && (agentAlwaysKeepsAlive || !(versionCompare(version, '1.2.331.0') > 0));
    const port: AgentPort = {
      properties: this.options.properties,
      destination: () => this.destination(),
      writeStream: (bytes) => this.writeStream(bytes),
      sendFlag: (flag) => this.sendStream(PayloadTypes.flag, flagBytes(flag)),
      dialFailed: (address, reason) => this.end(OUTPUTS.dialFailed(address, reason)),
      end: (output) => this.end(output),
      stats: this.stats,
    };
    this.forwarder = this.mux ? new MuxServer(port) : new BasicConnection(port);
    // The agent's handler hands the response to its handshake goroutine, and its caller acks the
    // message at once; that goroutine then sends HandshakeComplete (amazon-ssm-agent
    // datachannel.go, handleHandshakeResponse and PerformHandshake), so the ack goes first. The
    // order matters: session-manager-plugin 1.2.x installs its port session's message handler while
    // it processes HandshakeComplete and creates its smux client only afterwards, so a message in
    // between (an ack sent late) is read through a nil client and kills its WebSocket reader
    // (portsession.go Initialize, muxportforwarding.go IsStreamNotSet). Seen with the plugin built
    // from github.com/aws/session-manager-plugin 61cf128 on 2026-12-02: half its sessions hung.
    queueMicrotask(() => {
      this.sendStream(
        PayloadTypes.handshakeComplete,
        Buffer.from(JSON.stringify({ HandshakeTimeToComplete: 1_000_000, CustomerMessage: '' })),
      );
      this.forwarder?.start();
    });
    this.lastActivity = Date.now();
    this.lastClientFrame = Date.now();
    if (this.keepAliveOn) {
      this.timers.push(setInterval(() => this.writeStream(smuxFrame(Cmd.nop, 0)), this.options.keepAlive.intervalMs));
    }
  }

  private destination(): Destination | undefined {
    const host = this.options.properties.host ?? 'localhost';
    return this.options.resolve(host, Number(this.options.properties.portNumber));
  }

  // ---- the reliable channel, service side ----

  /**
   * Output bytes, at most 1024 per data-channel message. The agent reads its smux side in reads of
   * up to 1024 bytes, so what its streams write at about the same time (a response and the FIN
   * behind it) shares a message; here the bytes of one turn of the event loop do.
   */
  private writeStream(bytes: Buffer): void {
    this.pendingOutput.push(bytes);
    this.pendingBytes += bytes.length;
    while (this.pendingBytes >= 1024) this.sendOutput(1024);
    if (this.pendingBytes > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flushOutput();
      });
    }
  }

  private flushOutput(): void {
    if (this.pendingBytes > 0) this.sendOutput(this.pendingBytes);
  }

  /** One Output message of the next `length` pending bytes: a view of one chunk, or one copy. */
  private sendOutput(length: number): void {
    this.pendingBytes -= length;
    const first = this.pendingOutput[0]!;
    let payload: Buffer;
    if (first.length >= length) {
      payload = first.subarray(0, length);
      if (first.length === length) this.pendingOutput.shift();
      else this.pendingOutput[0] = first.subarray(length);
    } else {
      payload = Buffer.allocUnsafe(length);
      for (let filled = 0; filled < length;) {
        const chunk = this.pendingOutput[0]!;
        const count = Math.min(chunk.length, length - filled);
        chunk.copy(payload, filled, 0, count);
        filled += count;
        if (count === chunk.length) this.pendingOutput.shift();
        else this.pendingOutput[0] = chunk.subarray(count);
      }
    }
    this.sendStream(PayloadTypes.output, payload);
  }

  private sendStream(payloadType: number, payload: Buffer): void {
    if (this.ended) return;
    // Nothing overtakes the stream's bytes: a flag goes after what was written before it.
    if (payloadType !== PayloadTypes.output) this.flushOutput();
    const sequenceNumber = this.nextSequence++;
    const frame = writeWireMessage({
      messageType: MessageTypes.output,
      sequenceNumber,
      flags: sequenceNumber === 0n ? HeaderFlags.syn : HeaderFlags.none,
      payloadType,
      payload,
    });
    const message = { sequenceNumber, frame, lastSent: 0 };
    this.outgoing.set(sequenceNumber, message);
    this.transmit(message, true);
  }

  private transmit(message: Outgoing, first = false): void {
    message.lastSent = Date.now();
    if (!this.sink) return;
    if (first) this.stats.sent++;
    else this.stats.resent++;
    const faults = this.options.faults;
    if (first && this.droppedFirst < (faults.dropFirst ?? 0)) {
      this.droppedFirst++;
      return;
    }
    if ((faults.dropRate ?? 0) > this.options.random()) return;
    if ((faults.reorderRate ?? 0) > this.options.random() && !this.held) {
      this.held = message.frame;
      return;
    }
    this.emit(message.frame);
    if ((faults.duplicateRate ?? 0) > this.options.random()) this.emit(message.frame);
    if (this.held) {
      const held = this.held;
      this.held = undefined;
      this.emit(held);
    }
  }

  private emit(frame: Buffer): void {
    const sink = this.sink;
    if (!sink) return;
    const delay = this.options.faults.delayMs ?? 0;
    if (delay > 0) setTimeout(() => sink(frame), delay);
    else sink(frame);
  }

  private ack(message: WireMessage): void {
    this.sink?.(writeAck(message));
  }

  private tick(): void {
    if (this.ended) return;
    const now = Date.now();
    // The agent resends the oldest unacked message after the RTO (200 ms here).
    for (const message of this.outgoing.values()) {
      if (now - message.lastSent >= 200) this.transmit(message);
      break;
    }
    if (this.held && this.outgoing.size === 0) {
      this.emit(this.held);
      this.held = undefined;
    }
    if (this.handshakeComplete && now - this.lastActivity > this.options.idleTimeoutMs) this.end(OUTPUTS.idleTimeout);
    else if (this.keepAliveOn && now - this.lastClientFrame > this.options.keepAlive.timeoutMs)
      this.end(OUTPUTS.keepAliveTimeout);
  }
}
