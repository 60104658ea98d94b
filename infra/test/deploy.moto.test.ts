import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import {
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetRoleCommand, IAMClient, ListOpenIDConnectProvidersCommand } from '@aws-sdk/client-iam';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { cdk } from '../../test/helpers/cdk-cli.js';
import { motoClientConfig, startMoto, type LocalAws } from '../../test/helpers/moto.js';
import { subjectPrefix } from '../lib/config.js';
import {
  bootstrapArgs,
  bootstrapNames,
  CONTAINER_NAME,
  CONTAINER_PORT,
  foundationDeployArgs,
  GITHUB_OIDC_HOST,
  jobWorkflowRef,
  ROLE_WORKFLOWS,
  OIDC_PROVIDER_STACK,
  oidcProviderArn,
  resourceNames,
  STS_AUDIENCE,
} from '../lib/names.js';
import { FIRST, partitionOf } from './helpers/app.js';

const NAMES = resourceNames(FIRST);
const TARGET = { ...FIRST, qualifier: FIRST.bootstrapQualifier };
const BOOTSTRAP = bootstrapNames({ ...TARGET, partition: partitionOf(FIRST.region) });
const PARTITION = partitionOf(FIRST.region);

/** The items of a CommaDelimitedList parameter value, as AWS (`a,b`) or moto (`['a', 'b']`) reports it. */
function commaDelimited(value: string | undefined): string[] {
  const list = /^\[(.*)\]$/s.exec(value ?? '')?.[1] ?? value ?? '';
  return list
    .split(',')
    .map((item) => item.trim().replace(/^'(.*)'$/, '$1'))
    .filter(Boolean);
}

/**
 * The documented set-up (docs/setup.md), played against moto with the real CDK CLI and cdk.json,
 * for the first configured environment: the administrator deploys the foundation (and the
 * account's OIDC provider stack with it) with their own credentials, then bootstraps the
 * environment with its own qualifier, the foundation's execution policy and boundary; then the
 * network and service stacks are deployed as the deploy workflow does.
 */
