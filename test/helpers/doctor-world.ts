import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client, ModifyVpcAttributeCommand } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { DoctorDeps } from '../../actions/shared/src/doctor/index.js';
import type { EnvironmentConfig } from '../../infra/lib/config.js';
import { resourceNames, type ResourceNames } from '../../infra/lib/names.js';
import { environment, FIRST, partitionOf, synthesize } from '../../infra/test/helpers/app.js';
import { createStack, deployFoundation } from './local-stacks.js';
import { motoClientConfig, startMoto, type LocalAws } from './moto.js';
import { SsmEmulator } from './ssm-emulator/emulator.js';
import { healthyScenario, type Scenario } from './ssm-emulator/scenario.js';

/** The physical ids of the environment's real stacks in moto that an emulated task refers to. */
export interface EnvironmentIds {
  readonly vpcId: string;
  readonly subnets: string[];
  readonly taskSecurityGroup: string;
  readonly endpointSecurityGroup: string;
  readonly taskRoleArn: string;
  readonly execLogGroup: string;
}

/**
 * The doctor's local AWS: a configured environment's real foundation, network and service stacks
 * deployed into moto (VPC, subnets, endpoints, security groups, task role and its policy and
 * boundary, log groups: IAM/EC2/STS/Logs), and the SSM/ECS emulator for the runtime view moto
 * lacks, its scenario pointing at those ids.
 */
export interface DoctorWorld {
  readonly aws: LocalAws;
  readonly emulator: SsmEmulator;
  /** The environment deployed (in moto's account and region). */
  readonly config: EnvironmentConfig;
  /** Its stack, cluster, service, container, role and policy names. */
  readonly names: ResourceNames;
  readonly ids: EnvironmentIds;
  /** A fresh healthy scenario for the deployed service (mutate it to break one thing). */
  healthy(): Scenario;
  /** Clients pointed at moto (IAM, EC2, STS, Logs) and the emulator (ECS). */
  deps(): DoctorDeps;
  /** Environment for a child process: moto for everything, the emulator for ECS and SSM. */
  env(): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Starts the world for a configured environment (the first by default). */
export async function startDoctorWorld(envName: string = FIRST.name): Promise<DoctorWorld> {
  const aws = await startMoto();
  let emulator: SsmEmulator | undefined;
  try {
    // The foundation holds the permissions boundary every workload role carries.
    await deployFoundation(aws, envName);
    const config = environment(envName, { account: aws.account, region: aws.region });
    const names = resourceNames(config);
    const stacks = synthesize(config);
    const network = await createStack(aws, names.networkStack, stacks.network.toJSON());
    const service = await createStack(aws, names.serviceStack, stacks.service.toJSON());
    const { StackResources = [] } = await new CloudFormationClient(motoClientConfig(aws)).send(
      new DescribeStackResourcesCommand({ StackName: names.serviceStack }),
    );
    const physical = (type: string, prefix: string): string => {
      const resource = StackResources.find((r) => r.ResourceType === type && r.LogicalResourceId?.startsWith(prefix));
      if (!resource?.PhysicalResourceId) throw new Error(`${names.serviceStack} has no ${type} ${prefix}*`);
      return resource.PhysicalResourceId;
    };
    const ids: EnvironmentIds = {
      vpcId: network.VpcId!,
      subnets: Object.entries(network)
        .filter(([key]) => /Subnet\d?Subnet/.test(key))
        .map(([, value]) => value),
      endpointSecurityGroup: network.EndpointSecurityGroupId!,
      taskSecurityGroup: physical('AWS::EC2::SecurityGroup', 'NginxSecurityGroup'),
      taskRoleArn: `arn:${partitionOf(aws.region)}:iam::${aws.account}:role/${physical('AWS::IAM::Role', 'NginxTaskDefinitionTaskRole')}`,
      execLogGroup: service.ExecLogGroupName!,
    };
    if (ids.subnets.length !== config.azCount)
      throw new Error(`expected ${config.azCount} subnets in ${JSON.stringify(network)}`);
    // moto's CloudFormation ignores the template's EnableDnsHostnames: true (the template tests assert it).
    await new EC2Client(motoClientConfig(aws)).send(
      new ModifyVpcAttributeCommand({ VpcId: ids.vpcId, EnableDnsHostnames: { Value: true } }),
    );

    const healthy = (): Scenario => {
      const scenario = healthyScenario({
        target: { host: '127.0.0.1', port: 9 },
        region: aws.region,
        account: aws.account,
        cluster: names.cluster,
        service: names.service,
        container: names.container,
        taskRoleArn: ids.taskRoleArn,
      });
      const cluster = scenario.clusters[0]!;
      cluster.execLogging = { logging: 'OVERRIDE', cloudWatchLogGroupName: ids.execLogGroup };
      const deployed = cluster.services[0]!;
      deployed.subnets = [...ids.subnets];
      deployed.securityGroups = [ids.taskSecurityGroup];
      return scenario;
    };
    emulator = await new SsmEmulator(healthy()).start();
    const started = emulator;
    const clients = motoClientConfig(aws);
    return {
      aws,
      emulator: started,
      config,
      names,
      ids,
      healthy,
      deps: () => ({
        ecs: new ECSClient({ ...clients, endpoint: started.endpoint }),
        ec2: new EC2Client(clients),
        iam: new IAMClient(clients),
        sts: new STSClient(clients),
        logs: new CloudWatchLogsClient(clients),
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
