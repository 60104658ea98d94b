import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { enforceNag } from '../../../infra/lib/nag.js';
import { resourceNames } from '../../../infra/lib/names.js';
import { ENVIRONMENTS } from '../../../infra/lib/project.js';
import { blockingFindings, readNagReport } from '../src/nag.js';
import { RecordingLogger } from '../../shared/src/logger.js';
import { deployOptions, diffMethod, stackPatterns, type SelectedStack } from '../src/commands.js';
import { parseInputs, shouldComment } from '../src/inputs.js';
import { toolkitLib } from '../src/toolkit-lib.js';
import { ActionIoHost } from '../src/io-host.js';
import { compareCost, estimateCost } from '../src/cost.js';
import { SCHEDULE_METADATA_KEY, scheduleMetadata, type Schedule } from '../../../infra/lib/schedule.js';

/** The first configured environment: the action takes any environment name and derives the rest. */
const FIRST = ENVIRONMENTS[0]!;
const ENV = FIRST.name;
const { networkStack: NETWORK, serviceStack: SERVICE } = resourceNames(FIRST);

const read =
  (values: Record<string, string>) =>
  (name: string): string =>
    values[name] ?? '';

describe('inputs', () => {
  it('parses a diff step with defaults', () => {
    const inputs = parseInputs(read({ command: 'diff', environment: ENV }));
    expect(inputs).toMatchObject({
      command: 'diff',
      environment: ENV,
      stacks: [],
      comment: 'auto',
      failOnDestructive: true,
      diffMethod: 'template',
      deploymentMethod: 'change-set',
      outputDir: 'cdk.out',
    });
    expect(shouldComment(inputs, 'pull_request')).toBe(true);
    expect(shouldComment(inputs, 'push')).toBe(false);
    expect(shouldComment({ comment: false }, 'pull_request')).toBe(false);
  });

  it('splits stack patterns and rejects bad values with the input name', () => {
    expect(
      parseInputs(read({ command: 'synth', environment: ENV, stacks: `${NETWORK}, ${ENV}-*\n${SERVICE}` })).stacks,
    ).toEqual([NETWORK, `${ENV}-*`, SERVICE]);
    expect(() => parseInputs(read({ command: 'destroy', environment: ENV }))).toThrow(
      "Input 'command' must be one of synth, diff, comment, deploy, drift, sleep, wake, schedule, got 'destroy'.",
    );
    expect(() => parseInputs(read({ command: 'diff', environment: 'Dev Env' }))).toThrow(/Input 'environment'/);
    expect(() => parseInputs(read({ command: 'diff', environment: ENV, stacks: `${ENV};rm` }))).toThrow(
      /Input 'stacks'/,
    );
    expect(() => parseInputs(read({ command: 'diff', environment: ENV, 'diff-method': 'fast' }))).toThrow(
      /Input 'diff-method'/,
    );
    expect(() => parseInputs(read({ command: 'diff', environment: ENV, 'fail-on-destructive': 'yes' }))).toThrow(
      /fail-on-destructive/,
    );
  });
});

describe('toolkit wiring', () => {
  it('synthesizes every stack of the environment, diffs and deploys only the deployable ones (not the foundation)', () => {
    expect(stackPatterns({ command: 'synth', environment: ENV, stacks: [] })).toEqual([`${ENV}-*`]);
    expect(stackPatterns({ command: 'diff', environment: ENV, stacks: [] })).toEqual([NETWORK, SERVICE]);
    expect(stackPatterns({ command: 'deploy', environment: ENV, stacks: [] })).toEqual([NETWORK, SERVICE]);
    expect(stackPatterns({ command: 'deploy', environment: ENV, stacks: [SERVICE] })).toEqual([SERVICE]);
  });

  it('uses a change set only when asked, and never silently falls back to a template diff', async () => {
    const lib = await toolkitLib();
    expect(diffMethod('template', lib).method).toBe('template-only');
    const changeSet = diffMethod('change-set', lib);
    expect(changeSet.method).toBe('change-set');
    expect(changeSet.options).toEqual({ fallbackToTemplate: false });
  });

  it('passes BootstrapVersion explicitly for direct deployments only', async () => {
    const lib = await toolkitLib();
    const VERSION_PARAMETER = `/cdk-bootstrap/${FIRST.bootstrapQualifier}/version`;
    const stacks = [
      {
        stackName: NETWORK,
        template: { Parameters: { BootstrapVersion: { Default: VERSION_PARAMETER } } },
      },
    ] as unknown as SelectedStack[];
    expect(deployOptions(stacks, 'change-set', lib)).toEqual({ deploymentMethod: { method: 'change-set' } });
    const direct = deployOptions(stacks, 'direct', lib);
    expect(direct.deploymentMethod).toEqual({ method: 'direct' });
    expect([...direct.parameters!.parameters]).toEqual([['BootstrapVersion', VERSION_PARAMETER]]);
    expect(direct.parameters!.keepExistingParameters).toBe(true);
  });
});

