import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { type Clock, sleep, systemClock } from './clock.ts';
import { toError } from './errors.ts';

/** The spec of a coordination.k8s.io/v1 Lease, as leader election reads and writes it. */
export interface LeaseRecord {
  /** Who holds the lease; absent or empty when nobody does (never acquired, or released). */
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: Date;
  renewTime?: Date;
  leaseTransitions?: number;
}

/** A Lease as read or written: its spec and the resourceVersion that the next write must name. */
export interface StoredLease {
  record: LeaseRecord;
  resourceVersion: string;
}

/** Thrown by a {@link LeaseStore} on 409: somebody else wrote the Lease first, so this write lost the race. */
export class LeaseConflictError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LeaseConflictError';
  }
}

/**
 * One Lease object, injected so that tests can run election against an in-memory store. Writes are optimistic:
 * `create` fails with {@link LeaseConflictError} when the Lease exists, `replace` when its resourceVersion moved.
 */
export interface LeaseStore {
  /** The Lease, or undefined when it does not exist. */
  read(): Promise<StoredLease | undefined>;
  create(record: LeaseRecord): Promise<StoredLease>;
  replace(record: LeaseRecord, resourceVersion: string): Promise<StoredLease>;
}

/** How a {@link LeaderElector} campaigns. The durations default to controller-runtime's. */
export interface LeaderElectorOptions {
  leases: LeaseStore;
  /** This candidate's name in `holderIdentity`; unique per process (see {@link defaultIdentity}). */
  identity: string;
  logger: Logger;
  /** Called once, when leadership is lost; the process should then exit, as controller-runtime's does. */
  onLost: (reason: string) => void;
  /** How long followers wait after the last renewal they saw before taking over. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failing renewal before it gives up leadership. Default 10 s. */
  renewDeadlineMs?: number;
  /** Between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  clock?: Clock;
  /** The wall time written into acquireTime and renewTime (expiry is judged on `clock`). */
  wallClock?: () => Date;
  /** In [0, 1): spreads the followers' attempts. Default Math.random. */
  random?: () => number;
}

/** Default lease duration, renew deadline and retry period, the same as controller-runtime's. */
export const LEADER_ELECTION_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

/** client-go's factor: a follower waits between one and 2.2 retry periods between attempts. */
const JITTER_FACTOR = 1.2;

/** The outcome of one attempt to acquire or renew. */
type Attempt = 'acquired' | 'held' | 'failed' | 'timed_out';

/** `hostname_` plus a random suffix, so two processes on one host (or a restarted pod) never share a name. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}

/**
 * Leader election on one Lease, as client-go does it. A follower reads the Lease every retry period and takes
 * it once it is free or has not been renewed for its lease duration, timed on this process's own clock from
 * when it last saw the Lease change (so clock skew between nodes does not matter). The leader renews every retry
 * period; when renewals fail for the renew deadline, or another candidate holds the Lease, it calls `onLost`.
 * Every write names the resourceVersion it read, so of two candidates racing only one wins.
 */
