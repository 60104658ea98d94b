/**
 * What every forwarding engine (native, plugin) shares: the session types and errors, and the one
 * StartSession request for a port-forwarding document, sent with the one retry policy.
 */
import { StartSessionCommand, type SSMClient, type StartSessionCommandOutput } from '@aws-sdk/client-ssm';
import { withOperation } from '../errors.js';
import type { Logger } from '../logger.js';
import { isTransientAwsError, retry } from '../retry.js';

export const PORT_FORWARDING_DOCUMENT = 'AWS-StartPortForwardingSession';
export const REMOTE_HOST_DOCUMENT = 'AWS-StartPortForwardingSessionToRemoteHost';

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

/** Where a port-forwarding session goes. */
export interface PortForwardingTarget {
  /** `ecs:<cluster>_<taskId>_<runtimeId>`, or an instance id. */
  readonly target: string;
  /** Port to reach inside the target (or on remoteHost). */
  readonly remotePort: number;
  /** Forward to this host as seen from the target (AWS-StartPortForwardingSessionToRemoteHost). */
  readonly remoteHost?: string;
  /** The local port, as the document's localPortNumber parameter. */
  readonly localPort: number;
}

/** The StartSession request of a port-forwarding session; also what the plugin gets as argv[5]. */
export function startSessionRequest(target: PortForwardingTarget): {
  Target: string;
  DocumentName: string;
  Parameters: Record<string, string[]>;
} {
  return {
    Target: target.target,
    DocumentName: target.remoteHost ? REMOTE_HOST_DOCUMENT : PORT_FORWARDING_DOCUMENT,
    Parameters: {
      portNumber: [String(target.remotePort)],
      localPortNumber: [String(target.localPort)],
      ...(target.remoteHost ? { host: [target.remoteHost] } : {}),
    },
  };
}

/**
 * Sends StartSession, retrying only transient failures (throttling, 5xx, network) with the shared
 * policy: the clients run with the SDK's own retries off (see awsClientConfig). Any failure becomes
 * a SessionStartError carrying the AWS error name (TargetNotConnected, AccessDeniedException...).
 */
export async function startSession(
  ssm: SSMClient,
  request: ReturnType<typeof startSessionRequest>,
  logger: Logger,
): Promise<StartSessionCommandOutput> {
  try {
    return await retry(() => ssm.send(new StartSessionCommand(request)), {
      operation: 'StartSession',
      isRetryable: isTransientAwsError,
      maxAttempts: 4,
      baseDelayMs: 200,
      maxElapsedMs: 10_000,
      logger,
    });
  } catch (error) {
    throw new SessionStartError(withOperation('StartSession', error).message, (error as { name?: string }).name);
  }
}
