/**
 * The SSM session API (StartSession, ResumeSession, TerminateSession, DescribeSessions): the
 * session records, their tokens and stream URLs, and when a target counts as connected. The agent
 * behind a session is made by the caller (`openSession`), so this module knows nothing of sockets.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { AgentSession } from './agent-session.js';
import { ApiError, type ApiHandler } from './aws-json.js';
import type { Scenario } from './scenario.js';

const PORT_DOCUMENTS = ['AWS-StartPortForwardingSession', 'AWS-StartPortForwardingSessionToRemoteHost'];

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

/** What StartSession decided, for the caller to build the session (and its agent) from. */
export interface SessionRequest {
  readonly sessionId: string;
  readonly target: string;
  readonly documentName: string;
  readonly owner: string;
  readonly token: string;
  /** The document's `properties` after parameter substitution, as the HandshakeRequest carries them. */
  readonly properties: Record<string, string>;
}

export interface SsmApiContext {
  readonly sessions: Map<string, EmulatedSession>;
  readonly scenario: () => Scenario;
  readonly openSession: (request: SessionRequest) => EmulatedSession;
  readonly streamUrl: (sessionId: string) => string;
}

export function ssmApi(context: SsmApiContext): ApiHandler {
  const { sessions } = context;
  return (operation, input, req) => {
    switch (operation) {
      case 'StartSession': {
        const session = context.openSession(sessionRequest(input, callerOf(req), context.scenario()));
        sessions.set(session.sessionId, session);
        return {
          SessionId: session.sessionId,
          TokenValue: session.token,
          StreamUrl: context.streamUrl(session.sessionId),
        };
      }
      case 'ResumeSession': {
        const session = sessions.get(String(input.SessionId));
        if (!session) throw new ApiError('DoesNotExistException', `Session ${String(input.SessionId)} does not exist`);
        // No token tells the client the session is over (the plugin prints "Session: <id> timed out.").
        if (session.status !== 'Connected') return { SessionId: session.sessionId };
        session.token = newToken();
        return {
          SessionId: session.sessionId,
          TokenValue: session.token,
          StreamUrl: context.streamUrl(session.sessionId),
        };
      }
      case 'TerminateSession': {
        sessions.get(String(input.SessionId))?.agent.end('');
        return { SessionId: input.SessionId };
      }
      case 'DescribeSessions': {
        const state = String(input.State ?? 'Active');
        const matching = [...sessions.values()].filter((s) =>
          state === 'Active' ? s.status === 'Connected' : s.status === 'Terminated',
        );
        return {
          Sessions: matching.map((s) => ({
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
  };
}

function sessionRequest(input: Record<string, unknown>, owner: string, scenario: Scenario): SessionRequest {
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
  const host = parameters.host?.[0];
  if (documentName.endsWith('ToRemoteHost') && !host) throw new ApiError('InvalidParameters', 'host is required');
  if (!targetConnected(scenario, target)) throw new ApiError('TargetNotConnected', `${target} is not connected.`);
  return {
    sessionId: `${owner}-${randomBytes(9).toString('hex').slice(0, 17)}`,
    target,
    documentName,
    owner,
    token: newToken(),
    properties: {
      portNumber,
      type: 'LocalPortForwarding',
      localPortNumber: parameters.localPortNumber?.[0] ?? '0',
      ...(host ? { host } : {}),
    },
  };
}

function newToken(): string {
  return randomBytes(32).toString('base64');
}

/** The session id prefix: the caller's access key id, as a stand-in for the IAM user or role session. */
function callerOf(req: IncomingMessage): string {
  const credential = /Credential=([A-Z0-9]+)\//.exec(String(req.headers.authorization ?? ''));
  return (credential?.[1] ?? 'anonymous').toLowerCase();
}

/** ECS targets are connected only when the task runs with exec enabled and a RUNNING agent. */
function targetConnected(scenario: Scenario, target: string): boolean {
  const match = /^ecs:([^_]+)_([^_]+)_(.+)$/.exec(target);
  if (!match || scenario.agentsReachSsm === false) return false;
  const [, clusterName, taskId, runtimeId] = match;
  const cluster = scenario.clusters.find((c) => c.clusterName === clusterName);
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
