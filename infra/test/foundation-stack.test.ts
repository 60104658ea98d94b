import { Match, type Template } from 'aws-cdk-lib/assertions';
import { environment, synthesize } from './helpers/app.js';
import { resourcesOfType, type TemplateResource } from './helpers/template.js';

const ACCOUNT = '111122223333';

describe('GitHub OIDC stack', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize(environment('dev', {}, ACCOUNT)).oidc;
  });

  const role = (name: string): TemplateResource => {
    const found = resourcesOfType(template, 'AWS::IAM::Role').find((r) => r.Properties.RoleName === name);
    if (!found) throw new Error(`no role ${name}`);
    return found;
  };
  const policyOf = (roleName: string): { Action: string | string[]; Resource: unknown; Effect: string }[] => {
    const arns = role(roleName).Properties.ManagedPolicyArns as Array<{ Ref: string }>;
    const policies = template.findResources('AWS::IAM::ManagedPolicy');
    return arns.flatMap((arn) => policies[arn.Ref]!.Properties.PolicyDocument.Statement);
  };
  const actions = (statements: { Action: string | string[] }[]): string[] =>
    statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

  it('creates the GitHub OIDC provider with the STS audience, and no Lambda-backed resource', () => {
    template.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    const types = Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types.some((type) => type.startsWith('Custom::') || type === 'AWS::Lambda::Function')).toBe(false);
  });

  it.each([
    ['dev-github-pull-request', ['repo:example-org/private-aws-gitops:pull_request']],
    [
      'dev-github-deploy',
      [
        'repo:example-org/private-aws-gitops:ref:refs/heads/main',
        'repo:example-org/private-aws-gitops:environment:dev',
      ],
    ],
    [
      'dev-github-operator',
      [
        'repo:example-org/private-aws-gitops:ref:refs/heads/main',
        'repo:example-org/private-aws-gitops:environment:dev',
      ],
    ],
  ])('%s trusts only aud=sts.amazonaws.com and the exact subjects %j', (name, subjects) => {
    const trust = role(name).Properties.AssumeRolePolicyDocument;
    expect(trust.Statement).toEqual([
      {
        Action: 'sts:AssumeRoleWithWebIdentity',
        Effect: 'Allow',
        Principal: { Federated: { Ref: expect.stringMatching(/^GitHubProvider/) } },
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': subjects.length === 1 ? subjects[0] : subjects,
          },
        },
      },
    ]);
    expect(role(name).Properties.MaxSessionDuration).toBe(3600);
  });

  it('lets the deploy role assume the four CDK bootstrap roles of its account and region, and nothing else', () => {
    const statements = policyOf('dev-github-deploy');
    expect(actions(statements).sort()).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    const resources = statements.flatMap((s) => s.Resource as string[]);
    expect(resources.sort()).toEqual(
      ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(
        (kind) => `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-${kind}-role-${ACCOUNT}-ap-northeast-1`,
      ),
    );
    // No wildcard anywhere: not even the bootstrap role pattern is needed.
    expect(resources.filter((r) => r.includes('*'))).toEqual([]);
  });

  it('keeps the pull-request role read-only: the lookup role and reading templates', () => {
    const statements = policyOf('dev-github-pull-request');
    for (const action of actions(statements)) {
      expect(action).toMatch(/^(sts:AssumeRole|sts:TagSession|cloudformation:(Get|Describe|List)\w+)$/);
    }
    const assume = statements.find((s) => actions([s]).includes('sts:AssumeRole'))!;
    expect(assume.Resource).toBe(`arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-lookup-role-${ACCOUNT}-ap-northeast-1`);
  });

  it('lets the operator role port-forward to this cluster only, with the two forwarding documents', () => {
    const statements = policyOf('dev-github-operator') as Array<{
      Action: string | string[];
      Resource: string[];
      Condition?: unknown;
    }>;
    const startSession = statements.find((s) => actions([s]).includes('ssm:StartSession'))!;
    expect(startSession.Resource.sort()).toEqual([
      `arn:aws:ecs:ap-northeast-1:${ACCOUNT}:task/dev-cluster/*`,
      'arn:aws:ssm:ap-northeast-1::document/AWS-StartPortForwardingSession',
      'arn:aws:ssm:ap-northeast-1::document/AWS-StartPortForwardingSessionToRemoteHost',
    ]);
    expect(startSession.Condition).toEqual({ BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } });
    const forwarding = [
      'ecs:DescribeServices',
      'ecs:DescribeTasks',
      'ecs:ListTasks',
      'ssm:ResumeSession',
      'ssm:StartSession',
      'ssm:TerminateSession',
    ];
    expect(actions(statements)).toEqual(expect.arrayContaining(forwarding));
    // Beyond forwarding, only reads (the stack outputs and the doctor's diagnostics).
    for (const action of actions(statements).filter((a) => !forwarding.includes(a))) {
      expect(action).toMatch(
        /^(cloudformation:DescribeStacks|ecs:Describe\w+|ec2:Describe\w+|iam:(Get|List)\w+|iam:SimulatePrincipalPolicy|logs:DescribeLogGroups)$/,
      );
    }
    const listTasks = statements.find((s) => actions([s]).includes('ecs:ListTasks'))!;
    expect(listTasks.Condition).toEqual({
      ArnEquals: { 'ecs:cluster': `arn:aws:ecs:ap-northeast-1:${ACCOUNT}:cluster/dev-cluster` },
    });
    // Never a shell: no Run Command, no ECS Exec command, no shell document.
    expect(JSON.stringify(statements)).not.toMatch(/SendCommand|ecs:ExecuteCommand|SSM-SessionManagerRunShell/);
  });

  it('offers developers the same forwarding rights as a named managed policy, as an output', () => {
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'dev-developer-port-forward',
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'ssm:StartSession' })]) },
    });
    template.hasOutput('DeveloperPolicyArn', {});
  });

  it('defines a CloudFormation execution policy that cannot open an internet path or mint unbounded roles', () => {
    const [policy] = resourcesOfType(template, 'AWS::IAM::ManagedPolicy').filter(
      (p) => p.Properties.ManagedPolicyName === 'dev-cfn-execution',
    );
    const statements = policy!.Properties.PolicyDocument.Statement as Array<{
      Sid: string;
      Effect: string;
      Action: string[];
      Resource: unknown;
      Condition?: Record<string, Record<string, unknown>>;
    }>;
    const allowed = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action);
    for (const forbidden of [
      'ec2:CreateInternetGateway',
      'ec2:AttachInternetGateway',
      'ec2:CreateNatGateway',
      'ec2:AllocateAddress',
      'ec2:CreateRoute',
      'ec2:RunInstances',
      'ec2:CreateVpcPeeringConnection',
      'iam:CreateUser',
      'iam:CreateAccessKey',
      'iam:CreatePolicy',
    ]) {
      expect(allowed).not.toContain(forbidden);
    }
    expect(allowed.filter((action) => action === '*' || /^[a-z0-9-]+:\*$/.test(action))).toEqual([]);
    const createRole = statements.find((s) => s.Action.includes('iam:CreateRole'))!;
    expect(createRole.Condition).toEqual({
      StringEquals: { 'iam:PermissionsBoundary': `arn:aws:iam::${ACCOUNT}:policy/dev-workload-boundary` },
    });
    const deny = statements.find((s) => s.Effect === 'Deny')!;
    expect(deny.Action).toContain('iam:DeleteRolePermissionsBoundary');
  });

  it('defines the permissions boundary the workload stacks apply, with no IAM rights in it', () => {
    const [boundary] = resourcesOfType(template, 'AWS::IAM::ManagedPolicy').filter(
      (p) => p.Properties.ManagedPolicyName === 'dev-workload-boundary',
    );
    const allowed = (boundary!.Properties.PolicyDocument.Statement as Array<{ Action: string[] }>).flatMap(
      (s) => s.Action,
    );
    expect(allowed.filter((action) => action.startsWith('iam:') || action.startsWith('sts:'))).toEqual([]);
    expect(allowed).toEqual(
      expect.arrayContaining(['ssmmessages:OpenDataChannel', 'ecr:BatchGetImage', 'logs:PutLogEvents']),
    );
  });

  it('outputs every ARN the set-up needs', () => {
    for (const output of [
      'GitHubOidcProviderArn',
      'PullRequestRoleArn',
      'DeployRoleArn',
      'OperatorRoleArn',
      'DeveloperPolicyArn',
      'PermissionsBoundaryArn',
      'CloudFormationExecutionPolicyArn',
    ]) {
      template.hasOutput(output, {});
    }
  });
});

describe('GitHub OIDC stack options', () => {
  it('imports an existing provider by ARN instead of creating one', () => {
    const arn = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
    const template = synthesize(environment('canary', { github: { existingOidcProviderArn: arn } }, ACCOUNT)).oidc;
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    for (const role of resourcesOfType(template, 'AWS::IAM::Role')) {
      expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Federated: arn });
    }
  });

  it('uses the immutable subject format when the owner and repository ids are configured', () => {
    const template = synthesize(environment('dev', { github: { ownerId: '9919', repoId: '123456' } })).oidc;
    const subjects = resourcesOfType(template, 'AWS::IAM::Role').flatMap((role) => {
      const sub =
        role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals[
          'token.actions.githubusercontent.com:sub'
        ];
      return Array.isArray(sub) ? sub : [sub];
    });
    expect(subjects.length).toBeGreaterThan(0);
    for (const subject of subjects) expect(subject).toMatch(/^repo:example-org-9919\/private-aws-gitops-123456:/);
  });
});
