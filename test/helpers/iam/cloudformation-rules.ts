/**
 * What CloudFormation would refuse when it runs a template, checked when a stack is created or
 * updated through the gate (moto's CloudFormation creates resources without authorizing anything):
 *
 * - every resource's handler permissions must be allowed to the principal CloudFormation acts as:
 *   the execution role named by RoleARN, else the caller (deploy-permissions.ts);
 * - a role's managed policies and permissions boundary must exist (IAM's AttachRolePolicy and
 *   PutRolePermissionsBoundary answer NoSuchEntity otherwise, and the stack fails): the mistake of
 *   bootstrapping with an execution policy that is created later.
 *
 * And where moto's CloudFormation falls short, what CloudFormation would have done: moto ignores
 * AWS::IAM::OIDCProvider (the provider is created through IAM and its references replaced by its
 * ARN before moto sees the template) and a role's ManagedPolicyArns (attached after the stack
 * operation).
 */
import {
  DescribeStacksCommand,
  GetTemplateCommand,
  ListExportsCommand,
  ListStackResourcesCommand,
  type CloudFormationClient,
} from '@aws-sdk/client-cloudformation';
import {
  AttachRolePolicyCommand,
  CreateOpenIDConnectProviderCommand,
  DetachRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetKeyPolicyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { parse as parseYaml } from 'yaml';
import type { PolicyDocument } from './evaluator.js';
import {
  describeFindings,
  templatePermissionFindings,
  type Deployer,
  type StackExports,
} from './deploy-permissions.js';
import { TemplateResolver, type Template } from './intrinsics.js';
import type { Principals } from './principals.js';

export interface StackRequest {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly template: Template;
  readonly parameters: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly deployer: Deployer;
  readonly isUpdate: boolean;
  /** The region's exports and the policies of the existing keys among them (see `regionExports`). */
  readonly exports?: StackExports;
}

/** Why CloudFormation would fail the stack, or undefined when it would not. */
export async function stackRefusal(request: StackRequest, principals: Principals): Promise<string | undefined> {
  const missing = await missingPolicies(request, principals);
  if (missing.length > 0) {
    return missing
      .map(
        ({ logicalId, arn }) =>
          `${logicalId} (AWS::IAM::Role) CREATE_FAILED: Policy ${arn} does not exist or is not attachable. (Service: Iam, Status Code: 404, NoSuchEntity)`,
      )
      .join('\n');
  }
  const findings = templatePermissionFindings(request.template, {
    stackName: request.stackName,
    account: request.account,
    region: request.region,
    partition: request.partition,
    deployer: request.deployer,
    tags: request.tags,
    parameters: request.parameters,
    ...request.exports,
    handlers: request.isUpdate ? ['create', 'update', 'delete'] : ['create'],
  });
  if (findings.length === 0) return undefined;
  return `${findings.length} resource operation(s) would fail (${request.isUpdate ? 'UPDATE' : 'CREATE'}_FAILED), not authorized:\n${describeFindings(findings)}`;
}

/**
 * The exports of the region's stacks (for `Fn::ImportValue`), and the key policy of each KMS key
 * among them: KMS evaluates it with the deployer's identity policies.
 */
export async function regionExports(cloudformation: CloudFormationClient, kms: KMSClient): Promise<StackExports> {
  const exports: StackExports = { imports: {}, keyPolicies: {} };
  let NextToken: string | undefined;
  do {
    const page = await cloudformation.send(new ListExportsCommand({ NextToken }));
    for (const { Name, Value } of page.Exports ?? []) if (Name && Value) exports.imports[Name] = Value;
    NextToken = page.NextToken;
  } while (NextToken);
  for (const arn of Object.values(exports.imports)) {
    if (!/^arn:[^:]+:kms:[^:]+:\d{12}:key\//.test(arn)) continue;
    const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: arn, PolicyName: 'default' }));
    // moto returns the policy of a key CloudFormation created as the object it was given, AWS as a string.
    const document = (typeof Policy === 'string' ? JSON.parse(Policy) : Policy) as PolicyDocument | undefined;
    if (document) exports.keyPolicies[arn] = { ...document, name: `the key policy of ${arn}` };
  }
  return exports;
}

