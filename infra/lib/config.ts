/**
 * Typed per-environment configuration. Everything an environment varies on lives here, as data in
 * code (reviewed in pull requests like everything else), and is validated before any construct is
 * built so that a bad value fails synth with a message that names the field.
 */

/** CPU architecture of the Fargate task. ARM64 (Graviton) is about 20% cheaper for the same size. */
export type CpuArchitecture = 'ARM64' | 'X86_64';

/** Where the Nginx image comes from. */
export type ImageSource =
  | {
      /**
       * An ECR pull-through cache rule for ECR Public: the task pulls
       * `<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<repository>:<tag>` and ECR fetches the
       * image from ECR Public itself, so a subnet with no internet path can run it and nobody pushes
       * an image by hand.
       */
      readonly kind: 'pull-through-cache';
      /** Repository in ECR Public, e.g. `nginx/nginx`. */
      readonly upstreamRepository: string;
      /** Tag to run. Pin it: a moving tag changes what runs without a change in Git. */
      readonly tag: string;
      /**
       * Repository prefix of the cache rule. One rule per prefix per account and region, so two
       * environments sharing an account need different prefixes.
       */
      readonly repositoryPrefix: string;
    }
  | {
      /** An existing private ECR repository (for a custom image built elsewhere). */
      readonly kind: 'ecr';
      readonly repositoryName: string;
      /** Exactly one of `tag` and `digest`. A digest (`sha256:...`) pins the image immutably. */
      readonly tag?: string;
      readonly digest?: string;
    };

/** The GitHub repository whose workflows may assume this environment's roles. */
export interface GitHubIdentity {
  readonly owner: string;
  readonly repo: string;
  /**
   * Numeric owner and repository ids. When both are set, trust policies match GitHub's immutable
   * subject format `repo:OWNER-OWNERID/REPO-REPOID:...` (repositories created after 2026-06-18 use it),
   * which survives neither a rename nor a delete-and-recreate by someone else. When unset, the
   * legacy `repo:OWNER/REPO:...` format is used.
   * @default - legacy subject format
   */
  readonly ownerId?: string;
  readonly repoId?: string;
  /** The branch whose pushes deploy. @default 'main' */
  readonly mainBranch: string;
  /** The GitHub Environment the deploy and smoke-test jobs name (its protection rules gate them). */
  readonly deployEnvironment: string;
  /**
   * ARN of an existing GitHub OIDC provider in the account (an account has at most one per URL).
   * @default - the OIDC stack creates the provider
   */
  readonly existingOidcProviderArn?: string;
}

export interface TaskConfig {
  /** Fargate CPU units: 256 = 0.25 vCPU. */
  readonly cpu: number;
  /** Fargate memory in MiB; must be a valid pair with `cpu`. */
  readonly memoryMiB: number;
  readonly architecture: CpuArchitecture;
  /** Run on Fargate Spot (up to 70% cheaper, can be interrupted). X86_64 only. */
  readonly spot: boolean;
  readonly desiredCount: number;
}

export interface EnvironmentConfig {
  /** Short name; prefixes stack names, the cluster name and role names. */
  readonly name: string;
  /**
   * AWS account id. When unset, it comes from the `account` context value or `CDK_DEFAULT_ACCOUNT`;
   * when none of those is set, stacks synthesize account-agnostic (enough for tests and review).
   */
  readonly account?: string;
  readonly region: string;
  readonly vpcCidr: string;
  /** Availability zones. 2 for resilience; 1 for a cheap dev (halves the interface endpoint cost). */
  readonly azCount: number;
  readonly task: TaskConfig;
  readonly image: ImageSource;
  readonly github: GitHubIdentity;
  /**
   * Also create the `ssm` and `ec2messages` interface endpoints. ECS Exec needs neither (only
   * `ssmmessages`); EC2 debug hosts' SSM agents do. Each costs about $10/month per AZ.
   * @default false
   */
  readonly ec2DebugEndpoints: boolean;
  /** Retention of every log group of the environment, in days. */
  readonly logRetentionDays: number;
  /** Qualifier of the `cdk bootstrap` of the account. @default 'hnb659fds' */
  readonly bootstrapQualifier: string;
}

/** The defaults every environment starts from. */
export const DEFAULTS = {
  region: 'ap-northeast-1',
  azCount: 2,
  task: { cpu: 256, memoryMiB: 512, architecture: 'ARM64', spot: false, desiredCount: 1 },
  ec2DebugEndpoints: false,
  logRetentionDays: 30,
  bootstrapQualifier: 'hnb659fds',
} as const;

const GITHUB = {
  owner: 'example-org',
  repo: 'private-aws-gitops',
  mainBranch: 'main',
} as const;

