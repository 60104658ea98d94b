import { Annotations, type CfnCondition, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { CpuArchitecture, ImageSource } from '../config.js';
import { CACHED_IMAGE_METADATA_KEY, cachedImageMetadata, cachedRepositoryName, ECR_PUBLIC } from '../image-cache.js';
import { acknowledgeWildcards, INLINE_POLICY_REASON } from '../nag.js';
import { SCHEDULE_METADATA_KEY, scheduleMetadata, type Schedule } from '../schedule.js';

export interface NginxServiceProps {
  readonly vpc: ec2.IVpc;
  /** The interface endpoints' security group: the tasks may send HTTPS to it. */
  readonly endpointSecurityGroup: ec2.ISecurityGroup;
  /**
   * The region's S3 prefix list (`com.amazonaws.<region>.s3`): the tasks may send HTTPS to it
   * (image layers). Unknown, HTTPS to any address instead, with a synth warning.
   * @default - unknown
   */
  readonly s3PrefixListId?: string;
  /**
   * The environment's log key (the network stack's): the container and ECS Exec audit log groups
   * are encrypted with it, and the cluster's ECS Exec configuration names it (see below).
   */
  readonly logKey: kms.IKey;
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
  /**
   * The stack's awake condition: the service runs `desiredCount` tasks while it holds, 0 otherwise
   * (`Fn::If`); the cluster, task definition, roles and log groups stay.
   * @default - always: `desiredCount`
   */
  readonly awake?: CfnCondition;
  /**
   * The environment's schedule, recorded in the service's Metadata (`gitops:schedule`) so that the
   * cost estimate, which reads resources, prices the tasks for the awake hours only.
   * @default - none
   */
  readonly schedule?: Schedule;
}

/**
 * Nginx on Fargate in isolated subnets, reachable only through ECS Exec (SSM Session Manager port
 * forwarding inside the task): its security group has no ingress rule at all, and sends only to
 * the VPC's interface endpoints and S3. Its logs are encrypted with a key of the environment; the
 * ECS Exec audit log group is kept when the stack is deleted.
 */
export class NginxService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly appLogGroup: logs.LogGroup;
  readonly execLogGroup: logs.LogGroup;
  readonly logKey: kms.IKey;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NginxServiceProps) {
    super(scope, id);
    const { account, region, partition, stackName } = Stack.of(this);

    this.logKey = props.logKey;
    // Retained when the stack is deleted or the group replaced: the session audit trail.
    this.execLogGroup = new logs.LogGroup(this, 'ExecAuditLogs', {
      retention: props.logRetention,
      encryptionKey: this.logKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      clusterName: props.clusterName,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: props.spot ?? false,
      // ECS Exec command sessions are recorded in this log group; port-forwarding sessions carry no
      // log stream, and are audited through CloudTrail (StartSession / TerminateSession). The key
      // (kmsKeyId, CDK grants the task role kms:Decrypt and kms:GenerateDataKey on it) applies to
      // `execute-command` shell sessions only: the agent never asks for KMS encryption in a Port
      // session (amazon-ssm-agent sessionplugin.go, isEncryptionEnabled; ssm-port-forwarding.md
      // §7). A shell session would also need a KMS interface endpoint, which this VPC leaves out
      // (ECS Developer Guide, "Monitor Amazon ECS containers with ECS Exec", considerations, read
      // 2026-12-02): no role here may start one, and one started otherwise fails rather than
      // running unencrypted.
      executeCommandConfiguration: {
        kmsKey: this.logKey,
        logging: ecs.ExecuteCommandLogging.OVERRIDE,
        logConfiguration: { cloudWatchLogGroup: this.execLogGroup },
      },
    });

    // ECS assumes the roles only for this account's tasks (ECS Developer Guide, "Amazon ECS task
    // IAM role": aws:SourceAccount, and aws:SourceArn on the account's ECS resources of the region).
    const ecsTasks = (conditions: Record<string, Record<string, string>>): iam.ServicePrincipal =>
      new iam.ServicePrincipal('ecs-tasks.amazonaws.com', { conditions });
    // Ids that keep CDK's logical-id prefix (NginxTaskDefinitionTaskRole...) that tools look roles up
    // by; new roles all the same (a changed trust needs a new role: the execution policy withholds
    // iam:UpdateAssumeRolePolicy).
    const taskRole = new iam.Role(this, 'TaskDefinitionTaskRole', {
      description: `${stackName}: the Nginx task (ECS Exec agent, audit log)`,
      assumedBy: ecsTasks({
        StringEquals: { 'aws:SourceAccount': account },
        ArnLike: { 'aws:SourceArn': `arn:${partition}:ecs:${region}:${account}:*` },
      }),
    });
    const executionRole = new iam.Role(this, 'TaskDefinitionExecutionRole', {
      description: `${stackName}: the Nginx task's image pull and container logs`,
      assumedBy: ecsTasks({ StringEquals: { 'aws:SourceAccount': account } }),
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.of(props.architecture),
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole,
      executionRole,
    });

    this.appLogGroup = new logs.LogGroup(this, 'NginxLogs', {
      retention: props.logRetention,
      encryptionKey: this.logKey,
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
    // Egress only HTTPS, to the interface endpoints' group and to S3 (image layers, through the
    // gateway endpoint, whose policy admits only this account's buckets and ECR's layer bucket).
    // By id, so that the rule is inline in the group: a group whose inline egress list is empty gets
    // EC2's default allow-all egress rule, whatever separate egress resources add.
    this.securityGroup.addEgressRule(
      ec2.Peer.securityGroupId(props.endpointSecurityGroup.securityGroupId),
      ec2.Port.tcp(443),
      'HTTPS to the VPC interface endpoints',
    );
    if (props.s3PrefixListId !== undefined) {
      this.securityGroup.addEgressRule(
        ec2.Peer.prefixList(props.s3PrefixListId),
        ec2.Port.tcp(443),
        'HTTPS to S3 (image layers) through the gateway endpoint',
      );
    } else {
      // The isolated subnets have no route but to the endpoints and S3, so this reaches nothing
      // else today; the prefix list would keep it so if a route were ever added.
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to S3 (image layers)');
      Annotations.of(this.securityGroup).addWarningV2(
        'gitops:s3-prefix-list',
        `The S3 prefix list of ${region} is not known: the tasks may send HTTPS to any address (in these subnets only the endpoints and S3 are routed). Set s3PrefixListId for the environment in gitops.config.json: aws ec2 describe-managed-prefix-lists --region ${region} --filters Name=prefix-list-name,Values=com.amazonaws.${region}.s3 --query 'PrefixLists[0].PrefixListId'`,
      );
    }

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
    const resource = this.service.node.defaultChild as ecs.CfnService;
    if (props.awake) {
      resource.desiredCount = Token.asNumber(Fn.conditionIf(props.awake.logicalId, props.desiredCount, 0));
    }
    if (props.schedule) resource.addMetadata(SCHEDULE_METADATA_KEY, scheduleMetadata(props.schedule));

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
    // On the task definition, which changes with the image anyway: a new tag adds no change to review.
    (this.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).addMetadata(
      CACHED_IMAGE_METADATA_KEY,
      cachedImageMetadata(source),
    );
    // Each tag's first pull must come from outside this VPC (image-cache.ts): `npm run configure
    // -- --show` prints the commands that seed it.
    const repository = ecr.Repository.fromRepositoryName(this, 'CachedRepository', cachedRepositoryName(source));
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
  }
}
