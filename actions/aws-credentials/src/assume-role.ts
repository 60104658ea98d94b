import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { awsClientConfig } from '../../shared/src/aws.js';
import { UserInputError, awsErrorName, withOperation } from '../../shared/src/errors.js';
import type { Logger } from '../../shared/src/logger.js';
import { isTransientAwsError, retry } from '../../shared/src/retry.js';
import type { Inputs } from './inputs.js';
import { describeClaims, explainTrustFailure } from './token-claims.js';

export const ACTION_NAME = 'aws-credentials';

export interface AssumedRole {
  readonly credentials: Required<Pick<AwsCredentialIdentity, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>>;
  readonly expiration: Date;
  readonly accountId: string;
  readonly assumedRoleArn: string;
}

export interface AssumeRoleDeps {
  readonly sts: STSClient;
  /** Builds the client that verifies the new credentials. */
  readonly stsWith: (credentials: AwsCredentialIdentity) => STSClient;
  readonly logger: Logger;
  /** Called with each secret as soon as it exists, before anything else can print it. */
  readonly mask: (secret: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/**
 * Refusals of the token or of the trust policy: the user must change something, retrying won't.
 * SDK v3 names modeled errors `<Code>Exception`; unmodeled ones (AccessDenied) keep the wire code.
 */
const TRUST_ERRORS = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidIdentityToken',
  'InvalidIdentityTokenException',
  'IDPRejectedClaim',
  'IDPRejectedClaimException',
  'ExpiredToken',
  'ExpiredTokenException',
]);

/** An AssumeRoleWithWebIdentity error is retried only when transient (throttling, 5xx, IdP, network). */
export function isRetryableAssumeError(error: unknown): boolean {
  const name = awsErrorName(error);
  return !(name && TRUST_ERRORS.has(name)) && isTransientAwsError(error);
}

/**
 * Exchanges the OIDC token for role credentials, masks them at once, then verifies them with
 * GetCallerIdentity. A trust refusal fails at once with the token's claims and the condition the
 * trust policy needs; transient errors are retried (about 30 s in all).
 */
export async function assumeRole(inputs: Inputs, token: string, deps: AssumeRoleDeps): Promise<AssumedRole> {
  const retryOptions = { logger: deps.logger, sleep: deps.sleep, random: deps.random, maxElapsedMs: 30_000 };
  let response;
  try {
    response = await retry(
      () =>
        deps.sts.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: inputs.roleArn,
            RoleSessionName: inputs.roleSessionName,
            WebIdentityToken: token,
            DurationSeconds: inputs.durationSeconds,
          }),
        ),
      { ...retryOptions, operation: 'AssumeRoleWithWebIdentity', isRetryable: isRetryableAssumeError },
    );
  } catch (error) {
    const name = awsErrorName(error);
    if (name && TRUST_ERRORS.has(name)) {
      const failure = withOperation('AssumeRoleWithWebIdentity', error);
      throw new UserInputError(`${failure.message}\n${explainTrustFailure(inputs.roleArn, describeClaims(token))}`);
    }
    throw withOperation('AssumeRoleWithWebIdentity', error);
  }

  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = response.Credentials ?? {};
  if (!AccessKeyId || !SecretAccessKey || !SessionToken || !Expiration) {
    throw new Error(
      'AssumeRoleWithWebIdentity returned no complete credentials (key id, secret, session token, expiration).',
    );
  }
  for (const secret of [AccessKeyId, SecretAccessKey, SessionToken]) deps.mask(secret);
  const credentials = { accessKeyId: AccessKeyId, secretAccessKey: SecretAccessKey, sessionToken: SessionToken };

  let identity;
  try {
    identity = await retry(() => deps.stsWith(credentials).send(new GetCallerIdentityCommand({})), {
      ...retryOptions,
      operation: 'GetCallerIdentity',
      isRetryable: isTransientAwsError,
    });
  } catch (error) {
    throw withOperation('GetCallerIdentity with the new credentials', error);
  }
  if (!identity.Account || !identity.Arn) throw new Error('GetCallerIdentity returned no account or ARN.');
  return { credentials, expiration: Expiration, accountId: identity.Account, assumedRoleArn: identity.Arn };
}

/** The STS clients of a real run: the regional endpoint (or AWS_ENDPOINT_URL_STS), no SDK retries. */
export function stsClients(region: string): Pick<AssumeRoleDeps, 'sts' | 'stsWith'> {
  return {
    sts: new STSClient(awsClientConfig({ region, action: ACTION_NAME })),
    stsWith: (credentials) => new STSClient(awsClientConfig({ region, credentials, action: ACTION_NAME })),
  };
}
