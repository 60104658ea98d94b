/**
 * A native Session Manager port-forwarding session: StartSession, the data channel over a
 * WebSocket, the handshake, then a local TCP listener whose connections travel as smux streams
 * (mux mode) or one at a time (basic mode, for old agents). Survives transport loss with
 * ResumeSession, ends with the TerminateSession flag and API, and always releases the local port.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import {
  ResumeSessionCommand,
  StartSessionCommand,
  TerminateSessionCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import WebSocket from 'ws';
import { errorMessage, withOperation } from '../errors.js';
import type { Logger } from '../logger.js';
import { Flag, PayloadType, flagPayload, parseJsonPayload, readFlag, type ClientMessage } from './codec.js';
import {
  CLIENT_VERSION,
  agentAcceptsTerminateFlag,
  agentNeedsNops,
  answerHandshake,
  forwardingMode,
  type ForwardingMode,
  type HandshakeRequest,
} from './handshake.js';
import { ReliableChannel } from './reliable-channel.js';
import { FIRST_CLIENT_STREAM_ID, FrameParser, SmuxCommand, encodeData, encodeFrame } from './smux.js';

/** The most bytes one data-channel message carries (StreamDataPayloadSize). */
export const STREAM_DATA_PAYLOAD_SIZE = 1024;
export const PORT_FORWARDING_DOCUMENT = 'AWS-StartPortForwardingSession';
export const REMOTE_HOST_DOCUMENT = 'AWS-StartPortForwardingSessionToRemoteHost';

export interface PortForwardingOptions {
  readonly ssm: SSMClient;
  /** `ecs:<cluster>_<taskId>_<runtimeId>`, or an instance id. */
  readonly target: string;
  /** Port to reach inside the target (or on remoteHost). */
  readonly remotePort: number;
  /** Forward to this host as seen from the target (AWS-StartPortForwardingSessionToRemoteHost). */
  readonly remoteHost?: string;
  /** Local port to listen on; 0 picks a free one. @default 0 */
  readonly localPort?: number;
  /** @default '127.0.0.1' */
  readonly localHost?: string;
  readonly logger: Logger;
  /** @default CLIENT_VERSION */
  readonly clientVersion?: string;
  /** @default 20000 */
  readonly handshakeTimeoutMs?: number;
  /**
   * smux NOP period. Default: 10 s for agents that keep smux keep-alive on (≤ 3.1.1511.0), else
   * none. A developer tunnel may set it to keep Session Manager's idle timeout from firing.
   */
  readonly keepAliveIntervalMs?: number;
  /** Unacked data-channel messages before local sockets are paused. @default 1000 */
  readonly maxUnacked?: number;
  /** ResumeSession attempts after a transport loss. @default 5 */
  readonly resumeAttempts?: number;
  /** How long stop() waits for the TerminateSession flag's acknowledgement. @default 2000 */
  readonly stopTimeoutMs?: number;
}

export type SessionEndReason = 'stopped' | 'closed-by-service' | 'failed';

export interface SessionEnd {
  readonly reason: SessionEndReason;
  readonly message: string;
}

/** What every engine (native, plugin) gives its caller. */
export interface ForwardingSession {
  readonly sessionId: string;
  readonly localPort: number;
  readonly ended: Promise<SessionEnd>;
  stop(): Promise<void>;
}

/** A failure to establish the session; `code` is the AWS error name when there is one. */
export class SessionStartError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'SessionStartError';
  }
}

interface StreamEndpoint {
  readonly sessionId: string;
  readonly tokenValue: string;
  readonly streamUrl: string;
}

/** Events: 'connection-error' (Flag 3 from the agent), 'reconnected', 'stream-open', 'stream-close'. */
export class PortForwardingSession extends EventEmitter implements ForwardingSession {
  readonly clientId = randomUUID();
  sessionId = '';
  localPort = 0;
  mode?: ForwardingMode;
  agentVersion?: string;
  readonly ended: Promise<SessionEnd>;

  private resolveEnded!: (end: SessionEnd) => void;
  private endpoint?: StreamEndpoint;
  private socket?: WebSocket;
  private readonly channel: ReliableChannel;
  private readonly server: Server;
  private readonly pendingConnections: Socket[] = [];
  private handshakeDone = false;
  private handshakeWaiter?: { resolve: () => void; reject: (error: Error) => void };
  private finished = false;
  private stopping?: Promise<void>;
  private keepAlive?: NodeJS.Timeout;
  // mux
  private readonly parser = new FrameParser();
  private readonly streams = new Map<number, Socket>();
  private nextStreamId = FIRST_CLIENT_STREAM_ID - 2;
  // basic
  private active?: Socket;

