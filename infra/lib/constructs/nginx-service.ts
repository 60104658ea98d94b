import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { CpuArchitecture, ImageSource } from '../config.js';
import { acknowledgeWildcards, INLINE_POLICY_REASON, LOG_ENCRYPTION_REASON } from '../nag.js';

export interface NginxServiceProps {
  readonly vpc: ec2.IVpc;
  readonly clusterName: string;
  readonly serviceName: string;
  readonly containerName: string;
  readonly containerPort: number;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly architecture: CpuArchitecture;
  /** Run on Fargate Spot. @default false */
  readonly spot?: boolean;
  readonly desiredCount: number;
  readonly image: ImageSource;
  readonly logRetention: logs.RetentionDays;
}

/** ECR Public, as the upstream of a pull-through cache rule. */
const ECR_PUBLIC = { url: 'public.ecr.aws', registry: 'ecr-public' } as const;

/**
 * Nginx on Fargate in isolated subnets, reachable only through ECS Exec (SSM Session Manager port
 * forwarding inside the task): its security group has no ingress rule at all.
 */
export class NginxService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly appLogGroup: logs.LogGroup;
  readonly execLogGroup: logs.LogGroup;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NginxServiceProps) {
    super(scope, id);

    this.execLogGroup = new logs.LogGroup(this, 'ExecAuditLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      clusterName: props.clusterName,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: props.spot ?? false,
      // ECS Exec command sessions are recorded in this log group; port-forwarding sessions carry no
      // log stream, and are audited through CloudTrail (StartSession / TerminateSession).
      executeCommandConfiguration: {
        logging: ecs.ExecuteCommandLogging.OVERRIDE,
        logConfiguration: { cloudWatchLogGroup: this.execLogGroup },
      },
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.of(props.architecture),
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });

    this.appLogGroup = new logs.LogGroup(this, 'NginxLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const { image, pullThroughCacheRule } = this.containerImage(props.image);
    this.taskDefinition.addContainer('Nginx', {
      containerName: props.containerName,
      image,
      essential: true,
      portMappings: [{ containerPort: props.containerPort, protocol: ecs.Protocol.TCP }],
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.appLogGroup, streamPrefix: props.containerName }),
      // The ECS Exec agent writes into the container's filesystem: a read-only root breaks it.
      readonlyRootFilesystem: false,
      healthCheck: {
        // busybox wget ships in the alpine image; curl does not.
        command: ['CMD-SHELL', `wget -q -O /dev/null http://127.0.0.1:${props.containerPort}/ || exit 1`],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(10),
      },
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Nginx tasks: no ingress (reached only by SSM port forwarding inside the task)',
      allowAllOutbound: false,
    });
    // Egress only to HTTPS: the interface endpoints and S3 (image layers) through the gateway
    // endpoint. The isolated subnets have no other route, so 0.0.0.0/0 here reaches nothing else;
    // S3's prefix list id would need an account lookup at synth time.
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to VPC endpoints and S3');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      serviceName: props.serviceName,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount,
      platformVersion: ecs.FargatePlatformVersion.VERSION1_4, // ECS Exec needs >= 1.4.0
      assignPublicIp: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.securityGroup],
      // The fix for TargetNotConnected: without it no SSM agent runs in the task.
      enableExecuteCommand: true,
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      capacityProviderStrategies: props.spot ? [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] : undefined,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    if (pullThroughCacheRule) this.service.node.addDependency(pullThroughCacheRule);

    this.acknowledgeGeneratedPolicies();
  }

  private containerImage(source: ImageSource): {
    image: ecs.ContainerImage;
    pullThroughCacheRule?: ecr.CfnPullThroughCacheRule;
  } {
    if (source.kind === 'ecr') {
      const repository = ecr.Repository.fromRepositoryName(this, 'Repository', source.repositoryName);
      // fromEcrRepository grants the execution role pull rights on this repository only.
      return { image: ecs.ContainerImage.fromEcrRepository(repository, source.digest ?? source.tag) };
    }
    const pullThroughCacheRule = new ecr.CfnPullThroughCacheRule(this, 'PullThroughCache', {
      ecrRepositoryPrefix: source.repositoryPrefix,
      upstreamRegistry: ECR_PUBLIC.registry,
      upstreamRegistryUrl: ECR_PUBLIC.url,
    });
    const cachedRepositoryName = `${source.repositoryPrefix}/${source.upstreamRepository}`;
    const repository = ecr.Repository.fromRepositoryName(this, 'CachedRepository', cachedRepositoryName);
    const image = ecs.ContainerImage.fromEcrRepository(repository, source.tag);
    // The first pull through a cache rule creates the repository and imports the image: the
    // pulling principal needs these two actions on it as well.
    this.taskDefinition.obtainExecutionRole().addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecr:CreateRepository', 'ecr:BatchImportUpstreamImage'],
        resources: [repository.repositoryArn],
      }),
    );
    return { image, pullThroughCacheRule };
  }

  /**
   * The findings CDK's own grants bring. The policies are CDK-generated, so they are inline
   * (DefaultPolicy); their wildcards are actions with no resource type.
   */
  private acknowledgeGeneratedPolicies(): void {
    const roles = [this.taskDefinition.obtainExecutionRole(), this.taskDefinition.taskRole];
    for (const role of roles) {
      const policy = role.node.tryFindChild('DefaultPolicy');
      if (!(policy instanceof iam.Policy)) continue;
      acknowledgeWildcards(
        policy,
        'ecr:GetAuthorizationToken, the ssmmessages channel actions of ECS Exec and logs:DescribeLogGroups have no resource type ' +
          "(Service Authorization Reference); log-stream wildcards are the streams of this construct's own log groups. " +
          'Every role here is also capped by the permissions boundary.',
      );
      Validations.of(policy).acknowledge({ id: 'NIST.800.53.R5-IAMNoInlinePolicy', reason: INLINE_POLICY_REASON });
    }
    for (const logGroup of [this.appLogGroup, this.execLogGroup]) {
      Validations.of(logGroup).acknowledge({
        id: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
        reason: LOG_ENCRYPTION_REASON,
      });
    }
  }
}
