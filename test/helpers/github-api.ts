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

export interface GitHubApiOptions {
  /** Bodies longer than this get a 422 "Body is too long", as GitHub answers. @default 65536 */
  readonly maxBodyLength?: number;
}

/**
 * A local stand-in for the few GitHub REST endpoints the actions use: list issue comments (with
 * `per_page`/`page` pagination and a Link header, 30 a page by default), create and update a
 * comment, list an issue's labels. Listens on 127.0.0.1; records every request.
 */
export interface GitHubApi {
  /** Base URL, for GITHUB_API_URL. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Comments of an issue (pull request) by number; edit it to seed a test. */
  comments(issue: number): StoredComment[];
  /** Adds a comment as another user (to fill pages before the action's own). */
  addComment(issue: number, body: string, login?: string): StoredComment;
  setLabels(issue: number, labels: string[]): void;
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
    setLabels(issue: number, names: string[]) {
      labels.set(issue, [...names]);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
