/**
 * A native Session Manager port-forwarding session: StartSession, the data channel (a reliable
 * channel over a WebSocket), the handshake and message dispatch, then a local TCP listener whose
 * connections a forwarder carries (mux or basic, picked once from the agent's version). Survives
 * transport loss with ResumeSession, ends with the TerminateSession flag and API, and always
 * releases the local port.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { ResumeSessionCommand, TerminateSessionCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { errorMessage, withOperation } from '../errors.js';
import type { Logger } from '../logger.js';
import { isTransientAwsError, retry } from '../retry.js';
import { Flag, PayloadType, flagPayload, parseJsonPayload, readFlag, type ClientMessage } from './codec.js';
import { STREAM_DATA_PAYLOAD_SIZE, createForwarder, type Forwarder, type ForwarderChannel } from './forwarder.js';
import {
  CLIENT_VERSION,
  answerHandshake,
  forwardingMode,
  type ForwardingMode,
  type HandshakeRequest,
} from './handshake.js';
import { OutputCoalescer } from './output-coalescer.js';
import { ReliableChannel } from './reliable-channel.js';
import {
  SessionStartError,
  startSession,
  startSessionRequest,
  type ForwardingSession,
  type SessionEnd,
} from './session.js';
import { TransportOpenError, openTransport, type StreamEndpoint, type Transport } from './transport.js';

// What callers imported from this module before the session types moved to session.ts.
export { STREAM_DATA_PAYLOAD_SIZE } from './forwarder.js';
export {
  PORT_FORWARDING_DOCUMENT,
  REMOTE_HOST_DOCUMENT,
  SessionStartError,
  type ForwardingSession,
  type SessionEnd,
  type SessionEndReason,
} from './session.js';

export interface PortForwardingOptions {
  /** A client with the SDK's own retries off (awsClientConfig): the session retries with `retry()`. */
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
  /** ResumeSession attempts after a transport loss (transient failures only). @default 5 */
  readonly resumeAttempts?: number;
  /** How long stop() waits for the TerminateSession flag's acknowledgement. @default 2000 */
  readonly stopTimeoutMs?: number;
}

/**
 * The client's acknowledgements wait up to this long to share a write: a response's ack then
 * leaves with the FIN its connection sends next, a download's acks leave in fewer, larger writes.
 */
const ACK_DELAY_MS = 2;

