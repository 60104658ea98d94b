/**
 * The ECS runtime view moto lacks, read from the scenario at each call (tests mutate it between
 * calls): ListTasks, DescribeTasks, DescribeServices, DescribeTaskDefinition, DescribeClusters.
 */
import { ApiError, type ApiHandler } from './aws-json.js';
import type { EmulatedCluster, EmulatedService, EmulatedTask, Scenario } from './scenario.js';

/** The ECS API over whatever scenario `current` returns at the time of the call. */
export function ecsApi(current: () => Scenario): ApiHandler {
  return (operation, input) => {
    const scenario = current();
    switch (operation) {
      case 'DescribeTaskDefinition':
        return describeTaskDefinition(scenario, String(input.taskDefinition ?? ''));
      case 'DescribeClusters':
        return describeClusters(scenario, (input.clusters ?? ['default']) as string[]);
      case 'ListTasks':
        return listTasks(scenario, input);
      case 'DescribeTasks':
        return describeTasks(scenario, input);
      case 'DescribeServices':
        return describeServices(scenario, input);
      default:
        throw new ApiError('InvalidAction', `ECS operation ${operation} is not emulated`);
    }
  };
}

/** ARNs in the scenario's account and region. */
function arns(scenario: Scenario, cluster: EmulatedCluster) {
  const prefix = `arn:aws:ecs:${scenario.region}:${scenario.account}`;
  return {
    cluster: `${prefix}:cluster/${cluster.clusterName}`,
    task: (task: EmulatedTask) => `${prefix}:task/${cluster.clusterName}/${task.taskId}`,
    service: (service: EmulatedService) => `${prefix}:service/${cluster.clusterName}/${service.serviceName}`,
  };
}

function clusterOf(scenario: Scenario, name: unknown): EmulatedCluster {
  const clusterName = String(name ?? 'default')
    .split('/')
    .pop();
  const cluster = scenario.clusters.find((c) => c.clusterName === clusterName);
  if (!cluster) throw new ApiError('ClusterNotFoundException', 'Cluster not found.');
  return cluster;
}

function listTasks(scenario: Scenario, input: Record<string, unknown>): unknown {
  const cluster = clusterOf(scenario, input.cluster);
  const services = input.serviceName
    ? cluster.services.filter((s) => s.serviceName === input.serviceName)
    : cluster.services;
  if (input.serviceName && services.length === 0) throw new ApiError('ServiceNotFoundException', 'Service not found.');
  const desired = String(input.desiredStatus ?? 'RUNNING');
  const tasks = services
    .flatMap((s) => s.tasks)
    .filter((t) => (desired === 'STOPPED' ? t.lastStatus === 'STOPPED' : t.lastStatus !== 'STOPPED'));
  return { taskArns: tasks.map(arns(scenario, cluster).task) };
}

function describeTasks(scenario: Scenario, input: Record<string, unknown>): unknown {
  const cluster = clusterOf(scenario, input.cluster);
  const arn = arns(scenario, cluster);
  const wanted = ((input.tasks ?? []) as string[]).map((id) => id.split('/').pop());
  const found = cluster.services
    .flatMap((service) => service.tasks.map((task) => ({ service, task })))
    .filter(({ task }) => wanted.includes(task.taskId));
  return {
    tasks: found.map(({ service, task }) => ({
      taskArn: arn.task(task),
      clusterArn: arn.cluster,
      taskDefinitionArn: task.taskDefinitionArn,
      lastStatus: task.lastStatus,
      desiredStatus: task.lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
      launchType: 'FARGATE',
      platformVersion: task.platformVersion,
      enableExecuteCommand: task.enableExecuteCommand,
      group: `service:${service.serviceName}`,
      containers: task.containers.map((container) => ({
        name: container.name,
        runtimeId: container.runtimeId,
        lastStatus: task.lastStatus,
        taskArn: arn.task(task),
        managedAgents: container.agentStatus
          ? [{ name: 'ExecuteCommandAgent', lastStatus: container.agentStatus }]
          : [],
      })),
    })),
    failures: wanted
      .filter((id) => !found.some(({ task }) => task.taskId === id))
      .map((id) => ({ arn: id, reason: 'MISSING' })),
  };
}

