import { App } from 'aws-cdk-lib';
import { addEnvironments } from '../lib/build-app.js';
import { bootstrapNames, resourceNames } from '../lib/names.js';
import { ENVIRONMENTS } from '../lib/project.js';
import {
  describeFindings,
  stackExports,
  templatePermissionFindings,
  type Deployer,
  type PermissionFinding,
} from '../../test/helpers/iam/deploy-permissions.js';
import { ADMINISTRATOR, executionRole } from '../../test/helpers/iam/foundation-policies.js';
import type { Template, TemplateResource } from '../../test/helpers/iam/intrinsics.js';
import { cdkJsonContext } from './helpers/app.js';

/**
 * What CloudFormation needs to create, update and delete every resource of every synthesized
 * template (AWS's resource schemas, `handlers.*.permissions`), allowed to the principal that
 * deploys the stack: the environment's bootstrap execution role for the workload stacks, the
 * administrator for the foundation.
 */
const app = new App({ context: cdkJsonContext() });
const environments = addEnvironments(app, ENVIRONMENTS);
const assembly = app.synth();
const template = (stackName: string, account: string, region: string): Template => {
  const stack = assembly.stacks.find(
    (s) => s.stackName === stackName && s.environment.account === account && s.environment.region === region,
  );
  if (!stack) throw new Error(`no stack ${stackName} in ${account}/${region}`);
  return stack.template as Template;
};

/** The environment's execution role, by its ARN too: the stacks' KMS key policies name it. */
const executionDeployer = (config: (typeof ENVIRONMENTS)[number], foundation: Template): Deployer => ({
  ...executionRole(config, foundation),
  arn: bootstrapNames({ ...config, qualifier: config.bootstrapQualifier }).roleArn('cfn-exec'),
});

describe.each(ENVIRONMENTS.map((env) => [env.name, env] as const))('%s', (_name, config) => {
  const names = resourceNames(config);
  const stacks = environments.get(config.name)!;
  const foundation = template(names.foundationStack, config.account, config.region);
  const execution = executionDeployer(config, foundation);
  // The service stack imports the environment's log key from the network stack.
  const exported = stackExports(
    [{ stackName: names.networkStack, template: template(names.networkStack, config.account, config.region) }],
    config,
  );
  const check = (stackName: string, deployer: Deployer = execution): PermissionFinding[] =>
    templatePermissionFindings(template(stackName, config.account, config.region), {
      stackName,
      account: config.account,
      region: config.region,
      deployer,
      tags: stacks.network.tags.tagValues(),
      ...exported,
    });

  it.each([names.networkStack, names.serviceStack])(
    '%s: the execution role (execution policy within its boundary) may create, update and delete every resource',
    (stackName) => {
      const findings = check(stackName);
      if (findings.length > 0) throw new Error(`${findings.length} denied:\n${describeFindings(findings)}`);
    },
  );

  it('the foundation and the OIDC provider are deployed by the administrator, with every permission they need', () => {
    expect(check(names.foundationStack, ADMINISTRATOR)).toEqual([]);
    if (stacks.oidcProvider) {
      const provider = stacks.oidcProvider;
      expect(
        templatePermissionFindings(template(provider.stackName, provider.account, provider.region), {
          stackName: provider.stackName,
          account: provider.account,
          region: provider.region,
          deployer: ADMINISTRATOR,
        }),
      ).toEqual([]);
    }
  });

  it('the old design fails the check: the foundation deployed through the execution role is refused', () => {
    // Before, `<env>-github-oidc` (now the foundation and the provider) went through the bootstrap's
    // execution role, whose policy allows neither iam:CreatePolicy nor iam:CreateOpenIDConnectProvider.
    const denied = new Set(check(names.foundationStack).map((finding) => finding.action));
    expect(denied).toContain('iam:CreatePolicy');
    if (stacks.oidcProvider) {
      const provider = stacks.oidcProvider;
      const providerFindings = templatePermissionFindings(
        template(provider.stackName, provider.account, provider.region),
        {
          stackName: provider.stackName,
          account: provider.account,
          region: provider.region,
          deployer: execution,
        },
      );
      expect(providerFindings.map((finding) => finding.action)).toContain('iam:CreateOpenIDConnectProvider');
    }
  });
});

