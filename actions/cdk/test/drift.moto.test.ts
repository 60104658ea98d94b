import { CloudWatchLogsClient, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { resourceNames } from '../../../infra/lib/names.js';
import { PROJECT } from '../../../infra/lib/project.js';
import { FIRST } from '../../../infra/test/helpers/app.js';
import { runAction, type ActionRun } from '../../../test/helpers/action-runner.js';
import { startGitHubApi, type GitHubApi } from '../../../test/helpers/github-api.js';
import { motoClientConfig } from '../../../test/helpers/moto.js';
import { driftMarker } from '../src/drift.js';
import { BootstrappedEnvironment } from './helpers/bootstrapped-environment.js';

/**
 * The drift command of the bundled cdk action (drift.yml), against the local AWS, whose drift
 * detection is the project's (moto has none), and the GitHub stand-in: an out-of-band change is
 * reported with its property, one issue is opened, updated on the next run, and closed once the
 * change is undone; a merge that never deployed is reported as main not deployed.
 */
const ENV = FIRST.name;
const REPOSITORY = `${PROJECT.github.owner}/${PROJECT.github.repo}`;

describe('drift detection (bundled cdk action, local AWS, GitHub stand-in)', () => {
  let world: BootstrappedEnvironment;
  let api: GitHubApi;
  let base = '';
  let changed = '';
  let appLogGroup = '';

  const env = () => world.env({ GITHUB_API_URL: api.url });

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
    api = await startGitHubApi();
    world = await BootstrappedEnvironment.start(ENV);
    base = world.base;
    changed = world.synth('changed', { logRetentionDays: FIRST.logRetentionDays === 90 ? 60 : 90 });
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
    await world?.stop();
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
    const logs = new CloudWatchLogsClient(motoClientConfig(world.aws));
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
    const logs = new CloudWatchLogsClient(motoClientConfig(world.aws));
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