  private constructor(private readonly options: PortForwardingOptions) {
    super();
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.channel = new ReliableChannel({
      sendType: 'input_stream_data',
      onMessage: (message) => this.onMessage(message),
      maxUnacked: options.maxUnacked,
    });
    this.channel.on('drain', () => this.resumeLocalReads());
    this.channel.on('closed', (content: { Output?: string }) => {
      const output = content.Output?.trim();
      const message = output
        ? `SessionId: ${this.sessionId} : ${output}`
        : `Exiting session with sessionId: ${this.sessionId}.`;
      this.handshakeWaiter?.reject(new SessionStartError(message, 'ChannelClosed'));
      // After our own TerminateSession flag, channel_closed is the expected answer, not a failure.
      if (this.stopping) void this.finish({ reason: 'stopped', message: `Session ${this.sessionId} stopped.` });
      else void this.finish({ reason: 'closed-by-service', message });
    });
    this.channel.on('stalled', () => {
      void this.finish(
        { reason: 'failed', message: `Session ${this.sessionId}: data was not acknowledged in time; terminating.` },
        true,
      );
    });
    this.server = createServer((socket) => this.onLocalConnection(socket));
  }

  /** Starts a session and resolves once the local port accepts connections that reach the target. */
  static async start(options: PortForwardingOptions): Promise<PortForwardingSession> {
    const session = new PortForwardingSession(options);
    try {
      await session.listen();
      await session.open();
      return session;
    } catch (error) {
      await session.finish({ reason: 'failed', message: errorMessage(error) }, Boolean(session.sessionId));
      throw error;
    }
  }

  private log(message: string): void {
    this.options.logger.info(message);
  }

