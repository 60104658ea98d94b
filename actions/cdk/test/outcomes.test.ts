import { fullDiff } from '@aws-cdk/cloudformation-diff';
import type { SelectedStack } from '../src/commands.js';
import { parseInputs, type Inputs } from '../src/inputs.js';
import { decideDiff, type DiffFacts } from '../src/outcomes.js';
import { commentMarker, NO_SECURITY_CHANGE } from '../src/render.js';
import { buildRunContext, type GitHubEvent, type RunContext } from '../src/run-context.js';

const ENV = 'review';
const STACK = `${ENV}-network`;
const LABEL = 'allow-destructive-change';

const inputs = (values: Record<string, string> = {}): Inputs =>
  parseInputs(
    (name) =>
      ({ command: 'diff', environment: ENV, 'allow-destructive-label': LABEL, 'github-token': 'token', ...values })[
        name
      ] ?? '',
  );

const EVENT: GitHubEvent = { pull_request: { number: 7, head: { sha: 'fedcba9876543210fedcba9876543210fedcba98' } } };
const pullRequestRun = (overrides: Record<string, string> = {}): RunContext =>
  buildRunContext(
    {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REPOSITORY: 'review-org/review-repo',
      GITHUB_RUN_ID: '4242',
      RUNNER_TEMP: '/tmp/runner',
      ...overrides,
    },
    EVENT,
  );

const LOG_GROUP = { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } };
const TASK = (cpu: string) => ({ Type: 'AWS::ECS::TaskDefinition', Properties: { Cpu: cpu, Memory: '1024' } });

/** One stack whose change removes a log group (destructive) or only resizes the task (routine). */
function facts(change: 'remove-log-group' | 'resize', labels: string[] = []): DiffFacts {
  const before = { Resources: { Logs: LOG_GROUP, Task: TASK('256') } };
  const after =
    change === 'remove-log-group'
      ? { Resources: { Task: TASK('256') } }
      : { Resources: { Logs: LOG_GROUP, Task: TASK('512') } };
  const stack: SelectedStack = {
    stackName: STACK,
    account: '000011112222',
    region: 'eu-central-1',
    resources: Object.keys(after.Resources).length,
    template: after,
  };
  return {
    assemblyDir: '/work/cdk.out',
    cwd: '/work',
    stacks: [stack],
    diffs: { [STACK]: fullDiff(before, after) },
    nag: { findings: [], acknowledged: 0 },
    labels,
  };
}

describe('decideDiff', () => {
  it('fails on a destructive change without the label, says how to accept it, and plans the comment', () => {
    const outcome = decideDiff(inputs(), pullRequestRun(), facts('remove-log-group'));
    expect(outcome.destructive).toEqual([expect.objectContaining({ type: 'AWS::Logs::LogGroup', kind: 'removal' })]);
    expect(outcome.failure).toBe(
      `1 destructive change(s) in ${ENV}: removal of AWS::Logs::LogGroup Logs (${STACK}). ` +
        `If they are intended, add the '${LABEL}' label to the pull request and re-run.`,
    );
    expect(outcome.hasChanges).toBe(true);
    expect(outcome.reportFile).toBe(`/tmp/runner/cdk-diff-${ENV}.md`);
    expect(outcome.message).toBe(
      `${ENV}: 1 of 1 stack(s) change, 1 destructive change(s); full report in /tmp/runner/cdk-diff-${ENV}.md.`,
    );
    expect(outcome.comment).toMatchObject({
      pullRequest: { owner: 'review-org', repo: 'review-repo', number: 7 },
      marker: commentMarker(ENV),
      subject: 'Diff comment',
    });
    const [first] = outcome.comment!.bodies();
    expect(first).toContain('`fedcba9`');
    expect(first).toContain('[run](https://github.com/review-org/review-repo/actions/runs/4242)');
    expect(outcome.summary).toBe(outcome.fullReport);
    expect(outcome.warnings).toEqual([]);
  });

  it('passes with the label, or when the step is told not to fail', () => {
    expect(decideDiff(inputs(), pullRequestRun(), facts('remove-log-group', [LABEL])).failure).toBeUndefined();
    expect(
      decideDiff(inputs({ 'fail-on-destructive': 'false' }), pullRequestRun(), facts('remove-log-group')).failure,
    ).toBeUndefined();
  });

  it('passes a task resize without the label: a routine replacement', () => {
    const outcome = decideDiff(inputs(), pullRequestRun(), facts('resize'));
    expect(outcome.destructive).toEqual([]);
    expect(outcome.failure).toBeUndefined();
    expect(outcome.fullReport).toContain('replace (routine)');
    expect(outcome.fullReport).toContain(NO_SECURITY_CHANGE);
  });

  it('explains why no comment is posted when one was asked for, and is silent when none was', () => {
    const noPullRequest = buildRunContext({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_REPOSITORY: 'o/r' }, {});
    expect(decideDiff(inputs(), noPullRequest, facts('resize'))).toMatchObject({
      warnings: ['comment is on, but this run has no pull request: no comment posted.'],
    });
    const noToken = decideDiff(inputs({ 'github-token': '' }), pullRequestRun(), facts('resize'));
    expect(noToken.comment).toBeUndefined();
    expect(noToken.warnings).toEqual(["comment is on, but 'github-token' is empty: no comment posted."]);
    const push = decideDiff(inputs(), pullRequestRun({ GITHUB_EVENT_NAME: 'push' }), facts('resize'));
    expect([push.comment, push.warnings]).toEqual([undefined, []]);
  });

  it('writes the report to the report-file input, else next to the app without a runner temp directory', () => {
    expect(decideDiff(inputs({ 'report-file': 'out/diff.md' }), pullRequestRun(), facts('resize')).reportFile).toBe(
      'out/diff.md',
    );
    const local = buildRunContext({}, {});
    expect(decideDiff(inputs(), local, facts('resize')).reportFile).toBe(`/work/cdk-diff-${ENV}.md`);
  });
});
