import { factError, factValue, type Check } from '../types.js';
import { CDK, fail, ok, skip } from './finding.js';

/** The task's VPC has an available `ssmmessages` interface endpoint with private DNS. */
export const checkSsmMessagesEndpoint: Check = ({ target, network }) => {
  const found = factValue(network);
  if (!found) return skip('ssmmessages-endpoint', factError(network)!);
  const serviceName = `com.amazonaws.${target.region}.ssmmessages`;
  const endpoint = found.ssmMessagesEndpoints[0];
  if (!endpoint) {
    const subnets = found.taskSubnets.map((s) => s.subnetId).join(' ');
    return fail(
      'ssmmessages-endpoint',
      `no ${serviceName} interface endpoint in ${found.vpcId}: in a VPC without a NAT route the agent cannot reach SSM (TargetNotConnected).`,
      `aws ec2 create-vpc-endpoint --vpc-id ${found.vpcId} --vpc-endpoint-type Interface --service-name ${serviceName} ` +
        `--subnet-ids ${subnets} --security-group-ids <endpoint-sg> --private-dns-enabled --region ${target.region}\n` +
        `In CDK: SsmMessages in REQUIRED_INTERFACE_ENDPOINTS of ${CDK.network} (the network stack), then deploy.`,
    );
  }
  const id = endpoint.VpcEndpointId!;
  if (String(endpoint.State).toLowerCase() !== 'available') {
    return fail(
      'ssmmessages-endpoint',
      `endpoint ${id} (${serviceName}) is ${endpoint.State ?? 'in an unknown state'}, not available.`,
      `aws ec2 describe-vpc-endpoints --vpc-endpoint-ids ${id} --region ${target.region}  (wait for available, or recreate it)`,
    );
  }
  if (!endpoint.PrivateDnsEnabled) {
    return fail(
      'ssmmessages-endpoint',
      `endpoint ${id} has private DNS off: ssmmessages.${target.region}.amazonaws.com does not resolve to it inside the VPC.`,
      `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${id} --private-dns-enabled --region ${target.region}\n` +
        `In CDK: privateDnsEnabled: true on the interface endpoints in ${CDK.network}.`,
    );
  }
  const dnsOff = [
    ...(found.dnsSupport === false ? ['enableDnsSupport'] : []),
    ...(found.dnsHostnames === false ? ['enableDnsHostnames'] : []),
  ];
  if (dnsOff.length > 0) {
    return fail(
      'ssmmessages-endpoint',
      `${found.vpcId} has ${dnsOff.join(' and ')} off: private DNS names of endpoints need both.`,
      dnsOff
        .map(
          (a) =>
            `aws ec2 modify-vpc-attribute --vpc-id ${found.vpcId} --${a === 'enableDnsSupport' ? 'enable-dns-support' : 'enable-dns-hostnames'} '{"Value":true}' --region ${target.region}`,
        )
        .join('\n') + `\nIn CDK: enableDnsSupport and enableDnsHostnames: true on the Vpc in ${CDK.network}.`,
    );
  }
  return ok('ssmmessages-endpoint', `${id} (${serviceName}) is available with private DNS in ${found.vpcId}`);
};
