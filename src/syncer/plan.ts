import type { RemovedUsersPolicy } from '../api/wecom-syncer.ts';
import type { DesiredObject } from './desired.ts';
import { removalLimit } from '../shared/limit.ts';
import type { StoredObject } from './stored.ts';

/** What one sync must write for one kind. */
export interface Plan {
  create: DesiredObject[];
  update: DesiredObject[];
  /** Stored objects whose source is gone and that the policy removes (forbids or deletes). */
  remove: StoredObject[];
  unchanged: number;
  /** Set when the removals exceed the guard: then `remove` is empty and this says how many would have gone. */
  blockedRemovals?: { wanted: number; limit: number };
  /** After the plan is applied: objects of this syncer, and those forbidden. */
  total: number;
  forbidden: number;
  /**
   * Every desired object's fingerprint, by name: what the sync wants, kept until the next one to tell
   * hand edits from its own writes. For an object already stored as wanted, the stored object's own
   * name and fingerprint, not equal copies: the cache keeps those anyway (100,000 copies are about 8 MB).
   */
  wanted: Map<string, string>;
}

/** Inputs of {@link planSync}. */
export interface PlanInput {
  /**
   * What the sync wants, one object per name. Read once, in order: from a generator, each object
   * found unchanged can go as soon as it is judged (at 100,000 members about 20 MB less at the peak).
   */
  desired: Iterable<DesiredObject>;
  stored: ReadonlyMap<string, StoredObject>;
  /**
   * Objects this sync has already created, by name, with the fingerprint each was created with: judged as
   * stored with it while the cache does not show them yet. Counted neither as unchanged nor as writes.
   */
  created?: ReadonlyMap<string, string>;
  /** Names never removed: members WeCom sent malformed, whose presence is unknown. */
  protectedNames?: ReadonlySet<string>;
  policy: RemovedUsersPolicy;
  /** The spec's maxRemovals: a count or a percentage of the stored objects. */
  maxRemovals: number | string;
}

/**
 * Diffs what a sync wants against what is stored. Pure. Objects whose digest
 * matches are not written; objects gone from the source are removed per the
 * policy, unless more would go than the guard allows, in which case none go.
 */
export function planSync(input: PlanInput): Plan {
  const create: DesiredObject[] = [];
  const update: DesiredObject[] = [];
  const wanted = new Map<string, string>();
  let unchanged = 0;
  let forbidden = 0;
  for (const desired of input.desired) {
    const stored = input.stored.get(desired.name);
    // The cache's version first: once it shows an object created early, a hand edit since is in it.
    const created = input.created?.get(desired.name);
    const fingerprint = stored?.fingerprint ?? created;
    if (desired.isForbidden) forbidden++;
    if (fingerprint === desired.fingerprint) {
      if (created === undefined) unchanged++;
      wanted.set(stored?.metadata.name ?? desired.name, fingerprint);
      continue;
    }
    (stored || created !== undefined ? update : create).push(desired);
    wanted.set(desired.name, desired.fingerprint);
  }

  const gone: StoredObject[] = [];
  let kept = 0;
  for (const [name, stored] of input.stored) {
    if (wanted.has(name)) continue;
    const alreadyRemoved = input.policy === 'Forbid' && stored.removed && stored.isForbidden;
    if (input.policy === 'Keep' || alreadyRemoved || input.protectedNames?.has(name)) {
      kept++;
      if (stored.isForbidden || alreadyRemoved) forbidden++;
      continue;
    }
    gone.push(stored);
  }

  // Of the objects there were before this sync: those it created itself do not raise the guard's limit.
  let before = input.stored.size;
  for (const name of input.created?.keys() ?? []) if (input.stored.has(name)) before--;
  const limit = removalLimit(input.maxRemovals, before);
  const blocked = gone.length > limit;
  const remove = blocked ? [] : gone;
  // Blocked removals stay as they are; Forbid removals end forbidden; Delete removals end gone.
  const stays = blocked ? gone : input.policy === 'Forbid' ? gone : [];
  for (const stored of stays) if (stored.isForbidden || (!blocked && input.policy === 'Forbid')) forbidden++;
  const plan: Plan = {
    create,
    update,
    remove,
    unchanged,
    total: wanted.size + kept + stays.length,
    forbidden,
    wanted,
  };
  if (blocked) plan.blockedRemovals = { wanted: gone.length, limit };
  return plan;
}

/** What putting back hand edits writes, for one kind. */
export interface RepairPlan {
  create: DesiredObject[];
  update: DesiredObject[];
  /** Objects that no longer match, with no version known to put back: only a sync can. */
  unknown: string[];
}

/** Inputs of {@link planRepair}. */
export interface RepairInput {
  /** What the last sync wrote: fingerprints by name. */
  wanted: ReadonlyMap<string, string>;
  stored: ReadonlyMap<string, StoredObject>;
  /** Objects seen edited or deleted by hand, each with its last version that still matched, when known. */
  edited: ReadonlyMap<string, StoredObject | undefined> | undefined;
  /** The desired object a matching stored version stands for. */
  toDesired(stored: StoredObject): DesiredObject;
}

/**
 * Plans to put back each object seen edited or deleted by hand that still
 * does not match what the last sync wrote, from its last version that did.
 * Pure. Only objects the cache showed changing are looked at: one the sync
 * wrote that the cache has not shown yet is no edit.
 */
export function planRepair(input: RepairInput): RepairPlan {
  const plan: RepairPlan = { create: [], update: [], unknown: [] };
  for (const [name, saved] of input.edited ?? []) {
    const fingerprint = input.wanted.get(name);
    const stored = input.stored.get(name);
    if (fingerprint === undefined || stored?.fingerprint === fingerprint) continue;
    const desired = saved?.fingerprint === fingerprint ? input.toDesired(saved) : undefined;
    if (!desired || desired.fingerprint !== fingerprint) plan.unknown.push(name);
    else if (stored) plan.update.push(desired);
    else plan.create.push(desired);
  }
  return plan;
}