/** Customer managed policies a role of the template attaches or is bounded by, that exist nowhere. */
async function missingPolicies(
  request: StackRequest,
  principals: Principals,
): Promise<{ logicalId: string; arn: string }[]> {
  const resolver = new TemplateResolver(request.template, {
    account: request.account,
    region: request.region,
    partition: request.partition,
    stackName: request.stackName,
    parameters: request.parameters,
  });
  const createdHere = new Set<string>();
  for (const [logicalId, resource] of Object.entries(request.template.Resources ?? {})) {
    if (resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const name = resolver.resolveString(resource.Properties?.ManagedPolicyName) ?? logicalId;
    createdHere.add(`arn:${request.partition}:iam::${request.account}:policy/${name}`);
  }
  const missing: { logicalId: string; arn: string }[] = [];
  for (const [logicalId, resource] of Object.entries(request.template.Resources ?? {})) {
    if (resource.Type !== 'AWS::IAM::Role' || !resolver.isCreated(resource)) continue;
    const properties = resolver.resolve(resource.Properties ?? {}) as {
      ManagedPolicyArns?: unknown[];
      PermissionsBoundary?: unknown;
    };
    const arns = [...(properties.ManagedPolicyArns ?? []), properties.PermissionsBoundary].filter(
      (arn): arn is string => typeof arn === 'string' && /^arn:[^:]+:iam::\d{12}:policy\//.test(arn),
    );
    for (const arn of arns) {
      if (createdHere.has(arn)) continue;
      if (!(await principals.managedPolicyIfExists(arn))) missing.push({ logicalId, arn });
    }
  }
  return missing;
}

/**
 * Creates the template's GitHub OIDC providers through IAM (moto's CloudFormation ignores the
 * type) and returns the template with the providers replaced by their ARNs.
 */
export async function provisionOidcProviders(
  template: Template,
  where: { readonly account: string; readonly partition: string; readonly stackName: string; readonly region: string },
  iam: IAMClient,
): Promise<Template> {
  const providers = Object.entries(template.Resources ?? {}).filter(([, r]) => r.Type === 'AWS::IAM::OIDCProvider');
  if (providers.length === 0) return template;
  const resolver = new TemplateResolver(template, where);
  const arns = new Map<string, string>();
  for (const [logicalId, resource] of providers) {
    const properties = resolver.resolve(resource.Properties ?? {}) as { Url: string; ClientIdList?: string[] };
    const host = properties.Url.replace(/^https:\/\//, '');
    const arn = `arn:${where.partition}:iam::${where.account}:oidc-provider/${host}`;
    try {
      await iam.send(
        new CreateOpenIDConnectProviderCommand({ Url: properties.Url, ClientIDList: properties.ClientIdList ?? [] }),
      );
    } catch (error) {
      if (!String((error as { name?: string }).name).includes('EntityAlreadyExists')) throw error;
    }
    arns.set(logicalId, arn);
  }
  const replace = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(replace);
    if (!value || typeof value !== 'object') return value;
    const node = value as Record<string, unknown>;
    if (typeof node.Ref === 'string' && arns.has(node.Ref)) return arns.get(node.Ref);
    const getAtt = node['Fn::GetAtt'];
    if (Array.isArray(getAtt) && arns.has(String(getAtt[0]))) return arns.get(String(getAtt[0]));
    return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, replace(child)]));
  };
  const resources = Object.fromEntries(
    Object.entries(template.Resources ?? {})
      .filter(([logicalId]) => !arns.has(logicalId))
      .map(([logicalId, resource]) => [logicalId, replace(resource)]),
  );
  return {
    ...template,
    Resources: resources as Template['Resources'],
    Outputs: replace(template.Outputs) as Template['Outputs'],
  };
}

/**
 * Attaches the managed policies a stack's roles name (ManagedPolicyArns), as CloudFormation does:
 * moto's CloudFormation creates roles with their inline policies and boundary but ignores
 * ManagedPolicyArns, which would leave every role of a deployed stack without its permissions.
 * Run after the stack was created or updated; detaches what the template no longer names.
 */
export async function attachStackManagedPolicies(
  stackName: string,
  where: { readonly account: string; readonly region: string; readonly partition: string },
  clients: { readonly cloudformation: CloudFormationClient; readonly iam: IAMClient },
): Promise<void> {
  const { TemplateBody } = await clients.cloudformation.send(new GetTemplateCommand({ StackName: stackName }));
  const { Stacks } = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
  const { StackResourceSummaries = [] } = await clients.cloudformation.send(
    new ListStackResourcesCommand({ StackName: stackName }),
  );
  const template = (
    TemplateBody!.trimStart().startsWith('{') ? JSON.parse(TemplateBody!) : parseYaml(TemplateBody!)
  ) as Template;
  const physical = Object.fromEntries(
    StackResourceSummaries.map((summary) => [summary.LogicalResourceId!, summary.PhysicalResourceId!]),
  );
  const parameters = Object.fromEntries(
    (Stacks?.[0]?.Parameters ?? []).map((p) => [p.ParameterKey!, listParameter(p.ParameterValue ?? '')]),
  );
  const resolver = new TemplateResolver(template, { ...where, stackName, parameters, resourceValues: physical });
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::IAM::Role' || !resolver.isCreated(resource)) continue;
    const roleName = physical[logicalId];
    if (!roleName) continue;
    const wanted = ((resolver.resolve(resource.Properties?.ManagedPolicyArns ?? []) as unknown[]) ?? []).filter(
      (arn): arn is string => typeof arn === 'string',
    );
    const { AttachedPolicies = [] } = await clients.iam.send(
      new ListAttachedRolePoliciesCommand({ RoleName: roleName }),
    );
    const attached = AttachedPolicies.map((policy) => policy.PolicyArn!);
    for (const arn of wanted.filter((arn) => !attached.includes(arn)))
      await clients.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn }));
    for (const arn of attached.filter((arn) => !wanted.includes(arn)))
      await clients.iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn }));
  }
}

/** moto reports a CommaDelimitedList parameter as Python's list repr (`['a', 'b']`); AWS as `a,b`. */
function listParameter(value: string): string {
  const python = /^\[(.*)\]$/.exec(value.trim());
  if (!python) return value;
  return python[1]!
    .split(',')
    .map((item) => item.trim().replace(/^'(.*)'$/, '$1'))
    .filter(Boolean)
    .join(',');
}