/** The environments this repository manages. Edit these (in a pull request) to change them. */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = [
  {
    name: 'dev',
    region: DEFAULTS.region,
    vpcCidr: '10.10.0.0/22',
    azCount: DEFAULTS.azCount,
    task: DEFAULTS.task,
    image: {
      kind: 'pull-through-cache',
      upstreamRepository: 'nginx/nginx',
      tag: '1.28-alpine',
      repositoryPrefix: 'dev-ecr-public',
    },
    github: { ...GITHUB, deployEnvironment: 'dev' },
    ec2DebugEndpoints: DEFAULTS.ec2DebugEndpoints,
    logRetentionDays: DEFAULTS.logRetentionDays,
    bootstrapQualifier: DEFAULTS.bootstrapQualifier,
  },
  {
    // The dark canary: the same closed network shape as dev, its own CIDR so the two could be peered.
    name: 'canary',
    region: DEFAULTS.region,
    vpcCidr: '10.20.0.0/22',
    azCount: DEFAULTS.azCount,
    task: DEFAULTS.task,
    image: {
      kind: 'pull-through-cache',
      upstreamRepository: 'nginx/nginx',
      tag: '1.28-alpine',
      repositoryPrefix: 'canary-ecr-public',
    },
    github: { ...GITHUB, deployEnvironment: 'canary' },
    ec2DebugEndpoints: DEFAULTS.ec2DebugEndpoints,
    logRetentionDays: DEFAULTS.logRetentionDays,
    bootstrapQualifier: DEFAULTS.bootstrapQualifier,
  },
];

/** A configuration value that cannot work. The message names the field, the value and the fix. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Fargate's valid CPU/memory pairs (MiB), from the ECS task size table. */
const FARGATE_MEMORY_BY_CPU: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, [1024, 2048, 3072, 4096]],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

/** CloudWatch Logs' accepted retention values, in days. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let value = from; value <= to; value += step) values.push(value);
  return values;
}

const NAME = /^[a-z][a-z0-9-]{1,14}$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const GITHUB_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const NUMERIC_ID = /^\d+$/;
const ECR_PREFIX = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const OIDC_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/;

/**
 * Checks one environment and returns every problem found (not just the first), each naming the
 * field as `<environment>.<path>`.
 */
