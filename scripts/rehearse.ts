/**
 * `npm run rehearse`: the whole GitOps flow, offline, with one command: no AWS account, no GitHub.
 *
 * It starts a local AWS (moto, behind a local STS that verifies OIDC tokens and trust policies),
 * the SSM/ECS emulator, a real nginx, a local OIDC issuer and a GitHub API stand-in, then plays the
 * life of a change with the same bundled actions the workflows run (through the runner harness):
 *
 *   1. bootstrap the local account and deploy dev from main (credentials → cdk deploy);
 *   2. open a pull request with a sample change (bigger task, two more endpoints);
 *   3. synth with cdk-nag, diff, and render the pull-request comment to a file: blocked without
 *      the allow label (the task definition is replaced), passing with it;
 *   4. merge: deploy the change, and smoke-test it through the native SSM port forward to nginx;
 *   5. show a destructive change (a new VPC CIDR) blocked, and a pull-request token refused by the
 *      deploy role's trust policy;
 *   6. stop everything it started, even on failure or Ctrl-C.
 *
 *   npm run rehearse [-- --keep-output DIR]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { App } from 'aws-cdk-lib';
import { addEnvironments } from '../infra/lib/build-app.js';
import { cdkJsonContext } from '../infra/lib/cdk-json.js';
import { ENVIRONMENTS, resolveEnvironments, type EnvironmentConfig } from '../infra/lib/config.js';
import { enforceNag } from '../infra/lib/nag.js';
import { resourceNames } from '../infra/lib/names.js';
import { runAction, type ActionRun } from '../test/helpers/action-runner.js';
import { cdk } from '../test/helpers/cdk-cli.js';
import { startGitHubApi, type GitHubApi } from '../test/helpers/github-api.js';
import { deployOidcStack } from '../test/helpers/local-stacks.js';
import { assertMotoInstalled, motoClientConfig, startMoto, type LocalAws } from '../test/helpers/moto.js';
import { findNginx, startNginx, type LocalNginx } from '../test/helpers/nginx.js';
import { OidcIssuer, type GitHubJob } from '../test/helpers/oidc-issuer.js';
import { SsmEmulator } from '../test/helpers/ssm-emulator/emulator.js';
import { healthyScenario } from '../test/helpers/ssm-emulator/scenario.js';
import { StsGate } from '../test/helpers/sts-gate.js';

const ENV = 'dev';
const REPOSITORY = 'example-org/private-aws-gitops';
const PR_NUMBER = 42;
const ALLOW_LABEL = 'allow-destructive-change';
const MAIN_PUSH: GitHubJob = { repository: REPOSITORY, ref: 'refs/heads/main', eventName: 'push', environment: ENV };
const PULL_REQUEST: GitHubJob = {
  repository: REPOSITORY,
  ref: `refs/pull/${PR_NUMBER}/merge`,
  eventName: 'pull_request',
};

interface StepResult {
  readonly step: string;
  readonly result: string;
  readonly seconds: number;
}

/** Everything the rehearsal starts, so that one place stops it all. */
class LocalWorld {
  aws?: LocalAws;
  gate?: StsGate;
  issuer?: OidcIssuer;
  emulator?: SsmEmulator;
  nginx?: LocalNginx;
  github?: GitHubApi;
  work = mkdtempSync(join(tmpdir(), 'rehearsal-'));

  async stop(): Promise<void> {
    await Promise.allSettled([
      this.gate?.stop(),
      this.issuer?.stop(),
      this.emulator?.stop(),
      this.github?.stop(),
      this.nginx?.stop(),
    ]);
    await this.aws?.stop();
    rmSync(this.work, { recursive: true, force: true });
  }
}

class Rehearsal {
  readonly results: StepResult[] = [];
  private readonly world = new LocalWorld();
  private readonly config: EnvironmentConfig;
  private readonly names = resourceNames({ name: ENV });
  private deployOutputs: Record<string, Record<string, string>> = {};

  constructor(private readonly outputDir: string) {
    this.config = ENVIRONMENTS.find((env) => env.name === ENV)!;
  }