/**
 * The execution policy's tag and endpoint conditions hold against the same checks: what falls
 * outside the environment is refused (so the passes above are not vacuous).
 */
describe(`the execution role of ${ENVIRONMENTS[0]!.name} stays within its environment`, () => {
  const config = ENVIRONMENTS[0]!;
  const names = resourceNames(config);
  const stacks = environments.get(config.name)!;
  const foundation = template(names.foundationStack, config.account, config.region);
  const execution = executionDeployer(config, foundation);
  const network = template(names.networkStack, config.account, config.region);
  const tags = stacks.network.tags.tagValues();
  const denied = (tpl: Template, stackTags: Record<string, string> = tags): string[] =>
    templatePermissionFindings(tpl, {
      stackName: names.networkStack,
      account: config.account,
      region: config.region,
      deployer: execution,
      tags: stackTags,
      handlers: ['create'],
    }).map((finding) => `${finding.type} ${finding.action}`);
  const resources = (tpl: Template): Record<string, TemplateResource> => tpl.Resources ?? {};
  const copy = (tpl: Template): Template => JSON.parse(JSON.stringify(tpl)) as Template;

  it.each([
    ['tagged for another environment', { ...tags, environment: `${config.name}x` }],
    ['without the environment tag', Object.fromEntries(Object.entries(tags).filter(([key]) => key !== 'environment'))],
  ])('refuses the network stack %s: no VPC, subnet, endpoint, flow log or key', (_case, stackTags) => {
    expect(denied(network, stackTags)).toEqual(
      expect.arrayContaining([
        'AWS::EC2::VPC ec2:CreateVpc',
        'AWS::EC2::Subnet ec2:CreateSubnet',
        'AWS::EC2::VPCEndpoint ec2:CreateVpcEndpoint',
        'AWS::EC2::FlowLog ec2:CreateFlowLogs',
        'AWS::KMS::Key kms:CreateKey',
      ]),
    );
  });

  it("refuses an interface endpoint to a service that is not Amazon's", () => {
    const tpl = copy(network);
    const [id] = Object.entries(resources(tpl)).find(
      ([, r]) => r.Type === 'AWS::EC2::VPCEndpoint' && r.Properties?.VpcEndpointType === 'Interface',
    )!;
    resources(tpl)[id]!.Properties!.ServiceName = `com.amazonaws.vpce.${config.region}.vpce-svc-0123456789abcdef0`;
    expect(denied(tpl)).toEqual(['AWS::EC2::VPCEndpoint ec2:CreateVpcEndpoint']);
    expect(denied(network)).toEqual([]);
  });

  it('refuses a subnet, a security group rule or a flow log on network resources that are not the environment’s', () => {
    const tpl = copy(network);
    const foreign = { VpcId: 'vpc-0fedcba9876543210', GroupId: 'sg-0fedcba9876543210' };
    for (const resource of Object.values(resources(tpl))) {
      if (resource.Type === 'AWS::EC2::Subnet') resource.Properties!.VpcId = foreign.VpcId;
      if (resource.Type === 'AWS::EC2::FlowLog') resource.Properties!.ResourceId = foreign.VpcId;
    }
    resources(tpl).ForeignRule = {
      Type: 'AWS::EC2::SecurityGroupIngress',
      Properties: { GroupId: foreign.GroupId, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '0.0.0.0/0' },
    };
    expect(denied(tpl)).toEqual(
      expect.arrayContaining([
        'AWS::EC2::Subnet ec2:CreateSubnet',
        'AWS::EC2::FlowLog ec2:CreateFlowLogs',
        'AWS::EC2::SecurityGroupIngress ec2:AuthorizeSecurityGroupIngress',
      ]),
    );
  });
});
