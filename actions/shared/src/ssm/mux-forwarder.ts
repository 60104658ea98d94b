/**
 * Mux forwarding: each local connection is an smux v1 stream (ids 3, 5, 7...) over the data
 * channel's byte stream, as with agents newer than 3.0.196.0.
 */
import type { Socket } from 'node:net';
import { errorMessage } from '../errors.js';
import type { Forwarder, ForwarderChannel } from './forwarder.js';
import { agentNeedsNops } from './handshake.js';
import { writeBatched } from './local-writes.js';
import { FIRST_CLIENT_STREAM_ID, FrameParser, SmuxCommand, encodeData, encodeFrame } from './smux.js';

export interface MuxForwarderOptions {
  readonly agentVersion: string;
  /** smux NOP period; default 10 s for agents that keep smux keep-alive on (≤ 3.1.1511.0), else none. */
  readonly keepAliveIntervalMs?: number;
}

export class MuxForwarder implements Forwarder {
  readonly mode = 'mux';
  /** Every mux-capable agent (> 3.0.196.0) honours the TerminateSession flag. */
  readonly acceptsTerminateFlag = true;
  private readonly parser = new FrameParser();
  private readonly streams = new Map<number, Socket>();
  private nextStreamId = FIRST_CLIENT_STREAM_ID - 2;
  private readonly keepAlive?: NodeJS.Timeout;

  constructor(
    private readonly channel: ForwarderChannel,
    options: MuxForwarderOptions,
  ) {
    const interval = options.keepAliveIntervalMs ?? (agentNeedsNops(options.agentVersion) ? 10_000 : 0);
    if (interval > 0) {
      this.keepAlive = setInterval(() => this.channel.write(encodeFrame(SmuxCommand.Nop, 0)), interval);
      this.keepAlive.unref();
    }
  }

  accept(socket: Socket): void {
    this.nextStreamId += 2;
    const streamId = this.nextStreamId;
    this.streams.set(streamId, socket);
    this.channel.emit('stream-open', streamId);
    // The SYN waits for the connection's first bytes, two turns of the event loop at most (a
    // protocol whose server speaks first gets it then), so that an HTTP request and its SYN travel
    // in one data-channel message. A connection closed before that (a port probe) costs the agent
    // nothing: no stream, no destination dialled.
    let synSent = false;
    let finSent = false;
    const sendSyn = (): void => {
      if (synSent || !this.streams.has(streamId) || this.channel.finished()) return;
      synSent = true;
      this.channel.write(encodeFrame(SmuxCommand.Syn, streamId));
    };
    setImmediate(() => setImmediate(sendSyn));
    const close = (): void => {
      if (!this.streams.has(streamId)) return;
      this.streams.delete(streamId);
      if (synSent && !finSent && !this.channel.finished()) {
        finSent = true;
        this.channel.write(encodeFrame(SmuxCommand.Fin, streamId));
      }
      this.channel.emit('stream-close', streamId);
    };
    socket.on('data', (chunk: Buffer) => {
      sendSyn();
      for (const frame of encodeData(streamId, chunk)) this.channel.write(frame);
    });
    // smux has no half-close: when either side ends, the whole pair is closed.
    socket.on('end', () => {
      close();
      socket.destroy();
    });
    socket.on('close', close);
    socket.on('error', () => socket.destroy());
    if (!this.channel.writable()) socket.pause();
  }

  receive(payload: Buffer): boolean {
    let frames;
    try {
      frames = this.parser.push(payload);
    } catch (error) {
      this.channel.fail(`smux protocol error: ${errorMessage(error)}`);
      return true;
    }
    for (const frame of frames) {
      const socket = this.streams.get(frame.streamId);
      if (frame.command === SmuxCommand.Psh && socket) writeBatched(socket, frame.data);
      else if (frame.command === SmuxCommand.Fin && socket) {
        this.streams.delete(frame.streamId);
        this.channel.emit('stream-close', frame.streamId);
        socket.end(() => socket.destroy());
      }
    }
    return true;
  }

  pauseReads(): void {
    for (const socket of this.streams.values()) socket.pause();
  }

  resumeReads(): void {
    for (const socket of this.streams.values()) socket.resume();
  }

  close(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const socket of this.streams.values()) socket.destroy();
    this.streams.clear();
  }
}
