/**
 * The data channel's transport: a WebSocket to the session's StreamUrl, opened with the
 * OpenDataChannel message and handing every binary frame to the reliable channel.
 */
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { ReliableChannel } from './reliable-channel.js';
import { SessionStartError } from './session.js';

/** Where the data channel connects, from StartSession or ResumeSession. */
export interface StreamEndpoint {
  readonly sessionId: string;
  readonly tokenValue: string;
  readonly streamUrl: string;
}

/** The WebSocket could not be opened: a network failure, worth another ResumeSession. */
export class TransportOpenError extends SessionStartError {
  constructor(message: string, cause: Error) {
    super(message, 'DataChannelUnavailable');
    this.name = 'TransportOpenError';
    this.cause = cause;
  }
}

export interface TransportOptions {
  readonly clientId: string;
  readonly clientVersion: string;
  readonly channel: ReliableChannel;
  /** Called when the socket closes after it opened; the caller detaches the channel if it is current. */
  readonly onClose: (socket: WebSocket, code: number, reason: Buffer) => void;
}

export interface Transport {
  readonly socket: WebSocket;
  /** Resolves once the socket is open and the channel sends over it; rejects with TransportOpenError. */
  readonly opened: Promise<void>;
}

export function openTransport(endpoint: StreamEndpoint, options: TransportOptions): Transport {
  const socket = new WebSocket(endpoint.streamUrl, { perMessageDeflate: false });
  let tcp: Duplex | undefined;
  socket.once('upgrade', (response) => (tcp = response.socket));
  let isOpen = false;
  const opened = new Promise<void>((resolve, reject) => {
    socket.on('open', () => {
      isOpen = true;
      socket.send(
        JSON.stringify({
          MessageSchemaVersion: '1.0',
          RequestId: randomUUID(),
          TokenValue: endpoint.tokenValue,
          ClientId: options.clientId,
          ClientVersion: options.clientVersion,
        }),
      );
      options.channel.attach({
        send: (frame) => {
          if (socket.readyState !== WebSocket.OPEN) return;
          // Frames sent in one turn of the event loop (the acks for every read of the turn, the
          // messages of every local read) leave in one write: a loopback write costs tens of
          // microseconds, and one per frame was a third of a download's CPU.
          if (tcp && !tcp.writableCorked) {
            tcp.cork();
            setImmediate(() => tcp?.uncork());
          }
          socket.send(frame);
        },
      });
      resolve();
    });
    socket.on('error', (error) => {
      if (!isOpen)
        reject(
          new TransportOpenError(
            `Cannot open the data channel ${redactUrl(endpoint.streamUrl)}: ${error.message}`,
            error,
          ),
        );
    });
  });
  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const frame = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    options.channel.receive(frame);
  });
  socket.on('close', (code, reason) => {
    if (isOpen) options.onClose(socket, code, reason);
  });
  return { socket, opened };
}

/** A stream URL without its query (which may carry a presigned signature). */
function redactUrl(url: string): string {
  return url.split('?')[0] ?? url;
}
