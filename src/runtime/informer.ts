import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { type Clock, exponentialBackoff, sleep, systemClock } from './clock.ts';
import { toError } from './errors.ts';
import { objectKey } from './key.ts';
import { type ListWatch, ResourceExpiredError, type WatchEvent, type WatchHandle } from './listwatch.ts';

/** What an informer is doing, for `/readyz` and logs. */
export const InformerState = {
  Pending: 'pending',
  Listing: 'listing',
  Watching: 'watching',
  BackingOff: 'backing_off',
  Stopped: 'stopped',
} as const;
/** One of {@link InformerState}. */
export type InformerState = (typeof InformerState)[keyof typeof InformerState];

/** A snapshot of an informer's health. */
export interface InformerStatus {
  readonly name: string;
  readonly state: InformerState;
  /** Whether the first list has filled the cache. */
  readonly synced: boolean;
  /** Failed lists and short-lived watches since the last healthy watch. */
  readonly failures: number;
  readonly lastError?: string;
}

/** Called with cached (transformed) objects as the cache changes. A handler that throws is logged and skipped. */
export interface EventHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

/** What an {@link Informer} watches and how it recovers. */
export interface InformerOptions<T extends KubernetesObject> {
  /** Names the informer in logs and status, e.g. the resource's plural. */
  name: string;
  listWatch: ListWatch;
  /**
   * Applied to each object before it is cached or handed to a handler, to keep only what the controllers read.
   * It must keep `metadata.resourceVersion` (relists compare it). An object it throws on is logged and skipped.
   */
  transform: (obj: KubernetesObject) => T;
  logger: Logger;
  clock?: Clock;
  /** Items per list page. Default 500. */
  pageSize?: number;
  /** The first delay after a failure; doubles with each further one. Default 1 s. */
  baseBackoffMs?: number;
  /**
   * The longest delay between attempts. Default 30 s, as client-go's reflector: after a long API
   * server outage the watch is back, and sync requests answered, within 30 s of its return.
   */
  maxBackoffMs?: number;
  /** A watch that stays up this long resets the backoff; a shorter one that closes counts as a failure. Default 10 s. */
  healthyWatchMs?: number;
}

/** How one watch ended. */
type WatchEnd = { readonly kind: 'closed' } | { readonly kind: 'expired' } | { readonly kind: 'failed'; readonly err: Error };

/**
 * A cache of one kind of object kept current by list-then-watch, that never gives up: when a watch fails it
 * backs off and relists, diffing the new list against the cache so that changes missed while disconnected
 * (deletes included) reach the handlers; when its resourceVersion has expired (410 Gone) it relists at once;
 * when a watch simply closes it resumes from the last resourceVersion seen.
 */
export class Informer<T extends KubernetesObject> {
  /** Names the informer in logs and status. */
  readonly name: string;
  /** Resolves once the first list has filled the cache; rejects if the informer stops before that. */
  readonly synced: Promise<void>;
  readonly #listWatch: ListWatch;
  readonly #transform: (obj: KubernetesObject) => T;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #pageSize: number;
  readonly #baseBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #healthyWatchMs: number;
  readonly #handlers = new Set<EventHandlers<T>>();
  readonly #stop = new AbortController();
  readonly #cache = new Map<string, T>();
  #resourceVersion = '';
  #state: InformerState = InformerState.Pending;
  #hasSynced = false;
  #failures = 0;
  #lastError: string | undefined;
  #watch: WatchHandle | undefined;
  #markSynced: () => void = () => {};
  #failSync: (err: Error) => void = () => {};

  constructor(options: InformerOptions<T>) {
    this.name = options.name;
    this.#listWatch = options.listWatch;
    this.#transform = options.transform;
    this.#logger = options.logger.child({ informer: options.name });
    this.#clock = options.clock ?? systemClock;
    this.#pageSize = options.pageSize ?? 500;
    this.#baseBackoffMs = options.baseBackoffMs ?? 1000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#healthyWatchMs = options.healthyWatchMs ?? 10_000;
    this.synced = new Promise<void>((resolve, reject) => {
      this.#markSynced = resolve;
      this.#failSync = reject;
    });
    // Nobody may be waiting on `synced` when the informer stops early; that is not an unhandled rejection.
    this.synced.catch(() => {});
  }

