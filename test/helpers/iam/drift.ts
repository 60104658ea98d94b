/**
 * CloudFormation drift detection for the local AWS (moto has none of DetectStackDrift,
 * DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts): the stack's template, resolved,
 * against the resources' actual state in moto, as CloudFormation compares them: per resource,
 * IN_SYNC, MODIFIED (with the property differences: expected and actual values, ADD/REMOVE/
 * NOT_EQUAL) or DELETED; resource types it cannot read are NOT_CHECKED, as AWS reports for types
 * that do not support drift detection. The properties compared are the ones the project's
 * out-of-band changes touch: log group retention, security group ingress rules, the service's
 * desired count.
 *
 * Where moto's own CloudFormation does not create what the template says, the emulator cannot
 * know the deployed state and does not compare it (comparing would report drift right after a
 * deploy): moto 5 creates a security group's template ingress rules without their descriptions
 * and ignores its template egress rules (the group keeps the default allow-all egress). So ingress
 * rules are compared without descriptions, and egress rules not at all.
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeStacksCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
  type CloudFormationClient,
} from '@aws-sdk/client-cloudformation';
import { DescribeLogGroupsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeSecurityGroupsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { parse as parseYaml } from 'yaml';
import { TemplateResolver, type Template } from './intrinsics.js';

/** The resource types whose actual state drift detection reads here; the others are NOT_CHECKED. */
export const DRIFT_CHECKED_TYPES: readonly string[] = [
  'AWS::Logs::LogGroup',
  'AWS::EC2::SecurityGroup',
  'AWS::ECS::Service',
];

export interface PropertyDifference {
  readonly PropertyPath: string;
  readonly ExpectedValue: string;
  readonly ActualValue: string;
  readonly DifferenceType: 'ADD' | 'REMOVE' | 'NOT_EQUAL';
}

export interface ResourceDrift {
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId: string;
  readonly ResourceType: string;
  readonly StackResourceDriftStatus: 'IN_SYNC' | 'MODIFIED' | 'DELETED' | 'NOT_CHECKED';
  readonly PropertyDifferences: readonly PropertyDifference[];
  readonly Timestamp: string;
}

export interface DriftDetection {
  readonly id: string;
  readonly stackName: string;
  readonly stackId: string;
  readonly status: 'DRIFTED' | 'IN_SYNC';
  readonly drifts: readonly ResourceDrift[];
  readonly timestamp: string;
}

export interface DriftClients {
  readonly cloudformation: CloudFormationClient;
  readonly logs: CloudWatchLogsClient;
  readonly ec2: EC2Client;
  readonly ecs: ECSClient;
}

/** Runs drift detection of one stack now (AWS runs it asynchronously; here it completes at once). */
export async function detectStackDrift(
  stackName: string,
  where: { readonly account: string; readonly region: string; readonly partition: string },
  clients: DriftClients,
): Promise<DriftDetection> {
  const { Stacks } = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = Stacks?.[0];
  const { TemplateBody = '{}' } = await clients.cloudformation.send(new GetTemplateCommand({ StackName: stackName }));
  const template = (
    TemplateBody.trimStart().startsWith('{') ? JSON.parse(TemplateBody) : parseYaml(TemplateBody)
  ) as Template;
  const { StackResourceSummaries = [] } = await clients.cloudformation.send(
    new ListStackResourcesCommand({ StackName: stackName }),
  );
  const physical = Object.fromEntries(StackResourceSummaries.map((r) => [r.LogicalResourceId!, r.PhysicalResourceId!]));
  const resolver = new TemplateResolver(template, {
    ...where,
    stackName,
    parameters: Object.fromEntries((stack?.Parameters ?? []).map((p) => [p.ParameterKey!, p.ParameterValue ?? ''])),
    resourceValues: physical,
  });
  const timestamp = new Date().toISOString();
  const drifts: ResourceDrift[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type === 'AWS::CDK::Metadata' || !resolver.isCreated(resource)) continue;
    const physicalId = physical[logicalId] ?? '';
    const expected = (resolver.resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>;
    const actual = await actualState(resource.Type, physicalId, expected, clients);
    const differences = actual === undefined || actual === 'DELETED' ? [] : compare(expected, actual.properties);
    drifts.push({
      StackId: stack?.StackId ?? '',
      LogicalResourceId: logicalId,
      PhysicalResourceId: physicalId,
      ResourceType: resource.Type,
      StackResourceDriftStatus:
        actual === undefined
          ? 'NOT_CHECKED'
          : actual === 'DELETED'
            ? 'DELETED'
            : differences.length > 0
              ? 'MODIFIED'
              : 'IN_SYNC',
      PropertyDifferences: differences,
      Timestamp: timestamp,
    });
  }
  const drifted = drifts.some(
    (d) => d.StackResourceDriftStatus === 'MODIFIED' || d.StackResourceDriftStatus === 'DELETED',
  );
  return {
    id: randomUUID(),
    stackName,
    stackId: stack?.StackId ?? '',
    status: drifted ? 'DRIFTED' : 'IN_SYNC',
    drifts,
    timestamp,
  };
}