export class LeaderElector {
  /** Resolves when this candidate becomes leader; never rejects (it stays pending for a follower). */
  readonly elected: Promise<void>;
  readonly #leases: LeaseStore;
  readonly #identity: string;
  readonly #logger: Logger;
  readonly #onLost: (reason: string) => void;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #clock: Clock;
  readonly #wallClock: () => Date;
  readonly #random: () => number;
  readonly #stop = new AbortController();
  #resolveElected: () => void = () => {};
  #leader = false;
  #loop: Promise<void> | undefined;
  #released: Promise<void> | undefined;
  /** The Lease as last read or written, and when (on `clock`) it was first seen in that version. */
  #observed: StoredLease | undefined;
  #observedAt = 0;
  #loggedHolder: string | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#leases = options.leases;
    this.#identity = options.identity;
    this.#logger = options.logger.child({ component: 'leader-election', identity: options.identity });
    this.#onLost = options.onLost;
    this.#leaseDurationMs = options.leaseDurationMs ?? LEADER_ELECTION_DEFAULTS.leaseDurationMs;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? LEADER_ELECTION_DEFAULTS.renewDeadlineMs;
    this.#retryPeriodMs = options.retryPeriodMs ?? LEADER_ELECTION_DEFAULTS.retryPeriodMs;
    this.#clock = options.clock ?? systemClock;
    this.#wallClock = options.wallClock ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    // The leader must give up before a follower may take over, or two would reconcile at once.
    if (!(this.#leaseDurationMs > this.#renewDeadlineMs)) throw new Error('the lease duration must be longer than the renew deadline');
    if (!(this.#renewDeadlineMs > JITTER_FACTOR * this.#retryPeriodMs)) {
      throw new Error(`the renew deadline must be longer than ${JITTER_FACTOR} times the retry period`);
    }
    if (!(this.#retryPeriodMs > 0)) throw new Error('the retry period must be positive');
    this.elected = new Promise<void>((resolve) => (this.#resolveElected = resolve));
  }

  /** This candidate's name in the Lease. */
  get identity(): string {
    return this.#identity;
  }

  /** Whether this candidate holds the Lease now. */
  isLeader(): boolean {
    return this.#leader;
  }

  /** Starts campaigning; the first attempt is made at once. Calling it again does nothing. */
  start(): void {
    if (this.#loop || this.#stop.signal.aborted) return;
    this.#loop = this.#run(this.#stop.signal).catch((err: unknown) => {
      // #run catches every store error itself; reaching here is a bug, and leadership cannot be trusted.
      this.#logger.error({ err: toError(err) }, 'leader election stopped');
      this.#lose(`leader election failed: ${toError(err).message}`);
    });
  }

  /**
   * Stops campaigning and, when leader, gives the Lease up (no holder, a one-second duration) so that a follower
   * takes over at its next attempt instead of waiting out the lease duration. Call it after the controllers have
   * stopped. Never rejects; a failure to release is logged (followers then wait for the lease to expire).
   */
  release(): Promise<void> {
    this.#released ??= this.#release();
    return this.#released;
  }

  async #release(): Promise<void> {
    this.#stop.abort();
    // Let an attempt in flight finish, so that the release is not overtaken by a renewal; attempts are bounded.
    await this.#loop;
    if (!this.#leader || !this.#observed) return;
    this.#leader = false;
    const now = this.#wallClock();
    const record: LeaseRecord = {
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: this.#observed.record.leaseTransitions ?? 0,
    };
    try {
      // The resourceVersion of our own last write: if someone else wrote since, the Lease is no longer ours to free.
      const write = this.#leases.replace(record, this.#observed.resourceVersion);
      if ((await this.#withDeadline(write, this.#renewDeadlineMs)) === 'timed_out') {
        this.#logger.warn({ afterMs: this.#renewDeadlineMs }, 'could not release the lease in time; followers wait for it to expire');
        return;
      }
      this.#logger.info('released the lease');
    } catch (err) {
      this.#logger.warn({ err }, 'could not release the lease; followers wait for it to expire');
    }
  }

  async #run(signal: AbortSignal): Promise<void> {
    // Follow until elected.
    for (;;) {
      // Bounded, so that a hung API server neither stalls the campaign nor holds up release().
      const attempt = await this.#withDeadline(this.#tryAcquireOrRenew(), this.#renewDeadlineMs);
      if (attempt === 'acquired') break;
      if (signal.aborted) return;
      await sleep(this.#clock, this.#retryPeriodMs * (1 + JITTER_FACTOR * this.#random()), signal);
      if (signal.aborted) return;
    }
    this.#leader = true;
    // Acquired just as release() was called: release() frees it again, and nothing starts reconciling.
    if (signal.aborted) return;
    this.#logger.info({ leaseTransitions: this.#observed?.record.leaseTransitions }, 'became leader');
    this.#resolveElected();

    // Lead: renew every retry period until stopped or lost.
    let renewedAt = this.#clock.now();
    for (;;) {
      await sleep(this.#clock, this.#retryPeriodMs, signal);
      if (signal.aborted) return;
      const remainingMs = renewedAt + this.#renewDeadlineMs - this.#clock.now();
      const attempt = await this.#withDeadline(this.#tryAcquireOrRenew(), remainingMs);
      if (signal.aborted) return;
      if (attempt === 'acquired') {
        renewedAt = this.#clock.now();
        continue;
      }
      if (attempt === 'held') {
        this.#lose(`the lease is held by ${this.#observed?.record.holderIdentity ?? 'another candidate'}`);
        return;
      }
      const sinceMs = this.#clock.now() - renewedAt;
      if (sinceMs >= this.#renewDeadlineMs) {
        this.#lose(`could not renew the lease for ${Math.round(sinceMs / 1000)} s (renew deadline ${this.#renewDeadlineMs / 1000} s)`);
        return;
      }
    }
  }

  #lose(reason: string): void {
    if (!this.#leader) return;
    this.#leader = false;
    this.#logger.error({ reason }, 'lost leadership');
    this.#onLost(reason);
  }

  /** Reads the Lease and writes it when it is ours, free, or expired. Store errors are logged and mean 'failed'. */
  async #tryAcquireOrRenew(): Promise<Attempt> {
    try {
      const stored = await this.#leases.read();
      const now = this.#wallClock();
      if (!stored) {
        this.#see(await this.#leases.create(this.#takeOver(undefined, now)));
        return 'acquired';
      }
      this.#see(stored);
      const holder = stored.record.holderIdentity;
      if (holder && holder !== this.#identity) {
        const durationMs = (stored.record.leaseDurationSeconds ?? this.#leaseDurationMs / 1000) * 1000;
        if (this.#clock.now() < this.#observedAt + durationMs) {
          this.#logWaiting(holder);
          return 'held';
        }
        this.#logger.info({ holder, expiredAfterMs: durationMs }, 'taking over an expired lease');
      }
      const record: LeaseRecord =
        holder === this.#identity
          ? { ...stored.record, holderIdentity: this.#identity, leaseDurationSeconds: this.#leaseDurationMs / 1000, renewTime: now }
          : this.#takeOver(stored.record, now);
      this.#see(await this.#leases.replace(record, stored.resourceVersion));
      return 'acquired';
    } catch (err) {
      if (err instanceof LeaseConflictError) {
        this.#logger.debug({ err }, 'another candidate wrote the lease first');
      } else {
        this.#logger.warn({ err }, this.#leader ? 'could not renew the lease' : 'could not read or acquire the lease');
      }
      return 'failed';
    }
  }

  /** The record that makes this candidate the holder, counting a transition when someone held it before. */
  #takeOver(previous: LeaseRecord | undefined, now: Date): LeaseRecord {
    const transitions = previous?.leaseTransitions ?? 0;
    return {
      holderIdentity: this.#identity,
      leaseDurationSeconds: this.#leaseDurationMs / 1000,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: previous?.holderIdentity ? transitions + 1 : transitions,
    };
  }

  /** Remembers the Lease; a new resourceVersion means someone renewed it, which restarts its expiry. */
  #see(stored: StoredLease): void {
    if (stored.resourceVersion !== this.#observed?.resourceVersion) this.#observedAt = this.#clock.now();
    this.#observed = stored;
  }

  #logWaiting(holder: string): void {
    if (holder === this.#loggedHolder) return;
    this.#loggedHolder = holder;
    this.#logger.info({ holder }, 'another candidate holds the lease; waiting to be elected');
  }

  /** `step`'s outcome, or 'timed_out' after `ms` on the clock (the step is then left to settle unobserved). */
  async #withDeadline<T>(step: Promise<T>, ms: number): Promise<T | 'timed_out'> {
    const timer = new AbortController();
    // A step that fails after the deadline must not surface as an unhandled rejection.
    step.catch(() => {});
    try {
      return await Promise.race([step, sleep(this.#clock, Math.max(0, ms), timer.signal).then(() => 'timed_out' as const)]);
    } finally {
      timer.abort();
    }
  }
}
