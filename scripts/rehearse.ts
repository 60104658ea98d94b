/**
 * `npm run rehearse`: the whole GitOps flow of the configured project, offline, with one command:
 * no AWS account, no GitHub. Everything comes from gitops.config.json: the repository identity, the
 * environments, their accounts and regions.
 *
 * It starts a local AWS (moto) behind an IAM gate that refuses what AWS would refuse (identity
 * policies, permissions boundaries, trust policies, what CloudFormation needs for each resource),
 * the SSM/ECS emulator, nginx (or a built-in HTTP target), a local GitHub OIDC issuer and a GitHub
 * API stand-in, then:
 *
 *   1. the administrator's set-up, by running the commands of docs/setup.md as they are written
 *      (synthesize once; per environment: the foundation, then the environment's own bootstrap);
 *   2. a first pull request: a diff per environment as its pull-request role (no write token), the
 *      comments by trusted code; the merge promotes the same assembly from the first environment to
 *      the second, each deployed through the review gate as its deploy role and smoke-tested as its
 *      operator role through the native port forward;
 *   3. a routine change (a task resize) reviewed, merged, deployed;
 *   4. a destructive change: blocked in the pull request, refused at deploy without the label and
 *      with a label its author added;
 *   5. operations: a change made out of band reported by the drift check in one issue, closed once
 *      undone (in the second environment, when there is one, beside the next); the first
 *      environment put to sleep (the smoke test says so) and woken (it passes);
 *   6. the guardrails: a pull-request token refused by the deploy role, one environment's deploy
 *      role refused another's bootstrap, a bootstrap before its foundation refused as IAM would;
 *   7. stop everything it started, even on failure or Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { commentMarker } from '../actions/cdk/src/render.js';
import { errorMessage } from '../actions/shared/src/errors.js';
import { subjectPrefix, type EnvironmentConfig } from '../infra/lib/config.js';
import {
  ALLOW_DESTRUCTIVE_LABEL,
  bootstrapArgs,
  bootstrapNames,
  cdkCommandLine,
  resourceNames,
} from '../infra/lib/names.js';
import { ENVIRONMENTS, PROJECT } from '../infra/lib/project.js';
import { runAction, type ActionRun } from '../test/helpers/action-runner.js';

import { startGitHubApi, type GitHubApi } from '../test/helpers/github-api.js';
import { IamGate } from '../test/helpers/iam/gate.js';
import { setupCommands } from '../test/helpers/markdown.js';
import { repositoryCopy } from '../test/helpers/work-copy.js';
import { assertMotoInstalled, motoClientConfig, startMoto, warmUpMoto, type LocalAws } from '../test/helpers/moto.js';
import { seedImageCache } from '../test/helpers/image-cache.js';
import { nginxAvailability, startNginx, type LocalNginx } from '../test/helpers/nginx.js';
import { OidcIssuer, type GitHubJob } from '../test/helpers/oidc-issuer.js';
import { SsmEmulator } from '../test/helpers/ssm-emulator/emulator.js';
import { healthyScenario, type EmulatedTask } from '../test/helpers/ssm-emulator/scenario.js';
import { cliArgs, type CliSpec } from './lib/args.js';

const CLI = {
  command: 'npm run rehearse',
  usage: 'Usage: npm run rehearse [-- --keep-output DIR]',
  description:
    'Plays the whole GitOps flow of gitops.config.json offline (no AWS account, no GitHub): the administrator set-up of ' +
    'docs/setup.md under IAM enforcement, a deploy from main, a pull request with its diff comment, the merge with its ' +
    'smoke test through SSM port forwarding, and the guardrails. Needs python3 with moto; uses nginx when installed.',
  options: {
    'keep-output': {
      type: 'string',
      value: 'dir',
      default: '.rehearsal',
      description: 'Where the rendered pull-request comment is written',
    },
  },
  examples: ['npm run rehearse', 'npm run rehearse -- --keep-output /tmp/rehearsal'],
  exitCodes: [
    [0, 'the rehearsal passed'],
    [1, 'a step failed (the error says which and why)'],
    [2, 'bad options or a missing prerequisite'],
    [130, 'interrupted'],
  ],
} as const satisfies CliSpec;

const REPOSITORY = `${PROJECT.github.owner}/${PROJECT.github.repo}`;
const IDS = PROJECT.github.ownerId ? { ownerId: PROJECT.github.ownerId, repositoryId: PROJECT.github.repoId } : {};
const MAIN_REF = `refs/heads/${PROJECT.github.mainBranch}`;
const STEPS = 7;
/** Synthesizes a pull request's code in a process of its own (see Rehearsal.synth). */
const SYNTH_PULL_REQUEST = fileURLToPath(new URL('./lib/synth-pull-request.ts', import.meta.url));
/** The pull requests the rehearsal plays, by what they change. */
const PULL_REQUESTS = { configuration: 41, destructive: 42, routine: 43 } as const;
const AUTHOR = 'alice';

interface StepResult {
  readonly step: string;
  readonly result: string;
  readonly seconds: number;
}

