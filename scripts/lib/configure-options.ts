/**
 * What `npm run configure` does to the configuration, as pure functions: the options applied to
 * the file's content, and the set-up commands that follow from a configuration.
 */
import { ConfigError, type EnvironmentEntry, type ProjectConfig, type ProjectFile } from '../../infra/lib/config.js';
import { cacheSeedCommands } from '../../infra/lib/image-cache.js';
import {
  ACCOUNT_PATTERN,
  bootstrapArgs,
  cdkCommandLine,
  foundationDeployArgs,
  OIDC_PROVIDER_STACK,
  REGION_PATTERN,
  resourceNames,
  setupVariables,
} from '../../infra/lib/names.js';

/** The option values as configure reads them. */
export interface ConfigureOptions {
  readonly owner?: string;
  readonly repo?: string;
  readonly ownerId?: string;
  readonly repoId?: string;
  readonly mainBranch?: string;
  readonly region?: string;
  readonly environments?: readonly string[];
  readonly cidrs?: readonly string[];
  readonly existingOidcProviders?: readonly string[];
  readonly codeOwners?: readonly string[];
}

/** Candidate ranges for new environments: 10.10.0.0/22, 10.20.0.0/22, ... 10.250.0.0/22. */
const CIDR_CANDIDATES = Array.from({ length: 25 }, (_, index) => `10.${(index + 1) * 10}.0.0/22`);

/**
 * The new file content from the current one and the options. Pure; throws ConfigError on an
 * option that cannot be applied. The result still needs validation (parseProjectFile).
 */
export function applyOptions(current: ProjectFile, options: ConfigureOptions): ProjectFile {
  const repositoryChanged =
    (options.owner !== undefined && options.owner !== current.github.owner) ||
    (options.repo !== undefined && options.repo !== current.github.repo);
  const keepIds = !repositoryChanged && options.ownerId === undefined && options.repoId === undefined;
  const previous = current.github;
  const github: ProjectFile['github'] = {
    owner: options.owner ?? previous.owner,
    repo: options.repo ?? previous.repo,
    ...(keepIds
      ? {
          ...(previous.ownerId !== undefined ? { ownerId: previous.ownerId } : {}),
          ...(previous.repoId !== undefined ? { repoId: previous.repoId } : {}),
        }
      : {
          ...(options.ownerId !== undefined ? { ownerId: options.ownerId } : {}),
          ...(options.repoId !== undefined ? { repoId: options.repoId } : {}),
        }),
    mainBranch: options.mainBranch ?? previous.mainBranch ?? 'main',
    ...existingProviders(options.existingOidcProviders ?? previous.existingOidcProviderAccounts),
    // Code owners named for another owner make no sense for the new one: back to the default.
    ...codeOwners(options.codeOwners ?? (repositoryChanged ? undefined : previous.codeOwners)),
  };

  const cidrs = new Map(
    (options.cidrs ?? []).map((raw) => {
      const [name, cidr] = splitPair(raw, '--cidr', 'NAME=CIDR');
      return [name, cidr] as const;
    }),
  );
  let environments: EnvironmentEntry[];
  if (options.environments === undefined) {
    environments = current.environments.map((entry) => ({
      ...entry,
      ...(options.region !== undefined ? { region: options.region } : {}),
    }));
  } else {
    if (options.environments.length === 0)
      throw new ConfigError('--environment: expected at least one NAME=ACCOUNT, found none.');
    environments = options.environments.map((raw) => {
      const [name, target] = splitPair(raw, '--environment', 'NAME=ACCOUNT[:REGION]');
      const [account = '', region] = target.split(':');
      if (!ACCOUNT_PATTERN.test(account))
        throw new ConfigError(`--environment ${raw}: expected a 12-digit account after '=', found '${account}'.`);
      const chosenRegion =
        region ?? options.region ?? current.environments.find((e) => e.name === name)?.region ?? sharedRegion(current);
      if (chosenRegion === undefined)
        throw new ConfigError(
          `--environment ${raw}: no region: add --region REGION, or write ${name}=${account}:REGION.`,
        );
      if (!REGION_PATTERN.test(chosenRegion))
        throw new ConfigError(
          `--environment ${raw}: expected an AWS region such as eu-west-1, found '${chosenRegion}'.`,
        );
      const kept = current.environments.find((entry) => entry.name === name);
      return { ...kept, name, account, region: chosenRegion, vpcCidr: kept?.vpcCidr ?? '' };
    });
  }
  for (const name of cidrs.keys()) {
    if (!environments.some((entry) => entry.name === name))
      throw new ConfigError(
        `--cidr ${name}=...: no environment named '${name}' (environments: ${environments.map((e) => e.name).join(', ')}).`,
      );
  }
  const taken = environments.flatMap((entry) => cidrs.get(entry.name) ?? (entry.vpcCidr || []));
  environments = environments.map((entry) => {
    const vpcCidr = cidrs.get(entry.name) ?? (entry.vpcCidr || nextFreeCidr(taken));
    taken.push(vpcCidr);
    return { ...entry, vpcCidr };
  });
  return { github, environments };
}

