import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { leakedSecrets, runAction, type ActionRun } from '../../../test/helpers/action-runner.js';
import { subjectPrefix } from '../../../infra/lib/config.js';
import { resourceNames } from '../../../infra/lib/names.js';
import { PROJECT } from '../../../infra/lib/project.js';
import { FIRST } from '../../../infra/test/helpers/app.js';
import { deployFoundation } from '../../../test/helpers/local-stacks.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, startMoto, type LocalAws } from '../../../test/helpers/moto.js';
import { configuredJob, gitHubSubject, OidcIssuer } from '../../../test/helpers/oidc-issuer.js';
import { StsGate } from '../../../test/helpers/sts-gate.js';
import { defaultSessionName } from '../src/inputs.js';

/**
 * The bundled action, run as the GitHub runner runs it, against moto with the first configured
 * environment's foundation deployed, behind a local STS that verifies the issuer's signature and
 * the roles' trust policies.
 */
describe('aws-credentials action (dist, through the runner harness)', () => {
  let aws: LocalAws;
  let issuer: OidcIssuer;
  let gate: StsGate;
  const NAMES = resourceNames(FIRST);
  const ACCOUNT = LOCAL_ACCOUNT;
  const REGION = LOCAL_REGION;
  const DEPLOY_ROLE = `arn:aws:iam::${ACCOUNT}:role/${NAMES.deployRole}`;
  const OPERATOR_ROLE = `arn:aws:iam::${ACCOUNT}:role/${NAMES.operatorRole}`;
  /** A push to the configured repository's main branch (with its numeric ids when configured). */
  const MAIN_PUSH = configuredJob();
  /** The deploy workflow's job on main in the first environment: the only job the deploy role trusts. */
  const DEPLOY_JOB = { ...MAIN_PUSH, environment: FIRST.github.deployEnvironment, workflow: 'deploy' };
  const REPOSITORY = `${PROJECT.github.owner}/${PROJECT.github.repo}`;
  /** The run of the runner harness: the configured repository's run 4242, attempt 1. */
  const RUN = { repository: REPOSITORY, runId: '4242', runAttempt: '1' };

  beforeAll(async () => {
    aws = await startMoto();
    issuer = await new OidcIssuer().start();
    gate = await new StsGate(aws, issuer).start();
    await deployFoundation(aws, FIRST.name);
  }, 60_000);

  it('plays the first configured environment', () => {
    expect([aws.account, aws.region]).toEqual([FIRST.account, FIRST.region]);
    expect(gitHubSubject(MAIN_PUSH)).toBe(
      `${subjectPrefix(PROJECT.github)}:ref:refs/heads/${PROJECT.github.mainBranch}`,
    );
  });

  afterAll(async () => {
    await gate?.stop();
    await issuer?.stop();
    await aws?.stop();
  });

  beforeEach(() => {
    issuer.job = DEPLOY_JOB;
    issuer.requests.length = 0;
    gate.decisions.length = 0;
  });

  const run = (inputs: Record<string, string>, env: Record<string, string | undefined> = {}): Promise<ActionRun> =>
    runAction('aws-credentials', {
      inputs: { 'aws-region': REGION, ...inputs },
      github: RUN,
      env: {
        AWS_ENDPOINT_URL: aws.endpoint,
        AWS_ENDPOINT_URL_STS: gate.endpoint,
        AWS_EC2_METADATA_DISABLED: 'true',
        ...issuer.runnerEnv(),
        ...env,
      },
    });

  /** Nothing secret printed: the credentials, every issued token, the token-request bearer. */
  const expectNoLeak = (result: ActionRun, extra: string[] = []): void => {
    const secrets = [
      result.env.AWS_ACCESS_KEY_ID ?? '',
      result.env.AWS_SECRET_ACCESS_KEY ?? '',
      result.env.AWS_SESSION_TOKEN ?? '',
      issuer.requestToken,
      ...issuer.issued,
      ...extra,
    ];
    expect(leakedSecrets(result, secrets)).toEqual([]);
  };

  it("assumes the deploy role from the deploy workflow's environment job on main and exports verified, masked credentials", async () => {
    const result = await run({ 'role-to-assume': DEPLOY_ROLE });
    expect(result.errors).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(Object.keys(result.env).sort()).toEqual(
      ['AWS_ACCESS_KEY_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'].sort(),
    );
    expect(result.env.AWS_REGION).toBe(REGION);
    expect(result.outputs['aws-account-id']).toBe(ACCOUNT);
    expect(result.outputs['assumed-role-arn']).toBe(
      `arn:aws:sts::${ACCOUNT}:assumed-role/${NAMES.deployRole}/${defaultSessionName(RUN)}`,
    );
    expect(defaultSessionName(RUN)).toMatch(/^gha-.+-4242-1$/);
    expect(new Date(result.outputs.expiration!).getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      expect(result.masks).toContain(result.env[name]);
    }
    expect(issuer.requests).toEqual([{ audience: 'sts.amazonaws.com', authorized: true }]);
    expect(gate.decisions).toEqual([expect.objectContaining({ outcome: 'allowed', sub: gitHubSubject(DEPLOY_JOB) })]);
    expectNoLeak(result);

    // The exported credentials work for the next step.
    const sts = new STSClient({
      region: REGION,
      endpoint: aws.endpoint,
      credentials: {
        accessKeyId: result.env.AWS_ACCESS_KEY_ID!,
        secretAccessKey: result.env.AWS_SECRET_ACCESS_KEY!,
        sessionToken: result.env.AWS_SESSION_TOKEN!,
      },
    });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe(result.outputs['assumed-role-arn']);

    // The post step empties every exported variable.
    const post = await runAction('aws-credentials', { stage: 'post', state: result.state });
    expect(post.exitCode).toBe(0);
    expect(post.env).toEqual({
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_REGION: '',
      AWS_DEFAULT_REGION: '',
    });
  });

  it(`assumes the operator role from a job in the ${FIRST.name} environment`, async () => {
    issuer.job = { ...MAIN_PUSH, environment: FIRST.github.deployEnvironment };
    const result = await run({
      'role-to-assume': OPERATOR_ROLE,
      'role-session-name': 'smoke-test',
      'mask-aws-account-id': 'true',
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs['assumed-role-arn']).toBe(
      `arn:aws:sts::${ACCOUNT}:assumed-role/${NAMES.operatorRole}/smoke-test`,
    );
    expect(result.masks).toContain(ACCOUNT);
    expect(result.log).not.toContain(ACCOUNT);
    expectNoLeak(result);
  });

  it("gives jobs running side by side each its own job's claims, as GitHub's per-job request token does", async () => {
    const pullRequest = { ...MAIN_PUSH, ref: 'refs/pull/7/merge', eventName: 'pull_request', workflow: 'pr' };
    const [deploy, refused] = await Promise.all([
      run({ 'role-to-assume': DEPLOY_ROLE }, issuer.runnerEnv(DEPLOY_JOB)),
      run({ 'role-to-assume': DEPLOY_ROLE }, issuer.runnerEnv(pullRequest)),
    ]);
    expect(deploy.exitCode).toBe(0);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.errors.join('\n')).toContain(gitHubSubject(pullRequest));
    // A bearer the issuer never handed out gets no token.
    const forged = await run({ 'role-to-assume': DEPLOY_ROLE }, { ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'forged' });
    expect(forged.exitCode).not.toBe(0);
    expect(issuer.requests.filter((request) => !request.authorized)).toHaveLength(1);
  });

  it('fails at once with the YAML to add when the job may not request a token', async () => {
    const result = await run(
      { 'role-to-assume': DEPLOY_ROLE },
      { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined },
    );
    expect(result.exitCode).toBe(1);
    expect(result.errors.join('\n')).toContain('permissions:\n  id-token: write\n  contents: read');
    expect(gate.decisions).toEqual([]);
  });

  it('refuses a pull-request token for the deploy role without retrying, showing the claims and the needed condition', async () => {
    issuer.job = { ...MAIN_PUSH, ref: 'refs/pull/7/merge', eventName: 'pull_request' };
    const sub = gitHubSubject(issuer.job);
    expect(sub).toBe(`${subjectPrefix(PROJECT.github)}:pull_request`);
    const result = await run({ 'role-to-assume': DEPLOY_ROLE });
    expect(result.exitCode).toBe(1);
    const error = result.errors.join('\n');
    expect(error).toContain(
      'AssumeRoleWithWebIdentity failed: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity',
    );
    expect(error).toMatch(new RegExp(`sub\\s+${escapeRegExp(sub)}`));
    expect(error).toMatch(/event_name\s+pull_request/);
    expect(error).toContain(`"token.actions.githubusercontent.com:sub": "${sub}"`);
    expect(gate.decisions.map((d) => d.outcome)).toEqual(['denied']);
    expect(result.env).toEqual({});
    expectNoLeak(result);
  });

  it('refuses a token for an audience the provider does not accept, without retrying', async () => {
    const audience = `https://github.com/${PROJECT.github.owner}`;
    const result = await run({ 'role-to-assume': DEPLOY_ROLE, audience });
    expect(result.exitCode).toBe(1);
    expect(result.errors.join('\n')).toContain('InvalidIdentityToken');
    expect(result.errors.join('\n')).toMatch(new RegExp(`aud\\s+${escapeRegExp(audience)}`));
    expect(gate.decisions).toHaveLength(1);
    expectNoLeak(result);
  });

  it('retries throttling, 5xx, IdP and network errors, one log line each, then succeeds', async () => {
    gate.injectFaults('throttle', 'server', 'idp-communication', 'reset');
    const result = await run({ 'role-to-assume': DEPLOY_ROLE });
    expect(result.errors).toEqual([]);
    expect(result.exitCode).toBe(0);
    const retries = result.stdout.split('\n').filter((line) => line.startsWith('AssumeRoleWithWebIdentity: attempt'));
    expect(retries).toHaveLength(4);
    expect(retries[0]).toMatch(/attempt 1 failed \(Rate exceeded\); retrying in \d+ ms/);
    expect(gate.decisions.map((d) => d.outcome)).toEqual([
      'throttle',
      'server',
      'idp-communication',
      'reset',
      'allowed',
    ]);
    expectNoLeak(result);
  }, 60_000);

  it.each([
    [{ 'role-duration-seconds': '100' }, "Input 'role-duration-seconds' must be 900-43200, got '100'."],
    [{ 'role-to-assume': NAMES.deployRole }, "Input 'role-to-assume' must be a role ARN"],
    // The example region in the message is the action's own text, the same on every configuration.
    [{ 'aws-region': 'tokyo' }, "Input 'aws-region' must be an AWS region such as ap-northeast-1, got 'tokyo'."],
  ])('rejects bad input %j before requesting a token', async (inputs, message) => {
    const result = await run({ 'role-to-assume': DEPLOY_ROLE, ...inputs });
    expect(result.exitCode).toBe(1);
    expect(result.errors.join('\n')).toContain(message);
    expect(issuer.requests).toEqual([]);
    expect(gate.decisions).toEqual([]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