/** The properties drift detection compares, as they are now; undefined when the type is not checked. */
async function actualState(
  type: string,
  physicalId: string,
  expected: Record<string, unknown>,
  clients: DriftClients,
): Promise<{ properties: Record<string, unknown> } | 'DELETED' | undefined> {
  switch (type) {
    case 'AWS::Logs::LogGroup': {
      const { logGroups = [] } = await clients.logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: physicalId }),
      );
      const group = logGroups.find((g) => g.logGroupName === physicalId);
      if (!group) return 'DELETED';
      return { properties: pick(expected, { RetentionInDays: group.retentionInDays }) };
    }
    case 'AWS::EC2::SecurityGroup': {
      const groups = await clients.ec2
        .send(new DescribeSecurityGroupsCommand({ GroupIds: [physicalId] }))
        .then((r) => r.SecurityGroups ?? [])
        .catch(() => []);
      const group = groups[0];
      if (!group) return 'DELETED';
      const rules = (permissions: typeof group.IpPermissions) =>
        (permissions ?? []).flatMap((p) =>
          (p.IpRanges ?? []).map((range) => ({
            CidrIp: range.CidrIp,
            FromPort: p.FromPort,
            IpProtocol: p.IpProtocol,
            ToPort: p.ToPort,
          })),
        );
      return { properties: { SecurityGroupIngress: rules(group.IpPermissions) } };
    }
    case 'AWS::ECS::Service': {
      const cluster = typeof expected.Cluster === 'string' ? expected.Cluster : undefined;
      const { services = [] } = await clients.ecs.send(
        new DescribeServicesCommand({ cluster, services: [physicalId] }),
      );
      const service = services.find((s) => s.status !== 'INACTIVE');
      if (!service) return 'DELETED';
      return { properties: pick(expected, { DesiredCount: service.desiredCount }) };
    }
    default:
      return undefined;
  }
}

/** The actual values of the properties the template sets (drift detection ignores unset ones). */
function pick(expected: Record<string, unknown>, actual: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(actual).filter(([key]) => expected[key] !== undefined));
}

/** Property differences, by property path, as CloudFormation reports them. */
function compare(expected: Record<string, unknown>, actual: Record<string, unknown>): PropertyDifference[] {
  const differences: PropertyDifference[] = [];
  for (const [key, value] of Object.entries(actual)) {
    const wanted = normalise(key, expected[key]);
    const now = normalise(key, value);
    if (Array.isArray(wanted) || Array.isArray(now)) {
      const want = (wanted as unknown[] | undefined) ?? [];
      const have = (now as unknown[] | undefined) ?? [];
      const text = (item: unknown) => JSON.stringify(item);
      have.forEach((item) => {
        if (!want.some((w) => text(w) === text(item)))
          differences.push({
            PropertyPath: `/${key}/${have.indexOf(item)}`,
            ExpectedValue: 'null',
            ActualValue: text(item),
            DifferenceType: 'ADD',
          });
      });
      want.forEach((item) => {
        if (!have.some((h) => text(h) === text(item)))
          differences.push({
            PropertyPath: `/${key}/${want.indexOf(item)}`,
            ExpectedValue: text(item),
            ActualValue: 'null',
            DifferenceType: 'REMOVE',
          });
      });
    } else if (JSON.stringify(wanted) !== JSON.stringify(now)) {
      differences.push({
        PropertyPath: `/${key}`,
        ExpectedValue: String(wanted),
        ActualValue: String(now),
        DifferenceType: 'NOT_EQUAL',
      });
    }
  }
  return differences;
}

/** Values as CloudFormation compares them: numbers as numbers, rules in a stable order and form. */
function normalise(key: string, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (key === 'SecurityGroupIngress') {
    return ((value as Record<string, unknown>[]) ?? [])
      .map((rule) => ({
        CidrIp: rule.CidrIp,
        FromPort: rule.FromPort === undefined ? undefined : Number(rule.FromPort),
        IpProtocol: String(rule.IpProtocol),
        ToPort: rule.ToPort === undefined ? undefined : Number(rule.ToPort),
      }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
}
