import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { AdministratorSynthesizer } from './administrator-synthesizer.js';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { GITHUB_OIDC_HOST, STS_AUDIENCE } from './names.js';

/**
 * GitHub's OIDC provider in one account. An account holds one provider per issuer URL, so it has
 * its own stack, shared by every environment of the account; environments' foundation stacks
 * depend on it and name it by its (deterministic) ARN. Deployed by an administrator with their own
 * credentials, like the foundation: no CDK bootstrap is needed (or used) for it.
 */
export class GitHubOidcProviderStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, { ...props, synthesizer: new AdministratorSynthesizer() });
    const provider = new iam.OidcProviderNative(this, 'GitHubProvider', {
      url: `https://${GITHUB_OIDC_HOST}`,
      clientIds: [STS_AUDIENCE],
    });
    new CfnOutput(this, 'GitHubOidcProviderArn', {
      value: provider.oidcProviderArn,
      description: 'GitHub OIDC provider of this account',
    });
  }
}
