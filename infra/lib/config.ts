/**
 * The shape of the project's configuration, its defaults and its validation. What an adopter
 * changes lives in one file, `gitops.config.json` at the repository root (the GitHub repository
 * and the environments: names, order, account, region, CIDR, and optional per-environment
 * settings); `npm run configure` writes it, and `project.ts` reads it through this module, so a
 * bad value fails with a message that names the field before any construct is built. Everything
 * else (the app, the tests, the rehearsal, the docs' commands, the workflows' environment lists)
 * derives from it. Nothing here reads the file at import, so configure can repair a broken one.
 */
import { readFileSync } from 'node:fs';
import {
  ACCOUNT_PATTERN,
  BOOTSTRAP_QUALIFIER_PATTERN,
  defaultBootstrapQualifier,
  ENVIRONMENT_NAME_PATTERN,
  ENVIRONMENT_NAME_RULE,
  REGION_PATTERN,
} from './names.js';
import { scheduleProblems, type Schedule } from './schedule.js';

/** The configuration file, relative to the repository root. */
export const CONFIG_FILE = 'gitops.config.json';
const CONFIG_URL = new URL(`../../${CONFIG_FILE}`, import.meta.url);

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
      /**
       * Tag to run. Pin it: a moving tag changes what runs without a change in Git. Each new tag
       * is pulled once from outside the VPC before it deploys (image-cache.ts; docs/setup.md,
       * "Seed the image cache").
       */
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

/** The GitHub repository whose workflows may assume an environment's roles. */
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
  /** The GitHub Environment the deploy and smoke-test jobs name: the environment's own name. */
  readonly deployEnvironment: string;
  /**
   * Whether the account already has GitHub's OIDC provider from outside this project (an account
   * holds one per URL). When false, the `github-oidc-provider` stack creates it.
   * @default false
   */
  readonly oidcProviderExists: boolean;
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

/** One environment, with every default filled in. */
export interface EnvironmentConfig {
  /** Short name; prefixes stack names, the cluster name, role and policy names. */
  readonly name: string;
  /** The AWS account the environment lives in. */
  readonly account: string;
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
  /** Retention of every log group of the environment, in days. @default 30 */
  readonly logRetentionDays: number;
  /**
   * Qualifier of the environment's own `cdk bootstrap`. Unique per account and region.
   * @default - the name without dashes, cut to 10 characters
   */
  readonly bootstrapQualifier: string;
  /**
   * Let the operator role and the developers' policy forward through the task to another host
   * (`AWS-StartPortForwardingSessionToRemoteHost`, `npm run forward -- --remote-host`). Off, they
   * may forward only to the task itself.
   * @default false
   */
  readonly remoteHostForwarding: boolean;
  /**
   * Id of the region's AWS-managed prefix list `com.amazonaws.<region>.s3`, the only place besides
   * the interface endpoints the task's security group may send to (image layers come from S3).
   * CloudFormation cannot look it up, so it is known here for some regions (S3_PREFIX_LISTS) and
   * configurable for the others: `aws ec2 describe-managed-prefix-lists --filters
   * Name=prefix-list-name,Values=com.amazonaws.<region>.s3 --query 'PrefixLists[0].PrefixListId'`.
   * @default - the region's entry of S3_PREFIX_LISTS; without one, HTTPS to any address (which in
   * these subnets reaches only the endpoints and S3), with a synth warning
   */
  readonly s3PrefixListId?: string;
  /**
   * When the environment is awake (days, a daily window, a time zone; infra/lib/schedule.ts).
   * Outside it the environment may sleep: its interface endpoints deleted and its service at 0
   * tasks (the `Awake` parameter of its network and service stacks), and the cost estimate counts
   * those lines for the awake hours only.
   * @default - always awake
   */
  readonly schedule?: Schedule;
}

/** The whole project: one repository, environments in promotion order. */
export interface ProjectConfig {
  readonly github: {
    readonly owner: string;
    readonly repo: string;
    readonly ownerId?: string;
    readonly repoId?: string;
    readonly mainBranch: string;
    /** Who must review changes to the workflows, actions, infra and this file (.github/CODEOWNERS). */
    readonly codeOwners: readonly string[];
  };
  readonly environments: readonly EnvironmentConfig[];
}

