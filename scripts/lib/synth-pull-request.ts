/**
 * Pull requests' syntheses, in a process of their own as pull requests' jobs run them: for each
 * pull request, its environments (their configuration as JSON, the change applied) synthesized with
 * cdk-nag enforced into its directory, with the context `npx cdk synth` gives the app (cdk.json).
 * A cdk-nag finding or an invalid configuration exits 1 with the error on stderr.
 *
 *   node --import tsx scripts/lib/synth-pull-request.ts '<[{ "outdir": DIR, "environments": EnvironmentConfig[] }] as JSON>'
 *
 * The rehearsal starts its later pull requests' syntheses this way at its beginning, so that they
 * run beside the set-up (as pull requests' jobs run beside others) instead of blocking the local
 * AWS, which lives in the rehearsal's own process. One process for all of them: loading the CDK
 * and cdk-nag is most of a synthesis's cost.
 */
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { addEnvironments } from '../../infra/lib/build-app.js';
import { cdkJsonContext } from '../../infra/lib/cdk-json.js';
import { resolveEnvironments, type EnvironmentConfig } from '../../infra/lib/config.js';
import { enforceNag } from '../../infra/lib/nag.js';

export interface PullRequestSynth {
  readonly outdir: string;
  readonly environments: readonly EnvironmentConfig[];
}

export function synthPullRequest({ outdir, environments }: PullRequestSynth): void {
  const app = new App({ outdir, context: cdkJsonContext() });
  addEnvironments(app, resolveEnvironments(environments));
  enforceNag(app); // a finding fails here, as it fails `cdk synth`
  app.synth();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [json] = process.argv.slice(2);
  if (!json) {
    console.error(
      'Usage: node --import tsx scripts/lib/synth-pull-request.ts \'[{ "outdir": DIR, "environments": [...] }]\'',
    );
    process.exit(2);
  }
  try {
    for (const pullRequest of JSON.parse(json) as PullRequestSynth[]) synthPullRequest(pullRequest);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
