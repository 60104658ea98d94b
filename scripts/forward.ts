/**
 * `npm run forward -- --environment dev`: forwards the environment's Nginx to this machine through
 * SSM Session Manager, with the developer's own AWS credentials (profile or SSO). No inbound path,
 * no bastion, no session-manager-plugin needed (the native engine is the default).
 *
 *   npm run forward -- --environment dev [--local-port 10080] [--remote-host HOST --remote-port N]
 *                      [--profile NAME] [--region REGION] [--engine native|plugin] [--keep-alive SECONDS]
 *
 * The tunnel stays up for hours: smux keep-alives keep Session Manager's idle timeout from firing,
 * ResumeSession survives transport loss, and a session that ends (closed by the service, or a
 * plugin that exits or stops answering) is replaced by a new one on the same local port. Starting
 * a session retries transient AWS errors (throttling, 5xx, network) with the shared retry, not a
 * refusal; sessions that keep ending as soon as they start stop the script with the reason.
 * Ctrl-C ends the session and exits 0.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { UserInputError, errorMessage } from '../actions/shared/src/errors.js';
import { parseEngine, startForwarding } from '../actions/shared/src/ssm/forwarding.js';
import { isTransientAwsError, retry } from '../actions/shared/src/retry.js';
import { SessionStartError, type ForwardingSession } from '../actions/shared/src/ssm/session.js';
import { findTarget } from '../actions/shared/src/ssm/targets.js';
import { ENVIRONMENTS } from '../infra/lib/project.js';
import { cliArgs, type CliSpec } from './lib/args.js';
import { cliEnvironment, consoleLogger } from './lib/cli.js';

const USAGE = `Usage: npm run forward -- --environment <${ENVIRONMENTS.map((e) => e.name).join('|')}> [--local-port 10080]
       [--remote-host HOST --remote-port N] [--profile NAME] [--region REGION]
       [--engine native|plugin] [--keep-alive SECONDS]`;

interface ForwardArgs {
  readonly environment: string;
  readonly localPort: number;
  readonly remoteHost?: string;
  readonly remotePort?: number;
  readonly profile?: string;
  readonly region?: string;
  readonly engine: 'native' | 'plugin';
  readonly keepAliveMs: number;
}

const CLI = {
  command: 'npm run forward',
  usage: USAGE,
  description:
    "Forwards the environment's Nginx (or a host the task can reach) to 127.0.0.1 on this machine through SSM " +
    "Session Manager, with the developer's own AWS credentials (profile or SSO): no inbound path, no bastion, and " +
    'no session-manager-plugin needed with the native engine. Keep-alives and ResumeSession keep the tunnel up ' +
    'for hours, and a session the service ends is replaced on the same local port. Ctrl-C ends the session. ' +
    'Needs the developer port-forwarding policy (docs/forwarding.md).',
  options: {
    environment: {
      type: 'string',
      short: 'e',
      value: 'name',
      description: `The environment to forward, one of ${ENVIRONMENTS.map((e) => e.name).join(', ')}`,
      required: true,
    },
    'local-port': {
      type: 'string',
      value: 'port',
      default: '10080',
      description: 'The port on 127.0.0.1 to listen on; 0 picks a free one',
    },
    'remote-host': {
      type: 'string',
      value: 'host',
      description: 'Forward to this host, as the task resolves it, instead of the container; needs --remote-port',
    },
    'remote-port': {
      type: 'string',
      value: 'port',
      description: 'The port on the remote host or the container',
      defaultText: "the container's port",
    },
    profile: {
      type: 'string',
      value: 'name',
      description: 'The AWS profile to use',
      defaultText: 'the default credential chain: AWS_PROFILE, environment variables, SSO...',
    },
    region: {
      type: 'string',
      value: 'region',
      description: 'The AWS region',
      defaultText: "AWS_REGION, else the environment's region",
    },
    engine: {
      type: 'string',
      value: 'native|plugin',
      default: 'native',
      description: "The client: 'native', built in, or 'plugin', AWS's session-manager-plugin",
    },
    'keep-alive': {
      type: 'string',
      value: 'seconds',
      default: '60',
      description: 'Seconds between keep-alives that stop the idle timeout; 0 turns them off',
    },
  },
  examples: ['npm run forward -- --environment dev   # then: curl http://127.0.0.1:10080/'],
  exitCodes: [
    [0, 'stopped with Ctrl-C (or SIGTERM): the session ended and the local port is released'],
    [1, 'an unexpected failure, or sessions that keep ending as soon as they start (the message says why)'],
    [
      2,
      'bad options, no AWS credentials, no running task, ECS Exec off, or the task not connected to SSM (the message says what to do)',
    ],
  ],
} as const satisfies CliSpec;

function parse(argv: string[]): ForwardArgs {
  const values = cliArgs(CLI, argv);
  const port = (name: string, raw: string | undefined, min: number): number | undefined => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > 65535)
      throw new UserInputError(`--${name} must be a port number (${min}-65535), got '${raw}'.\n${USAGE}`);
    return value;
  };
  if (!values.environment) throw new UserInputError(`--environment is required.\n${USAGE}`);
  if (!ENVIRONMENTS.some((env) => env.name === values.environment)) {
    throw new UserInputError(
      `Unknown environment '${values.environment}': expected one of ${ENVIRONMENTS.map((e) => e.name).join(', ')}.`,
    );
  }
  if (values['remote-host'] && !values['remote-port'])
    throw new UserInputError(`--remote-host needs --remote-port.\n${USAGE}`);
  const keepAlive = Number(values['keep-alive']);
  if (!Number.isFinite(keepAlive) || keepAlive < 0)
    throw new UserInputError(
      `--keep-alive must be a number of seconds (0 turns it off), got '${values['keep-alive']}'.`,
    );
  return {
    environment: values.environment,
    localPort: port('local-port', values['local-port'], 0)!,
    remoteHost: values['remote-host'],
    remotePort: port('remote-port', values['remote-port'], 1),
    profile: values.profile,
    region: values.region,
    engine: parseEngine(values.engine),
    keepAliveMs: keepAlive * 1000,
  };
}

const logger = consoleLogger('FORWARD_DEBUG');

/** A session that ends this soon after it started counts as one that could not hold. */
const QUICK_END_MS = 10_000;
/** Sessions in a row that may end that soon before the script gives up. */
const MAX_QUICK_ENDS = 3;

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  const { config, names, region, clientConfig } = await cliEnvironment({
    ...args,
    needs: 'You need the developer port-forwarding policy (docs/forwarding.md).',
  });
  // The SDK's own retries off, as in the actions (actions/shared/src/aws.ts): every retry of this
  // script goes through `retry` below (and the session's), bounded and logged once, not nested.
  const sdk = { ...clientConfig, maxAttempts: 1 };
  const ecs = new ECSClient(sdk);
  const ssm = new SSMClient(sdk);
  const remotePort = args.remotePort ?? names.containerPort;

  let stopping = false;
  let current: ForwardingSession | undefined;
  let wake: (() => void) | undefined;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping: ending the session...');
    wake?.();
    await current?.stop();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  /** A pause that Ctrl-C cuts short. */
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (stopping) return resolve();
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  // A replacement session listens where the first one did, so the local URL stays the same.
  let localPort = args.localPort;
  const startOne = async (): Promise<{ session: ForwardingSession; where: string } | undefined> => {
    if (stopping) return undefined;
    const target = await findTarget(ecs, {
      cluster: names.cluster,
      service: names.service,
      container: names.container,
      environment: config.name,
    });
    const session = await startForwarding({
      engine: args.engine,
      ssm,
      target: target.target,
      remotePort,
      remoteHost: args.remoteHost,
      localPort,
      region,
      logger,
      keepAliveIntervalMs: args.keepAliveMs,
      profile: args.profile,
    });
    const where = args.remoteHost
      ? `${args.remoteHost}:${remotePort} (from task ${target.taskId})`
      : `${names.container}:${remotePort} in task ${target.taskId}`;
    return { session, where };
  };

  let quickEnds = 0;
  for (let round = 0; !stopping; round++) {
    const started = await retry(startOne, {
      operation: round === 0 ? 'Starting the session' : 'Starting a new session',
      isRetryable: isTransientAwsError,
      maxAttempts: 10,
      // Long enough to ride out a network change (Wi-Fi, VPN) before giving up with the last error.
      maxElapsedMs: 90_000,
      logger,
      sleep: pause,
    });
    if (!started) break;
    current = started.session;
    localPort = current.localPort;
    if (stopping) {
      await current.stop();
      break;
    }
    console.log(
      `${round === 0 ? 'Forwarding' : 'Forwarding again'}: http://127.0.0.1:${current.localPort} → ${started.where} of ${names.cluster}/${names.service} (session ${current.sessionId}). Press Ctrl-C to stop.`,
    );
    const startedAt = Date.now();
    const end = await current.ended;
    if (stopping || end.reason === 'stopped') break;
    const reason = end.message.replace(/\.$/, '');
    // Sessions that end as soon as they start would be replaced forever: stop and say why instead.
    quickEnds = Date.now() - startedAt < QUICK_END_MS ? quickEnds + 1 : 0;
    if (quickEnds >= MAX_QUICK_ENDS) {
      throw new Error(
        `The session ended ${quickEnds} times in a row within ${QUICK_END_MS / 1000} s of starting; the last time: ${reason}. ` +
          `Not starting another: check the task and its agent with npm run doctor -- --environment ${config.name}.`,
      );
    }
    console.error(`The session ended: ${reason}. Starting a new one...`);
    if (quickEnds > 0) await pause(1000 * 2 ** (quickEnds - 1));
  }
  console.log('Session ended; local port released.');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = errorMessage(error);
    const hint =
      error instanceof SessionStartError && error.code === 'TargetNotConnected'
        ? '\nThe task has no running SSM agent: is ECS Exec enabled on the service (and the task replaced since)? Run: npm run doctor -- --environment <env>'
        : '';
    console.error(`forward: ${message}${hint}`);
    process.exit(error instanceof UserInputError || error instanceof SessionStartError ? 2 : 1);
  },
);
