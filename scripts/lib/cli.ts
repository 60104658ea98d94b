/** What the developer CLIs (forward, doctor) share: the console logger and the AWS set-up. */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { UserInputError, errorMessage } from '../../actions/shared/src/errors.js';
import type { Logger } from '../../actions/shared/src/logger.js';
import { type EnvironmentConfig } from '../../infra/lib/config.js';
import { ENVIRONMENTS } from '../../infra/lib/project.js';
import { resourceNames, type ResourceNames } from '../../infra/lib/names.js';

/** Info to stdout, warnings to stderr, debug lines only when `debugVariable` is set. */
export function consoleLogger(debugVariable: string): Logger {
  return {
    info: (message) => console.log(message),
    warning: (message) => console.error(`warning: ${message}`),
    debug: (message) => {
      if (process.env[debugVariable]) console.error(`debug: ${message}`);
    },
  };
}

export interface CliEnvironment {
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  readonly region: string;
  /**
   * SDK client configuration with the developer's credentials (checked to exist), with the SDK's
   * own retries (3 attempts) for commands that make one-off reads (the doctor); a command with its
   * own retry policy turns them off (forward.ts).
   */
  readonly clientConfig: { region: string; credentials: AwsCredentialIdentityProvider; maxAttempts: number };
}

/**
 * The environment's names and region, and the developer's credentials (profile, SSO, env...),
 * failing with how to sign in when there are none. `needs` says which policy the caller needs.
 */
export async function cliEnvironment(options: {
  readonly environment: string;
  readonly profile?: string;
  readonly region?: string;
  readonly needs?: string;
}): Promise<CliEnvironment> {
  const config = ENVIRONMENTS.find((env) => env.name === options.environment);
  if (!config) {
    throw new UserInputError(
      `Unknown environment '${options.environment}': expected one of ${ENVIRONMENTS.map((e) => e.name).join(', ')}.`,
    );
  }
  const region = options.region ?? process.env.AWS_REGION ?? config.region;
  const credentials = fromNodeProviderChain(options.profile ? { profile: options.profile } : {});
  try {
    await credentials();
  } catch (error) {
    throw new UserInputError(
      `No AWS credentials found (${errorMessage(error)}). Sign in first, e.g. 'aws sso login --profile <name>', ` +
        `then pass --profile <name> or set AWS_PROFILE.${options.needs ? ` ${options.needs}` : ''}`,
    );
  }
  return { config, names: resourceNames(config), region, clientConfig: { region, credentials, maxAttempts: 3 } };
}
