import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { cdk } from '../../test/helpers/cdk-cli.js';
import { motoClientConfig, startMoto, type LocalAws } from '../../test/helpers/moto.js';

/**
 * The documented set-up (docs/setup.md), played against moto with the real CDK CLI and cdk.json:
 * bootstrap with the least-privilege execution policy, deploy the OIDC stack as an administrator,
 * then deploy the network and service stacks as the deploy workflow does.
 */
describe('deploy dev to the local AWS (moto) with the CDK CLI', () => {
  let aws: LocalAws;
  let assembly: string;
  let outputs: Record<string, Record<string, string>>;

  beforeAll(async () => {
    aws = await startMoto();
    const env = aws.env();
    assembly = mkdtempSync(join(tmpdir(), 'cdk-out-'));
    await cdk(['synth', '--quiet', '-c', 'environments=dev', '--output', assembly], env);
    const policy = `arn:aws:iam::${aws.account}:policy/dev-cfn-execution`;
    await cdk(
      [
        'bootstrap',
        `aws://${aws.account}/${aws.region}`,
        '--app',
        assembly,
        '--cloudformation-execution-policies',
        policy,
      ],
      env,
    );
    // moto applies change sets only for creation: `--method=direct` is what works for updates too.
    const deploy = async (name: string, stacks: string[]): Promise<Record<string, Record<string, string>>> => {
      const outputsFile = join(assembly, `${name}-outputs.json`);
      await cdk(
        [
          'deploy',
          '--app',
          assembly,
          '--method=direct',
          '--require-approval',
          'never',
          '--outputs-file',
          outputsFile,
          ...stacks,
        ],
        env,
      );
      return JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>;
    };
    outputs = {
      ...(await deploy('admin', ['dev-github-oidc'])),
      ...(await deploy('workflow', ['dev-network', 'dev-service'])),
    };
  }, 180_000);

  afterAll(async () => {
    await aws?.stop();
    if (assembly) rmSync(assembly, { recursive: true, force: true });
  });

  it('brings every stack to CREATE_COMPLETE', async () => {
    const cloudformation = new CloudFormationClient(motoClientConfig(aws));
    for (const stackName of ['dev-github-oidc', 'dev-network', 'dev-service']) {
      const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
      expect(Stacks?.[0]?.StackStatus).toBe('CREATE_COMPLETE');
    }
  });

  it('outputs the service coordinates the smoke test and forwarding need', () => {
    expect(outputs['dev-service']).toMatchObject({
      ClusterName: 'dev-cluster',
      ServiceName: 'dev-nginx',
      ContainerName: 'nginx',
      ContainerPort: '80',
      AppLogGroupName: expect.stringMatching(/^dev-service-/),
      ExecLogGroupName: expect.stringMatching(/^dev-service-/),
    });
    expect(outputs['dev-github-oidc']).toMatchObject({
      DeployRoleArn: `arn:aws:iam::${aws.account}:role/dev-github-deploy`,
      CloudFormationExecutionPolicyArn: `arn:aws:iam::${aws.account}:policy/dev-cfn-execution`,
    });
  });

  it('created a VPC with no internet or NAT gateway, no route out, and the endpoints', async () => {
    const ec2 = new EC2Client(motoClientConfig(aws));
    const vpcId = outputs['dev-network']!.VpcId!;
    const inVpc = [{ Name: 'vpc-id', Values: [vpcId] }];
    const gateways = await ec2.send(
      new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }),
    );
    expect(gateways.InternetGateways).toEqual([]);
    const nats = await ec2.send(new DescribeNatGatewaysCommand({ Filter: inVpc }));
    expect(nats.NatGateways ?? []).toEqual([]);
    const subnets = await ec2.send(new DescribeSubnetsCommand({ Filters: inVpc }));
    expect(subnets.Subnets).toHaveLength(2);
    // (moto ignores MapPublicIpOnLaunch from templates; the template tests assert it is false.)
    const tables = await ec2.send(new DescribeRouteTablesCommand({ Filters: inVpc }));
    const routes = tables.RouteTables!.flatMap((table) => table.Routes ?? []);
    expect(routes.filter((route) => route.GatewayId?.startsWith('igw-') || route.NatGatewayId)).toEqual([]);
    expect(routes.filter((route) => route.DestinationCidrBlock === '0.0.0.0/0')).toEqual([]);
    const endpoints = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: inVpc }));
    const services = endpoints.VpcEndpoints!.map((e) => e.ServiceName!.split('.').slice(3).join('.')).sort();
    expect(services).toEqual(['ecr.api', 'ecr.dkr', 'logs', 's3', 'ssmmessages']);
    const group = await ec2.send(
      new DescribeSecurityGroupsCommand({ GroupIds: [outputs['dev-network']!.EndpointSecurityGroupId!] }),
    );
    expect(group.SecurityGroups![0]!.IpPermissions).toEqual([
      expect.objectContaining({
        FromPort: 443,
        ToPort: 443,
        IpProtocol: 'tcp',
        IpRanges: [expect.objectContaining({ CidrIp: '10.10.0.0/22' })],
      }),
    ]);
  });

  it('created the GitHub roles with their exact trust', async () => {
    const iam = new IAMClient(motoClientConfig(aws));
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'dev-github-deploy' }));
    const trust = JSON.parse(decodeURIComponent(Role!.AssumeRolePolicyDocument!)) as {
      Statement: Array<{ Condition: unknown }>;
    };
    expect(trust.Statement[0]!.Condition).toEqual({
      StringEquals: {
        'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
        'token.actions.githubusercontent.com:sub': [
          'repo:example-org/private-aws-gitops:ref:refs/heads/main',
          'repo:example-org/private-aws-gitops:environment:dev',
        ],
      },
    });
  });
});