export function validateEnvironment(config: EnvironmentConfig): string[] {
  const problems: string[] = [];
  const at = (field: string): string => `${config.name || '<unnamed>'}.${field}`;
  const expect = (ok: boolean, field: string, expected: string, found: unknown): void => {
    if (!ok) problems.push(`${at(field)}: expected ${expected}, found ${JSON.stringify(found)}`);
  };

  expect(
    NAME.test(config.name),
    'name',
    'lower-case letters, digits and dashes (2-15 chars, starting with a letter)',
    config.name,
  );
  if (config.account !== undefined)
    expect(ACCOUNT.test(config.account), 'account', 'a 12-digit AWS account id', config.account);
  expect(REGION.test(config.region), 'region', 'an AWS region such as ap-northeast-1', config.region);

  const cidr = CIDR.exec(config.vpcCidr);
  const octetsOk = cidr !== null && cidr.slice(1, 5).every((octet) => Number(octet) <= 255);
  const prefix = cidr ? Number(cidr[5]) : NaN;
  expect(
    octetsOk && prefix >= 16 && prefix <= 24,
    'vpcCidr',
    'an IPv4 CIDR from /16 to /24 (room for endpoints and tasks in every AZ)',
    config.vpcCidr,
  );

  expect(
    Number.isInteger(config.azCount) && config.azCount >= 1 && config.azCount <= 3,
    'azCount',
    'an integer from 1 to 3',
    config.azCount,
  );

  const { task } = config;
  const memories = FARGATE_MEMORY_BY_CPU.get(task.cpu);
  expect(
    memories !== undefined,
    'task.cpu',
    `one of ${[...FARGATE_MEMORY_BY_CPU.keys()].join(', ')} (256 = 0.25 vCPU)`,
    task.cpu,
  );
  if (memories) {
    expect(
      memories.includes(task.memoryMiB),
      'task.memoryMiB',
      `for cpu ${task.cpu}, one of ${memories.join(', ')}`,
      task.memoryMiB,
    );
  }
  expect(
    task.architecture === 'ARM64' || task.architecture === 'X86_64',
    'task.architecture',
    "'ARM64' or 'X86_64'",
    task.architecture,
  );
  // Fargate Spot does not run Linux ARM64 tasks (ECS developer guide, "Fargate capacity providers").
  expect(
    !(task.spot && task.architecture === 'ARM64'),
    'task.spot',
    "spot only with architecture 'X86_64' (Fargate Spot has no ARM64 capacity); set spot: false or architecture: 'X86_64'",
    task.spot,
  );
  expect(
    Number.isInteger(task.desiredCount) && task.desiredCount >= 1 && task.desiredCount <= 10,
    'task.desiredCount',
    'an integer from 1 to 10',
    task.desiredCount,
  );

  const { image } = config;
  if (image.kind === 'pull-through-cache') {
    expect(
      /^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/.test(image.upstreamRepository),
      'image.upstreamRepository',
      'an ECR Public repository such as nginx/nginx',
      image.upstreamRepository,
    );
    expect(
      /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(image.tag) && image.tag !== 'latest',
      'image.tag',
      "a pinned tag (not 'latest')",
      image.tag,
    );
    expect(
      ECR_PREFIX.test(image.repositoryPrefix) &&
        image.repositoryPrefix.length >= 2 &&
        image.repositoryPrefix.length <= 30,
      'image.repositoryPrefix',
      'an ECR repository prefix of 2-30 lower-case characters',
      image.repositoryPrefix,
    );
  } else if (image.kind === 'ecr') {
    expect(
      /^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/.test(image.repositoryName),
      'image.repositoryName',
      'an ECR repository name',
      image.repositoryName,
    );
    expect((image.tag === undefined) !== (image.digest === undefined), 'image', 'exactly one of tag and digest', {
      tag: image.tag,
      digest: image.digest,
    });
    if (image.digest !== undefined)
      expect(DIGEST.test(image.digest), 'image.digest', 'sha256: followed by 64 hex digits', image.digest);
  } else {
    problems.push(
      `${at('image.kind')}: expected 'pull-through-cache' or 'ecr', found ${JSON.stringify((image as { kind: unknown }).kind)}`,
    );
  }

  const { github } = config;
  expect(GITHUB_NAME.test(github.owner), 'github.owner', 'a GitHub owner name', github.owner);
  expect(GITHUB_NAME.test(github.repo), 'github.repo', 'a GitHub repository name', github.repo);
  expect(
    (github.ownerId === undefined) === (github.repoId === undefined),
    'github',
    'both ownerId and repoId, or neither',
    { ownerId: github.ownerId, repoId: github.repoId },
  );
  if (github.ownerId !== undefined)
    expect(NUMERIC_ID.test(github.ownerId), 'github.ownerId', 'the numeric owner id', github.ownerId);
  if (github.repoId !== undefined)
    expect(NUMERIC_ID.test(github.repoId), 'github.repoId', 'the numeric repository id', github.repoId);
  expect(/^[A-Za-z0-9._/-]+$/.test(github.mainBranch), 'github.mainBranch', 'a branch name', github.mainBranch);
  expect(
    /^[A-Za-z0-9._-]+$/.test(github.deployEnvironment),
    'github.deployEnvironment',
    'a GitHub Environment name',
    github.deployEnvironment,
  );
  if (github.existingOidcProviderArn !== undefined) {
    expect(
      OIDC_PROVIDER_ARN.test(github.existingOidcProviderArn),
      'github.existingOidcProviderArn',
      'arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com',
      github.existingOidcProviderArn,
    );
  }

  expect(
    LOG_RETENTION_DAYS.includes(config.logRetentionDays),
    'logRetentionDays',
    `one of ${LOG_RETENTION_DAYS.join(', ')}`,
    config.logRetentionDays,
  );
  expect(
    /^[a-z0-9]{1,10}$/.test(config.bootstrapQualifier),
    'bootstrapQualifier',
    'the cdk bootstrap qualifier (up to 10 lower-case letters and digits)',
    config.bootstrapQualifier,
  );
  return problems;
}

/**
 * Picks environments by name and resolves the account, or throws a ConfigError listing every
 * problem. `names` empty selects all.
 */
export function resolveEnvironments(
  environments: readonly EnvironmentConfig[],
  options: { readonly names?: readonly string[]; readonly account?: string },
): EnvironmentConfig[] {
  const known = environments.map((env) => env.name);
  const unknown = (options.names ?? []).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      `Unknown environment ${unknown.map((n) => `'${n}'`).join(', ')}: expected one of ${known.join(', ')}.`,
    );
  }
  const duplicates = known.filter((name, index) => known.indexOf(name) !== index);
  if (duplicates.length > 0)
    throw new ConfigError(`Environment names must be unique, found ${duplicates.join(', ')} twice.`);

  const selected = environments
    .filter((env) => !options.names?.length || options.names.includes(env.name))
    .map((env) => ({ ...env, account: env.account ?? options.account }));
  const problems = selected.flatMap(validateEnvironment);
  if (problems.length > 0) {
    throw new ConfigError(`Invalid environment configuration (infra/lib/config.ts):\n  - ${problems.join('\n  - ')}`);
  }
  return selected;
}

/** The GitHub OIDC subject prefix for this repository, in the format the repository uses. */
export function subjectPrefix(github: GitHubIdentity): string {
  return github.ownerId !== undefined && github.repoId !== undefined
    ? `repo:${github.owner}-${github.ownerId}/${github.repo}-${github.repoId}`
    : `repo:${github.owner}/${github.repo}`;
}
