/**
 * Basic forwarding, for agents up to 3.0.196.0: the data channel carries one local connection's
 * raw bytes at a time; the next connection waits, and DisconnectToPort tells the agent each ended.
 */
import type { Socket } from 'node:net';
import { Flag } from './codec.js';
import type { Forwarder, ForwarderChannel } from './forwarder.js';
import { agentAcceptsTerminateFlag } from './handshake.js';
import { writeBatched } from './local-writes.js';

export class BasicForwarder implements Forwarder {
  readonly mode = 'basic';
  readonly acceptsTerminateFlag: boolean;
  private active?: Socket;
  private readonly waiting: Socket[] = [];

  constructor(
    private readonly channel: ForwarderChannel,
    agentVersion: string,
  ) {
    this.acceptsTerminateFlag = agentAcceptsTerminateFlag(agentVersion);
  }

  accept(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    this.activate(socket);
  }

  private activate(socket: Socket): void {
    if (this.active) {
      socket.pause();
      this.waiting.push(socket);
      return;
    }
    this.active = socket;
    socket.on('data', (chunk: Buffer) => this.channel.write(chunk));
    socket.on('close', () => {
      if (this.active !== socket) return;
      this.active = undefined;
      if (!this.channel.finished() && !this.channel.stopping()) this.channel.sendFlag(Flag.DisconnectToPort);
      const next = this.waiting.shift();
      if (next) this.activate(next);
    });
    socket.resume();
    this.channel.readyToReceive();
  }

  receive(payload: Buffer): boolean {
    if (!this.active) return false; // no local connection yet: let the agent resend later
    writeBatched(this.active, payload);
    return true;
  }

  pauseReads(): void {
    this.active?.pause();
  }

  resumeReads(): void {
    this.active?.resume();
  }

  close(): void {
    for (const socket of [...this.waiting, ...(this.active ? [this.active] : [])]) socket.destroy();
    this.waiting.length = 0;
  }
}
