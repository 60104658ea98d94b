/**
 * The CDK app (cdk.json's `app`): the only place that reads context and the process environment.
 * What it builds comes from gitops.config.json (infra/lib/config.ts).
 *
 *   -c environments=dev,canary   which environments to synthesize (default: all)
 */
import { App } from 'aws-cdk-lib';
import { addEnvironments } from '../lib/build-app.js';
import { resolveEnvironments } from '../lib/config.js';
import { ENVIRONMENTS } from '../lib/project.js';
import { enforceNag } from '../lib/nag.js';

const app = new App();
const names = String(app.node.tryGetContext('environments') ?? '')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);

// The CDK CLI passes CDK_DEFAULT_ACCOUNT to the app when it found credentials. Without any, synth
// still works (accounts come from the config), but diff and deploy cannot: say how to sign in
// before the CLI's own, vaguer error.
if (process.env.CDK_DEFAULT_ACCOUNT === undefined && process.env.CDK_OUTDIR !== undefined) {
  process.stderr.write(
    'note: no AWS credentials found. Synthesis needs none, but `cdk diff` and `cdk deploy` do: sign in first,\n' +
      '      e.g. `aws sso login --profile <name>` then `export AWS_PROFILE=<name>` (docs/setup.md).\n',
  );
}

addEnvironments(app, resolveEnvironments(ENVIRONMENTS, { names }));
enforceNag(app);
app.synth();
