/**
 * Gathers what the checks look at, each fact on its own: a fact that cannot be read (no such
 * service, an API the caller may not call, an emulator that lacks it) becomes an error string,
 * and only the checks that need it are skipped.
 */
import {
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type Cluster,
  type ECSClient,
  type Service,
  type Task,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointsCommand,
  type EC2Client,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  SimulatePrincipalPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { DescribeLogGroupsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { awsErrorName, errorMessage, withOperation } from '../errors.js';
import type { Logger } from '../logger.js';
import { describeServiceTasks } from '../ssm/targets.js';
import type {
  CallerFacts,
  DoctorFacts,
  DoctorTarget,
  ExecLoggingFacts,
  Fact,
  NamedPolicy,
  NetworkFacts,
  PolicyDocument,
  SimulationResult,
  SubnetFacts,
  TaskRoleFacts,
} from './types.js';
import { factError, factValue } from './types.js';

/** The clients the doctor reads with. */
export interface GatherDeps {
  readonly ecs: ECSClient;
  readonly ec2: EC2Client;
  readonly iam: IAMClient;
  readonly sts: STSClient;
  /** To check that the exec log group exists. @default - the log group is not looked up */
  readonly logs?: CloudWatchLogsClient;
  readonly logger?: Logger;
}

/** The documents the project's port forwarding uses (StartSession is simulated against the first). */
export const PORT_FORWARDING_DOCUMENT = 'AWS-StartPortForwardingSession';

/** An error whose message already says what could not be read (not wrapped again). */
class FactError extends Error {}

async function fact<T>(operation: string, read: () => Promise<T>, logger?: Logger): Promise<Fact<T>> {
  try {
    return { value: await read() };
  } catch (error) {
    const message = error instanceof FactError ? error.message : withOperation(operation, error).message;
    logger?.debug(`doctor: ${message}`);
    return { error: message };
  }
}

const missing = <T>(error: string): Fact<T> => ({ error });

export async function gatherFacts(deps: GatherDeps, target: DoctorTarget): Promise<DoctorFacts> {
  const { ecs, logger } = deps;
  const service = await fact<Service>(
    'DescribeServices',
    async () => {
      const { services = [], failures = [] } = await ecs.send(
        new DescribeServicesCommand({ cluster: target.cluster, services: [target.service] }),
      );
      const found = services.find((s) => s.serviceName === target.service && s.status !== 'INACTIVE');
      if (!found) {
        const reason = failures[0]?.reason ?? (services[0]?.status === 'INACTIVE' ? 'INACTIVE' : 'MISSING');
        throw new Error(`service ${target.service} not found in cluster ${target.cluster} (${reason})`);
      }
      return found;
    },
    logger,
  );

  let runningTasks = 0;
  const task = await fact<Task>(
    'DescribeTasks',
    async () => {
      if (target.taskId) {
        const { tasks = [] } = await ecs.send(
          new DescribeTasksCommand({ cluster: target.cluster, tasks: [target.taskId] }),
        );
        runningTasks = tasks.filter((t) => t.lastStatus === 'RUNNING').length;
        if (!tasks[0]) throw new Error(`task ${target.taskId} not found in cluster ${target.cluster}`);
        return tasks[0];
      }
      const tasks = (await describeServiceTasks(ecs, target)).filter((t) => t.lastStatus === 'RUNNING');
      runningTasks = tasks.length;
      const current = factValue(service)?.taskDefinition;
      const chosen = tasks.find((t) => t.taskDefinitionArn === current) ?? tasks[0];
      if (!chosen) throw new Error(`service ${target.service} has no RUNNING task`);
      return chosen;
    },
    logger,
  );

  const taskDefinitionArn = factValue(task)?.taskDefinitionArn ?? factValue(service)?.taskDefinition;
  const taskDefinition = taskDefinitionArn
    ? await fact<TaskDefinition>(
        'DescribeTaskDefinition',
        async () => {
          const { taskDefinition: found } = await ecs.send(
            new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }),
          );
          if (!found) throw new Error(`no task definition ${taskDefinitionArn}`);
          return found;
        },
        logger,
      )
    : missing<TaskDefinition>(factError(task) ?? 'no task definition known');

  const definition = factValue(taskDefinition);
  const containerDefinition = definition?.containerDefinitions?.find((c) => c.name === target.container);
  const container = containerDefinition
    ? { value: containerDefinition }
    : missing<NonNullable<typeof containerDefinition>>(
        definition
          ? `task definition ${definition.family}:${definition.revision} has no container named ${target.container}`
          : (factError(taskDefinition) ?? 'no task definition'),
      );

  const [taskRole, network, caller, cluster] = await Promise.all([
    definition
      ? fact('reading the task role', () => readTaskRole(deps.iam, definition.taskRoleArn), logger)
      : missing<TaskRoleFacts>(factError(taskDefinition)!),
    fact('reading the network', () => readNetwork(deps.ec2, target, factValue(service), factValue(task)), logger),
    fact('simulating ssm:StartSession for the caller', () => simulateCaller(deps, target, factValue(task)), logger),
    fact<Cluster>(
      'DescribeClusters',
      async () => {
        const { clusters = [] } = await ecs.send(
          new DescribeClustersCommand({ clusters: [target.cluster], include: ['CONFIGURATIONS'] }),
        );
        const found = clusters.find((c) => c.clusterName === target.cluster);
        if (!found) throw new Error(`cluster ${target.cluster} not found`);
        return found;
      },
      logger,
    ),
  ]);
  const execLogging = factValue(cluster)
    ? await fact('reading the exec logging', () => readExecLogging(deps.logs, factValue(cluster)!), logger)
    : missing<ExecLoggingFacts>(factError(cluster)!);

  return {
    target,
    service,
    task,
    runningTasks,
    taskDefinition,
    container,
    taskRole,
    network,
    caller,
    cluster,
    execLogging,
  };
}

