import type { IpPermission, SecurityGroup } from '@aws-sdk/client-ec2';
import { cidrContains } from '../cidr.js';
import { factError, factValue, type Check } from '../types.js';
import { CDK, fail, ok, skip } from './finding.js';

const HTTPS = 443;

/** Whether a rule lets TCP 443 through. */
export function allowsHttps(permission: IpPermission): boolean {
  if (permission.IpProtocol === '-1') return true;
  if (permission.IpProtocol !== 'tcp' && permission.IpProtocol !== '6') return false;
  return (permission.FromPort ?? 0) <= HTTPS && HTTPS <= (permission.ToPort ?? 65535);
}

/** Whether any of the rules lets 443 from/to `cidr`, or from/to one of `groupIds`. */
export function reaches(permissions: IpPermission[], cidr: string, groupIds: string[]): boolean {
  return permissions
    .filter(allowsHttps)
    .some(
      (p) =>
        (p.IpRanges ?? []).some((r) => r.CidrIp !== undefined && cidrContains(r.CidrIp, cidr)) ||
        (p.UserIdGroupPairs ?? []).some((g) => g.GroupId !== undefined && groupIds.includes(g.GroupId)),
    );
}

const ids = (groups: SecurityGroup[]): string[] => groups.map((g) => g.GroupId!);

/**
 * The endpoint's security groups accept 443 from the task's subnets (or its security group), and
 * the task's security groups let 443 out to the endpoint.
 */
export const checkEndpointSecurityGroup: Check = ({ target, network }) => {
  const found = factValue(network);
  if (!found) return skip('endpoint-security-group', factError(network)!);
  const endpoint = found.ssmMessagesEndpoints[0];
  if (!endpoint) return skip('endpoint-security-group', 'no ssmmessages endpoint (see ssmmessages-endpoint)');
  const endpointGroups = found.endpointSecurityGroups;
  const taskGroupIds = ids(found.taskSecurityGroups);
  const ingress = endpointGroups.flatMap((g) => g.IpPermissions ?? []);
  const blocked = found.taskSubnets.filter((subnet) => !reaches(ingress, subnet.cidr, taskGroupIds));
  if (blocked.length > 0) {
    const group = endpointGroups[0]?.GroupId ?? '<endpoint-sg>';
    return fail(
      'endpoint-security-group',
      `the security group${endpointGroups.length === 1 ? '' : 's'} of endpoint ${endpoint.VpcEndpointId} (${ids(endpointGroups).join(', ') || 'none'}) ` +
        `do not accept TCP 443 from the task's subnet${blocked.length === 1 ? '' : 's'} ${blocked.map((s) => `${s.subnetId} (${s.cidr})`).join(', ')}.`,
      blocked
        .map(
          (s) =>
            `aws ec2 authorize-security-group-ingress --group-id ${group} --protocol tcp --port 443 --cidr ${s.cidr} --region ${target.region}`,
        )
        .join('\n') +
        `\nIn CDK: endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(<VPC CIDR>), ec2.Port.tcp(443)) in ${CDK.network}.`,
    );
  }
  if (found.taskSecurityGroups.length > 0) {
    const egress = found.taskSecurityGroups.flatMap((g) => g.IpPermissionsEgress ?? []);
    const unreachable = found.endpointSubnets.filter((s) => !reaches(egress, s.cidr, ids(endpointGroups)));
    if (unreachable.length > 0 && unreachable.length === found.endpointSubnets.length) {
      return fail(
        'endpoint-security-group',
        `the task's security groups (${taskGroupIds.join(', ')}) let no TCP 443 out to endpoint ${endpoint.VpcEndpointId}.`,
        `aws ec2 authorize-security-group-egress --group-id ${taskGroupIds[0]} --ip-permissions ` +
          `'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=${unreachable[0]!.cidr}}]' --region ${target.region}\n` +
          `In CDK: securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443)) in ${CDK.service}.`,
      );
    }
  }
  return ok(
    'endpoint-security-group',
    `${ids(endpointGroups).join(', ')} accept TCP 443 from the task's subnets (${found.taskSubnets.map((s) => s.cidr).join(', ')})`,
  );
};