  /** Runs one step with a progress line, its time, and its one-line result. */
  private async step(name: string, body: () => Promise<string>): Promise<void> {
    const number = this.results.length + 1;
    process.stdout.write(`[${number}/6] ${name}...\n`);
    const started = performance.now();
    const result = await body();
    const seconds = (performance.now() - started) / 1000;
    this.results.push({ step: `${number}. ${name}`, result, seconds });
    process.stdout.write(`      ${result} (${seconds.toFixed(1)} s)\n`);
  }

  async run(): Promise<void> {
    await this.step('Start the local AWS, SSM emulator, nginx, OIDC issuer and GitHub API', () => this.start());
    await this.step('Bootstrap the local account and deploy dev from main', () => this.deployMain());
    await this.step('Open a pull request: synth with cdk-nag, diff, render the comment', () => this.pullRequest());
    await this.step('Merge: deploy the change, smoke-test it through the SSM port forward', () => this.merge());
    await this.step('Guardrails: a destructive change and a pull-request token', () => this.guardrails());
    await this.step('Stop everything', () => this.stop());
  }

  async stop(): Promise<string> {
    await this.world.stop();
    return 'moto, the emulator, nginx, the issuer and the GitHub API stopped; temporary files removed';
  }

  private async start(): Promise<string> {
    const world = this.world;
    world.aws = await startMoto({ region: this.config.region });
    world.issuer = await new OidcIssuer().start();
    world.gate = await new StsGate(world.aws, world.issuer).start();
    world.github = await startGitHubApi();
    world.nginx = await startNginx();
    world.emulator = await new SsmEmulator(
      healthyScenario({
        target: { host: '127.0.0.1', port: world.nginx.port },
        cluster: this.names.cluster,
        service: this.names.service,
        container: this.names.container,
        account: world.aws.account,
        region: this.config.region,
      }),
    ).start();
    return `moto ${world.aws.endpoint}, emulator ${world.emulator.endpoint}, nginx ${world.nginx.url}`;
  }

  /** Synthesizes dev with overrides, cdk-nag enforced, the OIDC provider imported (moto lacks it). */
  private synth(label: string, overrides: Partial<EnvironmentConfig>): string {
    const aws = this.world.aws!;
    const outdir = join(this.world.work, label);
    const provider = `arn:aws:iam::${aws.account}:oidc-provider/token.actions.githubusercontent.com`;
    const [config] = resolveEnvironments(
      [{ ...this.config, ...overrides, github: { ...this.config.github, existingOidcProviderArn: provider } }],
      {
        account: aws.account,
      },
    );
    const app = new App({ outdir, context: { ...cdkJsonContext(), 'aws:cdk:enable-path-metadata': true } });
    addEnvironments(app, [config!]);
    enforceNag(app); // a finding fails the rehearsal here, as it fails `cdk synth`
    app.synth();
    return outdir;
  }

  /** Runs the credentials action for a job and returns the environment it exports. */
  private async credentials(job: GitHubJob, roleArn: string): Promise<{ run: ActionRun; env: Record<string, string> }> {
    const { aws, gate, issuer } = this.world;
    issuer!.job = job;
    const run = await runAction('aws-credentials', {
      inputs: { 'role-to-assume': roleArn, 'aws-region': this.config.region },
      env: {
        AWS_ENDPOINT_URL: aws!.endpoint,
        AWS_ENDPOINT_URL_STS: gate!.endpoint,
        AWS_EC2_METADATA_DISABLED: 'true',
        ...issuer!.runnerEnv(),
      },
      github: { repository: REPOSITORY, ref: job.ref, eventName: job.eventName },
    });
    return { run, env: run.env };
  }

  private role(kind: 'deployRole' | 'pullRequestRole' | 'operatorRole'): string {
    return `arn:aws:iam::${this.world.aws!.account}:role/${this.names[kind]}`;
  }

