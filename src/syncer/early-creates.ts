import type { Member } from '../wecom/types.ts';
import type { DesiredObject } from './desired.ts';

/** Options of {@link EarlyCreates}. */
export interface EarlyCreatesOptions {
  /** Whether the cache holds an object of this name: only objects it does not hold are created early. */
  isStored(name: string): boolean;
  /** The object name of a member. May throw (no name can be derived): that member waits for the plan. */
  nameOf(member: Member): string;
  /** The desired CasdoorUser of a member, made only for those to create. */
  toDesired(member: Member): DesiredObject;
  /** Creates an object unless one of its name exists (false): that one is left to the plan, untouched. */
  create(object: DesiredObject): Promise<boolean>;
  /** Creates in flight at once. */
  concurrency: number;
  signal: AbortSignal;
  /** Told after each create, whatever its outcome. */
  onWritten?: () => void;
}

/** What the creates made during a fetch wrote. */
export interface EarlyCreated {
  /** Each object created, by name: the fingerprint it was created with. */
  written: Map<string, string>;
  /** Creates that failed; their members are planned again with the rest. */
  failed: number;
}

/**
 * Creates the CasdoorUsers of members the cache does not hold yet while the fetch still lists the
 * other departments, so an initial sync writes while it waits on WeCom instead of after it.
 *
 * Only creates: an object that does not exist yet cannot lose anything to a fetch that fails later,
 * and no record can take over another member's object. Updates and removals wait for the complete
 * fetch, as before. Each member is offered once, by its first listing (WeCom sends every department
 * of a member in each of its records); the plan then judges the complete fetch against what was
 * created here, which rewrites an object only when the later listings disagreed.
 */
export class EarlyCreates {
  readonly #options: EarlyCreatesOptions;
  /** Names of the members queued so far (a name is made from the case-folded userid): each is queued once. */
  readonly #offered = new Set<string>();
  readonly #queue: DesiredObject[] = [];
  #head = 0;
  readonly #written = new Map<string, string>();
  #failed = 0;
  #inFlight = 0;
  #started = false;
  #finished = false;
  #drained: (() => void) | undefined;

  constructor(options: EarlyCreatesOptions) {
    this.#options = options;
  }

  /** Members of one department's listing: those new to this fetch and to the cache are queued. */
  offer(members: readonly Member[]): void {
    if (this.#finished) return;
    for (const member of members) {
      let name: string;
      try {
        name = this.#options.nameOf(member);
      } catch {
        continue;
      }
      // The name first: a sync that finds every member stored builds no spec here and keeps no name.
      if (this.#options.isStored(name) || this.#offered.has(name)) continue;
      this.#offered.add(name);
      this.#queue.push(this.#options.toDesired(member));
    }
    this.#pump();
  }

  /**
   * The cache saw an object deleted. One created here is no longer there to judge by what it was created
   * with: the plan then finds it missing and creates it again.
   */
  deleted(name: string): void {
    this.#written.delete(name);
  }

  /** Lets the creates begin: the caller's groups are written by then. */
  start(): void {
    this.#started = true;
    this.#pump();
  }

  /**
   * Takes nothing more and waits for the creates in flight. Members queued and not begun are the plan's
   * to write. Call once the fetch has ended, however it ended.
   */
  async finish(): Promise<EarlyCreated> {
    this.#finished = true;
    this.#queue.length = 0;
    this.#head = 0;
    this.#offered.clear();
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    return { written: this.#written, failed: this.#failed };
  }

  #pump(): void {
    const { concurrency, signal } = this.#options;
    while (this.#started && !this.#finished && !signal.aborted && this.#inFlight < concurrency && this.#head < this.#queue.length) {
      const object = this.#queue[this.#head]!;
      // Let go of each object once taken; the array itself is emptied when all are taken.
      this.#queue[this.#head++] = undefined as never;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
      }
      this.#inFlight++;
      void this.#create(object);
    }
  }

  async #create(object: DesiredObject): Promise<void> {
    try {
      // An object that exists after all (the cache had not shown it yet) is neither written nor failed.
      if (await this.#options.create(object)) this.#written.set(object.name, object.fingerprint);
    } catch {
      // Not counted as written: the plan tries this member again, and reports it if it fails there too.
      this.#failed++;
    }
    this.#inFlight--;
    try {
      this.#options.onWritten?.();
    } finally {
      if (this.#inFlight === 0 && this.#finished) this.#drained?.();
      this.#pump();
    }
  }
}
