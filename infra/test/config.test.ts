import {
  ConfigError,
  crossEnvironmentProblems,
  DEFAULTS,
  defaultImage,
  environmentFromEntry,
  parseProjectFile,
  readProjectFile,
  resolveEnvironments,
  subjectPrefix,
  validateEnvironment,
  type EnvironmentConfig,
  type EnvironmentEntry,
  type ProjectFile,
} from '../lib/config.js';
import { BOOTSTRAP_QUALIFIER_PATTERN, defaultBootstrapQualifier } from '../lib/names.js';
import { ENVIRONMENTS, PROJECT } from '../lib/project.js';
import type { Schedule } from '../lib/schedule.js';
import { environment, FIRST, type ConfigOverrides } from './helpers/app.js';

/** The configuration file as written, deep-copied so a test can break it. */
interface RawFile {
  [key: string]: unknown;
  github: Record<string, unknown>;
  environments: Record<string, unknown>[];
}
const rawFile = (): RawFile => structuredClone(readProjectFile()) as RawFile;
/** Sets (or, with undefined, deletes) a top-level key to any value, well-typed or not. */
const setKey = (raw: RawFile, key: string, value: unknown): void => {
  const loose = raw as Record<string, unknown>;
  if (value === undefined) delete loose[key];
  else loose[key] = value;
};

