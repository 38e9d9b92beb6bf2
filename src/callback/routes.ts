import type { Logger } from 'pino';
import type { WeComSyncer } from '../api/wecom-syncer.ts';
import { SecretProblem, type SecretReader } from '../secrets/reader.ts';
import type { CallbackTarget } from './receiver.ts';
import { readCallbackSecrets } from './secrets.ts';

/** What the table of event paths is built from. */
export interface RoutesDeps {
  /** The cached WeComSyncers. */
  syncers(): Iterable<WeComSyncer>;
  readSecret: SecretReader;
  logger: Logger;
  now?: () => number;
}

/** How long a table is used before the Secrets are read again: a rotated Token moves the path. */
const REFRESH_MS = 30_000;
/** The least time between two reads caused by unknown paths: scanners must not make the operator read Secrets at will. */
const MISS_REFRESH_MS = 5_000;

/**
 * Which syncer each event path belongs to. Built from the cached syncers and
 * their callback Secrets, again after a syncer changes, every 30 seconds, and
 * (at most every 5 seconds) when a path is unknown: a syncer just created.
 */
export class CallbackRoutes {
  readonly #deps: RoutesDeps;
  readonly #now: () => number;
  #table = new Map<string, CallbackTarget>();
  #builtAt = Number.NEGATIVE_INFINITY;
  #stale = true;
  #building: Promise<void> | undefined;

  constructor(deps: RoutesDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** A syncer was added, changed or deleted: the next lookup rebuilds the table. Bound: an informer handler as it is. */
  readonly invalidate = (): void => {
    this.#stale = true;
  };

  /**
   * The syncer of `path`. Throws (a 503: worth a retry) only when the table could not be built just now and
   * does not know the path: one syncer's unreadable Secret does not refuse the events of the others.
   */
  async target(path: string): Promise<CallbackTarget | undefined> {
    const age = this.#now() - this.#builtAt;
    if (this.#stale || age >= REFRESH_MS || (!this.#table.has(path) && age >= MISS_REFRESH_MS)) {
      try {
        await this.#rebuild();
      } catch (error) {
        if (!this.#table.has(path)) throw error;
      }
    }
    return this.#table.get(path);
  }

  #rebuild(): Promise<void> {
    this.#building ??= this.#build().finally(() => (this.#building = undefined));
    return this.#building;
  }

  async #build(): Promise<void> {
    this.#stale = false;
    const previous = new Map([...this.#table.values()].map((target) => [target.key, target]));
    const table = new Map<string, CallbackTarget>();
    let failure: unknown;
    for (const syncer of this.#deps.syncers()) {
      if (!syncer.spec.callback || syncer.metadata.deletionTimestamp) continue;
      const key = `${syncer.metadata.namespace ?? 'default'}/${syncer.metadata.name}`;
      try {
        const secrets = await readCallbackSecrets(this.#deps.readSecret, syncer);
        if (secrets) table.set(secrets.path, { ...secrets, key, corpId: syncer.spec.corpId });
      } catch (error) {
        // A missing or unusable Secret: the syncer's status says so; its events are refused meanwhile.
        if (error instanceof SecretProblem) continue;
        // The API server failing: keep what was known, and answer 503 when nothing was.
        const known = previous.get(key);
        if (known) table.set(known.path, known);
        else failure = error;
      }
    }
    this.#table = table;
    // A failed build too: it is tried again after 5 s for an unknown path, not at every request.
    this.#builtAt = this.#now();
    if (failure !== undefined) throw failure;
  }
}
