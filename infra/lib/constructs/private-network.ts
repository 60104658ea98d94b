import { type CfnCondition, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { INLINE_POLICY_REASON } from '../nag.js';
import { SCHEDULE_METADATA_KEY, scheduleMetadata, type Schedule } from '../schedule.js';
import { LogEncryptionKey } from './log-encryption-key.js';

export interface PrivateNetworkProps {
  /** IPv4 CIDR of the VPC, as a literal (a token would make the endpoint ingress rule unreadable). */
  readonly cidr: string;
  /** Number of availability zones; one isolated subnet in each. */
  readonly azCount: number;
  /** Also create the `ssm` and `ec2messages` endpoints (EC2 debug hosts only). @default false */
  readonly ec2DebugEndpoints?: boolean;
  /** Retention of the flow log group. */
  readonly logRetention: logs.RetentionDays;
  /** The role CloudFormation deploys the stack as: it maintains the log key through the key policy. */
  readonly deployerRoleArn: string;
  /**
   * Name patterns of every log group of the environment that the key encrypts (this stack's and the
   * service stack's): one key per environment, since each key is billed by the month.
   */
  readonly logGroupNames: readonly string[];
  /**
   * The stack's awake condition: the interface endpoints, billed by the hour, exist only while it
   * holds. Nothing else depends on them (no output or reference names one), so they can come and
   * go while the VPC, subnets, security groups, S3 gateway, flow logs and key stay.
   * @default - always: no condition
   */
  readonly awake?: CfnCondition;
  /**
   * The environment's schedule, recorded in each interface endpoint's Metadata (`gitops:schedule`)
   * so that the cost estimate, which reads resources, prices them for the awake hours only.
   * @default - none
   */
  readonly schedule?: Schedule;
}

interface EndpointService {
  readonly service: ec2.InterfaceVpcEndpointAwsService;
  /** The IAM service prefix of the API the endpoint serves (its policy names only those actions). */
  readonly actions: string;
}

/** Interface endpoints every environment needs: image pulls (ECR), container logs, and ECS Exec. */
const REQUIRED_INTERFACE_ENDPOINTS: Readonly<Record<string, EndpointService>> = {
  EcrApi: { service: ec2.InterfaceVpcEndpointAwsService.ECR, actions: 'ecr:*' },
  EcrDocker: { service: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER, actions: 'ecr:*' },
  Logs: { service: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS, actions: 'logs:*' },
  SsmMessages: { service: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES, actions: 'ssmmessages:*' },
};

/** Endpoints only EC2 instances' SSM agents use; ECS Exec does not. */
const EC2_DEBUG_INTERFACE_ENDPOINTS: Readonly<Record<string, EndpointService>> = {
  Ssm: { service: ec2.InterfaceVpcEndpointAwsService.SSM, actions: 'ssm:*' },
  Ec2Messages: { service: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES, actions: 'ec2messages:*' },
};

/**
 * The S3 bucket ECR keeps image layers in (ECR User Guide, "Amazon ECR interface VPC endpoints
 * (AWS PrivateLink)": the S3 gateway endpoint's policy must allow it); AWS owns it, so it is not
 * one of the account's buckets.
 */
export function ecrLayerBucketArn(partition: string, region: string): string {
  return `arn:${partition}:s3:::prod-${region}-starport-layer-bucket/*`;
}

/**
 * A VPC with no path to or from the internet: isolated subnets only (no internet gateway, no NAT
 * gateway, no public IPs), AWS services reached through VPC endpoints that accept HTTPS from
 * inside the VPC only and serve only this account's identities and resources (the S3 gateway also
 * ECR's layer bucket), and every flow logged to a retained log group encrypted with a key of the
 * environment.
 */
export class PrivateNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  readonly flowLogGroup: logs.LogGroup;
  readonly logKey: kms.Key;
  readonly s3Endpoint: ec2.GatewayVpcEndpoint;
  readonly interfaceEndpoints: Record<string, ec2.InterfaceVpcEndpoint> = {};

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    const { account, region, partition, stackName } = Stack.of(this);

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

    this.logKey = new LogEncryptionKey(this, 'LogKey', {
      description: `${stackName}: the environment's log groups and ECS Exec sessions`,
      logGroupNames: props.logGroupNames,
      deployerRoleArn: props.deployerRoleArn,
    }).key;
    // Retained when the stack is deleted or the group replaced: the flow records are the audit trail.
    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.logRetention,
      encryptionKey: this.logKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Only this account's flow logs may use the role (VPC User Guide, "IAM role for publishing flow
    // logs to CloudWatch Logs": aws:SourceAccount and aws:SourceArn against the confused deputy).
    const flowLogRole = new iam.Role(this, 'FlowLogRole', {
      description: `${stackName}: VPC flow log delivery to its log group`,
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:ec2:${region}:${account}:vpc-flow-log/*` },
        },
      }),
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup, flowLogRole),
      trafficType: ec2.FlowLogTrafficType.ALL,
      maxAggregationInterval: ec2.FlowLogMaxAggregationInterval.ONE_MINUTE,
    });
    const flowLogPolicy = flowLogRole.node.tryFindChild('DefaultPolicy');
    if (flowLogPolicy) {
      Validations.of(flowLogPolicy).acknowledge({
        id: 'NIST.800.53.R5-IAMNoInlinePolicy',
        reason: INLINE_POLICY_REASON,
      });
    }

    // ECR stores image layers in S3: pulls go through this free gateway endpoint. Its policy: this
    // account's identities on this account's buckets, and the layer bucket for image pulls; a
    // bucket of another account (a way out for data) is refused.
    this.s3Endpoint = this.vpc.addGatewayEndpoint('S3', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [{ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    this.s3Endpoint.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OnlyThisAccountsIdentitiesAndBuckets',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:PrincipalAccount': account, 'aws:ResourceAccount': account } },
      }),
    );
    this.s3Endpoint.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EcrImageLayers',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [ecrLayerBucketArn(partition, region)],
      }),
    );

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
    for (const [name, { service, actions }] of Object.entries(endpoints)) {
      const endpoint = this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        securityGroups: [this.endpointSecurityGroup],
        open: false, // `open` would add a second rule from the VPC CIDR token
        subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      });
      // Only this account's identities, on this account's resources: credentials of another
      // account brought into the VPC, or a call to another account's resources, are refused at
      // the endpoint (the pattern of AWS's data perimeter examples, aws-samples/
      // data-perimeter-policy-examples, with the account in place of the organization).
      endpoint.addToPolicy(
        new iam.PolicyStatement({
          sid: 'OnlyThisAccountsIdentitiesAndResources',
          principals: [new iam.AnyPrincipal()],
          actions: [actions],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:PrincipalAccount': account, 'aws:ResourceAccount': account } },
        }),
      );
      if (name === 'Ssm') {
        // EC2 hosts' SSM agents read AWS-owned documents and public parameters (no account).
        endpoint.addToPolicy(
          new iam.PolicyStatement({
            sid: 'ReadAwsOwnedDocumentsAndParameters',
            principals: [new iam.AnyPrincipal()],
            actions: ['ssm:Describe*', 'ssm:Get*', 'ssm:List*'],
            resources: [
              `arn:${partition}:ssm:${region}::document/*`,
              `arn:${partition}:ssm:${region}::parameter/aws/*`,
            ],
            conditions: { StringEquals: { 'aws:PrincipalAccount': account } },
          }),
        );
      }
      const resource = endpoint.node.defaultChild as ec2.CfnVPCEndpoint;
      if (props.awake) resource.cfnOptions.condition = props.awake;
      if (props.schedule) resource.addMetadata(SCHEDULE_METADATA_KEY, scheduleMetadata(props.schedule));
      this.interfaceEndpoints[name] = endpoint;
    }
  }
}

/**
 * The ids of the AWS-managed prefix lists `com.amazonaws.<region>.s3` that this project knows.
 * AWS gives each region's list a fixed id, but CloudFormation exposes it nowhere (not as an
 * attribute of the gateway endpoint: cloudformation-coverage-roadmap#453), and a context lookup
 * would need credentials at synth time. Only ids confirmed by two independent sources are listed
 * (checked 2026-12-02): us-east-1 and eu-west-1 by AWS's own examples (aws-cli
 * examples/ec2/describe-prefix-lists.rst; EC2 Developer Guide, "Use DescribePrefixLists") and
 * published describe-prefix-lists output; ap-northeast-1 by two independent deployments'
 * published output only. Any other region sets `s3PrefixListId` in the config.
 */
export const S3_PREFIX_LISTS: Readonly<Record<string, string>> = {
  'ap-northeast-1': 'pl-61a54008',
  'eu-west-1': 'pl-6da54004',
  'us-east-1': 'pl-63a5400a',
};

/** The environment's S3 prefix list id: its configured one, else the region's known one. */
export function s3PrefixListId(config: {
  readonly region: string;
  readonly s3PrefixListId?: string;
}): string | undefined {
  return config.s3PrefixListId ?? S3_PREFIX_LISTS[config.region];
}

/** Converts a day count from the config into CloudWatch's retention enum (validated in config). */
export function retentionDays(days: number): logs.RetentionDays {
  return days as logs.RetentionDays;
}
