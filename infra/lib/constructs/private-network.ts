import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { INLINE_POLICY_REASON, LOG_ENCRYPTION_REASON } from '../nag.js';

export interface PrivateNetworkProps {
  /** IPv4 CIDR of the VPC, as a literal (a token would make the endpoint ingress rule unreadable). */
  readonly cidr: string;
  /** Number of availability zones; one isolated subnet in each. */
  readonly azCount: number;
  /** Also create the `ssm` and `ec2messages` endpoints (EC2 debug hosts only). @default false */
  readonly ec2DebugEndpoints?: boolean;
  /** Retention of the flow log group. */
  readonly logRetention: logs.RetentionDays;
}

/** Interface endpoints every environment needs: image pulls (ECR), container logs, and ECS Exec. */
const REQUIRED_INTERFACE_ENDPOINTS = {
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  SsmMessages: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
} as const;

/** Endpoints only EC2 instances' SSM agents use; ECS Exec does not. */
const EC2_DEBUG_INTERFACE_ENDPOINTS = {
  Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
  Ec2Messages: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
} as const;

/**
 * A VPC with no path to or from the internet: isolated subnets only (no internet gateway, no NAT
 * gateway, no public IPs), AWS services reached through VPC endpoints that accept HTTPS from
 * inside the VPC only, and every flow logged.
 */
export class PrivateNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  readonly flowLogGroup: logs.LogGroup;
  readonly interfaceEndpoints: Record<string, ec2.InterfaceVpcEndpoint> = {};

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      maxAzs: props.azCount, // from the stack's availabilityZones: see NetworkStack
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      enableDnsHostnames: true, // private DNS names of interface endpoints need both
      enableDnsSupport: true,
      // Closing the default security group takes a Lambda-backed custom resource; nothing here uses it.
      restrictDefaultSecurityGroup: false,
    });
    Validations.of(this.vpc).acknowledge({
      id: 'NIST.800.53.R5-VPCDefaultSecurityGroupClosed',
      reason:
        'CloudFormation cannot change the default security group without a Lambda-backed custom resource, which this project avoids; no resource in this VPC uses the default group (every ENI gets its own group).',
    });

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.flowLogGroup).acknowledge({
      id: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
      reason: LOG_ENCRYPTION_REASON,
    });
    const flowLog = this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
      maxAggregationInterval: ec2.FlowLogMaxAggregationInterval.ONE_MINUTE,
    });
    const flowLogPolicy = flowLog.iamRole?.node.tryFindChild('DefaultPolicy');
    if (flowLogPolicy) {
      Validations.of(flowLogPolicy).acknowledge({
        id: 'NIST.800.53.R5-IAMNoInlinePolicy',
        reason: INLINE_POLICY_REASON,
      });
    }

    this.vpc.addGatewayEndpoint('S3', {
      // ECR stores image layers in S3: pulls go through this free gateway endpoint.
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [{ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });

    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'VPC interface endpoints: HTTPS from inside the VPC only',
      allowAllOutbound: false,
    });
    // The literal CIDR (not the VPC's CidrBlock attribute) keeps the rule reviewable and checkable.
    this.endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(props.cidr), ec2.Port.tcp(443), 'HTTPS from the VPC');

    const endpoints = {
      ...REQUIRED_INTERFACE_ENDPOINTS,
      ...(props.ec2DebugEndpoints ? EC2_DEBUG_INTERFACE_ENDPOINTS : {}),
    };
    for (const [name, service] of Object.entries(endpoints)) {
      this.interfaceEndpoints[name] = this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        securityGroups: [this.endpointSecurityGroup],
        open: false, // `open` would add a second rule from the VPC CIDR token
        subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      });
    }
  }
}

/** Converts a day count from the config into CloudWatch's retention enum (validated in config). */
export function retentionDays(days: number): logs.RetentionDays {
  return days as logs.RetentionDays;
}
