import {
  CloudFormationClient,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { resourceNames } from '../../../infra/lib/names.js';
import { PROJECT } from '../../../infra/lib/project.js';
import { FIRST } from '../../../infra/test/helpers/app.js';
import { runAction, type ActionRun } from '../../../test/helpers/action-runner.js';
import { motoClientConfig } from '../../../test/helpers/moto.js';
import { AWAKE_PARAMETER } from '../src/sleep.js';
import { BootstrappedEnvironment } from './helpers/bootstrapped-environment.js';

/**
 * Sleep and wake of the bundled cdk action (sleep.yml) against the local AWS behind the IAM gate:
 * the Awake parameter flipped with the deployed template, as the bootstrap deploy role; asleep, no
 * interface endpoint and no task wanted; a deploy while asleep keeps it asleep; awake again, both.
 */
const ENV = FIRST.name;
const NAMES = resourceNames(FIRST);
const REPOSITORY = `${PROJECT.github.owner}/${PROJECT.github.repo}`;

describe('sleep and wake (bundled cdk action, local AWS behind the IAM gate)', () => {
  let world: BootstrappedEnvironment;

  const env = () => world.env();

  const action = (inputs: Record<string, string>): Promise<ActionRun> =>
    runAction('cdk', {
      inputs: { environment: ENV, ...inputs },
      env: env(),
      github: { repository: REPOSITORY, eventName: 'schedule' },
      timeoutMs: 170_000,
    });

  const deploy = (assembly: string): Promise<ActionRun> =>
    action({ command: 'deploy', 'assembly-dir': assembly, 'deployment-method': 'direct', 'review-gate': 'off' });

  /** What runs: interface endpoints of the environment's VPC, the service's desired count, the parameters and templates. */
  async function shape() {
    // Through the gate, as the deploy sees it (GetTemplate answers with the template as sent).
    const cloudformation = new CloudFormationClient({
      endpoint: world.gate.endpoint,
      region: world.aws.region,
      credentials: world.admin,
    });
    const ec2 = new EC2Client(motoClientConfig(world.aws));
    const ecs = new ECSClient(motoClientConfig(world.aws));
    const { VpcEndpoints = [] } = await ec2.send(new DescribeVpcEndpointsCommand({}));
    const { services = [] } = await ecs.send(
      new DescribeServicesCommand({ cluster: NAMES.cluster, services: [NAMES.service] }),
    );
    const stacks = await Promise.all(
      [NAMES.networkStack, NAMES.serviceStack].map(async (StackName) => {
        const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName }));
        const { TemplateBody } = await cloudformation.send(new GetTemplateCommand({ StackName }));
        const awake = Stacks?.[0]?.Parameters?.find((p) => p.ParameterKey === AWAKE_PARAMETER)?.ParameterValue;
        return { awake, template: TemplateBody };
      }),
    );
    return {
      interfaceEndpoints: VpcEndpoints.filter(
        (e) => e.VpcEndpointType === 'Interface' && e.State?.toLowerCase() !== 'deleted',
      ).length,
      desiredCount: services[0]?.desiredCount,
      awake: stacks.map((s) => s.awake),
      templates: stacks.map((s) => s.template),
    };
  }

  beforeAll(async () => {
    world = await BootstrappedEnvironment.start(ENV);
    const deployed = await deploy(world.base);
    expect([deployed.exitCode, deployed.errors]).toEqual([0, []]);
  }, 300_000);

  afterAll(async () => {
    await world?.stop();
  });

  it('puts the environment to sleep with the deployed template: no interface endpoint, no task wanted', async () => {
    const before = await shape();
    expect(before.awake).toEqual(['true', 'true']);
    expect(before.interfaceEndpoints).toBeGreaterThan(0);
    expect(before.desiredCount).toBe(FIRST.task.desiredCount);

    const run = await action({ command: 'sleep' });
    expect([run.exitCode, run.errors]).toEqual([0, []]);
    expect(run.outputs).toMatchObject({ state: 'asleep', changed: 'true' });
    // The service first, then the network.
    expect(run.summary.indexOf(NAMES.serviceStack)).toBeLessThan(run.summary.indexOf(NAMES.networkStack));
    const after = await shape();
    expect(after).toMatchObject({ awake: ['false', 'false'], interfaceEndpoints: 0, desiredCount: 0 });
    expect(after.templates).toEqual(before.templates); // the same template: only the parameter changed
    expect(world.gate.refusals).toEqual([]);

    const again = await action({ command: 'sleep' });
    expect(again.outputs).toMatchObject({ state: 'asleep', changed: 'false' });
    expect(again.summary).toContain('already asleep');
  }, 300_000);

  it('keeps a sleeping environment asleep through a deploy', async () => {
    const changed = world.synth('changed', { logRetentionDays: FIRST.logRetentionDays === 90 ? 60 : 90 });
    const run = await deploy(changed);
    expect([run.exitCode, run.errors]).toEqual([0, []]);
    expect(await shape()).toMatchObject({ awake: ['false', 'false'], interfaceEndpoints: 0, desiredCount: 0 });
  }, 300_000);

  it('wakes it as its schedule wants (none: always awake), the network first', async () => {
    const asleep = new CloudFormationClient(motoClientConfig(world.aws));
    const before = {
      endpointResources: (
        (await asleep.send(new ListStackResourcesCommand({ StackName: NAMES.networkStack }))).StackResourceSummaries ??
        []
      ).filter((r) => r.ResourceType === 'AWS::EC2::VPCEndpoint').length,
    };
    const run = await action({ command: 'schedule', schedule: 'null' });
    expect([run.exitCode, run.errors]).toEqual([0, []]);
    expect(run.outputs).toMatchObject({ state: 'awake', changed: 'true' });
    expect(run.summary.indexOf(NAMES.networkStack)).toBeLessThan(run.summary.indexOf(NAMES.serviceStack));
    const after = await shape();
    expect(after).toMatchObject({ awake: ['true', 'true'], desiredCount: FIRST.task.desiredCount });
    // The stack holds its interface endpoints again. (moto 5 re-adds a removed resource from a
    // stale record of it instead of creating it, so EC2 here does not show them again; the
    // asleep test above shows them gone from EC2.)
    const cloudformation = new CloudFormationClient(motoClientConfig(world.aws));
    const { StackResourceSummaries = [] } = await cloudformation.send(
      new ListStackResourcesCommand({ StackName: NAMES.networkStack }),
    );
    expect(StackResourceSummaries.filter((r) => r.ResourceType === 'AWS::EC2::VPCEndpoint').length).toBeGreaterThan(
      before.endpointResources,
    );
    expect(world.gate.refusals).toEqual([]);
  }, 300_000);

  it('refuses a malformed schedule, naming what was expected', async () => {
    const run = await action({ command: 'schedule', schedule: '{"days":["Mon"],"start":"25:00"}' });
    expect(run.exitCode).toBe(1);
    expect(run.errors.join('\n')).toContain("Input 'schedule' is not a valid schedule");
  }, 60_000);
});
