import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  waitUntilStackCreateComplete,
} from '@aws-sdk/client-cloudformation';
import {
  CreateOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  IAMClient,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { environment, FIRST, synthesize } from '../../infra/test/helpers/app.js';
import { GITHUB_OIDC_HOST, oidcProviderArn, resourceNames, STS_AUDIENCE } from '../../infra/lib/names.js';
import { motoClientConfig, type LocalAws } from './moto.js';

/**
 * The SSM parameter every workload template checks (`BootstrapVersion`), as `cdk bootstrap` writes
 * it for a qualifier (by default the first configured environment's).
 */
export async function putBootstrapVersion(
  aws: LocalAws,
  qualifier: string = FIRST.bootstrapQualifier,
  version = '30',
): Promise<void> {
  const ssm = new SSMClient(motoClientConfig(aws));
  await ssm.send(
    new PutParameterCommand({
      Name: `/cdk-bootstrap/${qualifier}/version`, // bootstrapNames(...).versionParameter
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
 * The account's GitHub OIDC provider, created through IAM unless it exists: moto's CloudFormation
 * ignores AWS::IAM::OIDCProvider (it creates nothing for types it does not support), so the
 * `github-oidc-provider` stack cannot create it there. Returns its ARN, the one the roles trust.
 */
export async function ensureOidcProvider(aws: LocalAws): Promise<string> {
  const iam = new IAMClient(motoClientConfig(aws));
  const arn = oidcProviderArn(aws.account);
  try {
    await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    return arn;
  } catch (error) {
    if (!(error instanceof NoSuchEntityException)) throw error;
  }
  const { OpenIDConnectProviderArn } = await iam.send(
    new CreateOpenIDConnectProviderCommand({ Url: `https://${GITHUB_OIDC_HOST}`, ClientIDList: [STS_AUDIENCE] }),
  );
  if (OpenIDConnectProviderArn !== arn) throw new Error(`IAM created ${OpenIDConnectProviderArn}, expected ${arn}`);
  return arn;
}

/**
 * Puts a configured environment's foundation (`<env>-foundation`: roles, execution policy and
 * boundary, workload boundary, developer policy) into moto as its administrator deploys it: the
 * account's OIDC provider first (through IAM, see ensureOidcProvider), then the stack from the
 * synthesized template, in moto's account and region. Returns the stack's outputs.
 *
 * By default it also puts the bootstrap version parameter of the environment's qualifier
 * (`/cdk-bootstrap/<qualifier>/version`), so that workload templates created straight with
 * CloudFormation (createStack) pass their bootstrap check without a bootstrap. Pass
 * `bootstrapVersion: false` when a real `cdk bootstrap` follows: its stack creates that parameter
 * and fails (ParameterAlreadyExists, in moto as in AWS) when it exists already.
 */
export async function deployFoundation(
  aws: LocalAws,
  envName: string = FIRST.name,
  options: { readonly bootstrapVersion?: boolean } = {},
): Promise<Record<string, string>> {
  await ensureOidcProvider(aws);
  const config = environment(envName, { account: aws.account, region: aws.region });
  if (options.bootstrapVersion ?? true) await putBootstrapVersion(aws, config.bootstrapQualifier);
  const { foundation } = synthesize(config);
  return createStack(aws, resourceNames(config).foundationStack, foundation.toJSON());
}
