/** One entry point for every engine, so callers (forward script, smoke test) offer the choice. */
import { createServer } from 'node:net';
import { UserInputError } from '../errors.js';
import { startPluginSession, type PluginSessionOptions } from './plugin-engine.js';
import { PortForwardingSession, type ForwardingSession } from './port-session.js';

export type Engine = 'native' | 'plugin';
export const ENGINES: readonly Engine[] = ['native', 'plugin'];

export function parseEngine(value: string | undefined): Engine {
  const engine = (value ?? '').trim() || 'native';
  if (!(ENGINES as readonly string[]).includes(engine)) {
    throw new UserInputError(`engine must be one of ${ENGINES.join(', ')}, got '${engine}'.`);
  }
  return engine as Engine;
}

/** What every engine needs, plus the engine choice and each engine's own settings. */
export interface ForwardingOptions extends Omit<PluginSessionOptions, 'ssmEndpoint' | 'binary' | 'readyTimeoutMs'> {
  readonly engine: Engine;
  /** smux NOP period of the native engine (see PortForwardingOptions). */
  readonly keepAliveIntervalMs?: number;
  /** The plugin binary for the plugin engine. @default 'session-manager-plugin' on PATH */
  readonly pluginBinary?: string;
}

export async function startForwarding(options: ForwardingOptions): Promise<ForwardingSession> {
  if (options.engine === 'plugin') {
    const endpoint = await options.ssm.config.endpoint?.();
    const ssmEndpoint = endpoint
      ? `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}${endpoint.path.replace(/\/$/, '')}`
      : `https://ssm.${options.region}.amazonaws.com`;
    const localPort = options.localPort || (await freeLocalPort());
    return startPluginSession({ ...options, localPort, ssmEndpoint, binary: options.pluginBinary });
  }
  return PortForwardingSession.start(options);
}

/** A loopback port free a moment ago (the plugin engine needs a fixed one). */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