function existingProviders(
  accounts: readonly string[] | undefined,
): Pick<ProjectFile['github'], 'existingOidcProviderAccounts'> {
  return accounts && accounts.length > 0 ? { existingOidcProviderAccounts: [...accounts] } : {};
}

function splitPair(raw: string, option: string, form: string): [string, string] {
  const at = raw.indexOf('=');
  if (at <= 0 || at === raw.length - 1) throw new ConfigError(`${option} ${raw}: expected ${form}.`);
  return [raw.slice(0, at), raw.slice(at + 1)];
}

/** The region every current environment is in, if they agree on one. */
function sharedRegion(current: ProjectFile): string | undefined {
  const regions = [...new Set(current.environments.map((entry) => entry.region))];
  return regions.length === 1 ? regions[0] : undefined;
}

function nextFreeCidr(taken: readonly string[]): string {
  const free = CIDR_CANDIDATES.find((candidate) => !taken.includes(candidate));
  if (!free) throw new ConfigError('No free 10.x0.0.0/22 range left: set each environment with --cidr NAME=CIDR.');
  return free;
}

/** What an administrator runs next, for this configuration (docs/setup.md explains each step). */
export function nextSteps(project: ProjectConfig): string {
  const lines = [
    'Next steps (docs/setup.md explains each one):',
    '',
    '1. Synthesize every environment with cdk-nag (no AWS account needed):',
    '     npm run synth',
    '',
    "2-3. As an administrator of each environment's account, with your own credentials: deploy the",
    `   environment's foundation (with ${OIDC_PROVIDER_STACK} when the account needs it), then bootstrap`,
    "   CDK for the environment with its own qualifier and the foundation's policies:",
  ];
  for (const env of project.environments) {
    const target = { ...env, qualifier: env.bootstrapQualifier };
    lines.push(
      '',
      `   # ${env.name} (account ${env.account}, ${env.region})`,
      `   ${setupVariables(target)}`,
      `   ${cdkCommandLine(foundationDeployArgs(env))}`,
      `   ${cdkCommandLine(bootstrapArgs(target))}`,
    );
    if (env.image.kind === 'pull-through-cache') {
      lines.push(
        `   # then seed the image cache from this machine (its first pull cannot come from the VPC; docs/setup.md):`,
        ...cacheSeedCommands(env.image, env.account, env.region, false).map((command) => `   ${command}`),
      );
    }
  }
  lines.push(
    '',
    '4. In GitHub, create one Environment per environment, limited to the main branch:',
    ...project.environments.map(
      (env) =>
        `     gh api -X PUT "repos/${project.github.owner}/${project.github.repo}/environments/${env.name}" --input - <<< '{"deployment_branch_policy":{"protected_branches":false,"custom_branch_policies":true}}'\n` +
        `     gh api -X POST "repos/${project.github.owner}/${project.github.repo}/environments/${env.name}/deployment-branch-policies" -f name=${project.github.mainBranch} -f type=branch`,
    ),
    '',
    '5. Commit gitops.config.json on a branch and open a pull request: the workflows read the',
    '   environments, accounts, regions and role names from it (no repository variable to set).',
    `   Deploy roles: ${project.environments.map((env) => resourceNames(env).deployRole).join(', ')}.`,
  );
  return lines.join('\n');
}

export function summary(project: ProjectConfig): string {
  const ids = project.github.ownerId
    ? ` (ids ${project.github.ownerId}/${project.github.repoId}: immutable OIDC subjects)`
    : '';
  return [
    `Repository: ${project.github.owner}/${project.github.repo}${ids}, deploys from ${project.github.mainBranch}`,
    'Environments, in promotion order:',
    ...project.environments.map(
      (env, index) =>
        `  ${index + 1}. ${env.name.padEnd(15)} ${env.account} ${env.region.padEnd(15)} ${env.vpcCidr.padEnd(15)} bootstrap qualifier ${env.bootstrapQualifier}`,
    ),
  ].join('\n');
}

function codeOwners(owners: readonly string[] | undefined): Pick<ProjectFile['github'], 'codeOwners'> {
  return owners && owners.length > 0 ? { codeOwners: [...owners] } : {};
}