function describeServices(scenario: Scenario, input: Record<string, unknown>): unknown {
  const cluster = clusterOf(scenario, input.cluster);
  const arn = arns(scenario, cluster);
  const names = ((input.services ?? []) as string[]).map((name) => name.split('/').pop());
  const services = cluster.services.filter((s) => names.includes(s.serviceName));
  return {
    services: services.map((service) => {
      const running = service.tasks.filter(
        (t) => t.lastStatus === 'RUNNING' && t.taskDefinitionArn === service.taskDefinitionArn,
      ).length;
      return {
        serviceName: service.serviceName,
        serviceArn: arn.service(service),
        clusterArn: arn.cluster,
        status: 'ACTIVE',
        desiredCount: service.desiredCount,
        runningCount: service.tasks.filter((t) => t.lastStatus === 'RUNNING').length,
        taskDefinition: service.taskDefinitionArn,
        enableExecuteCommand: service.enableExecuteCommand,
        platformVersion: service.platformVersion,
        launchType: 'FARGATE',
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: service.subnets ?? [],
            securityGroups: service.securityGroups ?? [],
            assignPublicIp: 'DISABLED',
          },
        },
        deployments: [
          {
            id: `ecs-svc/${service.serviceName}`,
            status: 'PRIMARY',
            taskDefinition: service.taskDefinitionArn,
            desiredCount: service.desiredCount,
            runningCount: running,
            rolloutState: service.rolloutState,
          },
        ],
      };
    }),
    failures: names
      .filter((n) => !services.some((s) => s.serviceName === n))
      .map((n) => ({ arn: n, reason: 'MISSING' })),
  };
}

/**
 * A task definition as the scenario implies it: its containers (environment names, secrets,
 * read-only root) from the first task that runs it, its task role from the service.
 */
function describeTaskDefinition(scenario: Scenario, wanted: string): unknown {
  const { account, region } = scenario;
  const matches = (arn: string): boolean =>
    arn === wanted || arn.split('/').pop() === wanted || arn.split('/').pop()!.split(':')[0] === wanted;
  for (const service of scenario.clusters.flatMap((c) => c.services)) {
    const task = service.tasks.find((t) => matches(t.taskDefinitionArn));
    const arn = task?.taskDefinitionArn ?? (matches(service.taskDefinitionArn) ? service.taskDefinitionArn : undefined);
    if (!arn) continue;
    const [family, revision] = arn.split('/').pop()!.split(':');
    const containers = task?.containers ?? service.tasks[0]?.containers ?? [];
    return {
      taskDefinition: {
        taskDefinitionArn: arn,
        family,
        revision: Number(revision),
        status: 'ACTIVE',
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        compatibilities: ['EC2', 'FARGATE'],
        ...(service.taskRoleArn ? { taskRoleArn: service.taskRoleArn } : {}),
        executionRoleArn: `arn:aws:iam::${account}:role/${family}-ExecutionRole`,
        containerDefinitions: containers.map((container) => ({
          name: container.name,
          image: `${account}.dkr.ecr.${region}.amazonaws.com/ecr-public/nginx/nginx:1.28-alpine`,
          essential: true,
          readonlyRootFilesystem: container.readonlyRootFilesystem ?? false,
          environment: (container.environment ?? []).map((name) => ({ name, value: 'value' })),
          secrets: (container.secrets ?? []).map((name) => ({
            name,
            valueFrom: `arn:aws:ssm:${region}:${account}:parameter/${name}`,
          })),
        })),
      },
    };
  }
  throw new ApiError('ClientException', 'Unable to describe task definition.');
}

function describeClusters(scenario: Scenario, names: string[]): unknown {
  const { account, region } = scenario;
  const wanted = names.map((name) => name.split('/').pop());
  const clusters = scenario.clusters.filter((c) => wanted.includes(c.clusterName));
  return {
    clusters: clusters.map((cluster) => ({
      clusterName: cluster.clusterName,
      clusterArn: `arn:aws:ecs:${region}:${account}:cluster/${cluster.clusterName}`,
      status: 'ACTIVE',
      configuration: {
        executeCommandConfiguration: {
          logging: cluster.execLogging?.logging ?? 'DEFAULT',
          ...(cluster.execLogging?.cloudWatchLogGroupName
            ? { logConfiguration: { cloudWatchLogGroupName: cluster.execLogging.cloudWatchLogGroupName } }
            : {}),
        },
      },
    })),
    failures: wanted
      .filter((name) => !clusters.some((c) => c.clusterName === name))
      .map((name) => ({ arn: `arn:aws:ecs:${region}:${account}:cluster/${name}`, reason: 'MISSING' })),
  };
}
