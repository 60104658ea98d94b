import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { addEnvironments } from '../../../../infra/lib/build-app.js';
import { cdkJsonContext } from '../../../../infra/lib/cdk-json.js';
import { enforceNag } from '../../../../infra/lib/nag.js';
import { bootstrapArgs } from '../../../../infra/lib/names.js';
import { environment, type ConfigOverrides } from '../../../../infra/test/helpers/app.js';
import { cdk } from '../../../../test/helpers/cdk-cli.js';
import { IamGate } from '../../../../test/helpers/iam/gate.js';
import { seedImageCache } from '../../../../test/helpers/image-cache.js';
import { deployFoundation } from '../../../../test/helpers/local-stacks.js';
import { startMoto, type LocalAws } from '../../../../test/helpers/moto.js';

/**
 * One environment of the configuration in the local AWS behind the IAM gate, as an administrator
 * leaves it (docs/setup.md): its foundation deployed, its own CDK bootstrap and its image cache
 * seeded, ready for the bundled cdk action to deploy assemblies synthesized with `synth`.
 */
export class BootstrappedEnvironment {
  /** The assembly the environment was bootstrapped with (`synth('base', base)`). */
  base = '';

  private constructor(
    readonly name: string,
    readonly aws: LocalAws,
    readonly gate: IamGate,
    readonly admin: { readonly accessKeyId: string; readonly secretAccessKey: string },
    private readonly work: string,
  ) {}

  /** Starts moto and the gate, and sets up `name` with the base assembly `synth('base', base)`. */
  static async start(name: string, base: ConfigOverrides = {}): Promise<BootstrappedEnvironment> {
    const aws = await startMoto({ awsManagedPolicies: true });
    const gate = await new IamGate({ aws }).start();
    const world = new BootstrappedEnvironment(
      name,
      aws,
      gate,
      gate.administrator(),
      mkdtempSync(join(tmpdir(), `${name}-`)),
    );
    const assembly = (world.base = world.synth('base', base));
    await deployFoundation(aws, name, { bootstrapVersion: false });
    const target = environment(name, { account: aws.account, region: aws.region });
    await cdk(
      bootstrapArgs({ ...target, qualifier: target.bootstrapQualifier }, { app: assembly }),
      gate.env(world.admin),
    );
    await seedImageCache(aws, environment(name, { ...base, account: aws.account, region: aws.region }));
    return world;
  }

  /** The environment with `overrides`, synthesized with cdk-nag enforced into `<work>/<label>`. */
  synth(label: string, overrides: ConfigOverrides, context: Record<string, unknown> = {}): string {
    const outdir = join(this.work, label);
    const app = new App({ outdir, context: { ...cdkJsonContext(), ...context } });
    addEnvironments(app, [
      environment(this.name, { ...overrides, account: this.aws.account, region: this.aws.region }),
    ]);
    enforceNag(app);
    app.synth();
    return outdir;
  }

  /** The variables a runner step of the cdk action gets here, as the administrator. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.gate.endpoint,
      AWS_ACCESS_KEY_ID: this.admin.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.admin.secretAccessKey,
      AWS_REGION: this.aws.region,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...extra,
    };
  }

  async stop(): Promise<void> {
    await this.gate.stop();
    await this.aws.stop();
    rmSync(this.work, { recursive: true, force: true });
  }
}
