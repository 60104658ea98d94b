import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { addEnvironments, type EnvironmentStacks } from '../../lib/build-app.js';
import { cdkJsonContext } from '../../lib/cdk-json.js';
import {
  crossEnvironmentProblems,
  environmentFromEntry,
  resolveEnvironments,
  validateEnvironment,
  type EnvironmentConfig,
} from '../../lib/config.js';
import { ENVIRONMENTS } from '../../lib/project.js';

export { cdkJsonContext };

/** The first environment of the configuration: the one every test that needs "an environment" uses. */
export const FIRST = ENVIRONMENTS[0]!;

/** Overrides for one environment; nested objects are merged one level deep. */
export type ConfigOverrides = Partial<Omit<EnvironmentConfig, 'task' | 'github'>> & {
  readonly task?: Partial<EnvironmentConfig['task']>;
  readonly github?: Partial<EnvironmentConfig['github']>;
};

/** A configured environment (the first by default) with overrides applied, validated like the app does. */
export function environment(name: string = FIRST.name, overrides: ConfigOverrides = {}): EnvironmentConfig {
  const base = ENVIRONMENTS.find((env) => env.name === name);
  if (!base) throw new Error(`No environment ${name} in gitops.config.json`);
  const merged: EnvironmentConfig = {
    ...base,
    ...overrides,
    task: { ...base.task, ...overrides.task },
    github: { ...base.github, ...overrides.github },
  };
  const [resolved] = resolveEnvironments([merged]);
  return resolved!;
}

/** The partition of a region (`aws`, `aws-cn`, `aws-us-gov`...), as the synthesized ARNs render it. */
export function partitionOf(region: string): string {
  return RegionInfo.get(region).partition ?? 'aws';
}

/** A 12-digit account id that no configured environment uses. */
export function unconfiguredAccount(): string {
  const account = ['000011112222', '999988887777', '123123123123'].find(
    (candidate) => !ENVIRONMENTS.some((env) => env.account === candidate),
  );
  if (!account) throw new Error('every candidate account is configured');
  return account;
}

/**
 * A made-up environment of the same repository as `base`, in `base`'s region and in `account`
 * (base's by default), that is valid next to every configured environment: a name none of them
 * uses or prefixes, and a CIDR none of them overlaps. For tests of multi-environment rules that
 * must not depend on how many environments the configuration has.
 */
export function companionEnvironment(
  base: EnvironmentConfig = FIRST,
  account: string = base.account,
): EnvironmentConfig {
  const github = {
    owner: base.github.owner,
    repo: base.github.repo,
    ...(base.github.ownerId !== undefined ? { ownerId: base.github.ownerId } : {}),
    ...(base.github.repoId !== undefined ? { repoId: base.github.repoId } : {}),
    mainBranch: base.github.mainBranch,
    existingOidcProviderAccounts: ENVIRONMENTS.filter(
      (env) => env.account === account && env.github.oidcProviderExists,
    ).map((env) => env.account),
  };
  for (const name of ['companion', 'spare', 'extra', 'other']) {
    for (const vpcCidr of ['10.250.0.0/22', '172.31.252.0/22', '192.168.252.0/22', '10.123.4.0/24']) {
      const candidate = environmentFromEntry({ name, account, region: base.region, vpcCidr }, github);
      const all = [...ENVIRONMENTS, candidate];
      if (validateEnvironment(candidate).length === 0 && crossEnvironmentProblems(all).length === 0) return candidate;
    }
  }
  throw new Error('no companion environment fits next to the configured ones');
}

export interface SynthesizedEnvironment {
  readonly app: App;
  readonly stacks: EnvironmentStacks;
  readonly network: Template;
  readonly service: Template;
  readonly foundation: Template;
  /** The account's OIDC provider stack (undefined when the provider exists already). */
  readonly oidcProvider?: Template;
}

/** Builds one environment's stacks in a fresh app (no nag plugin: nag tests call the packs). */
export function synthesize(config: EnvironmentConfig): SynthesizedEnvironment {
  const app = new App({ context: cdkJsonContext() });
  const stacks = addEnvironments(app, [config]).get(config.name)!;
  return {
    app,
    stacks,
    network: Template.fromStack(stacks.network),
    service: Template.fromStack(stacks.service),
    foundation: Template.fromStack(stacks.foundation),
    oidcProvider: stacks.oidcProvider ? Template.fromStack(stacks.oidcProvider) : undefined,
  };
}
