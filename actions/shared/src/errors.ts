/**
 * A problem with what the user configured (inputs, workflow permissions, trust policy): the
 * message says what was expected, what was found and what to do. Never retried.
 */
export class UserInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserInputError';
  }
}

/** The message of anything thrown, so a thrown non-Error still fails the step with a message. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/** The AWS error name (`AccessDenied`, `ThrottlingException`...) of an SDK error, if any. */
export function awsErrorName(error: unknown): string | undefined {
  if (error && typeof error === 'object') {
    const candidate =
      (error as { name?: unknown; Code?: unknown; code?: unknown }).name ?? (error as { Code?: unknown }).Code;
    if (typeof candidate === 'string') return candidate;
  }
  return undefined;
}

/** Wraps an error crossing a boundary with the operation that failed, keeping the cause. */
export function withOperation(operation: string, error: unknown): Error {
  const name = awsErrorName(error);
  const prefix = name && name !== 'Error' && !errorMessage(error).startsWith(name) ? `${name}: ` : '';
  return new Error(`${operation} failed: ${prefix}${errorMessage(error)}`, { cause: error });
}