/** `gitops.config.json` as written: only what differs from the defaults. */
export interface ProjectFile {
  readonly github: {
    readonly owner: string;
    readonly repo: string;
    readonly ownerId?: string;
    readonly repoId?: string;
    readonly mainBranch?: string;
    /** Accounts whose GitHub OIDC provider exists already (created outside this project). */
    readonly existingOidcProviderAccounts?: readonly string[];
    /** `@user` or `@org/team` entries; default: the owner itself (right for a personal account). */
    readonly codeOwners?: readonly string[];
  };
  readonly environments: readonly EnvironmentEntry[];
}

/** One environment in the file: name, account, region and CIDR, and any setting to override. */
export interface EnvironmentEntry {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly vpcCidr: string;
  readonly azCount?: number;
  readonly task?: Partial<TaskConfig>;
  readonly image?: ImageSource;
  readonly ec2DebugEndpoints?: boolean;
  readonly logRetentionDays?: number;
  readonly bootstrapQualifier?: string;
  readonly remoteHostForwarding?: boolean;
  readonly s3PrefixListId?: string;
  readonly schedule?: Schedule;
}

/** The defaults every environment starts from. */
export const DEFAULTS = {
  mainBranch: 'main',
  azCount: 2,
  task: { cpu: 256, memoryMiB: 512, architecture: 'ARM64', spot: false, desiredCount: 1 },
  image: { upstreamRepository: 'nginx/nginx', tag: '1.28-alpine' },
  ec2DebugEndpoints: false,
  logRetentionDays: 30,
  remoteHostForwarding: false,
} as const;

/** A configuration value that cannot work. The message names the field, the value and the fix. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The default image of an environment: Nginx from ECR Public through its own cache prefix. */
export function defaultImage(environmentName: string): ImageSource {
  return { kind: 'pull-through-cache', ...DEFAULTS.image, repositoryPrefix: `${environmentName}-ecr-public` };
}

/** Fills in the defaults of one file entry. Validation is separate (validateEnvironment). */
export function environmentFromEntry(entry: EnvironmentEntry, github: ProjectFile['github']): EnvironmentConfig {
  return {
    name: entry.name,
    account: entry.account,
    region: entry.region,
    vpcCidr: entry.vpcCidr,
    azCount: entry.azCount ?? DEFAULTS.azCount,
    task: { ...DEFAULTS.task, ...entry.task },
    image: entry.image ?? defaultImage(entry.name),
    github: {
      owner: github.owner,
      repo: github.repo,
      ...(github.ownerId !== undefined ? { ownerId: github.ownerId } : {}),
      ...(github.repoId !== undefined ? { repoId: github.repoId } : {}),
      mainBranch: github.mainBranch ?? DEFAULTS.mainBranch,
      deployEnvironment: entry.name,
      oidcProviderExists: (github.existingOidcProviderAccounts ?? []).includes(entry.account),
    },
    ec2DebugEndpoints: entry.ec2DebugEndpoints ?? DEFAULTS.ec2DebugEndpoints,
    logRetentionDays: entry.logRetentionDays ?? DEFAULTS.logRetentionDays,
    bootstrapQualifier: entry.bootstrapQualifier ?? defaultBootstrapQualifier(entry.name),
    remoteHostForwarding: entry.remoteHostForwarding ?? DEFAULTS.remoteHostForwarding,
    ...(entry.s3PrefixListId !== undefined ? { s3PrefixListId: entry.s3PrefixListId } : {}),
    ...(entry.schedule !== undefined ? { schedule: entry.schedule } : {}),
  };
}

/**
 * Reads and validates a project file's content. Throws a ConfigError listing every problem, each
 * as `<file>: <field>: expected ..., found ...`.
 */
export function parseProjectFile(raw: unknown, source: string = CONFIG_FILE): ProjectConfig {
  const shape = shapeProblems(raw);
  if (shape.length > 0) throw configError(source, shape);
  const file = raw as ProjectFile;
  const environments = file.environments.map((entry) => environmentFromEntry(entry, file.github));
  const problems = [
    ...githubProblems(file.github),
    ...environments.flatMap(validateEnvironment),
    ...crossEnvironmentProblems(environments),
  ];
  if (problems.length > 0) throw configError(source, problems);
  return {
    github: {
      owner: file.github.owner,
      repo: file.github.repo,
      ...(file.github.ownerId !== undefined ? { ownerId: file.github.ownerId } : {}),
      ...(file.github.repoId !== undefined ? { repoId: file.github.repoId } : {}),
      mainBranch: file.github.mainBranch ?? DEFAULTS.mainBranch,
      codeOwners: file.github.codeOwners ?? [`@${file.github.owner}`],
    },
    environments,
  };
}

