import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { PROJECT } from '../../infra/lib/project.js';

/** The claims a GitHub Actions OIDC token carries that tests vary. */
export interface GitHubJob {
  readonly repository: string;
  readonly ref: string;
  readonly eventName: string;
  readonly environment?: string;
  readonly sha?: string;
  readonly workflow?: string;
  readonly runId?: string;
  readonly runAttempt?: string;
  readonly actor?: string;
  /** Numeric ids: when set, `sub` uses GitHub's immutable format. */
  readonly ownerId?: string;
  readonly repositoryId?: string;
  /** Overrides the subject computed from the fields above. */
  readonly sub?: string;
}

/**
 * A push to the main branch of the configured repository (gitops.config.json), with its numeric
 * ids when they are configured, so that the subject has the format the roles expect.
 */
export function configuredJob(overrides: Partial<GitHubJob> = {}): GitHubJob {
  const { owner, repo, ownerId, repoId, mainBranch } = PROJECT.github;
  return {
    repository: `${owner}/${repo}`,
    ref: `refs/heads/${mainBranch}`,
    eventName: 'push',
    ...(ownerId !== undefined && repoId !== undefined ? { ownerId, repositoryId: repoId } : {}),
    ...overrides,
  };
}

/** GitHub's rule: an environment job gets the environment subject, else pull_request, else the ref. */
export function gitHubSubject(job: GitHubJob): string {
  if (job.sub) return job.sub;
  const [owner, repo] = job.repository.split('/') as [string, string];
  const prefix =
    job.ownerId && job.repositoryId
      ? `repo:${owner}-${job.ownerId}/${repo}-${job.repositoryId}`
      : `repo:${owner}/${repo}`;
  if (job.environment) return `${prefix}:environment:${job.environment}`;
  if (job.eventName === 'pull_request') return `${prefix}:pull_request`;
  return `${prefix}:${job.ref.startsWith('refs/') ? `ref:${job.ref}` : job.ref}`;
}

export interface TokenRequest {
  readonly audience: string | null;
  readonly authorized: boolean;
}

/**
 * A local stand-in for GitHub's OIDC issuer: it signs real RS256 JWTs (jose) with GitHub's claims,
 * publishes its JWKS, and answers the runner's token request URL (ACTIONS_ID_TOKEN_REQUEST_URL with
 * the bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN), as @actions/core's getIDToken calls it.
 */
export class OidcIssuer {
  readonly requests: TokenRequest[] = [];
  /** Every token handed out, so tests can check none of them is printed. */
  readonly issued: string[] = [];
  /** The bearer the runner would put in ACTIONS_ID_TOKEN_REQUEST_TOKEN (a secret in real runs). */
  readonly requestToken = randomBytes(24).toString('hex');
  private server?: Server;
  private privateKey?: CryptoKey;
  private jwk?: JWK;
  private readonly kid = randomUUID();
  /** The job tokens are signed for: a push to the configured repository's main branch by default. */
  job: GitHubJob = configuredJob();

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /**
   * The runner variables that let a step request a token: for `this.job`, or, given a job, with a
   * request token of that job's own. GitHub gives every job its own request token, which is how
   * jobs running at the same time each get their own claims; a flow that runs jobs side by side
   * (the rehearsal) passes the job here instead of setting `this.job`.
   */
  runnerEnv(job?: GitHubJob): Record<string, string> {
    let requestToken = this.requestToken;
    if (job) {
      requestToken = randomBytes(24).toString('hex');
      this.jobTokens.set(requestToken, job);
    }
    return {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${this.url}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    };
  }

  /** Request tokens handed out for given jobs (runnerEnv(job)), and their jobs. */
  private readonly jobTokens = new Map<string, GitHubJob>();

  async start(): Promise<this> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    this.privateKey = privateKey;
    this.jwk = { ...(await exportJWK(publicKey)), kid: this.kid, alg: 'RS256', use: 'sig' };
    this.server = createServer((req, res) => {
      void this.handle(req.url ?? '/', req.headers.authorization).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Signs a token for the current job (or the given one) and audience. */
  async sign(audience: string, job: GitHubJob = this.job, lifetimeSeconds = 300): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const [owner] = job.repository.split('/');
    return new SignJWT({
      repository: job.repository,
      repository_owner: owner,
      ...(job.repositoryId ? { repository_id: job.repositoryId } : {}),
      ...(job.ownerId ? { repository_owner_id: job.ownerId } : {}),
      ref: job.ref,
      sha: job.sha ?? '0123456789abcdef0123456789abcdef01234567',
      event_name: job.eventName,
      ...(job.environment ? { environment: job.environment } : {}),
      workflow: job.workflow ?? 'deploy',
      job_workflow_ref: `${job.repository}/.github/workflows/${job.workflow ?? 'deploy'}.yml@${job.ref}`,
      run_id: job.runId ?? '4242',
      run_attempt: job.runAttempt ?? '1',
      actor: job.actor ?? 'octocat',
      runner_environment: 'github-hosted',
    })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setIssuer(this.url)
      .setSubject(gitHubSubject(job))
      .setAudience(audience)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + lifetimeSeconds)
      .sign(this.privateKey!);
  }

  private async handle(path: string, authorization: string | undefined): Promise<{ status: number; body: unknown }> {
    const url = new URL(path, this.url);
    if (url.pathname === '/.well-known/openid-configuration') {
      return {
        status: 200,
        body: {
          issuer: this.url,
          jwks_uri: `${this.url}/.well-known/jwks`,
          id_token_signing_alg_values_supported: ['RS256'],
        },
      };
    }
    if (url.pathname === '/.well-known/jwks') return { status: 200, body: { keys: [this.jwk] } };
    if (url.pathname === '/token') {
      const bearer = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined;
      const job = bearer === this.requestToken ? this.job : bearer ? this.jobTokens.get(bearer) : undefined;
      const audience = url.searchParams.get('audience');
      this.requests.push({ audience, authorized: job !== undefined });
      if (!job) return { status: 401, body: { message: 'Bad credentials' } };
      const token = await this.sign(audience ?? this.url, job);
      this.issued.push(token);
      return { status: 200, body: { value: token } };
    }
    return { status: 404, body: { message: 'Not Found' } };
  }
}
