/**
 * The `plugin` engine: the official session-manager-plugin binary, handed the StartSession
 * response the way the AWS CLI hands it over (an environment variable named in argv[1]).
 */
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { basename } from 'node:path';
import { TerminateSessionCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  SessionStartError,
  startSession,
  startSessionRequest,
  type ForwardingSession,
  type SessionEnd,
} from './session.js';

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
  /**
   * How often the local port is probed with a connection; two failed probes in a row end the
   * session (the plugin may outlive its tunnel). @default 15000
   */
  readonly probeIntervalMs?: number;
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
  const request = startSessionRequest(options);
  const response = await startSession(options.ssm, request, options.logger);
  const sessionId = response.SessionId ?? '';
  const responseJson = JSON.stringify({
    SessionId: sessionId,
    TokenValue: response.TokenValue,
    StreamUrl: response.StreamUrl,
  });
  const name = basename(binary);
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
      // The whole environment, AWS_ENDPOINT_URL* and AWS_PROFILE included, as the AWS CLI leaves it.
      env: { ...process.env, [RESPONSE_VARIABLE]: responseJson },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output = new PluginOutput(options.logger, [responseJson, response.TokenValue ?? '']);
  output.follow(child.stdout, 'stdout');
  output.follow(child.stderr, 'stderr');
  // 'close' comes after the plugin's output is read to the end: its last words are in the message.
  let gone = false;
  const closed = new Promise<string>((resolve) => {
    child.once('close', (code, signal) => resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    child.once('error', (error) => resolve(`could not run: ${error.message}`));
  }).finally(() => (gone = true));
  const running = (): boolean => !gone && child.exitCode === null && child.signalCode === null;

  const terminate = async (): Promise<void> => {
    try {
      await options.ssm.send(new TerminateSessionCommand({ SessionId: sessionId }));
    } catch (error) {
      options.logger.debug(`TerminateSession ${sessionId}: ${errorMessage(error)}`);
    }
  };
  /** SIGINT (the plugin then sends the TerminateSession flag), SIGKILL if it lingers. */
  const stopPlugin = async (): Promise<void> => {
    if (!running()) return;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await closed;
    clearTimeout(timer);
  };

  let stopping = false;
  let settled = false;
  let probeTimer: NodeJS.Timeout | undefined;
  let resolveEnded!: (end: SessionEnd) => void;
  const ended = new Promise<SessionEnd>((resolve) => (resolveEnded = resolve));
  /** Ends the session once, whatever noticed it: the plugin stopped, gone, or no longer answering. */
  const settle = async (end: SessionEnd): Promise<void> => {
    if (settled) return;
    settled = true;
    clearTimeout(probeTimer);
    await stopPlugin();
    // Also after the plugin's own exit: a crashed plugin leaves its session open on the service.
    await terminate();
    resolveEnded(end);
  };
  void closed.then((how) =>
    settle(
      stopping
        ? { reason: 'stopped', message: `Session ${sessionId} stopped.` }
        : {
            // The plugin exits 0 when the service closes the channel or ResumeSession says it timed out.
            reason: child.exitCode === 0 ? 'closed-by-service' : 'failed',
            message: `${name} ${how}: ${output.lastWords()}`,
          },
    ),
  );

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while ((await connectFailure(options.localPort, 1000)) !== undefined) {
    if (!running() || Date.now() > deadline) {
      settled = true;
      child.kill('SIGKILL');
      await terminate();
      throw new SessionStartError(
        `${binary} did not start forwarding on port ${options.localPort}: ${output.lastWords()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // After a failed ResumeSession the plugin may stay alive with its port dead: a connection to the
  // local port every so often notices it, where waiting for the plugin's exit alone would not.
  const probeEvery = options.probeIntervalMs ?? 15_000;
  const probeTimeout = Math.min(5000, probeEvery);
  let failures = 0;
  const probe = async (): Promise<void> => {
    const failure = await connectFailure(options.localPort, probeTimeout);
    if (settled || stopping) return;
    failures = failure === undefined ? 0 : failures + 1;
    if (failure !== undefined && failures >= PROBE_FAILURES) {
      await settle({
        reason: 'failed',
        message: `${name} stopped answering on 127.0.0.1:${options.localPort} (${failures} probes in a row failed: ${failure}); it was stopped.`,
      });
      return;
    }
    probeTimer = setTimeout(() => void probe(), probeEvery);
  };
  probeTimer = setTimeout(() => void probe(), probeEvery);

  options.logger.info(`Started session ${sessionId} with ${binary}; forwarding 127.0.0.1:${options.localPort}.`);
  return {
    sessionId,
    localPort: options.localPort,
    ended,
    async stop() {
      if (!settled) {
        stopping = true;
        clearTimeout(probeTimer);
        await stopPlugin();
      }
      await ended;
    },
  };
}

/** Probes in a row that must fail before the tunnel counts as dead (one could be a hiccup). */
const PROBE_FAILURES = 2;

/**
 * Lines of the plugin that warn the user, from what the plugin prints on stdout
 * (github.com/aws/session-manager-plugin): Flag 3 (muxportforwarding.go), the service's
 * channel_closed Output (streaming.go), a ResumeSession with no token (sessionhandler.go), and
 * failures to start or to understand its arguments (session.go). Everything else is progress.
 */
const WARNING_LINES = [
  /^Connection to destination port failed/,
  /^SessionId: \S+ : /,
  /^Session: \S+ timed out\./,
  /^Cannot perform start session/,
  /^Unknown operation/,
  /^Error getting the output/,
];

/**
 * The plugin's output, passed to the logger line by line as it comes: warnings as warnings, and
 * anything on stderr too (the plugin itself prints only on stdout: stderr is a Go panic or the
 * like). Secrets (the StartSession response, its token) are masked before anything is kept.
 */
class PluginOutput {
  private readonly recent: string[] = [];
  private lastWarning?: string;
  /** The head of a crash report (a Go panic's first line), which its trace lines would bury. */
  private firstError?: string;

  constructor(
    private readonly logger: Logger,
    private readonly secrets: readonly string[],
  ) {}

  follow(stream: NodeJS.ReadableStream, kind: 'stdout' | 'stderr'): void {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.line(line, kind);
    });
    stream.on('end', () => this.line(partial, kind));
  }

  /** What best says why the plugin ended: the start of a crash report, its last warning, else its last line. */
  lastWords(): string {
    return this.firstError ?? this.lastWarning ?? this.recent.at(-1) ?? 'no output';
  }

  private line(raw: string, kind: 'stdout' | 'stderr'): void {
    let text = raw.trim();
    for (const secret of this.secrets) if (secret) text = text.split(secret).join('***');
    if (!text) return;
    this.recent.push(text);
    if (this.recent.length > 20) this.recent.shift();
    if (kind === 'stderr') this.firstError ??= text;
    if (kind === 'stderr' || WARNING_LINES.some((pattern) => pattern.test(text))) {
      this.lastWarning = text;
      this.logger.warning(`${PLUGIN_BINARY}: ${text}`);
    } else {
      this.logger.info(`${PLUGIN_BINARY}: ${text}`);
    }
  }
}

/** Why a connection to the local port failed, or undefined when it was accepted. */
function connectFailure(port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`no connection within ${timeoutMs} ms`);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      resolve(error.message);
    });
  });
}
