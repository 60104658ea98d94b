import { DescribeStacksCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { bootstrapArgs, bootstrapNames, cdkCommandLine } from '../../../infra/lib/names.js';
import { awsErrorName, UserInputError, withOperation } from '../../shared/src/errors.js';

/** What an environment's stacks need from its CDK bootstrap (read from the cloud assembly). */
export interface BootstrapRequirement {
  readonly environment: string;
  readonly account: string;
  readonly region: string;
  readonly partition?: string;
  readonly qualifier: string;
  /** The newest bootstrap version any stack requires. */
  readonly minimumVersion: number;
}

/**
 * The environment's bootstrap, as this project sets it up (docs/setup.md): its own toolkit stack
 * and qualifier, the foundation's execution policy instead of AdministratorAccess, and the
 * foundation's boundary on the execution role. Checked before any change, so that a deploy of an
 * environment that is not bootstrapped, or bootstrapped otherwise (another qualifier, the default
 * AdministratorAccess), fails at once with the command that fixes it, instead of half-way through
 * with an access error from an unexpected role.
 */
export async function checkBootstrap(
  requirement: BootstrapRequirement,
  clients: { readonly cloudformation: CloudFormationClient; readonly ssm: SSMClient },
): Promise<void> {
  const { cloudformation } = clients;
  const target = { ...requirement, name: requirement.environment };
  const names = bootstrapNames(target);
  const fix =
    `An administrator of ${requirement.account} runs, once the environment's foundation exists, from a clone ` +
    `after \`npm run synth\` (docs/setup.md):\n  ${cdkCommandLine(bootstrapArgs(target))}`;
  let stack: Stack | undefined;
  try {
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: names.toolkitStack }));
    stack = Stacks?.[0];
  } catch (error) {
    if (awsErrorName(error) === 'ValidationError' && /does not exist/.test(String((error as Error).message))) {
      throw new UserInputError(
        `Environment ${requirement.environment} is not bootstrapped in ${requirement.account}/${requirement.region}: ` +
          `there is no bootstrap stack ${names.toolkitStack}. Nothing was deployed. ${fix}`,
      );
    }
    throw withOperation(`Reading the bootstrap stack ${names.toolkitStack}`, error);
  }
  const parameter = (key: string): string =>
    stack?.Parameters?.find((p) => p.ParameterKey === key)?.ParameterValue ?? '';
  const problems: string[] = [];
  const expect = (what: string, found: string, expected: string): void => {
    if (found !== expected) problems.push(`${what} is '${found || '(none)'}', expected '${expected}'`);
  };
  if (!/_COMPLETE$/.test(stack?.StackStatus ?? '') || /ROLLBACK|DELETE/.test(stack?.StackStatus ?? ''))
    problems.push(`its status is ${stack?.StackStatus ?? 'unknown'}`);
  expect('the qualifier', parameter('Qualifier'), requirement.qualifier);
  expect(
    'the execution policy (CloudFormationExecutionPolicies)',
    parameter('CloudFormationExecutionPolicies'),
    names.executionPolicyArn,
  );
  expect(
    'the execution role boundary (InputPermissionsBoundary)',
    parameter('InputPermissionsBoundary'),
    names.executionBoundaryName,
  );
  // The version every template checks is the bootstrap's SSM parameter (as the CDK CLI reads it).
  const version = await bootstrapVersion(clients.ssm, names.versionParameter);
  if (version < requirement.minimumVersion)
    problems.push(`its version is ${version}, the stacks need ${requirement.minimumVersion} or later`);
  if (problems.length > 0) {
    throw new UserInputError(
      `Environment ${requirement.environment}'s bootstrap stack ${names.toolkitStack} is not set up as this project needs: ` +
        `${problems.join('; ')}. Nothing was deployed. ${fix}`,
    );
  }
}

async function bootstrapVersion(ssm: SSMClient, name: string): Promise<number> {
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
    return Number(Parameter?.Value ?? 0);
  } catch (error) {
    if (awsErrorName(error) === 'ParameterNotFound') return 0;
    throw withOperation(`Reading the bootstrap version ${name}`, error);
  }
}
