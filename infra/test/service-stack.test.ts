import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { addEnvironments } from '../lib/build-app.js';
import { defaultImage, type EnvironmentConfig } from '../lib/config.js';
import { S3_PREFIX_LISTS, s3PrefixListId } from '../lib/constructs/private-network.js';
import { CONTAINER_NAME, CONTAINER_PORT, resourceNames } from '../lib/names.js';
import { AWAKE_CONDITION } from '../lib/schedule.js';
import { ENVIRONMENTS } from '../lib/project.js';
import { cdkJsonContext, environment, FIRST, partitionOf, synthesize } from './helpers/app.js';
import { allStrings, resourcesOfType } from './helpers/template.js';

describe.each(ENVIRONMENTS.map((env) => [env.name, env] as const))('service stack of %s', (_name, configured) => {
  let template: Template;
  let env: EnvironmentConfig;
  beforeAll(() => {
    env = environment(configured.name);
    template = synthesize(env).service;
  });

  it('enables ECS Exec on the service (the fix for TargetNotConnected), on platform 1.4.0, without public IP', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: resourceNames(env).service,
      // The configured count while awake, 0 asleep (the sleep switch: sleep.test.ts).
      DesiredCount: { 'Fn::If': [AWAKE_CONDITION, env.task.desiredCount, 0] },
      EnableExecuteCommand: true,
      LaunchType: env.task.spot ? Match.absent() : 'FARGATE',
      PlatformVersion: '1.4.0',
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
    });
  });

  it('runs the service in a security group with no ingress rule at all, egress HTTPS to the endpoints and S3 only', () => {
    const groups = resourcesOfType(template, 'AWS::EC2::SecurityGroup');
    expect(groups).toHaveLength(1);
    expect(groups[0]!.Properties.SecurityGroupIngress).toBeUndefined();
    // Inline (a group with no inline egress rule would get EC2's default allow-all egress).
    expect(groups[0]!.Properties.SecurityGroupEgress).toEqual([
      {
        Description: 'HTTPS to the VPC interface endpoints',
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        DestinationSecurityGroupId: {
          'Fn::ImportValue': expect.stringMatching(/^[\w-]+-network:ExportsOutput.*EndpointSecurityGroup/),
        },
      },
    ]);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    const prefixList = s3PrefixListId(env);
    const egress = resourcesOfType(template, 'AWS::EC2::SecurityGroupEgress').map((rule) => rule.Properties);
    if (prefixList) {
      expect(egress).toEqual([
        expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, DestinationPrefixListId: prefixList }),
      ]);
      expect(JSON.stringify(template.toJSON())).not.toContain('0.0.0.0/0');
    } else {
      expect(egress).toEqual([]);
    }
  });

  it("encrypts its log groups with the environment's key from the network stack, and keeps the audit log group", () => {
    expect(template.findResources('AWS::KMS::Key')).toEqual({});
    const key = {
      'Fn::ImportValue': expect.stringMatching(new RegExp(`^${resourceNames(env).networkStack}:.*LogKey`)),
    };
    const groups = template.findResources('AWS::Logs::LogGroup');
    for (const group of Object.values(groups)) expect(group.Properties.KmsKeyId).toEqual(key);
    const retention = Object.fromEntries(
      Object.entries(groups).map(([id, group]) => [id.replace(/[0-9A-F]{8}$/, ''), group.DeletionPolicy]),
    );
    expect(retention).toEqual({ NginxExecAuditLogs: 'Retain', NginxNginxLogs: 'Delete' });
    const [cluster] = resourcesOfType(template, 'AWS::ECS::Cluster');
    expect(cluster!.Properties.Configuration.ExecuteCommandConfiguration.KmsKeyId).toEqual(key);
  });

  it('lets ECS assume the task roles only for tasks of this account (aws:SourceAccount, and aws:SourceArn for the task role)', () => {
    const trust = (pattern: RegExp) =>
      resourcesOfType(template, 'AWS::IAM::Role').find((role) =>
        pattern.test(JSON.stringify(role.Properties.Description)),
      )!.Properties.AssumeRolePolicyDocument.Statement;
    const source = { StringEquals: { 'aws:SourceAccount': env.account } };
    expect(trust(/the Nginx task \(/)).toEqual([
      expect.objectContaining({
        Principal: { Service: 'ecs-tasks.amazonaws.com' },
        Condition: {
          ...source,
          ArnLike: { 'aws:SourceArn': `arn:${partitionOf(env.region)}:ecs:${env.region}:${env.account}:*` },
        },
      }),
    ]);
    expect(trust(/image pull/)).toEqual([
      expect.objectContaining({ Principal: { Service: 'ecs-tasks.amazonaws.com' }, Condition: source }),
    ]);
  });

  it("gives the task role ECS Exec's decryption on the environment's key only", () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('TaskRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: { 'Fn::ImportValue': Match.stringLikeRegexp('LogKey') },
          }),
        ]),
      },
    });
  });

  it('turns on Container Insights and audits ECS Exec sessions to its own log group', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterName: resourceNames(env).cluster,
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
      Configuration: {
        ExecuteCommandConfiguration: {
          Logging: 'OVERRIDE',
          LogConfiguration: { CloudWatchLogGroupName: { Ref: Match.stringLikeRegexp('ExecAuditLogs') } },
        },
      },
    });
  });

  it('defines the configured Fargate task with one Nginx container on its port', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: String(env.task.cpu),
      Memory: String(env.task.memoryMiB),
      RuntimePlatform: { CpuArchitecture: env.task.architecture, OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Name: CONTAINER_NAME,
          Essential: true,
          PortMappings: [{ ContainerPort: CONTAINER_PORT, Protocol: 'tcp' }],
          ReadonlyRootFilesystem: false,
          HealthCheck: Match.objectLike({
            Command: ['CMD-SHELL', Match.stringLikeRegexp(`wget .*127\\.0\\.0\\.1:${CONTAINER_PORT}`)],
          }),
          LogConfiguration: {
            LogDriver: 'awslogs',
            Options: Match.objectLike({ 'awslogs-group': { Ref: Match.stringLikeRegexp('NginxLogs') } }),
          },
        }),
      ],
    });
  });

  it('puts no AWS key variables in the container (they would override the task role and break ECS Exec)', () => {
    const [taskDefinition] = resourcesOfType(template, 'AWS::ECS::TaskDefinition');
    const names = (taskDefinition!.Properties.ContainerDefinitions as Array<{ Environment?: Array<{ Name: string }> }>)
      .flatMap((container) => container.Environment ?? [])
      .map((variable) => variable.Name);
    expect(names.filter((name) => name.startsWith('AWS_'))).toEqual([]);
  });

  it('runs the configured image', () => {
    const [taskDefinition] = resourcesOfType(template, 'AWS::ECS::TaskDefinition');
    const image = JSON.stringify(taskDefinition!.Properties.ContainerDefinitions[0].Image);
    if (env.image.kind === 'pull-through-cache') {
      expectPullThroughCache(template, env.image.repositoryPrefix);
      expect(image).toContain(`${env.image.repositoryPrefix}/${env.image.upstreamRepository}:${env.image.tag}`);
    } else {
      template.resourceCountIs('AWS::ECR::PullThroughCacheRule', 0);
      const reference = env.image.digest ? `@${env.image.digest}` : `:${env.image.tag}`;
      expect(image).toContain(`${env.image.repositoryName}${reference}`);
    }
  });

  it('gives the task role the ECS Exec channel actions and writes to the audit log group', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('TaskRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith([
              'ssmmessages:CreateControlChannel',
              'ssmmessages:CreateDataChannel',
              'ssmmessages:OpenControlChannel',
              'ssmmessages:OpenDataChannel',
            ]),
          }),
        ]),
      },
    });
  });

  it("creates its roles in code: no AWS-managed policy, no hard-coded role ARN, every role under the environment's boundary", () => {
    const boundary = `arn:${partitionOf(env.region)}:iam::${env.account}:policy/${resourceNames(env).permissionsBoundary}`;
    const roles = resourcesOfType(template, 'AWS::IAM::Role');
    expect(roles).toHaveLength(2);
    for (const role of roles) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.PermissionsBoundary).toBe(boundary);
    }
    const [taskDefinition] = resourcesOfType(template, 'AWS::ECS::TaskDefinition');
    expect(taskDefinition!.Properties.TaskRoleArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/TaskRole/), 'Arn'],
    });
    expect(taskDefinition!.Properties.ExecutionRoleArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/ExecutionRole/), 'Arn'],
    });
    // The boundary (on each role) is the only IAM ARN written out (the key policy naming the
    // deployer is in the network stack).
    expect(
      allStrings(template.toJSON())
        .filter((value) => /arn:aws[a-z-]*:iam::(aws|\d{12}):(role|policy)\//.test(value))
        .sort(),
    ).toEqual(roles.map(() => boundary));
  });

  it('keeps every log group for the configured retention', () => {
    const groups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(2);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(env.logRetentionDays);
  });

  it('outputs what the smoke test and the forwarding script need', () => {
    template.hasOutput('ClusterName', { Value: { Ref: Match.anyValue() } });
    template.hasOutput('ServiceName', {});
    template.hasOutput('ContainerName', { Value: CONTAINER_NAME });
    template.hasOutput('ContainerPort', { Value: String(CONTAINER_PORT) });
    template.hasOutput('AppLogGroupName', {});
    template.hasOutput('ExecLogGroupName', {});
  });

  it('creates no Lambda-backed custom resource', () => {
    const types = Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(
      types.filter(
        (type) =>
          type.startsWith('Custom::') ||
          type === 'AWS::Lambda::Function' ||
          type === 'AWS::CloudFormation::CustomResource',
      ),
    ).toEqual([]);
  });
});

