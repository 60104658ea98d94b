import { ConfigError, resolveEnvironments, subjectPrefix, validateEnvironment } from '../lib/config.js';
import { ENVIRONMENTS } from '../lib/project.js';
import { environment, type ConfigOverrides } from './helpers/app.js';

describe('shipped environments', () => {
  it('ships dev and canary, both valid, with the defaults the design card fixes', () => {
    expect(ENVIRONMENTS.map((env) => env.name)).toEqual(['dev', 'canary']);
    for (const env of ENVIRONMENTS) {
      expect(validateEnvironment(env)).toEqual([]);
      expect(env.region).toBe('ap-northeast-1');
      expect(env.azCount).toBe(2);
      expect(env.task).toMatchObject({ cpu: 256, memoryMiB: 512, architecture: 'ARM64' });
      expect(env.ec2DebugEndpoints).toBe(false);
    }
  });

  it('gives each environment its own CIDR and pull-through cache prefix (they may share an account)', () => {
    const [dev, canary] = ENVIRONMENTS;
    expect(dev!.vpcCidr).not.toBe(canary!.vpcCidr);
    expect(dev!.image).not.toEqual(canary!.image);
  });
});

describe('validation names the field, the expectation and what was found', () => {
  const cases: Array<[string, ConfigOverrides, RegExp]> = [
    ['bad account', { account: '1234' }, /dev\.account: expected a 12-digit AWS account id, found "1234"/],
    ['bad region', { region: 'tokyo' }, /dev\.region: expected an AWS region/],
    ['bad CIDR', { vpcCidr: '10.0.0.0/8' }, /dev\.vpcCidr: expected an IPv4 CIDR from \/16 to \/24/],
    ['octet out of range', { vpcCidr: '10.300.0.0/22' }, /dev\.vpcCidr/],
    ['AZ count 0', { azCount: 0 }, /dev\.azCount: expected an integer from 1 to 3, found 0/],
    ['unknown cpu', { task: { cpu: 300 } }, /dev\.task\.cpu: expected one of 256, 512/],
    [
      'cpu/memory mismatch',
      { task: { cpu: 256, memoryMiB: 4096 } },
      /dev\.task\.memoryMiB: expected for cpu 256, one of 512, 1024, 2048, found 4096/,
    ],
    [
      'Spot on ARM64',
      { task: { spot: true, architecture: 'ARM64' } },
      /dev\.task\.spot: expected spot only with architecture 'X86_64'/,
    ],
    ['bad architecture', { task: { architecture: 'RISCV' as never } }, /dev\.task\.architecture/],
    ['desired count 0', { task: { desiredCount: 0 } }, /dev\.task\.desiredCount/],
    [
      'latest tag',
      {
        image: {
          kind: 'pull-through-cache',
          upstreamRepository: 'nginx/nginx',
          tag: 'latest',
          repositoryPrefix: 'dev-ecr-public',
        },
      },
      /dev\.image\.tag: expected a pinned tag/,
    ],
    [
      'ECR image with tag and digest',
      { image: { kind: 'ecr', repositoryName: 'web', tag: '1', digest: `sha256:${'a'.repeat(64)}` } },
      /dev\.image: expected exactly one of tag and digest/,
    ],
    ['bad digest', { image: { kind: 'ecr', repositoryName: 'web', digest: 'sha256:xyz' } }, /dev\.image\.digest/],
    [
      'owner id without repo id',
      { github: { ownerId: '1' } },
      /dev\.github: expected both ownerId and repoId, or neither/,
    ],
    [
      'non-numeric repo id',
      { github: { ownerId: '1', repoId: 'abc' } },
      /dev\.github\.repoId: expected the numeric repository id/,
    ],
    [
      'bad provider ARN',
      { github: { existingOidcProviderArn: 'arn:aws:iam::123:oidc-provider/x' } },
      /dev\.github\.existingOidcProviderArn/,
    ],
    [
      'retention not accepted by CloudWatch',
      { logRetentionDays: 31 },
      /dev\.logRetentionDays: expected one of 1, 3, 5/,
    ],
  ];

  it.each(cases)('%s', (_name, overrides, message) => {
    expect(() => environment('dev', overrides)).toThrow(ConfigError);
    expect(() => environment('dev', overrides)).toThrow(message);
  });

  it('reports every problem at once, not only the first', () => {
    expect(() => environment('dev', { region: 'x', azCount: 9 })).toThrow(/dev\.region[\s\S]*dev\.azCount/);
  });

  it('accepts a cheap single-AZ dev and X86_64 Spot', () => {
    expect(environment('dev', { azCount: 1, task: { architecture: 'X86_64', spot: true } }).azCount).toBe(1);
  });
});

describe('environment selection and account', () => {
  it('selects by name and rejects unknown names with the known ones', () => {
    expect(resolveEnvironments(ENVIRONMENTS, { names: ['canary'] }).map((env) => env.name)).toEqual(['canary']);
    expect(() => resolveEnvironments(ENVIRONMENTS, { names: ['prod'] })).toThrow(
      "Unknown environment 'prod': expected one of dev, canary.",
    );
  });

  it('takes the account from the caller when the config has none, and works without one', () => {
    expect(resolveEnvironments(ENVIRONMENTS, { account: '111122223333' })[0]!.account).toBe('111122223333');
    expect(resolveEnvironments(ENVIRONMENTS, {})[0]!.account).toBeUndefined();
  });
});

describe('OIDC subject prefix', () => {
  it('uses the legacy form without ids and the immutable form with them', () => {
    const github = ENVIRONMENTS[0]!.github;
    expect(subjectPrefix(github)).toBe('repo:example-org/private-aws-gitops');
    expect(subjectPrefix({ ...github, ownerId: '42', repoId: '4242' })).toBe(
      'repo:example-org-42/private-aws-gitops-4242',
    );
  });
});
