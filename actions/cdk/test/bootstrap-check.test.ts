import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
  type StackStatus,
} from '@aws-sdk/client-cloudformation';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { bootstrapArgs, bootstrapNames, cdkCommandLine } from '../../../infra/lib/names.js';
import { ENVIRONMENTS } from '../../../infra/lib/project.js';
import { checkBootstrap, type BootstrapRequirement } from '../src/bootstrap-check.js';

const env = ENVIRONMENTS[0]!;
const REQUIREMENT: BootstrapRequirement = {
  environment: env.name,
  account: env.account,
  region: env.region,
  qualifier: env.bootstrapQualifier,
  minimumVersion: 6,
};
const TARGET = { ...env, qualifier: env.bootstrapQualifier };
const NAMES = bootstrapNames(TARGET);
const COMMAND = cdkCommandLine(bootstrapArgs(TARGET));

/** The bootstrap stack as `cdk bootstrap` with this project's flags leaves it, with overrides. */
function bootstrapStack(
  parameters: Record<string, string> = {},
  status: StackStatus = 'CREATE_COMPLETE',
): Omit<DescribeStacksCommandOutput, '$metadata'> {
  const values = {
    Qualifier: env.bootstrapQualifier,
    CloudFormationExecutionPolicies: NAMES.executionPolicyArn,
    InputPermissionsBoundary: NAMES.executionBoundaryName,
    ...parameters,
  };
  return {
    Stacks: [
      {
        StackName: NAMES.toolkitStack,
        StackStatus: status,
        CreationTime: new Date(),
        Parameters: Object.entries(values).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
      },
    ],
  };
}

describe('the deploy preflight: the environment bootstrapped as docs/setup.md does it', () => {
  const cloudformation = mockClient(CloudFormationClient);
  const ssm = mockClient(SSMClient);
  const check = () =>
    checkBootstrap(REQUIREMENT, { cloudformation: new CloudFormationClient({}), ssm: new SSMClient({}) });

  beforeEach(() => {
    cloudformation.reset();
    ssm.reset();
    ssm.on(GetParameterCommand, { Name: NAMES.versionParameter }).resolves({ Parameter: { Value: '33' } });
  });

  it('passes a bootstrap with the environment’s qualifier, execution policy and boundary', async () => {
    cloudformation.on(DescribeStacksCommand, { StackName: NAMES.toolkitStack }).resolves(bootstrapStack());
    await expect(check()).resolves.toBeUndefined();
  });

  it('refuses an environment with no bootstrap stack, before any change, with the command to run', async () => {
    cloudformation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error(`Stack with id ${NAMES.toolkitStack} does not exist`), { name: 'ValidationError' }),
      );
    await expect(check()).rejects.toThrow(`is not bootstrapped in ${env.account}/${env.region}`);
    await expect(check()).rejects.toThrow(COMMAND);
  });

  it.each([
    ['another qualifier', { Qualifier: 'hnb659fds' }, "the qualifier is 'hnb659fds'"],
    [
      'the default AdministratorAccess execution policy',
      { CloudFormationExecutionPolicies: '' },
      `the execution policy (CloudFormationExecutionPolicies) is '(none)', expected '${NAMES.executionPolicyArn}'`,
    ],
    ['no boundary on the execution role', { InputPermissionsBoundary: '' }, 'the execution role boundary'],
  ])('refuses a bootstrap with %s, naming what differs and the command', async (_what, parameters, message) => {
    cloudformation.on(DescribeStacksCommand).resolves(bootstrapStack(parameters));
    await expect(check()).rejects.toThrow(message);
    await expect(check()).rejects.toThrow(COMMAND);
  });

  it('refuses a bootstrap older than the stacks need, or one that failed', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '5' } });
    cloudformation.on(DescribeStacksCommand).resolves(bootstrapStack({}, 'ROLLBACK_COMPLETE'));
    await expect(check()).rejects.toThrow(
      /its status is ROLLBACK_COMPLETE; .*its version is 5, the stacks need 6 or later/,
    );
  });
});
