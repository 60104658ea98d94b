import { DescribeSessionsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { resourceNames } from '../../../infra/lib/names.js';
import { ENVIRONMENTS } from '../../../infra/lib/project.js';
import { runAction, type ActionRun } from '../../../test/helpers/action-runner.js';
import { createStack } from '../../../test/helpers/local-stacks.js';
import { startMoto, type LocalAws } from '../../../test/helpers/moto.js';
import { startNginx, type LocalNginx } from '../../../test/helpers/nginx.js';
import { SsmEmulator } from '../../../test/helpers/ssm-emulator/emulator.js';
import { healthyScenario } from '../../../test/helpers/ssm-emulator/scenario.js';

/** The first configured environment, which the emulator's healthy scenario plays by default. */
const ENV = ENVIRONMENTS[0]!;
const NAMES = resourceNames(ENV);
/** The service to test, as the explicit inputs name it. */
const TARGET = { cluster: NAMES.cluster, service: NAMES.service };

/**
 * The bundled smoke-test action, run as the runner runs it, against the emulator (ECS runtime view,
 * SSM sessions, the data channel) in front of a real nginx, with moto for everything else.
 */
describe('ssm-smoke-test action (dist, through the runner harness)', () => {
  let nginx: LocalNginx;
  let aws: LocalAws;
  let emulator: SsmEmulator;

  beforeAll(async () => {
    nginx = await startNginx();
    aws = await startMoto();
    // The service stack's outputs, as the deploy workflow leaves them (read with `environment`).
    await createStack(aws, NAMES.serviceStack, {
      Resources: { Marker: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
      Outputs: {
        ClusterName: { Value: NAMES.cluster },
        ServiceName: { Value: NAMES.service },
        ContainerName: { Value: NAMES.container },
        ContainerPort: { Value: String(NAMES.containerPort) },
      },
    });
  }, 60_000);
  afterAll(async () => {
    await aws?.stop();
    await nginx?.stop();
  });
  beforeEach(async () => {
    emulator = await new SsmEmulator(healthyScenario({ target: { host: '127.0.0.1', port: nginx.port } })).start();
  });
  afterEach(async () => {
    // Never a session left behind, whatever happened.
    expect(emulator.activeSessions()).toEqual([]);
    await emulator.stop();
  });

  const service = () => emulator.scenario.clusters[0]!.services[0]!;
  const task = () => service().tasks[0]!;
  const run = (inputs: Record<string, string>): Promise<ActionRun> =>
    runAction('ssm-smoke-test', {
      inputs,
      env: {
        AWS_REGION: aws.region,
        AWS_ACCESS_KEY_ID: 'AKIDOPERATOR',
        AWS_SECRET_ACCESS_KEY: 'operator-secret',
        AWS_ENDPOINT_URL: aws.endpoint,
        ...emulator.env(),
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      timeoutMs: 120_000,
    });

  it('passes on a healthy service and reports target, revision, agent, latency, status and body', async () => {
    const result = await run(TARGET);
    expect(result.errors).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({
      status: '200',
      'task-id': task().taskId,
      'task-definition': service().taskDefinitionArn,
      'session-id': expect.stringMatching(/^akidoperator-/),
    });
    expect(Number(result.outputs['latency-ms'])).toBeGreaterThan(0);
    expect(result.summary).toContain('## Smoke test passed');
    expect(result.summary).toContain(`${NAMES.serviceStack}-NginxTaskDefinition:1`);
    expect(result.summary).toContain('| ECS Exec agent | RUNNING |');
    expect(result.summary).toContain('Welcome to nginx!');
    const ssm = new SSMClient({
      region: aws.region,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'A', secretAccessKey: 's' },
    });
    const { Sessions } = await ssm.send(new DescribeSessionsCommand({ State: 'History' }));
    expect(Sessions?.map((s) => s.SessionId)).toEqual([result.outputs['session-id']]);
  });

  it('finds the service from the environment stack outputs, or from the deploy job outputs', async () => {
    expect((await run({ environment: ENV.name })).exitCode).toBe(0);
    const outputs = JSON.stringify({
      [NAMES.networkStack]: { VpcId: 'vpc-1' },
      [NAMES.serviceStack]: {
        ClusterName: NAMES.cluster,
        ServiceName: NAMES.service,
        ContainerPort: String(NAMES.containerPort),
      },
    });
    expect((await run({ outputs })).exitCode).toBe(0);
  });

  it('fails with the doctor findings when ECS Exec is off', async () => {
    service().enableExecuteCommand = false;
    task().enableExecuteCommand = false;
    task().containers[0]!.agentStatus = undefined;
    const result = await run({ ...TARGET, 'timeout-seconds': '10' });
    expect(result.exitCode).toBe(1);
    const error = result.errors.join('\n');
    expect(error).toContain(`Smoke test of ${NAMES.cluster}/${NAMES.service} failed`);
    expect(error).toContain('ECS Exec is not enabled on the task');
    expect(error).toContain("The doctor's findings:");
    expect(error).toMatch(/--enable-execute-command/);
    expect(result.summary).toContain('## Smoke test failed');
  }, 60_000);

  it('fails by the deadline when the agent is not RUNNING, saying so', async () => {
    task().containers[0]!.agentStatus = 'PENDING';
    const result = await run({ ...TARGET, 'timeout-seconds': '10' });
    expect(result.exitCode).toBe(1);
    expect(result.errors.join('\n')).toContain('Not ready by the deadline. Last state: Waiting for the ECS Exec agent');
    expect(result.errors.join('\n')).toContain(`ExecuteCommandAgent of ${NAMES.container} is PENDING`);
  }, 60_000);

  it('fails when no task runs', async () => {
    task().lastStatus = 'STOPPED';
    const result = await run({ ...TARGET, 'timeout-seconds': '10' });
    expect(result.exitCode).toBe(1);
    expect(result.errors.join('\n')).toContain('no RUNNING task of');
  }, 60_000);

  it('says the environment is asleep, and how to wake it, when the service wants no task', async () => {
    service().desiredCount = 0;
    service().tasks.length = 0;
    const result = await run({ environment: ENV.name, 'timeout-seconds': '60' });
    expect(result.exitCode).toBe(1);
    const errors = result.errors.join('\n');
    expect(errors).toContain(`${ENV.name} is asleep: service ${NAMES.service} runs no task (desired count 0)`);
    expect(errors).toContain(`gh workflow run sleep.yml -f environment=${ENV.name} -f action=wake`);
    // At once, not at the deadline, and no doctor: asleep is a state, not a fault.
    expect(errors).not.toContain("The doctor's findings");
  }, 60_000);

  it('fails when the rollout is not finished by the deadline, and at once when it FAILED', async () => {
    service().rolloutState = 'IN_PROGRESS';
    const waiting = await run({ ...TARGET, 'timeout-seconds': '10' });
    expect(waiting.exitCode).toBe(1);
    expect(waiting.errors.join('\n')).toContain('Waiting for the rollout of');
    service().rolloutState = 'FAILED';
    const started = Date.now();
    const failed = await run({ ...TARGET, 'timeout-seconds': '600' });
    expect(failed.exitCode).toBe(1);
    expect(failed.errors.join('\n')).toContain('FAILED (the circuit breaker rolled it back)');
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 90_000);

  it('fails when the status or the body does not match', async () => {
    const status = await run({
      ...TARGET,
      'expected-status': '204',
      'timeout-seconds': '10',
    });
    expect(status.exitCode).toBe(1);
    expect(status.errors.join('\n')).toContain(
      'Expected HTTP 204 with a body containing "Welcome to nginx"; the last answer was 200',
    );
    const body = await run({
      ...TARGET,
      'expected-body': '/Goodbye/',
      'timeout-seconds': '10',
    });
    expect(body.exitCode).toBe(1);
    expect(body.errors.join('\n')).toContain('with a body matching /Goodbye/; the last answer was 200 with body');
  }, 60_000);

  it('explains TargetNotConnected with the doctor', async () => {
    emulator.scenario.agentsReachSsm = false;
    const result = await run({ ...TARGET, 'timeout-seconds': '10' });
    expect(result.exitCode).toBe(1);
    expect(result.errors.join('\n')).toMatch(
      new RegExp(`StartSession failed: TargetNotConnected: ecs:${NAMES.cluster}_\\w+_[\\w-]+ is not connected\\.`),
    );
    expect(result.errors.join('\n')).toContain("The doctor's findings:");
  }, 60_000);
});
