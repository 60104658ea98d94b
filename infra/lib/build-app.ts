import { DefaultStackSynthesizer, type App } from 'aws-cdk-lib';
import { oidcProviderAccounts, type EnvironmentConfig } from './config.js';
import { FoundationStack } from './foundation-stack.js';
import { GitHubOidcProviderStack } from './github-oidc-provider-stack.js';
import { ENVIRONMENT_TAG, OIDC_PROVIDER_STACK, resourceNames } from './names.js';
import { NetworkStack } from './network-stack.js';
import { ServiceStack } from './service-stack.js';

/** The stacks of one environment. */
export interface EnvironmentStacks {
  readonly network: NetworkStack;
  readonly service: ServiceStack;
  readonly foundation: FoundationStack;
  /** The account's GitHub OIDC provider stack, unless the provider exists already. */
  readonly oidcProvider?: GitHubOidcProviderStack;
}

/**
 * Adds the stacks of each environment to the app. Pure: reads nothing from context or env.
 *
 * - `github-oidc-provider` (one per account) and `<env>-foundation`: deployed by an administrator
 *   with their own credentials (bootstrapless);
 * - `<env>-network` and `<env>-service`: deployed by the deploy workflow through the environment's
 *   own CDK bootstrap (its qualifier), so one environment's roles cannot deploy another.
 */
export function addEnvironments(app: App, environments: readonly EnvironmentConfig[]): Map<string, EnvironmentStacks> {
  const providers = new Map<string, GitHubOidcProviderStack>();
  for (const { account, region, exists } of oidcProviderAccounts(environments)) {
    if (exists) continue;
    // One construct id per account (stacks of different accounts may share a name, not an id).
    const id = providers.size === 0 ? OIDC_PROVIDER_STACK : `${OIDC_PROVIDER_STACK}-${account}`;
    providers.set(
      account,
      new GitHubOidcProviderStack(app, id, {
        stackName: OIDC_PROVIDER_STACK,
        env: { account, region },
        tags: { 'managed-by': 'cdk' },
        description: "GitHub Actions' OIDC provider of this account (deployed by an administrator)",
      }),
    );
  }

  const stacks = new Map<string, EnvironmentStacks>();
  for (const config of environments) {
    const names = resourceNames(config);
    const env = { account: config.account, region: config.region };
    // CloudFormation gives every resource the stack's tags: the execution policy scopes EC2 and
    // KMS rights to resources that carry this environment's.
    const tags = { [ENVIRONMENT_TAG]: config.name, 'managed-by': 'cdk' };
    // No lookup role for stack operations: a diff or deploy reads the deployed template with the
    // caller's own credentials (the pull-request or deploy role, each allowed exactly that), never
    // through the bootstrap's lookup role and its ReadOnlyAccess. The app does no context lookups.
    const workloadSynthesizer = (): DefaultStackSynthesizer =>
      new DefaultStackSynthesizer({ qualifier: config.bootstrapQualifier, useLookupRoleForStackOperations: false });
    const network = new NetworkStack(app, names.networkStack, {
      config,
      env,
      tags,
      synthesizer: workloadSynthesizer(),
      description: `${config.name}: isolated VPC with endpoints and flow logs`,
    });
    const service = new ServiceStack(app, names.serviceStack, {
      config,
      env,
      tags,
      synthesizer: workloadSynthesizer(),
      vpc: network.vpc,
      endpointSecurityGroup: network.endpointSecurityGroup,
      logKey: network.logKey,
      description: `${config.name}: Fargate Nginx reachable only by SSM port forwarding`,
    });
    const foundation = new FoundationStack(app, names.foundationStack, {
      config,
      env,
      tags,
      description: `${config.name}: GitHub OIDC roles and deployment guardrails (deployed by an administrator)`,
    });
    const oidcProvider = providers.get(config.account);
    if (oidcProvider) foundation.addStackDependency(oidcProvider, 'the roles trust the account GitHub OIDC provider');
    stacks.set(config.name, { network, service, foundation, oidcProvider });
  }
  return stacks;
}
