import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { UserInputError, withOperation } from '../../shared/src/errors.js';
import type { Logger } from '../../shared/src/logger.js';
import {
  AsleepError,
  describeServiceTasks,
  ecsTarget,
  targetProblem,
  type TaskTarget,
} from '../../shared/src/ssm/targets.js';

export interface Clock {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** The rollout went wrong or never finished: a failure the doctor should explain. */
export class NotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotReadyError';
  }
}

export interface ReadyTask extends TaskTarget {
  readonly rolloutState: string;
}

/**
 * Waits until the service's rollout is COMPLETED and a RUNNING task of the service's current task
 * definition has a RUNNING ExecuteCommandAgent; logs each change of state once.
 */
export async function waitForReadyTask(
  ecs: ECSClient,
  query: {
    readonly cluster: string;
    readonly service: string;
    readonly container: string;
    readonly environment?: string;
  },
  deadline: number,
  deps: { readonly logger: Logger; readonly clock: Clock; readonly pollMs?: number },
): Promise<ReadyTask> {
  let lastState = '';
  const report = (state: string): void => {
    if (state !== lastState) deps.logger.info(state);
    lastState = state;
  };
  for (;;) {
    let services;
    try {
      ({ services } = await ecs.send(
        new DescribeServicesCommand({ cluster: query.cluster, services: [query.service] }),
      ));
    } catch (error) {
      throw withOperation(`DescribeServices ${query.cluster}/${query.service}`, error);
    }
    const service = services?.[0];
    if (!service || service.status === 'INACTIVE')
      throw new UserInputError(`Service ${query.service} was not found in cluster ${query.cluster}.`);
    // Asleep (desired count 0): no task will come; say how to wake it instead of timing out.
    if (service.desiredCount === 0) throw new AsleepError(query.service, query.environment);
    const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
    const rollout = primary?.rolloutState ?? 'COMPLETED';
    if (rollout === 'FAILED') {
      throw new NotReadyError(
        `The rollout of ${service.taskDefinition} FAILED (the circuit breaker rolled it back): ${primary?.rolloutStateReason ?? 'no reason given'}.`,
      );
    }
    let state: string;
    if (rollout !== 'COMPLETED') {
      state = `Waiting for the rollout of ${service.taskDefinition} (${rollout}, ${primary?.runningCount ?? 0}/${primary?.desiredCount ?? '?'} running)...`;
    } else {
      const tasks = (await describeServiceTasks(ecs, query)).filter(
        (task) => task.taskDefinitionArn === service.taskDefinition,
      );
      const problems: string[] = [];
      for (const task of tasks) {
        const problem = targetProblem(task, query.container);
        const taskId = task.taskArn?.split('/').pop() ?? '?';
        if (!problem) {
          const runtimeId = task.containers!.find((c) => c.name === query.container)!.runtimeId!;
          return {
            target: ecsTarget(query.cluster, taskId, runtimeId),
            taskArn: task.taskArn!,
            taskId,
            runtimeId,
            containerName: query.container,
            taskDefinitionArn: task.taskDefinitionArn ?? '',
            agentStatus: 'RUNNING',
            rolloutState: rollout,
          };
        }
        problems.push(`${taskId}: ${problem}`);
      }
      state =
        tasks.length === 0
          ? `Rollout COMPLETED, but no RUNNING task of ${service.taskDefinition} yet...`
          : `Waiting for the ECS Exec agent (${problems.join('; ')})...`;
    }
    report(state);
    if (deps.clock.now() >= deadline)
      throw new NotReadyError(`Not ready by the deadline. Last state: ${state.replace(/\.\.\.$/, '')}.`);
    await deps.clock.sleep(Math.min(deps.pollMs ?? 5000, Math.max(0, deadline - deps.clock.now())));
  }
}
