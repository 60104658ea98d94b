import { getOctokit } from '@actions/github';
import { RecordingLogger } from '../../shared/src/logger.js';
import { startGitHubApi, type GitHubApi } from '../../../test/helpers/github-api.js';
import { PROJECT, ENVIRONMENTS } from '../../../infra/lib/project.js';
import { findComment, pullRequestLabels, upsertStickyComment, type GitHubClient } from '../src/comment.js';
import { commentMarker } from '../src/render.js';

const PR = { owner: PROJECT.github.owner, repo: PROJECT.github.repo, number: 7 };
const MARKER = commentMarker(ENVIRONMENTS[0]!.name);

describe('sticky diff comment (against the local GitHub API stand-in)', () => {
  let api: GitHubApi;
  let github: GitHubClient;
  let logger: RecordingLogger;

  beforeEach(async () => {
    api = await startGitHubApi();
    github = getOctokit('fake-token', { baseUrl: api.url });
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    await api.stop();
  });

  it('creates the comment once, then updates it in place', async () => {
    const first = await upsertStickyComment(github, PR, MARKER, [`${MARKER}\nfirst`], logger);
    const second = await upsertStickyComment(github, PR, MARKER, [`${MARKER}\nsecond`], logger);
    expect(first.action).toBe('created');
    expect(second).toEqual({ action: 'updated', commentId: first.commentId, attempt: 0 });
    expect(api.comments(7).map((c) => c.body)).toEqual([`${MARKER}\nsecond`]);
    expect(api.requests.filter((r) => r.method !== 'GET').map((r) => r.method)).toEqual(['POST', 'PATCH']);
    expect(api.requests[0]!.authorization).toBe('token fake-token');
  });

  it('finds its comment beyond the first page (more than 30 comments)', async () => {
    for (let i = 0; i < 140; i++) api.addComment(7, `comment ${i}`);
    const ours = api.addComment(7, `${MARKER}\nold`, 'github-actions[bot]');
    for (let i = 0; i < 5; i++) api.addComment(7, `later ${i}`);
    expect(await findComment(github, PR, MARKER)).toBe(ours.id);
    const pages = api.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/comments'));
    expect(pages.map((r) => r.query.page ?? '1')).toEqual(['1', '2']);
    await upsertStickyComment(github, PR, MARKER, [`${MARKER}\nnew`], logger);
    expect(api.comments(7).filter((c) => c.body.includes(MARKER))).toEqual([
      expect.objectContaining({ id: ours.id, body: `${MARKER}\nnew` }),
    ]);
  });

  it('on a 422 (body too long) falls back to the next, shorter body', async () => {
    api.maxBodyLength = 100;
    const long = `${MARKER}\n${'x'.repeat(500)}`;
    const result = await upsertStickyComment(github, PR, MARKER, [long, `${MARKER}\nshort`], logger);
    expect(result).toEqual(expect.objectContaining({ action: 'created', attempt: 1 }));
    expect(api.comments(7).map((c) => c.body)).toEqual([`${MARKER}\nshort`]);
    expect(logger.messages('warning')).toEqual([
      expect.stringContaining(`GitHub rejected the comment (${long.length} characters)`),
    ]);
  });

  it('fails with the operation when every body is rejected, and on other errors at once', async () => {
    api.maxBodyLength = 10;
    await expect(upsertStickyComment(github, PR, MARKER, [`${MARKER}\na`], logger)).rejects.toThrow(
      /Posting the diff comment on #7 failed: .*too long/,
    );
    const broken = getOctokit('fake-token', { baseUrl: `${api.url}/nowhere` });
    await expect(upsertStickyComment(broken, PR, MARKER, [`${MARKER}\na`], logger)).rejects.toThrow(
      /Listing the comments of pull request #7 failed/,
    );
  });

  it('reads the live labels of the pull request', async () => {
    api.setLabels(7, ['documentation', 'allow-destructive-change']);
    expect(await pullRequestLabels(github, PR)).toEqual(['documentation', 'allow-destructive-change']);
  });
});
