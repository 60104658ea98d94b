/** The port-session handshake: answering the agent's requested actions, and what they decide. */
import { compareVersions } from './codec.js';

/**
 * The version this client reports. Above 1.2.331.0 so that current agents turn their smux
 * keep-alive off (the "keep-alive trap" of versions 1.1.70-1.2.331.0), and at least 1.1.70 so that
 * agents multiplex.
 */
export const CLIENT_VERSION = '1.2.650.0';

export interface RequestedAction {
  readonly ActionType: string;
  readonly ActionParameters?: unknown;
}

export interface HandshakeRequest {
  readonly AgentVersion: string;
  readonly RequestedClientActions: readonly RequestedAction[];
}

export interface SessionTypeParameters {
  readonly SessionType: string;
  readonly Properties?: Record<string, string>;
}

export const ActionStatus = { Success: 1, Failed: 2, Unsupported: 3 } as const;

export interface HandshakeOutcome {
  readonly response: {
    ClientVersion: string;
    ProcessedClientActions: Array<{ ActionType: string; ActionStatus: number; ActionResult: null; Error: string }>;
    Errors: string[] | null;
  };
  readonly agentVersion: string;
  readonly sessionType?: string;
  readonly properties: Record<string, string>;
  /** Set when the client cannot serve this session (it still answers, so the agent ends it cleanly). */
  readonly error?: string;
}

/** Answers every requested action: Port sessions succeed, KMS is not offered for ports, others unsupported. */
export function answerHandshake(request: HandshakeRequest, clientVersion = CLIENT_VERSION): HandshakeOutcome {
  let sessionType: string | undefined;
  let properties: Record<string, string> = {};
  const errors: string[] = [];
  const processed = request.RequestedClientActions.map((action) => {
    if (action.ActionType === 'SessionType') {
      const parameters = action.ActionParameters as SessionTypeParameters | undefined;
      sessionType = parameters?.SessionType;
      properties = parameters?.Properties ?? {};
      if (sessionType === 'Port')
        return { ActionType: action.ActionType, ActionStatus: ActionStatus.Success, ActionResult: null, Error: '' };
      const error = `Session type ${sessionType} is not supported by this client (port forwarding only)`;
      errors.push(error);
      return {
        ActionType: action.ActionType,
        ActionStatus: ActionStatus.Unsupported,
        ActionResult: null,
        Error: error,
      };
    }
    if (action.ActionType === 'KMSEncryption') {
      const error = 'KMS encryption is not supported by this client (the agent never requests it for port sessions)';
      errors.push(error);
      return { ActionType: action.ActionType, ActionStatus: ActionStatus.Failed, ActionResult: null, Error: error };
    }
    const error = `Unsupported action ${action.ActionType}`;
    errors.push(error);
    return { ActionType: action.ActionType, ActionStatus: ActionStatus.Unsupported, ActionResult: null, Error: error };
  });
  return {
    response: {
      ClientVersion: clientVersion,
      ProcessedClientActions: processed,
      Errors: errors.length ? errors : null,
    },
    agentVersion: request.AgentVersion,
    sessionType,
    properties,
    error: errors[0],
  };
}

export type ForwardingMode = 'mux' | 'basic';

/**
 * The plugin's rule: mux when the session is LocalPortForwarding and the agent is newer than
 * 3.0.196.0 (four-part compare; an unparsable version means basic).
 */
export function forwardingMode(properties: Record<string, string>, agentVersion: string): ForwardingMode {
  const comparison = compareVersions(agentVersion, '3.0.196.0');
  return properties.type === 'LocalPortForwarding' && comparison > 0 ? 'mux' : 'basic';
}

/** Agents up to 3.1.1511.0 keep smux keep-alive on whatever the client reports: send NOPs to them. */
export function agentNeedsNops(agentVersion: string): boolean {
  return !(compareVersions(agentVersion, '3.1.1511.0') > 0);
}

/** Basic-mode agents above 2.3.722.0 honour the TerminateSession flag; older ones need the API. */
export function agentAcceptsTerminateFlag(agentVersion: string): boolean {
  return compareVersions(agentVersion, '2.3.722.0') > 0;
}
