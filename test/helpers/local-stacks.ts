import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  waitUntilStackCreateComplete,
} from '@aws-sdk/client-cloudformation';
import { CreateOpenIDConnectProviderCommand, IAMClient } from '@aws-sdk/client-iam';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { environment, synthesize } from '../../infra/test/helpers/app.js';
import { motoClientConfig, type LocalAws } from './moto.js';

/** The SSM parameter every CDK template checks (`BootstrapVersion`), as `cdk bootstrap` writes it. */
export async function putBootstrapVersion(aws: LocalAws, qualifier = 'hnb659fds', version = '30'): Promise<void> {
  const ssm = new SSMClient(motoClientConfig(aws));
  await ssm.send(
    new PutParameterCommand({
      Name: `/cdk-bootstrap/${qualifier}/version`,
      Value: version,
      Type: 'String',
      Overwrite: true,
    }),
  );
}

/**
 * Creates a stack straight from a synthesized template with CloudFormation (no CDK CLI, no
 * bootstrap bucket: templates here are small), waits for it, and returns its outputs.
 */
export async function createStack(
  aws: LocalAws,
  stackName: string,
  template: unknown,
): Promise<Record<string, string>> {
  const cloudformation = new CloudFormationClient(motoClientConfig(aws));
  await cloudformation.send(
    new CreateStackCommand({
      StackName: stackName,
      TemplateBody: JSON.stringify(template),
      Capabilities: ['CAPABILITY_NAMED_IAM'],
    }),
  );
  await waitUntilStackCreateComplete(
    { client: cloudformation, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
    { StackName: stackName },
  );
  const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
  return Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey!, output.OutputValue!]));
}

/**
 * Puts an environment's GitHub OIDC stack into moto as an administrator would deploy it. moto's
 * CloudFormation does not implement AWS::IAM::OIDCProvider, so the provider is created through
 * IAM first and the stack imports it (the `existingOidcProviderArn` path of the config).
 */
export async function deployOidcStack(aws: LocalAws, envName = 'dev'): Promise<Record<string, string>> {
  const iam = new IAMClient(motoClientConfig(aws));
  const { OpenIDConnectProviderArn } = await iam.send(
    new CreateOpenIDConnectProviderCommand({
      Url: 'https://token.actions.githubusercontent.com',
      ClientIDList: ['sts.amazonaws.com'],
    }),
  );
  await putBootstrapVersion(aws);
  const config = environment(envName, { github: { existingOidcProviderArn: OpenIDConnectProviderArn } }, aws.account);
  return createStack(aws, `${envName}-github-oidc`, synthesize(config).oidc.toJSON());
}