  private cdkAction(
    inputs: Record<string, string>,
    credentials: Record<string, string>,
    pullRequest: boolean,
  ): Promise<ActionRun> {
    const { aws, github } = this.world;
    return runAction('cdk', {
      inputs: { environment: ENV, 'github-token': 'rehearsal-token', ...inputs },
      env: {
        AWS_ENDPOINT_URL: aws!.endpoint,
        AWS_EC2_METADATA_DISABLED: 'true',
        GITHUB_API_URL: github!.url,
        ...credentials,
      },
      github: pullRequest
        ? {
            repository: REPOSITORY,
            eventName: 'pull_request',
            ref: PULL_REQUEST.ref,
            apiUrl: github!.url,
            event: {
              pull_request: {
                number: PR_NUMBER,
                head: { sha: 'c0ffee0000000000000000000000000000000000' },
                labels: [],
              },
            },
          }
        : { repository: REPOSITORY, eventName: 'push', apiUrl: github!.url },
      timeoutMs: 170_000,
    });
  }

  private async deployMain(): Promise<string> {
    const aws = this.world.aws!;
    const base = this.synth('base', {});
    // The administrator's one-time set-up (docs/setup.md): bootstrap with the least-privilege
    // execution policy, then the OIDC stack.
    await cdk(
      [
        'bootstrap',
        `aws://${aws.account}/${aws.region}`,
        '--app',
        base,
        '--cloudformation-execution-policies',
        `arn:aws:iam::${aws.account}:policy/${this.names.cloudFormationExecutionPolicy}`,
      ],
      aws.env(),
    );
    await deployOidcStack(aws, ENV);
    // deploy.yml: the deploy role from a main-branch token, then the cdk action.
    const { run: login, env } = await this.credentials(MAIN_PUSH, this.role('deployRole'));
    expectSuccess('aws-credentials (deploy role)', login);
    const deploy = await this.cdkAction(
      { command: 'deploy', 'assembly-dir': base, 'deployment-method': 'direct' },
      env,
      false,
    );
    expectSuccess('cdk deploy', deploy);
    this.deployOutputs = JSON.parse(deploy.outputs.outputs ?? '{}') as Record<string, Record<string, string>>;
    await this.reflectDeployedService();
    return `deployed ${Object.keys(this.deployOutputs).join(' and ')} with ${login.outputs['assumed-role-arn']}`;
  }

  /** Points the emulator's running task at the task definition CloudFormation registered in moto. */
  private async reflectDeployedService(): Promise<void> {
    const ecs = new ECSClient(motoClientConfig(this.world.aws!));
    const { services } = await ecs.send(
      new DescribeServicesCommand({ cluster: this.names.cluster, services: [this.names.service] }),
    );
    const taskDefinition = services?.[0]?.taskDefinition;
    const emulated = this.world.emulator!.scenario.clusters[0]!.services[0]!;
    if (taskDefinition) {
      emulated.taskDefinitionArn = taskDefinition;
      for (const task of emulated.tasks) task.taskDefinitionArn = taskDefinition;
    }
  }

  private async pullRequest(): Promise<string> {
    const changed = this.synth('changed', {
      task: { ...this.config.task, cpu: 512, memoryMiB: 1024 },
      ec2DebugEndpoints: true,
    });
    const { run: login, env } = await this.credentials(PULL_REQUEST, this.role('pullRequestRole'));
    expectSuccess('aws-credentials (pull-request role)', login);
    const diffInputs = {
      command: 'diff',
      stacks: `${this.names.networkStack} ${this.names.serviceStack}`,
      'assembly-dir': changed,
      'allow-destructive-label': ALLOW_LABEL,
    };
    const blocked = await this.cdkAction(diffInputs, env, true);
    if (blocked.exitCode === 0 || blocked.outputs['has-destructive-changes'] !== 'true') {
      throw new Error(
        `The diff should have been blocked without the ${ALLOW_LABEL} label:\n${blocked.errors.join('\n')}`,
      );
    }
    // A reviewer checks the replacement and adds the label: the same comment is updated in place.
    this.world.github!.setLabels(PR_NUMBER, [ALLOW_LABEL]);
    const allowed = await this.cdkAction(diffInputs, env, true);
    expectSuccess('cdk diff with the allow label', allowed);
    const comments = this.world.github!.comments(PR_NUMBER);
    if (comments.length !== 1) throw new Error(`Expected one sticky comment, found ${comments.length}`);
    mkdirSync(this.outputDir, { recursive: true });
    const file = join(this.outputDir, 'pr-comment.md');
    writeFileSync(file, comments[0]!.body);
    this.changedAssembly = changed;
    return `blocked without the label, passed with it; one comment, updated in place: ${file}`;
  }

