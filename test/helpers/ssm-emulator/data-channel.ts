/**
 * The `ssmmessages` side of a session (MGS): the WebSocket at
 * `/v1/data-channel/<SessionId>?role=publish_subscribe`, its first text frame
 * (OpenDataChannelInput, checked against the session's current token), relaying binary frames
 * between the client and the session's agent, and channel_closed when the session ends. A
 * reconnect (after ResumeSession) replaces the socket; the agent keeps its state.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EmulatedSession } from './ssm-api.js';
import { writeChannelClosed } from './wire.js';

/** How long after channel_closed the service closes the socket. */
const CLOSE_AFTER_CHANNEL_CLOSED_MS = 50;

export class DataChannels {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  constructor(private readonly sessions: ReadonlyMap<string, EmulatedSession>) {}

  /** An HTTP upgrade: a data channel for a known session, 404 for anything else. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const match = /^\/v1\/data-channel\/([^?]+)/.exec(req.url ?? '');
    const session = match ? this.sessions.get(decodeURIComponent(match[1]!)) : undefined;
    if (!session) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(session, ws, socket));
  }

  /** Marks the session over and tells its client why (channel_closed with `output`), then hangs up. */
  end(session: EmulatedSession, output: string): void {
    if (session.status === 'Terminated') return;
    session.status = 'Terminated';
    session.endDate = new Date();
    session.output = output;
    const ws = session.socket;
    if (ws && ws.readyState === ws.OPEN) {
      ws.send(writeChannelClosed(session.sessionId, output), { binary: true });
      setTimeout(() => ws.close(1000), CLOSE_AFTER_CHANNEL_CLOSED_MS).unref();
    }
  }

  close(): void {
    this.wss.close();
  }

  private accept(session: EmulatedSession, ws: WebSocket, tcp: Duplex): void {
    let opened = false;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!opened) {
        opened = this.open(session, ws, tcp, data, isBinary);
        return;
      }
      session.agent.receive(Buffer.isBuffer(data) ? data : Buffer.from(data));
    });
    ws.on('close', () => {
      if (session.socket === ws) {
        session.socket = undefined;
        session.agent.detach();
      }
    });
  }

  /**
   * The first frame must be OpenDataChannelInput as text JSON with the session's current token;
   * the service's answer to anything else is not documented, so the socket is simply closed.
   */
  private open(session: EmulatedSession, ws: WebSocket, tcp: Duplex, data: Buffer, isBinary: boolean): boolean {
    let open: { TokenValue?: string; MessageSchemaVersion?: string };
    try {
      open = JSON.parse(data.toString('utf8')) as typeof open;
    } catch {
      ws.close(1008, 'invalid open data channel message');
      return false;
    }
    if (isBinary || open.TokenValue !== session.token || session.status !== 'Connected') {
      ws.close(1008, 'invalid token');
      return false;
    }
    session.socket?.terminate();
    session.socket = ws;
    session.connections++;
    session.agent.attach((frame) => {
      if (ws.readyState !== ws.OPEN) return;
      // The frames of one callback (the acks for one read) leave in one write, as a service batching
      // its socket writes would send them: a loopback write costs tens of microseconds here, and
      // one per frame made the emulator, not the client, the benchmark's bottleneck.
      if (!tcp.writableCorked) {
        tcp.cork();
        process.nextTick(() => tcp.uncork());
      }
      ws.send(frame, { binary: true });
    });
    return true;
  }
}
