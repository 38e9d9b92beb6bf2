/**
 * What a controller asks its reconciler to do: bring the object named by `key` (`namespace/name`, or `name` for
 * a cluster-scoped object) in line with its spec. Requests carry keys, never objects: the reconciler reads the
 * current object from a cache, and a missing object means it was deleted.
 */
export interface Request {
  /** `namespace/name`, as built by `keyOf`. */
  readonly key: string;
}

/** What should happen next once a reconcile has succeeded. */
export interface Result {
  /** Reconcile the key again after this many milliseconds (when positive); otherwise wait for the next event. */
  readonly requeueAfterMs?: number;
}

/**
 * Brings one object in line with its spec. Throw to be retried with per-key exponential backoff; throw a
 * {@link TerminalError} when retrying cannot help. Keeps no timers of its own: return `requeueAfterMs` instead.
 */
export interface Reconciler {
  /**
   * Reconciles `key`. `signal` aborts when the controller stops and its grace period is over; long work should
   * pass it on to its I/O.
   */
  reconcile(key: string, signal: AbortSignal): Promise<Result>;
}

/**
 * A failure that retrying will not fix (an invalid spec, credentials a human must correct). The key is not
 * requeued; it runs again only when an event adds it again.
 */
export class TerminalError extends Error {
  override name = 'TerminalError';
}