/** The problems parseProjectFile reports for a file, or [] when it parses. */
function parseProblems(raw: unknown): string {
  try {
    parseProjectFile(raw, 'test.json');
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
}

/** A problem line of a ConfigError's message that starts with `text` (`  - <environment>.<field>: ...`). */
const problemLine = (text: string): RegExp => new RegExp(`^  - ${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm');

/** Synthetic environments for the multi-environment rules (not the configured ones). */
const GITHUB: ProjectFile['github'] = { owner: 'octo-org', repo: 'infra' };
const ACCOUNT = '444455556666';
const REGION = 'us-east-2';
/** A valid schedule, whatever the configured environments hold. */
const SCHEDULE: Schedule = { days: ['Mon', 'Wed', 'Fri'], start: '09:30', end: '17:00', timeZone: 'Europe/Paris' };
const entry = (name: string, vpcCidr: string, rest: Partial<EnvironmentEntry> = {}): EnvironmentConfig =>
  environmentFromEntry({ name, account: ACCOUNT, region: REGION, vpcCidr, ...rest }, GITHUB);

describe('the configuration file', () => {
  it('parses, with one environment per entry in file order, each valid and with its fields as written', () => {
    const raw = rawFile();
    expect(parseProjectFile(raw)).toEqual(PROJECT);
    expect(ENVIRONMENTS.length).toBeGreaterThan(0);
    expect(ENVIRONMENTS.map((env) => env.name)).toEqual(raw.environments.map((e) => e.name));
    raw.environments.forEach((written, index) => {
      const env = ENVIRONMENTS[index]!;
      expect(validateEnvironment(env)).toEqual([]);
      expect(env).toMatchObject({
        name: written.name,
        account: written.account,
        region: written.region,
        vpcCidr: written.vpcCidr,
      });
      expect(env.github).toMatchObject({
        owner: raw.github.owner,
        repo: raw.github.repo,
        mainBranch: raw.github.mainBranch ?? DEFAULTS.mainBranch,
        deployEnvironment: env.name,
        oidcProviderExists: ((raw.github.existingOidcProviderAccounts as string[] | undefined) ?? []).includes(
          env.account,
        ),
      });
      // What the file leaves out comes from the defaults.
      if (written.azCount === undefined) expect(env.azCount).toBe(DEFAULTS.azCount);
      if (written.image === undefined) expect(env.image).toEqual(defaultImage(env.name));
      if (written.bootstrapQualifier === undefined)
        expect(env.bootstrapQualifier).toBe(defaultBootstrapQualifier(env.name));
      if (written.logRetentionDays === undefined) expect(env.logRetentionDays).toBe(DEFAULTS.logRetentionDays);
    });
    expect(crossEnvironmentProblems(ENVIRONMENTS)).toEqual([]);
  });

  it('keeps what environments must not share apart (names, CIDRs; qualifiers and cache prefixes per account and region)', () => {
    ENVIRONMENTS.forEach((env, index) => {
      for (const other of ENVIRONMENTS.slice(0, index)) {
        expect(env.name).not.toBe(other.name);
        expect(env.vpcCidr).not.toBe(other.vpcCidr);
        if (env.account === other.account && env.region === other.region) {
          expect(env.bootstrapQualifier).not.toBe(other.bootstrapQualifier);
          if (env.image.kind === 'pull-through-cache' && other.image.kind === 'pull-through-cache')
            expect(env.image.repositoryPrefix).not.toBe(other.image.repositoryPrefix);
        }
      }
    });
  });

  it('fills every default of an entry that names only what it must', () => {
    const env = environmentFromEntry(
      { name: 'solo', account: ACCOUNT, region: REGION, vpcCidr: '10.0.0.0/22' },
      { ...GITHUB, existingOidcProviderAccounts: [ACCOUNT] },
    );
    expect(env).toEqual({
      name: 'solo',
      account: ACCOUNT,
      region: REGION,
      vpcCidr: '10.0.0.0/22',
      azCount: 2,
      task: { cpu: 256, memoryMiB: 512, architecture: 'ARM64', spot: false, desiredCount: 1 },
      image: {
        kind: 'pull-through-cache',
        upstreamRepository: 'nginx/nginx',
        tag: '1.28-alpine',
        repositoryPrefix: 'solo-ecr-public',
      },
      github: {
        owner: 'octo-org',
        repo: 'infra',
        mainBranch: 'main',
        deployEnvironment: 'solo',
        oidcProviderExists: true,
      },
      ec2DebugEndpoints: false,
      logRetentionDays: 30,
      bootstrapQualifier: 'solo',
      remoteHostForwarding: false,
    });
    expect(validateEnvironment(env)).toEqual([]);
  });
});

describe('validation names the environment and the field, the expectation and what was found', () => {
  const at = (field: string): string => `${FIRST.name}.${field}`;
  const cases: Array<[string, ConfigOverrides, string]> = [
    ['bad account', { account: '1234' }, `${at('account')}: expected a 12-digit AWS account id, found "1234"`],
    ['bad region', { region: 'tokyo' }, `${at('region')}: expected an AWS region`],
    ['bad CIDR', { vpcCidr: '10.0.0.0/8' }, `${at('vpcCidr')}: expected an IPv4 CIDR from /16 to /24`],
    ['octet out of range', { vpcCidr: '10.300.0.0/22' }, `${at('vpcCidr')}: expected an IPv4 CIDR`],
    ['AZ count 0', { azCount: 0 }, `${at('azCount')}: expected an integer from 1 to 3, found 0`],
    ['unknown cpu', { task: { cpu: 300 } }, `${at('task.cpu')}: expected one of 256, 512`],
    [
      'cpu/memory mismatch',
      { task: { cpu: 256, memoryMiB: 4096 } },
      `${at('task.memoryMiB')}: expected for cpu 256, one of 512, 1024, 2048, found 4096`,
    ],
    [
      'Spot on ARM64',
      { task: { spot: true, architecture: 'ARM64' } },
      `${at('task.spot')}: expected spot only with architecture 'X86_64'`,
    ],
    ['bad architecture', { task: { architecture: 'RISCV' as never } }, `${at('task.architecture')}: expected`],
    ['desired count 0', { task: { desiredCount: 0 } }, `${at('task.desiredCount')}: expected an integer from 1 to 10`],
    [
      'latest tag',
      {
        image: {
          kind: 'pull-through-cache',
          upstreamRepository: 'nginx/nginx',
          tag: 'latest',
          repositoryPrefix: `${FIRST.name}-ecr-public`,
        },
      },
      `${at('image.tag')}: expected a pinned tag`,
    ],
    [
      'ECR image with tag and digest',
      { image: { kind: 'ecr', repositoryName: 'web', tag: '1', digest: `sha256:${'a'.repeat(64)}` } },
      `${at('image')}: expected exactly one of tag and digest`,
    ],
    [
      'bad digest',
      { image: { kind: 'ecr', repositoryName: 'web', digest: 'sha256:xyz' } },
      `${at('image.digest')}: expected sha256:`,
    ],
    [
      'retention not accepted by CloudWatch',
      { logRetentionDays: 31 },
      `${at('logRetentionDays')}: expected one of 1, 3, 5`,
    ],
    [
      'bootstrap qualifier with upper case and a dash',
      { bootstrapQualifier: 'My-Qual' },
      `${at('bootstrapQualifier')}: expected the cdk bootstrap qualifier`,
    ],
    [
      'bootstrap qualifier over 10 characters',
      { bootstrapQualifier: 'abcdefghijk' },
      `${at('bootstrapQualifier')}: expected the cdk bootstrap qualifier`,
    ],
    [
      'remote-host forwarding as a string',
      { remoteHostForwarding: 'yes' as never },
      `${at('remoteHostForwarding')}: expected true or false, found "yes"`,
    ],
    [
      'an S3 prefix list id that is not one',
      { s3PrefixListId: 'com.amazonaws.eu-west-1.s3' },
      `${at('s3PrefixListId')}: expected the id of the prefix list com.amazonaws.`,
    ],
    [
      'a schedule day written out',
      { schedule: { ...SCHEDULE, days: ['Monday' as never] } },
      `${at('schedule.days')}: expected a non-empty list of distinct days from Mon, Tue, Wed, Thu, Fri, Sat, Sun, found ["Monday"]`,
    ],
    [
      'a schedule with no day',
      { schedule: { ...SCHEDULE, days: [] } },
      `${at('schedule.days')}: expected a non-empty list of distinct days`,
    ],
    [
      'a schedule start that is not HH:MM',
      { schedule: { ...SCHEDULE, start: '8am' } },
      `${at('schedule.start')}: expected a 24-hour time HH:MM from 00:00 to 23:59, found "8am"`,
    ],
    [
      'an overnight schedule',
      { schedule: { ...SCHEDULE, start: '22:00', end: '06:00' } },
      `${at('schedule.end')}: expected a time later than start 22:00 on the same day (a window cannot cross midnight`,
    ],
    [
      'a schedule in an unknown time zone',
      { schedule: { ...SCHEDULE, timeZone: 'Asia/Tokio' } },
      `${at('schedule.timeZone')}: expected an IANA time zone such as Asia/Tokyo or Europe/Paris, found "Asia/Tokio"`,
    ],
  ];

  it.each(cases)('%s', (_name, overrides, message) => {
    expect(() => environment(FIRST.name, overrides)).toThrow(ConfigError);
    expect(() => environment(FIRST.name, overrides)).toThrow(problemLine(message));
  });

  it.each(['Dev', 'd', '1env', 'env-', 'my--env', 'a-very-long-environment'])('rejects the name %j', (name) => {
    expect(() => environment(FIRST.name, { name })).toThrow(
      problemLine(`${name}.name: expected 2-15 lower-case letters`),
    );
  });

  it('reports every problem at once, not only the first', () => {
    expect(() => environment(FIRST.name, { region: 'x', azCount: 9 })).toThrow(
      new RegExp(`${FIRST.name}\\.region[\\s\\S]*${FIRST.name}\\.azCount`),
    );
  });

  it('reads remote-host forwarding and the S3 prefix list from the file, off and unset by default', () => {
    const entry = { name: 'solo', account: ACCOUNT, region: REGION, vpcCidr: '10.0.0.0/22' };
    expect(environmentFromEntry(entry, GITHUB)).toMatchObject({ remoteHostForwarding: false });
    expect(environmentFromEntry(entry, GITHUB).s3PrefixListId).toBeUndefined();
    const set = environmentFromEntry(
      { ...entry, remoteHostForwarding: true, s3PrefixListId: 'pl-0123456789abcdef0' },
      GITHUB,
    );
    expect(set).toMatchObject({ remoteHostForwarding: true, s3PrefixListId: 'pl-0123456789abcdef0' });
    expect(validateEnvironment(set)).toEqual([]);
  });

  it('accepts a cheap single-AZ environment and X86_64 Spot', () => {
    expect(environment(FIRST.name, { azCount: 1, task: { architecture: 'X86_64', spot: true } }).azCount).toBe(1);
  });

  it('reads the schedule from the file, none (always awake) by default', () => {
    const entry = { name: 'solo', account: ACCOUNT, region: REGION, vpcCidr: '10.0.0.0/22' };
    expect('schedule' in environmentFromEntry(entry, GITHUB)).toBe(false);
    const scheduled = environmentFromEntry({ ...entry, schedule: SCHEDULE }, GITHUB);
    expect(scheduled.schedule).toEqual(SCHEDULE);
    expect(validateEnvironment(scheduled)).toEqual([]);
  });
});

describe('parseProjectFile rejects a malformed file, naming the field', () => {
  it.each<[string, (raw: ReturnType<typeof rawFile>) => void, string[]]>([
    ['an unknown top-level key', (raw) => setKey(raw, 'enviroments', []), ['(top level).enviroments: unknown setting']],
    ['an unknown github key', (raw) => (raw.github.branch = 'main'), ['github.branch: unknown setting']],
    [
      'an unknown environment key',
      (raw) => (raw.environments[0]!.cidr = '10.0.0.0/22'),
      ['environments[0].cidr: unknown setting'],
    ],
    [
      'an unknown task key',
      (raw) => (raw.environments[0]!.task = { vcpu: 1 }),
      ['environments[0].task.vcpu: unknown setting'],
    ],
    [
      'a schedule that is a string',
      (raw) => (raw.environments[0]!.schedule = 'office hours'),
      ['environments[0].schedule: expected an object with days, start, end and timeZone, found "office hours"'],
    ],
    [
      'an unknown schedule key',
      (raw) => (raw.environments[0]!.schedule = { ...SCHEDULE, weekends: false }),
      ['environments[0].schedule.weekends: unknown setting'],
    ],
    ['a missing github', (raw) => setKey(raw, 'github', undefined), ['github: expected an object with owner and repo']],
    ['a missing owner', (raw) => delete raw.github.owner, ['github.owner: expected a string, found undefined']],
    [
      'a missing account and region',
      (raw) => {
        delete raw.environments[0]!.account;
        delete raw.environments[0]!.region;
      },
      ['environments[0].account: expected a string, found undefined', 'environments[0].region: expected a string'],
    ],
    [
      'an account as a number',
      (raw) => (raw.environments[0]!.account = 123412341234),
      ['environments[0].account: expected a string, found 123412341234'],
    ],
    ['a numeric repository id', (raw) => (raw.github.repoId = 42), ['github.repoId: expected a string, found 42']],
    [
      'a task that is not an object',
      (raw) => (raw.environments[0]!.task = 'small'),
      ['environments[0].task: expected an object'],
    ],
    [
      'a provider account list that is not a list',
      (raw) => (raw.github.existingOidcProviderAccounts = 'all'),
      ['github.existingOidcProviderAccounts: expected a list of account ids'],
    ],
    ['no environments', (raw) => (raw.environments = []), ['environments: expected a non-empty list, found []']],
    ['environments not a list', (raw) => setKey(raw, 'environments', {}), ['environments: expected a non-empty list']],
    [
      'an environment that is not an object',
      (raw) => setKey(raw, 'environments', ['not-an-object']),
      ['environments[0]: expected an object'],
    ],
  ])('%s', (_name, breakIt, messages) => {
    const raw = rawFile();
    expect(parseProblems(raw)).toBe('');
    breakIt(raw);
    const problems = parseProblems(raw);
    expect(problems).toContain('Invalid configuration in test.json:');
    for (const message of messages) expect(problems).toContain(message);
  });

  it('rejects a file that is not an object', () => {
    expect(parseProblems([])).toContain('expected a JSON object with "github" and "environments"');
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'an owner id without a repository id',
      { ownerId: '1', repoId: undefined },
      'github.ownerId: expected both ownerId and repoId, or neither',
    ],
    [
      'a non-numeric repository id',
      { ownerId: '1', repoId: 'abc' },
      'github.repoId: expected the numeric repository id, found "abc"',
    ],
    ['an owner name with a space', { owner: 'my org' }, 'github.owner: expected a GitHub owner name'],
    ['a branch with ..', { mainBranch: 'a..b' }, 'github.mainBranch: expected a branch name'],
    [
      'a provider account that is not an account id',
      { existingOidcProviderAccounts: ['123'] },
      'github.existingOidcProviderAccounts: expected a 12-digit AWS account id, found "123"',
    ],
  ])('rejects %s in github', (_name, github, message) => {
    const raw = rawFile();
    raw.github = { ...raw.github, ...github };
    expect(parseProblems(raw)).toContain(message);
  });

  it('validates the values of every environment and names each by its name', () => {
    const raw = rawFile();
    raw.environments[0]!.azCount = 7;
    expect(parseProblems(raw)).toContain(`${FIRST.name}.azCount: expected an integer from 1 to 3, found 7`);
  });

  it('applies the rules between environments', () => {
    const raw = rawFile();
    raw.environments.push({ ...raw.environments[0]! });
    expect(parseProblems(raw)).toContain(`${FIRST.name}.name: expected a unique environment name, found it twice`);
  });
});

describe('rules between environments', () => {
  it('accepts environments apart in every respect', () => {
    expect(crossEnvironmentProblems([entry('alpha', '10.0.0.0/22'), entry('beta', '10.0.4.0/22')])).toEqual([]);
  });

  it('rejects a duplicate name', () => {
    expect(crossEnvironmentProblems([entry('alpha', '10.0.0.0/22'), entry('alpha', '10.0.4.0/22')])).toEqual([
      'alpha.name: expected a unique environment name, found it twice',
    ]);
  });

  it.each([
    ['after', ['app', 'app-network']],
    ['before', ['app-network', 'app']],
  ])("rejects a name that starts with another's name and a dash (listed %s it)", (_order, names) => {
    const envs = names.map((name, index) => entry(name, `10.0.${index * 4}.0/22`));
    const problems = crossEnvironmentProblems(envs);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^app-network\.name: expected a name that does not start with another environment's name and a dash, found 'app-network' after 'app'/,
    );
    // A shared prefix without the dash is fine: `app` does not match `apple-*`.
    expect(crossEnvironmentProblems([entry('app', '10.0.0.0/22'), entry('apple', '10.0.4.0/22')])).toEqual([]);
  });

  it('rejects two environments whose default qualifiers clash in one account and region', () => {
    const [first, second] = [entry('blue-green', '10.0.0.0/22'), entry('bluegreen', '10.0.4.0/22')];
    expect(first.bootstrapQualifier).toBe(second.bootstrapQualifier);
    expect(crossEnvironmentProblems([first, second])).toEqual([
      `bluegreen.bootstrapQualifier: expected a qualifier unique in ${ACCOUNT}/${REGION}, found 'bluegreen' (also blue-green's); set bootstrapQualifier in gitops.config.json`,
    ]);
    // An explicit qualifier resolves it; so does another account or region.
    expect(crossEnvironmentProblems([first, entry('bluegreen', '10.0.4.0/22', { bootstrapQualifier: 'bg2' })])).toEqual(
      [],
    );
    expect(crossEnvironmentProblems([first, entry('bluegreen', '10.0.4.0/22', { region: 'eu-west-1' })])).toEqual([]);
    expect(crossEnvironmentProblems([first, entry('bluegreen', '10.0.4.0/22', { account: '777788889999' })])).toEqual(
      [],
    );
  });

  it('rejects an explicit qualifier that clashes with another environment in the same account and region', () => {
    const problems = crossEnvironmentProblems([
      entry('alpha', '10.0.0.0/22'),
      entry('beta', '10.0.4.0/22', { bootstrapQualifier: 'alpha' }),
    ]);
    expect(problems).toEqual([expect.stringMatching(/^beta\.bootstrapQualifier: expected a qualifier unique in/)]);
  });

  it('rejects a pull-through cache prefix shared in one account and region', () => {
    const image = { ...defaultImage('shared'), repositoryPrefix: 'shared-cache' };
    const problems = crossEnvironmentProblems([
      entry('alpha', '10.0.0.0/22', { image }),
      entry('beta', '10.0.4.0/22', { image }),
    ]);
    expect(problems).toEqual([
      `beta.image.repositoryPrefix: expected a prefix unique in ${ACCOUNT}/${REGION}, found 'shared-cache' (also alpha's)`,
    ]);
    expect(
      crossEnvironmentProblems([
        entry('alpha', '10.0.0.0/22', { image }),
        entry('beta', '10.0.4.0/22', { image, account: '777788889999' }),
      ]),
    ).toEqual([]);
  });

  it.each([
    ['the same range', '10.0.0.0/22', '10.0.0.0/22'],
    ['a range inside another', '10.0.0.0/16', '10.0.8.0/24'],
    ['ranges that overlap unaligned', '10.0.0.0/22', '10.0.3.0/24'],
  ])('rejects overlapping VPC ranges: %s', (_name, a, b) => {
    expect(crossEnvironmentProblems([entry('alpha', a), entry('beta', b)])).toEqual([
      `beta.vpcCidr: expected a range apart from alpha's ${a}, found ${b} (overlapping VPCs can never be peered)`,
    ]);
  });

  it('checks CIDRs across accounts and regions too (they could never be peered)', () => {
    expect(
      crossEnvironmentProblems([
        entry('alpha', '10.0.0.0/22'),
        entry('beta', '10.0.0.0/22', { account: '777788889999' }),
      ]),
    ).toHaveLength(1);
  });

  it('is applied by resolveEnvironments with the other problems', () => {
    expect(() => resolveEnvironments([entry('alpha', '10.0.0.0/22'), entry('alpha', '10.0.4.0/22')])).toThrow(
      /alpha\.name: expected a unique environment name/,
    );
  });
});