/**
 * The administrator's shell for the documented commands. The CDK CLI's telemetry is off: the
 * rehearsal is offline, and the CLI would otherwise start a sender process after each command.
 */
const ADMIN_SHELL = { NODE_OPTIONS: '', FORCE_COLOR: '0', NO_COLOR: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' };

/** Everything the rehearsal starts, so that one place stops it all. */
class LocalWorld {
  aws?: LocalAws;
  gate?: IamGate;
  issuer?: OidcIssuer;
  emulator?: SsmEmulator;
  nginx?: LocalNginx;
  github?: GitHubApi;
  readonly work = mkdtempSync(join(tmpdir(), 'rehearsal-'));
  /** The administrator's clone: the documented commands run there (they write cdk.out). */
  readonly clone = repositoryCopy();
  /** Commands still running (their process groups), ended on stop. */
  readonly children = new Set<number>();

  async stop(): Promise<void> {
    for (const pid of this.children) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.allSettled([
      this.gate?.stop(),
      this.issuer?.stop(),
      this.emulator?.stop(),
      this.github?.stop(),
      this.nginx?.stop(),
    ]);
    await this.aws?.stop();
    rmSync(this.work, { recursive: true, force: true });
    this.clone.remove();
  }
}

class Rehearsal {
  readonly results: StepResult[] = [];
  private readonly world = new LocalWorld();
  private readonly config: EnvironmentConfig = ENVIRONMENTS[0]!;
  private readonly names = resourceNames(this.config);
  /**
   * The environment a merge is promoted to after the first: the next one of the configuration in
   * the same account and region (the local AWS plays one account), if any.
   */
  private readonly next: EnvironmentConfig | undefined = ENVIRONMENTS.slice(1).find(
    (env) => env.account === this.config.account && env.region === this.config.region,
  );
  /** The environments each pull request is diffed and reviewed in. */
  private readonly reviewed: readonly EnvironmentConfig[] = [this.config, ...(this.next ? [this.next] : [])];
  /** The assembly of the last merge to main (what the drift check compares with). */
  private mainAssembly = '';
  /** The administrator's credentials, issued by the gate. */
  private admin?: { accessKeyId: string; secretAccessKey: string };
  /** The cloud assembly `npx cdk synth` wrote (docs/setup.md step 1): what main deploys. */
  private readonly assembly = join(this.world.clone.dir, 'cdk.out');

  constructor(private readonly outputDir: string) {}

  /** Runs one step with a progress line, its time, and its one-line result. */
  private async step(name: string, body: () => Promise<string>): Promise<void> {
    const number = this.results.length + 1;
    process.stdout.write(`[${number}/${STEPS}] ${name}...\n`);
    const started = performance.now();
    const result = await body();
    const seconds = (performance.now() - started) / 1000;
    this.results.push({ step: `${number}. ${name}`, result, seconds });
    process.stdout.write(`      ${result} (${seconds.toFixed(1)} s)\n`);
  }

  async run(): Promise<void> {
    await this.step(
      'Start the local AWS behind the IAM gate, the SSM emulator, the HTTP target, the OIDC issuer and the GitHub API',
      () => this.start(),
    );
    await this.step('Administrator: the commands of docs/setup.md for every environment, under IAM', () =>
      this.setUp(),
    );
    await this.step(
      `First pull request (the configuration): diff, comment, merge, deploy and smoke-test ${this.reviewed.map((e) => e.name).join(', then ')}`,
      () => this.firstPullRequest(),
    );
    await this.step('A destructive change (a new VPC range): blocked in the pull request, refused at deploy', () =>
      this.destructiveChange(),
    );
    await this.step('A routine change (a bigger task): reviewed, merged, deployed through the review gate', () =>
      this.routineChange(),
    );
    await this.step(
      `Operations: drift in ${this.driftChecked.name} reported in one issue and closed once fixed; ${this.config.name} put to sleep and woken`,
      () => this.operations(),
    );
    await this.step('Guardrails: a pull-request token, another environment, the set-up order', () => this.guardrails());
  }

  async stop(): Promise<string> {
    await this.world.stop();
    return 'moto, the gate, the emulator, the HTTP target, the issuer and the GitHub API stopped; temporary files removed';
  }

  private async start(): Promise<string> {
    const world = this.world;
    world.aws = await startMoto({ account: this.config.account, region: this.config.region, awsManagedPolicies: true });
    // moto loads each service on its first call: warmed while the set-up synthesizes (no AWS there).
    void warmUpMoto(world.aws);
    world.issuer = await new OidcIssuer().start();
    world.nginx = await startNginx();
    // One emulated cluster per environment the rehearsal deploys (the ECS runtime view moto lacks).
    const scenarios = this.reviewed.map((env) => {
      const names = resourceNames(env);
      return healthyScenario({
        target: { host: '127.0.0.1', port: world.nginx!.port },
        cluster: names.cluster,
        service: names.service,
        container: names.container,
        account: env.account,
        region: env.region,
      });
    });
    world.emulator = await new SsmEmulator({
      ...scenarios[0]!,
      clusters: scenarios.flatMap((scenario) => scenario.clusters),
    }).start();
    world.gate = await new IamGate({ aws: world.aws, issuer: world.issuer, emulator: world.emulator }).start();
    world.github = await startGitHubApi();
    this.admin = world.gate.administrator();
    const target = world.nginx.kind === 'nginx' ? 'nginx' : 'built-in HTTP target';
    return (
      `account ${this.config.account} (${this.config.region}) at ${world.gate.endpoint}, IAM enforced ` +
      `(moto ${world.aws.endpoint}), emulator ${world.emulator.endpoint}, ${target} ${world.nginx.url}`
    );
  }

  /** docs/setup.md's `setup` blocks, as written, as the administrator: once, then per environment. */
  private async setUp(): Promise<string> {
    const { once, perEnvironment } = setupCommands();
    if (once.length === 0 || perEnvironment.length === 0)
      throw new Error('docs/setup.md has no `sh runnable setup` blocks: nothing to rehearse the set-up with');
    const env = this.world.gate!.env(this.admin!, ADMIN_SHELL);
    for (const block of once) await this.bash(`docs/setup.md:${block.line}`, block.body, env);
    // The later pull requests' code is synthesized from here on, beside the set-up's deploys and the
    // first pull request, as pull requests' jobs run side by side on GitHub (it touches no AWS). Not
    // before: the documented synthesis above is the set-up's own critical path.
    this.pullRequestAssemblies = this.synth({
      routine: { task: { ...this.config.task, cpu: 512, memoryMiB: 1024 } },
      destructive: { vpcCidr: shiftedCidr(this.config.vpcCidr) },
    });
    // Each environment in the page's order; environments side by side, except that a block marked
    // `per-account` (the foundation deploy, which shares the account's github-oidc-provider stack)
    // runs for one environment of an account at a time.
    const accountLocks = new Map<string, Promise<unknown>>();
    const underAccountLock = <T>(account: string, work: () => Promise<T>): Promise<T> => {
      const previous = accountLocks.get(account) ?? Promise.resolve();
      const next = previous.then(work, work);
      accountLocks.set(
        account,
        next.catch(() => undefined),
      );
      return next;
    };
    await Promise.all(
      ENVIRONMENTS.map(async (environment) => {
        const variables = {
          ENV: environment.name,
          ACCOUNT: environment.account,
          REGION: environment.region,
          QUALIFIER: environment.bootstrapQualifier,
          AWS_REGION: environment.region,
          AWS_DEFAULT_REGION: environment.region,
        };
        for (const block of perEnvironment) {
          const run = (): Promise<string> =>
            this.bash(`docs/setup.md:${block.line} (${environment.name})`, block.body, { ...env, ...variables });
          await (block.info.includes('per-account') ? underAccountLock(environment.account, run) : run());
        }
        // docs/setup.md's "Seed the image cache" needs Docker and ECR's pull-through cache, which
        // moto lacks: its result is put in place instead (the deploy's preflight checks it).
        await seedImageCache(this.world.aws!, environment);
      }),
    );
    const refused = this.world.gate!.refusals;
    if (refused.length > 0) throw new Error(`The documented set-up was refused:\n${describe(refused)}`);
    return `${once.length + perEnvironment.length * ENVIRONMENTS.length} documented commands: ${ENVIRONMENTS.map((e) => `${e.name} (foundation, bootstrap ${bootstrapNames({ ...e, qualifier: e.bootstrapQualifier }).toolkitStack})`).join(', ')}`;
  }

  /** Runs a documented command with bash in the administrator's clone; its output, or an error with it. */
  private async bash(where: string, script: string, env: NodeJS.ProcessEnv, expectFailure = false): Promise<string> {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: this.world.clone.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: stop() ends npx, the CLI and the app with it
    });
    this.world.children.add(child.pid!);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = performance.now();
    const code = await new Promise<number>((done) => child.on('close', (exit) => done(exit ?? -1)));
    this.world.children.delete(child.pid!);
    if (process.env.REHEARSE_TIMINGS)
      console.error(`  ${where}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if ((code !== 0) !== expectFailure) {
      const expectation = expectFailure ? ' (a failure was expected)' : '';
      throw new Error(`${where} exited ${code}${expectation}:\n$ ${script}\n${output.slice(-3000)}`);
    }
    return output;
  }

  /** A GitHub job of this repository. */
  private job(overrides: Partial<GitHubJob>): GitHubJob {
    return { repository: REPOSITORY, ref: MAIN_REF, eventName: 'push', ...IDS, ...overrides };
  }

  /** Runs the credentials action for a job and returns the environment it exports. */
  private async credentials(
    job: GitHubJob,
    roleArn: string,
    region = this.config.region,
  ): Promise<{ run: ActionRun; env: Record<string, string> }> {
    const { gate, issuer } = this.world;
    const run = await runAction('aws-credentials', {
      inputs: { 'role-to-assume': roleArn, 'aws-region': region },
      // The job's own request token: jobs of the rehearsal run side by side, each with its claims.
      env: { AWS_ENDPOINT_URL: gate!.endpoint, AWS_EC2_METADATA_DISABLED: 'true', ...issuer!.runnerEnv(job) },
      github: { repository: REPOSITORY, ref: job.ref, eventName: job.eventName },
    });
    return { run, env: run.env };
  }

  private role(environment: EnvironmentConfig, kind: 'deployRole' | 'pullRequestRole' | 'operatorRole'): string {
    return `arn:aws:iam::${environment.account}:role/${resourceNames(environment)[kind]}`;
  }

  /**
   * Shows the emulator's ECS runtime view what CloudFormation made in moto: the task definition
   * the tasks run, and the desired count (asleep: 0, and no task runs).
   */
  private async reflectDeployedService(environment: EnvironmentConfig = this.config): Promise<void> {
    const names = resourceNames(environment);
    const ecs = new ECSClient(motoClientConfig(this.world.aws!));
    const { services } = await ecs.send(
      new DescribeServicesCommand({ cluster: names.cluster, services: [names.service] }),
    );
    const taskDefinition = services?.[0]?.taskDefinition;
    const cluster = this.world.emulator!.scenario.clusters.find((c) => c.clusterName === names.cluster)!;
    const emulated = cluster.services[0]!;
    const parked = (this.parkedTasks[environment.name] ??= [...emulated.tasks]);
    emulated.desiredCount = services?.[0]?.desiredCount ?? emulated.desiredCount;
    emulated.tasks.splice(0, emulated.tasks.length, ...(emulated.desiredCount === 0 ? [] : parked));
    if (taskDefinition) {
      emulated.taskDefinitionArn = taskDefinition;
      for (const task of emulated.tasks) task.taskDefinitionArn = taskDefinition;
    }
  }

  /** The emulated tasks of each environment, kept while it sleeps. */
  private readonly parkedTasks: Record<string, EmulatedTask[]> = {};

  /**
   * Pull requests' code: for each, the reviewed environments with the change made to the first,
   * synthesized with cdk-nag enforced, as a pull request's job synthesizes its code: in a process
   * of their own (see synth-pull-request.ts), at low priority, so that they use what the flow
   * leaves of the machine. Resolves to each one's assembly directory; rejects with the error.
   */
  private synth<Label extends string>(
    changes: Record<Label, Partial<EnvironmentConfig>>,
  ): Promise<Record<Label, string>> {
    const labels = Object.keys(changes) as Label[];
    const pullRequests = labels.map((label) => ({
      outdir: join(this.world.work, label),
      // The change is to the first environment; the others reviewed are synthesized as they are.
      environments: [{ ...this.config, ...changes[label] }, ...this.reviewed.slice(1)],
    }));
    const child = spawn(process.execPath, ['--import', 'tsx', SYNTH_PULL_REQUEST, JSON.stringify(pullRequests)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true, // its own process group: stop() ends it
    });
    this.world.children.add(child.pid!);
    try {
      setPriority(child.pid!, 10);
    } catch {
      // not allowed here: it runs at the same priority
    }
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const done = new Promise<Record<Label, string>>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        this.world.children.delete(child.pid!);
        if (code === 0)
          resolve(
            Object.fromEntries(labels.map((label, i) => [label, pullRequests[i]!.outdir])) as Record<Label, string>,
          );
        else
          reject(
            new Error(
              `The synthesis of the pull requests (${labels.join(', ')}) failed (exit ${code}):\n${errors.slice(-3000)}`,
            ),
          );
      });
    });
    done.catch(() => undefined); // awaited by its step; a failure before that step must not crash the process
    return done;
  }

  /** The pull requests' assemblies, synthesized from the start, beside the set-up. */
  private pullRequestAssemblies?: Promise<{ readonly routine: string; readonly destructive: string }>;

  /** The routine pull request's review, started beside the destructive one (see destructiveChange). */
  private routineReview?: Promise<ActionRun>;

  /** The cdk action in a job of this repository: a pull request's (with its head) or main's (with the merge commit). */
  private cdkAction(
    inputs: Record<string, string>,
    credentials: Record<string, string>,
    event: { readonly pullRequest: number; readonly head: string } | { readonly merge: string },
    environment: EnvironmentConfig = this.config,
  ): Promise<ActionRun> {
    const { gate, github } = this.world;
    return runAction('cdk', {
      inputs: { environment: environment.name, 'github-token': 'rehearsal-token', ...inputs },
      env: {
        AWS_ENDPOINT_URL: gate!.endpoint,
        AWS_EC2_METADATA_DISABLED: 'true',
        GITHUB_API_URL: github!.url,
        CDK_HOME: join(this.world.work, 'cdk-home'),
        ...credentials,
      },
      github:
        'pullRequest' in event
          ? {
              repository: REPOSITORY,
              eventName: 'pull_request',
              ref: `refs/pull/${event.pullRequest}/merge`,
              sha: event.head,
              apiUrl: github!.url,
              event: { pull_request: { number: event.pullRequest, head: { sha: event.head }, labels: [] } },
            }
          : { repository: REPOSITORY, eventName: 'push', ref: MAIN_REF, sha: event.merge, apiUrl: github!.url },
      timeoutMs: 170_000,
    });
  }

  /**
   * A pull request as pr.yml and pr-comment.yml run it: a diff job per environment with that
   * environment's read-only pull-request role and no write token (each hands its templates over),
   * then the trusted comment job, which posts one comment per environment with its fingerprint.
   */
  private async review(number: number, assembly: string, expectDestructive = false): Promise<ActionRun> {
    const github = this.world.github!;
    const head = commitSha(number, 1);
    github.openPullRequest({ number, author: AUTHOR, headSha: head, at: new Date(Date.now() - 60_000).toISOString() });
    const dataDir = join(this.world.work, `pr-${number}`);
    const diffs = await Promise.all(
      this.reviewed.map(async (environment) => {
        const names = resourceNames(environment);
        const { run: login, env } = await this.credentials(
          this.job({ eventName: 'pull_request', ref: `refs/pull/${number}/merge`, workflow: 'pr' }),
          this.role(environment, 'pullRequestRole'),
          environment.region,
        );
        expectSuccess(`aws-credentials (pull-request role of ${environment.name})`, login);
        const diff = await this.cdkAction(
          {
            command: 'diff',
            stacks: `${names.networkStack} ${names.serviceStack}`,
            'assembly-dir': assembly,
            comment: 'false',
            'data-file': join(dataDir, `${environment.name}.json`),
            'allow-destructive-label': ALLOW_DESTRUCTIVE_LABEL,
            'github-token': '',
          },
          env,
          { pullRequest: number, head },
          environment,
        );
        if (!diff.outputs['data-file'])
          throw new Error(
            `The diff of ${environment.name} on #${number} failed:\n${diff.errors.join('\n') || diff.stderr.slice(-2000)}`,
          );
        return diff;
      }),
    );
    const first = diffs[0]!;
    if (expectDestructive !== (first.exitCode !== 0))
      throw new Error(
        `The diff of #${number} ${expectDestructive ? 'was not blocked' : 'failed'}:\n${first.errors.join('\n') || first.stderr.slice(-2000)}`,
      );
    // pr-comment.yml: trusted code, no AWS credentials, the pull-requests write token.
    const comment = await runAction('cdk', {
      inputs: {
        command: 'comment',
        'data-dir': dataDir,
        'pull-request': String(number),
        'head-sha': head,
        'github-token': 'rehearsal-token',
      },
      env: { GITHUB_API_URL: github.url },
      github: { repository: REPOSITORY, eventName: 'workflow_run', apiUrl: github.url },
    });
    expectSuccess('the diff comments (pr-comment.yml)', comment);
    const comments = github.comments(number);
    if (comments.length !== this.reviewed.length)
      throw new Error(`Expected one comment per environment on #${number}, found ${comments.length}`);
    return first;
  }

  /** deploy.yml for a merge commit in one environment: the deploy role, then the cdk action with the review gate. */
  private async deployMerge(merge: string, assembly: string, environment = this.config): Promise<ActionRun> {
    const { run: login, env } = await this.credentials(
      this.job({ environment: environment.name, workflow: 'deploy', sha: merge }),
      this.role(environment, 'deployRole'),
      environment.region,
    );
    expectSuccess(`aws-credentials (deploy role of ${environment.name})`, login);
    return this.cdkAction(
      { command: 'deploy', 'assembly-dir': assembly, 'deployment-method': 'direct' },
      env,
      { merge },
      environment,
    );
  }

  /** The operator role of an environment, as a job of `workflow` names it. */
  private async operator(environment: EnvironmentConfig, workflow: string): Promise<Record<string, string>> {
    const { run, env } = await this.credentials(
      this.job({ environment: environment.name, workflow }),
      this.role(environment, 'operatorRole'),
      environment.region,
    );
    expectSuccess(`aws-credentials (operator role of ${environment.name}, ${workflow}.yml)`, run);
    return env;
  }

  /** The smoke-test action as the operator role, through the native port forward; its run, passed or not. */
  private async smokeRun(environment: EnvironmentConfig, workflow: string): Promise<ActionRun> {
    await this.reflectDeployedService(environment);
    const env = await this.operator(environment, workflow);
    const smoke = await runAction('ssm-smoke-test', {
      inputs: { environment: environment.name, 'timeout-seconds': '60' },
      env: { AWS_ENDPOINT_URL: this.world.gate!.endpoint, AWS_EC2_METADATA_DISABLED: 'true', ...env },
      github: { repository: REPOSITORY, eventName: 'push' },
      timeoutMs: 120_000,
    });
    if (this.world.emulator!.activeSessions().length > 0) throw new Error('The smoke test left a session open');
    return smoke;
  }

  /** deploy.yml's smoke test of an environment; it must pass. */
  private async smokeTest(environment = this.config): Promise<ActionRun> {
    const smoke = await this.smokeRun(environment, 'deploy');
    expectSuccess(`ssm-smoke-test of ${environment.name}`, smoke);
    return smoke;
  }

  private async firstPullRequest(): Promise<string> {
    const number = PULL_REQUESTS.configuration;
    await this.review(number, this.assembly);
    const merge = commitSha(number, 0);
    this.world.github!.mergePullRequest(number, merge);
    this.mainAssembly = this.assembly;
    // deploy.yml: the same assembly through the environments in order, each after the previous passed.
    const results: string[] = [];
    for (const environment of this.reviewed) {
      const deploy = await this.deployMerge(merge, this.assembly, environment);
      expectSuccess(`cdk deploy of the first merge to ${environment.name}`, deploy);
      const smoke = await this.smokeTest(environment);
      results.push(
        `${environment.name}: deployed as ${resourceNames(environment).deployRole}, GET / → ${smoke.outputs.status} in ${smoke.outputs['latency-ms']} ms`,
      );
    }
    this.expectNoRefusal();
    return `#${number} reviewed in ${this.reviewed.length} environment(s) and merged; the same assembly promoted through the review gate: ${results.join('; ')}`;
  }

  private async routineChange(): Promise<string> {
    const number = PULL_REQUESTS.routine;
    const changed = (await this.pullRequestAssemblies!).routine;
    const diff = await this.routineReview!;
    if (diff.outputs['has-destructive-changes'] !== 'false')
      throw new Error(
        `A bigger task (a new task definition revision) was called destructive:\n${diff.log.slice(-2000)}`,
      );
    const comment = this.world.github!.comments(number).find((c) => c.body.includes(commentMarker(this.config.name)));
    if (!comment) throw new Error(`#${number} has no diff comment of ${this.config.name}`);
    mkdirSync(this.outputDir, { recursive: true });
    const file = join(this.outputDir, 'pr-comment.md');
    writeFileSync(file, comment.body);
    const merge = commitSha(number, 0);
    this.world.github!.mergePullRequest(number, merge);
    this.mainAssembly = changed;
    const deploy = await this.deployMerge(merge, changed);
    expectSuccess('cdk deploy of the routine change', deploy);
    const smoke = await this.smokeTest();
    this.expectNoRefusal();
    return `a new task definition revision is routine; one comment by the workflow (${file}); merged, deployed, smoke test ${smoke.outputs.status}`;
  }

  private async destructiveChange(): Promise<string> {
    const number = PULL_REQUESTS.destructive;
    // The routine pull request is open at the same time: its diff jobs run beside this one's (each
    // job with its own OIDC claims). Its review stays true: the refused deploys below change nothing.
    const routine = this.pullRequestAssemblies!.then(({ routine: assembly }) =>
      this.review(PULL_REQUESTS.routine, assembly),
    );
    routine.catch(() => undefined); // awaited by the next step
    this.routineReview = routine;
    const { destructive } = await this.pullRequestAssemblies!;
    await this.review(number, destructive, true);
    const merge = commitSha(number, 0);
    const github = this.world.github!;
    github.mergePullRequest(number, merge);
    const unlabeled = await this.deployMerge(merge, destructive);
    if (unlabeled.exitCode === 0 || !unlabeled.errors.join('\n').includes('merged without the'))
      throw new Error(`A destructive merge without the label was deployed:\n${unlabeled.log.slice(-2000)}`);
    github.setLabels(number, [ALLOW_DESTRUCTIVE_LABEL], AUTHOR);
    const byAuthor = await this.deployMerge(merge, destructive);
    if (byAuthor.exitCode === 0 || !byAuthor.errors.join('\n').includes("the pull request's author"))
      throw new Error(`A label the author added let a destructive change through:\n${byAuthor.log.slice(-2000)}`);
    // The maintainers revert the merge on main (nothing to model: the refused deploys changed
    // nothing), and the routine pull request, reviewed meanwhile, merges on that.
    return 'the diff check failed on the pull request; at deploy, refused before any change without the label, and with a label the author added; the merge reverted';
  }

  /**
   * drift.yml and sleep.yml: a retention changed out of band is reported in one issue, which
   * closes once the change is undone; the first environment is put to sleep (the smoke test says
   * so and how to wake it) and woken (the smoke test passes).
   */
  private async operations(): Promise<string> {
    // The guardrails' refused bootstrap (next step) runs meanwhile: a CLI run of the administrator's
    // in an environment of its own, as an administrator may try one while the workflows run.
    const early = this.bootstrapBeforeFoundation();
    early.catch(() => undefined); // awaited by the next step
    this.earlyBootstrap = early;
    const [drift, power] = await Promise.all([
      this.driftCycle(this.driftChecked),
      // Side by side when the drift check has an environment of its own (it reads what the power
      // change would move); one after the other otherwise.
      this.driftChecked === this.config ? undefined : this.sleepWakeCycle(),
    ]);
    const sleepWake = power ?? (await this.sleepWakeCycle());
    this.expectNoRefusal(this.world.gate!.administratorArn(this.config.account));
    return `${drift}; ${sleepWake}`;
  }

  /**
   * The environment the drift check is rehearsed in: the last one reviewed (the second when a
   * merge is promoted), so that it runs beside the first's sleep and wake.
   */
  private readonly driftChecked: EnvironmentConfig = this.reviewed[this.reviewed.length - 1]!;

  /**
   * drift.yml: an out-of-band change (someone shortens the retention of the app's log group in the
   * console) reported in one issue, which the next run closes once the change is undone. No run
   * before the change: the last run checks the same stacks with nothing drifted, which is what a
   * false report right after the deploy would fail.
   */
  private async driftCycle(environment: EnvironmentConfig): Promise<string> {
    const github = this.world.github!;
    const drift = async (): Promise<ActionRun> => {
      const env = await this.operator(environment, 'drift');
      const run = await this.cdkAction(
        { command: 'drift', 'assembly-dir': this.mainAssembly },
        env,
        { merge: commitSha(PULL_REQUESTS.routine, 0) },
        environment,
      );
      expectSuccess(`cdk drift of ${environment.name} (drift.yml)`, run);
      return run;
    };
    const openIssues = () => github.issues().filter((issue) => issue.state === 'open');
    const logs = new CloudWatchLogsClient(motoClientConfig(this.world.aws!));
    const outputs = await this.stackOutputs(resourceNames(environment).serviceStack);
    const logGroup = outputs.AppLogGroupName!;
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: logGroup, retentionInDays: 1 }));
    const drifted = await drift();
    if (drifted.outputs.drifted !== 'true' || openIssues().length !== 1)
      throw new Error(`An out-of-band change was not reported in one issue:\n${drifted.summary}`);
    const issue = openIssues()[0]!;
    await logs.send(
      new PutRetentionPolicyCommand({ logGroupName: logGroup, retentionInDays: environment.logRetentionDays }),
    );
    const fixed = await drift();
    if (fixed.outputs.drifted !== 'false' || openIssues().length > 0)
      throw new Error(`The drift issue was not closed once the drift was gone:\n${fixed.summary}`);
    return `drift: retention changed out of band → issue #${issue.number} opened, closed once undone`;
  }

  /** sleep.yml: the deploy role flips Awake with the deployed template; the smoke test knows. */
  private async sleepWakeCycle(): Promise<string> {
    const power = async (command: 'sleep' | 'wake'): Promise<ActionRun> => {
      const { run: login, env } = await this.credentials(
        this.job({ environment: this.config.name, workflow: 'sleep', eventName: 'workflow_dispatch' }),
        this.role(this.config, 'deployRole'),
      );
      expectSuccess('aws-credentials (deploy role, sleep.yml)', login);
      const run = await this.cdkAction({ command }, env, { merge: commitSha(PULL_REQUESTS.routine, 0) });
      expectSuccess(`cdk ${command} (sleep.yml)`, run);
      return run;
    };
    const asleep = await power('sleep');
    const sleeping = await this.smokeRun(this.config, 'sleep');
    if (sleeping.exitCode === 0 || !sleeping.errors.join('\n').includes('is asleep'))
      throw new Error(
        `The smoke test of a sleeping environment did not say it is asleep:\n${sleeping.errors.join('\n')}`,
      );
    const awake = await power('wake');
    const smoke = await this.smokeRun(this.config, 'sleep');
    expectSuccess('the smoke test after the wake', smoke);
    return `sleep: ${asleep.outputs.state} (smoke test: "asleep, wake it with ..."), wake: ${awake.outputs.state}, smoke test ${smoke.outputs.status}`;
  }

  private async stackOutputs(stackName: string): Promise<Record<string, string>> {
    const cloudformation = new CloudFormationClient(motoClientConfig(this.world.aws!));
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    return Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  }

  /**
   * No call of the flow refused by IAM. `except` leaves out a caller that is meant to be refused
   * meanwhile (the administrator's bootstrap of the guardrails, running beside the operations).
   */
  private expectNoRefusal(except?: string): void {
    const refused = this.world.gate!.refusals.filter((decision) => decision.caller !== except);
    if (refused.length > 0) throw new Error(`The flow was refused by IAM:\n${describe(refused)}`);
  }

  /** The guardrails' bootstrap, started beside the operations (it touches nothing they use). */
  private earlyBootstrap?: Promise<string>;

  /**
   * The set-up order, as the administrator: a bootstrap that names an execution policy no
   * foundation created yet, in an environment of its own. Resolves to its output (it must fail).
   */
  private bootstrapBeforeFoundation(): Promise<string> {
    const orphan = {
      name: 'rehearsal',
      account: this.config.account,
      region: this.config.region,
      qualifier: 'rehearsal',
    };
    return this.bash(
      'a bootstrap before its foundation',
      cdkCommandLine(bootstrapArgs(orphan)),
      this.world.gate!.env(this.admin!, ADMIN_SHELL),
      true,
    );
  }

  private async guardrails(): Promise<string> {
    const gate = this.world.gate!;
    const results: string[] = [];

    const refused = (
      await this.credentials(
        this.job({ eventName: 'pull_request', ref: `refs/pull/${PULL_REQUESTS.routine}/merge`, workflow: 'pr' }),
        this.role(this.config, 'deployRole'),
      )
    ).run;
    if (refused.exitCode === 0 || !refused.errors.join('\n').includes('AccessDenied'))
      throw new Error(`A pull-request token assumed the deploy role:\n${refused.stdout}`);
    results.push('a pull-request token refused by the deploy role');

    const other = ENVIRONMENTS.find((env) => env.name !== this.config.name && env.account === this.config.account);
    if (other) {
      const { env } = await this.credentials(
        this.job({ environment: this.config.name, workflow: 'deploy' }),
        this.role(this.config, 'deployRole'),
      );
      const sts = new STSClient({
        endpoint: gate.endpoint,
        region: this.config.region,
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID!,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY!,
          sessionToken: env.AWS_SESSION_TOKEN,
        },
      });
      const otherDeployRole = bootstrapNames({ ...other, qualifier: other.bootstrapQualifier }).roleArn('deploy');
      const crossing = await sts
        .send(new AssumeRoleCommand({ RoleArn: otherDeployRole, RoleSessionName: 'crossing' }))
        .then(
          () => 'allowed',
          (error: unknown) => errorMessage(error),
        );
      if (crossing === 'allowed') throw new Error(`${this.names.deployRole} assumed ${otherDeployRole}`);
      results.push(`${this.config.name}'s deploy role refused ${other.name}'s bootstrap`);
    }

    // The set-up order (started beside the operations, see bootstrapBeforeFoundation).
    const early = await (this.earlyBootstrap ?? this.bootstrapBeforeFoundation());
    if (!/does not exist or is not attachable/.test(early))
      throw new Error(`A bootstrap before its foundation failed for another reason:\n${early.slice(-2000)}`);
    results.push('a bootstrap before its foundation refused (the execution policy does not exist)');
    return results.join('; ');
  }
}

