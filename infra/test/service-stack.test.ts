import { Match, type Template } from 'aws-cdk-lib/assertions';
import { environment, synthesize } from './helpers/app.js';
import { allStrings, resourcesOfType } from './helpers/template.js';

describe('service stack (dev defaults)', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize(environment('dev')).service;
  });

  it('enables ECS Exec on the service (the fix for TargetNotConnected), on platform 1.4.0, without public IP', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'dev-nginx',
      EnableExecuteCommand: true,
      LaunchType: 'FARGATE',
      PlatformVersion: '1.4.0',
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
    });
  });

  it('runs the service in a security group with no ingress rule at all, egress HTTPS only', () => {
    const groups = resourcesOfType(template, 'AWS::EC2::SecurityGroup');
    expect(groups).toHaveLength(1);
    expect(groups[0]!.Properties.SecurityGroupIngress).toBeUndefined();
    expect(groups[0]!.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('turns on Container Insights and audits ECS Exec sessions to its own log group', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterName: 'dev-cluster',
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
      Configuration: {
        ExecuteCommandConfiguration: {
          Logging: 'OVERRIDE',
          LogConfiguration: { CloudWatchLogGroupName: { Ref: Match.stringLikeRegexp('ExecAuditLogs') } },
        },
      },
    });
  });

  it('defines an ARM64 Fargate task of 0.25 vCPU / 0.5 GB with one Nginx container on port 80', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: '256',
      Memory: '512',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'nginx',
          Essential: true,
          PortMappings: [{ ContainerPort: 80, Protocol: 'tcp' }],
          ReadonlyRootFilesystem: false,
          HealthCheck: Match.objectLike({
            Command: ['CMD-SHELL', Match.stringLikeRegexp('wget .*127\\.0\\.0\\.1:80')],
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

  it('pulls Nginx through an ECR pull-through cache rule for ECR Public', () => {
    template.hasResourceProperties('AWS::ECR::PullThroughCacheRule', {
      EcrRepositoryPrefix: 'dev-ecr-public',
      UpstreamRegistryUrl: 'public.ecr.aws',
    });
    const [taskDefinition] = resourcesOfType(template, 'AWS::ECS::TaskDefinition');
    const image = JSON.stringify(taskDefinition!.Properties.ContainerDefinitions[0].Image);
    expect(image).toContain('dev-ecr-public/nginx/nginx:1.28-alpine');
    const [service] = Object.values(template.findResources('AWS::ECS::Service')) as Array<{ DependsOn?: string[] }>;
    expect(service!.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/PullThroughCache/)]));
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

  it('creates its roles in code: no AWS-managed policy, no hard-coded role ARN, every role bounded', () => {
    const roles = resourcesOfType(template, 'AWS::IAM::Role');
    expect(roles).toHaveLength(2);
    for (const role of roles) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(JSON.stringify(role.Properties.PermissionsBoundary)).toContain(':policy/dev-workload-boundary');
    }
    const [taskDefinition] = resourcesOfType(template, 'AWS::ECS::TaskDefinition');
    expect(taskDefinition!.Properties.TaskRoleArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/TaskRole/), 'Arn'],
    });
    expect(taskDefinition!.Properties.ExecutionRoleArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/ExecutionRole/), 'Arn'],
    });
    expect(
      allStrings(template.toJSON()).filter((value) => /arn:aws:iam::(aws|\d{12}):(role|policy)\//.test(value)),
    ).toEqual([]);
  });

  it('keeps every log group for the configured retention', () => {
    const groups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(2);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('outputs what the smoke test and the forwarding script need', () => {
    template.hasOutput('ClusterName', { Value: { Ref: Match.anyValue() } });
    template.hasOutput('ServiceName', {});
    template.hasOutput('ContainerName', { Value: 'nginx' });
    template.hasOutput('ContainerPort', { Value: '80' });
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

describe('service stack options', () => {
  it('runs on Fargate Spot through the capacity provider when asked (X86_64)', () => {
    const template = synthesize(environment('dev', { task: { spot: true, architecture: 'X86_64' } })).service;
    template.hasResourceProperties('AWS::ECS::Service', {
      CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }],
      LaunchType: Match.absent(),
    });
    template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: Match.arrayWith(['FARGATE_SPOT']),
    });
  });

  it('sizes the task from the config', () => {
    const template = synthesize(
      environment('dev', { task: { cpu: 1024, memoryMiB: 3072, architecture: 'X86_64' } }),
    ).service;
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '3072',
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
  });

  it('uses an existing ECR repository pinned by digest, with no cache rule', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const template = synthesize(
      environment('dev', { image: { kind: 'ecr', repositoryName: 'team/nginx', digest } }),
    ).service;
    template.resourceCountIs('AWS::ECR::PullThroughCacheRule', 0);
    const [taskDefinition] = resourcesOfType(template, 'AWS::ECS::TaskDefinition');
    expect(JSON.stringify(taskDefinition!.Properties.ContainerDefinitions[0].Image)).toContain(`team/nginx@${digest}`);
  });
});
