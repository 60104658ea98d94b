import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client, ModifyVpcAttributeCommand } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { DoctorDeps } from '../../actions/shared/src/doctor/index.js';
import { environment, synthesize } from '../../infra/test/helpers/app.js';
import { createStack, deployOidcStack } from './local-stacks.js';
import { motoClientConfig, startMoto, type LocalAws } from './moto.js';
import { SsmEmulator } from './ssm-emulator/emulator.js';
import { healthyScenario, type Scenario } from './ssm-emulator/scenario.js';

/** The physical ids of the real dev stacks in moto that an emulated task refers to. */
export interface DevIds {
  readonly vpcId: string;
  readonly subnets: string[];
  readonly taskSecurityGroup: string;
  readonly endpointSecurityGroup: string;
  readonly taskRoleArn: string;
  readonly execLogGroup: string;
}

/**
 * The doctor's local AWS: the real dev network and service stacks deployed into moto (VPC,
 * subnets, endpoints, security groups, task role and its policy, log groups: IAM/EC2/STS/Logs),
 * and the SSM/ECS emulator for the runtime view moto lacks, its scenario pointing at those ids.
 */
export interface DoctorWorld {
  readonly aws: LocalAws;
  readonly emulator: SsmEmulator;
  readonly ids: DevIds;
  /** A fresh healthy scenario for the deployed dev service (mutate it to break one thing). */
  healthy(): Scenario;
  /** Clients pointed at moto (IAM, EC2, STS, Logs) and the emulator (ECS). */
  deps(): DoctorDeps;
  /** Environment for a child process: moto for everything, the emulator for ECS and SSM. */
  env(): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startDoctorWorld(): Promise<DoctorWorld> {
  const aws = await startMoto();
  let emulator: SsmEmulator | undefined;
  try {
    // The OIDC stack holds the permissions boundary every workload role carries.
    await deployOidcStack(aws, 'dev');
    const stacks = synthesize(environment('dev', {}, aws.account));
    const network = await createStack(aws, 'dev-network', stacks.network.toJSON());
    const service = await createStack(aws, 'dev-service', stacks.service.toJSON());
    const { StackResources = [] } = await new CloudFormationClient(motoClientConfig(aws)).send(
      new DescribeStackResourcesCommand({ StackName: 'dev-service' }),
    );
    const physical = (type: string, prefix: string): string => {
      const resource = StackResources.find((r) => r.ResourceType === type && r.LogicalResourceId?.startsWith(prefix));
      if (!resource?.PhysicalResourceId) throw new Error(`dev-service has no ${type} ${prefix}*`);
      return resource.PhysicalResourceId;
    };
    const ids: DevIds = {
      vpcId: network.VpcId!,
      subnets: Object.entries(network)
        .filter(([key]) => /Subnet\d?Subnet/.test(key))
        .map(([, value]) => value),
      endpointSecurityGroup: network.EndpointSecurityGroupId!,
      taskSecurityGroup: physical('AWS::EC2::SecurityGroup', 'NginxSecurityGroup'),
      taskRoleArn: `arn:aws:iam::${aws.account}:role/${physical('AWS::IAM::Role', 'NginxTaskDefinitionTaskRole')}`,
      execLogGroup: service.ExecLogGroupName!,
    };
    if (ids.subnets.length !== 2) throw new Error(`expected 2 subnets in ${JSON.stringify(network)}`);
    // moto's CloudFormation ignores the template's EnableDnsHostnames: true (the template tests assert it).
    await new EC2Client(motoClientConfig(aws)).send(
      new ModifyVpcAttributeCommand({ VpcId: ids.vpcId, EnableDnsHostnames: { Value: true } }),
    );

    const healthy = (): Scenario => {
      const scenario = healthyScenario({
        target: { host: '127.0.0.1', port: 9 },
        region: aws.region,
        account: aws.account,
        taskRoleArn: ids.taskRoleArn,
      });
      const cluster = scenario.clusters[0]!;
      cluster.execLogging = { logging: 'OVERRIDE', cloudWatchLogGroupName: ids.execLogGroup };
      const dev = cluster.services[0]!;
      dev.subnets = [...ids.subnets];
      dev.securityGroups = [ids.taskSecurityGroup];
      return scenario;
    };
    emulator = await new SsmEmulator(healthy()).start();
    const started = emulator;
    const config = motoClientConfig(aws);
    return {
      aws,
      emulator: started,
      ids,
      healthy,
      deps: () => ({
        ecs: new ECSClient({ ...config, endpoint: started.endpoint }),
        ec2: new EC2Client(config),
        iam: new IAMClient(config),
        sts: new STSClient(config),
        logs: new CloudWatchLogsClient(config),
      }),
      env: () => aws.env(started.env()),
      async stop() {
        await started.stop();
        await aws.stop();
      },
    };
  } catch (error) {
    await emulator?.stop();
    await aws.stop();
    throw error;
  }
}
