import { ConditionType, Reason, removeCondition, setCondition } from '../api/conditions.ts';
import type { Condition, SyncCounts, WeComSyncer, WeComSyncerStatus } from '../api/wecom-syncer.ts';
import type { FailedOutcome } from '../shared/outcome.ts';

/** How a reconcile that ran ended: the one input from which the final status is computed. */
export type SyncOutcome =
  | {
      kind: 'synced';
      departments: number;
      users: { total: number; active: number; forbidden: number };
      counts: Required<SyncCounts>;
      /** Removals the guard held back, users and groups. */
      blocked?: { users?: { wanted: number; limit: number }; groups?: { wanted: number; limit: number } };
      /** Member records WeCom sent malformed, left as they are: how many, and a few as "userid: reason". */
      rejected?: { count: number; examples: string[] };
    }
  | { kind: 'suspended'; departments: number }
  | FailedOutcome;

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The sentence Ready carries after a successful sync. */
function syncedMessage(outcome: Extract<SyncOutcome, { kind: 'synced' }>): string {
  const c = outcome.counts;
  const groups = c.groupsCreated + c.groupsUpdated + c.groupsRemoved > 0
    ? `; groups: ${c.groupsCreated} created, ${c.groupsUpdated} updated, ${c.groupsRemoved} removed`
    : '';
  const rejected = outcome.rejected && outcome.rejected.count > 0
    ? `. ${plural(outcome.rejected.count, 'member record')} from WeCom malformed and left as they are ` +
      `(${outcome.rejected.examples.join('; ')}${outcome.rejected.count > outcome.rejected.examples.length ? '; …' : ''}): see the operator log`
    : '';
  return `Synced ${plural(outcome.users.total, 'user')} from ${plural(outcome.departments, 'department')}: ` +
    `${c.created} created, ${c.updated} updated, ${c.removed} removed, ${c.unchanged} unchanged${groups}${rejected}`;
}

/** The sentence for removals the guard held back. */
export function blockedMessage(blocked: NonNullable<Extract<SyncOutcome, { kind: 'synced' }>['blocked']>): string {
  const parts: string[] = [];
  if (blocked.users) parts.push(`${plural(blocked.users.wanted, 'user')} (limit ${blocked.users.limit})`);
  if (blocked.groups) parts.push(`${plural(blocked.groups.wanted, 'group')} (limit ${blocked.groups.limit})`);
  return `Removal blocked: the sync would remove ${parts.join(' and ')}, more than spec.maxRemovals allows, so it ` +
    'removed none (creates and updates were applied). If WeCom is right, raise spec.maxRemovals; otherwise fix WeCom; then request a sync.';
}

/**
 * The status after a reconcile: conditions, times, counts. Pure, and the only
 * place the final status is decided.
 */
