import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { SignJWT } from 'jose';
import { UserInputError } from '../../shared/src/errors.js';
import { RecordingLogger } from '../../shared/src/logger.js';
import { assumeRole, isRetryableAssumeError } from '../src/assume-role.js';
import type { Inputs } from '../src/inputs.js';
import { resourceNames } from '../../../infra/lib/names.js';
import { ENVIRONMENTS } from '../../../infra/lib/project.js';

/** The first configured environment's deploy role. */
const ENV = ENVIRONMENTS[0]!;
const ACCOUNT = ENV.account;
const ROLE_NAME = resourceNames(ENV).deployRole;
const INPUTS: Inputs = {
  roleArn: `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`,
  region: ENV.region,
  audience: 'sts.amazonaws.com',
  roleSessionName: 'gha-test',
  durationSeconds: 3600,
  maskAccountId: false,
};
const CREDENTIALS = {
  AccessKeyId: 'ASIAEXAMPLEKEYID0001',
  SecretAccessKey: 'secret/EXAMPLE+KEY',
  SessionToken: 'session-token-EXAMPLE',
  Expiration: new Date('2030-01-01T00:00:00Z'),
};
const awsError = (name: string, status: number) =>
  Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status } });

async function token(claims: Record<string, string>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('k'.repeat(32)));
}

describe('assumeRole (stubbed STS)', () => {
  const sts = mockClient(STSClient);
  afterEach(() => sts.reset());

  const deps = (events: string[] = []) => ({
    sts: new STSClient({ region: ENV.region }),
    stsWith: () => new STSClient({ region: ENV.region }),
    logger: new RecordingLogger(),
    mask: (secret: string) => events.push(`mask:${secret}`),
    sleep: async () => undefined,
    random: () => 0,
  });

  it('masks the three secrets before verifying them, and returns the verified identity', async () => {
    const events: string[] = [];
    sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: CREDENTIALS });
    sts.on(GetCallerIdentityCommand).callsFake(() => {
      events.push('GetCallerIdentity');
      return { Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE_NAME}/gha-test` };
    });
    const role = await assumeRole(INPUTS, 'jwt', deps(events));
    expect(events).toEqual([
      `mask:${CREDENTIALS.AccessKeyId}`,
      `mask:${CREDENTIALS.SecretAccessKey}`,
      `mask:${CREDENTIALS.SessionToken}`,
      'GetCallerIdentity',
    ]);
    expect(role).toMatchObject({ accountId: ACCOUNT, expiration: CREDENTIALS.Expiration });
    expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input).toEqual({
      RoleArn: INPUTS.roleArn,
      RoleSessionName: 'gha-test',
      WebIdentityToken: 'jwt',
      DurationSeconds: 3600,
    });
  });

  it.each(['AccessDenied', 'InvalidIdentityToken', 'IDPRejectedClaim'])(
    'fails at once on %s, explaining the trust',
    async (name) => {
      sts.on(AssumeRoleWithWebIdentityCommand).rejects(awsError(name, 403));
      const jwt = await token({
        sub: 'repo:o/r:pull_request',
        aud: 'sts.amazonaws.com',
        repository: 'o/r',
        ref: 'refs/pull/1/merge',
        event_name: 'pull_request',
      });
      const failure = assumeRole(INPUTS, jwt, deps());
      await expect(failure).rejects.toThrow(UserInputError);
      await expect(failure).rejects.toThrow(/"token\.actions\.githubusercontent\.com:sub": "repo:o\/r:pull_request"/);
      expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)).toHaveLength(1);
    },
  );

  it('retries throttling, 5xx and IdP communication errors, then succeeds', async () => {
    sts
      .on(AssumeRoleWithWebIdentityCommand)
      .rejectsOnce(awsError('Throttling', 400))
      .rejectsOnce(awsError('InternalFailure', 500))
      .rejectsOnce(awsError('IDPCommunicationError', 400))
      .resolves({ Credentials: CREDENTIALS });
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE_NAME}/s` });
    const d = deps();
    await assumeRole(INPUTS, 'jwt', d);
    expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)).toHaveLength(4);
    expect(d.logger.messages('info')).toHaveLength(3);
  });

  it('names the operation when the new credentials cannot be verified', async () => {
    sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: CREDENTIALS });
    sts.on(GetCallerIdentityCommand).rejects(awsError('InvalidClientTokenId', 403));
    await expect(assumeRole(INPUTS, 'jwt', deps())).rejects.toThrow(
      'GetCallerIdentity with the new credentials failed: InvalidClientTokenId message',
    );
  });

  it('refuses incomplete credentials', async () => {
    sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: { ...CREDENTIALS, SessionToken: undefined } });
    await expect(assumeRole(INPUTS, 'jwt', deps())).rejects.toThrow(/no complete credentials/);
  });
});

describe('isRetryableAssumeError', () => {
  it.each([
    ['AccessDenied', 403, false],
    ['ExpiredTokenException', 400, false],
    ['Throttling', 400, true],
    ['IDPCommunicationError', 400, true],
    ['ServiceUnavailable', 503, true],
  ])('%s → %s', (name, status, expected) => {
    expect(isRetryableAssumeError(awsError(name, status))).toBe(expected);
  });
});