function configError(source: string, problems: readonly string[]): ConfigError {
  return new ConfigError(
    `Invalid configuration in ${source}:\n  - ${problems.join('\n  - ')}\n` +
      'Fix the file, or rewrite it with npm run configure (npm run configure -- --help).',
  );
}

/** Reads gitops.config.json from the repository root. */
export function readProjectFile(): unknown {
  try {
    return JSON.parse(readFileSync(CONFIG_URL, 'utf8')) as unknown;
  } catch (error) {
    throw new ConfigError(
      `Cannot read ${CONFIG_FILE} (${error instanceof Error ? error.message : String(error)}): ` +
        'it must be JSON at the repository root; write it with npm run configure.',
    );
  }
}

/** The environment with this name, or a ConfigError listing the known ones. */
export function environmentNamed(name: string, environments: readonly EnvironmentConfig[]): EnvironmentConfig {
  const found = environments.find((env) => env.name === name);
  if (!found) {
    throw new ConfigError(
      `Unknown environment '${name}': expected one of ${environments.map((env) => env.name).join(', ')} (${CONFIG_FILE}).`,
    );
  }
  return found;
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

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const GITHUB_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const NUMERIC_ID = /^\d+$/;
/** GitHub's user and team handles as CODEOWNERS takes them (GitHub Docs, "About code owners"). */
const CODE_OWNER = /^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\/[A-Za-z0-9_.-]{1,100})?$/;
const ECR_PREFIX = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const PREFIX_LIST_ID = /^pl-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The JSON structure: the keys that must be there, with the right types, and no unknown key. */
function shapeProblems(raw: unknown): string[] {
  if (!isObject(raw)) return [`expected a JSON object with "github" and "environments", found ${JSON.stringify(raw)}`];
  const problems: string[] = [];
  const unknownKeys = (where: string, value: Record<string, unknown>, known: readonly string[]): void => {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) problems.push(`${where}.${key}: unknown setting (known: ${known.join(', ')})`);
    }
  };
  unknownKeys('(top level)', raw, ['$schema', '$comment', 'github', 'environments']);
  const github = raw.github;
  if (!isObject(github))
    problems.push(`github: expected an object with owner and repo, found ${JSON.stringify(github)}`);
  else {
    unknownKeys('github', github, [
      'owner',
      'repo',
      'ownerId',
      'repoId',
      'mainBranch',
      'existingOidcProviderAccounts',
      'codeOwners',
    ]);
    const owners = github.codeOwners;
    if (owners !== undefined && (!Array.isArray(owners) || owners.some((owner) => typeof owner !== 'string')))
      problems.push(`github.codeOwners: expected a list of @user or @org/team names, found ${JSON.stringify(owners)}`);
    for (const key of ['owner', 'repo'])
      if (typeof github[key] !== 'string')
        problems.push(`github.${key}: expected a string, found ${JSON.stringify(github[key])}`);
    for (const key of ['ownerId', 'repoId', 'mainBranch'])
      if (github[key] !== undefined && typeof github[key] !== 'string')
        problems.push(`github.${key}: expected a string, found ${JSON.stringify(github[key])}`);
    const existing = github.existingOidcProviderAccounts;
    if (existing !== undefined && (!Array.isArray(existing) || existing.some((a) => typeof a !== 'string')))
      problems.push(
        `github.existingOidcProviderAccounts: expected a list of account ids, found ${JSON.stringify(existing)}`,
      );
  }
  const environments = raw.environments;
  if (!Array.isArray(environments) || environments.length === 0) {
    problems.push(`environments: expected a non-empty list, found ${JSON.stringify(environments)}`);
    return problems;
  }
  environments.forEach((entry: unknown, index) => {
    const where = `environments[${index}]`;
    if (!isObject(entry)) {
      problems.push(`${where}: expected an object, found ${JSON.stringify(entry)}`);
      return;
    }
    unknownKeys(where, entry, [
      'name',
      'account',
      'region',
      'vpcCidr',
      'azCount',
      'task',
      'image',
      'ec2DebugEndpoints',
      'logRetentionDays',
      'bootstrapQualifier',
      'remoteHostForwarding',
      's3PrefixListId',
      'schedule',
    ]);
    for (const key of ['name', 'account', 'region', 'vpcCidr'])
      if (typeof entry[key] !== 'string')
        problems.push(`${where}.${key}: expected a string, found ${JSON.stringify(entry[key])}`);
    if (entry.task !== undefined) {
      if (!isObject(entry.task))
        problems.push(`${where}.task: expected an object, found ${JSON.stringify(entry.task)}`);
      else unknownKeys(`${where}.task`, entry.task, ['cpu', 'memoryMiB', 'architecture', 'spot', 'desiredCount']);
    }
    if (entry.image !== undefined && !isObject(entry.image))
      problems.push(`${where}.image: expected an object, found ${JSON.stringify(entry.image)}`);
    if (entry.schedule !== undefined) {
      if (!isObject(entry.schedule))
        problems.push(
          `${where}.schedule: expected an object with days, start, end and timeZone, found ${JSON.stringify(entry.schedule)}`,
        );
      else unknownKeys(`${where}.schedule`, entry.schedule, ['days', 'start', 'end', 'timeZone']);
    }
  });
  return problems;
}

