/** One entry point for every engine, so callers (forward script, smoke test) offer the choice. */
import { createServer } from 'node:net';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { UserInputError } from '../errors.js';
import type { Logger } from '../logger.js';
import { startPluginSession } from './plugin-engine.js';
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

export interface ForwardingOptions {
  readonly engine: Engine;
  readonly ssm: SSMClient;
  readonly target: string;
  readonly remotePort: number;
  readonly remoteHost?: string;
  readonly localPort: number;
  readonly region: string;
  readonly logger: Logger;
  readonly keepAliveIntervalMs?: number;
  readonly profile?: string;
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
