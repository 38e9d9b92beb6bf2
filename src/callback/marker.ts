import type { Logger } from 'pino';

/** What marking a syncer does in Kubernetes; injected. */
export interface MarkerDeps {
  /** Adds `count` events received at `at` to the syncer's status, and sets its event-received-at annotation to `at`. */
  mark(key: string, at: string, count: number): Promise<void>;
  logger: Logger;
  now?: () => Date;
  /** The least time between two marks of one syncer. Default 1 s. */
  minIntervalMs?: number;
}

interface Pending {
  count: number;
  lastMarkAt: number;
  inFlight?: Promise<void>;
  timer?: ReturnType<typeof setTimeout>;
  /** Marks failed in a row: the next waits longer, up to a minute. */
  failures: number;
}

/** The longest wait after failed marks. */
const MAX_RETRY_MS = 60_000;

/**
 * Turns events into marks on their syncer, coalesced: the first event of a
 * quiet syncer marks it at once, those that follow within a second are
 * counted into one more mark. A burst of 500 events is two or three API calls,
 * and one sync (the reconciler runs at most one per 10 seconds for events).
 */
export class EventMarker {
  readonly #deps: MarkerDeps;
  readonly #now: () => Date;
  readonly #minIntervalMs: number;
  readonly #pending = new Map<string, Pending>();

  constructor(deps: MarkerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#minIntervalMs = deps.minIntervalMs ?? 1000;
  }

  /** One verified event for the syncer `key`. */
  received(key: string): void {
    let pending = this.#pending.get(key);
    if (!pending) this.#pending.set(key, (pending = { count: 0, lastMarkAt: Number.NEGATIVE_INFINITY, failures: 0 }));
    pending.count++;
    this.#schedule(key, pending);
  }

  /** Marks what is still pending, once, after the marks in flight: for shutdown, once no event can come in. */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending].map(async ([key, pending]) => {
      clearTimeout(pending.timer);
      pending.timer = undefined;
      await pending.inFlight;
      if (pending.count > 0) await this.#mark(key, pending, false);
    }));
  }

  #schedule(key: string, pending: Pending): void {
    if (pending.inFlight || pending.timer) return;
    const spacing = pending.failures === 0 ? this.#minIntervalMs : Math.min(MAX_RETRY_MS, this.#minIntervalMs * 2 ** pending.failures);
    const wait = pending.lastMarkAt + spacing - this.#now().getTime();
    if (wait <= 0) void this.#mark(key, pending);
    // Judged again when the timer fires: timers keep their own clock and may fire a millisecond before
    // the spacing has passed by the wall clock that stamps the marks.
    else pending.timer = setTimeout(() => {
      pending.timer = undefined;
      this.#schedule(key, pending);
    }, wait);
  }

  #mark(key: string, pending: Pending, followUp = true): Promise<void> {
    const count = pending.count;
    pending.count = 0;
    const at = this.#now();
    pending.lastMarkAt = at.getTime();
    pending.inFlight = this.#deps.mark(key, at.toISOString(), count).then(
      () => {
        pending.failures = 0;
      },
      (error: unknown) => {
        // Counted again: the next mark carries them, so the sync they ask for is not lost.
        pending.count += count;
        pending.failures++;
        this.#deps.logger.warn({ syncer: key, err: error instanceof Error ? error.message : String(error) }, 'could not mark a syncer for the events it received; retrying');
      },
    ).finally(() => {
      pending.inFlight = undefined;
      if (followUp && pending.count > 0) this.#schedule(key, pending);
    });
    return pending.inFlight;
  }
}
