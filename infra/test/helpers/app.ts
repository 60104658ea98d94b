import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addEnvironments, type EnvironmentStacks } from '../../lib/build-app.js';
import { cdkJsonContext } from '../../lib/cdk-json.js';
import { resolveEnvironments, type EnvironmentConfig } from '../../lib/config.js';
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