describe('environment selection', () => {
  it('selects by name, keeping the configured order', () => {
    const last = ENVIRONMENTS[ENVIRONMENTS.length - 1]!;
    expect(resolveEnvironments(ENVIRONMENTS, { names: [last.name] }).map((env) => env.name)).toEqual([last.name]);
    expect(resolveEnvironments(ENVIRONMENTS, {}).map((env) => env.name)).toEqual(ENVIRONMENTS.map((env) => env.name));
  });

  it('rejects an unknown name, listing the known ones', () => {
    const unknown = ['nosuchenv', 'nosuchenv2'].find((name) => !ENVIRONMENTS.some((env) => env.name === name))!;
    expect(() => resolveEnvironments(ENVIRONMENTS, { names: [unknown] })).toThrow(
      `Unknown environment '${unknown}': expected one of ${ENVIRONMENTS.map((env) => env.name).join(', ')}`,
    );
  });
});

describe('OIDC subject prefix', () => {
  it('uses the legacy form without ids, and with only one of them', () => {
    expect(subjectPrefix({ owner: 'octo-org', repo: 'infra' })).toBe('repo:octo-org/infra');
    expect(subjectPrefix({ owner: 'octo-org', repo: 'infra', ownerId: '42' })).toBe('repo:octo-org/infra');
  });

  it('uses the immutable form with both ids', () => {
    expect(subjectPrefix({ owner: 'octo-org', repo: 'infra', ownerId: '42', repoId: '4242' })).toBe(
      'repo:octo-org-42/infra-4242',
    );
  });

  it('follows the configured repository in every environment', () => {
    const { owner, repo, ownerId, repoId } = PROJECT.github;
    const expected =
      ownerId !== undefined && repoId !== undefined
        ? `repo:${owner}-${ownerId}/${repo}-${repoId}`
        : `repo:${owner}/${repo}`;
    for (const env of ENVIRONMENTS) expect(subjectPrefix(env.github)).toBe(expected);
  });
});

describe('bootstrap qualifier', () => {
  it.each([
    ['qa', 'qa'],
    ['blue-green', 'bluegreen'],
    ['a-b-c-d-e-f-g-h', 'abcdefgh'],
    ['integration-test', 'integratio'],
    ['performance-lab1', 'performanc'],
  ])('defaults %s to %s (dashes removed, cut to 10)', (name, qualifier) => {
    expect(defaultBootstrapQualifier(name)).toBe(qualifier);
    expect(entry(name, '10.0.0.0/22').bootstrapQualifier).toBe(qualifier);
  });

  it('keeps an explicit qualifier', () => {
    expect(entry('alpha', '10.0.0.0/22', { bootstrapQualifier: 'custom1' }).bootstrapQualifier).toBe('custom1');
  });

  it('gives every configured environment a valid qualifier', () => {
    for (const env of ENVIRONMENTS) expect(env.bootstrapQualifier).toMatch(BOOTSTRAP_QUALIFIER_PATTERN);
  });
});
