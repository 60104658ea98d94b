import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { addEnvironments, type EnvironmentStacks } from '../lib/build-app.js';
import { ENVIRONMENTS } from '../lib/project.js';
import { enforceNag, nagFindings } from '../lib/nag.js';
import { cdkJsonContext, environment, FIRST, synthesize } from './helpers/app.js';

describe.each(ENVIRONMENTS.map((env) => env.name))('cdk-nag on %s', (name) => {
  // As configured, and with the provider stack forced on (whether the file lists the account or not).
  describe.each([
    ['as configured', {}],
    ['with its own provider stack', { github: { oidcProviderExists: false } }],
  ] as const)('%s', (_variant, overrides) => {
    const { stacks } = synthesize(environment(name, overrides));
    const kinds: Array<keyof EnvironmentStacks> = ['network', 'service', 'foundation'];
    if (stacks.oidcProvider) kinds.push('oidcProvider');
    it.each(kinds)('%s stack has no unacknowledged AwsSolutions or NIST 800-53 R5 finding', (kind) => {
      expect(nagFindings(stacks[kind]!)).toEqual([]);
    });
  });
});

describe('cdk-nag enforcement can fail', () => {
  it('reports an open security group, a VPC without flow logs and a wildcard policy', () => {
    const app = new App({ context: cdkJsonContext() });
    const stack = new Stack(app, 'Bad', { env: { account: FIRST.account, region: FIRST.region } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, restrictDefaultSecurityGroup: false });
    const group = new ec2.SecurityGroup(stack, 'Open', { vpc });
    group.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.allTraffic());
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    const rules = nagFindings(stack).map((finding) => finding.rule);
    expect(rules).toEqual(
      expect.arrayContaining([
        'AwsSolutions-EC23',
        'AwsSolutions-VPC7',
        'AwsSolutions-IAM5[Action::s3:*]',
        'AwsSolutions-IAM5[Resource::*]',
      ]),
    );
  });

  it('makes synth throw when a stack of ours gains an unacknowledged finding', () => {
    const app = new App({ context: cdkJsonContext() });
    const { network } = addEnvironments(app, [environment()]).get(FIRST.name)!;
    // A wildcard grant added to the flow log role is not covered by any acknowledgment.
    const flowLogRole = network.node.findAll().find((c) => c instanceof iam.Role)!;
    (flowLogRole as iam.Role).addToPolicy(new iam.PolicyStatement({ actions: ['ec2:*'], resources: ['*'] }));
    enforceNag(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5/);
  });

  it('makes synth throw when the foundation gains an unacknowledged finding', () => {
    const app = new App({ context: cdkJsonContext() });
    const { foundation } = addEnvironments(app, [environment()]).get(FIRST.name)!;
    foundation.deployRole.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    enforceNag(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5/);
  });
});
