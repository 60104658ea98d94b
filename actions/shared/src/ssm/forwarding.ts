/** One entry point for every engine, so callers (forward script, smoke test) offer the choice. */
import { createServer } from 'node:net';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { UserInputError } from '../errors.js';
import { startPluginSession, type PluginSessionOptions } from './plugin-engine.js';
import { PortForwardingSession } from './port-session.js';
import type { ForwardingSession } from './session.js';

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
    const ssmEndpoint = await pluginSsmEndpoint(options.ssm);
    const localPort = options.localPort || (await freeLocalPort());
    return startPluginSession({ ...options, localPort, ssmEndpoint, binary: options.pluginBinary });
  }
  return PortForwardingSession.start(options);
}

/**
 * The SSM endpoint to hand the plugin, as the AWS CLI hands it (its client's endpoint URL, no
 * trailing slash): the plugin calls ResumeSession and TerminateSession there, and its own AWS SDK
 * reads no AWS_ENDPOINT_URL* variable. Resolved by the SDK itself, in its endpoint middleware's
 * order: the client's own `endpoint`; else the configured one (`serviceConfiguredEndpoint`:
 * AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL, `endpoint_url` in the profile); else the endpoint rules
 * for the region, FIPS and dual-stack.
 */
export async function pluginSsmEndpoint(ssm: SSMClient): Promise<string> {
  const config = ssm.config;
  let url: string | undefined;
  if (config.isCustomEndpoint && config.endpoint) {
    const { protocol, hostname, port, path } = await config.endpoint();
    url = `${protocol}//${hostname}${port ? `:${port}` : ''}${path}`;
  } else if (!config.ignoreConfiguredEndpointUrls) {
    url = await config.serviceConfiguredEndpoint?.();
  }
  url ??= config.endpointProvider({
    Region: await config.region(),
    UseFIPS: await config.useFipsEndpoint(),
    UseDualStack: await config.useDualstackEndpoint(),
  }).url.href;
  return url.replace(/\/$/, '');
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
