import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from './config.js';
import { retentionDays, s3PrefixListId } from './constructs/private-network.js';
import { NginxService } from './constructs/nginx-service.js';
import { resourceNames } from './names.js';
import { addAwakeSwitch } from './network-stack.js';
import { applyPermissionsBoundary } from './permissions-boundary.js';

export interface ServiceStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly vpc: ec2.IVpc;
  /** The network stack's interface endpoint group: the tasks' only destination besides S3. */
  readonly endpointSecurityGroup: ec2.ISecurityGroup;
  /** The environment's log key, kept by the network stack. */
  readonly logKey: kms.IKey;
}

/** The Nginx service of one environment, and the outputs the smoke test and forwarding use. */
export class ServiceStack extends Stack {
  readonly nginx: NginxService;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config } = props;
    const names = resourceNames(config);
    const awake = addAwakeSwitch(this, config.schedule, 'the service runs its configured number of tasks (false: 0)');

    this.nginx = new NginxService(this, 'Nginx', {
      vpc: props.vpc,
      endpointSecurityGroup: props.endpointSecurityGroup,
      s3PrefixListId: s3PrefixListId(config),
      logKey: props.logKey,
      clusterName: names.cluster,
      serviceName: names.service,
      containerName: names.container,
      containerPort: names.containerPort,
      cpu: config.task.cpu,
      memoryMiB: config.task.memoryMiB,
      architecture: config.task.architecture,
      spot: config.task.spot,
      desiredCount: config.task.desiredCount,
      image: config.image,
      logRetention: retentionDays(config.logRetentionDays),
      awake,
      schedule: config.schedule,
    });
    applyPermissionsBoundary(this, names.permissionsBoundary);

    const outputs: Record<string, [string, string]> = {
      ClusterName: [this.nginx.cluster.clusterName, 'ECS cluster'],
      ServiceName: [this.nginx.service.serviceName, 'ECS service'],
      ContainerName: [names.container, 'Container to forward to'],
      ContainerPort: [String(names.containerPort), 'Port Nginx listens on inside the task'],
      AppLogGroupName: [this.nginx.appLogGroup.logGroupName, 'Nginx container logs'],
      ExecLogGroupName: [
        this.nginx.execLogGroup.logGroupName,
        'ECS Exec (session) audit logs (kept when the stack is deleted)',
      ],
    };
    for (const [id, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, id, { value, description });
    }
  }
}
