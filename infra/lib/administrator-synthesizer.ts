import {
  StackSynthesizer,
  type DockerImageAssetLocation,
  type DockerImageAssetSource,
  type FileAssetLocation,
  type FileAssetSource,
  type ISynthesisSession,
} from 'aws-cdk-lib';

/**
 * Synthesizes a stack that an administrator deploys with their own credentials: no CDK bootstrap
 * role to assume, no CloudFormation execution role, no asset (the template is sent inline, so it
 * must stay under CloudFormation's 51,200-byte TemplateBody limit), no bootstrap version check.
 *
 * The foundation needs this: it creates the execution policy and boundary a bootstrap is created
 * with, so it cannot depend on a bootstrap. CDK's own `BootstraplessSynthesizer` still names the
 * default bootstrap's deploy and execution roles, and `CliCredentialsStackSynthesizer` uploads the
 * template to the bootstrap bucket; neither avoids the bootstrap.
 */
export class AdministratorSynthesizer extends StackSynthesizer {
  override addFileAsset(asset: FileAssetSource): FileAssetLocation {
    throw new Error(
      `${this.boundStack.stackName} is deployed by an administrator without a bootstrap: it cannot hold a file asset (${asset.sourceHash}).`,
    );
  }

  override addDockerImageAsset(asset: DockerImageAssetSource): DockerImageAssetLocation {
    throw new Error(
      `${this.boundStack.stackName} is deployed by an administrator without a bootstrap: it cannot hold an image asset (${asset.sourceHash}).`,
    );
  }

  override synthesize(session: ISynthesisSession): void {
    this.synthesizeTemplate(session);
    this.emitArtifact(session);
  }
}
