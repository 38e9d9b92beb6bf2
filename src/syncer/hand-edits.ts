import { CASDOOR_USER_KIND } from '../api/casdoor-user.ts';
import type { DesiredObject, ManagedKind, Wanted } from './desired.ts';
import { planRepair, type RepairPlan } from './plan.ts';
import type { StoredObject } from './stored.ts';

/**
 * What each syncer's syncs wrote, and the hand edits the cache has shown
 * since: the reconciler's memory for putting objects back between syncs.
 * Fingerprints, not objects (a few bytes per member); an edited object is put
 * back from its last version the cache showed still matching.
 */
export class HandEdits {
  /** Per syncer: the users of its last complete sync, and the groups of its last department listing. */
  readonly #wanted = new Map<string, Wanted>();
  /** Per syncer and kind: objects seen edited or deleted, each with its last matching version when the cache showed one. */
  readonly #edited = new Map<string, Record<ManagedKind, Map<string, StoredObject | undefined>>>();
  /** Syncers with edits seen before this process ran a sync of them: only a sync can judge those. */
  readonly #unjudged = new Set<string>();

  /** Records what a sync writes of one kind; versions saved to put back before it are no longer wanted. */
  want(key: string, kind: ManagedKind, fingerprints: Map<string, string>): void {
    const known = this.#wanted.get(key) ?? { users: new Map(), groups: new Map() };
    this.#wanted.set(key, kind === CASDOOR_USER_KIND ? { ...known, users: fingerprints } : { ...known, groups: fingerprints });
    this.#edited.get(key)?.[kind].clear();
  }

  /**
   * Told of each change of an object the syncer `key` owns: its version
   * before and after (after undefined: deleted). Returns whether the syncer
   * must reconcile: the object no longer matches what the last sync wrote, or
   * no sync ran yet in this process and the change is not an add of the cache's first list.
   */
  changed(key: string, kind: ManagedKind, before: StoredObject | undefined, after: StoredObject | undefined, firstList: boolean): boolean {
    const wanted = this.#wanted.get(key);
    if (!wanted) {
      if (firstList) return false;
      this.#unjudged.add(key);
      return true;
    }
    const name = (after ?? before)?.metadata.name;
    const fingerprint = name === undefined ? undefined : wantedOf(wanted, kind).get(name);
    if (name === undefined || fingerprint === undefined || after?.fingerprint === fingerprint) return false;
    let edited = this.#edited.get(key);
    if (!edited) this.#edited.set(key, (edited = { CasdoorUser: new Map(), CasdoorGroup: new Map() }));
    edited[kind].set(name, before?.fingerprint === fingerprint ? before : edited[kind].get(name));
    return true;
  }

  /**
   * What putting back the edits of one kind writes; undefined when no sync of
   * `key` ran in this process. `toDesired` makes a matching version a desired object.
   */
  plan(key: string, kind: ManagedKind, stored: ReadonlyMap<string, StoredObject>, toDesired: (saved: StoredObject) => DesiredObject): RepairPlan | undefined {
    const wanted = this.#wanted.get(key);
    if (!wanted) return undefined;
    return planRepair({ wanted: wantedOf(wanted, kind), stored, edited: this.#edited.get(key)?.[kind], toDesired });
  }

  /** Whether edits were seen before this process synced `key`. */
  unjudged(key: string): boolean {
    return this.#unjudged.has(key);
  }

  /** A sync of `key` is starting: it judges every edit seen so far. */
  syncing(key: string): void {
    this.#unjudged.delete(key);
  }

  /** The syncer is gone. */
  forget(key: string): void {
    this.#wanted.delete(key);
    this.#edited.delete(key);
    this.#unjudged.delete(key);
  }
}

function wantedOf(wanted: Wanted, kind: ManagedKind): Map<string, string> {
  return kind === CASDOOR_USER_KIND ? wanted.users : wanted.groups;
}
