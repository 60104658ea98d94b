import * as core from '@actions/core';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { awsClientConfig } from '../../shared/src/aws.js';
import { UserInputError, errorMessage } from '../../shared/src/errors.js';
import { actionsLogger } from '../../shared/src/logger.js';
import { startForwarding } from '../../shared/src/ssm/forwarding.js';
import { parseInputs } from './inputs.js';
import { resolveService } from './resolve-service.js';
import { SmokeTestError, smokeTest } from './smoke-test.js';
import { failedSummary, passedSummary } from './summary.js';

const ACTION = 'ssm-smoke-test';

/** The only place where inputs are read, outputs set and a failure becomes the step's failure. */
export async function run(): Promise<void> {
  try {
    const inputs = parseInputs((name) => core.getInput(name));
    const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region)
      throw new UserInputError(
        'AWS_REGION is not set: run the aws-credentials action (with aws-region) before this step.',
      );
    // The SDK's own retries stay on (3 attempts) for the reads, which no retry() wraps. The SSM
    // client runs with them off: the session retries StartSession and ResumeSession itself.
    const config = { ...awsClientConfig({ region, action: ACTION }), maxAttempts: 3 };
    const service = await resolveService(inputs.source, () => new CloudFormationClient(config));
    const result = await smokeTest(inputs, service, {
      ecs: new ECSClient(config),
      ssm: new SSMClient(awsClientConfig({ region, action: ACTION })),
      region,
      logger: actionsLogger,
      clock: { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
      startForwarding,
      // The doctor runs only when the smoke test fails: its clients (EC2's is the SDK's largest)
      // are loaded then, not at every start of the action.
      diagnose: async (target) => {
        const [{ EC2Client }, { IAMClient }, { STSClient }, { formatFindings, runDoctor }] = await Promise.all([
          import('@aws-sdk/client-ec2'),
          import('@aws-sdk/client-iam'),
          import('@aws-sdk/client-sts'),
          import('../../shared/src/doctor/index.js'),
        ]);
        const clients = {
          ecs: new ECSClient(config),
          ec2: new EC2Client(config),
          iam: new IAMClient(config),
          sts: new STSClient(config),
          logger: actionsLogger,
        };
        return formatFindings(await runDoctor(clients, { ...target, region }));
      },
    });
    core.setOutput('status', String(result.http.status));
    core.setOutput('latency-ms', result.http.latencyMs.toFixed(1));
    core.setOutput('task-id', result.task.taskId);
    core.setOutput('task-definition', result.task.taskDefinitionArn);
    core.setOutput('session-id', result.sessionId);
    await core.summary.addRaw(passedSummary(result, inputs.path)).write();
    core.info(
      `Smoke test passed: GET ${inputs.path} → ${result.http.status} in ${result.http.latencyMs.toFixed(1)} ms through session ${result.sessionId}.`,
    );
  } catch (error) {
    if (error instanceof SmokeTestError) await core.summary.addRaw(failedSummary(error.message)).write();
    core.setFailed(errorMessage(error));
  }
}