  private async listen(): Promise<void> {
    const host = this.options.localHost ?? '127.0.0.1';
    const port = this.options.localPort ?? 0;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          new SessionStartError(
            error.code === 'EADDRINUSE'
              ? `Local port ${port} on ${host} is already in use: stop what listens there or choose another port.`
              : `Cannot listen on ${host}:${port}: ${error.message}`,
            error.code,
          ),
        );
      };
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const address = this.server.address();
    this.localPort = typeof address === 'object' && address ? address.port : port;
  }

  private async open(): Promise<void> {
    const { ssm, target, remotePort, remoteHost } = this.options;
    const documentName = remoteHost ? REMOTE_HOST_DOCUMENT : PORT_FORWARDING_DOCUMENT;
    let response;
    try {
      response = await ssm.send(
        new StartSessionCommand({
          Target: target,
          DocumentName: documentName,
          Parameters: {
            portNumber: [String(remotePort)],
            localPortNumber: [String(this.localPort)],
            ...(remoteHost ? { host: [remoteHost] } : {}),
          },
        }),
      );
    } catch (error) {
      const failure = withOperation('StartSession', error);
      throw new SessionStartError(failure.message, (error as { name?: string }).name);
    }
    if (!response.SessionId || !response.TokenValue || !response.StreamUrl) {
      throw new SessionStartError('StartSession returned no SessionId, TokenValue or StreamUrl.');
    }
    this.sessionId = response.SessionId;
    this.endpoint = { sessionId: response.SessionId, tokenValue: response.TokenValue, streamUrl: response.StreamUrl };
    this.log(
      `Started session ${this.sessionId} to ${target} (${documentName}, port ${remotePort}${remoteHost ? ` on ${remoteHost}` : ''}).`,
    );

    const handshake = new Promise<void>((resolve, reject) => (this.handshakeWaiter = { resolve, reject }));
    const timeoutMs = this.options.handshakeTimeoutMs ?? 20_000;
    const timer = setTimeout(
      () =>
        this.handshakeWaiter?.reject(
          new SessionStartError(`The agent did not complete the handshake within ${timeoutMs} ms.`, 'HandshakeTimeout'),
        ),
      timeoutMs,
    );
    try {
      await this.connect(this.endpoint);
      await handshake;
    } finally {
      clearTimeout(timer);
      this.handshakeWaiter = undefined;
    }
    for (const pending of this.pendingConnections.splice(0)) this.onLocalConnection(pending);
  }

  /** Opens the WebSocket and the data channel on it; resolves once the channel is open. */
  private connect(endpoint: StreamEndpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(endpoint.streamUrl, { perMessageDeflate: false });
      this.socket = socket;
      let opened = false;
      socket.on('open', () => {
        opened = true;
        socket.send(
          JSON.stringify({
            MessageSchemaVersion: '1.0',
            RequestId: randomUUID(),
            TokenValue: endpoint.tokenValue,
            ClientId: this.clientId,
            ClientVersion: this.options.clientVersion ?? CLIENT_VERSION,
          }),
        );
        this.channel.attach({
          send: (frame) => {
            if (socket.readyState === WebSocket.OPEN) socket.send(frame);
          },
        });
        resolve();
      });
      socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
        const frame = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        this.channel.receive(frame);
      });
      socket.on('error', (error) => {
        if (!opened)
          reject(
            new SessionStartError(`Cannot open the data channel ${redactUrl(endpoint.streamUrl)}: ${error.message}`),
          );
      });
      socket.on('close', (code, reason) => {
        if (this.socket !== socket) return;
        this.channel.detach();
        if (!opened || this.finished || this.stopping) return;
        this.log(
          `Data channel closed (${code}${reason.length ? ` ${reason.toString()}` : ''}); resuming session ${this.sessionId}.`,
        );
        void this.resume();
      });
    });
  }

  /** ResumeSession after a transport loss, keeping every sequence number and unacked message. */
  private async resume(): Promise<void> {
    const attempts = this.options.resumeAttempts ?? 5;
    let delay = 100 + Math.random() * 100;
    for (let attempt = 1; attempt <= attempts && !this.finished && !this.stopping; attempt++) {
      try {
        const response = await this.options.ssm.send(new ResumeSessionCommand({ SessionId: this.sessionId }));
        if (!response.TokenValue) {
          await this.finish({ reason: 'failed', message: `Session: ${this.sessionId} timed out.` });
          return;
        }
        this.endpoint = {
          sessionId: this.sessionId,
          tokenValue: response.TokenValue,
          streamUrl: response.StreamUrl ?? this.endpoint!.streamUrl,
        };
        await this.connect(this.endpoint);
        this.log(`Resumed session ${this.sessionId} (attempt ${attempt}).`);
        this.emit('reconnected', attempt);
        return;
      } catch (error) {
        this.options.logger.warning(`ResumeSession attempt ${attempt} of ${attempts} failed: ${errorMessage(error)}`);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
    if (!this.finished && !this.stopping) {
      await this.finish(
        { reason: 'failed', message: `Session ${this.sessionId}: the data channel was lost and could not be resumed.` },
        true,
      );
    }
  }

  /** Handles one in-order stream message from the agent; false = not ready (it will be resent). */
  private onMessage(message: ClientMessage): boolean {
    switch (message.payloadType) {
      case PayloadType.HandshakeRequest: {
        const outcome = answerHandshake(parseJsonPayload<HandshakeRequest>(message), this.options.clientVersion);
        this.agentVersion = outcome.agentVersion;
        this.mode = forwardingMode(outcome.properties, outcome.agentVersion);
        this.channel.send(PayloadType.HandshakeResponse, Buffer.from(JSON.stringify(outcome.response)));
        if (outcome.error) this.handshakeWaiter?.reject(new SessionStartError(outcome.error, 'UnsupportedSession'));
        return true;
      }
      case PayloadType.HandshakeComplete: {
        const complete = parseJsonPayload<{ CustomerMessage?: string }>(message);
        if (complete.CustomerMessage) this.log(complete.CustomerMessage);
        this.handshakeDone = true;
        this.startKeepAlive();
        this.log(
          `Handshake complete with agent ${this.agentVersion} (${this.mode} mode); forwarding 127.0.0.1:${this.localPort}.`,
        );
        this.handshakeWaiter?.resolve();
        return true;
      }
      case PayloadType.Output:
        if (!this.handshakeDone) return true;
        return this.mode === 'mux' ? this.onMuxBytes(message.payload) : this.onBasicBytes(message.payload);
      case PayloadType.Flag: {
        const flag = readFlag(message);
        if (flag === Flag.ConnectToPortError) {
          this.options.logger.warning('Connection to destination port failed, check SSM Agent logs.');
          this.emit('connection-error', new Error('Connection to destination port failed, check SSM Agent logs.'));
        }
        return true;
      }
      default:
        return true; // EncChallengeRequest etc.: never sent for port sessions
    }
  }

  // ---- local connections ----

  private onLocalConnection(socket: Socket): void {
    socket.setNoDelay(true);
    if (!this.handshakeDone) {
      socket.pause();
      this.pendingConnections.push(socket);
      return;
    }
    if (this.finished || this.stopping) {
      socket.destroy();
      return;
    }
    if (this.mode === 'mux') this.openMuxStream(socket);
    else this.queueBasic(socket);
  }

  /** Writes bytes of the (mux or basic) stream, at most 1024 per data-channel message. */
  private writeStream(bytes: Buffer): void {
    for (let offset = 0; offset < bytes.length; offset += STREAM_DATA_PAYLOAD_SIZE) {
      this.channel.send(PayloadType.Output, bytes.subarray(offset, offset + STREAM_DATA_PAYLOAD_SIZE));
    }
    if (!this.channel.writable) this.pauseLocalReads();
  }

  private pauseLocalReads(): void {
    for (const socket of this.streams.values()) socket.pause();
    this.active?.pause();
  }

  private resumeLocalReads(): void {
    for (const socket of this.streams.values()) socket.resume();
    this.active?.resume();
  }

  private openMuxStream(socket: Socket): void {
    this.nextStreamId += 2;
    const streamId = this.nextStreamId;
    this.streams.set(streamId, socket);
    this.emit('stream-open', streamId);
    this.writeStream(encodeFrame(SmuxCommand.Syn, streamId));
    let finSent = false;
    const close = (): void => {
      if (!this.streams.has(streamId)) return;
      this.streams.delete(streamId);
      if (!finSent && !this.finished) {
        finSent = true;
        this.writeStream(encodeFrame(SmuxCommand.Fin, streamId));
      }
      this.emit('stream-close', streamId);
    };
    socket.on('data', (chunk: Buffer) => {
      for (const frame of encodeData(streamId, chunk)) this.writeStream(frame);
    });
    // smux has no half-close: when either side ends, the whole pair is closed.
    socket.on('end', () => {
      close();
      socket.destroy();
    });
    socket.on('close', close);
    socket.on('error', () => socket.destroy());
    if (!this.channel.writable) socket.pause();
  }

  private onMuxBytes(payload: Buffer): boolean {
    let frames;
    try {
      frames = this.parser.push(payload);
    } catch (error) {
      void this.finish({ reason: 'failed', message: `smux protocol error: ${errorMessage(error)}` }, true);
      return true;
    }
    for (const frame of frames) {
      const socket = this.streams.get(frame.streamId);
      if (frame.command === SmuxCommand.Psh) socket?.write(frame.data);
      else if (frame.command === SmuxCommand.Fin && socket) {
        this.streams.delete(frame.streamId);
        this.emit('stream-close', frame.streamId);
        socket.end(() => socket.destroy());
      }
    }
    return true;
  }

  private queueBasic(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    if (this.active) {
      socket.pause();
      this.pendingConnections.push(socket);
      return;
    }
    this.active = socket;
    socket.on('data', (chunk: Buffer) => this.writeStream(chunk));
    socket.on('close', () => {
      if (this.active !== socket) return;
      this.active = undefined;
      if (!this.finished && !this.stopping) this.channel.send(PayloadType.Flag, flagPayload(Flag.DisconnectToPort));
      const next = this.pendingConnections.shift();
      if (next) this.queueBasic(next);
    });
    socket.resume();
  }

  private onBasicBytes(payload: Buffer): boolean {
    if (!this.active) return false; // no local connection yet: let the agent resend later
    this.active.write(payload);
    return true;
  }

  private startKeepAlive(): void {
    if (this.mode !== 'mux') return;
    const interval = this.options.keepAliveIntervalMs ?? (agentNeedsNops(this.agentVersion ?? '') ? 10_000 : 0);
    if (interval <= 0) return;
    this.keepAlive = setInterval(() => this.writeStream(encodeFrame(SmuxCommand.Nop, 0)), interval);
    this.keepAlive.unref();
  }

  // ---- ending ----

  /** Ends the session from this side: TerminateSession flag, then the API, and releases the port. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.finished) return;
      if (this.handshakeDone && (this.mode === 'mux' || agentAcceptsTerminateFlag(this.agentVersion ?? ''))) {
        const sequence = this.channel.send(PayloadType.Flag, flagPayload(Flag.TerminateSession));
        await this.waitForAck(sequence, this.options.stopTimeoutMs ?? 2000);
      }
      await this.finish({ reason: 'stopped', message: `Session ${this.sessionId} stopped.` }, true);
    })();
    return this.stopping;
  }

  private waitForAck(_sequence: bigint, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const started = Date.now();
      const check = setInterval(() => {
        if (this.channel.unacked === 0 || this.finished || Date.now() - started > timeoutMs) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
  }

  private async finish(end: SessionEnd, terminateApi = false): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.channel.close();
    this.socket?.close(1000);
    this.socket?.terminate();
    for (const socket of [...this.streams.values(), ...this.pendingConnections, ...(this.active ? [this.active] : [])])
      socket.destroy();
    this.streams.clear();
    this.pendingConnections.length = 0;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (terminateApi && this.sessionId) {
      try {
        await this.options.ssm.send(new TerminateSessionCommand({ SessionId: this.sessionId }));
      } catch (error) {
        this.options.logger.debug(`TerminateSession ${this.sessionId}: ${errorMessage(error)}`);
      }
    }
    if (end.reason !== 'stopped') this.options.logger.warning(end.message);
    this.resolveEnded(end);
  }
}

/** A stream URL without its query (which may carry a presigned signature). */
function redactUrl(url: string): string {
  return url.split('?')[0] ?? url;
}
