/**
 * The `plugin` engine: the official session-manager-plugin binary, handed the StartSession
 * response the way the AWS CLI hands it over (an environment variable named in argv[1]).
 */
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { StartSessionCommand, TerminateSessionCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { errorMessage, withOperation } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  PORT_FORWARDING_DOCUMENT,
  REMOTE_HOST_DOCUMENT,
  SessionStartError,
  type ForwardingSession,
  type SessionEnd,
} from './port-session.js';

export const PLUGIN_BINARY = 'session-manager-plugin';
const RESPONSE_VARIABLE = 'AWS_SSM_START_SESSION_RESPONSE';

export interface PluginSessionOptions {
  readonly ssm: SSMClient;
  readonly target: string;
  readonly remotePort: number;
  readonly remoteHost?: string;
  /** The plugin needs a fixed local port. */
  readonly localPort: number;
  readonly region: string;
  /** The SSM endpoint the plugin uses for ResumeSession/TerminateSession. */
  readonly ssmEndpoint: string;
  readonly profile?: string;
  readonly logger: Logger;
  /** @default 'session-manager-plugin' on PATH */
  readonly binary?: string;
  /** @default 30000 */
  readonly readyTimeoutMs?: number;
}

/** The plugin's version, or undefined when it is not installed. */
export function pluginVersion(binary = PLUGIN_BINARY): string | undefined {
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return probe.error || probe.status !== 0 ? undefined : probe.stdout.trim();
}

export async function startPluginSession(options: PluginSessionOptions): Promise<ForwardingSession> {
  const binary = options.binary ?? PLUGIN_BINARY;
  if (!pluginVersion(binary)) {
    throw new SessionStartError(
      `The plugin engine needs ${binary} on PATH, and it was not found. Install the Session Manager plugin, or use the native engine (the default).`,
      'PluginNotFound',
    );
  }
  const request = {
    Target: options.target,
    DocumentName: options.remoteHost ? REMOTE_HOST_DOCUMENT : PORT_FORWARDING_DOCUMENT,
    Parameters: {
      portNumber: [String(options.remotePort)],
      localPortNumber: [String(options.localPort)],
      ...(options.remoteHost ? { host: [options.remoteHost] } : {}),
    },
  };
  let response;
  try {
    response = await options.ssm.send(new StartSessionCommand(request));
  } catch (error) {
    throw new SessionStartError(withOperation('StartSession', error).message, (error as { name?: string }).name);
  }
  const sessionId = response.SessionId ?? '';
  const child = spawn(
    binary,
    [
      RESPONSE_VARIABLE,
      options.region,
      'StartSession',
      options.profile ?? '',
      JSON.stringify(request),
      options.ssmEndpoint,
    ],
    {
      env: {
        ...process.env,
        [RESPONSE_VARIABLE]: JSON.stringify({
          SessionId: sessionId,
          TokenValue: response.TokenValue,
          StreamUrl: response.StreamUrl,
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let stopping = false;
  const ended = new Promise<SessionEnd>((resolve) =>
    child.once('exit', (code) =>
      resolve(
        stopping
          ? { reason: 'stopped', message: `Session ${sessionId} stopped.` }
          : {
              reason: code === 0 ? 'closed-by-service' : 'failed',
              message: output.trim() || `${binary} exited with ${code}`,
            },
      ),
    ),
  );
  const terminate = async (): Promise<void> => {
    try {
      await options.ssm.send(new TerminateSessionCommand({ SessionId: sessionId }));
    } catch (error) {
      options.logger.debug(`TerminateSession ${sessionId}: ${errorMessage(error)}`);
    }
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (!(await canConnect(options.localPort))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await terminate();
      throw new SessionStartError(
        `${binary} did not start forwarding on port ${options.localPort}: ${output.trim() || 'no output'}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  options.logger.info(`Started session ${sessionId} with ${binary}; forwarding 127.0.0.1:${options.localPort}.`);
  return {
    sessionId,
    localPort: options.localPort,
    ended,
    async stop() {
      stopping = true;
      if (child.exitCode === null) {
        child.kill('SIGINT'); // the plugin sends the TerminateSession flag on SIGINT
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await ended;
        clearTimeout(timer);
      }
      await terminate();
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
