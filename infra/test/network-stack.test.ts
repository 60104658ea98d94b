import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { EnvironmentConfig } from '../lib/config.js';
import { KEY_DEPLOYER_ACTIONS } from '../lib/constructs/log-encryption-key.js';
import { bootstrapNames, resourceNames } from '../lib/names.js';
import { ENVIRONMENTS } from '../lib/project.js';
import { environment, FIRST, partitionOf, synthesize } from './helpers/app.js';
import { resourcesOfType } from './helpers/template.js';

const BASE_ENDPOINTS = ['ecr.api', 'ecr.dkr', 'logs', 'ssmmessages'];
const DEBUG_ENDPOINTS = ['ec2messages', 'ssm'];
const expectedEndpoints = (env: EnvironmentConfig): string[] =>
  [...BASE_ENDPOINTS, ...(env.ec2DebugEndpoints ? DEBUG_ENDPOINTS : [])].sort();

describe.each(ENVIRONMENTS.map((env) => [env.name, env] as const))('network stack of %s', (_name, configured) => {
  let template: Template;
  let env: EnvironmentConfig;
  beforeAll(() => {
    env = environment(configured.name);
    template = synthesize(env).network;
  });

  it('has no inbound path from the internet: no internet or NAT gateway, no EIP, no route out', () => {
    for (const type of [
      'AWS::EC2::InternetGateway',
      'AWS::EC2::EgressOnlyInternetGateway',
      'AWS::EC2::VPCGatewayAttachment',
      'AWS::EC2::NatGateway',
      'AWS::EC2::EIP',
      'AWS::EC2::Route',
      'AWS::EC2::TransitGatewayAttachment',
      'AWS::EC2::VPCPeeringConnection',
    ]) {
      template.resourceCountIs(type, 0);
    }
  });

  it('has one isolated subnet per configured AZ, none mapping public IPs', () => {
    const subnets = resourcesOfType(template, 'AWS::EC2::Subnet');
    expect(subnets).toHaveLength(env.azCount);
    for (const subnet of subnets) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
      expect(JSON.stringify(subnet.Properties.Tags)).toContain('Isolated');
    }
  });

  it('uses the configured CIDR with DNS support for private endpoint names', () => {
    template.hasResourceProperties('AWS::EC2::VPC', {
      CidrBlock: env.vpcCidr,
      EnableDnsHostnames: true,
      EnableDnsSupport: true,
    });
  });

  it('has an S3 gateway endpoint on the isolated route tables', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('\\.s3$')])] }),
      RouteTableIds: Match.arrayWith([Match.objectLike({ Ref: Match.stringLikeRegexp('isolated') })]),
    });
  });

  it('has exactly the interface endpoints ECS Exec and image pulls need, with private DNS', () => {
    expect(interfaceEndpointServices(template)).toEqual(expectedEndpoints(env));
    for (const endpoint of resourcesOfType(template, 'AWS::EC2::VPCEndpoint')) {
      if (endpoint.Properties.VpcEndpointType === 'Interface') expect(endpoint.Properties.PrivateDnsEnabled).toBe(true);
    }
  });

  it('lets the endpoints accept only HTTPS from the VPC CIDR', () => {
    const groups = resourcesOfType(template, 'AWS::EC2::SecurityGroup');
    expect(groups).toHaveLength(1);
    expect(groups[0]!.Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ CidrIp: env.vpcCidr, IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    expect(JSON.stringify(template.toJSON())).not.toContain('0.0.0.0/0');
  });

  it("lets the interface endpoints serve only this account's identities on this account's resources", () => {
    for (const endpoint of resourcesOfType(template, 'AWS::EC2::VPCEndpoint')) {
      if (endpoint.Properties.VpcEndpointType !== 'Interface') continue;
      const statements = endpoint.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
      const [first, ...rest] = statements;
      expect(first).toEqual({
        Sid: 'OnlyThisAccountsIdentitiesAndResources',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: expect.stringMatching(/^[a-z0-9]+:\*$/),
        Resource: '*',
        Condition: { StringEquals: { 'aws:PrincipalAccount': env.account, 'aws:ResourceAccount': env.account } },
      });
      // Beyond it, only the ssm endpoint's read of AWS-owned documents and parameters, by this account.
      for (const statement of rest) {
        expect(statement).toMatchObject({
          Condition: { StringEquals: { 'aws:PrincipalAccount': env.account } },
          Action: ['ssm:Describe*', 'ssm:Get*', 'ssm:List*'],
        });
      }
    }
  });

  it("lets the S3 gateway reach this account's buckets and ECR's layer bucket only", () => {
    const [gateway] = resourcesOfType(template, 'AWS::EC2::VPCEndpoint').filter(
      (endpoint) => endpoint.Properties.VpcEndpointType === 'Gateway',
    );
    expect(gateway!.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Action: 's3:*',
        Resource: '*',
        Condition: { StringEquals: { 'aws:PrincipalAccount': env.account, 'aws:ResourceAccount': env.account } },
      }),
      {
        Sid: 'EcrImageLayers',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 's3:GetObject',
        Resource: `arn:${partitionOf(env.region)}:s3:::prod-${env.region}-starport-layer-bucket/*`,
      },
    ]);
  });

  it("keeps the flow logs when the stack goes, encrypted with the environment's rotated key, kept too", () => {
    const keys = template.findResources('AWS::KMS::Key');
    expect(Object.values(keys)).toEqual([
      expect.objectContaining({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: expect.objectContaining({ EnableKeyRotation: true }),
      }),
    ]);
    const [keyId] = Object.keys(keys);
    const [group] = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(group).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    });
    const partition = partitionOf(env.region);
    const statements = Object.values(keys)[0]!.Properties.KeyPolicy.Statement as Array<Record<string, unknown>>;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Principal: { Service: `logs.${env.region}.amazonaws.com` },
        Condition: {
          ArnLike: {
            // The environment's one key: this stack's flow logs and the service stack's log groups.
            'kms:EncryptionContext:aws:logs:arn': [
              `arn:${partition}:logs:${env.region}:${env.account}:log-group:${resourceNames(env).networkStack}-*`,
              `arn:${partition}:logs:${env.region}:${env.account}:log-group:${resourceNames(env).serviceStack}-*`,
            ],
          },
        },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Sid: 'DeployerMaintainsTheKey',
        Principal: {
          AWS: bootstrapNames({ ...env, qualifier: env.bootstrapQualifier, partition }).roleArn('cfn-exec'),
        },
        Resource: '*',
      }),
    );
    const deployerStatement = statements.find((s) => s.Sid === 'DeployerMaintainsTheKey');
    expect([...(deployerStatement!.Action as string[])].sort()).toEqual([...KEY_DEPLOYER_ACTIONS].sort());
    // Nobody is given what would make the logs unreadable: disabling or deleting the key.
    expect(JSON.stringify(statements.filter((s) => s !== statements[0]))).not.toMatch(
      /ScheduleKeyDeletion|DisableKey|kms:\*/,
    );
  });

  it("lets VPC Flow Logs assume the delivery role only for this account's flow logs", () => {
    const [role] = resourcesOfType(template, 'AWS::IAM::Role');
    expect(role!.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': env.account },
          ArnLike: {
            'aws:SourceArn': `arn:${partitionOf(env.region)}:ec2:${env.region}:${env.account}:vpc-flow-log/*`,
          },
        },
      }),
    ]);
  });

  it('logs every flow to a CloudWatch log group with the configured retention', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    const groups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(env.logRetentionDays);
  });

  it("gives the flow log role the environment's permissions boundary", () => {
    const roles = resourcesOfType(template, 'AWS::IAM::Role');
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      expect(role.Properties.PermissionsBoundary).toBe(
        `arn:${partitionOf(env.region)}:iam::${env.account}:policy/${resourceNames(env).permissionsBoundary}`,
      );
    }
  });

  it('keeps the VPC logical ID (renaming it would replace the network)', () => {
    expect(Object.keys(template.findResources('AWS::EC2::VPC'))).toEqual(['NetworkVpc7FB7348F']);
  });

  it('outputs the VPC, flow log group and its key, and the endpoint security group', () => {
    for (const output of ['VpcId', 'FlowLogGroupName', 'LogKeyArn', 'EndpointSecurityGroupId'])
      template.hasOutput(output, {});
  });
});