  /** Registers handlers; add them before `start` so that the first list reaches them. Returns an unsubscribe. */
  addHandlers(handlers: EventHandlers<T>): () => void {
    this.#handlers.add(handlers);
    return () => this.#handlers.delete(handlers);
  }

  /** Starts listing and watching in the background; calling it again does nothing. */
  start(): void {
    if (this.#state !== InformerState.Pending) return;
    void this.#run().catch((err: unknown) => {
      // #run catches everything it expects; reaching here is a bug, and the status must show it.
      const error = toError(err);
      this.#lastError = error.message;
      this.#logger.error({ err: error }, 'informer loop crashed');
      this.#state = InformerState.Stopped;
      this.#failSync(new Error(`informer ${this.name} crashed`, { cause: error }));
    });
  }

  /** Stops watching for good; the cache keeps its last contents. */
  stop(): void {
    if (this.#state === InformerState.Stopped) return;
    this.#state = InformerState.Stopped;
    this.#watch?.abort();
    this.#watch = undefined;
    this.#stop.abort();
    if (!this.#hasSynced) this.#failSync(new Error(`informer ${this.name} stopped before its cache synced`));
    this.#logger.info('informer stopped');
  }

  /** Whether the first list has filled the cache. */
  hasSynced(): boolean {
    return this.#hasSynced;
  }

  /** A snapshot of what the informer is doing, for `/readyz`. */
  status(): InformerStatus {
    return {
      name: this.name,
      state: this.#state,
      synced: this.#hasSynced,
      failures: this.#failures,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  /** The cached object with this key (`namespace/name`), if any. */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  /** Every cached object. */
  list(): IterableIterator<T> {
    return this.#cache.values();
  }

  /** How many objects are cached. */
  get size(): number {
    return this.#cache.size;
  }

  /** The last resourceVersion seen, from a list, an event or a bookmark. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  get #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  async #run(): Promise<void> {
    let needList = true;
    while (!this.#stopped) {
      if (needList) {
        this.#state = InformerState.Listing;
        try {
          await this.#relist();
        } catch (thrown) {
          if (this.#stopped) return;
          const err = toError(thrown);
          if (err instanceof ResourceExpiredError) {
            this.#logger.info({ err }, 'list continue token expired; listing again from the start');
          } else {
            await this.#backOff(err, 'list failed');
          }
          continue;
        }
        if (this.#stopped) return;
        needList = false;
      }

      this.#state = InformerState.Watching;
      const started = this.#clock.now();
      const end = await this.#watchOnce();
      if (this.#stopped) return;
      const healthy = this.#clock.now() - started >= this.#healthyWatchMs;
      if (healthy) this.#failures = 0;
      switch (end.kind) {
        case 'expired':
          this.#logger.info({ resourceVersion: this.#resourceVersion }, 'watch resourceVersion expired (410 Gone); relisting now');
          needList = true;
          break;
        case 'closed':
          // A watch the server closes after a while is normal; one that closes at once must not spin.
          if (healthy) this.#logger.debug({ resourceVersion: this.#resourceVersion }, 'watch closed; resuming');
          else await this.#backOff(new Error('watch closed soon after it opened'), 'watch closed early; resuming');
          break;
        case 'failed':
          needList = true;
          await this.#backOff(end.err, 'watch failed; relisting');
          break;
      }
    }
  }

  /** Waits out the backoff after a failure, saying what failed and when the next attempt comes. */
  async #backOff(err: Error, what: string): Promise<void> {
    const delayMs = exponentialBackoff(this.#failures, this.#baseBackoffMs, this.#maxBackoffMs);
    this.#failures++;
    this.#lastError = err.message;
    this.#state = InformerState.BackingOff;
    this.#logger.warn({ err, retryInMs: delayMs, failures: this.#failures }, `${what} in ${delayMs} ms`);
    await sleep(this.#clock, delayMs, this.#stop.signal);
  }

  /**
   * Lists every page and brings the cache up to date in place, telling handlers what differs from
   * what they saw; what the list no longer holds is deleted once the last page is in. In place, not
   * into a second map: at 100,000 objects, a second copy of the cache for the length of a relist
   * is what would exhaust the heap.
   */
  async #relist(): Promise<void> {
    const listed = new Set<string>();
    let token: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.#listWatch.list({ limit: this.#pageSize, ...(token ? { continue: token } : {}) });
      if (this.#stopped) return;
      for (const raw of page.items) {
        const key = objectKey(raw);
        const obj = key === undefined ? undefined : this.#transformed(raw);
        if (key === undefined || obj === undefined) continue;
        listed.add(key);
        const old = this.#cache.get(key);
        this.#cache.set(key, obj);
        if (old === undefined) this.#emit('add', obj);
        else if (changed(old, obj)) this.#emit('update', old, obj);
      }
      resourceVersion = page.resourceVersion;
      token = page.continue;
    } while (token);

    for (const [key, old] of this.#cache) {
      if (listed.has(key)) continue;
      this.#cache.delete(key);
      this.#emit('delete', old);
    }
    this.#resourceVersion = resourceVersion;
    this.#logger.info({ objects: this.#cache.size, resourceVersion }, this.#hasSynced ? 'relisted' : 'listed');
    if (!this.#hasSynced) {
      this.#hasSynced = true;
      this.#markSynced();
    }
  }

  /** Runs one watch from the current resourceVersion until it ends or the informer stops. */
  #watchOnce(): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let ended = false;
      const finish = (end: WatchEnd): void => {
        if (ended) return;
        ended = true;
        this.#stop.signal.removeEventListener('abort', onStop);
        if (this.#watch === handle) this.#watch = undefined;
        resolve(end);
      };
      const onStop = (): void => finish({ kind: 'closed' });
      let handle: WatchHandle;
      try {
        handle = this.#listWatch.watch(
          this.#resourceVersion,
          (event) => {
            if (!ended) this.#apply(event);
          },
          (err) => {
            if (err === undefined || err === null) finish({ kind: 'closed' });
            else if (err instanceof ResourceExpiredError) finish({ kind: 'expired' });
            else finish({ kind: 'failed', err: toError(err) });
          },
        );
      } catch (err) {
        handle = { abort: () => {} };
        finish({ kind: 'failed', err: toError(err) });
        return;
      }
      this.#watch = handle;
      this.#stop.signal.addEventListener('abort', onStop, { once: true });
      if (ended) handle.abort();
    });
  }

  /** Applies one watch event to the cache and tells the handlers. */
  #apply(event: WatchEvent): void {
    if (event.type === 'BOOKMARK') {
      this.#resourceVersion = event.resourceVersion;
      return;
    }
    // Key and resourceVersion come from the raw object, so that they hold even when the transform rejects it.
    const key = objectKey(event.object);
    if (key === undefined) return;
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.#resourceVersion = rv;
    const old = this.#cache.get(key);
    const obj = this.#transformed(event.object);
    if (event.type === 'DELETED') {
      this.#cache.delete(key);
      const gone = obj ?? old;
      if (gone !== undefined) this.#emit('delete', gone);
    } else if (obj !== undefined) {
      this.#cache.set(key, obj);
      if (old === undefined) this.#emit('add', obj);
      else this.#emit('update', old, obj);
    }
  }

  /** The transform of `raw`, or undefined (logged) when the transform rejects it: one bad object must not stop the rest. */
  #transformed(raw: KubernetesObject): T | undefined {
    try {
      return this.#transform(raw);
    } catch (err) {
      this.#logger.error({ err: toError(err), key: objectKey(raw) }, 'transform rejected an object; skipping it');
      return undefined;
    }
  }

  #emit(kind: 'add' | 'delete', obj: T): void;
  #emit(kind: 'update', old: T, obj: T): void;
  #emit(kind: keyof EventHandlers<T>, first: T, second?: T): void {
    for (const handlers of this.#handlers) {
      try {
        if (kind === 'update') {
          if (second !== undefined) handlers.update?.(first, second);
        } else {
          handlers[kind]?.(first);
        }
      } catch (err) {
        this.#logger.error({ err: toError(err), event: kind, key: objectKey(first) }, 'event handler threw');
      }
    }
  }
}

/** Whether a relisted object differs from the cached one; the same resourceVersion means the same object. */
function changed(old: KubernetesObject, fresh: KubernetesObject): boolean {
  const before = old.metadata?.resourceVersion;
  return before === undefined || before !== fresh.metadata?.resourceVersion;
}