describe('ActionIoHost', () => {
  const activity = (status: string, logicalId: string, reason = '') => ({
    time: new Date(),
    level: 'info' as const,
    action: 'deploy' as const,
    code: 'CDK_TOOLKIT_I5502' as const,
    message: '',
    data: {
      event: {
        StackName: SERVICE,
        LogicalResourceId: logicalId,
        ResourceType: 'AWS::ECS::Service',
        ResourceStatus: status,
        ResourceStatusReason: reason,
      },
      metadata: { constructPath: `${SERVICE}/${logicalId}` },
    },
  });

  it('logs a progress line per event and names the root failure, not the cancellations', async () => {
    const logger = new RecordingLogger();
    const io = new ActionIoHost(logger);
    await io.notify(activity('CREATE_IN_PROGRESS', 'Service'));
    await io.notify(activity('CREATE_FAILED', 'Other', 'Resource creation cancelled'));
    await io.notify(activity('CREATE_FAILED', 'Service', 'Invalid request provided: subnet not found'));
    expect(logger.messages('info')[0]).toBe(
      `${SERVICE} CREATE_IN_PROGRESS AWS::ECS::Service Service (${SERVICE}/Service)`,
    );
    expect(io.rootFailure()).toEqual(
      expect.objectContaining({
        logicalId: 'Service',
        reason: 'Invalid request provided: subnet not found',
        path: `${SERVICE}/Service`,
      }),
    );
  });

  it('approves security-sensitive changes only after the review gate did, and answers other requests with their default', async () => {
    const logger = new RecordingLogger();
    const io = new ActionIoHost(logger);
    const base = { time: new Date(), level: 'info' as const, action: 'deploy' as const, message: 'q', data: {} };
    const confirm = () => io.requestResponse({ ...base, code: 'CDK_TOOLKIT_I5060', defaultResponse: true });
    await expect(confirm()).resolves.toBe(false);
    expect(logger.messages('warning')).toEqual([
      'Security-sensitive changes refused: the review gate did not approve this deploy.',
    ]);
    io.approve('approved by the review gate (reviewed on #42).');
    await expect(confirm()).resolves.toBe(true);
    expect(logger.messages('info')).toContain(
      'Deploying security-sensitive changes: approved by the review gate (reviewed on #42).',
    );
    await expect(io.requestResponse({ ...base, code: 'CDK_TOOLKIT_I5061', defaultResponse: 'no' })).resolves.toBe('no');
  });
});

