/** Finding the SSM target of a service's running task: `ecs:<cluster>_<taskId>_<runtimeId>`. */
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type ECSClient,
  type Task,
} from '@aws-sdk/client-ecs';
import { UserInputError, withOperation } from '../errors.js';

export interface TaskTarget {
  readonly target: string;
  readonly taskArn: string;
  readonly taskId: string;
  readonly runtimeId: string;
  readonly containerName: string;
  readonly taskDefinitionArn: string;
  readonly agentStatus: string;
}

export interface TargetQuery {
  readonly cluster: string;
  readonly service: string;
  readonly container: string;
  /** Only tasks of this task definition (the service's current one, during a rollout). */
  readonly taskDefinitionArn?: string;
  /** The environment of gitops.config.json, for the advice when it is asleep. */
  readonly environment?: string;
}

/**
 * The service wants no task: its environment is asleep (outside its schedule, or put to sleep by
 * hand, docs/workflows.md). Not a failure of the service: the advice is to wake it.
 */
export class AsleepError extends UserInputError {
  constructor(service: string, environment?: string) {
    const env = environment ?? '<environment>';
    super(
      `${environment ?? 'The environment'} is asleep: service ${service} runs no task (desired count 0) and the interface endpoints are down. ` +
        `Wake it with: gh workflow run sleep.yml -f environment=${env} -f action=wake (or Actions → sleep → Run workflow, action wake), then try again when that run has finished.`,
    );
    this.name = 'AsleepError';
  }
}

/** Throws AsleepError when the service's desired count is 0. */
export async function assertAwake(
  ecs: ECSClient,
  query: Pick<TargetQuery, 'cluster' | 'service' | 'environment'>,
): Promise<void> {
  let services;
  try {
    ({ services } = await ecs.send(new DescribeServicesCommand({ cluster: query.cluster, services: [query.service] })));
  } catch (error) {
    throw withOperation(`DescribeServices ${query.cluster}/${query.service}`, error);
  }
  const service = services?.[0];
  if (service && service.status !== 'INACTIVE' && service.desiredCount === 0)
    throw new AsleepError(query.service, query.environment);
}

export function ecsTarget(cluster: string, taskId: string, runtimeId: string): string {
  return `ecs:${cluster}_${taskId}_${runtimeId}`;
}

/** The RUNNING tasks of a service, described. */
export async function describeServiceTasks(
  ecs: ECSClient,
  query: Pick<TargetQuery, 'cluster' | 'service'>,
): Promise<Task[]> {
  let taskArns: string[];
  try {
    ({ taskArns = [] } = await ecs.send(
      new ListTasksCommand({ cluster: query.cluster, serviceName: query.service, desiredStatus: 'RUNNING' }),
    ));
  } catch (error) {
    throw withOperation(`ListTasks of ${query.cluster}/${query.service}`, error);
  }
  if (taskArns.length === 0) return [];
  try {
    const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster: query.cluster, tasks: taskArns }));
    return tasks;
  } catch (error) {
    throw withOperation('DescribeTasks', error);
  }
}

/** Why a task is not (yet) a port-forwarding target, or undefined when it is one. */
export function targetProblem(task: Task, container: string): string | undefined {
  if (task.lastStatus !== 'RUNNING') return `task is ${task.lastStatus ?? 'in an unknown state'}`;
  if (!task.enableExecuteCommand) return 'ECS Exec is not enabled on the task (enableExecuteCommand is false)';
  const found = task.containers?.find((c) => c.name === container);
  if (!found) return `the task has no container named ${container}`;
  if (!found.runtimeId) return `container ${container} has no runtimeId yet`;
  const agent = found.managedAgents?.find((a) => a.name === 'ExecuteCommandAgent');
  if (!agent) return `container ${container} has no ExecuteCommandAgent (the task started without ECS Exec)`;
  if (agent.lastStatus !== 'RUNNING')
    return `the ExecuteCommandAgent of ${container} is ${agent.lastStatus ?? 'in an unknown state'}`;
  return undefined;
}

/**
 * The first task of the service that can be forwarded to. Throws a UserInputError that says why
 * none can (no task, exec off, agent not running...), each task's reason listed.
 */
export async function findTarget(ecs: ECSClient, query: TargetQuery): Promise<TaskTarget> {
  const tasks = (await describeServiceTasks(ecs, query)).filter(
    (task) => !query.taskDefinitionArn || task.taskDefinitionArn === query.taskDefinitionArn,
  );
  if (tasks.length === 0) {
    await assertAwake(ecs, query);
    throw new UserInputError(
      `No running task in service ${query.service} of cluster ${query.cluster}${query.taskDefinitionArn ? ` with task definition ${query.taskDefinitionArn}` : ''}. ` +
        'Check the service events (aws ecs describe-services) for tasks failing to start.',
    );
  }
  const problems: string[] = [];
  for (const task of tasks) {
    const problem = targetProblem(task, query.container);
    const taskId = task.taskArn?.split('/').pop() ?? '?';
    if (problem) {
      problems.push(`${taskId}: ${problem}`);
      continue;
    }
    const container = task.containers!.find((c) => c.name === query.container)!;
    return {
      target: ecsTarget(query.cluster, taskId, container.runtimeId!),
      taskArn: task.taskArn!,
      taskId,
      runtimeId: container.runtimeId!,
      containerName: query.container,
      taskDefinitionArn: task.taskDefinitionArn ?? '',
      agentStatus: 'RUNNING',
    };
  }
  throw new UserInputError(
    `No task of ${query.cluster}/${query.service} can be reached through SSM:\n  ${problems.join('\n  ')}`,
  );
}
