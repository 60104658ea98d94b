import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRunContext, readEventFile, type GitHubEvent, type RunnerEnvironment } from '../src/run-context.js';

/** The runner's variables of a pull_request run (what GitHub sets; values made up). */
const PULL_REQUEST_ENV: RunnerEnvironment = {
  GITHUB_EVENT_NAME: 'pull_request',
  GITHUB_REPOSITORY: 'example-org/private-aws-gitops',
  GITHUB_SHA: '1111111111111111111111111111111111111111',
  GITHUB_RUN_ID: '4242',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_WORKSPACE: '/home/runner/work/private-aws-gitops',
  RUNNER_TEMP: '/home/runner/work/_temp',
};

/** A pull_request event: the merge commit is GITHUB_SHA, the reviewed commit is the head. */
const PULL_REQUEST_EVENT: GitHubEvent = {
  pull_request: {
    number: 7,
    head: { sha: 'fedcba9876543210fedcba9876543210fedcba98' },
    labels: [{ name: 'allow-destructive-change' }, { name: 'infra' }],
  },
  repository: { name: 'private-aws-gitops', owner: { login: 'example-org' } },
};

describe('buildRunContext', () => {
  it('reads a pull_request run: the pull request, its head commit, the run URL and the labels', () => {
    expect(buildRunContext(PULL_REQUEST_ENV, PULL_REQUEST_EVENT)).toEqual({
      eventName: 'pull_request',
      repository: { owner: 'example-org', repo: 'private-aws-gitops' },
      pullRequest: { owner: 'example-org', repo: 'private-aws-gitops', number: 7 },
      commit: 'fedcba9876543210fedcba9876543210fedcba98',
      runUrl: 'https://github.com/example-org/private-aws-gitops/actions/runs/4242',
      eventLabels: ['allow-destructive-change', 'infra'],
      workspace: '/home/runner/work/private-aws-gitops',
      tempDir: '/home/runner/work/_temp',
      hasAwsCredentials: false,
    });
  });

  it('reads a push run: no pull request, the pushed commit', () => {
    const push: GitHubEvent = { repository: { name: 'private-aws-gitops', owner: { login: 'example-org' } } };
    const context = buildRunContext({ ...PULL_REQUEST_ENV, GITHUB_EVENT_NAME: 'push' }, push);
    expect(context).toMatchObject({ eventName: 'push', commit: '1111111111111111111111111111111111111111' });
    expect(context.pullRequest).toBeUndefined();
    expect(context.eventLabels).toEqual([]);
  });

  it("takes an issue_comment event's issue number as the pull request", () => {
    const comment: GitHubEvent = { issue: { number: 12 } };
    expect(buildRunContext({ ...PULL_REQUEST_ENV, GITHUB_EVENT_NAME: 'issue_comment' }, comment).pullRequest).toEqual({
      owner: 'example-org',
      repo: 'private-aws-gitops',
      number: 12,
    });
  });

  it('falls back to the event for the repository, and to github.com for the server', () => {
    const env: RunnerEnvironment = { GITHUB_RUN_ID: '9', GITHUB_EVENT_NAME: 'pull_request' };
    expect(buildRunContext(env, PULL_REQUEST_EVENT)).toMatchObject({
      repository: { owner: 'example-org', repo: 'private-aws-gitops' },
      runUrl: 'https://github.com/example-org/private-aws-gitops/actions/runs/9',
    });
    const enterprise = buildRunContext(
      { ...PULL_REQUEST_ENV, GITHUB_SERVER_URL: 'https://github.example.com/' },
      PULL_REQUEST_EVENT,
    );
    expect(enterprise.runUrl).toBe('https://github.example.com/example-org/private-aws-gitops/actions/runs/4242');
  });

  it('outside Actions: no repository, pull request, run URL or commit', () => {
    expect(buildRunContext({}, {})).toEqual({ eventName: '', commit: '', eventLabels: [], hasAwsCredentials: false });
  });

  it('notices credentials in the environment (keys or a profile)', () => {
    expect(buildRunContext({ AWS_ACCESS_KEY_ID: 'AKIA...' }, {}).hasAwsCredentials).toBe(true);
    expect(buildRunContext({ AWS_PROFILE: 'dev' }, {}).hasAwsCredentials).toBe(true);
  });

  it('treats fields of the wrong type as absent (the payload is untrusted JSON)', () => {
    const malformed: unknown = {
      pull_request: { number: '7', head: { sha: 42 }, labels: [{ name: 1 }, 'x', null, { name: 'ok' }] },
      issue: { number: -1 },
    };
    const context = buildRunContext(PULL_REQUEST_ENV, malformed);
    expect(context.pullRequest).toBeUndefined();
    expect(context.commit).toBe('1111111111111111111111111111111111111111');
    expect(context.eventLabels).toEqual(['ok']);
    expect(buildRunContext(PULL_REQUEST_ENV, null).pullRequest).toBeUndefined();
    expect(buildRunContext(PULL_REQUEST_ENV, [PULL_REQUEST_EVENT]).pullRequest).toBeUndefined();
  });

  it('ignores a malformed GITHUB_REPOSITORY rather than guessing', () => {
    expect(buildRunContext({ GITHUB_REPOSITORY: 'a/b/c', GITHUB_RUN_ID: '1' }, {}).runUrl).toBeUndefined();
  });
});

describe('readEventFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'event-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses the payload, and reads no path or no file as an empty event', () => {
    const file = join(dir, 'event.json');
    writeFileSync(file, JSON.stringify(PULL_REQUEST_EVENT));
    expect(readEventFile(file)).toEqual(PULL_REQUEST_EVENT);
    expect(readEventFile(undefined)).toEqual({});
    expect(readEventFile(join(dir, 'missing.json'))).toEqual({});
  });

  it('refuses a payload that is not JSON, naming the file', () => {
    const file = join(dir, 'event.json');
    writeFileSync(file, '{ not json');
    expect(() => readEventFile(file)).toThrow(`The event payload ${file} is not JSON`);
  });
});
