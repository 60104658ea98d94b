/**
 * The CDK app: the only place that reads context and the process environment.
 *
 *   -c environments=dev,canary   which environments to synthesize (default: all)
 *   -c account=123456789012      the account, else CDK_DEFAULT_ACCOUNT, else account-agnostic
 */
import { App } from 'aws-cdk-lib';
import { addEnvironments } from '../lib/build-app.js';
import { ENVIRONMENTS, resolveEnvironments } from '../lib/config.js';
import { enforceNag } from '../lib/nag.js';

const app = new App();
const names = String(app.node.tryGetContext('environments') ?? '')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
const account = (app.node.tryGetContext('account') as string | undefined) ?? process.env.CDK_DEFAULT_ACCOUNT;

addEnvironments(app, resolveEnvironments(ENVIRONMENTS, { names, account }));
enforceNag(app);
app.synth();
