import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
} from '@aws-sdk/client-ec2';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { failed, formatFindings, runDoctor, type DoctorFinding } from '../../src/doctor/index.js';
import { UserInputError } from '../../src/errors.js';
import { FIRST } from '../../../../infra/test/helpers/app.js';
import { motoClientConfig } from '../../../../test/helpers/moto.js';
import { startDoctorWorld, type DoctorWorld } from '../../../../test/helpers/doctor-world.js';
import type { EmulatedService, Scenario } from '../../../../test/helpers/ssm-emulator/scenario.js';

/**
 * The doctor against the first configured environment's real stacks in moto (IAM, EC2, STS, Logs)
 * and the emulator (ECS), each scenario breaking one thing the way it breaks in AWS.
 */
describe('runDoctor against the stacks of the first configured environment (moto) and the ECS emulator', () => {
  let world: DoctorWorld;
  let ec2: EC2Client;

  beforeAll(async () => {
    world = await startDoctorWorld();
    ec2 = new EC2Client(motoClientConfig(world.aws));
  }, 120_000);
  afterAll(async () => world?.stop());

  const target = (): { cluster: string; service: string; container: string; region: string } => ({
    cluster: world.names.cluster,
    service: world.names.service,
    container: world.names.container,
    region: world.aws.region,
  });
  /** `aws ecs update-service` of the deployed service, as the fixes print it. */
  const updateService = (): string =>
    `aws ecs update-service --cluster ${world.names.cluster} --service ${world.names.service}`;
  const ssmmessages = (): string => `com.amazonaws.${world.aws.region}.ssmmessages`;
  const serviceOf = (scenario: Scenario): EmulatedService => scenario.clusters[0]!.services[0]!;
  /** Runs the doctor on a healthy scenario changed by `breakIt`. */
  const doctor = async (breakIt: (scenario: Scenario) => void = () => {}): Promise<DoctorFinding[]> => {
    const scenario = world.healthy();
    breakIt(scenario);
    world.emulator.scenario = scenario;
    return runDoctor(world.deps(), target());
  };
  const finding = (findings: DoctorFinding[], check: string): DoctorFinding => {
    const found = findings.find((f) => f.check === check);
    if (!found) throw new Error(`no ${check} finding in\n${formatFindings(findings)}`);
    return found;
  };
  /** Exactly one failing check, and it is `check`. */
  const onlyFailure = (findings: DoctorFinding[], check: string): DoctorFinding => {
    expect(failed(findings).map((f) => f.check)).toEqual([check]);
    return finding(findings, check);
  };

  /** A VPC of our own with one subnet, DNS on: for the endpoint scenarios. */
  async function isolatedVpc(cidr: string): Promise<{ vpcId: string; subnetId: string; groupId: string }> {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }));
    const vpcId = Vpc!.VpcId!;
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
    const { Subnet } = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr.replace(/\.0\.0\/16$/, '.1.0/24') }),
    );
    const { GroupId } = await ec2.send(
      new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: `task-${vpcId}`, Description: 'task' }),
    );
    return { vpcId, subnetId: Subnet!.SubnetId!, groupId: GroupId! };
  }

  it('plays the first configured environment', () => {
    expect([world.config.name, world.aws.account, world.aws.region]).toEqual([FIRST.name, FIRST.account, FIRST.region]);
  });

  it('healthy: every check is ok, and the caller simulation (not in moto) is skipped with the reason', async () => {
    const findings = await doctor();
    expect(findings.map((f) => [f.check, f.status])).toEqual([
      ['task', 'ok'],
      ['service-exec', 'ok'],
      ['task-exec', 'ok'],
      ['platform-version', 'ok'],
      ['agent', 'ok'],
      ['task-role', 'ok'],
      ['readonly-root', 'ok'],
      ['aws-key-env', 'ok'],
      ['ssmmessages-endpoint', 'ok'],
      ['endpoint-security-group', 'ok'],
      ['caller-start-session', 'skip'],
      ['exec-logging', 'ok'],
    ]);
    expect(finding(findings, 'caller-start-session').message).toMatch(
      new RegExp(
        `^not checked: iam:SimulatePrincipalPolicy for arn:aws:iam::${world.aws.account}:user/moto could not run: the IAM endpoint does not implement it`,
      ),
    );
    expect(finding(findings, 'task-role').message).toContain(`(boundary ${world.names.permissionsBoundary} too)`);
    expect(finding(findings, 'exec-logging').message).toContain(`${world.ids.execLogGroup}, which exists`);
    expect(failed(findings)).toEqual([]);
  });

  it('exec off on the service (and so on its task)', async () => {
    const findings = await doctor((s) => {
      const service = serviceOf(s);
      service.enableExecuteCommand = false;
      service.tasks[0]!.enableExecuteCommand = false;
      service.tasks[0]!.containers[0]!.agentStatus = undefined;
    });
    expect(failed(findings).map((f) => f.check)).toEqual(['service-exec', 'task-exec', 'agent']);
    expect(finding(findings, 'service-exec')).toMatchObject({
      message: expect.stringContaining(`ECS Exec is off on service ${world.names.service}`),
      fix: expect.stringContaining(
        `${updateService()} --enable-execute-command --force-new-deployment --region ${world.aws.region}`,
      ),
    });
    expect(finding(findings, 'service-exec').fix).toContain(
      'enableExecuteCommand: true on the FargateService in infra/lib/constructs/nginx-service.ts',
    );
  });

  it('exec off on the task only: the service was updated but the task not replaced', async () => {
    const findings = await doctor((s) => {
      const task = serviceOf(s).tasks[0]!;
      task.enableExecuteCommand = false;
      task.containers[0]!.agentStatus = undefined;
    });
    expect(failed(findings).map((f) => f.check)).toEqual(['task-exec', 'agent']);
    expect(finding(findings, 'task-exec')).toMatchObject({
      message: expect.stringContaining('the service was updated but the task not replaced'),
      fix: `Replace the task: ${updateService()} --force-new-deployment --region ${world.aws.region}`,
    });
  });

  it('Fargate platform 1.3.0', async () => {
    const findings = await doctor((s) => {
      serviceOf(s).platformVersion = '1.3.0';
      serviceOf(s).tasks[0]!.platformVersion = '1.3.0';
    });
    expect(onlyFailure(findings, 'platform-version')).toMatchObject({
      message: 'Fargate platform 1.3.0 is too old for ECS Exec (needs 1.4.0 or later).',
      fix: expect.stringContaining('--platform-version 1.4.0 --force-new-deployment'),
    });
  });

  it('a task role without the ssmmessages actions', async () => {
    const iam = new IAMClient(motoClientConfig(world.aws));
    const { Role } = await iam.send(
      new CreateRoleCommand({
        RoleName: 'doctor-task-role-without-exec',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'doctor-task-role-without-exec',
        PolicyName: 'logs-only',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['logs:PutLogEvents', 'ssmmessages:CreateControlChannel'], Resource: '*' },
          ],
        }),
      }),
    );
    const findings = await doctor((s) => (serviceOf(s).taskRoleArn = Role!.Arn!));
    expect(onlyFailure(findings, 'task-role')).toMatchObject({
      message:
        'task role doctor-task-role-without-exec does not allow ssmmessages:CreateDataChannel, ssmmessages:OpenControlChannel, ssmmessages:OpenDataChannel: the agent cannot open its channels (TargetNotConnected).',
      fix: expect.stringContaining(
        'aws iam put-role-policy --role-name doctor-task-role-without-exec --policy-name ecs-exec-ssmmessages --policy-document',
      ),
    });
  });

  it('no task role at all', async () => {
    const findings = await doctor((s) => delete serviceOf(s).taskRoleArn);
    expect(onlyFailure(findings, 'task-role').message).toContain('the task definition has no task role');
  });

  it.each([
    [
      'PENDING',
      /is PENDING: it is still starting, or cannot reach ssmmessages/,
      /^Wait a minute and run the doctor again/,
    ],
    ['STOPPED', /is STOPPED: it could not start/, /read-only root filesystem.*--force-new-deployment/s],
  ] as const)('agent %s', async (status, message, fix) => {
    const findings = await doctor((s) => (serviceOf(s).tasks[0]!.containers[0]!.agentStatus = status));
    const agent = onlyFailure(findings, 'agent');
    expect(agent.message).toMatch(message);
    expect(agent.fix).toMatch(fix);
  });

  it('agent absent while exec is on (a task started before exec was enabled, then flagged)', async () => {
    const findings = await doctor((s) => (serviceOf(s).tasks[0]!.containers[0]!.agentStatus = undefined));
    expect(onlyFailure(findings, 'agent')).toMatchObject({
      message: expect.stringContaining('has no ExecuteCommandAgent'),
      fix: expect.stringContaining('--enable-execute-command --force-new-deployment'),
    });
  });

  it('no ssmmessages endpoint in the task VPC', async () => {
    const vpc = await isolatedVpc('10.99.0.0/16');
    const findings = await doctor((s) => {
      serviceOf(s).subnets = [vpc.subnetId];
      serviceOf(s).securityGroups = [vpc.groupId];
    });
    expect(failed(findings).map((f) => f.check)).toEqual(['ssmmessages-endpoint']);
    expect(finding(findings, 'ssmmessages-endpoint')).toMatchObject({
      message: `no ${ssmmessages()} interface endpoint in ${vpc.vpcId}: in a VPC without a NAT route the agent cannot reach SSM (TargetNotConnected).`,
      fix: expect.stringContaining(
        `aws ec2 create-vpc-endpoint --vpc-id ${vpc.vpcId} --vpc-endpoint-type Interface --service-name ${ssmmessages()} --subnet-ids ${vpc.subnetId}`,
      ),
    });
    expect(finding(findings, 'endpoint-security-group').status).toBe('skip');
  });

  it("an endpoint whose security group does not accept 443 from the task's subnet", async () => {
    const vpc = await isolatedVpc('10.98.0.0/16');
    const { GroupId } = await ec2.send(
      new CreateSecurityGroupCommand({ VpcId: vpc.vpcId, GroupName: 'endpoint-elsewhere', Description: 'endpoint' }),
    );
    // 443 only from a range that is not the task's subnet (10.98.1.0/24).
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId,
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        CidrIp: '10.98.200.0/24',
      }),
    );
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: vpc.vpcId,
        VpcEndpointType: 'Interface',
        ServiceName: ssmmessages(),
        SubnetIds: [vpc.subnetId],
        SecurityGroupIds: [GroupId!],
        PrivateDnsEnabled: true,
      }),
    );
    const findings = await doctor((s) => {
      serviceOf(s).subnets = [vpc.subnetId];
      serviceOf(s).securityGroups = [vpc.groupId];
    });
    expect(onlyFailure(findings, 'endpoint-security-group')).toMatchObject({
      message: expect.stringContaining(`do not accept TCP 443 from the task's subnet ${vpc.subnetId} (10.98.1.0/24)`),
      fix: expect.stringContaining(
        `aws ec2 authorize-security-group-ingress --group-id ${GroupId} --protocol tcp --port 443 --cidr 10.98.1.0/24`,
      ),
    });
  });

  it('private DNS names need the VPC DNS attributes', async () => {
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: world.ids.vpcId, EnableDnsHostnames: { Value: false } }));
    try {
      const findings = await doctor();
      expect(onlyFailure(findings, 'ssmmessages-endpoint')).toMatchObject({
        message: `${world.ids.vpcId} has enableDnsHostnames off: private DNS names of endpoints need both.`,
        fix: expect.stringContaining(`aws ec2 modify-vpc-attribute --vpc-id ${world.ids.vpcId} --enable-dns-hostnames`),
      });
    } finally {
      await ec2.send(new ModifyVpcAttributeCommand({ VpcId: world.ids.vpcId, EnableDnsHostnames: { Value: true } }));
    }
  });

  it('a read-only root filesystem', async () => {
    const findings = await doctor((s) => (serviceOf(s).tasks[0]!.containers[0]!.readonlyRootFilesystem = true));
    expect(onlyFailure(findings, 'readonly-root')).toMatchObject({
      message: expect.stringContaining('readonlyRootFilesystem: true'),
      fix: expect.stringContaining(
        'readonlyRootFilesystem: false in addContainer of infra/lib/constructs/nginx-service.ts',
      ),
    });
  });

  it('AWS_ACCESS_KEY_ID in the container environment (and a secret key from Secrets Manager)', async () => {
    const findings = await doctor((s) => {
      const container = serviceOf(s).tasks[0]!.containers[0]!;
      container.environment = ['NGINX_PORT', 'AWS_ACCESS_KEY_ID'];
      container.secrets = ['AWS_SECRET_ACCESS_KEY'];
    });
    expect(onlyFailure(findings, 'aws-key-env')).toMatchObject({
      message: expect.stringContaining('sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY'),
      fix: expect.stringContaining('Remove AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY'),
    });
  });

  it('exec logging to a log group that does not exist is a warning, not a failure', async () => {
    const findings = await doctor(
      (s) => (s.clusters[0]!.execLogging = { logging: 'OVERRIDE', cloudWatchLogGroupName: 'exec-log-group-gone' }),
    );
    expect(failed(findings)).toEqual([]);
    expect(finding(findings, 'exec-logging')).toMatchObject({
      status: 'warn',
      fix: `aws logs create-log-group --log-group-name exec-log-group-gone --region ${world.aws.region} (or redeploy the service stack, which owns it)`,
    });
  });

  it('no running task: one failure, and the checks that need a task are skipped', async () => {
    const findings = await doctor((s) => serviceOf(s).tasks.splice(0));
    expect(finding(findings, 'task')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('no RUNNING task'),
    });
    expect(finding(findings, 'agent').status).toBe('skip');
    expect(finding(findings, 'task-exec').status).toBe('skip');
  });

  it('examines the task it is given, and rejects a malformed one', async () => {
    const findings = await runDoctor(world.deps(), { ...target(), taskId: 'ffffffffffffffffffffffffffffffff' });
    expect(finding(findings, 'task')).toMatchObject({ status: 'fail', message: expect.stringContaining('not found') });
    await expect(runDoctor(world.deps(), { ...target(), taskId: 'nope' })).rejects.toThrow(UserInputError);
  });
});
