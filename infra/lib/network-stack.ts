import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from './config.js';
import { PrivateNetwork, retentionDays } from './constructs/private-network.js';
import { resourceNames } from './names.js';
import { applyPermissionsBoundary } from './permissions-boundary.js';

export interface NetworkStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/** The closed network of one environment. Stateful: its VPC's logical ID is guarded by a test. */
export class NetworkStack extends Stack {
  readonly vpc: ec2.IVpc;

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

    const network = new PrivateNetwork(this, 'Network', {
      cidr: config.vpcCidr,
      azCount: config.azCount,
      ec2DebugEndpoints: config.ec2DebugEndpoints,
      logRetention: retentionDays(config.logRetentionDays),
    });
    this.vpc = network.vpc;
    applyPermissionsBoundary(this, resourceNames(config).permissionsBoundary);

    new CfnOutput(this, 'VpcId', { value: network.vpc.vpcId, description: 'The isolated VPC' });
    new CfnOutput(this, 'FlowLogGroupName', {
      value: network.flowLogGroup.logGroupName,
      description: 'VPC flow logs (all traffic)',
    });
    new CfnOutput(this, 'EndpointSecurityGroupId', {
      value: network.endpointSecurityGroup.securityGroupId,
      description: 'Security group of the interface endpoints (443 from the VPC CIDR only)',
    });
  }
}
