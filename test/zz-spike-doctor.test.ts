import { startMoto, motoClientConfig } from '../test/helpers/moto.js';
import { createStack, putBootstrapVersion } from '../test/helpers/local-stacks.js';
import { environment, synthesize } from '../infra/test/helpers/app.js';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { EC2Client, DescribeVpcEndpointsCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import { IAMClient, ListRolePoliciesCommand, GetRolePolicyCommand, SimulatePrincipalPolicyCommand, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
it('spike', async () => {
  const aws = await startMoto();
  try {
    const t0 = Date.now();
    await putBootstrapVersion(aws);
    const s = synthesize(environment('dev', {}, aws.account));
    const net = await createStack(aws, 'dev-network', s.network.toJSON());
    const t1 = Date.now();
    const svc = await createStack(aws, 'dev-service', s.service.toJSON());
    console.log('times', t1 - t0, Date.now() - t1, net, svc);
    const cfg = motoClientConfig(aws);
    const cf = new CloudFormationClient(cfg);
    const r = await cf.send(new DescribeStackResourcesCommand({ StackName: 'dev-service' }));
    console.log(r.StackResources!.map(x => `${x.ResourceType} ${x.LogicalResourceId} ${x.PhysicalResourceId}`).join('\n'));
    const ec2 = new EC2Client(cfg);
    const e = await ec2.send(new DescribeVpcEndpointsCommand({}));
    console.log(JSON.stringify(e.VpcEndpoints!.filter(x=>x.ServiceName!.includes('ssmm')), null, 1));
    const sg = await ec2.send(new DescribeSecurityGroupsCommand({}));
    console.log(JSON.stringify(sg.SecurityGroups, null, 1));
    const sn = await ec2.send(new DescribeSubnetsCommand({}));
    console.log(JSON.stringify(sn.Subnets!.map(x=>[x.SubnetId,x.VpcId,x.CidrBlock])));
    const iam = new IAMClient(cfg);
    const role = r.StackResources!.find(x => x.LogicalResourceId.startsWith('NginxTaskDefinitionTaskRole') && x.ResourceType==='AWS::IAM::Role')!.PhysicalResourceId!;
    const pols = await iam.send(new ListRolePoliciesCommand({ RoleName: role }));
    console.log(role, pols.PolicyNames);
    for (const p of pols.PolicyNames ?? []) console.log(decodeURIComponent((await iam.send(new GetRolePolicyCommand({RoleName: role, PolicyName: p}))).PolicyDocument!));
    console.log((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role }))).AttachedPolicies);
    const id = await new STSClient(cfg).send(new GetCallerIdentityCommand({}));
    console.log(id.Arn);
    try { console.log(await iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: id.Arn, ActionNames: ['ssm:StartSession'] }))); } catch (e) { console.log('sim', (e as Error).name, (e as Error).message); }
  } finally { await aws.stop(); }
}, 120000);
