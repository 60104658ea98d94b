import { UserInputError } from '../../shared/src/errors.js';
import { INPUT, defaultSessionName, parseInputs } from '../src/inputs.js';

const ROLE = 'arn:aws:iam::123456789012:role/dev-github-deploy';
const RUN = { repository: 'example-org/private-aws-gitops', runId: '4242', runAttempt: '2' };
const parse = (values: Record<string, string>) => parseInputs((name) => values[name] ?? '', RUN);

describe('parseInputs', () => {
  it('applies the defaults', () => {
    expect(parse({ [INPUT.roleToAssume]: ROLE, [INPUT.awsRegion]: 'ap-northeast-1' })).toEqual({
      roleArn: ROLE,
      region: 'ap-northeast-1',
      audience: 'sts.amazonaws.com',
      roleSessionName: 'gha-example-org-private-aws-gitops-4242-2',
      durationSeconds: 3600,
      maskAccountId: false,
    });
  });

  it('reads every input', () => {
    expect(
      parse({
        [INPUT.roleToAssume]: 'arn:aws-us-gov:iam::123456789012:role/path/to/role',
        [INPUT.awsRegion]: 'us-gov-west-1',
        [INPUT.audience]: 'custom',
        [INPUT.roleSessionName]: 'my.session@x',
        [INPUT.roleDurationSeconds]: '900',
        [INPUT.maskAwsAccountId]: 'true',
      }),
    ).toMatchObject({ audience: 'custom', roleSessionName: 'my.session@x', durationSeconds: 900, maskAccountId: true });
  });

  it.each([
    ['missing role', { [INPUT.awsRegion]: 'ap-northeast-1' }, "Input 'role-to-assume' is required"],
    [
      'role name instead of ARN',
      { [INPUT.roleToAssume]: 'dev-github-deploy', [INPUT.awsRegion]: 'ap-northeast-1' },
      "Input 'role-to-assume' must be a role ARN such as arn:aws:iam::123456789012:role/dev-github-deploy, got 'dev-github-deploy'.",
    ],
    [
      'user ARN',
      { [INPUT.roleToAssume]: 'arn:aws:iam::123456789012:user/bob', [INPUT.awsRegion]: 'ap-northeast-1' },
      'must be a role ARN',
    ],
    [
      'short account',
      { [INPUT.roleToAssume]: 'arn:aws:iam::1234:role/r', [INPUT.awsRegion]: 'ap-northeast-1' },
      'must be a role ARN',
    ],
    ['missing region', { [INPUT.roleToAssume]: ROLE }, "Input 'aws-region' is required"],
    [
      'region name',
      { [INPUT.roleToAssume]: ROLE, [INPUT.awsRegion]: 'Tokyo' },
      "Input 'aws-region' must be an AWS region such as ap-northeast-1, got 'Tokyo'.",
    ],
    [
      'duration too short',
      { [INPUT.roleToAssume]: ROLE, [INPUT.awsRegion]: 'ap-northeast-1', [INPUT.roleDurationSeconds]: '899' },
      "Input 'role-duration-seconds' must be 900-43200, got '899'.",
    ],
    [
      'duration too long',
      { [INPUT.roleToAssume]: ROLE, [INPUT.awsRegion]: 'ap-northeast-1', [INPUT.roleDurationSeconds]: '43201' },
      'must be 900-43200',
    ],
    [
      'session name with a space',
      { [INPUT.roleToAssume]: ROLE, [INPUT.awsRegion]: 'ap-northeast-1', [INPUT.roleSessionName]: 'a b' },
      "Input 'role-session-name' must be 2-64 characters",
    ],
    [
      'mask not boolean',
      { [INPUT.roleToAssume]: ROLE, [INPUT.awsRegion]: 'ap-northeast-1', [INPUT.maskAwsAccountId]: 'yes' },
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