/** A commit sha for the rehearsal's pull request `number` (0: its merge commit; 1...: its pushes). */
function commitSha(number: number, push: number): string {
  return `${number.toString(16).padStart(4, '0')}${push.toString(16).padStart(4, '0')}`.padEnd(40, 'c');
}

/** The next /N range after a CIDR's (10.10.0.0/22 → 10.10.4.0/22): a new VPC range, so a replacement. */
function shiftedCidr(cidr: string): string {
  const [address = '', bits = '22'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const value = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0) + size;
  return `${[24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.')}/${bits}`;
}

function describe(decisions: readonly { caller: string; call: string; outcome: string; reason?: string }[]): string {
  return decisions.map((d) => `  ${d.call} by ${d.caller}: ${d.outcome}${d.reason ? `: ${d.reason}` : ''}`).join('\n');
}

function expectSuccess(what: string, run: ActionRun): void {
  if (run.exitCode !== 0)
    throw new Error(`${what} failed (exit ${run.exitCode}):\n${run.errors.join('\n') || run.stderr.slice(-2000)}`);
}

/** Fails at once, with the fix, when a prerequisite is missing; says which HTTP target stands in. */
function preflight(): void {
  assertMotoInstalled();
  const target = nginxAvailability();
  if (target.kind === 'builtin') console.error(`note: ${target.reason}`);
}

