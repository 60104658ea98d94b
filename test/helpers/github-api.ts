import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** GitHub's limit on an issue comment body. */
export const GITHUB_COMMENT_LIMIT = 65_536;

/** One request the stand-in received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: unknown;
  readonly authorization?: string;
}

export interface StoredComment {
  readonly id: number;
  body: string;
  readonly user: { readonly login: string };
}

/** A pull request as the stand-in keeps it. */
export interface StoredPullRequest {
  readonly number: number;
  readonly author: string;
  headSha: string;
  /** Its commits, oldest first, with their committer dates. */
  readonly commits: { sha: string; date: string }[];
  /** The commit its merge made on the base branch, once merged. */
  mergeCommitSha?: string;
  mergedAt?: string;
}

/** An issue (not a pull request) as the stand-in keeps it. */
export interface StoredIssue {
  readonly number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  readonly user: { readonly login: string };
}

/** A labeled/unlabeled event of an issue, as the issue events API lists it. */
export interface StoredLabelEvent {
  readonly event: 'labeled' | 'unlabeled';
  readonly label: { readonly name: string };
  readonly actor: { readonly login: string };
  readonly created_at: string;
}

export interface GitHubApiOptions {
  /** Bodies longer than this get a 422 "Body is too long", as GitHub answers. @default 65536 */
  readonly maxBodyLength?: number;
}

/**
 * A local stand-in for the few GitHub REST endpoints the actions use: list issue comments (with
 * `per_page`/`page` pagination and a Link header, 30 a page by default), create and update a
 * comment, list an issue's labels and its label events, remove a label, the pull requests of a
 * commit, a pull request and its commits. Listens on 127.0.0.1; records every request.
 */
