/**
 * How local TCP connections travel over the data channel once the handshake is done. Two
 * implementations, picked once per session from the agent's version: mux (smux streams, one per
 * connection) and basic (one connection at a time, for agents up to 3.0.196.0).
 */
import type { Socket } from 'node:net';
import { BasicForwarder } from './basic-forwarder.js';
import type { ForwardingMode } from './handshake.js';
import { MuxForwarder } from './mux-forwarder.js';

/** The most bytes one data-channel message carries (StreamDataPayloadSize). */
export const STREAM_DATA_PAYLOAD_SIZE = 1024;

/** What a forwarder may do with the session's data channel. */
export interface ForwarderChannel {
  /** Sends stream bytes (in messages of at most STREAM_DATA_PAYLOAD_SIZE), pausing local reads when the window fills. */
  write(bytes: Buffer): void;
  /** Sends one Flag message (DisconnectToPort...). */
  sendFlag(flag: number): void;
  /** False while the unacked window is full: new sockets start paused until the channel drains. */
  writable(): boolean;
  /** The session has ended: nothing more may be sent. */
  finished(): boolean;
  /** stop() was called: the session is ending from this side. */
  stopping(): boolean;
  /** Ends the session as failed (a protocol error the session cannot recover from). */
  fail(message: string): void;
  /** Emits a session event ('stream-open', 'stream-close'). */
  emit(event: string, ...args: unknown[]): void;
  /**
   * A local connection can take bytes now: hands over at once what the agent sent before and the
   * forwarder refused (acknowledged, so the agent never resends it), instead of at the next resend tick.
   */
  readyToReceive(): void;
}

export interface Forwarder {
  readonly mode: ForwardingMode;
  /** Whether the agent ends the session on the TerminateSession flag (otherwise only the API does). */
  readonly acceptsTerminateFlag: boolean;
  /** Takes a new local connection. */
  accept(socket: Socket): void;
  /** Handles Output bytes from the agent; false = not ready (the agent resends them later). */
  receive(payload: Buffer): boolean;
  /** Stops reading local sockets (the unacked window is full). */
  pauseReads(): void;
  /** Reads local sockets again (the window drained). */
  resumeReads(): void;
  /** Destroys every local socket and stops every timer. */
  close(): void;
}

export interface ForwarderOptions {
  readonly agentVersion: string;
  /** smux NOP period (mux only); see MuxForwarderOptions. */
  readonly keepAliveIntervalMs?: number;
}

/** The forwarder for a mode: the only place that tells mux from basic. */
export function createForwarder(mode: ForwardingMode, channel: ForwarderChannel, options: ForwarderOptions): Forwarder {
  return mode === 'mux' ? new MuxForwarder(channel, options) : new BasicForwarder(channel, options.agentVersion);
}
