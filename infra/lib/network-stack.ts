import { CfnCondition, CfnOutput, CfnParameter, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from './config.js';
import { PrivateNetwork, retentionDays } from './constructs/private-network.js';
import { bootstrapNames, resourceNames } from './names.js';
import { applyPermissionsBoundary } from './permissions-boundary.js';
import {
  AWAKE_CONDITION,
  AWAKE_PARAMETER,
  SCHEDULE_METADATA_KEY,
  scheduleMetadata,
  type Schedule,
} from './schedule.js';

export interface NetworkStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/** The closed network of one environment. Stateful: its VPC's logical ID is guarded by a test. */
export class NetworkStack extends Stack {
  readonly vpc: ec2.IVpc;
  /** The interface endpoints' group: the only one the service's tasks may send to (besides S3). */
  readonly endpointSecurityGroup: ec2.ISecurityGroup;
  /** The environment's one log key: flow logs here, container and ECS Exec logs in the service stack. */
  readonly logKey: kms.IKey;

  /**
   * The region's first three zones through Fn::GetAZs, whether or not the account is known: a
   * context lookup would need AWS credentials at synth time (and a committed cdk.context.json).
   */
  override get availabilityZones(): string[] {
    return [0, 1, 2].map((index) => Fn.select(index, Fn.getAzs()));
  }

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { config } = props;
    const names = resourceNames(config);
    const awake = addAwakeSwitch(this, config.schedule, 'the interface endpoints exist (false deletes them)');

    const network = new PrivateNetwork(this, 'Network', {
      cidr: config.vpcCidr,
      azCount: config.azCount,
      ec2DebugEndpoints: config.ec2DebugEndpoints,
      logRetention: retentionDays(config.logRetentionDays),
      deployerRoleArn: deployerRoleArn(this, config),
      logGroupNames: [names.networkStack, names.serviceStack].map((stack) => `${stack}-*`),
      awake,
      schedule: config.schedule,
    });
    this.vpc = network.vpc;
    this.logKey = network.logKey;
    this.endpointSecurityGroup = network.endpointSecurityGroup;
    applyPermissionsBoundary(this, names.permissionsBoundary);

    new CfnOutput(this, 'VpcId', { value: network.vpc.vpcId, description: 'The isolated VPC' });
    new CfnOutput(this, 'FlowLogGroupName', {
      value: network.flowLogGroup.logGroupName,
      description: 'VPC flow logs (all traffic; kept when the stack is deleted)',
    });
    new CfnOutput(this, 'LogKeyArn', {
      value: network.logKey.keyArn,
      description: "KMS key of the environment's log groups and ECS Exec sessions (kept when the stack is deleted)",
    });
    new CfnOutput(this, 'EndpointSecurityGroupId', {
      value: network.endpointSecurityGroup.securityGroupId,
      description: 'Security group of the interface endpoints (443 from the VPC CIDR only)',
    });
  }
}

/**
 * Adds the `Awake` parameter (`true` by default) and the `IsAwake` condition to a workload stack,
 * and records the schedule, when there is one, in the template's Metadata (`gitops:schedule`).
 * Every environment has the switch, with a schedule or not: the sleep workflow updates the stack
 * with its previous template and only this parameter changed, and a deploy keeps the parameter's
 * current value, so a deploy while asleep leaves the environment asleep. Returns the condition
 * the stack's sleeping resources follow.
 *
 * The constructs record the schedule on each sleeping resource as well: CloudFormation refuses an
 * update that changes only the template's Metadata (CloudFormation User Guide, "Metadata"), while a
 * resource's Metadata changes on its own, and the cost estimate reads resources.
 */
export function addAwakeSwitch(stack: Stack, schedule: Schedule | undefined, whenTrue: string): CfnCondition {
  const parameter = new CfnParameter(stack, AWAKE_PARAMETER, {
    type: 'String',
    allowedValues: ['true', 'false'],
    default: 'true',
    description:
      `Whether the environment is awake: when true, ${whenTrue}. ` +
      'The sleep workflow flips it with the previous template and nothing else (UsePreviousTemplate); ' +
      'a deploy keeps its current value.',
  });
  const condition = new CfnCondition(stack, AWAKE_CONDITION, {
    expression: Fn.conditionEquals(parameter.valueAsString, 'true'),
  });
  if (schedule !== undefined) stack.addMetadata(SCHEDULE_METADATA_KEY, scheduleMetadata(schedule));
  return condition;
}

/**
 * The role CloudFormation deploys a workload stack of the environment as: its own bootstrap's
 * execution role (cdk bootstrap --qualifier), which the stack's KMS key policies name.
 */
export function deployerRoleArn(stack: Stack, config: EnvironmentConfig): string {
  return bootstrapNames({
    name: config.name,
    account: stack.account,
    region: stack.region,
    partition: stack.partition,
    qualifier: config.bootstrapQualifier,
  }).roleArn('cfn-exec');
}
