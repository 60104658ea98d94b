import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { App } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { addEnvironments } from '../../../infra/lib/build-app.js';
import { cdkJsonContext } from '../../../infra/lib/cdk-json.js';
import { enforceNag } from '../../../infra/lib/nag.js';
import type { EnvironmentConfig } from '../../../infra/lib/config.js';
import {
  ALLOW_DESTRUCTIVE_LABEL,
  bootstrapArgs,
  cdkCommandLine,
  deployableStacks,
  resourceNames,
} from '../../../infra/lib/names.js';
import { environment, FIRST, type ConfigOverrides } from '../../../infra/test/helpers/app.js';
import { runAction, type ActionRun } from '../../../test/helpers/action-runner.js';
import { cdk } from '../../../test/helpers/cdk-cli.js';
import { startGitHubApi, type GitHubApi } from '../../../test/helpers/github-api.js';
import { deployFoundation } from '../../../test/helpers/local-stacks.js';
import { IamGate } from '../../../test/helpers/iam/gate.js';
import { seedImageCache } from '../../../test/helpers/image-cache.js';
import { cacheSeedCommands } from '../../../infra/lib/image-cache.js';
import { motoClientConfig, startMoto, type LocalAws } from '../../../test/helpers/moto.js';
import { commentMarker } from '../src/render.js';

/**
 * The bundled cdk action run as the runner runs it, against moto (the local AWS) and a local
 * GitHub API: the administrator's foundation and bootstrap of the first configured environment,
 * then deploy its base, diff a routine change (a bigger task, two more endpoints) and a destructive
 * one (a new VPC range) with the sticky comment, then deploy the routine change.
 */
const PR_NUMBER = 7;
const HEAD_SHA = 'fedcba9876543210fedcba9876543210fedcba98';
const ENV = FIRST.name;
const NAMES = resourceNames(FIRST);
const [NETWORK, SERVICE] = deployableStacks(FIRST) as [string, string];
const MARKER = commentMarker(ENV);
const LABEL = ALLOW_DESTRUCTIVE_LABEL;
/**
 * What the cost estimate and the endpoint list depend on, pinned: the configured environment may
 * run another size, architecture or AZ count, and the expected figures must not depend on it.
 */
const BASE: ConfigOverrides = {
  azCount: 2,
  task: { cpu: 256, memoryMiB: 512, architecture: 'ARM64', spot: false, desiredCount: 1 },
  ec2DebugEndpoints: false,
  // Always on: a schedule would price the endpoints and the task for its awake hours only.
  schedule: undefined,
};