function githubProblems(github: ProjectFile['github']): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, field: string, expected: string, found: unknown): void => {
    if (!ok) problems.push(`github.${field}: expected ${expected}, found ${JSON.stringify(found)}`);
  };
  expect(GITHUB_NAME.test(github.owner), 'owner', 'a GitHub owner name', github.owner);
  expect(GITHUB_NAME.test(github.repo), 'repo', 'a GitHub repository name', github.repo);
  expect(
    (github.ownerId === undefined) === (github.repoId === undefined),
    'ownerId',
    'both ownerId and repoId, or neither',
    {
      ownerId: github.ownerId,
      repoId: github.repoId,
    },
  );
  if (github.ownerId !== undefined)
    expect(NUMERIC_ID.test(github.ownerId), 'ownerId', 'the numeric owner id', github.ownerId);
  if (github.repoId !== undefined)
    expect(NUMERIC_ID.test(github.repoId), 'repoId', 'the numeric repository id', github.repoId);
  const branch = github.mainBranch ?? DEFAULTS.mainBranch;
  expect(/^[A-Za-z0-9._/-]+$/.test(branch) && !branch.includes('..'), 'mainBranch', 'a branch name', branch);
  for (const owner of github.codeOwners ?? [])
    expect(CODE_OWNER.test(owner), 'codeOwners', 'a @user or @org/team name', owner);
  if (github.codeOwners !== undefined)
    expect(github.codeOwners.length > 0, 'codeOwners', 'at least one code owner', github.codeOwners);
  for (const account of github.existingOidcProviderAccounts ?? [])
    expect(ACCOUNT_PATTERN.test(account), 'existingOidcProviderAccounts', 'a 12-digit AWS account id', account);
  return problems;
}

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

  expect(ENVIRONMENT_NAME_PATTERN.test(config.name), 'name', ENVIRONMENT_NAME_RULE, config.name);
  expect(ACCOUNT_PATTERN.test(config.account), 'account', 'a 12-digit AWS account id', config.account);
  expect(REGION_PATTERN.test(config.region), 'region', 'an AWS region such as eu-west-1', config.region);

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
  expect(typeof task.spot === 'boolean', 'task.spot', 'true or false', task.spot);
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

  expect(typeof config.ec2DebugEndpoints === 'boolean', 'ec2DebugEndpoints', 'true or false', config.ec2DebugEndpoints);
  expect(
    LOG_RETENTION_DAYS.includes(config.logRetentionDays),
    'logRetentionDays',
    `one of ${LOG_RETENTION_DAYS.join(', ')}`,
    config.logRetentionDays,
  );
  expect(
    BOOTSTRAP_QUALIFIER_PATTERN.test(config.bootstrapQualifier),
    'bootstrapQualifier',
    'the cdk bootstrap qualifier (up to 10 lower-case letters and digits)',
    config.bootstrapQualifier,
  );
  expect(
    typeof config.remoteHostForwarding === 'boolean',
    'remoteHostForwarding',
    'true or false',
    config.remoteHostForwarding,
  );
  if (config.s3PrefixListId !== undefined)
    expect(
      typeof config.s3PrefixListId === 'string' && PREFIX_LIST_ID.test(config.s3PrefixListId),
      's3PrefixListId',
      `the id of the prefix list com.amazonaws.${config.region}.s3 (pl- and 8 or 17 hex digits)`,
      config.s3PrefixListId,
    );
  if (config.schedule !== undefined) {
    for (const { field, expected, found } of scheduleProblems(config.schedule)) {
      problems.push(
        `${at(field ? `schedule.${field}` : 'schedule')}: expected ${expected}, found ${JSON.stringify(found)}`,
      );
    }
  }
  return problems;
}

