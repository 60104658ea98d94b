import type { App } from 'aws-cdk-lib';
import type { EnvironmentConfig } from './config.js';
import { GitHubOidcStack } from './github-oidc-stack.js';
import { resourceNames } from './names.js';
import { NetworkStack } from './network-stack.js';
import { ServiceStack } from './service-stack.js';

/** The stacks of one environment. */
export interface EnvironmentStacks {
  readonly network: NetworkStack;
  readonly service: ServiceStack;
  readonly githubOidc: GitHubOidcStack;
}

/** Adds the stacks of each environment to the app. Pure: reads nothing from context or env. */
export function addEnvironments(app: App, environments: readonly EnvironmentConfig[]): Map<string, EnvironmentStacks> {
  const stacks = new Map<string, EnvironmentStacks>();
  for (const config of environments) {
    const names = resourceNames(config);
    const env = { account: config.account, region: config.region };
    const tags = { environment: config.name, 'managed-by': 'cdk' };
    const network = new NetworkStack(app, names.networkStack, {
      config,
      env,
      tags,
      description: `${config.name}: isolated VPC with endpoints and flow logs`,
    });
    const service = new ServiceStack(app, names.serviceStack, {
      config,
      env,
      tags,
      vpc: network.vpc,
      description: `${config.name}: Fargate Nginx reachable only by SSM port forwarding`,
    });
    const githubOidc = new GitHubOidcStack(app, names.oidcStack, {
      config,
      env,
      tags,
      description: `${config.name}: GitHub OIDC trust and deployment guardrails (deployed by an administrator)`,
    });
    stacks.set(config.name, { network, service, githubOidc });
  }
  return stacks;
}
