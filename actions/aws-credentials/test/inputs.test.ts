import { UserInputError } from '../../shared/src/errors.js';
import { resourceNames } from '../../../infra/lib/names.js';
import { ENVIRONMENTS, PROJECT } from '../../../infra/lib/project.js';
import { INPUT, defaultSessionName, parseInputs } from '../src/inputs.js';

/** The first configured environment's deploy role, in its region; a run of the configured repository. */
const ENV = ENVIRONMENTS[0]!;
const ROLE_NAME = resourceNames(ENV).deployRole;
const ROLE = `arn:aws:iam::${ENV.account}:role/${ROLE_NAME}`;
const REGION = ENV.region;
const RUN = { repository: `${PROJECT.github.owner}/${PROJECT.github.repo}`, runId: '4242', runAttempt: '2' };
const parse = (values: Record<string, string>) => parseInputs((name) => values[name] ?? '', RUN);

describe('parseInputs', () => {
  it('applies the defaults', () => {
    expect(parse({ [INPUT.roleToAssume]: ROLE, [INPUT.awsRegion]: REGION })).toEqual({
      roleArn: ROLE,
      region: REGION,
      audience: 'sts.amazonaws.com',
      roleSessionName: defaultSessionName(RUN),
      durationSeconds: 3600,
      maskAccountId: false,
    });
  });

  it('names the session after the repository, the run and the attempt', () => {
    const session = defaultSessionName(RUN);
    expect(session).toMatch(/^gha-[\w+=,.@-]+-4242-2$/);
    expect(session.length).toBeLessThanOrEqual(64);
    // Slashes become dashes; the repository stays recognisable when it fits.
    const full = `gha-${RUN.repository.replace('/', '-')}-4242-2`;
    if (full.length <= 64 && /^[\w+=,.@-]+$/.test(full)) expect(session).toBe(full);
  });

  it('reads every input', () => {
    expect(
      parse({
        [INPUT.roleToAssume]: `arn:aws-us-gov:iam::${ENV.account}:role/path/to/role`,
        [INPUT.awsRegion]: 'us-gov-west-1',
        [INPUT.audience]: 'custom',
        [INPUT.roleSessionName]: 'my.session@x',
        [INPUT.roleDurationSeconds]: '900',
        [INPUT.maskAwsAccountId]: 'true',
      }),
    ).toMatchObject({ audience: 'custom', roleSessionName: 'my.session@x', durationSeconds: 900, maskAccountId: true });
  });

  it.each([
    ['missing role', { [INPUT.awsRegion]: REGION }, "Input 'role-to-assume' is required"],
    [
      'role name instead of ARN',
      { [INPUT.roleToAssume]: ROLE_NAME, [INPUT.awsRegion]: REGION },
      // The example in the message is the action's own text, the same on every configuration.
      `Input 'role-to-assume' must be a role ARN such as arn:aws:iam::123456789012:role/dev-github-deploy, got '${ROLE_NAME}'.`,
    ],
    [
      'user ARN',
      { [INPUT.roleToAssume]: `arn:aws:iam::${ENV.account}:user/bob`, [INPUT.awsRegion]: REGION },
      'must be a role ARN',
    ],
    [
      'short account',
      { [INPUT.roleToAssume]: 'arn:aws:iam::1234:role/r', [INPUT.awsRegion]: REGION },
      'must be a role ARN',
    ],
    ['missing region', { [INPUT.roleToAssume]: ROLE }, "Input 'aws-region' is required"],
    [
      'region name',
      { [INPUT.roleToAssume]: ROLE, [INPUT.awsRegion]: 'Tokyo' },
      // The example in the message is the action's own text, the same on every configuration.
      "Input 'aws-region' must be an AWS region such as ap-northeast-1, got 'Tokyo'.",
    ],
    [
      'duration too short',
      { [INPUT.roleToAssume]: ROLE, [INPUT.awsRegion]: REGION, [INPUT.roleDurationSeconds]: '899' },
      "Input 'role-duration-seconds' must be 900-43200, got '899'.",
    ],
    [
      'duration too long',
      { [INPUT.roleToAssume]: ROLE, [INPUT.awsRegion]: REGION, [INPUT.roleDurationSeconds]: '43201' },
      'must be 900-43200',
    ],
    [
      'session name with a space',
      { [INPUT.roleToAssume]: ROLE, [INPUT.awsRegion]: REGION, [INPUT.roleSessionName]: 'a b' },
      "Input 'role-session-name' must be 2-64 characters",
    ],
    [
      'mask not boolean',
      { [INPUT.roleToAssume]: ROLE, [INPUT.awsRegion]: REGION, [INPUT.maskAwsAccountId]: 'yes' },
      "Input 'mask-aws-account-id' must be true or false",
    ],
  ])('rejects %s before any call', (_name, values, message) => {
    expect(() => parse(values)).toThrow(UserInputError);
    expect(() => parse(values)).toThrow(message);
  });
});

describe('defaultSessionName', () => {
  it('keeps only STS characters', () => {
    expect(defaultSessionName({ repository: 'o/r~x', runId: '1', runAttempt: '1' })).toBe('gha-o-r-x-1-1');
  });

  it('fits 64 characters and keeps the run id and attempt when shortening', () => {
    const name = defaultSessionName({ repository: `org/${'r'.repeat(100)}`, runId: '9876543210', runAttempt: '3' });
    expect(name).toHaveLength(64);
    expect(name.endsWith('-9876543210-3')).toBe(true);
    expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
  });

  it('works outside a run', () => {
    expect(defaultSessionName({})).toBe('gha-local');
  });
});

describe('action.yml', () => {
  it('declares exactly the inputs the action reads', async () => {
    const { readActionYaml } = await import('../../../test/helpers/action-runner.js');
    expect(Object.keys(readActionYaml('aws-credentials').inputs ?? {}).sort()).toEqual(Object.values(INPUT).sort());
  });
});
