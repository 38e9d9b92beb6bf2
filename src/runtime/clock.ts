/** Cancels a timer set by {@link Clock.setTimeout}; calling it after the timer fired does nothing. */
export type CancelTimer = () => void;

/**
 * The passage of time, injected so that tests can move it forward by hand instead of waiting.
 * Everything in the runtime that schedules or measures goes through one of these.
 */
export interface Clock {
  /** Milliseconds since an arbitrary origin; only differences are meaningful. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): CancelTimer;
}

/** The real clock. Its timers are unref'd: a pending requeue must not keep a stopping process alive. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/**
 * Resolves after `ms` on `clock`, or as soon as `signal` aborts (it never rejects), so that a loop waiting out a
 * backoff stops promptly when its owner stops.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      cancel();
      resolve();
    };
    const cancel = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `base * 2^attempt`, capped at `max`; `attempt` counts from 0. */
export function exponentialBackoff(attempt: number, baseMs: number, maxMs: number): number {
  // 2^1024 is Infinity, and Infinity * 0 would be NaN; cap the exponent first.
  const exponent = Math.min(attempt, 64);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}
