import { App } from 'aws-cdk-lib';
import { addEnvironments } from '../lib/build-app.js';
import { resourceNames } from '../lib/names.js';
import { ENVIRONMENTS } from '../lib/project.js';
import {
  describeFindings,
  templatePermissionFindings,
  type PermissionFinding,
} from '../../test/helpers/iam/deploy-permissions.js';
import { ADMINISTRATOR, executionRole } from '../../test/helpers/iam/foundation-policies.js';
import type { Template } from '../../test/helpers/iam/intrinsics.js';
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

describe.each(ENVIRONMENTS.map((env) => [env.name, env] as const))('%s', (_name, config) => {
  const names = resourceNames(config);
  const stacks = environments.get(config.name)!;
  const foundation = template(names.foundationStack, config.account, config.region);
  const execution = executionRole(config, foundation);
  const check = (stackName: string, deployer = execution): PermissionFinding[] =>
    templatePermissionFindings(template(stackName, config.account, config.region), {
      stackName,
      account: config.account,
      region: config.region,
      deployer,
      tags: stacks.network.tags.tagValues(),
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