function parseDocument(encoded: string | undefined): PolicyDocument {
  if (!encoded) return {};
  // IAM returns policy documents URL-encoded.
  return JSON.parse(decodeURIComponent(encoded)) as PolicyDocument;
}

async function managedPolicy(iam: IAMClient, policyArn: string): Promise<NamedPolicy> {
  const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
  const { PolicyVersion } = await iam.send(
    new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: Policy?.DefaultVersionId ?? 'v1' }),
  );
  return { name: Policy?.PolicyName ?? policyArn, document: parseDocument(PolicyVersion?.Document) };
}

async function readTaskRole(iam: IAMClient, roleArn: string | undefined): Promise<TaskRoleFacts> {
  if (!roleArn) return { policies: [] };
  const roleName = roleArn.split('/').pop()!;
  const { Role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
  const policies: NamedPolicy[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker: marker }));
    for (const name of page.PolicyNames ?? []) {
      const { PolicyDocument } = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
      policies.push({ name, document: parseDocument(PolicyDocument) });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  do {
    const page = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker: marker }));
    for (const attached of page.AttachedPolicies ?? []) policies.push(await managedPolicy(iam, attached.PolicyArn!));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  const boundaryArn = Role?.PermissionsBoundary?.PermissionsBoundaryArn;
  let boundary: Pick<TaskRoleFacts, 'boundary' | 'boundaryError'> = {};
  if (boundaryArn) {
    try {
      boundary = { boundary: await managedPolicy(iam, boundaryArn) };
    } catch (error) {
      boundary = { boundaryError: withOperation(`reading the permissions boundary ${boundaryArn}`, error).message };
    }
  }
  return { roleArn: Role?.Arn ?? roleArn, policies, ...boundary };
}

async function readSubnets(ec2: EC2Client, ids: string[]): Promise<{ subnets: SubnetFacts[]; vpcIds: string[] }> {
  if (ids.length === 0) return { subnets: [], vpcIds: [] };
  const { Subnets = [] } = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: ids }));
  return {
    subnets: Subnets.map((s) => ({ subnetId: s.SubnetId!, cidr: s.CidrBlock ?? '' })),
    vpcIds: [...new Set(Subnets.map((s) => s.VpcId!))],
  };
}

async function readNetwork(
  ec2: EC2Client,
  target: DoctorTarget,
  service: Service | undefined,
  task: Task | undefined,
): Promise<NetworkFacts> {
  const awsvpc = service?.networkConfiguration?.awsvpcConfiguration;
  // The task's own ENI subnet when ECS reports it; the service's subnets otherwise.
  const eniSubnet = task?.attachments
    ?.find((a) => a.type === 'ElasticNetworkInterface')
    ?.details?.find((d) => d.name === 'subnetId')?.value;
  const subnetIds = eniSubnet ? [eniSubnet] : (awsvpc?.subnets ?? []);
  if (subnetIds.length === 0) throw new Error('the service has no awsvpc subnets (is it a Fargate service?)');
  const taskSubnets = await readSubnets(ec2, subnetIds);
  const vpcId = taskSubnets.vpcIds[0];
  if (!vpcId) throw new Error(`subnets ${subnetIds.join(', ')} not found`);

  const dnsAttribute = async (Attribute: 'enableDnsSupport' | 'enableDnsHostnames'): Promise<boolean | undefined> => {
    try {
      const result = await ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute }));
      return (Attribute === 'enableDnsSupport' ? result.EnableDnsSupport : result.EnableDnsHostnames)?.Value;
    } catch {
      return undefined; // informative only: the endpoint check says so when unknown
    }
  };
  const { VpcEndpoints = [] } = await ec2.send(
    new DescribeVpcEndpointsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'service-name', Values: [`com.amazonaws.${target.region}.ssmmessages`] },
      ],
    }),
  );
  const ssmMessagesEndpoints = VpcEndpoints.filter(
    (e) =>
      e.VpcId === vpcId &&
      e.ServiceName === `com.amazonaws.${target.region}.ssmmessages` &&
      e.VpcEndpointType === 'Interface' &&
      !['deleted', 'deleting', 'rejected', 'failed'].includes(String(e.State).toLowerCase()),
  );
  const endpointGroupIds = [...new Set(ssmMessagesEndpoints.flatMap((e) => (e.Groups ?? []).map((g) => g.GroupId!)))];
  const taskGroupIds = awsvpc?.securityGroups ?? [];
  const groupIds = [...new Set([...endpointGroupIds, ...taskGroupIds])];
  const groups: SecurityGroup[] =
    groupIds.length > 0
      ? ((await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds }))).SecurityGroups ?? [])
      : [];
  const endpointSubnetIds = [...new Set(ssmMessagesEndpoints.flatMap((e) => e.SubnetIds ?? []))];
  return {
    vpcId,
    taskSubnets: taskSubnets.subnets,
    taskSecurityGroups: groups.filter((g) => taskGroupIds.includes(g.GroupId!)),
    dnsSupport: await dnsAttribute('enableDnsSupport'),
    dnsHostnames: await dnsAttribute('enableDnsHostnames'),
    ssmMessagesEndpoints,
    endpointSecurityGroups: groups.filter((g) => endpointGroupIds.includes(g.GroupId!)),
    endpointSubnets: (await readSubnets(ec2, endpointSubnetIds)).subnets,
  };
}