/** The parsed IPv4 CIDR as [first, last] address numbers. */
function cidrRange(cidr: string): [number, number] | undefined {
  const match = CIDR.exec(cidr);
  if (!match) return undefined;
  const base = match.slice(1, 5).reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(match[5]));
  const first = base - (base % size);
  return [first, first + size - 1];
}

/**
 * What environments must not share: a name, a name prefix (an environment named `dev-network`
 * would fall under `dev`'s `dev-network-*` role and log-group patterns), a bootstrap qualifier or
 * a pull-through cache prefix in one account and region, and overlapping VPC ranges (they could
 * never be peered).
 */
export function crossEnvironmentProblems(environments: readonly EnvironmentConfig[]): string[] {
  const problems: string[] = [];
  environments.forEach((env, index) => {
    for (const other of environments.slice(0, index)) {
      if (other.name === env.name) {
        problems.push(`${env.name}.name: expected a unique environment name, found it twice`);
        continue;
      }
      const [shorter, longer] = other.name.length <= env.name.length ? [other, env] : [env, other];
      if (longer.name.startsWith(`${shorter.name}-`)) {
        problems.push(
          `${longer.name}.name: expected a name that does not start with another environment's name and a dash, found '${longer.name}' after '${shorter.name}' (its stacks, roles and log groups would match ${shorter.name}'s patterns ${shorter.name}-*)`,
        );
      }
      const sameAccountRegion = other.account === env.account && other.region === env.region;
      if (sameAccountRegion && other.bootstrapQualifier === env.bootstrapQualifier) {
        problems.push(
          `${env.name}.bootstrapQualifier: expected a qualifier unique in ${env.account}/${env.region}, found '${env.bootstrapQualifier}' (also ${other.name}'s); set bootstrapQualifier in ${CONFIG_FILE}`,
        );
      }
      if (
        sameAccountRegion &&
        env.image.kind === 'pull-through-cache' &&
        other.image.kind === 'pull-through-cache' &&
        env.image.repositoryPrefix === other.image.repositoryPrefix
      ) {
        problems.push(
          `${env.name}.image.repositoryPrefix: expected a prefix unique in ${env.account}/${env.region}, found '${env.image.repositoryPrefix}' (also ${other.name}'s)`,
        );
      }
      const [a, b] = [cidrRange(env.vpcCidr), cidrRange(other.vpcCidr)];
      if (a && b && a[0] <= b[1] && b[0] <= a[1]) {
        problems.push(
          `${env.name}.vpcCidr: expected a range apart from ${other.name}'s ${other.vpcCidr}, found ${env.vpcCidr} (overlapping VPCs can never be peered)`,
        );
      }
    }
  });
  return problems;
}

/**
 * Validates environments (one, several, or all with overrides applied) and picks some by name;
 * `names` empty selects all. Throws a ConfigError listing every problem.
 */
export function resolveEnvironments(
  environments: readonly EnvironmentConfig[],
  options: { readonly names?: readonly string[] } = {},
): EnvironmentConfig[] {
  for (const name of options.names ?? []) environmentNamed(name, environments);
  const problems = [...environments.flatMap(validateEnvironment), ...crossEnvironmentProblems(environments)];
  if (problems.length > 0) throw configError(CONFIG_FILE, problems);
  return environments.filter((env) => !options.names?.length || options.names.includes(env.name));
}

/** The GitHub OIDC subject prefix for this repository, in the format the repository uses. */
export function subjectPrefix(github: Pick<GitHubIdentity, 'owner' | 'repo' | 'ownerId' | 'repoId'>): string {
  return github.ownerId !== undefined && github.repoId !== undefined
    ? `repo:${github.owner}-${github.ownerId}/${github.repo}-${github.repoId}`
    : `repo:${github.owner}/${github.repo}`;
}

/** The accounts of the environments, each with the region its GitHub OIDC provider stack is deployed in. */
export function oidcProviderAccounts(
  environments: readonly EnvironmentConfig[],
): { readonly account: string; readonly region: string; readonly exists: boolean }[] {
  const seen = new Map<string, { account: string; region: string; exists: boolean }>();
  for (const env of environments) {
    if (!seen.has(env.account))
      seen.set(env.account, { account: env.account, region: env.region, exists: env.github.oidcProviderExists });
  }
  return [...seen.values()];
}