export interface GitHubApi {
  /** Base URL, for GITHUB_API_URL. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Comments of an issue (pull request) by number; edit it to seed a test. */
  comments(issue: number): StoredComment[];
  /** Adds a comment as another user (to fill pages before the action's own). */
  addComment(issue: number, body: string, login?: string): StoredComment;
  /**
   * Sets an issue's labels as `actor` would (default: a maintainer), recording a labeled or
   * unlabeled event for each change at `at` (default: now).
   */
  setLabels(issue: number, labels: string[], actor?: string, at?: string): void;
  labels(issue: number): string[];
  /** Opens a pull request (its head commit pushed now, unless `at` says when). */
  openPullRequest(pr: { number: number; author: string; headSha: string; at?: string }): StoredPullRequest;
  /** A new push to the pull request. */
  pushToPullRequest(issue: number, sha: string, at?: string): void;
  /** Merges it: `mergeCommitSha` is the commit on main the deploy runs for. */
  mergePullRequest(issue: number, mergeCommitSha: string): void;
  labelEvents(issue: number): StoredLabelEvent[];
  /** Issues (not pull requests), as created through the API. */
  issues(): StoredIssue[];
  maxBodyLength: number;
  stop(): Promise<void>;
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

export async function startGitHubApi(options: GitHubApiOptions = {}): Promise<GitHubApi> {
  const comments = new Map<number, StoredComment[]>();
  const labels = new Map<number, string[]>();
  const labelEvents = new Map<number, StoredLabelEvent[]>();
  const pullRequests = new Map<number, StoredPullRequest>();
  const issues: StoredIssue[] = [];
  let nextIssue = 900;
  const issueLabelEvents = (issue: number): StoredLabelEvent[] => {
    if (!labelEvents.has(issue)) labelEvents.set(issue, []);
    return labelEvents.get(issue)!;
  };
  const pullJson = (pr: StoredPullRequest) => ({
    number: pr.number,
    user: { login: pr.author, type: 'User' },
    head: { sha: pr.headSha, ref: `pr-${pr.number}` },
    base: { ref: 'main' },
    merged_at: pr.mergedAt ?? null,
    merge_commit_sha: pr.mergeCommitSha ?? null,
    labels: (labels.get(pr.number) ?? []).map((name, index) => ({ id: index + 1, name })),
    state: pr.mergedAt ? 'closed' : 'open',
  });
  const requests: RecordedRequest[] = [];
  let nextId = 1000;
  const issueComments = (issue: number): StoredComment[] => {
    if (!comments.has(issue)) comments.set(issue, []);
    return comments.get(issue)!;
  };
  const api = { maxBodyLength: options.maxBodyLength ?? GITHUB_COMMENT_LIMIT } as GitHubApi;
  let base = '';

  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', base);
      const body = await readBody(request);
      const query = Object.fromEntries(url.searchParams.entries());
      requests.push({
        method: request.method ?? 'GET',
        path: url.pathname,
        query,
        body,
        authorization: request.headers.authorization,
      });
      const tooLong = (text: unknown): boolean => typeof text === 'string' && text.length > api.maxBodyLength;
      const rejectLong = (): void =>
        send(response, 422, {
          message: 'Validation Failed',
          errors: [
            {
              resource: 'IssueComment',
              code: 'custom',
              field: 'body',
              message: 'body is too long (maximum is 65536 characters)',
            },
          ],
          documentation_url: 'https://docs.github.com/rest/issues/comments',
        });

      let match = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(url.pathname);
      if (match && request.method === 'GET') {
        const all = issueComments(Number(match[1]));
        const perPage = Math.min(Number(query.per_page ?? 30), 100);
        const page = Math.max(Number(query.page ?? 1), 1);
        const last = Math.max(1, Math.ceil(all.length / perPage));
        const links: string[] = [];
        const link = (p: number, rel: string): string => {
          const next = new URL(url);
          next.searchParams.set('page', String(p));
          next.searchParams.set('per_page', String(perPage));
          return `<${next.toString()}>; rel="${rel}"`;
        };
        if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
        if (page > 1) links.push(link(1, 'first'), link(page - 1, 'prev'));
        send(
          response,
          200,
          all.slice((page - 1) * perPage, page * perPage),
          links.length ? { link: links.join(', ') } : {},
        );
        return;
      }
      if (match && request.method === 'POST') {
        const text = (body as { body?: unknown } | undefined)?.body;
        if (typeof text !== 'string') return send(response, 422, { message: 'body is missing' });
        if (tooLong(text)) return rejectLong();
        send(response, 201, api.addComment(Number(match[1]), text, 'github-actions[bot]'));
        return;
      }
      match = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(url.pathname);
      if (match && request.method === 'PATCH') {
        const id = Number(match[1]);
        const comment = [...comments.values()].flat().find((c) => c.id === id);
        if (!comment) return send(response, 404, { message: 'Not Found' });
        const text = (body as { body?: unknown } | undefined)?.body;
        if (typeof text !== 'string') return send(response, 422, { message: 'body is missing' });
        if (tooLong(text)) return rejectLong();
        comment.body = text;
        send(response, 200, comment);
        return;
      }
      if (/^\/repos\/[^/]+\/[^/]+\/issues$/.test(url.pathname) && request.method === 'GET') {
        const found = issues.filter(
          (issue) =>
            (query.state === 'all' || issue.state === (query.state ?? 'open')) &&
            (!query.creator || issue.user.login === query.creator),
        );
        send(response, 200, found);
        return;
      }
      if (/^\/repos\/[^/]+\/[^/]+\/issues$/.test(url.pathname) && request.method === 'POST') {
        const { title, body: text } = (body ?? {}) as { title?: unknown; body?: unknown };
        if (typeof title !== 'string') return send(response, 422, { message: 'title is missing' });
        if (tooLong(text)) return rejectLong();
        const issue: StoredIssue = {
          number: nextIssue++,
          title,
          body: typeof text === 'string' ? text : '',
          state: 'open',
          user: { login: 'github-actions[bot]' },
        };
        issues.push(issue);
        send(response, 201, issue);
        return;
      }
      match = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)$/.exec(url.pathname);
      if (match && request.method === 'PATCH') {
        const issue = issues.find((candidate) => candidate.number === Number(match![1]));
        if (!issue) return send(response, 404, { message: 'Not Found' });
        const update = (body ?? {}) as { title?: string; body?: string; state?: 'open' | 'closed' };
        if (tooLong(update.body)) return rejectLong();
        if (update.title !== undefined) issue.title = update.title;
        if (update.body !== undefined) issue.body = update.body;
        if (update.state !== undefined) issue.state = update.state;
        send(response, 200, issue);
        return;
      }
      match = /^\/repos\/[^/]+\/[^/]+\/commits\/([0-9a-f]+)\/pulls$/.exec(url.pathname);
      if (match && request.method === 'GET') {
        const sha = match[1]!;
        const found = [...pullRequests.values()].filter(
          (pr) => pr.mergeCommitSha === sha || pr.headSha === sha || pr.commits.some((c) => c.sha === sha),
        );
        send(response, 200, found.map(pullJson));
        return;
      }
      match = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)(\/commits)?$/.exec(url.pathname);
      if (match && request.method === 'GET') {
        const pr = pullRequests.get(Number(match[1]));
        if (!pr) return send(response, 404, { message: 'Not Found' });
        if (!match[2]) return send(response, 200, pullJson(pr));
        send(
          response,
          200,
          pr.commits.map((c) => ({
            sha: c.sha,
            commit: { committer: { date: c.date }, author: { date: c.date } },
          })),
        );
        return;
      }
      match = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/events$/.exec(url.pathname);
      if (match && request.method === 'GET') {
        send(response, 200, issueLabelEvents(Number(match[1])));
        return;
      }
      match = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/labels\/([^/]+)$/.exec(url.pathname);
      if (match && request.method === 'DELETE') {
        const issue = Number(match[1]);
        const name = decodeURIComponent(match[2]!);
        if (!(labels.get(issue) ?? []).includes(name)) return send(response, 404, { message: 'Label does not exist' });
        api.setLabels(
          issue,
          (labels.get(issue) ?? []).filter((l) => l !== name),
          'github-actions[bot]',
        );
        send(
          response,
          200,
          (labels.get(issue) ?? []).map((l, index) => ({ id: index + 1, name: l })),
        );
        return;
      }
      match = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/labels$/.exec(url.pathname);
      if (match && request.method === 'GET') {
        send(
          response,
          200,
          (labels.get(Number(match[1])) ?? []).map((name, index) => ({ id: index + 1, name })),
        );
        return;
      }
      send(response, 404, { message: `Not Found: ${request.method} ${url.pathname}` });
    })().catch((error: unknown) => send(response, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return Object.assign(api, {
    url: base,
    requests,
    comments: issueComments,
    addComment(issue: number, body: string, login = 'someone') {
      const comment: StoredComment = { id: nextId++, body, user: { login } };
      issueComments(issue).push(comment);
      return comment;
    },
    setLabels(issue: number, names: string[], actor = 'maintainer', at = new Date().toISOString()) {
      const before = labels.get(issue) ?? [];
      for (const name of names.filter((n) => !before.includes(n)))
        issueLabelEvents(issue).push({ event: 'labeled', label: { name }, actor: { login: actor }, created_at: at });
      for (const name of before.filter((n) => !names.includes(n)))
        issueLabelEvents(issue).push({ event: 'unlabeled', label: { name }, actor: { login: actor }, created_at: at });
      labels.set(issue, [...names]);
    },
    labels: (issue: number) => [...(labels.get(issue) ?? [])],
    openPullRequest(pr: { number: number; author: string; headSha: string; at?: string }) {
      const stored: StoredPullRequest = {
        number: pr.number,
        author: pr.author,
        headSha: pr.headSha,
        commits: [{ sha: pr.headSha, date: pr.at ?? new Date().toISOString() }],
      };
      pullRequests.set(pr.number, stored);
      return stored;
    },
    pushToPullRequest(issue: number, sha: string, at = new Date().toISOString()) {
      const pr = pullRequests.get(issue);
      if (!pr) throw new Error(`no pull request #${issue}`);
      pr.commits.push({ sha, date: at });
      pr.headSha = sha;
    },
    mergePullRequest(issue: number, mergeCommitSha: string) {
      const pr = pullRequests.get(issue);
      if (!pr) throw new Error(`no pull request #${issue}`);
      pr.mergeCommitSha = mergeCommitSha;
      pr.mergedAt = new Date().toISOString();
    },
    labelEvents: (issue: number) => [...issueLabelEvents(issue)],
    issues: () => [...issues],
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