  private changedAssembly = '';

  private async merge(): Promise<string> {
    const { run: login, env } = await this.credentials(MAIN_PUSH, this.role('deployRole'));
    expectSuccess('aws-credentials (deploy role)', login);
    const deploy = await this.cdkAction(
      { command: 'deploy', 'assembly-dir': this.changedAssembly, 'deployment-method': 'direct' },
      env,
      false,
    );
    expectSuccess('cdk deploy of the change', deploy);
    await this.reflectDeployedService();
    const { run: operator, env: operatorEnv } = await this.credentials(MAIN_PUSH, this.role('operatorRole'));
    expectSuccess('aws-credentials (operator role)', operator);
    const smoke = await runAction('ssm-smoke-test', {
      inputs: { outputs: deploy.outputs.outputs ?? '{}', 'timeout-seconds': '60' },
      env: {
        AWS_ENDPOINT_URL: this.world.aws!.endpoint,
        ...this.world.emulator!.env(),
        AWS_EC2_METADATA_DISABLED: 'true',
        ...operatorEnv,
      },
      github: { repository: REPOSITORY, eventName: 'push' },
      timeoutMs: 120_000,
    });
    expectSuccess('ssm-smoke-test', smoke);
    if (this.world.emulator!.activeSessions().length > 0) throw new Error('The smoke test left a session open');
    return `deployed; smoke test: GET / → ${smoke.outputs.status} in ${smoke.outputs['latency-ms']} ms through session ${smoke.outputs['session-id']}`;
  }

  private async guardrails(): Promise<string> {
    const destructive = this.synth('destructive', { vpcCidr: '10.30.0.0/22' });
    const { env } = await this.credentials(PULL_REQUEST, this.role('pullRequestRole'));
    this.world.github!.setLabels(PR_NUMBER, []);
    const diff = await this.cdkAction(
      {
        command: 'diff',
        stacks: `${this.names.networkStack} ${this.names.serviceStack}`,
        'assembly-dir': destructive,
        'allow-destructive-label': ALLOW_LABEL,
      },
      env,
      true,
    );
    if (diff.exitCode === 0) throw new Error('A new VPC CIDR (a replacement of the VPC) was not blocked');
    const refused = (await this.credentials(PULL_REQUEST, this.role('deployRole'))).run;
    if (refused.exitCode === 0 || !refused.errors.join('\n').includes('AccessDenied')) {
      throw new Error(`A pull-request token assumed the deploy role:\n${refused.stdout}`);
    }
    return 'VPC replacement blocked without the label; pull-request token refused by the deploy role (AccessDenied)';
  }
}

function expectSuccess(what: string, run: ActionRun): void {
  if (run.exitCode !== 0)
    throw new Error(`${what} failed (exit ${run.exitCode}):\n${run.errors.join('\n') || run.stderr.slice(-2000)}`);
}

/** Fails at once, with the fix, when a prerequisite is missing. */
function preflight(): void {
  assertMotoInstalled();
  findNginx();
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
  const { values } = parseArgs({ options: { 'keep-output': { type: 'string', default: '.rehearsal' } } });
  preflight();
  const rehearsal = new Rehearsal(resolve(values['keep-output']!));
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
  try {
    await rehearsal.run();
  } catch (error) {
    await rehearsal.stop();
    if (interrupted) return 130;
    console.error(`\nThe rehearsal failed: ${error instanceof Error ? error.message : String(error)}`);
    printTable(rehearsal.results, (performance.now() - started) / 1000);
    return 1;
  }
  printTable(rehearsal.results, (performance.now() - started) / 1000);
  console.log('\nThe whole flow ran offline: no AWS account, no GitHub. Rehearsal passed.');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`rehearse: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
