import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { addEnvironments } from '../lib/build-app.js';
import { ENVIRONMENTS } from '../lib/project.js';
import { enforceNag, nagFindings } from '../lib/nag.js';
import { cdkJsonContext, environment, synthesize } from './helpers/app.js';

const STACK_KINDS = ['network', 'service', 'githubOidc'] as const;

describe.each(ENVIRONMENTS.map((env) => env.name))('cdk-nag on %s', (name) => {
  // Both with an account (as deployed) and without (as in review): rendered ARNs differ.
  describe.each([undefined, '111122223333'])('account %s', (account) => {
    const { stacks } = synthesize(environment(name, {}, account));
    it.each(STACK_KINDS)('%s stack has no unacknowledged AwsSolutions or NIST 800-53 R5 finding', (kind) => {
      expect(nagFindings(stacks[kind])).toEqual([]);
    });
  });
});

describe('cdk-nag enforcement can fail', () => {
  it('reports an open security group, a VPC without flow logs and a wildcard policy', () => {
    const app = new App({ context: cdkJsonContext() });
    const stack = new Stack(app, 'Bad', { env: { region: 'ap-northeast-1' } });
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
    const { network } = addEnvironments(app, [environment('dev')]).get('dev')!;
    // A wildcard grant added to the flow log role is not covered by any acknowledgment.
    const flowLogRole = network.node.findAll().find((c) => c instanceof iam.Role)!;
    (flowLogRole as iam.Role).addToPolicy(new iam.PolicyStatement({ actions: ['ec2:*'], resources: ['*'] }));
    enforceNag(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5/);
  });
});
