/**
 * The smallest service side a test can watch byte for byte: a plain `ws` WebSocketServer that
 * records every frame the client sends, plays the agent's handshake (HandshakeRequest seq 0,
 * HandshakeComplete seq 1) and acknowledges the client's stream messages a test lets it. It does
 * not forward anything (no smux server, no destination): tests of forwarding use the emulator.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  HeaderFlag,
  MessageType,
  PayloadType,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  type ClientMessage,
} from '../../src/ssm/codec.js';

export interface RawAgentOptions {
  /** @default '3.3.1802.0' (mux, keep-alive off) */
  readonly agentVersion?: string;
  /** Whether to acknowledge a client stream message. @default every one */
  readonly ack?: (message: ClientMessage) => boolean;
}

export class RawAgent {
  /** Every binary frame the client sent, exactly as received. */
  readonly frames: Buffer[] = [];
  /** The text frames (OpenDataChannel JSON), one per connection. */
  readonly openMessages: Array<{ TokenValue?: string; ClientVersion?: string }> = [];
  private readonly sockets = new Set<WebSocket>();
  private nextSequence = 0n;

  private constructor(
    private readonly server: WebSocketServer,
    private readonly options: RawAgentOptions,
  ) {
    server.on('connection', (socket) => this.onConnection(socket));
  }

  static async start(options: RawAgentOptions = {}): Promise<RawAgent> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new RawAgent(server, options);
  }

  /** A stream URL for a session id, shaped like the service's. */
  streamUrl(sessionId: string): string {
    const { port } = this.server.address() as AddressInfo;
    return `ws://127.0.0.1:${port}/v1/data-channel/${sessionId}?role=publish_subscribe`;
  }

  /** The client's input_stream_data messages, decoded, in arrival order. */
  get streamMessages(): ClientMessage[] {
    return this.frames
      .map((frame) => decodeMessage(frame))
      .filter((m) => m.messageType === MessageType.InputStreamData);
  }

  /** Drops every transport without a close frame, as a network loss does. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.openMessages.push(JSON.parse(data.toString('utf8')));
        // The agent starts the handshake once per session, not per connection.
        if (this.nextSequence === 0n) this.sendStream(socket, PayloadType.HandshakeRequest, this.handshakeRequest());
        return;
      }
      this.frames.push(Buffer.from(data));
      const message = decodeMessage(data);
      if (message.messageType !== MessageType.InputStreamData) return;
      if (this.options.ack?.(message) ?? true) socket.send(encodeAcknowledge(message));
      if (message.payloadType === PayloadType.HandshakeResponse && this.nextSequence === 1n) {
        this.sendStream(socket, PayloadType.HandshakeComplete, {
          HandshakeTimeToComplete: 1_000_000,
          CustomerMessage: '',
        });
      }
    });
  }

  private handshakeRequest(): object {
    return {
      AgentVersion: this.options.agentVersion ?? '3.3.1802.0',
      RequestedClientActions: [
        {
          ActionType: 'SessionType',
          ActionParameters: { SessionType: 'Port', Properties: { portNumber: '80', type: 'LocalPortForwarding' } },
        },
      ],
    };
  }

  private sendStream(socket: WebSocket, payloadType: number, body: object): void {
    const sequenceNumber = this.nextSequence++;
    socket.send(
      encodeMessage({
        messageType: MessageType.OutputStreamData,
        sequenceNumber,
        // The agent marks its first output message SYN (§4 of the protocol reference).
        flags: sequenceNumber === 0n ? HeaderFlag.Syn : HeaderFlag.None,
        payloadType,
        payload: Buffer.from(JSON.stringify(body)),
      }),
    );
  }
}
