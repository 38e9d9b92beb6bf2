import { createHash } from 'node:crypto';

/** The most stored statuses remembered as older than a write, per syncer. */
const MAX_OLDER = 16;

/** An object with a status: a WeComSyncer or a CasdoorServer. */
interface WithStatus<S> {
  metadata: { uid?: string };
  status?: S;
}

interface Entry<S> {
  uid: string | undefined;
  /** The last final status this process wrote. */
  final: S;
  /** Digests of statuses stored before it: what a lagging cache may still hold. */
  older: Set<string>;
}

/**
 * What this process last wrote to each object's status (a WeComSyncer's, a CasdoorServer's), for the moment before
 * the informer delivers it. A status write reaches the cache a little after
 * it returns, so a retry (or a key queued again) may read the cache before or
 * after its own write; {@link effective} makes every decision read the same
 * status either way. The cache wins as soon as it holds anything but a status
 * known to predate the write: the write itself, or a change by anyone else
 * (a status edited by hand, another process's sync).
 */
export class OwnStatuses<S extends object> {
  readonly #entries = new Map<string, Entry<S>>();
  readonly #ignored: ReadonlySet<string>;
  /** Per syncer: statuses a running reconcile started from or wrote as progress. */
  readonly #pending = new Map<string, Set<string>>();

  /**
   * `ignoredFields`: status fields other writers own (the event receivers' counts in a WeComSyncer's
   * status.callback), left out of every comparison: a status that differs only in them is the same status.
   */
  constructor(options: { ignoredFields?: readonly string[] } = {}) {
    this.#ignored = new Set(options.ignoredFields);
  }

  /** The syncer as decisions should see it: with this process's last final status while the cache lags behind it. */
  effective<T extends WithStatus<S>>(key: string, cached: T): T {
    const entry = this.#entries.get(key);
    if (!entry) return cached;
    if (entry.uid !== cached.metadata.uid || !entry.older.has(this.#digest(cached.status))) {
      this.#entries.delete(key);
      return cached;
    }
    return { ...cached, status: entry.final };
  }

  /** A reconcile is about to write status: what the cache and the decision held count as older. */
  begin(key: string, cached: WithStatus<S>, effective: WithStatus<S>): void {
    const older = new Set(this.#entries.get(key)?.older);
    older.add(this.#digest(cached.status));
    older.add(this.#digest(effective.status));
    this.#pending.set(key, older);
  }

  /** A progress write is about to go: it predates the final one. */
  progress(key: string, status: S): void {
    this.#pending.get(key)?.add(this.#digest(status));
  }

  /** The final status was written. */
  written(key: string, uid: string | undefined, final: S): void {
    const older = this.#pending.get(key) ?? new Set<string>();
    this.#pending.delete(key);
    // The final status itself is no older status, even when a previous one read the same.
    older.delete(this.#digest(final));
    this.#entries.set(key, { uid, final, older: new Set([...older].slice(-MAX_OLDER)) });
  }

  #digest(status: object | undefined): string {
    return digest(status, this.#ignored);
  }

  /** The final write failed, or the syncer is gone: what is stored is unknown, so the cache decides. */
  forget(key: string): void {
    this.#entries.delete(key);
    this.#pending.delete(key);
  }
}

/** A digest of a status by content, without the ignored fields, independent of key order and of null (removed) fields. */
function digest(status: object | undefined, ignored: ReadonlySet<string>): string {
  const kept = Object.entries(status ?? {}).filter(([field]) => !ignored.has(field));
  return createHash('sha256').update(canonical(Object.fromEntries(kept))).digest('hex').slice(0, 32);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