describe('cost estimate', () => {
  const task = (cpu: string, memory: string, arch = 'ARM64') => ({
    Type: 'AWS::ECS::TaskDefinition',
    Properties: { Cpu: cpu, Memory: memory, RuntimePlatform: { CpuArchitecture: arch } },
  });
  const service = { Type: 'AWS::ECS::Service', Properties: { DesiredCount: 2, TaskDefinition: { Ref: 'Task' } } };

  it('prices Fargate by size, architecture and count; endpoints by AZ; lists unknown types', () => {
    const estimate = estimateCost({
      s: {
        Task: task('1024', '2048', 'X86_64'),
        Service: service,
        Endpoint: {
          Type: 'AWS::EC2::VPCEndpoint',
          Properties: { VpcEndpointType: 'Interface', SubnetIds: ['a', 'b'] },
        },
        Gateway: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Gateway' } },
        Logs: { Type: 'AWS::Logs::LogGroup' },
        Db: { Type: 'AWS::RDS::DBInstance' },
      },
    });
    // 2 × (1 × 0.05056 + 2 × 0.00553) × 730 = 89.97; 2 × 730 × 0.014 = 20.44
    expect(estimate.items.map((i) => [i.logicalId, i.monthly])).toEqual([
      ['Service', 89.97],
      ['Endpoint', 20.44],
    ]);
    expect(estimate.total).toBe(110.41);
    expect(estimate.usageBased).toEqual(['AWS::Logs::LogGroup']);
    expect(estimate.notPriced).toEqual(['AWS::RDS::DBInstance']);
  });

  it('prices the endpoints and the service that sleep outside their schedule for the awake hours only', () => {
    const schedule: Schedule = {
      days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
      start: '08:00',
      end: '18:00',
      timeZone: 'Asia/Tokyo',
    };
    const sleeping = { Metadata: { [SCHEDULE_METADATA_KEY]: scheduleMetadata(schedule) } };
    const estimate = estimateCost({
      s: {
        Task: task('256', '512', 'X86_64'),
        // The sleep switch: the configured count while awake (the Awake parameter's default), 0 asleep.
        Service: {
          ...sleeping,
          Type: 'AWS::ECS::Service',
          Properties: {
            DesiredCount: { 'Fn::If': ['IsAwake', 1, 0] },
            TaskDefinition: { Ref: 'Task' },
            CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }],
          },
        },
        Endpoint: {
          ...sleeping,
          Type: 'AWS::EC2::VPCEndpoint',
          Condition: 'IsAwake',
          Properties: { VpcEndpointType: 'Interface', SubnetIds: ['a'] },
        },
        AlwaysOn: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Interface', SubnetIds: ['a'] } },
        Key: { ...sleeping, Type: 'AWS::KMS::Key' },
      },
    });
    // 50 h a week × 730 / 168 = 217.26 h; 1 × 217.26 × 0.014 = 3.04; (0.25 × 0.05056 + 0.5 × 0.00553) × 0.3 × 217.26 = 1.00
    expect(estimate.items.map((i) => [i.logicalId, i.monthly, i.basis])).toEqual([
      ['Service', 1, '1 task × 0.25 vCPU/0.5 GB x86_64 Spot × 217.26 h awake (Mon–Fri 08:00–18:00 Asia/Tokyo)'],
      ['Endpoint', 3.04, '1 AZ × 217.26 h awake (Mon–Fri 08:00–18:00 Asia/Tokyo) × 0.014'],
      ['AlwaysOn', 10.22, '1 AZ × 730 h × 0.014'],
      ['Key', 1, '1 key-month'],
    ]);
    // A schedule that is not one is priced as always on (never under-estimated).
    const broken = estimateCost({
      s: {
        Endpoint: {
          Type: 'AWS::EC2::VPCEndpoint',
          Metadata: { [SCHEDULE_METADATA_KEY]: { ...schedule, end: '07:00' } },
          Properties: { VpcEndpointType: 'Interface', SubnetIds: ['a'] },
        },
      },
    });
    expect(broken.items.map((i) => i.monthly)).toEqual([10.22]);
  });

  it('compares before and after', () => {
    const change = compareCost(
      { s: { Task: task('256', '512'), Service: service } },
      { s: { Task: task('512', '1024'), Service: service } },
    );
    expect(change.delta).toBeCloseTo(change.after.total - change.before.total, 2);
    expect(change.changed).toEqual([expect.objectContaining({ logicalId: 'Service', before: 17.99, after: 35.98 })]);
  });
});

describe('cdk-nag findings from the assembly', () => {
  it('reads the validation report aws-cdk-lib writes even when synth fails on a finding', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'nag-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, `${ENV}-bad`);
      new s3.CfnBucket(stack, 'Bucket');
      enforceNag(app);
      expect(() => app.synth()).toThrow();
      const report = readNagReport(outdir);
      const rules = blockingFindings(report.findings).map((finding) => [finding.rule, finding.path]);
      expect(rules).toEqual(
        expect.arrayContaining([[expect.stringContaining('AwsSolutions-S1'), `${ENV}-bad/Bucket`]]),
      );
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('reads no findings when no validation plugin ran', () => {
    expect(readNagReport(tmpdir())).toEqual({ findings: [], acknowledged: 0 });
  });
});
