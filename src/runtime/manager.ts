import type { Logger } from 'pino';
import type { Controller } from './controller.ts';
import type { Informer, InformerStatus } from './informer.ts';
import { toError } from './errors.ts';

/** What the manager needs of an informer (any `Informer<T>` fits). */
export type CacheSource = Pick<Informer<never>, 'name' | 'start' | 'stop' | 'synced' | 'hasSynced' | 'status'>;

/** What the manager needs of a controller. */
export type Runnable = Pick<Controller, 'name' | 'start' | 'stop'>;

/** What a {@link Manager} runs. */
export interface ManagerOptions {
  logger: Logger;
  informers: readonly CacheSource[];
  controllers: readonly Runnable[];
  /**
   * Resolves when this process may reconcile: the seam for leader election. Informers run (and `ready()` turns
   * true) before it resolves, so a follower is ready and warm. Default: at once.
   */
  elected?: Promise<void>;
  /** How long in-flight reconciles may run after `stop` before their signals abort. */
  stopGraceMs?: number;
}

/** Where a {@link Manager} is in its life. */
export const ManagerPhase = {
  Idle: 'idle',
  Syncing: 'syncing',
  WaitingForElection: 'waiting_for_election',
  Running: 'running',
  Stopping: 'stopping',
  Stopped: 'stopped',
} as const;
/** One of {@link ManagerPhase}. */
export type ManagerPhase = (typeof ManagerPhase)[keyof typeof ManagerPhase];

/**
 * Starts informers, waits for their caches, waits to be elected, then starts the controllers; stops them in the
 * reverse order. Signal handling stays with the caller, which calls `stop()`.
 */
export class Manager {
  readonly #options: ManagerOptions;
  readonly #logger: Logger;
  readonly #stopping: Promise<void>;
  #signalStop: () => void = () => {};
  #phase: ManagerPhase = ManagerPhase.Idle;
  #stopped: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'manager' });
    this.#stopping = new Promise<void>((resolve) => (this.#signalStop = resolve));
  }

  /** Where the manager is in its life. */
  get phase(): ManagerPhase {
    return this.#phase;
  }

  /**
   * Starts everything; resolves once the controllers run, or early when `stop()` is called first. Informers
   * retry on their own, so this waits as long as the API server takes to answer. Rejects only when `elected`
   * does; the caller should then `stop()`.
   */
  async start(): Promise<void> {
    if (this.#phase !== ManagerPhase.Idle) return;
    this.#phase = ManagerPhase.Syncing;
    for (const informer of this.#options.informers) informer.start();
    const synced = Promise.all(this.#options.informers.map((informer) => informer.synced));
    if (!(await this.#unlessStopped(synced))) return;
    this.#logger.info({ informers: this.#options.informers.map((i) => i.name) }, 'caches synced');

    if (this.#options.elected) {
      this.#phase = ManagerPhase.WaitingForElection;
      this.#logger.info('waiting to be elected before reconciling');
      if (!(await this.#unlessStopped(this.#options.elected))) return;
    }
    this.#phase = ManagerPhase.Running;
    for (const controller of this.#options.controllers) controller.start();
    this.#logger.info({ controllers: this.#options.controllers.map((c) => c.name) }, 'controllers started');
  }

  /**
   * Stops taking work, lets in-flight reconciles finish (up to the grace period), then stops the informers.
   * Safe to call at any time and more than once; every call resolves when everything has stopped.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stopAll();
    return this.#stopped;
  }

  /** For `/readyz`: true once every informer's cache has synced, elected or not. */
  ready(): boolean {
    return this.#options.informers.every((informer) => informer.hasSynced());
  }

  /** Each informer's state, for the body of `/readyz`. */
  informerStatuses(): InformerStatus[] {
    return this.#options.informers.map((informer) => informer.status());
  }

  async #stopAll(): Promise<void> {
    this.#phase = ManagerPhase.Stopping;
    this.#signalStop();
    this.#logger.info('stopping');
    await Promise.all(this.#options.controllers.map((controller) => controller.stop(this.#options.stopGraceMs)));
    for (const informer of this.#options.informers) informer.stop();
    this.#phase = ManagerPhase.Stopped;
    this.#logger.info('stopped');
  }

  /** Waits for `step`; false when `stop()` came first; rejects when `step` does. */
  async #unlessStopped(step: Promise<unknown>): Promise<boolean> {
    const outcome = await Promise.race([
      step.then(
        () => 'done' as const,
        (err: unknown) => toError(err),
      ),
      this.#stopping.then(() => 'stopped' as const),
    ]);
    if (outcome === 'done') return true;
    if (outcome instanceof Error) throw new Error('manager could not start', { cause: outcome });
    return false;
  }
}
