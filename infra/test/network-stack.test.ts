import { Match, type Template } from 'aws-cdk-lib/assertions';
import { environment, synthesize } from './helpers/app.js';
import { resourcesOfType } from './helpers/template.js';

describe('network stack (dev defaults)', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize(environment('dev')).network;
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

  it('has one isolated subnet per AZ, none mapping public IPs', () => {
    const subnets = resourcesOfType(template, 'AWS::EC2::Subnet');
    expect(subnets).toHaveLength(2);
    for (const subnet of subnets) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
      expect(JSON.stringify(subnet.Properties.Tags)).toContain('Isolated');
    }
  });

  it('uses the configured CIDR with DNS support for private endpoint names', () => {
    template.hasResourceProperties('AWS::EC2::VPC', {
      CidrBlock: '10.10.0.0/22',
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
    const services = interfaceEndpointServices(template);
    expect(services).toEqual(['ecr.api', 'ecr.dkr', 'logs', 'ssmmessages']);
    for (const endpoint of resourcesOfType(template, 'AWS::EC2::VPCEndpoint')) {
      if (endpoint.Properties.VpcEndpointType === 'Interface') expect(endpoint.Properties.PrivateDnsEnabled).toBe(true);
    }
  });

  it('lets the endpoints accept only HTTPS from the VPC CIDR', () => {
    const groups = resourcesOfType(template, 'AWS::EC2::SecurityGroup');
    expect(groups).toHaveLength(1);
    expect(groups[0]!.Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ CidrIp: '10.10.0.0/22', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    expect(JSON.stringify(template.toJSON())).not.toContain('0.0.0.0/0');
  });

  it('logs every flow to a CloudWatch log group with the configured retention', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('gives the flow log role the permissions boundary', () => {
    for (const role of resourcesOfType(template, 'AWS::IAM::Role')) {
      expect(JSON.stringify(role.Properties.PermissionsBoundary)).toContain('policy/dev-workload-boundary');
    }
  });

  it('keeps the VPC logical ID (renaming it would replace the network)', () => {
    expect(Object.keys(template.findResources('AWS::EC2::VPC'))).toEqual(['NetworkVpc7FB7348F']);
  });

  it('outputs the VPC, flow log group and endpoint security group', () => {
    for (const output of ['VpcId', 'FlowLogGroupName', 'EndpointSecurityGroupId']) template.hasOutput(output, {});
  });
});

describe('network stack options', () => {
  it('creates ssm and ec2messages endpoints only behind the debug flag', () => {
    const template = synthesize(environment('dev', { ec2DebugEndpoints: true })).network;
    expect(interfaceEndpointServices(template)).toEqual([
      'ec2messages',
      'ecr.api',
      'ecr.dkr',
      'logs',
      'ssm',
      'ssmmessages',
    ]);
  });

  it.each([1, 3])('spreads over %i AZ(s) without an account lookup', (azCount) => {
    const template = synthesize(environment('dev', { azCount }, '111122223333')).network;
    const subnets = resourcesOfType(template, 'AWS::EC2::Subnet');
    expect(subnets).toHaveLength(azCount);
    expect(JSON.stringify(subnets[0]!.Properties.AvailabilityZone)).toContain('Fn::GetAZs');
  });
});

/** The service part of each interface endpoint's name (`com.amazonaws.<region>.<service>`). */
function interfaceEndpointServices(template: Template): string[] {
  return resourcesOfType(template, 'AWS::EC2::VPCEndpoint')
    .filter((endpoint) => endpoint.Properties.VpcEndpointType === 'Interface')
    .map((endpoint) => {
      const name = endpoint.Properties.ServiceName as string | { 'Fn::Join': [string, string[]] };
      const flat = typeof name === 'string' ? name : name['Fn::Join'][1].join('');
      return flat.replace(/^com\.amazonaws\.[^.]+\./, '').replace(/^com\.amazonaws\.ap-northeast-1\./, '');
    })
    .sort();
}