export function finalStatus(syncer: WeComSyncer, outcome: SyncOutcome, now: Date, nextSyncAt: Date, request: string | undefined, callback: CallbackReport = {}): WeComSyncerStatus {
  const { callback: _receiverCounts, ...previous } = syncer.status ?? {};
  const generation = syncer.metadata.generation;
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  let conditions: Condition[] = removeCondition(previous.conditions ?? [], ConditionType.Reconciling);
  const set = (type: string, status: Condition['status'], reason: string, message: string): void => {
    conditions = setCondition(conditions, { type, status, reason, message, ...(generation !== undefined && { observedGeneration: generation }) }, now);
  };
  const status: WeComSyncerStatus = { ...previous, lastSyncTime: stamp, nextSyncTime: nextSyncAt.toISOString().replace(/\.\d+Z$/, 'Z') };
  if (generation !== undefined) status.observedGeneration = generation;
  if (request !== undefined) status.lastHandledSyncRequest = request;
  const callbackReport = callbackStatus(syncer, callback);
  if (callbackReport !== undefined) status.callback = callbackReport;

  switch (outcome.kind) {
    case 'synced': {
      set(ConditionType.Connected, 'True', Reason.Connected, `Token issued and ${plural(outcome.departments, 'department')} listed`);
      status.departments = outcome.departments;
      status.users = outcome.users;
      status.lastSync = outcome.counts;
      const groupsFailed = outcome.counts.groupsFailed;
      if (outcome.blocked) {
        const message = blockedMessage(outcome.blocked);
        set(ConditionType.Ready, 'False', Reason.RemovalsBlocked, message);
        set(ConditionType.Stalled, 'True', Reason.RemovalsBlocked, message);
      } else if (outcome.counts.failed + groupsFailed > 0) {
        conditions = removeCondition(conditions, ConditionType.Stalled);
        set(ConditionType.Ready, 'False', Reason.WriteFailed,
          `${plural(outcome.counts.failed + groupsFailed, 'object')} could not be written; retrying with backoff. ${syncedMessage(outcome)}`);
      } else {
        conditions = removeCondition(conditions, ConditionType.Stalled);
        set(ConditionType.Ready, 'True', Reason.Synced, syncedMessage(outcome));
        status.lastSuccessfulSyncTime = stamp;
      }
      break;
    }
    case 'suspended':
      conditions = removeCondition(conditions, ConditionType.Stalled);
      set(ConditionType.Connected, 'True', Reason.Connected, `Token issued and ${plural(outcome.departments, 'department')} listed`);
      set(ConditionType.Ready, 'False', Reason.Suspended, 'Suspended: the connection works; no user is written until spec.suspend is false');
      break;
    case 'failed':
      if (outcome.connected === false) set(ConditionType.Connected, 'False', outcome.reason, outcome.message);
      else if (outcome.connected === true) set(ConditionType.Connected, 'True', Reason.Connected, 'Token issued and departments listed');
      else if (outcome.connected === 'unknown' || !conditions.some((c) => c.type === ConditionType.Connected)) {
        set(ConditionType.Connected, 'Unknown', outcome.reason, 'The connection was not tested: ' + outcome.message);
      }
      set(ConditionType.Ready, 'False', outcome.reason, outcome.message);
      if (outcome.stalled) set(ConditionType.Stalled, 'True', outcome.reason, outcome.message);
      else conditions = removeCondition(conditions, ConditionType.Stalled);
      break;
  }
  // Kept only while stalled on what it describes; null, so the merge patch removes a stored one.
  status.failedInputsDigest = outcome.kind === 'failed' && outcome.failedInputsDigest ? outcome.failedInputsDigest : null;
  status.conditions = orderConditions(conditions);
  return status;
}

/** The status written when a sync starts, and for its progress: Reconciling with a message. */
export function progressStatus(syncer: WeComSyncer, message: string, now: Date, readyUnknown: boolean): WeComSyncerStatus {
  const generation = syncer.metadata.generation;
  const extra = generation !== undefined ? { observedGeneration: generation } : {};
  // Stalled is present only while nothing improves without a human; a running sync is trying.
  let conditions = setCondition(removeCondition(syncer.status?.conditions ?? [], ConditionType.Stalled), { type: ConditionType.Reconciling, status: 'True', reason: Reason.Progressing, message, ...extra }, now);
  if (readyUnknown || !conditions.some((c) => c.type === ConditionType.Ready)) {
    conditions = setCondition(conditions, { type: ConditionType.Ready, status: 'Unknown', reason: Reason.Progressing, message: `Sync in progress: ${message}`, ...extra }, now);
  }
  const { callback: _receiverCounts, ...previous } = syncer.status ?? {};
  return { ...previous, conditions: orderConditions(conditions) };
}

/** What a sync says of the event receiver: its path and the event mark answered. */
interface CallbackReport {
  path?: string;
  /** The casdoor.org/event-received-at value the sync started with. */
  event?: string;
}

/**
 * The part of status.callback the reconciler writes. eventsReceived and
 * lastEventTime are the receivers' (any replica counts what it receives), so
 * they are left out: status is written as a merge patch, and a stale copy of
 * them would undo their counts. Null once spec.callback is gone.
 */
function callbackStatus(syncer: WeComSyncer, report: CallbackReport): WeComSyncerStatus['callback'] {
  if (!syncer.spec.callback) return syncer.status?.callback ? null : undefined;
  const path = report.path ?? syncer.status?.callback?.path;
  const lastHandledEvent = report.event ?? syncer.status?.callback?.lastHandledEvent;
  return { ...(path !== undefined && { path }), ...(lastHandledEvent !== undefined && { lastHandledEvent }) };
}

const ORDER: readonly string[] = [ConditionType.Ready, ConditionType.Connected, ConditionType.Reconciling, ConditionType.Stalled];

function orderConditions(conditions: Condition[]): Condition[] {
  return [...conditions].sort((a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type));
}
