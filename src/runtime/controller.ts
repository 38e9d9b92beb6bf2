import type { Logger } from 'pino';
import { type Clock, sleep, systemClock } from './clock.ts';
import { toError } from './errors.ts';
import { type Reconciler, TerminalError } from './reconcile.ts';
import { WorkQueue } from './workqueue.ts';

/** How one reconcile ended, as the metrics label it (controller-runtime's `result` values, plus terminal errors). */
export const ReconcileOutcome = {
  Success: 'success',
  Error: 'error',
  TerminalError: 'terminal_error',
  RequeueAfter: 'requeue_after',
} as const;
/** One of {@link ReconcileOutcome}. */
export type ReconcileOutcome = (typeof ReconcileOutcome)[keyof typeof ReconcileOutcome];

/** Receives each finished reconcile, for metrics. */
export interface ControllerListener {
  reconciled?(outcome: ReconcileOutcome, durationMs: number): void;
}

/** What a {@link Controller} runs and how. */
export interface ControllerOptions {
  /** Names the controller in logs and metrics. */
  name: string;
  reconciler: Reconciler;
  logger: Logger;
  /** How many keys are reconciled at once (never the same key twice). Default 1. */
  concurrency?: number;
  /** The queue to pull keys from; by default a new one on `clock`. */
  queue?: WorkQueue;
  clock?: Clock;
  listener?: ControllerListener;
}

/** How long `stop` lets in-flight reconciles run before aborting their signals, by default. */
export const DEFAULT_STOP_GRACE_MS = 30_000;

/**
 * Runs `concurrency` workers that take keys from {@link queue} and reconcile them. Only the worker decides what
 * happens next: a throw requeues with backoff (unless terminal), `requeueAfterMs` schedules the key again, and
 * success forgets its backoff. Nothing a reconciler throws stops a worker.
 */
export class Controller {
  /** Names the controller in logs and metrics. */
  readonly name: string;
  /** Where event handlers add keys. */
  readonly queue: WorkQueue;
  readonly #reconciler: Reconciler;
  readonly #logger: Logger;
  readonly #concurrency: number;
  readonly #clock: Clock;
  readonly #listener: ControllerListener;
  readonly #inFlight = new Set<AbortController>();
  #workers: Promise<void>[] = [];

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#reconciler = options.reconciler;
    this.#clock = options.clock ?? systemClock;
    this.queue = options.queue ?? new WorkQueue({ clock: this.#clock });
    this.#logger = options.logger.child({ controller: options.name });
    this.#concurrency = Math.max(1, options.concurrency ?? 1);
    this.#listener = options.listener ?? {};
  }

  /** Starts the workers; calling it again while they run does nothing. */
  start(): void {
    if (this.#workers.length > 0 || this.queue.shuttingDown) return;
    this.#logger.info({ concurrency: this.#concurrency }, 'starting workers');
    for (let i = 0; i < this.#concurrency; i++) this.#workers.push(this.#work());
  }

  /**
   * Stops taking work, lets in-flight reconciles finish for up to `graceMs`, then aborts their signals and
   * resolves once every worker has returned.
   */
  async stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
    this.queue.shutDown();
    const workers = Promise.all(this.#workers);
    const graceOver = new AbortController();
    const finished = workers.then(() => true);
    const inTime = await Promise.race([finished, sleep(this.#clock, graceMs, graceOver.signal).then(() => false)]);
    graceOver.abort();
    if (!inTime) {
      this.#logger.warn({ inFlight: this.#inFlight.size, graceMs }, 'grace period over; aborting in-flight reconciles');
      for (const controller of this.#inFlight) controller.abort(new Error(`controller ${this.name} is stopping`));
      await workers;
    }
    this.#logger.info('workers stopped');
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.#process(key);
      } catch (err) {
        // Only a throwing logger or listener gets here; the worker must survive it too.
        this.#logger.error({ err: toError(err), key }, 'worker caught an unexpected error');
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Reconciles `key` and acts on the outcome; the one place that decides when a key runs again. */
  async #process(key: string): Promise<void> {
    const log = this.#logger.child({ key });
    const abort = new AbortController();
    this.#inFlight.add(abort);
    const started = this.#clock.now();
    log.debug('reconciling');
    let outcome: ReconcileOutcome;
    try {
      const result = await this.#reconciler.reconcile(key, abort.signal);
      const after = result.requeueAfterMs ?? 0;
      this.queue.forget(key);
      if (after > 0) {
        this.queue.addAfter(key, after);
        outcome = ReconcileOutcome.RequeueAfter;
        log.debug({ requeueAfterMs: after }, 'reconciled; scheduled again');
      } else {
        outcome = ReconcileOutcome.Success;
        log.debug('reconciled');
      }
    } catch (thrown) {
      const err = toError(thrown);
      if (err instanceof TerminalError) {
        this.queue.forget(key);
        outcome = ReconcileOutcome.TerminalError;
        log.error({ err }, 'reconcile failed; not retried until the object changes');
      } else {
        const retryInMs = this.queue.addRateLimited(key);
        outcome = ReconcileOutcome.Error;
        log.error({ err, retryInMs, attempt: this.queue.numRequeues(key) }, `reconcile failed; retrying in ${retryInMs} ms`);
      }
    } finally {
      this.#inFlight.delete(abort);
    }
    this.#listener.reconciled?.(outcome, this.#clock.now() - started);
  }
}
