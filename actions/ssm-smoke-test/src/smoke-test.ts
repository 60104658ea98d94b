import { CONTAINER_NAME, CONTAINER_PORT } from '../../../infra/lib/names.js';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { errorMessage } from '../../shared/src/errors.js';
import type { Logger } from '../../shared/src/logger.js';
import type { ForwardingOptions } from '../../shared/src/ssm/forwarding.js';
import { AsleepError } from '../../shared/src/ssm/targets.js';
import type { ForwardingSession } from '../../shared/src/ssm/port-session.js';
import { getUntilHealthy, type HttpResult } from './http-check.js';
import type { Inputs } from './inputs.js';
import type { ServiceRef } from './resolve-service.js';
import { waitForReadyTask, type Clock, type ReadyTask } from './wait-for-task.js';

export interface SmokeTestDeps {
  readonly ecs: ECSClient;
  readonly ssm: SSMClient;
  readonly region: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly startForwarding: (options: ForwardingOptions) => Promise<ForwardingSession>;
  /** Explains a failure: the doctor's report for the service (or why it could not run). */
  readonly diagnose: (service: ServiceRef & { container: string; taskId?: string }) => Promise<string>;
  readonly pollMs?: number;
}

export interface SmokeTestResult {
  readonly service: ServiceRef;
  readonly task: ReadyTask;
  readonly sessionId: string;
  readonly port: number;
  readonly http: HttpResult;
}

/** A failed smoke test, with the doctor's findings in its message. */
export class SmokeTestError extends Error {
  constructor(
    message: string,
    readonly diagnosis: string,
  ) {
    super(`${message}\n\nThe doctor's findings:\n${diagnosis}`);
    this.name = 'SmokeTestError';
  }
}

/**
 * Rollout finished, agent running, forward, GET until healthy, stop. The session is always ended
 * and the local port released; any failure is explained by the doctor.
 */
export async function smokeTest(inputs: Inputs, service: ServiceRef, deps: SmokeTestDeps): Promise<SmokeTestResult> {
  const deadline = deps.clock.now() + inputs.timeoutSeconds * 1000;
  // The stack's outputs say which container and port; the project's names when they do not.
  const container = inputs.container ?? service.container ?? CONTAINER_NAME;
  const port = inputs.port ?? service.port ?? CONTAINER_PORT;
  let task: ReadyTask | undefined;
  let session: ForwardingSession | undefined;
  try {
    task = await waitForReadyTask(
      deps.ecs,
      { cluster: service.cluster, service: service.service, container, environment: service.environment },
      deadline,
      {
        logger: deps.logger,
        clock: deps.clock,
        pollMs: deps.pollMs,
      },
    );
    deps.logger.info(
      `Task ${task.taskId} of ${task.taskDefinitionArn.split('/').pop()} is ready; forwarding port ${port}.`,
    );
    session = await deps.startForwarding({
      engine: inputs.engine,
      ssm: deps.ssm,
      target: task.target,
      remotePort: port,
      localPort: 0,
      region: deps.region,
      logger: deps.logger,
    });
    const http = await getUntilHealthy(
      `http://127.0.0.1:${session.localPort}${inputs.path}`,
      { status: inputs.expectedStatus, body: inputs.expectedBody },
      deadline,
      { logger: deps.logger, clock: deps.clock },
    );
    return { service, task, sessionId: session.sessionId, port, http };
  } catch (error) {
    // Asleep is a state with its own advice (wake it), not a failure for the doctor to explain.
    if (error instanceof AsleepError) throw error;
    const diagnosis = await deps
      .diagnose({ ...service, container, taskId: task?.taskId })
      .catch((e: unknown) => `(the doctor could not run: ${errorMessage(e)})`);
    throw new SmokeTestError(
      `Smoke test of ${service.cluster}/${service.service} failed: ${errorMessage(error)}`,
      diagnosis,
    );
  } finally {
    await session?.stop();
  }
}