describe(`deploy ${FIRST.name} to the local AWS (moto) with the CDK CLI`, () => {
  let aws: LocalAws;
  let assembly: string;
  let cdkHome: string;
  let outputs: Record<string, Record<string, string>>;

  beforeAll(async () => {
    aws = await startMoto();
    // The CLI caches the account of each access key in $CDK_HOME (~/.cdk by default): the tests'
    // static key would keep whatever account an earlier run played. A fresh home per run.
    cdkHome = mkdtempSync(join(tmpdir(), 'cdk-home-'));
    const env = aws.env({ CDK_HOME: cdkHome });
    assembly = mkdtempSync(join(tmpdir(), 'cdk-out-'));
    await cdk(['synth', '--quiet', '-c', `environments=${FIRST.name}`, '--output', assembly], env);
    const withOutputs = async (label: string, argv: string[]): Promise<Record<string, Record<string, string>>> => {
      const outputsFile = join(assembly, `${label}-outputs.json`);
      await cdk(
        [
          ...argv.filter((arg, i) => arg !== '--app' && argv[i - 1] !== '--app'),
          '--app',
          assembly,
          '--outputs-file',
          outputsFile,
        ],
        env,
      );
      return JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>;
    };
    // 1. The administrator, with their own credentials: the foundation (and its provider stack).
    const foundation = await withOutputs('admin', foundationDeployArgs(FIRST));
    // 2. The administrator: the environment's own bootstrap, with the foundation's guardrails.
    await cdk(bootstrapArgs(TARGET, { app: assembly }), env);
    // 3. The deploy workflow. moto applies change sets only for creation: `--method=direct` works for updates too.
    const workload = await withOutputs('workflow', [
      'deploy',
      NAMES.networkStack,
      NAMES.serviceStack,
      '--method=direct',
      '--require-approval',
      'never',
    ]);
    outputs = { ...foundation, ...workload };
  }, 300_000);

  afterAll(async () => {
    await aws?.stop();
    for (const dir of [assembly, cdkHome]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const describeStack = async (stackName: string): Promise<Stack | undefined> => {
    const cloudformation = new CloudFormationClient(motoClientConfig(aws));
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    return Stacks?.[0];
  };

  it('plays the configured account and region', () => {
    expect(aws.account).toBe(FIRST.account);
    expect(aws.region).toBe(FIRST.region);
  });

  it('brings every stack to CREATE_COMPLETE', async () => {
    const stackNames = [NAMES.foundationStack, NAMES.networkStack, NAMES.serviceStack, BOOTSTRAP.toolkitStack];
    if (!FIRST.github.oidcProviderExists) stackNames.push(OIDC_PROVIDER_STACK);
    for (const stackName of stackNames) {
      expect([stackName, (await describeStack(stackName))?.StackStatus]).toEqual([stackName, 'CREATE_COMPLETE']);
    }
  });

  it("bootstrapped the environment with its own qualifier and the foundation's policy and boundary", async () => {
    const stack = await describeStack(BOOTSTRAP.toolkitStack);
    const parameters = Object.fromEntries(
      (stack?.Parameters ?? []).map((parameter) => [parameter.ParameterKey, parameter.ParameterValue]),
    );
    expect(parameters).toMatchObject({
      Qualifier: FIRST.bootstrapQualifier,
      InputPermissionsBoundary: BOOTSTRAP.executionBoundaryName,
    });
    // A CommaDelimitedList parameter: AWS echoes it as given (`a,b`), moto as a Python list (`['a', 'b']`).
    expect(commaDelimited(parameters.CloudFormationExecutionPolicies)).toEqual([BOOTSTRAP.executionPolicyArn]);
    const ssm = new SSMClient(motoClientConfig(aws));
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: BOOTSTRAP.versionParameter }));
    expect(Number(Parameter?.Value)).toBeGreaterThan(0);
  });

  it("deployed the workload through the environment's execution role, the foundation without one", async () => {
    for (const stackName of [NAMES.networkStack, NAMES.serviceStack]) {
      expect([stackName, (await describeStack(stackName))?.RoleARN]).toEqual([
        stackName,
        BOOTSTRAP.roleArn('cfn-exec'),
      ]);
    }
    expect((await describeStack(NAMES.foundationStack))?.RoleARN).toBeUndefined();
  });

  it("created the bootstrap roles under the environment's qualifier, the execution role bounded", async () => {
    const iam = new IAMClient(motoClientConfig(aws));
    for (const kind of ['deploy', 'file-publishing', 'image-publishing', 'lookup', 'cfn-exec'] as const) {
      const arn = BOOTSTRAP.roleArn(kind);
      const { Role } = await iam.send(new GetRoleCommand({ RoleName: arn.split('/').pop()! }));
      expect(Role?.Arn).toBe(arn);
    }
    const execution = BOOTSTRAP.roleArn('cfn-exec').split('/').pop()!;
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: execution }));
    expect(Role?.PermissionsBoundary?.PermissionsBoundaryArn).toBe(
      `arn:${PARTITION}:iam::${FIRST.account}:policy/${BOOTSTRAP.executionBoundaryName}`,
    );
    // (moto's CloudFormation ignores a role's ManagedPolicyArns, so the execution policy's attachment is
    // not observable here; the bootstrap stack's CloudFormationExecutionPolicies parameter is.)
  });

  it('outputs the service coordinates the smoke test and forwarding need', () => {
    expect(outputs[NAMES.serviceStack]).toMatchObject({
      ClusterName: NAMES.cluster,
      ServiceName: NAMES.service,
      ContainerName: CONTAINER_NAME,
      ContainerPort: String(CONTAINER_PORT),
      AppLogGroupName: expect.stringMatching(new RegExp(`^${NAMES.serviceStack}-`)),
      ExecLogGroupName: expect.stringMatching(new RegExp(`^${NAMES.serviceStack}-`)),
    });
    expect(outputs[NAMES.foundationStack]).toMatchObject({
      GitHubOidcProviderArn: oidcProviderArn(FIRST.account, PARTITION),
      DeployRoleArn: `arn:${PARTITION}:iam::${FIRST.account}:role/${NAMES.deployRole}`,
      CloudFormationExecutionPolicyArn: BOOTSTRAP.executionPolicyArn,
      CloudFormationExecutionBoundaryName: BOOTSTRAP.executionBoundaryName,
    });
  });

  it('created a VPC with no internet or NAT gateway, no route out, and the endpoints', async () => {
    const ec2 = new EC2Client(motoClientConfig(aws));
    const vpcId = outputs[NAMES.networkStack]!.VpcId!;
    const inVpc = [{ Name: 'vpc-id', Values: [vpcId] }];
    const gateways = await ec2.send(
      new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }),
    );
    expect(gateways.InternetGateways).toEqual([]);
    const nats = await ec2.send(new DescribeNatGatewaysCommand({ Filter: inVpc }));
    expect(nats.NatGateways ?? []).toEqual([]);
    const subnets = await ec2.send(new DescribeSubnetsCommand({ Filters: inVpc }));
    expect(subnets.Subnets).toHaveLength(FIRST.azCount);
    // (moto ignores MapPublicIpOnLaunch from templates; the template tests assert it is false.)
    const tables = await ec2.send(new DescribeRouteTablesCommand({ Filters: inVpc }));
    const routes = tables.RouteTables!.flatMap((table) => table.Routes ?? []);
    expect(routes.filter((route) => route.GatewayId?.startsWith('igw-') || route.NatGatewayId)).toEqual([]);
    expect(routes.filter((route) => route.DestinationCidrBlock === '0.0.0.0/0')).toEqual([]);
    const endpoints = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: inVpc }));
    const services = endpoints.VpcEndpoints!.map((e) => e.ServiceName!.split('.').slice(3).join('.')).sort();
    const debug = FIRST.ec2DebugEndpoints ? ['ec2messages', 'ssm'] : [];
    expect(services).toEqual(['ecr.api', 'ecr.dkr', 'logs', 's3', 'ssmmessages', ...debug].sort());
    const group = await ec2.send(
      new DescribeSecurityGroupsCommand({ GroupIds: [outputs[NAMES.networkStack]!.EndpointSecurityGroupId!] }),
    );
    expect(group.SecurityGroups![0]!.IpPermissions).toEqual([
      expect.objectContaining({
        FromPort: 443,
        ToPort: 443,
        IpProtocol: 'tcp',
        IpRanges: [expect.objectContaining({ CidrIp: FIRST.vpcCidr })],
      }),
    ]);
  });

  it("created the workload's log groups, named after their stacks (the key policies' and policies' scope)", async () => {
    const logs = new CloudWatchLogsClient(motoClientConfig(aws));
    const { logGroups = [] } = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: `${FIRST.name}-` }));
    const groups = logGroups.filter((group) =>
      [NAMES.networkStack, NAMES.serviceStack].some((stack) => group.logGroupName?.startsWith(`${stack}-`)),
    );
    expect(groups.map((group) => group.logGroupName).sort()).toEqual(
      [
        outputs[NAMES.networkStack]!.FlowLogGroupName,
        outputs[NAMES.serviceStack]!.ExecLogGroupName,
        outputs[NAMES.serviceStack]!.AppLogGroupName,
      ].sort(),
    );
    // (moto's CloudFormation drops a log group's KmsKeyId: the template tests assert the keys and
    // the encryption.)
  });

  it('created the GitHub roles with their exact trust in the account provider', async () => {
    const iam = new IAMClient(motoClientConfig(aws));
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: NAMES.deployRole }));
    const trust = JSON.parse(decodeURIComponent(Role!.AssumeRolePolicyDocument!)) as {
      Statement: Array<{ Principal: unknown; Condition: unknown }>;
    };
    const prefix = subjectPrefix(FIRST.github);
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0]!.Principal).toEqual({ Federated: oidcProviderArn(FIRST.account, PARTITION) });
    expect(trust.Statement[0]!.Condition).toEqual({
      StringEquals: {
        [`${GITHUB_OIDC_HOST}:aud`]: STS_AUDIENCE,
        [`${GITHUB_OIDC_HOST}:sub`]: `${prefix}:environment:${FIRST.name}`,
        [`${GITHUB_OIDC_HOST}:job_workflow_ref`]: ROLE_WORKFLOWS.deployRole.map((file) =>
          jobWorkflowRef(FIRST.github, file, FIRST.github.mainBranch),
        ),
        ...(FIRST.github.repoId !== undefined && FIRST.github.ownerId !== undefined
          ? {
              [`${GITHUB_OIDC_HOST}:repository_id`]: FIRST.github.repoId,
              [`${GITHUB_OIDC_HOST}:repository_owner_id`]: FIRST.github.ownerId,
            }
          : {}),
      },
    });
  });

  it('has the GitHub OIDC provider, when moto created it', async () => {
    // moto's CloudFormation skips AWS::IAM::OIDCProvider (it creates nothing for a type it does not
    // support): assert the provider's ARN only if it exists; the template tests assert the resource.
    const iam = new IAMClient(motoClientConfig(aws));
    const { OpenIDConnectProviderList } = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    const arns = (OpenIDConnectProviderList ?? []).map((provider) => provider.Arn);
    if (arns.length > 0) expect(arns).toEqual([oidcProviderArn(FIRST.account, PARTITION)]);
  });
});