describe('actions/cdk against moto and a local GitHub API', () => {
  let aws: LocalAws;
  let gate: IamGate;
  let admin: { accessKeyId: string; secretAccessKey: string };
  let api: GitHubApi;
  let work: string;
  let baseAssembly: string;
  let changedAssembly: string;
  let destructiveAssembly: string;
  let baseDeploy: ActionRun;
  let unbootstrappedDeploy: ActionRun;
  let unseededDeploy: ActionRun;
  let unseededLeftNetwork: boolean;

  /** The first configured environment in moto's account and region, with BASE and `overrides`. */
  function config(overrides: ConfigOverrides = {}): EnvironmentConfig {
    return environment(ENV, {
      ...BASE,
      ...overrides,
      task: { ...BASE.task, ...overrides.task },
      account: aws.account,
      region: aws.region,
    });
  }

  /** Synthesizes the environment in-process with cdk-nag enforced, as `cdk synth` would, into a directory. */
  function synth(name: string, overrides: ConfigOverrides): string {
    const outdir = join(work, name);
    const app = new App({ outdir, context: { ...cdkJsonContext(), 'aws:cdk:enable-path-metadata': true } });
    addEnvironments(app, [config(overrides)]);
    enforceNag(app);
    app.synth();
    return outdir;
  }

  /** The action talks to the local AWS through the IAM gate, as an administrator (the roles' own rights are the rehearsal's and the IAM tests' subject). */
  function awsEnv(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: gate.endpoint,
      AWS_ACCESS_KEY_ID: admin.accessKeyId,
      AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
      AWS_REGION: aws.region,
      AWS_DEFAULT_REGION: aws.region,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  function runCdkAction(inputs: Record<string, string>, pullRequest = true): Promise<ActionRun> {
    return runAction('cdk', {
      inputs: { environment: ENV, 'github-token': 'fake-token', ...inputs },
      env: { ...awsEnv(), GITHUB_API_URL: api.url },
      github: pullRequest
        ? {
            eventName: 'pull_request',
            ref: `refs/pull/${PR_NUMBER}/merge`,
            apiUrl: api.url,
            event: { pull_request: { number: PR_NUMBER, head: { sha: HEAD_SHA }, labels: [] } },
          }
        : { eventName: 'push', apiUrl: api.url },
      timeoutMs: 170_000,
    });
  }

  const diffInputs = { command: 'diff', stacks: `${NETWORK} ${SERVICE}` };
  const ourComments = () => api.comments(PR_NUMBER).filter((comment) => comment.body.includes(MARKER));

  beforeAll(async () => {
    aws = await startMoto({ awsManagedPolicies: true });
    gate = await new IamGate({ aws }).start();
    admin = gate.administrator();
    api = await startGitHubApi();
    work = mkdtempSync(join(tmpdir(), 'cdk-action-'));
    baseAssembly = synth('base', {});
    changedAssembly = synth('changed', { task: { cpu: 512, memoryMiB: 1024 }, ec2DebugEndpoints: true });
    // The next /22 after the configured range: the VPC, its subnets and endpoints are replaced.
    destructiveAssembly = synth('destructive', { vpcCidr: shiftedCidr(config().vpcCidr) });
    // The administrator's one-time set-up (docs/setup.md): the foundation (with the account's OIDC
    // provider), then the environment's own bootstrap with the foundation's execution policy and
    // boundary, which the deploy's preflight checks.
    await deployFoundation(aws, ENV, { bootstrapVersion: false });
    // A deploy before the bootstrap: the preflight refuses it.
    unbootstrappedDeploy = await runCdkAction(
      { command: 'deploy', 'assembly-dir': baseAssembly, 'deployment-method': 'direct', 'review-gate': 'off' },
      false,
    );
    const target = config();
    await cdk(
      bootstrapArgs({ ...target, qualifier: target.bootstrapQualifier }, { app: baseAssembly }),
      gate.env(admin),
    );
    // A deploy before the image cache is seeded: the image preflight refuses it.
    unseededDeploy = await runCdkAction(
      { command: 'deploy', 'assembly-dir': baseAssembly, 'deployment-method': 'direct', 'review-gate': 'off' },
      false,
    );
    unseededLeftNetwork = await new CloudFormationClient(motoClientConfig(aws))
      .send(new DescribeStacksCommand({ StackName: NETWORK }))
      .then(
        () => true,
        () => false,
      );
    await seedImageCache(aws, target);
    baseDeploy = await runCdkAction(
      { command: 'deploy', 'assembly-dir': baseAssembly, 'deployment-method': 'direct', 'review-gate': 'off' },
      false,
    );
    // Other people's comments fill more than one page before the action's first comment.
    for (let i = 0; i < 35; i++) api.addComment(PR_NUMBER, `review comment ${i}`);
  }, 300_000);

  afterAll(async () => {
    await api?.stop();
    await gate?.stop();
    await aws?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('refuses to deploy an environment that is not bootstrapped, with the command that bootstraps it', async () => {
    const target = config();
    expect(unbootstrappedDeploy.exitCode).toBe(1);
    expect(unbootstrappedDeploy.errors.join('\n')).toContain(
      cdkCommandLine(bootstrapArgs({ ...target, qualifier: target.bootstrapQualifier })),
    );
    expect(unbootstrappedDeploy.outputs.outputs).toBeUndefined();
  });

  it('refuses to deploy an image the cache does not hold, before any change, with the commands that seed it', async () => {
    const target = config();
    if (target.image.kind !== 'pull-through-cache') {
      // An image of the team's own repository: nothing to seed, nothing to refuse.
      expect([unseededDeploy.exitCode, unseededDeploy.errors]).toEqual([0, []]);
      return;
    }
    expect(unseededDeploy.exitCode).toBe(1);
    const errors = unseededDeploy.errors.join('\n');
    expect(errors).toContain('Nothing was deployed');
    for (const command of cacheSeedCommands(target.image, target.account, target.region, false)) {
      expect(errors).toContain(command);
    }
    expect(unseededDeploy.outputs.outputs).toBeUndefined();
    expect(unseededLeftNetwork).toBe(false); // not even the network stack, which comes first
  });

  it('deploys the base in dependency order and outputs the stack outputs as JSON', async () => {
    expect([baseDeploy.exitCode, baseDeploy.errors]).toEqual([0, []]);
    const outputs = JSON.parse(baseDeploy.outputs.outputs!) as Record<string, Record<string, string>>;
    expect(Object.keys(outputs)).toEqual([NETWORK, SERVICE]);
    expect(outputs[SERVICE]).toMatchObject({
      ClusterName: NAMES.cluster,
      ServiceName: NAMES.service,
      ContainerPort: String(NAMES.containerPort),
    });
    expect(outputs[NETWORK]!.VpcId).toMatch(/^vpc-/);
    // The preflight found the bootstrap as the administrator set it up.
    expect(baseDeploy.stdout).toContain(`${ENV} is bootstrapped (qualifier ${FIRST.bootstrapQualifier}`);
    // Progress lines as CloudFormation events arrive, network before service.
    const progress = baseDeploy.stdout.split('\n').filter((line) => / CREATE_COMPLETE AWS::/.test(line));
    expect(progress.find((line) => line.startsWith(NETWORK))).toBeDefined();
    expect(progress.findIndex((l) => l.startsWith(NETWORK))).toBeLessThan(
      progress.findIndex((l) => l.startsWith(SERVICE)),
    );
    expect(baseDeploy.summary).toContain(`| \`${SERVICE}\` | \`ClusterName\` | \`${NAMES.cluster}\` |`);
  });

  it('diff: a routine change passes without the label and posts one sticky comment', async () => {
    const run = await runCdkAction({ ...diffInputs, 'assembly-dir': changedAssembly });
    expect([run.exitCode, run.errors]).toEqual([0, []]);
    expect(run.outputs['has-changes']).toBe('true');
    expect(run.outputs['has-destructive-changes']).toBe('false');
    const comments = ourComments();
    expect(comments).toHaveLength(1);
    const body = comments[0]!.body;
    expect(body).toContain(`| \`${ENV}\` | \`${aws.account}\` | \`${aws.region}\` | \`fedcba9\` |`);
    expect(body).toContain(`| \`${NETWORK}\` | 2 | 0 | 0 | 0 |`);
    // The bigger task replaces the task definition: routine, with why, not a destructive change.
    expect(body).toContain('| replace (routine) | `AWS::ECS::TaskDefinition` |');
    expect(body).toContain('deployment circuit breaker');
    expect(body).not.toContain('[!CAUTION]');
    expect(body).toContain('### Security');
    expect(body).toContain(`\`${NETWORK}/Network/Vpc/Ssm/Resource\``);
    expect(body).toMatch(/\*\*\$\d+\.\d\d → \$\d+\.\d\d\*\* \(\+\$49\.87 per month\)/);
    expect(body).toContain(`<details><summary>Raw diff of ${SERVICE}</summary>`);
    // Lookup paged past the 30 comments of page one; created once.
    expect(api.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(run.summary).toContain(MARKER);
  });

  it('diff: a destructive change fails without the label, in the same comment', async () => {
    const before = ourComments()[0]!.id;
    const run = await runCdkAction({ ...diffInputs, 'assembly-dir': destructiveAssembly });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['has-destructive-changes']).toBe('true');
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(`\\d+ destructive change\\(s\\) in ${ENV}: replacement of AWS::EC2::VPC .*'${LABEL}' label`),
      ),
    ]);
    expect(ourComments()).toEqual([expect.objectContaining({ id: before })]);
    const body = ourComments()[0]!.body;
    expect(body).toContain('> [!CAUTION]');
    expect(body).toContain(`> | \`${NETWORK}\` | replacement | \`AWS::EC2::VPC\` |`);
    expect(api.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(api.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  it('diff: updates the same comment in place and passes once the allow label is on the pull request', async () => {
    const before = ourComments()[0]!.id;
    api.setLabels(PR_NUMBER, [LABEL]);
    const run = await runCdkAction({ ...diffInputs, 'assembly-dir': destructiveAssembly });
    expect([run.exitCode, run.errors]).toEqual([0, []]);
    expect(run.outputs['has-destructive-changes']).toBe('true');
    expect(ourComments()).toEqual([
      expect.objectContaining({ id: before, body: expect.stringContaining(`Allowed by the \`${LABEL}\` label`) }),
    ]);
    expect(api.requests.filter((r) => r.method === 'PATCH')).toHaveLength(2);
  });

  it('diff: when GitHub answers 422 for the body, posts a shorter one', async () => {
    // The full comment here is several thousand characters: make the stand-in's limit smaller.
    api.maxBodyLength = 1_500;
    try {
      const run = await runCdkAction({ ...diffInputs, 'assembly-dir': destructiveAssembly });
      expect(run.exitCode).toBe(0);
      expect(run.warnings).toEqual(expect.arrayContaining([expect.stringContaining('GitHub rejected the comment')]));
      const [comment] = ourComments();
      expect(comment!.body.length).toBeLessThanOrEqual(1_500);
      // Every richer rendering was rejected in turn; the last resort keeps the destructive count.
      expect(run.warnings.filter((w) => w.includes('GitHub rejected the comment')).length).toBeGreaterThanOrEqual(3);
      expect(comment!.body).toMatch(/\d+ destructive change\(s\)/);
      expect(ourComments()).toHaveLength(1);
    } finally {
      api.maxBodyLength = 65_536;
    }
  });

  it('deploy: applies the change and outputs the new state', async () => {
    const run = await runCdkAction(
      { command: 'deploy', 'assembly-dir': changedAssembly, 'deployment-method': 'direct', 'review-gate': 'off' },
      false,
    );
    expect([run.exitCode, run.errors]).toEqual([0, []]);
    const outputs = JSON.parse(run.outputs.outputs!) as Record<string, Record<string, string>>;
    const vpcId = outputs[NETWORK]!.VpcId!;
    const ec2 = new EC2Client(motoClientConfig(aws));
    const endpoints = await ec2.send(
      new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    );
    const services = endpoints.VpcEndpoints!.map((e) => e.ServiceName!.split('.').slice(3).join('.')).sort();
    expect(services).toEqual(['ec2messages', 'ecr.api', 'ecr.dkr', 'logs', 's3', 'ssm', 'ssmmessages']);
    const cloudformation = new CloudFormationClient(motoClientConfig(aws));
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: SERVICE }));
    expect(Stacks![0]!.StackStatus).toBe('UPDATE_COMPLETE');

    // And now there is nothing left to diff: the comment says so in one line.
    api.setLabels(PR_NUMBER, []);
    const diff = await runCdkAction({ ...diffInputs, 'assembly-dir': changedAssembly });
    expect([diff.exitCode, diff.outputs['has-changes']]).toEqual([0, 'false']);
    expect(ourComments()[0]!.body.split('\n')[1]).toMatch(new RegExp(`^\\*\\*CDK diff \`${ENV}\`\\*\\*: no changes`));
  });

  it('diff: a change cdk-nag refuses fails the step and says so in the sticky comment', async () => {
    const outdir = join(work, 'nag-refused');
    const app = new App({ outdir, context: { ...cdkJsonContext(), 'aws:cdk:enable-path-metadata': true } });
    const { service } = addEnvironments(app, [config()]).get(ENV)!;
    // A pull request that grants the task role s3:* on everything.
    (service.nginx.taskDefinition.taskRole as iam.Role).addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }),
    );
    enforceNag(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5/);

    const run = await runCdkAction({ ...diffInputs, 'assembly-dir': outdir });
    expect(run.exitCode).toBe(1);
    expect(run.errors.join('\n')).toMatch(/cdk-nag: \d+ unacknowledged finding/);
    const [comment] = ourComments();
    expect(ourComments()).toHaveLength(1);
    expect(comment!.body).toContain('cdk-nag refused `fedcba9`: synthesis stopped, so there is no diff yet.');
    expect(comment!.body).toContain('AwsSolutions-IAM5[Action::s3:*]');
    expect(comment!.body).toContain(`${SERVICE}/Nginx/TaskDefinitionTaskRole/DefaultPolicy/Resource`);
  });
});

/** The next range of a CIDR's size (10.10.0.0/22 → 10.10.4.0/22): a new VPC range, so a replacement. */
function shiftedCidr(cidr: string): string {
  const [address = '', bits = '22'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const value = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0) + size;
  return `${[24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.')}/${bits}`;
}
