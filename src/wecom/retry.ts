import { isWeComError } from './errors.ts';

/** How a call is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The backoff ceiling of the first retry; doubled for each further one. */
  baseDelayMs: number;
  /** The highest backoff ceiling. */
  maxDelayMs: number;
  /** Waits; injectable so tests need no real timers. Must reject when the signal aborts. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1), injectable so tests are repeatable. */
  random: () => number;
}

/** The policy used when a caller names none: 5 attempts, 0.5 s doubling up to 8 s, full jitter. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  sleep: abortableSleep,
  random: Math.random,
};

/** Told before each retry: which attempt failed and how long the wait is. */
export type RetryListener = (info: { attempt: number; delayMs: number; error: Error }) => void;

/**
 * Runs `attempt` until it succeeds, throws an error that is not retryable, or the
 * attempts are used up. The wait before retry n is uniform in [0, min(max, base * 2^(n-1)))
 * ("full jitter"), so many callers hitting one limit spread out instead of retrying in step.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: () => Promise<T>,
  options: { signal?: AbortSignal; onRetry?: RetryListener } = {},
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isWeComError(error) || !error.retryable || n >= policy.maxAttempts) throw error;
      options.signal?.throwIfAborted();
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
      const delayMs = Math.floor(policy.random() * ceiling);
      options.onRetry?.({ attempt: n, delayMs, error });
      await policy.sleep(delayMs, options.signal);
    }
  }
}

/** A sleep that ends early, rejecting, when the signal aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
