/**
 * A local stand-in for the parts of AWS the forwarding path needs and moto lacks: the SSM session
 * APIs (ssm-api.ts), the ECS runtime view (ecs-api.ts) and the `ssmmessages` WebSocket data
 * channel (data-channel.ts), where each session is played by an AgentSession (agent-session.ts).
 * This file holds the one server and the wiring. Real SDK clients talk to it through its endpoint
 * (AWS JSON 1.1 protocol); real TCP reaches real targets on loopback. It frames messages with its
 * own codec (wire.ts, smux-wire.ts), never the client's.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentSession, type Faults } from './agent-session.js';
import { serveAwsJson } from './aws-json.js';
import { DataChannels } from './data-channel.js';
import { ecsApi } from './ecs-api.js';
import type { Scenario } from './scenario.js';
import { ssmApi, type EmulatedSession, type SessionRequest } from './ssm-api.js';

export type { EmulatedSession } from './ssm-api.js';

export interface EmulatorOptions {
  /** How long the agent waits for the HandshakeResponse. @default 15000 */
  readonly handshakeTimeoutMs?: number;
  /** Session Manager's idle timeout. @default 20 min */
  readonly idleTimeoutMs?: number;
  /** The agent's smux keep-alive (when on). @default 10 s / 30 s */
  readonly keepAlive?: { readonly intervalMs: number; readonly timeoutMs: number };
  readonly faults?: Faults;
  /** Seeded randomness for reproducible faults. */
  readonly random?: () => number;
}

export class SsmEmulator {
  readonly sessions = new Map<string, EmulatedSession>();
  /** Every API call, as `Service.Operation`. */
  readonly calls: string[] = [];
  faults: Faults;
  private server?: Server;
  private readonly channels = new DataChannels(this.sessions);
  private readonly apis = {
    AmazonSSM: {
      name: 'SSM',
      handle: ssmApi({
        sessions: this.sessions,
        scenario: () => this.scenario,
        openSession: (request) => this.openSession(request),
        streamUrl: (sessionId) => this.streamUrl(sessionId),
      }),
    },
    AmazonEC2ContainerServiceV20141113: { name: 'ECS', handle: ecsApi(() => this.scenario) },
  };

  constructor(
    public scenario: Scenario,
    private readonly options: EmulatorOptions = {},
  ) {
    this.faults = options.faults ?? {};
  }

  get endpoint(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Environment that points SDK clients (and the actions) at this emulator for SSM and ECS. */
  env(): Record<string, string> {
    return { AWS_ENDPOINT_URL_SSM: this.endpoint, AWS_ENDPOINT_URL_ECS: this.endpoint };
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void serveAwsJson(req, res, this.apis, (call) => this.calls.push(call)));
    this.server.on('upgrade', (req, socket, head: Buffer) => this.channels.upgrade(req, socket, head));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const session of this.sessions.values()) {
      session.agent.end('');
      session.socket?.terminate();
    }
    this.channels.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Active sessions (not terminated). */
  activeSessions(): EmulatedSession[] {
    return [...this.sessions.values()].filter((session) => session.status === 'Connected');
  }

  /** Closes every data channel with 1000 "Bye", as the service does about hourly: clients must resume. */
  recycleConnections(): void {
    for (const session of this.activeSessions()) session.socket?.close(1000, 'Bye');
  }

  /** Breaks every data channel without a close frame (a network failure). */
  dropConnections(): void {
    for (const session of this.activeSessions()) session.socket?.terminate();
  }

  /** Ends a session from the service side with channel_closed carrying `output`. */
  closeSession(sessionId: string, output: string): void {
    this.sessions.get(sessionId)?.agent.end(output);
  }

  /** A started session and the agent that plays it, with this emulator's options and live faults. */
  private openSession(request: SessionRequest): EmulatedSession {
    const { properties, ...fields } = request;
    const session: EmulatedSession = {
      ...fields,
      startDate: new Date(),
      status: 'Connected',
      connections: 0,
      agent: new AgentSession({
        sessionId: request.sessionId,
        agentVersion: this.scenario.agentVersion,
        properties,
        resolve: (host, port) => this.scenario.destinations[`${host}:${port}`],
        handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? 15_000,
        idleTimeoutMs: this.options.idleTimeoutMs ?? 20 * 60_000,
        keepAlive: this.options.keepAlive ?? { intervalMs: 10_000, timeoutMs: 30_000 },
        // Read through to `this.faults` so a test can change faults while a session runs.
        faults: new Proxy({}, { get: (_t, key) => this.faults[key as keyof Faults] }) as Faults,
        random: this.options.random ?? Math.random,
        onEnd: (output) => this.channels.end(session, output),
      }),
    };
    return session;
  }

  private streamUrl(sessionId: string): string {
    const cell = randomBytes(6).toString('base64url');
    return `${this.endpoint.replace(/^http/, 'ws')}/v1/data-channel/${encodeURIComponent(sessionId)}?role=publish_subscribe&cell-number=${cell}`;
  }
}