/** The pull-through cache rule for ECR Public under this prefix, created before the service. */
function expectPullThroughCache(template: Template, prefix: string): void {
  template.hasResourceProperties('AWS::ECR::PullThroughCacheRule', {
    EcrRepositoryPrefix: prefix,
    UpstreamRegistryUrl: 'public.ecr.aws',
  });
  const [service] = Object.values(template.findResources('AWS::ECS::Service')) as Array<{ DependsOn?: string[] }>;
  expect(service!.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/PullThroughCache/)]));
}

describe('service stack options', () => {
  it("sends to S3 through the configured prefix list, and warns where the region's is unknown", () => {
    const configured = synthesize(environment(FIRST.name, { s3PrefixListId: 'pl-0123456789abcdef0' })).service;
    configured.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      DestinationPrefixListId: 'pl-0123456789abcdef0',
      FromPort: 443,
    });
    // A region with no known prefix list (and none configured): HTTPS anywhere, and a synth warning.
    const region = ['sa-east-1', 'af-south-1', 'me-south-1'].find((candidate) => !S3_PREFIX_LISTS[candidate])!;
    const unknown = environment(FIRST.name, { region, s3PrefixListId: undefined });
    const app = new App({ context: cdkJsonContext() });
    const { service } = addEnvironments(app, [unknown]).get(FIRST.name)!;
    const template = Template.fromStack(service);
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })]),
    });
    Annotations.fromStack(service).hasWarning('*', Match.stringLikeRegexp(`S3 prefix list of ${region} is not known`));
  });

  it('runs on Fargate (not Spot) by default, on the task size and architecture of the defaults', () => {
    const template = synthesize(
      environment(FIRST.name, {
        task: { spot: false, architecture: 'ARM64', cpu: 256, memoryMiB: 512, desiredCount: 1 },
      }),
    ).service;
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      CapacityProviderStrategy: Match.absent(),
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '256',
      Memory: '512',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    template.resourceCountIs('AWS::ECS::ClusterCapacityProviderAssociations', 0);
  });

  it('runs on Fargate Spot through the capacity provider when asked (X86_64)', () => {
    const template = synthesize(environment(FIRST.name, { task: { spot: true, architecture: 'X86_64' } })).service;
    template.hasResourceProperties('AWS::ECS::Service', {
      CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }],
      LaunchType: Match.absent(),
    });
    template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: Match.arrayWith(['FARGATE_SPOT']),
    });
  });

  it('sizes the task and the service from the config', () => {
    const template = synthesize(
      environment(FIRST.name, {
        task: { cpu: 1024, memoryMiB: 3072, architecture: 'X86_64', spot: false, desiredCount: 3 },
      }),
    ).service;
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '3072',
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: { 'Fn::If': [AWAKE_CONDITION, 3, 0] } });
  });

  it("pulls the default Nginx through the environment's own pull-through cache prefix", () => {
    const image = defaultImage(FIRST.name);
    if (image.kind !== 'pull-through-cache') throw new Error('the default image is a pull-through cache');
    const template = synthesize(environment(FIRST.name, { image })).service;
    expectPullThroughCache(template, `${FIRST.name}-ecr-public`);
    const [taskDefinition] = resourcesOfType(template, 'AWS::ECS::TaskDefinition');
    expect(JSON.stringify(taskDefinition!.Properties.ContainerDefinitions[0].Image)).toContain(
      `${FIRST.name}-ecr-public/nginx/nginx:1.28-alpine`,
    );
  });

  it('uses an existing ECR repository pinned by digest, with no cache rule', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const template = synthesize(
      environment(FIRST.name, { image: { kind: 'ecr', repositoryName: 'team/nginx', digest } }),
    ).service;
    template.resourceCountIs('AWS::ECR::PullThroughCacheRule', 0);
    const [taskDefinition] = resourcesOfType(template, 'AWS::ECS::TaskDefinition');
    expect(JSON.stringify(taskDefinition!.Properties.ContainerDefinitions[0].Image)).toContain(`team/nginx@${digest}`);
  });
});
