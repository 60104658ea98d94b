import { request } from 'node:http';
import type { Logger } from '../../shared/src/logger.js';
import type { BodyMatcher } from './inputs.js';
import type { Clock } from './wait-for-task.js';

export interface HttpResult {
  readonly status: number;
  readonly body: string;
  readonly latencyMs: number;
  readonly attempts: number;
}

export class CheckFailedError extends Error {
  constructor(
    message: string,
    readonly last?: { status?: number; body?: string; error?: string },
  ) {
    super(message);
    this.name = 'CheckFailedError';
  }
}

/** One GET on a fresh connection. */
export function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string; latencyMs: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', agent: false, headers: { connection: 'close', 'user-agent': 'private-aws-gitops-smoke-test' } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            latencyMs: Number(process.hrtime.bigint() - started) / 1e6,
          }),
        );
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.end();
  });
}

/** GETs until the status and body match, or the deadline; each failed attempt is one log line. */
export async function getUntilHealthy(
  url: string,
  expected: { readonly status: number; readonly body: BodyMatcher },
  deadline: number,
  deps: { readonly logger: Logger; readonly clock: Clock; readonly retryMs?: number },
): Promise<HttpResult> {
  let last: { status?: number; body?: string; error?: string };
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await httpGet(url, Math.max(1000, Math.min(15_000, deadline - deps.clock.now())));
      if (result.status === expected.status && expected.body.test(result.body)) return { ...result, attempts: attempt };
      last = { status: result.status, body: result.body };
      deps.logger.info(
        `GET ${url}: attempt ${attempt} answered ${result.status}${result.status === expected.status ? `, body not ${expected.body.description}` : ''}; retrying`,
      );
    } catch (error) {
      last = { error: (error as Error).message };
      deps.logger.info(`GET ${url}: attempt ${attempt} failed (${last.error}); retrying`);
    }
    if (deps.clock.now() + (deps.retryMs ?? 2000) >= deadline) {
      const found = last.error
        ? `the last attempt failed: ${last.error}`
        : `the last answer was ${last.status} with body ${JSON.stringify(excerpt(last.body ?? ''))}`;
      throw new CheckFailedError(
        `Expected HTTP ${expected.status} with a body ${expected.body.description}; ${found} (${attempt} attempts).`,
        last,
      );
    }
    await deps.clock.sleep(deps.retryMs ?? 2000);
  }
}

/** The first 200 characters of a body, on one line. */
export function excerpt(body: string, length = 200): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length)}…` : flat;
}
