import type { PushFailure, SelectionCounts } from '../api/casdoor-server.ts';
import type { CasdoorClient } from '../casdoor/client.ts';
import { fingerprintOf, type PushKind, type SelectedObject } from './objects.ts';
import type { Deletion } from './plan.ts';
import { GROUP_REMOTE_REF, objectRef, refKind, remoteRef } from './refs.ts';
import type { BlockedDeletions, Standing } from './status.ts';

/** What the state keeps of a managed user: nothing (one shared object, not 10,000 empty ones). */
export const NO_PARENT: { parent?: string } = Object.freeze({});

/** What {@link replaceEntries} changes: a Map, or anything kept like one. */
interface Entries<V> {
  readonly size: number;
  get(key: string): V | undefined;
  set(key: string, value: V): unknown;
  delete(key: string): unknown;
  keys(): Iterable<string>;
}

/**
 * Makes `map` hold exactly the entries `entries()` yields (each key once), changing only what differs
 * (`same` compares values): cleared and filled again, a map of 100,000 entries leaves a new table per
 * doubling, and the old one, for the collector, about 10 MB each time. Calls `entries` again only when
 * entries must go.
 */
export function replaceEntries<V>(map: Entries<V>, entries: () => Iterable<readonly [key: string, value: V]>, same: (a: V, b: V) => boolean = Object.is): void {
  let count = 0;
  for (const [key, value] of entries()) {
    count++;
    const known = map.get(key);
    if (known === undefined || !same(known, value)) map.set(key, value);
  }
  if (map.size === count) return;
  const kept = new Set<string>();
  for (const [key] of entries()) kept.add(key);
  for (const key of [...map.keys()]) if (!kept.has(key)) map.delete(key);
}

/**
 * What one CasdoorServer knows of Casdoor in this process, from its last full
 * comparison and the pushes since: what carries its mark, what does not, and
 * where each selected object stands. Only a full comparison fills it; until
 * one has run (after a restart), pushes wait for it.
 */
export class ServerState {
  readonly uid: string | undefined;
  /** A full comparison completed in this process. */
  compared = false;
  /** Casdoor objects that carry this server's mark (`remoteRef`), with the parent of each group. */
  readonly managed = new Map<string, { parent?: string }>();
  /** Casdoor objects without any server's mark: Adopt may take them over. */
  readonly unmanaged = new Set<string>();
  /** Casdoor objects with another server's mark: never written. */
  readonly foreign = new Map<string, string>();
  /** Selected object -> the Casdoor object it is written to (`owner/name`). */
  readonly #targets = new Map<string, string>();
  /**
   * The other way round, by `remoteRef`: which selected objects write each Casdoor object. Nearly
   * always one: kept as that one, a Set only for two or more (100,000 Sets of one would be 20 MB).
   */
  readonly #writers = new Map<string, string | Set<string>>();
  /** Selected object -> the fingerprint of its spec as Casdoor holds it. A full comparison replaces it. */
  inSync = new Map<string, string>();
  /** Selected objects not written, and why. */
  readonly failures = new Map<string, PushFailure>();
  readonly skipped = new Map<string, PushFailure>();
  /** Objects changed since they were last pushed (`objectRef`). */
  readonly pending = new Set<string>();
  /** Deletions gathered, judged together once they settle (`remoteRef`). */
  readonly deletions = new Map<string, Deletion>();
  /** When the last deletion was gathered. */
  lastDeletionAt = 0;
  /** Users deleted by pushes since the last full comparison: the guard counts them with the next ones. */
  deletedSinceComparison = 0;
  /** Deletions the guard held back, until the next full comparison. */
  blocked: BlockedDeletions | undefined;
  /** While stalled on credentials: no re-read of the Secret before this time (ms), whatever events arrive. */
  nextRecheckAt = 0;
  /** The client for the current endpoint and credentials. */
  client: { inputs: string; client: CasdoorClient } | undefined;

  constructor(uid: string | undefined) {
    this.uid = uid;
  }

  /** Where the selected objects stand, for status. */
  standing(users: readonly SelectedObject[], groups: readonly SelectedObject[]): Standing {
    const count = (objects: readonly SelectedObject[]): SelectionCounts => {
      const counts = { selected: objects.length, inSync: 0, failed: 0, skipped: 0 };
      for (const object of objects) {
        const ref = objectRef(object.kind, object.name);
        if (this.inSync.get(ref) === fingerprintOf(object)) counts.inSync++;
        else if (this.failures.has(ref)) counts.failed++;
        else if (this.skipped.has(ref)) counts.skipped++;
      }
      return counts;
    };
    const failures = [...this.failures.values()].reverse();
    return { users: count(users), groups: count(groups), failures, ...(this.blocked && { blocked: this.blocked }) };
  }

  /** The Casdoor object (`owner/name`) the selected object `ref` is written to, if any. */
  targetOf(ref: string): string | undefined {
    return this.#targets.get(ref);
  }

  /** Records that the selected object `ref` is written to the Casdoor object `key`. */
  setTarget(ref: string, key: string): void {
    this.dropTarget(ref);
    this.#targets.set(ref, key);
    const target = remoteRef(refKind(ref), key);
    const writers = this.#writers.get(target);
    if (writers === undefined || writers === ref) this.#writers.set(target, ref);
    else if (typeof writers === 'string') this.#writers.set(target, new Set([writers, ref]));
    else writers.add(ref);
  }

  /** Forgets what `ref` is written to. */
  dropTarget(ref: string): void {
    const key = this.#targets.get(ref);
    if (key === undefined) return;
    this.#targets.delete(ref);
    const target = remoteRef(refKind(ref), key);
    const writers = this.#writers.get(target);
    if (writers === ref) this.#writers.delete(target);
    else if (writers instanceof Set) {
      writers.delete(ref);
      if (writers.size === 1) this.#writers.set(target, [...writers][0]!);
    }
  }

  /**
   * Makes the targets exactly those `targets()` yields (each selected object once), changing only what
   * differs: a full comparison that finds every target where it was writes nothing to the maps.
   */
  replaceTargets(targets: () => Iterable<readonly [ref: string, key: string]>): void {
    const own = this.#targets;
    // Through setTarget and dropTarget, so that the writers follow.
    replaceEntries({
      get size() {
        return own.size;
      },
      get: (ref) => own.get(ref),
      set: (ref, key) => this.setTarget(ref, key),
      delete: (ref) => this.dropTarget(ref),
      keys: () => own.keys(),
    }, targets);
  }

  /** Another selected object than `ref` written to the Casdoor object `key` of `kind`, if one is. */
  sharedTarget(ref: string, kind: PushKind, key: string): string | undefined {
    const writers = this.#writers.get(remoteRef(kind, key));
    for (const other of typeof writers === 'string' ? [writers] : (writers ?? [])) if (other !== ref) return other;
    return undefined;
  }

  /** Forgets what a selected object was, once it is gone from the selection. */
  forgetObject(ref: string): void {
    this.dropTarget(ref);
    this.inSync.delete(ref);
    this.failures.delete(ref);
    this.skipped.delete(ref);
  }

  /** The users this server manages in Casdoor: what the deletion guard is a share of. */
  managedUsers(): number {
    let count = 0;
    for (const ref of this.managed.keys()) if (!ref.startsWith(GROUP_REMOTE_REF)) count++;
    return count;
  }

  /** Closes the client's connections. */
  async close(): Promise<void> {
    await this.client?.client.close();
    this.client = undefined;
  }
}