/** `arn:aws:sts::A:assumed-role/R/S` → the role's IAM ARN (with its path, when IAM tells us). */
async function principalOf(iam: IAMClient, callerArn: string): Promise<string> {
  const assumed = /^arn:([^:]+):sts::(\d+):assumed-role\/([^/]+)\//.exec(callerArn);
  if (!assumed) return callerArn.replace(/^arn:([^:]+):sts::/, 'arn:$1:iam::');
  const [, partition, account, roleName] = assumed;
  try {
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    if (Role?.Arn) return Role.Arn;
  } catch {
    // Without iam:GetRole, a role with a path (SSO roles) may not be found: the simulation says so.
  }
  return `arn:${partition}:iam::${account}:role/${roleName}`;
}

async function simulateCaller(deps: GatherDeps, target: DoctorTarget, task: Task | undefined): Promise<CallerFacts> {
  const { Arn: callerArn, Account: account } = await deps.sts.send(new GetCallerIdentityCommand({}));
  if (!callerArn) throw new Error('GetCallerIdentity returned no ARN');
  const partition = callerArn.split(':')[1] ?? 'aws';
  const principalArn = await principalOf(deps.iam, callerArn);
  const taskArn =
    task?.taskArn ??
    `arn:${partition}:ecs:${target.region}:${account}:task/${target.cluster}/${target.taskId ?? '0123456789abcdef0123456789abcdef'}`;
  const documentArn = `arn:${partition}:ssm:${target.region}::document/${PORT_FORWARDING_DOCUMENT}`;
  const results: SimulationResult[] = [];
  for (const resource of [taskArn, documentArn]) {
    let response;
    try {
      response = await deps.iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: principalArn,
          ActionNames: ['ssm:StartSession'],
          ResourceArns: [resource],
          ContextEntries: [
            { ContextKeyName: 'ssm:SessionDocumentAccessCheck', ContextKeyType: 'boolean', ContextKeyValues: ['true'] },
          ],
        }),
      );
    } catch (error) {
      throw new FactError(
        `iam:SimulatePrincipalPolicy for ${principalArn} could not run: ${simulationFailure(error)}`,
        {
          cause: error,
        },
      );
    }
    const evaluations = response.EvaluationResults ?? [];
    if (evaluations.length === 0) throw new Error('iam:SimulatePrincipalPolicy returned no evaluation');
    for (const evaluation of evaluations) {
      results.push({ resource: evaluation.EvalResourceName ?? resource, decision: evaluation.EvalDecision ?? '?' });
    }
  }
  return { callerArn, principalArn, results };
}

/** Why the simulation did not run, in one line (an endpoint without the API answers HTML, not IAM XML). */
export function simulationFailure(error: unknown): string {
  const message = errorMessage(error);
  const status =
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ??
    (error as { $response?: { statusCode?: number } }).$response?.statusCode;
  if (/Deserialization error|XML parse error|not implemented/i.test(message)) {
    return `the IAM endpoint does not implement it (HTTP ${status ?? '?'}, not an IAM response)`;
  }
  const name = awsErrorName(error);
  return name && name !== 'Error' && !message.startsWith(name) ? `${name}: ${message}` : message;
}

async function readExecLogging(logs: CloudWatchLogsClient | undefined, cluster: Cluster): Promise<ExecLoggingFacts> {
  const config = cluster.configuration?.executeCommandConfiguration;
  const logging = config?.logging ?? 'DEFAULT';
  const logGroupName = config?.logConfiguration?.cloudWatchLogGroupName;
  const s3BucketName = config?.logConfiguration?.s3BucketName;
  const base = {
    logging,
    ...(logGroupName ? { logGroupName } : {}),
    ...(s3BucketName ? { s3BucketName } : {}),
  };
  if (!logGroupName || !logs) return base;
  try {
    const { logGroups = [] } = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroupName }));
    return { ...base, logGroupExists: logGroups.some((g) => g.logGroupName === logGroupName) };
  } catch (error) {
    return { ...base, logGroupError: withOperation('DescribeLogGroups', error).message };
  }
}
