import type { EnvironmentConfig } from './config.js';

/**
 * The physical names every part of the project agrees on. They are derived from the environment
 * name so that the OIDC stack can scope its policies to the service stack's cluster, and the
 * actions and scripts can find stacks, without cross-stack exports between independently deployed
 * stacks. Changing one renames (and so replaces) a resource: treat them as a contract.
 */
export interface ResourceNames {
  readonly networkStack: string;
  readonly serviceStack: string;
  readonly oidcStack: string;
  readonly cluster: string;
  readonly service: string;
  readonly container: string;
  readonly containerPort: number;
  readonly pullRequestRole: string;
  readonly deployRole: string;
  readonly operatorRole: string;
  readonly developerPolicy: string;
  readonly permissionsBoundary: string;
  readonly cloudFormationExecutionPolicy: string;
}

export function resourceNames(env: Pick<EnvironmentConfig, 'name'>): ResourceNames {
  const { name } = env;
  return {
    networkStack: `${name}-network`,
    serviceStack: `${name}-service`,
    oidcStack: `${name}-github-oidc`,
    cluster: `${name}-cluster`,
    service: `${name}-nginx`,
    container: 'nginx',
    containerPort: 80,
    pullRequestRole: `${name}-github-pull-request`,
    deployRole: `${name}-github-deploy`,
    operatorRole: `${name}-github-operator`,
    developerPolicy: `${name}-developer-port-forward`,
    permissionsBoundary: `${name}-workload-boundary`,
    cloudFormationExecutionPolicy: `${name}-cfn-execution`,
  };
}

/** The stacks the deploy workflow deploys, in dependency order. The OIDC stack is never one of them. */
export function deployableStacks(env: Pick<EnvironmentConfig, 'name'>): string[] {
  const names = resourceNames(env);
  return [names.networkStack, names.serviceStack];
}
