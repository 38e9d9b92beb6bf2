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
}

/** Inputs of {@link planSync}. */
export interface PlanInput {
  desired: ReadonlyMap<string, DesiredObject>;
  stored: ReadonlyMap<string, StoredObject>;
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
  let unchanged = 0;
  let forbidden = 0;
  for (const [name, desired] of input.desired) {
    const stored = input.stored.get(name);
    if ((desired.spec as { isForbidden?: boolean }).isForbidden) forbidden++;
    if (!stored) create.push(desired);
    else if (stored.fingerprint !== desired.fingerprint) update.push(desired);
    else unchanged++;
  }

  const gone: StoredObject[] = [];
  let kept = 0;
  for (const [name, stored] of input.stored) {
    if (input.desired.has(name)) continue;
    const alreadyRemoved = input.policy === 'Forbid' && stored.removed && stored.isForbidden;
    if (input.policy === 'Keep' || alreadyRemoved || input.protectedNames?.has(name)) {
      kept++;
      if (stored.isForbidden || alreadyRemoved) forbidden++;
      continue;
    }
    gone.push(stored);
  }

  const limit = removalLimit(input.maxRemovals, input.stored.size);
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
    total: input.desired.size + kept + stays.length,
    forbidden,
  };
  if (blocked) plan.blockedRemovals = { wanted: gone.length, limit };
  return plan;
}
