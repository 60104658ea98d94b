import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addEnvironments, type EnvironmentStacks } from '../../lib/build-app.js';
import { cdkJsonContext } from '../../lib/cdk-json.js';
import { ENVIRONMENTS, resolveEnvironments, type EnvironmentConfig } from '../../lib/config.js';

export { cdkJsonContext };

/** Overrides for one environment; nested objects are merged one level deep. */
export type ConfigOverrides = Partial<Omit<EnvironmentConfig, 'task' | 'github'>> & {
  readonly task?: Partial<EnvironmentConfig['task']>;
  readonly github?: Partial<EnvironmentConfig['github']>;
};

/** A shipped environment with overrides applied (and validated like the real app does). */
export function environment(name = 'dev', overrides: ConfigOverrides = {}, account?: string): EnvironmentConfig {
  const base = ENVIRONMENTS.find((env) => env.name === name);
  if (!base) throw new Error(`No environment ${name} in config.ts`);
  const merged: EnvironmentConfig = {
    ...base,
    ...overrides,
    task: { ...base.task, ...overrides.task },
    github: { ...base.github, ...overrides.github },
  };
  const [resolved] = resolveEnvironments([merged], { account });
  return resolved!;
}

export interface SynthesizedEnvironment {
  readonly app: App;
  readonly stacks: EnvironmentStacks;
  readonly network: Template;
  readonly service: Template;
  readonly oidc: Template;
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
    oidc: Template.fromStack(stacks.githubOidc),
  };
}
