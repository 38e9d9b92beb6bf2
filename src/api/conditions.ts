import type { Condition } from './wecom-syncer.ts';

/** Condition types of a WeComSyncer and a CasdoorServer. */
export const ConditionType = {
  Ready: 'Ready',
  Connected: 'Connected',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Every reason the operator writes, in one place. WeCom causes come from the client's error reasons. */
export const Reason = {
  Synced: 'Synced',
  Syncing: 'Syncing',
  Progressing: 'Progressing',
  Suspended: 'Suspended',
  Connected: 'Connected',
  SecretNotFound: 'SecretNotFound',
  SecretInvalid: 'SecretInvalid',
  InsecureAPIURL: 'InsecureAPIURL',
  URLNotAllowed: 'URLNotAllowed',
  RemovalsBlocked: 'RemovalsBlocked',
  WriteFailed: 'WriteFailed',
  SyncFailed: 'SyncFailed',
  DeletionsBlocked: 'DeletionsBlocked',
} as const;

/** The condition of `type` in `conditions`, if present. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/** True when `type` is present with status True. */
export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * Sets a condition, keeping its lastTransitionTime when the status did not
 * change (as metav1 does), and returns the new list.
 */
export function setCondition(
  conditions: readonly Condition[],
  update: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const previous = findCondition(conditions, update.type);
  const lastTransitionTime =
    previous && previous.status === update.status ? previous.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z');
  const next: Condition = { ...update, lastTransitionTime };
  return previous
    ? conditions.map((condition) => (condition.type === update.type ? next : condition))
    : [...conditions, next];
}

/** Removes the condition of `type`. */
export function removeCondition(conditions: readonly Condition[], type: string): Condition[] {
  return conditions.filter((condition) => condition.type !== type);
}
