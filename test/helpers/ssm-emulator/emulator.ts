/**
 * A local stand-in for the parts of AWS the forwarding path needs and moto lacks: the SSM session
 * APIs (StartSession, ResumeSession, TerminateSession, DescribeSessions), the ECS runtime view
 * (ListTasks, DescribeTasks, DescribeServices, DescribeTaskDefinition) and the `ssmmessages`
 * WebSocket data channel, where each session is played by an AgentSession. Real SDK clients talk
 * to it through its endpoint (AWS JSON 1.1 protocol); real TCP reaches real targets on loopback.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { MessageType, encodeMessage } from '../../../actions/shared/src/ssm/codec.js';
import { AgentSession, type Faults } from './agent-session.js';
import type { Destination, EmulatedCluster, EmulatedService, EmulatedTask, Scenario } from './scenario.js';

const PORT_DOCUMENTS = ['AWS-StartPortForwardingSession', 'AWS-StartPortForwardingSessionToRemoteHost'];

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

export interface EmulatedSession {
  readonly sessionId: string;
  readonly target: string;
  readonly documentName: string;
  readonly owner: string;
  readonly startDate: Date;
  status: 'Connected' | 'Terminated';
  endDate?: Date;
  token: string;
  /** channel_closed Output, once ended. */
  output?: string;
  readonly agent: AgentSession;
  socket?: WebSocket;
  connections: number;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class SsmEmulator {
  readonly sessions = new Map<string, EmulatedSession>();
  /** Every API call, as `Service.Operation`. */
  readonly calls: string[] = [];
  faults: Faults;
  private server?: Server;
  private wss?: WebSocketServer;

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
    this.server = createServer((req, res) => void this.handleHttp(req, res));
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    this.server.on('upgrade', (req, socket, head) => {
      const match = /^\/v1\/data-channel\/([^?]+)/.exec(req.url ?? '');
      const session = match ? this.sessions.get(decodeURIComponent(match[1]!)) : undefined;
      if (!session) {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      this.wss!.handleUpgrade(req, socket, head, (ws) => this.onDataChannel(session, ws));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const session of this.sessions.values()) {
      session.agent.end('');
      session.socket?.terminate();
    }
    this.wss?.close();
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

  // ---- data channel ----

  private onDataChannel(session: EmulatedSession, ws: WebSocket): void {
    let opened = false;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!opened) {
        // First frame: OpenDataChannelInput (text JSON) with the current token.
        let open: { TokenValue?: string; MessageSchemaVersion?: string };
        try {
          open = JSON.parse(data.toString('utf8')) as typeof open;
        } catch {
          ws.close(1008, 'invalid open data channel message');
          return;
        }
        if (isBinary || open.TokenValue !== session.token || session.status !== 'Connected') {
          ws.close(1008, 'invalid token');
          return;
        }
        opened = true;
        session.socket?.terminate();
        session.socket = ws;
        session.connections++;
        session.agent.attach((frame) => {
          if (ws.readyState === ws.OPEN) ws.send(frame, { binary: true });
        });
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

  private endSession(session: EmulatedSession, output: string): void {
    if (session.status === 'Terminated') return;
    session.status = 'Terminated';
    session.endDate = new Date();
    session.output = output;
    const ws = session.socket;
    if (ws && ws.readyState === ws.OPEN) {
      ws.send(channelClosedFrame(session, output), { binary: true });
      setTimeout(() => ws.close(1000), 50).unref();
    }
  }

  // ---- AWS JSON 1.1 APIs ----

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const [service, operation] = target.split('.');
    try {
      const input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      this.calls.push(`${service === 'AmazonSSM' ? 'SSM' : 'ECS'}.${operation}`);
      const output = service === 'AmazonSSM' ? this.ssm(operation!, input, req) : this.ecs(operation!, input);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(output));
    } catch (error) {
      const failure = error instanceof ApiError ? error : new ApiError('InternalServerError', String(error), 500);
      res.writeHead(failure.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': failure.type });
      res.end(JSON.stringify({ __type: failure.type, message: failure.message }));
    }
  }

  private ssm(operation: string, input: Record<string, unknown>, req: IncomingMessage): unknown {
    switch (operation) {
      case 'StartSession':
        return this.startSession(input, callerOf(req));
      case 'ResumeSession': {
        const session = this.sessions.get(String(input.SessionId));
        if (!session) throw new ApiError('DoesNotExistException', `Session ${String(input.SessionId)} does not exist`);
        if (session.status !== 'Connected') return { SessionId: session.sessionId };
        session.token = randomBytes(32).toString('base64');
        return {
          SessionId: session.sessionId,
          TokenValue: session.token,
          StreamUrl: this.streamUrl(session.sessionId),
        };
      }
      case 'TerminateSession': {
        const session = this.sessions.get(String(input.SessionId));
        if (session) session.agent.end('');
        return { SessionId: input.SessionId };
      }
      case 'DescribeSessions': {
        const state = String(input.State ?? 'Active');
        const sessions = [...this.sessions.values()].filter((s) =>
          state === 'Active' ? s.status === 'Connected' : s.status === 'Terminated',
        );
        return {
          Sessions: sessions.map((s) => ({
            SessionId: s.sessionId,
            Target: s.target,
            Status: s.status,
            StartDate: s.startDate.getTime() / 1000,
            ...(s.endDate ? { EndDate: s.endDate.getTime() / 1000 } : {}),
            DocumentName: s.documentName,
            Owner: s.owner,
          })),
        };
      }
      default:
        throw new ApiError('InvalidAction', `SSM operation ${operation} is not emulated`);
    }
  }

  private startSession(input: Record<string, unknown>, owner: string): unknown {
    const target = String(input.Target ?? '');
    const documentName = String(input.DocumentName ?? 'SSM-SessionManagerRunShell');
    if (!PORT_DOCUMENTS.includes(documentName)) {
      throw new ApiError(
        'InvalidDocument',
        `Document ${documentName} is not a port forwarding document this emulator serves`,
      );
    }
    const parameters = (input.Parameters ?? {}) as Record<string, string[]>;
    const portNumber = parameters.portNumber?.[0];
    if (!portNumber) throw new ApiError('InvalidParameters', 'portNumber is required');
    if (documentName.endsWith('ToRemoteHost') && !parameters.host?.[0])
      throw new ApiError('InvalidParameters', 'host is required');
    if (!this.targetConnected(target)) throw new ApiError('TargetNotConnected', `${target} is not connected.`);

    const sessionId = `${owner}-${randomBytes(9).toString('hex').slice(0, 17)}`;
    const properties: Record<string, string> = {
      portNumber,
      type: 'LocalPortForwarding',
      localPortNumber: parameters.localPortNumber?.[0] ?? '0',
      ...(parameters.host?.[0] ? { host: parameters.host[0] } : {}),
    };
    const session: EmulatedSession = {
      sessionId,
      target,
      documentName,
      owner,
      startDate: new Date(),
      status: 'Connected',
      token: randomBytes(32).toString('base64'),
      connections: 0,
      agent: new AgentSession({
        sessionId,
        agentVersion: this.scenario.agentVersion,
        properties,
        resolve: (host, port) => this.resolveDestination(host, port),
        handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? 15_000,
        idleTimeoutMs: this.options.idleTimeoutMs ?? 20 * 60_000,
        keepAlive: this.options.keepAlive ?? { intervalMs: 10_000, timeoutMs: 30_000 },
        faults: new Proxy({}, { get: (_t, key) => this.faults[key as keyof Faults] }) as Faults,
        random: this.options.random ?? Math.random,
        onEnd: (output) => this.endSession(session, output),
      }),
    };
    this.sessions.set(sessionId, session);
    return { SessionId: sessionId, TokenValue: session.token, StreamUrl: this.streamUrl(sessionId) };
  }

  private streamUrl(sessionId: string): string {
    const cell = Buffer.from(randomBytes(6)).toString('base64url');
    return `${this.endpoint.replace(/^http/, 'ws')}/v1/data-channel/${encodeURIComponent(sessionId)}?role=publish_subscribe&cell-number=${cell}`;
  }

  private resolveDestination(host: string, port: number): Destination | undefined {
    return this.scenario.destinations[`${host}:${port}`];
  }

  /** ECS targets are connected only when the task runs with exec enabled and a RUNNING agent. */
  private targetConnected(target: string): boolean {
    const match = /^ecs:([^_]+)_([^_]+)_(.+)$/.exec(target);
    if (!match || this.scenario.agentsReachSsm === false) return false;
    const [, clusterName, taskId, runtimeId] = match;
    const cluster = this.scenario.clusters.find((c) => c.clusterName === clusterName);
    const task = cluster?.services.flatMap((s) => s.tasks).find((t) => t.taskId === taskId);
    const container = task?.containers.find((c) => c.runtimeId === runtimeId);
    return Boolean(
      task &&
      container &&
      task.lastStatus === 'RUNNING' &&
      task.enableExecuteCommand &&
      container.agentStatus === 'RUNNING',
    );
  }

  private ecs(operation: string, input: Record<string, unknown>): unknown {
    if (operation === 'DescribeTaskDefinition') return this.describeTaskDefinition(String(input.taskDefinition ?? ''));
    if (operation === 'DescribeClusters') return this.describeClusters((input.clusters ?? ['default']) as string[]);
    const cluster = this.cluster(input.cluster);
    const { account, region } = this.scenario;
    const clusterArn = `arn:aws:ecs:${region}:${account}:cluster/${cluster.clusterName}`;
    const taskArn = (task: EmulatedTask): string =>
      `arn:aws:ecs:${region}:${account}:task/${cluster.clusterName}/${task.taskId}`;
    const serviceArn = (service: EmulatedService): string =>
      `arn:aws:ecs:${region}:${account}:service/${cluster.clusterName}/${service.serviceName}`;
    switch (operation) {
      case 'ListTasks': {
        const services = input.serviceName
          ? cluster.services.filter((s) => s.serviceName === input.serviceName)
          : cluster.services;
        if (input.serviceName && services.length === 0)
          throw new ApiError('ServiceNotFoundException', 'Service not found.');
        const desired = String(input.desiredStatus ?? 'RUNNING');
        const tasks = services
          .flatMap((s) => s.tasks)
          .filter((t) => (desired === 'STOPPED' ? t.lastStatus === 'STOPPED' : t.lastStatus !== 'STOPPED'));
        return { taskArns: tasks.map(taskArn) };
      }
      case 'DescribeTasks': {
        const wanted = ((input.tasks ?? []) as string[]).map((id) => id.split('/').pop());
        const found = cluster.services
          .flatMap((service) => service.tasks.map((task) => ({ service, task })))
          .filter(({ task }) => wanted.includes(task.taskId));
        return {
          tasks: found.map(({ service, task }) => ({
            taskArn: taskArn(task),
            clusterArn,
            taskDefinitionArn: task.taskDefinitionArn,
            lastStatus: task.lastStatus,
            desiredStatus: task.lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
            launchType: 'FARGATE',
            platformVersion: task.platformVersion,
            enableExecuteCommand: task.enableExecuteCommand,
            group: `service:${service.serviceName}`,
            containers: task.containers.map((container) => ({
              name: container.name,
              runtimeId: container.runtimeId,
              lastStatus: task.lastStatus,
              taskArn: taskArn(task),
              managedAgents: container.agentStatus
                ? [{ name: 'ExecuteCommandAgent', lastStatus: container.agentStatus }]
                : [],
            })),
          })),
          failures: wanted
            .filter((id) => !found.some(({ task }) => task.taskId === id))
            .map((id) => ({ arn: id, reason: 'MISSING' })),
        };
      }
      case 'DescribeServices': {
        const names = ((input.services ?? []) as string[]).map((name) => name.split('/').pop());
        const services = cluster.services.filter((s) => names.includes(s.serviceName));
        return {
          services: services.map((service) => {
            const running = service.tasks.filter(
              (t) => t.lastStatus === 'RUNNING' && t.taskDefinitionArn === service.taskDefinitionArn,
            ).length;
            return {
              serviceName: service.serviceName,
              serviceArn: serviceArn(service),
              clusterArn,
              status: 'ACTIVE',
              desiredCount: service.desiredCount,
              runningCount: service.tasks.filter((t) => t.lastStatus === 'RUNNING').length,
              taskDefinition: service.taskDefinitionArn,
              enableExecuteCommand: service.enableExecuteCommand,
              platformVersion: service.platformVersion,
              launchType: 'FARGATE',
              networkConfiguration: {
                awsvpcConfiguration: {
                  subnets: service.subnets ?? [],
                  securityGroups: service.securityGroups ?? [],
                  assignPublicIp: 'DISABLED',
                },
              },
              deployments: [
                {
                  id: `ecs-svc/${service.serviceName}`,
                  status: 'PRIMARY',
                  taskDefinition: service.taskDefinitionArn,
                  desiredCount: service.desiredCount,
                  runningCount: running,
                  rolloutState: service.rolloutState,
                },
              ],
            };
          }),
          failures: names
            .filter((n) => !services.some((s) => s.serviceName === n))
            .map((n) => ({ arn: n, reason: 'MISSING' })),
        };
      }
      default:
        throw new ApiError('InvalidAction', `ECS operation ${operation} is not emulated`);
    }
  }

  /**
   * A task definition as the scenario implies it: its containers (environment names, secrets,
   * read-only root) from the first task that runs it, its task role from the service.
   */
  private describeTaskDefinition(wanted: string): unknown {
    const { account, region } = this.scenario;
    const matches = (arn: string): boolean =>
      arn === wanted || arn.split('/').pop() === wanted || arn.split('/').pop()!.split(':')[0] === wanted;
    for (const service of this.scenario.clusters.flatMap((c) => c.services)) {
      const task = service.tasks.find((t) => matches(t.taskDefinitionArn));
      const arn =
        task?.taskDefinitionArn ?? (matches(service.taskDefinitionArn) ? service.taskDefinitionArn : undefined);
      if (!arn) continue;
      const [family, revision] = arn.split('/').pop()!.split(':');
      const containers = task?.containers ?? service.tasks[0]?.containers ?? [];
      return {
        taskDefinition: {
          taskDefinitionArn: arn,
          family,
          revision: Number(revision),
          status: 'ACTIVE',
          networkMode: 'awsvpc',
          requiresCompatibilities: ['FARGATE'],
          compatibilities: ['EC2', 'FARGATE'],
          ...(service.taskRoleArn ? { taskRoleArn: service.taskRoleArn } : {}),
          executionRoleArn: `arn:aws:iam::${account}:role/${family}-ExecutionRole`,
          containerDefinitions: containers.map((container) => ({
            name: container.name,
            image: `${account}.dkr.ecr.${region}.amazonaws.com/ecr-public/nginx/nginx:1.28-alpine`,
            essential: true,
            readonlyRootFilesystem: container.readonlyRootFilesystem ?? false,
            environment: (container.environment ?? []).map((name) => ({ name, value: 'value' })),
            secrets: (container.secrets ?? []).map((name) => ({
              name,
              valueFrom: `arn:aws:ssm:${region}:${account}:parameter/${name}`,
            })),
          })),
        },
      };
    }
    throw new ApiError('ClientException', 'Unable to describe task definition.');
  }

  private describeClusters(names: string[]): unknown {
    const { account, region } = this.scenario;
    const wanted = names.map((name) => name.split('/').pop());
    const clusters = this.scenario.clusters.filter((c) => wanted.includes(c.clusterName));
    return {
      clusters: clusters.map((cluster) => ({
        clusterName: cluster.clusterName,
        clusterArn: `arn:aws:ecs:${region}:${account}:cluster/${cluster.clusterName}`,
        status: 'ACTIVE',
        configuration: {
          executeCommandConfiguration: {
            logging: cluster.execLogging?.logging ?? 'DEFAULT',
            ...(cluster.execLogging?.cloudWatchLogGroupName
              ? { logConfiguration: { cloudWatchLogGroupName: cluster.execLogging.cloudWatchLogGroupName } }
              : {}),
          },
        },
      })),
      failures: wanted
        .filter((name) => !clusters.some((c) => c.clusterName === name))
        .map((name) => ({ arn: `arn:aws:ecs:${region}:${account}:cluster/${name}`, reason: 'MISSING' })),
    };
  }

  private cluster(name: unknown): EmulatedCluster {
    const clusterName = String(name ?? 'default')
      .split('/')
      .pop();
    const cluster = this.scenario.clusters.find((c) => c.clusterName === clusterName);
    if (!cluster) throw new ApiError('ClusterNotFoundException', 'Cluster not found.');
    return cluster;
  }
}

/** The session id prefix: the caller's access key id, as a stand-in for the IAM user or role session. */
function callerOf(req: IncomingMessage): string {
  const credential = /Credential=([A-Z0-9]+)\//.exec(String(req.headers.authorization ?? ''));
  return (credential?.[1] ?? 'anonymous').toLowerCase();
}

function channelClosedFrame(session: EmulatedSession, output: string): Buffer {
  const payload = {
    MessageId: randomUUID(),
    CreatedDate: new Date().toISOString(),
    DestinationId: randomUUID(),
    SessionId: session.sessionId,
    MessageType: 'channel_closed',
    SchemaVersion: 1,
    Output: output,
  };
  return encodeMessage({ messageType: MessageType.ChannelClosed, payload: Buffer.from(JSON.stringify(payload)) });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
