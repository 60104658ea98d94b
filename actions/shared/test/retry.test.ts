import { RecordingLogger } from '../src/logger.js';
import { isTransientAwsError, retry } from '../src/retry.js';

const fakeClock = () => {
  let time = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => time,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      time += ms;
    },
  };
};

const awsError = (name: string, status = 400): Error =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

describe('retry', () => {
  it('returns the first success without sleeping', async () => {
    const clock = fakeClock();
    await expect(
      retry(async () => 'ok', { operation: 'op', isRetryable: () => true, logger: new RecordingLogger(), ...clock }),
    ).resolves.toBe('ok');
    expect(clock.sleeps).toEqual([]);
  });

  it('retries transient errors with full-jitter exponential backoff, one log line per retry', async () => {
    const clock = fakeClock();
    const logger = new RecordingLogger();
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 4) throw awsError('ThrottlingException');
        return calls;
      },
      {
        operation: 'AssumeRole',
        isRetryable: isTransientAwsError,
        logger,
        random: () => 1,
        baseDelayMs: 100,
        maxDelayMs: 300,
        ...clock,
      },
    );
    expect(result).toBe(4);
    expect(clock.sleeps).toEqual([100, 200, 300]); // ceilings 100, 200, then capped at 300
    expect(logger.messages('info')).toEqual([
      'AssumeRole: attempt 1 failed (ThrottlingException happened); retrying in 100 ms',
      'AssumeRole: attempt 2 failed (ThrottlingException happened); retrying in 200 ms',
      'AssumeRole: attempt 3 failed (ThrottlingException happened); retrying in 300 ms',
    ]);
  });

  it('draws each delay between 0 and the ceiling (full jitter)', async () => {
    const clock = fakeClock();
    let calls = 0;
    await retry(
      async () => {
        if (++calls < 3) throw awsError('Throttling');
      },
      {
        operation: 'op',
        isRetryable: () => true,
        logger: new RecordingLogger(),
        random: () => 0.25,
        baseDelayMs: 1000,
        ...clock,
      },
    );
    expect(clock.sleeps).toEqual([250, 500]);
  });

  it('does not retry what is not retryable', async () => {
    let calls = 0;
    const denied = awsError('AccessDenied', 403);
    await expect(
      retry(
        async () => {
          calls++;
          throw denied;
        },
        { operation: 'op', isRetryable: isTransientAwsError, logger: new RecordingLogger(), ...fakeClock() },
      ),
    ).rejects.toBe(denied);
    expect(calls).toBe(1);
  });

  it('stops at the attempt bound and rethrows the last error', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw awsError('InternalFailure', 500);
        },
        { operation: 'op', isRetryable: () => true, maxAttempts: 3, logger: new RecordingLogger(), ...fakeClock() },
      ),
    ).rejects.toThrow('InternalFailure happened');
    expect(calls).toBe(3);
  });

  it('stops when the next wait would pass the time budget', async () => {
    const clock = fakeClock();
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw awsError('Throttling');
        },
        {
          operation: 'op',
          isRetryable: () => true,
          random: () => 1,
          baseDelayMs: 4000,
          maxDelayMs: 16000,
          maxElapsedMs: 30000,
          maxAttempts: 100,
          logger: new RecordingLogger(),
          ...clock,
        },
      ),
    ).rejects.toThrow();
    // 4 s + 8 s + 16 s = 28 s slept; a fourth wait of 16 s would pass 30 s.
    expect(clock.sleeps).toEqual([4000, 8000, 16000]);
    expect(calls).toBe(4);
  });
});

describe('isTransientAwsError', () => {
  it.each([
    ['throttling', awsError('ThrottlingException'), true],
    ['STS throttling', awsError('Throttling'), true],
    ['a 5xx', awsError('Whatever', 503), true],
    ['an IdP communication error', awsError('IDPCommunicationError'), true],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    [
      'a refused connection wrapped in a cause',
      new Error('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }),
      true,
    ],
    [
      'throttling wrapped by withOperation',
      new Error('ListTasks failed', { cause: awsError('ThrottlingException') }),
      true,
    ],
    [
      'an error naming throttling in its code',
      Object.assign(new Error('StartSession failed'), { code: 'Throttling' }),
      true,
    ],
    ['access denied', awsError('AccessDenied', 403), false],
    [
      'access denied wrapped by withOperation',
      new Error('StartSession failed', { cause: awsError('AccessDenied', 403) }),
      false,
    ],
    ['a validation error', awsError('ValidationError'), false],
    ['a plain error', new Error('boom'), false],
  ])('%s → %s', (_name, error, expected) => {
    expect(isTransientAwsError(error)).toBe(expected);
  });
});
