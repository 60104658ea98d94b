import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { App } from 'aws-cdk-lib';
import { addEnvironments } from '../../../infra/lib/build-app.js';
import { cdkJsonContext } from '../../../infra/lib/cdk-json.js';
import { enforceNag } from '../../../infra/lib/nag.js';
import { ALLOW_DESTRUCTIVE_LABEL, bootstrapArgs, deployableStacks } from '../../../infra/lib/names.js';
import { PROJECT } from '../../../infra/lib/project.js';
import { environment, FIRST, type ConfigOverrides } from '../../../infra/test/helpers/app.js';
import { runAction, type ActionRun } from '../../../test/helpers/action-runner.js';
import { cdk } from '../../../test/helpers/cdk-cli.js';
import { startGitHubApi, type GitHubApi } from '../../../test/helpers/github-api.js';
import { IamGate } from '../../../test/helpers/iam/gate.js';
import { deployFoundation } from '../../../test/helpers/local-stacks.js';
import { seedImageCache } from '../../../test/helpers/image-cache.js';
import { motoClientConfig, startMoto, type LocalAws } from '../../../test/helpers/moto.js';
import { commentMarker } from '../src/render.js';
import { WORKFLOW_LOGIN } from '../src/review-gate.js';

/**
 * The review gate through the bundled cdk action, as the workflows run it: a pull request's diff
 * job hands its data over (no write token), the trusted comment command posts the comment with the
 * fingerprint, the pull request is merged, and the deploy of the merge commit checks, before any
 * change, that it deploys what was reviewed, with a destructive change only under another
 * maintainer's label applied after the last push.
 */
const ENV = FIRST.name;
const REPOSITORY = `${PROJECT.github.owner}/${PROJECT.github.repo}`;
const LABEL = ALLOW_DESTRUCTIVE_LABEL;
const sha = (n: number): string => n.toString(16).padStart(40, '0');
const minutesAgo = (n: number): string => new Date(Date.now() - n * 60_000).toISOString();