/** Thrown inside the resume loop when the session ended meanwhile: nothing left to resume. */
class ResumeAbandoned extends Error {}

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
  private transport?: Transport;
  private readonly channel: ReliableChannel;
  private readonly server: Server;
  /** Local connections accepted before the handshake completed, paused until it does. */
  private readonly pendingConnections: Socket[] = [];
  private forwarder?: Forwarder;
  /** The forwarded stream's bytes, packed into as few Output messages as a turn of the event loop allows. */
  private readonly output = new OutputCoalescer(
    (payload) => void this.channel.send(PayloadType.Output, payload),
    STREAM_DATA_PAYLOAD_SIZE,
  );
  private handshakeWaiter?: { resolve: () => void; reject: (error: Error) => void };
  private finished = false;
  private stopping?: Promise<void>;

  private constructor(private readonly options: PortForwardingOptions) {
    super();
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.channel = new ReliableChannel({
      sendType: 'input_stream_data',
      onMessage: (message) => this.onMessage(message),
      maxUnacked: options.maxUnacked,
      // The plugin's input messages carry header flags 0, the first one included.
      synOnFirstMessage: false,
      ackDelayMs: ACK_DELAY_MS,
    });
    this.channel.on('drain', () => this.forwarder?.resumeReads());
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
    const { ssm, target, remotePort, remoteHost, logger } = this.options;
    const request = startSessionRequest({ target, remotePort, remoteHost, localPort: this.localPort });
    const response = await startSession(ssm, request, logger);
    if (!response.SessionId || !response.TokenValue || !response.StreamUrl) {
      throw new SessionStartError('StartSession returned no SessionId, TokenValue or StreamUrl.');
    }
    this.sessionId = response.SessionId;
    this.endpoint = { sessionId: response.SessionId, tokenValue: response.TokenValue, streamUrl: response.StreamUrl };
    this.log(
      `Started session ${this.sessionId} to ${target} (${request.DocumentName}, port ${remotePort}${remoteHost ? ` on ${remoteHost}` : ''}).`,
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
    this.transport = openTransport(endpoint, {
      clientId: this.clientId,
      clientVersion: this.options.clientVersion ?? CLIENT_VERSION,
      channel: this.channel,
      onClose: (socket, code, reason) => {
        if (this.transport?.socket !== socket) return;
        this.channel.detach();
        if (this.finished || this.stopping) return;
        this.log(
          `Data channel closed (${code}${reason.length ? ` ${reason.toString()}` : ''}); resuming session ${this.sessionId}.`,
        );
        void this.resume();
      },
    });
    return this.transport.opened;
  }

  /**
   * ResumeSession after a transport loss, keeping every sequence number and unacked message.
   * Only transient failures are retried (throttling, 5xx, network, a WebSocket that would not
   * open): a denied ResumeSession ends the session at once.
   */
  private async resume(): Promise<void> {
    const attempts = this.options.resumeAttempts ?? 5;
    let outcome: 'resumed' | 'timed-out';
    let attempt = 0;
    try {
      outcome = await retry(
        async (current) => {
          attempt = current;
          if (this.finished || this.stopping) throw new ResumeAbandoned();
          const response = await this.options.ssm.send(new ResumeSessionCommand({ SessionId: this.sessionId }));
          // The session may have ended while ResumeSession was in flight: open no socket for it.
          // (A stop() in progress still reconnects, so its TerminateSession flag reaches the agent.)
          if (this.finished) throw new ResumeAbandoned();
          if (!response.TokenValue) return 'timed-out';
          this.endpoint = {
            sessionId: this.sessionId,
            tokenValue: response.TokenValue,
            streamUrl: response.StreamUrl ?? this.endpoint!.streamUrl,
          };
          await this.connect(this.endpoint);
          return 'resumed';
        },
        {
          operation: `ResumeSession ${this.sessionId}`,
          isRetryable: (error) => error instanceof TransportOpenError || isTransientAwsError(error),
          maxAttempts: attempts,
          baseDelayMs: 200,
          maxDelayMs: 5000,
          logger: this.options.logger,
        },
      );
    } catch (error) {
      if (error instanceof ResumeAbandoned || this.finished || this.stopping) return;
      const reason =
        error instanceof TransportOpenError ? error.message : withOperation('ResumeSession', error).message;
      await this.finish(
        {
          reason: 'failed',
          message: `Session ${this.sessionId}: the data channel was lost and could not be resumed (${reason}).`,
        },
        true,
      );
      return;
    }
    if (outcome === 'timed-out') {
      await this.finish({ reason: 'failed', message: `Session: ${this.sessionId} timed out.` });
      return;
    }
    this.log(`Resumed session ${this.sessionId} (attempt ${attempt}).`);
    this.emit('reconnected', attempt);
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
        this.forwarder ??= this.createForwarder();
        this.log(
          `Handshake complete with agent ${this.agentVersion} (${this.mode} mode); forwarding 127.0.0.1:${this.localPort}.`,
        );
        this.handshakeWaiter?.resolve();
        return true;
      }
      case PayloadType.Output:
        // Data before HandshakeComplete is dropped (and acknowledged), as the plugin does.
        return this.forwarder ? this.forwarder.receive(message.payload) : true;
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

  /** The forwarder for the mode the HandshakeRequest decided, with what it may do on the data channel. */
  private createForwarder(): Forwarder {
    const channel: ForwarderChannel = {
      write: (bytes) => this.writeStream(bytes),
      sendFlag: (flag) => void this.sendFlag(flag),
      writable: () => this.channel.writable,
      finished: () => this.finished,
      stopping: () => Boolean(this.stopping),
      fail: (message) => void this.finish({ reason: 'failed', message }, true),
      emit: (event, ...args) => this.emit(event, ...args),
      readyToReceive: () => this.channel.retryDelivery(),
    };
    return createForwarder(this.mode ?? 'basic', channel, {
      agentVersion: this.agentVersion ?? '',
      keepAliveIntervalMs: this.options.keepAliveIntervalMs,
    });
  }

  private onLocalConnection(socket: Socket): void {
    socket.setNoDelay(true);
    if (!this.forwarder) {
      socket.pause();
      this.pendingConnections.push(socket);
      return;
    }
    if (this.finished || this.stopping) {
      socket.destroy();
      return;
    }
    this.forwarder.accept(socket);
  }

  /** Writes bytes of the forwarded stream, at most STREAM_DATA_PAYLOAD_SIZE per data-channel message. */
  private writeStream(bytes: Buffer): void {
    this.output.write(bytes);
    if (!this.channel.writable) this.forwarder?.pauseReads();
  }

  /** A Flag message, after the stream bytes written before it (DisconnectToPort must not overtake them). */
  private sendFlag(flag: number): bigint {
    this.output.flush();
    return this.channel.send(PayloadType.Flag, flagPayload(flag));
  }

  // ---- ending ----

  /** Ends the session from this side: TerminateSession flag, then the API, and releases the port. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.finished) return;
      if (this.forwarder?.acceptsTerminateFlag) {
        const sequence = this.sendFlag(Flag.TerminateSession);
        await this.waitForAck(sequence, this.options.stopTimeoutMs ?? 2000);
      }
      await this.finish({ reason: 'stopped', message: `Session ${this.sessionId} stopped.` }, true);
    })();
    return this.stopping;
  }

  /**
   * Resolves when the agent acknowledges `sequence`, when the session ends, or after `timeoutMs`.
   * Call it in the same tick as the send: an acknowledgement arrives on a later WebSocket event.
   */
  private waitForAck(sequence: bigint, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.channel.off('acked', onAcked);
        resolve();
      };
      const onAcked = (acked: bigint): void => {
        if (acked === sequence) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.channel.on('acked', onAcked);
      void this.ended.then(done);
    });
  }

  private async finish(end: SessionEnd, terminateApi = false): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.output.clear();
    this.channel.close();
    this.transport?.socket.close(1000);
    this.transport?.socket.terminate();
    this.forwarder?.close();
    for (const socket of this.pendingConnections.splice(0)) socket.destroy();
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
