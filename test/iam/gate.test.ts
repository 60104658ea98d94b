import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackResourceDriftsCommand,
  DescribeStacksCommand,
  DetectStackDriftCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  AttachRolePolicyCommand,
  DeleteRolePolicyCommand,
  PutRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { IamGate } from '../helpers/iam/gate.js';
import { startMoto, type LocalAws } from '../helpers/moto.js';

/**
 * The IAM gate refuses what AWS would refuse, and only that: each rule with a call it must allow
 * and one it must refuse, through real SDK clients.
 */
describe('the IAM gate in front of the local AWS', () => {
  let aws: LocalAws;
  let gate: IamGate;
  let admin: { accessKeyId: string; secretAccessKey: string };
  const policy = (statements: unknown[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });
  const client = <T>(Client: new (config: object) => T, credentials: object): T =>
    new Client({ endpoint: gate.endpoint, region: aws.region, credentials, maxAttempts: 1 });

  /** A role the administrator creates, trusting the account, and a session of it. */
  async function roleSession(name: string, statements: unknown[], boundary?: unknown[]): Promise<object> {
    const iam = client(IAMClient, admin);
    let boundaryArn: string | undefined;
    if (boundary) {
      const created = await iam.send(
        new CreatePolicyCommand({ PolicyName: `${name}-boundary`, PolicyDocument: policy(boundary) }),
      );
      boundaryArn = created.Policy?.Arn;
    }
    await iam.send(
      new CreateRoleCommand({
        RoleName: name,
        AssumeRolePolicyDocument: policy([
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${aws.account}:root` }, Action: 'sts:AssumeRole' },
        ]),
        PermissionsBoundary: boundaryArn,
      }),
    );
    const { Policy } = await iam.send(
      new CreatePolicyCommand({ PolicyName: `${name}-policy`, PolicyDocument: policy(statements) }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: Policy!.Arn! }));
    const { Credentials } = await client(STSClient, admin).send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${aws.account}:role/${name}`, RoleSessionName: 'test' }),
    );
    return {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretAccessKey!,
      sessionToken: Credentials!.SessionToken!,
    };
  }

  beforeAll(async () => {
    aws = await startMoto();
    gate = await new IamGate({ aws }).start();
    admin = gate.administrator();
    await client(SSMClient, admin).send(new PutParameterCommand({ Name: '/team/a', Value: 'a', Type: 'String' }));
    await client(SSMClient, admin).send(new PutParameterCommand({ Name: '/team/b', Value: 'b', Type: 'String' }));
  }, 60_000);

  afterAll(async () => {
    await gate?.stop();
    await aws?.stop();
  });

  it('refuses a key it did not hand out', async () => {
    const stranger = client(STSClient, { accessKeyId: 'AKIASTRANGER', secretAccessKey: 'x' });
    await expect(stranger.send(new GetCallerIdentityCommand({}))).rejects.toThrow(
      /security token included in the request is invalid/,
    );
  });

  it('allows an action on the resource a policy names, and refuses it on another (moto alone allows both)', async () => {
    const session = await roleSession('reader', [
      {
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: `arn:aws:ssm:${aws.region}:${aws.account}:parameter/team/a`,
      },
    ]);
    const ssm = client(SSMClient, session);
    await expect(ssm.send(new GetParameterCommand({ Name: '/team/a' }))).resolves.toMatchObject({
      Parameter: { Value: 'a' },
    });
    await expect(ssm.send(new GetParameterCommand({ Name: '/team/b' }))).rejects.toThrow(
      /is not authorized to perform: ssm:GetParameter on resource: .*parameter\/team\/b/,
    );
  });

  it('evaluates conditions moto ignores (a statement for another Region does not allow)', async () => {
    const session = await roleSession('elsewhere', [
      {
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: '*',
        Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-2' } },
      },
    ]);
    await expect(client(SSMClient, session).send(new GetParameterCommand({ Name: '/team/a' }))).rejects.toThrow(
      /not authorized to perform: ssm:GetParameter/,
    );
  });

  it('caps a role by its permissions boundary', async () => {
    const session = await roleSession(
      'bounded',
      [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' }],
      [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: `arn:aws:ssm:*:*:parameter/team/a` }],
    );
    const ssm = client(SSMClient, session);
    await expect(ssm.send(new GetParameterCommand({ Name: '/team/a' }))).resolves.toBeDefined();
    await expect(ssm.send(new GetParameterCommand({ Name: '/team/b' }))).rejects.toThrow(/bounded-boundary does not/);
  });

  it("applies a change to a role's policies at the role's next call (what the gate read of IAM is not kept past it)", async () => {
    const session = await roleSession('changing', [
      {
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: `arn:aws:ssm:${aws.region}:${aws.account}:parameter/team/a`,
      },
    ]);
    const ssm = client(SSMClient, session);
    await expect(ssm.send(new GetParameterCommand({ Name: '/team/b' }))).rejects.toThrow(/not authorized/);
    const iam = client(IAMClient, admin);
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'changing',
        PolicyName: 'team-b',
        PolicyDocument: policy([{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' }]),
      }),
    );
    await expect(ssm.send(new GetParameterCommand({ Name: '/team/b' }))).resolves.toBeDefined();
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'changing', PolicyName: 'team-b' }));
    await expect(ssm.send(new GetParameterCommand({ Name: '/team/b' }))).rejects.toThrow(/not authorized/);
  });

  it('refuses an operation nobody modelled, saying where to model it', async () => {
    const session = await roleSession('wide', [{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    await expect(
      client(IAMClient, session).send(new CreatePolicyCommand({ PolicyName: 'x', PolicyDocument: policy([]) })),
    ).rejects.toThrow(/iam:CreatePolicy is not modelled in test\/helpers\/iam\/operations\.ts/);
  });

  it('assumes a role only when the caller may and the role trusts it', async () => {
    const iam = client(IAMClient, admin);
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'target',
        AssumeRolePolicyDocument: policy([
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${aws.account}:root` }, Action: 'sts:AssumeRole' },
        ]),
      }),
    );
    const allowed = await roleSession('may-assume', [
      { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${aws.account}:role/target` },
    ]);
    const refused = await roleSession('may-not-assume', [
      { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' },
    ]);
    const assume = (credentials: object) =>
      client(STSClient, credentials).send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${aws.account}:role/target`, RoleSessionName: 's' }),
      );
    await expect(assume(allowed)).resolves.toMatchObject({
      AssumedRoleUser: { Arn: expect.stringContaining('assumed-role/target/s') },
    });
    await expect(assume(refused)).rejects.toThrow(/not authorized to perform: sts:AssumeRole/);
  });

  it('refuses a stack whose role attaches a policy that does not exist, as CloudFormation would', async () => {
    const cloudformation = client(CloudFormationClient, admin);
    const template = {
      Resources: {
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            AssumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
              ],
            },
            ManagedPolicyArns: [`arn:aws:iam::${aws.account}:policy/created-later`],
          },
        },
      },
    };
    await expect(
      cloudformation.send(
        new CreateStackCommand({
          StackName: 'too-early',
          TemplateBody: JSON.stringify(template),
          Capabilities: ['CAPABILITY_IAM'],
        }),
      ),
    ).rejects.toThrow(/Policy arn:aws:iam::\d+:policy\/created-later does not exist or is not attachable/);
    await expect(cloudformation.send(new DescribeStacksCommand({ StackName: 'too-early' }))).rejects.toThrow(
      /does not exist/,
    );
  });

  it('refuses a stack CloudFormation would fail as its execution role, naming the action', async () => {
    const iam = client(IAMClient, admin);
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'narrow-exec',
        AssumeRolePolicyDocument: policy([
          { Effect: 'Allow', Principal: { Service: 'cloudformation.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ]),
      }),
    );
    const { Policy } = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'narrow-exec-policy',
        PolicyDocument: policy([{ Effect: 'Allow', Action: 'ssm:*', Resource: '*' }]),
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'narrow-exec', PolicyArn: Policy!.Arn! }));
    const template = {
      Resources: {
        Provider: {
          Type: 'AWS::IAM::OIDCProvider',
          Properties: { Url: 'https://token.actions.githubusercontent.com', ClientIdList: ['sts.amazonaws.com'] },
        },
      },
    };
    await expect(
      client(CloudFormationClient, admin).send(
        new CreateStackCommand({
          StackName: 'through-exec',
          TemplateBody: JSON.stringify(template),
          RoleARN: `arn:aws:iam::${aws.account}:role/narrow-exec`,
        }),
      ),
    ).rejects.toThrow(/Provider \(AWS::IAM::OIDCProvider, create\): iam:CreateOpenIDConnectProvider/);
  });

  it("does what moto's CloudFormation leaves out: the OIDC provider and a role's managed policies", async () => {
    const iam = client(IAMClient, admin);
    const { Policy } = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'attached-by-stack',
        PolicyDocument: policy([{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' }]),
      }),
    );
    const template = {
      Resources: {
        Provider: {
          Type: 'AWS::IAM::OIDCProvider',
          Properties: { Url: 'https://token.actions.githubusercontent.com', ClientIdList: ['sts.amazonaws.com'] },
        },
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            RoleName: 'from-stack',
            AssumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { Federated: { Ref: 'Provider' } },
                  Action: 'sts:AssumeRoleWithWebIdentity',
                },
              ],
            },
            ManagedPolicyArns: [Policy!.Arn!],
          },
        },
      },
      Outputs: { ProviderArn: { Value: { Ref: 'Provider' } } },
    };
    const cloudformation = client(CloudFormationClient, admin);
    await cloudformation.send(
      new CreateStackCommand({
        StackName: 'with-provider',
        TemplateBody: JSON.stringify(template),
        Capabilities: ['CAPABILITY_NAMED_IAM'],
      }),
    );
    const arn = `arn:aws:iam::${aws.account}:oidc-provider/token.actions.githubusercontent.com`;
    await expect(
      iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })),
    ).resolves.toMatchObject({
      ClientIDList: ['sts.amazonaws.com'],
    });
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: 'with-provider' }));
    expect(Stacks![0]!.Outputs).toEqual([expect.objectContaining({ OutputKey: 'ProviderArn', OutputValue: arn })]);
    const { AttachedPolicies } = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'from-stack' }));
    expect(AttachedPolicies!.map((p) => p.PolicyArn)).toEqual([Policy!.Arn]);
  });

  it('detects drift, which moto lacks: an out-of-band change is MODIFIED with its property differences', async () => {
    const cloudformation = client(CloudFormationClient, admin);
    const template = {
      Resources: {
        Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: 'drifting', RetentionInDays: 30 } },
        Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
      },
    };
    await cloudformation.send(
      new CreateStackCommand({ StackName: 'drifting', TemplateBody: JSON.stringify(template) }),
    );
    const detect = async (credentials: object) => {
      const cf = client(CloudFormationClient, credentials);
      const { StackDriftDetectionId } = await cf.send(new DetectStackDriftCommand({ StackName: 'drifting' }));
      return cf.send(new DescribeStackDriftDetectionStatusCommand({ StackDriftDetectionId }));
    };
    await expect(detect(admin)).resolves.toMatchObject({
      DetectionStatus: 'DETECTION_COMPLETE',
      StackDriftStatus: 'IN_SYNC',
    });

    await client(CloudWatchLogsClient, admin).send(
      new PutRetentionPolicyCommand({ logGroupName: 'drifting', retentionInDays: 7 }),
    );
    await expect(detect(admin)).resolves.toMatchObject({ StackDriftStatus: 'DRIFTED', DriftedStackResourceCount: 1 });
    const { StackResourceDrifts } = await cloudformation.send(
      new DescribeStackResourceDriftsCommand({ StackName: 'drifting', StackResourceDriftStatusFilters: ['MODIFIED'] }),
    );
    expect(StackResourceDrifts).toEqual([
      expect.objectContaining({
        LogicalResourceId: 'Logs',
        StackResourceDriftStatus: 'MODIFIED',
        PropertyDifferences: [
          { PropertyPath: '/RetentionInDays', ExpectedValue: '30', ActualValue: '7', DifferenceType: 'NOT_EQUAL' },
        ],
      }),
    ]);
    // Types it cannot read are reported NOT_CHECKED, as AWS does for types without drift support.
    const all = await cloudformation.send(new DescribeStackResourceDriftsCommand({ StackName: 'drifting' }));
    expect(all.StackResourceDrifts?.find((d) => d.LogicalResourceId === 'Topic')?.StackResourceDriftStatus).toBe(
      'NOT_CHECKED',
    );

    // Drift detection reads the resources with the caller's rights.
    const blind = await roleSession('blind', [
      {
        Effect: 'Allow',
        Action: ['cloudformation:DetectStackDrift', 'cloudformation:DescribeStackDriftDetectionStatus'],
        Resource: '*',
      },
    ]);
    await expect(detect(blind)).resolves.toMatchObject({
      DetectionStatus: 'DETECTION_FAILED',
      DetectionStatusReason: expect.stringContaining('logs:DescribeLogGroups'),
    });
  });
});