function printTable(results: StepResult[], total: number): void {
  const rows = results.map((r) => [r.step, `${r.seconds.toFixed(1)} s`]);
  rows.push(['total', `${total.toFixed(1)} s`]);
  const width = Math.max(...rows.map((r) => r[0]!.length));
  console.log(`\n${'step'.padEnd(width)}  time`);
  console.log(`${'-'.repeat(width)}  ------`);
  for (const [step, time] of rows) console.log(`${step!.padEnd(width)}  ${time!.padStart(6)}`);
}

async function main(): Promise<number> {
  const values = cliArgs(CLI);
  try {
    preflight();
  } catch (error) {
    console.error(`rehearse: ${errorMessage(error)}`);
    return 2;
  }
  const rehearsal = new Rehearsal(resolve(values['keep-output']));
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    console.error('\nInterrupted: stopping everything the rehearsal started...');
    void rehearsal.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = performance.now();
  console.log(
    `Rehearsing ${REPOSITORY} (${subjectPrefix(PROJECT.github)}): ${ENVIRONMENTS.map((e) => e.name).join(' → ')}`,
  );
  try {
    await rehearsal.run();
  } catch (error) {
    await rehearsal.stop();
    if (interrupted) return 130;
    console.error(`\nThe rehearsal failed: ${errorMessage(error)}`);
    printTable(rehearsal.results, (performance.now() - started) / 1000);
    return 1;
  }
  const stopped = await rehearsal.stop();
  console.log(`      ${stopped}`);
  printTable(rehearsal.results, (performance.now() - started) / 1000);
  console.log('\nThe whole flow ran offline, under IAM: no AWS account, no GitHub. Rehearsal passed.');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`rehearse: ${errorMessage(error)}`);
    process.exit(2);
  },
);
