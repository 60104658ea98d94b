/**
 * The policies an environment's foundation stack creates, resolved from its synthesized template
 * as IAM will hold them: the execution policy and its boundary (together, the CDK bootstrap's
 * execution role), the workload boundary, the GitHub roles' policies, the developer policy.
 */
import type { EnvironmentConfig } from '../../../infra/lib/config.js';
import { resourceNames } from '../../../infra/lib/names.js';
import type { Deployer } from './deploy-permissions.js';
import type { PolicyDocument } from './evaluator.js';
import { TemplateResolver, type Template } from './intrinsics.js';

/** Every managed policy of a template, by its ManagedPolicyName (or logical id), resolved. */
export function managedPolicies(
  template: Template,
  where: { readonly account: string; readonly region: string; readonly stackName: string },
): Map<string, PolicyDocument> {
  const resolver = new TemplateResolver(template, where);
  const policies = new Map<string, PolicyDocument>();
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const properties = resolver.resolve(resource.Properties ?? {}) as {
      ManagedPolicyName?: string;
      PolicyDocument: PolicyDocument;
    };
    const name = properties.ManagedPolicyName ?? logicalId;
    policies.set(name, { ...properties.PolicyDocument, name });
  }
  return policies;
}

/** The roles of a template by RoleName: trust policy and the managed policies attached by reference. */
export function roles(
  template: Template,
  where: { readonly account: string; readonly region: string; readonly stackName: string },
): Map<string, { trust: PolicyDocument; policies: PolicyDocument[] }> {
  const resolver = new TemplateResolver(template, where);
  const byLogicalId = new Map<string, PolicyDocument>();
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const properties = resolver.resolve(resource.Properties ?? {}) as { PolicyDocument: PolicyDocument };
    byLogicalId.set(logicalId, { ...properties.PolicyDocument, name: logicalId });
  }
  const found = new Map<string, { trust: PolicyDocument; policies: PolicyDocument[] }>();
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const properties = resolver.resolve(resource.Properties ?? {}) as {
      RoleName?: string;
      AssumeRolePolicyDocument: PolicyDocument;
    };
    const raw = (resource.Properties?.ManagedPolicyArns ?? []) as unknown[];
    const policies = raw.flatMap((arn) => {
      const ref = (arn as { Ref?: string }).Ref;
      const policy = ref ? byLogicalId.get(ref) : undefined;
      return policy ? [policy] : [];
    });
    found.set(properties.RoleName ?? logicalId, { trust: properties.AssumeRolePolicyDocument, policies });
  }
  return found;
}

/** The environment's CDK bootstrap execution role as its foundation defines it: execution policy ∩ boundary. */
export function executionRole(config: EnvironmentConfig, foundationTemplate: Template): Deployer {
  const names = resourceNames(config);
  const policies = managedPolicies(foundationTemplate, {
    account: config.account,
    region: config.region,
    stackName: names.foundationStack,
  });
  const policy = policies.get(names.cloudFormationExecutionPolicy);
  const boundary = policies.get(names.cloudFormationExecutionBoundary);
  if (!policy || !boundary) {
    throw new Error(
      `${names.foundationStack} defines no ${names.cloudFormationExecutionPolicy} or ${names.cloudFormationExecutionBoundary}`,
    );
  }
  return {
    name: `cdk-${config.bootstrapQualifier}-cfn-exec-role (${names.cloudFormationExecutionPolicy} within ${names.cloudFormationExecutionBoundary})`,
    identityPolicies: [policy],
    permissionsBoundary: boundary,
  };
}

/** An administrator (AdministratorAccess): the foundation's deployer. */
export const ADMINISTRATOR: Deployer = {
  name: 'the administrator (AdministratorAccess)',
  unrestricted: true,
  identityPolicies: [
    {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
      name: 'AdministratorAccess',
    },
  ],
};
