import type { WeComSyncer, WeComSyncerStatus } from '../api/wecom-syncer.ts';

/** Writes a syncer's status. */
type StatusWrite = (syncer: WeComSyncer, status: WeComSyncerStatus) => Promise<void>;

/**
 * Serializes one reconcile's status writes: progress writes are dropped while
 * one is in flight or once the sync is finishing, and the final write goes
 * after any pending one, so a late progress write can never undo it.
 */
export class StatusChannel {
  readonly #syncer: WeComSyncer;
  readonly #write: StatusWrite;
  readonly #beforeProgress: (status: WeComSyncerStatus) => void;
  #pending: Promise<void> | undefined;
  #closed = false;

  constructor(syncer: WeComSyncer, write: StatusWrite, beforeProgress: (status: WeComSyncerStatus) => void) {
    this.#syncer = syncer;
    this.#write = write;
    this.#beforeProgress = beforeProgress;
  }

  /** Writes progress unless a write is in flight or the sync is finishing; never throws. */
  progress(status: WeComSyncerStatus): Promise<void> {
    if (this.#closed || this.#pending) return Promise.resolve();
    this.#beforeProgress(status);
    this.#pending = this.#write(this.#syncer, status)
      .catch(() => {}) // progress is best effort; the final write reports the outcome
      .finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  /** Waits for any progress write, then writes the final status. */
  async final(status: WeComSyncerStatus): Promise<void> {
    this.#closed = true;
    await this.#pending;
    await this.#write(this.#syncer, status);
  }
}
