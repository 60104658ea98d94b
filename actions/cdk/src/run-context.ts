import { existsSync, readFileSync } from 'node:fs';
import type { PullRequestRef } from './comment.js';

/** The runner's environment, as far as the action reads it (`process.env` in a run). */
export type RunnerEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * The parts of the event payload (`GITHUB_EVENT_PATH`) the action reads: a `pull_request` event's
 * pull request, an `issue_comment` event's issue, and the repository.
 */
export interface GitHubEvent {
  readonly pull_request?: {
    readonly number?: number;
    readonly head?: { readonly sha?: string };
    readonly labels?: ReadonlyArray<{ readonly name?: string }>;
  };
  readonly issue?: { readonly number?: number };
  readonly repository?: { readonly name?: string; readonly owner?: { readonly login?: string } };
}

/** Where and why this run happens: what the diff, the comment and the links need. */
export interface RunContext {
  /** `GITHUB_EVENT_NAME`, e.g. `pull_request`; empty outside Actions. */
  readonly eventName: string;
  /** `GITHUB_REPOSITORY` (or the event's repository). */
  readonly repository?: { readonly owner: string; readonly repo: string };
  /** The pull request (or issue) the run is for, when there is one and the repository is known. */
  readonly pullRequest?: PullRequestRef;
  /** The commit the run diffs: the pull request's head, else `GITHUB_SHA`; empty when unknown. */
  readonly commit: string;
  /** The workflow run's page, when the run id and repository are known. */
  readonly runUrl?: string;
  /** The labels in the event payload (as they were when the event fired). */
  readonly eventLabels: readonly string[];
  /** The workspace (`GITHUB_WORKSPACE`), where cdk.json is by default. */
  readonly workspace?: string;
  /** The runner's temporary directory (`RUNNER_TEMP`), where the report file goes by default. */
  readonly tempDir?: string;
  /** Whether credentials are in the environment, so synthesis may ask STS for the default account. */
  readonly hasAwsCredentials: boolean;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const field = (value: unknown, key: string): unknown => (isRecord(value) ? value[key] : undefined);
const stringField = (value: unknown, key: string): string | undefined => {
  const found = field(value, key);
  return typeof found === 'string' && found !== '' ? found : undefined;
};
const numberField = (value: unknown, key: string): number | undefined => {
  const found = field(value, key);
  return typeof found === 'number' && Number.isInteger(found) && found > 0 ? found : undefined;
};

function repository(
  env: RunnerEnvironment,
  event: unknown,
): { readonly owner: string; readonly repo: string } | undefined {
  const [owner, repo, ...rest] = (env.GITHUB_REPOSITORY ?? '').split('/');
  if (owner && repo && rest.length === 0) return { owner, repo };
  const fromEvent = field(event, 'repository');
  const eventOwner = stringField(field(fromEvent, 'owner'), 'login');
  const eventRepo = stringField(fromEvent, 'name');
  return eventOwner && eventRepo ? { owner: eventOwner, repo: eventRepo } : undefined;
}

/**
 * Builds the run context from the runner's environment and the event payload, read as untrusted
 * JSON (a field of the wrong type counts as absent). Pure: the caller reads the event file.
 */
export function buildRunContext(env: RunnerEnvironment, event: unknown): RunContext {
  const repo = repository(env, event);
  const pullRequest = field(event, 'pull_request');
  const number = numberField(pullRequest, 'number') ?? numberField(field(event, 'issue'), 'number');
  const labelsField = field(pullRequest, 'labels');
  const eventLabels = (Array.isArray(labelsField) ? labelsField : [])
    .map((label) => stringField(label, 'name'))
    .filter((name): name is string => name !== undefined);
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const runId = env.GITHUB_RUN_ID;
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    ...(repo ? { repository: repo } : {}),
    ...(repo && number !== undefined ? { pullRequest: { ...repo, number } } : {}),
    commit: stringField(field(pullRequest, 'head'), 'sha') ?? env.GITHUB_SHA ?? '',
    ...(repo && runId ? { runUrl: `${server}/${repo.owner}/${repo.repo}/actions/runs/${runId}` } : {}),
    eventLabels,
    ...(env.GITHUB_WORKSPACE ? { workspace: env.GITHUB_WORKSPACE } : {}),
    ...(env.RUNNER_TEMP ? { tempDir: env.RUNNER_TEMP } : {}),
    hasAwsCredentials: Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE),
  };
}

/**
 * The event payload at `path` (`GITHUB_EVENT_PATH`), parsed; `{}` when there is no path or no file,
 * as outside Actions. A file that is not JSON is an error: the runner always writes JSON.
 */
export function readEventFile(path: string | undefined): unknown {
  if (!path || !existsSync(path)) return {};
  const raw = readFileSync(path, 'utf8');
  try {
    return raw.trim() === '' ? {} : (JSON.parse(raw) as unknown);
  } catch (error) {
    throw new Error(`The event payload ${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
}
