/**
 * One measurement of `npm run bench:synth`, in its own process: synthesizes the named
 * environments with cdk-nag enforced into the given directory, renders each environment's diff
 * comment against nothing deployed, and prints one JSON line with what it did and its peak memory.
 *
 *   tsx scripts/lib/bench-synth-worker.ts OUTDIR ENV [ENV...]
 */
import { fullDiff } from '@aws-cdk/cloudformation-diff';
import { App } from 'aws-cdk-lib';
import { renderReport } from '../../actions/cdk/src/render.js';
import { buildReport } from '../../actions/cdk/src/report.js';
import { addEnvironments } from '../../infra/lib/build-app.js';
import { cdkJsonContext } from '../../infra/lib/cdk-json.js';
import { deployableStacks } from '../../infra/lib/names.js';
import { configuredEnvironment } from '../../infra/lib/project.js';
import { enforceNag } from '../../infra/lib/nag.js';

const [outdir, ...names] = process.argv.slice(2);
const environments = names.map(configuredEnvironment);
const app = new App({ outdir, context: cdkJsonContext() });
addEnvironments(app, environments);
enforceNag(app);
const assembly = app.synth();

let resources = 0;
let commentCharacters = 0;
for (const env of environments) {
  const templates: Record<string, { Resources?: Record<string, unknown> }> = {};
  const diffs: Record<string, ReturnType<typeof fullDiff>> = {};
  for (const stackName of deployableStacks(env)) {
    const template = assembly.stacks.find((s) => s.stackName === stackName && s.environment.account === env.account)!
      .template as { Resources?: Record<string, unknown> };
    templates[stackName] = template;
    diffs[stackName] = fullDiff({}, template);
  }
  const report = buildReport(diffs, templates, {
    environment: env.name,
    account: env.account,
    region: env.region,
    commit: '0'.repeat(40),
    method: 'template',
    nag: [],
    allowed: false,
    failOnDestructive: true,
  });
  commentCharacters += renderReport(report, 'full').length;
}
for (const stack of assembly.stacks)
  resources += Object.keys((stack.template as { Resources?: object }).Resources ?? {}).length;
console.log(
  JSON.stringify({
    stacks: assembly.stacks.length,
    resources,
    commentCharacters,
    peakMiB: process.resourceUsage().maxRSS / 1024,
  }),
);