describe('the review gate of the deploy (bundled cdk action, local AWS, GitHub stand-in)', () => {
  let aws: LocalAws;
  let gate: IamGate;
  let admin: { accessKeyId: string; secretAccessKey: string };
  let api: GitHubApi;
  let work: string;
  const assemblies = { base: '', debug: '', bigger: '' };

  function synth(name: string, overrides: ConfigOverrides): string {
    const outdir = join(work, name);
    const app = new App({ outdir, context: { ...cdkJsonContext(), 'aws:cdk:enable-path-metadata': true } });
    addEnvironments(app, [environment(ENV, { ...overrides, account: aws.account, region: aws.region })]);
    enforceNag(app);
    app.synth();
    return outdir;
  }

  const awsEnv = () => ({
    AWS_ENDPOINT_URL: gate.endpoint,
    AWS_ACCESS_KEY_ID: admin.accessKeyId,
    AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
    AWS_REGION: aws.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    GITHUB_API_URL: api.url,
  });

  /** A pull request's diff job, then the trusted comment job, as pr.yml and pr-comment.yml run them. */
  async function review(number: number, head: string, assembly: string): Promise<ActionRun> {
    const dataFile = join(work, `data-${number}-${head.slice(-4)}`, `${ENV}.json`);
    const diff = await runAction('cdk', {
      inputs: {
        command: 'diff',
        environment: ENV,
        'assembly-dir': assembly,
        comment: 'false',
        'data-file': dataFile,
        'fail-on-destructive': 'false',
      },
      env: awsEnv(),
      github: {
        repository: REPOSITORY,
        eventName: 'pull_request',
        sha: head,
        apiUrl: api.url,
        event: { pull_request: { number, head: { sha: head }, labels: [] } },
      },
    });
    expect([diff.exitCode, diff.errors]).toEqual([0, []]);
    const comment = await runAction('cdk', {
      inputs: {
        command: 'comment',
        'data-dir': join(dataFile, '..'),
        'pull-request': String(number),
        'head-sha': head,
        'github-token': 'trusted',
      },
      env: { GITHUB_API_URL: api.url },
      github: { repository: REPOSITORY, eventName: 'workflow_run', apiUrl: api.url },
    });
    expect([comment.exitCode, comment.errors]).toEqual([0, []]);
    return comment;
  }

  /** The deploy job of the merge commit (deploy.yml), with the review gate on. */
  function deploy(merge: string, assembly: string, inputs: Record<string, string> = {}): Promise<ActionRun> {
    return runAction('cdk', {
      inputs: {
        command: 'deploy',
        environment: ENV,
        'assembly-dir': assembly,
        'deployment-method': 'direct',
        'github-token': 'read',
        ...inputs,
      },
      env: awsEnv(),
      github: { repository: REPOSITORY, eventName: 'push', sha: merge, apiUrl: api.url },
      timeoutMs: 170_000,
    });
  }

  const endpoints = async (): Promise<number> =>
    (await new EC2Client(motoClientConfig(aws)).send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints?.length ?? 0;

  beforeAll(async () => {
    aws = await startMoto({ awsManagedPolicies: true });
    gate = await new IamGate({ aws }).start();
    admin = gate.administrator();
    api = await startGitHubApi();
    work = mkdtempSync(join(tmpdir(), 'review-gate-'));
    assemblies.base = synth('base', { ec2DebugEndpoints: false });
    assemblies.debug = synth('debug', { ec2DebugEndpoints: true });
    assemblies.bigger = synth('bigger', { ec2DebugEndpoints: true, task: { cpu: 512, memoryMiB: 1024 } });
    await deployFoundation(aws, ENV, { bootstrapVersion: false });
    const target = environment(ENV, { account: aws.account, region: aws.region });
    await cdk(
      bootstrapArgs({ ...target, qualifier: target.bootstrapQualifier }, { app: assemblies.base }),
      gate.env(admin),
    );
    await seedImageCache(aws, target);
    // What is deployed before the pull requests: the base, deployed by hand (the gate off).
    const first = await deploy(sha(1), assemblies.base, { 'review-gate': 'off' });
    expect([first.exitCode, first.errors]).toEqual([0, []]);
  }, 300_000);

  afterAll(async () => {
    await api?.stop();
    await gate?.stop();
    await aws?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('deploys a merged, reviewed change; the comment is the workflow’s own, with the fingerprint', async () => {
    api.openPullRequest({ number: 11, author: 'alice', headSha: sha(0x11) });
    // Someone pastes the marker into a comment of their own: it is never the one edited.
    api.addComment(11, `${commentMarker(ENV)} fake`, 'mallory');
    await review(11, sha(0x11), assemblies.debug);
    const ours = api.comments(11).filter((c) => c.user.login === WORKFLOW_LOGIN);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.body).toContain(`<!-- private-aws-gitops:reviewed {"environment":"${ENV}"`);
    expect(api.comments(11).find((c) => c.user.login === 'mallory')!.body).toBe(`${commentMarker(ENV)} fake`);
    api.mergePullRequest(11, sha(0x1100));
    const run = await deploy(sha(0x1100), assemblies.debug);
    expect([run.exitCode, run.errors]).toEqual([0, []]);
    expect(run.log).toContain('Review gate: The change is the one reviewed on #11');
    expect(await endpoints()).toBeGreaterThan(0);
  });

  it('refuses a change that differs from the reviewed one (a stale pull request), before any change', async () => {
    api.openPullRequest({ number: 12, author: 'alice', headSha: sha(0x12) });
    await review(12, sha(0x12), assemblies.bigger);
    api.mergePullRequest(12, sha(0x1200));
    // What reaches the deploy is not what was reviewed (say, another merge changed the templates).
    const run = await deploy(sha(0x1200), assemblies.base);
    expect(run.exitCode).toBe(1);
    expect(run.errors.join('\n')).toMatch(
      /differs from the one reviewed on #12 .*the template to deploy is [0-9a-f]{12}, the reviewed one/,
    );
    expect(run.errors.join('\n')).toContain('Nothing was deployed.');
    expect(run.summary).toContain('reviewed-fingerprint=');
  });

  describe('a destructive change (endpoints removed)', () => {
    const open = async (number: number, at: string) => {
      api.openPullRequest({ number, author: 'alice', headSha: sha(number), at });
      await review(number, sha(number), assemblies.base);
      api.mergePullRequest(number, sha(number * 256));
    };

    it('is refused when merged without the label', async () => {
      await open(21, minutesAgo(30));
      const run = await deploy(sha(21 * 256), assemblies.base);
      expect(run.exitCode).toBe(1);
      expect(run.errors.join('\n')).toContain(`#21 was merged without the '${LABEL}' label`);
    });

    it("is refused when the pull request's author added the label", async () => {
      await open(22, minutesAgo(30));
      api.setLabels(22, [LABEL], 'alice', minutesAgo(10));
      const run = await deploy(sha(22 * 256), assemblies.base);
      expect(run.exitCode).toBe(1);
      expect(run.errors.join('\n')).toContain("added by alice, the pull request's author");
    });

    it('is refused when the label was added before the last push', async () => {
      await open(23, minutesAgo(30));
      api.setLabels(23, [LABEL], 'bob', minutesAgo(20));
      api.pushToPullRequest(23, sha(23), minutesAgo(5));
      const run = await deploy(sha(23 * 256), assemblies.base);
      expect(run.exitCode).toBe(1);
      expect(run.errors.join('\n')).toContain('before the last push');
    });

    it('deploys when another maintainer added the label after the last push', async () => {
      await open(24, minutesAgo(30));
      api.setLabels(24, [LABEL], 'bob', minutesAgo(1));
      const run = await deploy(sha(24 * 256), assemblies.base);
      expect([run.exitCode, run.errors]).toEqual([0, []]);
      expect(run.log).toContain(`allowed by the '${LABEL}' label, added by bob`);
      // What CloudFormation holds now is the reviewed template: the endpoints are gone from it.
      const { TemplateBody } = await new CloudFormationClient(motoClientConfig(aws)).send(
        new GetTemplateCommand({ StackName: deployableStacks(FIRST)[0]! }),
      );
      const deployed = JSON.parse(TemplateBody!) as { Resources: Record<string, unknown> };
      const reviewed = JSON.parse(
        readFileSync(join(assemblies.base, `${deployableStacks(FIRST)[0]!}.template.json`), 'utf8'),
      ) as { Resources: Record<string, unknown> };
      expect(Object.keys(deployed.Resources).sort()).toEqual(Object.keys(reviewed.Resources).sort());
    });
  });

  it('removes the allow label when the pull request moves on after it was added', async () => {
    api.openPullRequest({ number: 31, author: 'alice', headSha: sha(0x31) });
    await review(31, sha(0x31), assemblies.debug);
    api.setLabels(31, [LABEL], 'bob');
    api.pushToPullRequest(31, sha(0x3101));
    const comment = await review(31, sha(0x3101), assemblies.bigger);
    expect(api.labels(31)).toEqual([]);
    expect(comment.warnings.join('\n')).toContain(`Removed the '${LABEL}' label from #31`);
    expect(api.labelEvents(31).at(-1)).toMatchObject({ event: 'unlabeled', actor: { login: WORKFLOW_LOGIN } });
  });
});