describe('network stack options', () => {
  it.each([true, false])(
    'creates ssm and ec2messages endpoints only behind the debug flag (%s)',
    (ec2DebugEndpoints) => {
      const env = environment(FIRST.name, { ec2DebugEndpoints });
      const services = interfaceEndpointServices(synthesize(env).network);
      expect(services).toEqual(ec2DebugEndpoints ? [...BASE_ENDPOINTS, ...DEBUG_ENDPOINTS].sort() : BASE_ENDPOINTS);
    },
  );

  it.each([1, 2, 3])('spreads over %i AZ(s) without an account lookup', (azCount) => {
    const template = synthesize(environment(FIRST.name, { azCount })).network;
    const subnets = resourcesOfType(template, 'AWS::EC2::Subnet');
    expect(subnets).toHaveLength(azCount);
    expect(JSON.stringify(subnets[0]!.Properties.AvailabilityZone)).toContain('Fn::GetAZs');
  });

  it('uses another CIDR and retention when configured', () => {
    const vpcCidr = FIRST.vpcCidr === '172.16.4.0/24' ? '172.16.8.0/24' : '172.16.4.0/24';
    const logRetentionDays = FIRST.logRetentionDays === 90 ? 60 : 90;
    const template = synthesize(environment(FIRST.name, { vpcCidr, logRetentionDays })).network;
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: vpcCidr });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: vpcCidr })],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: logRetentionDays });
  });
});

/** The service part of each interface endpoint's name (`com.amazonaws.<region>.<service>`). */
function interfaceEndpointServices(template: Template): string[] {
  return resourcesOfType(template, 'AWS::EC2::VPCEndpoint')
    .filter((endpoint) => endpoint.Properties.VpcEndpointType === 'Interface')
    .map((endpoint) => {
      const name = endpoint.Properties.ServiceName as string | { 'Fn::Join': [string, string[]] };
      const flat = typeof name === 'string' ? name : name['Fn::Join'][1].join('');
      return flat.replace(/^com\.amazonaws\.[a-z0-9-]+\./, '');
    })
    .sort();
}
