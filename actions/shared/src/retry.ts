import { awsErrorName, errorMessage } from './errors.js';
import type { Logger } from './logger.js';

export interface RetryOptions {
  /** What is being tried, for the log lines. */
  readonly operation: string;
  /** Whether an error is worth another attempt. */
  readonly isRetryable: (error: unknown) => boolean;
  /** @default 8 */
  readonly maxAttempts?: number;
  /** First backoff ceiling. @default 500 ms */
  readonly baseDelayMs?: number;
  /** Largest backoff ceiling. @default 8000 ms */
  readonly maxDelayMs?: number;
  /** No attempt starts after this much time has passed since the first. @default 30000 ms */
  readonly maxElapsedMs?: number;
  readonly logger: Logger;
  /** Seams for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `fn` until it succeeds, a non-retryable error is thrown, or the attempt or time bound is
 * reached. Backoff is exponential with full jitter (a random delay up to the ceiling), and each
 * retry is one log line. The last error is rethrown unchanged.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 8;
  const base = options.baseDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 8000;
  const budget = options.maxElapsedMs ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const started = now();

  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!options.isRetryable(error) || attempt >= maxAttempts) throw error;
      const delay = Math.round(random() * Math.min(cap, base * 2 ** (attempt - 1)));
      if (now() - started + delay > budget) throw error;
      options.logger.info(
        `${options.operation}: attempt ${attempt} failed (${errorMessage(error)}); retrying in ${delay} ms`,
      );
      await sleep(delay);
    }
  }
}

const TRANSIENT_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'IDPCommunicationError',
  'IDPCommunicationErrorException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

/**
 * Throttling, 5xx, IdP communication and network errors: worth retrying. Authorization is not.
 * An error that wraps another (withOperation, a fetch failure) is judged by its causes too, and an
 * error that names the AWS error in `code` (SessionStartError) by that name.
 */
export function isTransientAwsError(error: unknown): boolean {
  let cause: unknown = error;
  for (let depth = 0; cause && depth < 5; depth++) {
    const name = awsErrorName(cause);
    if (name && TRANSIENT_NAMES.has(name)) return true;
    const meta = cause as { $metadata?: { httpStatusCode?: number }; $fault?: string; code?: unknown };
    if (meta.$fault === 'server' || (meta.$metadata?.httpStatusCode ?? 0) >= 500) return true;
    if (typeof meta.code === 'string' && (NETWORK_CODES.has(meta.code) || TRANSIENT_NAMES.has(meta.code))) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}
