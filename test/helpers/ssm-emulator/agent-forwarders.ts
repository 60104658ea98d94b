/**
 * How the emulated agent carries the client's connections once the handshake is done, the same two
 * shapes as the client's forwarders (actions/shared/src/ssm/forwarder.ts): an smux v1 server that
 * dials the destination for every stream (agents newer than 3.0.196.0), or one destination
 * connection re-dialed on demand (basic mode). agent-session.ts picks one from the versions.
 */
import { connect, type Socket } from 'node:net';
import type { Destination } from './scenario.js';
import { Cmd, SmuxReader, smuxFrame, smuxPush } from './smux-wire.js';
import { FlagValues } from './wire.js';

/** What a forwarder may do with its session. */
export interface AgentPort {
  /** The session's document properties (host, portNumber...). */
  readonly properties: Record<string, string>;
  /** Where the session's host and port lead, or undefined when nothing listens there. */
  destination(): Destination | undefined;
  /** Output bytes to the client (coalesced into messages by the session). */
  writeStream(bytes: Buffer): void;
  /** A Flag message to the client. */
  sendFlag(flag: number): void;
  /** Ends the session: basic mode's destination cannot be dialed. */
  dialFailed(address: string, reason: string): void;
  /** Ends the session with `output` (an smux protocol error). */
  end(output: string): void;
  readonly stats: { streamsOpened: number; dialFailures: number };
}

export interface AgentForwarder {
  /** The handshake is complete. */
  start(): void;
  /** Output bytes from the client. */
  receive(bytes: Buffer): void;
  /** DisconnectToPort from the client. */
  disconnect(): void;
  /** The session ended: every destination connection is closed. */
  close(): void;
}

interface Stream {
  socket?: Socket;
  pending: Buffer[];
  closed: boolean;
}

/** An smux v1 server over the client's byte stream: a destination connection per stream. */
export class MuxServer implements AgentForwarder {
  private readonly parser = new SmuxReader();
  private readonly streams = new Map<number, Stream>();

  constructor(private readonly port: AgentPort) {}

  start(): void {}

  receive(bytes: Buffer): void {
    let frames;
    try {
      frames = this.parser.feed(bytes);
    } catch (error) {
      this.port.end(`\n----------ERROR-------\nsmux: ${(error as Error).message}`);
      return;
    }
    for (const frame of frames) {
      if (frame.cmd === Cmd.syn) this.openStream(frame.sid);
      else if (frame.cmd === Cmd.psh) {
        const stream = this.streams.get(frame.sid);
        if (stream?.socket) stream.socket.write(frame.data);
        else stream?.pending.push(frame.data);
      } else if (frame.cmd === Cmd.fin) {
        const stream = this.streams.get(frame.sid);
        if (stream) {
          stream.closed = true;
          stream.socket?.destroy();
          this.streams.delete(frame.sid);
        }
      }
      // NOP: activity only.
    }
  }

  disconnect(): void {} // DisconnectToPort is basic mode's

  close(): void {
    for (const stream of this.streams.values()) stream.socket?.destroy();
  }

  private openStream(streamId: number): void {
    this.port.stats.streamsOpened++;
    const stream: Stream = { pending: [], closed: false };
    this.streams.set(streamId, stream);
    const destination = this.port.destination();
    const fail = (): void => {
      this.port.stats.dialFailures++;
      this.port.sendFlag(FlagValues.connectToPortError);
      this.port.writeStream(smuxFrame(Cmd.fin, streamId));
      this.streams.delete(streamId);
    };
    if (!destination) {
      fail();
      return;
    }
    const socket = connect(destination.port, destination.host);
    socket.setNoDelay(true);
    socket.once('connect', () => {
      if (stream.closed) {
        socket.destroy();
        return;
      }
      stream.socket = socket;
      for (const chunk of stream.pending.splice(0)) socket.write(chunk);
    });
    socket.on('data', (chunk: Buffer) => {
      for (const frame of smuxPush(streamId, chunk)) this.port.writeStream(frame);
    });
    socket.once('error', () => {
      if (!stream.socket) fail();
    });
    socket.once('close', () => {
      if (stream.socket && !stream.closed && this.streams.has(streamId)) {
        this.streams.delete(streamId);
        this.port.writeStream(smuxFrame(Cmd.fin, streamId));
      }
    });
  }
}

/** Basic mode: one destination connection, dialed after the handshake and again after DisconnectToPort. */
export class BasicConnection implements AgentForwarder {
  private socket?: Socket;
  private dialing?: Promise<boolean>;

  constructor(private readonly port: AgentPort) {}

  start(): void {
    void this.dial();
  }

  receive(bytes: Buffer): void {
    void this.write(bytes);
  }

  disconnect(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  close(): void {
    this.socket?.destroy();
  }

  private async write(bytes: Buffer): Promise<void> {
    if (!this.socket && !(await this.dial())) return;
    this.socket?.write(bytes);
  }

  private dial(): Promise<boolean> {
    this.dialing ??= new Promise<boolean>((resolve) => {
      const destination = this.port.destination();
      const address = destination
        ? `${destination.host}:${destination.port}`
        : `${this.port.properties.host ?? 'localhost'}:${this.port.properties.portNumber}`;
      if (!destination) {
        this.port.dialFailed(address, 'connection refused');
        resolve(false);
        return;
      }
      const socket = connect(destination.port, destination.host);
      socket.once('connect', () => {
        this.socket = socket;
        resolve(true);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        if (this.socket !== socket) {
          this.port.dialFailed(address, error.code === 'ECONNREFUSED' ? 'connection refused' : error.message);
          resolve(false);
        }
      });
      socket.on('data', (chunk: Buffer) => this.port.writeStream(chunk));
      socket.once('close', () => {
        if (this.socket === socket) this.socket = undefined;
      });
    }).finally(() => (this.dialing = undefined));
    return this.dialing;
  }
}
