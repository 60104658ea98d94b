import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { App } from 'aws-cdk-lib';
import { addEnvironments } from '../../../infra/lib/build-app.js';
import { cdkJsonContext } from '../../../infra/lib/cdk-json.js';
import { enforceNag } from '../../../infra/lib/nag.js';
import { bootstrapArgs, resourceNames } from '../../../infra/lib/names.js';
import { PROJECT } from '../../../infra/lib/project.js';
import { environment, FIRST, type ConfigOverrides } from '../../../infra/test/helpers/app.js';
import { runAction, type ActionRun } from '../../../test/helpers/action-runner.js';
import { cdk } from '../../../test/helpers/cdk-cli.js';
import { startGitHubApi, type GitHubApi } from '../../../test/helpers/github-api.js';
import { IamGate } from '../../../test/helpers/iam/gate.js';
import { deployFoundation } from '../../../test/helpers/local-stacks.js';
import { motoClientConfig, startMoto, type LocalAws } from '../../../test/helpers/moto.js';
import { driftMarker } from '../src/drift.js';

/**
 * The drift command of the bundled cdk action (drift.yml), against the local AWS, whose drift
 * detection is the project's (moto has none), and the GitHub stand-in: an out-of-band change is
 * reported with its property, one issue is opened, updated on the next run, and closed once the
 * change is undone; a merge that never deployed is reported as main not deployed.
 */
const ENV = FIRST.name;
const REPOSITORY = `${PROJECT.github.owner}/${PROJECT.github.repo}`;

describe('drift detection (bundled cdk action, local AWS, GitHub stand-in)', () => {
  let aws: LocalAws;
  let gate: IamGate;
  let admin: { accessKeyId: string; secretAccessKey: string };
  let api: GitHubApi;
  let work: string;
  let base = '';
  let changed = '';
  let appLogGroup = '';

  function synth(name: string, overrides: ConfigOverrides): string {
    const outdir = join(work, name);
    const app = new App({ outdir, context: cdkJsonContext() });
    addEnvironments(app, [environment(ENV, { ...overrides, account: aws.account, region: aws.region })]);
    enforceNag(app);
    app.synth();
    return outdir;
  }

  const env = () => ({
    AWS_ENDPOINT_URL: gate.endpoint,
    AWS_ACCESS_KEY_ID: admin.accessKeyId,
    AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
    AWS_REGION: aws.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    GITHUB_API_URL: api.url,
  });

  const drift = (assembly: string): Promise<ActionRun> =>
    runAction('cdk', {
      inputs: { command: 'drift', environment: ENV, 'assembly-dir': assembly, 'github-token': 'drift' },
      env: env(),
      github: { repository: REPOSITORY, eventName: 'schedule', apiUrl: api.url },
      timeoutMs: 120_000,
    });

  const openIssues = () =>
    api.issues().filter((issue) => issue.state === 'open' && issue.body.includes(driftMarker(ENV)));

  beforeAll(async () => {
    aws = await startMoto({ awsManagedPolicies: true });
    gate = await new IamGate({ aws }).start();
    admin = gate.administrator();
    api = await startGitHubApi();
    work = mkdtempSync(join(tmpdir(), 'drift-'));
    base = synth('base', {});
    changed = synth('changed', { logRetentionDays: FIRST.logRetentionDays === 90 ? 60 : 90 });
    await deployFoundation(aws, ENV, { bootstrapVersion: false });
    const target = environment(ENV, { account: aws.account, region: aws.region });
    await cdk(bootstrapArgs({ ...target, qualifier: target.bootstrapQualifier }, { app: base }), gate.env(admin));
    const deployed = await runAction('cdk', {
      inputs: {
        command: 'deploy',
        environment: ENV,
        'assembly-dir': base,
        'deployment-method': 'direct',
        'review-gate': 'off',
      },
      env: env(),
      github: { repository: REPOSITORY, eventName: 'push', apiUrl: api.url },
      timeoutMs: 170_000,
    });
    expect([deployed.exitCode, deployed.errors]).toEqual([0, []]);
    const outputs = JSON.parse(deployed.outputs.outputs!) as Record<string, Record<string, string>>;
    appLogGroup = outputs[resourceNames(FIRST).serviceStack]!.AppLogGroupName!;
  }, 300_000);

  afterAll(async () => {
    await api?.stop();
    await gate?.stop();
    await aws?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('finds no drift right after the deploy, and opens no issue', async () => {
    const run = await drift(base);
    expect([run.exitCode, run.errors]).toEqual([0, []]);
    // With the summary, so a failure shows what was found.
    expect([run.outputs.drifted, run.summary]).toEqual([
      'false',
      expect.stringContaining('No drift: what runs in the account matches main.'),
    ]);
    expect(openIssues()).toEqual([]);
  });

  it('reports an out-of-band change with its property, in one issue, updated on the next run', async () => {
    const logs = new CloudWatchLogsClient(motoClientConfig(aws));
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: appLogGroup, retentionInDays: 1 }));
    const first = await drift(base);
    expect(first.outputs.drifted).toBe('true');
    expect(first.summary).toContain('### Out-of-band changes');
    expect(first.summary).toMatch(/`\/RetentionInDays` \| `\d+` \| `1`/);
    expect(openIssues()).toHaveLength(1);
    const [issue] = openIssues();
    const second = await drift(base);
    expect(second.outputs.drifted).toBe('true');
    expect(openIssues().map((i) => i.number)).toEqual([issue!.number]);
    expect(second.log).toContain(`issue #${issue!.number} updated`);
  });

  it('reports main that never deployed, and closes the issue once everything matches again', async () => {
    const notDeployed = await drift(changed);
    expect(notDeployed.summary).toContain('### Main is not deployed');
    const logs = new CloudWatchLogsClient(motoClientConfig(aws));
    await logs.send(
      new PutRetentionPolicyCommand({ logGroupName: appLogGroup, retentionInDays: FIRST.logRetentionDays }),
    );
    const fixed = await drift(base);
    expect(fixed.outputs.drifted).toBe('false');
    expect(openIssues()).toEqual([]);
    expect(
      api
        .issues()
        .filter((issue) => issue.body.includes(driftMarker(ENV)))
        .map((i) => i.state),
    ).toEqual(['closed']);
  });
});
