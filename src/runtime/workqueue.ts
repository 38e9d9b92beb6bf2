import { type CancelTimer, type Clock, exponentialBackoff, systemClock } from './clock.ts';

/**
 * Receives what a {@link WorkQueue} does, for metrics; every method is optional. Kept free of prom-client so the
 * queue does not depend on how numbers are exported.
 */
export interface WorkQueueListener {
  /** The number of keys waiting to be handed out changed. */
  depth?(depth: number): void;
  /** `add` was called (collapsed adds included, as in client-go). */
  add?(): void;
  /** `addRateLimited` was called: a failed key goes back with backoff. */
  retry?(): void;
  /** A key was handed out after waiting this long since it was queued. */
  queueLatency?(ms: number): void;
  /** A key was `done` after being processed this long. */
  workDuration?(ms: number): void;
}

/** How a {@link WorkQueue} backs off and keeps time. */
export interface WorkQueueOptions {
  /** The first retry delay of a failing key; each further failure doubles it. Default 5 ms. */
  baseBackoffMs?: number;
  /** The longest retry delay. Default 1000 s, as in client-go. */
  maxBackoffMs?: number;
  clock?: Clock;
  listener?: WorkQueueListener;
}

const DEFAULT_BASE_BACKOFF_MS = 5;
const DEFAULT_MAX_BACKOFF_MS = 1_000_000;

interface Scheduled {
  readonly at: number;
  readonly cancel: CancelTimer;
}

/**
 * A queue of keys with client-go's workqueue semantics:
 * - a key added while it waits is queued once;
 * - a key being processed is never handed to a second worker; added meanwhile, it is queued again when `done`;
 * - `addAfter` delays an add (the earliest pending time wins), `addRateLimited` delays it with per-key
 *   exponential backoff until `forget`.
 * Keys are handed out in the order they were queued.
 */
export class WorkQueue {
  readonly #queue: string[] = [];
  /** Keys that need processing: queued, or re-added while processing. */
  readonly #dirty = new Set<string>();
  /** Keys handed out by `get` and not yet `done`, with when that happened. */
  readonly #processing = new Map<string, number>();
  /** When each queued key was queued, for the latency metric. */
  readonly #queuedAt = new Map<string, number>();
  readonly #scheduled = new Map<string, Scheduled>();
  readonly #failures = new Map<string, number>();
  readonly #waiters: Array<() => void> = [];
  readonly #baseBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #clock: Clock;
  readonly #listener: WorkQueueListener;
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#baseBackoffMs = options.baseBackoffMs ?? DEFAULT_BASE_BACKOFF_MS;
    this.#maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.#clock = options.clock ?? systemClock;
    this.#listener = options.listener ?? {};
  }

  /** Queues `key` unless it is already waiting; does nothing after `shutDown`. */
  add(key: string): void {
    if (this.#shuttingDown) return;
    this.#listener.add?.();
    if (this.#dirty.has(key)) return;
    this.#dirty.add(key);
    // `done` queues it again; handing it out now would let two workers hold it.
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /**
   * Adds `key` after `ms` milliseconds (at once when `ms <= 0`). When the key is already scheduled, the earlier
   * of the two times is kept.
   */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const existing = this.#scheduled.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const cancel = this.#clock.setTimeout(() => {
      this.#scheduled.delete(key);
      this.add(key);
    }, ms);
    this.#scheduled.set(key, { at, cancel });
  }

  /**
   * Adds `key` after its backoff, which doubles with each call until {@link forget}, and returns that delay in
   * milliseconds (for the log line that says when the retry comes).
   */
  addRateLimited(key: string): number {
    if (this.#shuttingDown) return 0;
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    this.#listener.retry?.();
    const delay = exponentialBackoff(failures, this.#baseBackoffMs, this.#maxBackoffMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the backoff of `key`: its next failure waits the base delay again. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** How many times `key` was rate-limited since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /**
   * The next key to process, waiting until there is one; undefined once the queue is shut down. The caller owns
   * the key until it calls {@link done}.
   */
  async get(): Promise<string | undefined> {
    for (;;) {
      if (this.#shuttingDown) return undefined;
      const key = this.#queue.shift();
      if (key !== undefined) {
        this.#dirty.delete(key);
        const now = this.#clock.now();
        this.#processing.set(key, now);
        const queuedAt = this.#queuedAt.get(key);
        this.#queuedAt.delete(key);
        if (queuedAt !== undefined) this.#listener.queueLatency?.(now - queuedAt);
        this.#listener.depth?.(this.#queue.length);
        return key;
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Marks `key` processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    const started = this.#processing.get(key);
    if (started === undefined) return;
    this.#processing.delete(key);
    this.#listener.workDuration?.(this.#clock.now() - started);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#push(key);
  }

  /** Stops handing out keys: pending and future `get` calls resolve undefined, and delayed adds are dropped. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const { cancel } of this.#scheduled.values()) cancel();
    this.#scheduled.clear();
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Whether {@link shutDown} was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** How many keys wait to be handed out (not counting delayed or processing ones). */
  len(): number {
    return this.#queue.length;
  }

  /** How many keys are handed out and not yet done. */
  processing(): number {
    return this.#processing.size;
  }

  #push(key: string): void {
    this.#queue.push(key);
    this.#queuedAt.set(key, this.#clock.now());
    this.#listener.depth?.(this.#queue.length);
    this.#waiters.shift()?.();
  }
}
