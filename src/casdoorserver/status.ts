import type { CasdoorServer, CasdoorServerStatus, PushCounts, PushFailure, SelectionCounts } from '../api/casdoor-server.ts';
import { ConditionType, Reason, removeCondition, setCondition } from '../api/conditions.ts';
import type { Condition } from '../api/wecom-syncer.ts';
import type { FailedOutcome } from '../shared/outcome.ts';

/** The most failures kept in status. */
export const MAX_FAILURES = 20;

/** Deletions the guard held back: how many would go, and the limit. */
export interface BlockedDeletions {
  wanted: number;
  limit: number;
}

/** Where the selected objects stand after the latest writes. */
export interface Standing {
  users: SelectionCounts;
  groups: SelectionCounts;
  /** Objects not written, newest first. */
  failures: PushFailure[];
  blocked?: BlockedDeletions;
}

/** How a reconcile that ran ended: the one input from which the final status is computed. */
export type PushOutcome =
  | ({ kind: 'compared'; counts: PushCounts } & Standing)
  | { kind: 'suspended'; organizations: number }
  | FailedOutcome;

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The sentence for deletions the guard held back. */
export function blockedMessage(blocked: BlockedDeletions): string {
  return `Deletions blocked: ${plural(blocked.wanted, 'user')} would be deleted from Casdoor, more than spec.maxDeletions allows ` +
    `(${blocked.limit}), so none was; creates and updates go on. If they should go, raise spec.maxDeletions; otherwise bring all of their CasdoorUsers back (the block lifts when none is missing).`;
}

function standingMessage(standing: Standing, counts?: PushCounts): string {
  const { users, groups } = standing;
  const wrote = counts
    ? `: ${counts.created} created, ${counts.updated} updated, ${counts.adopted} adopted, ${counts.deleted} deleted` +
      (counts.groupsCreated + counts.groupsUpdated + counts.groupsDeleted > 0 ? `; groups ${counts.groupsCreated} created, ${counts.groupsUpdated} updated, ${counts.groupsDeleted} deleted` : '')
    : '';
  const failed = users.failed + groups.failed;
  const skipped = users.skipped + groups.skipped;
  return `${users.inSync}/${plural(users.selected, 'user')} and ${groups.inSync}/${plural(groups.selected, 'group')} in sync with Casdoor${wrote}` +
    (failed > 0 ? `; ${plural(failed, 'object')} not written (see status.failures)` : '') +
    (skipped > 0 ? `; ${skipped} already in Casdoor and skipped (existingUsers: Skip)` : '');
}

/** Sets Ready (and Stalled for blocked deletions) from where the objects stand. */
function standingConditions(conditions: Condition[], standing: Standing, set: (c: Condition[], type: string, status: Condition['status'], reason: string, message: string) => Condition[], counts?: PushCounts): Condition[] {
  if (standing.blocked) {
    const message = blockedMessage(standing.blocked);
    conditions = set(conditions, ConditionType.Ready, 'False', Reason.DeletionsBlocked, message);
    return set(conditions, ConditionType.Stalled, 'True', Reason.DeletionsBlocked, message);
  }
  conditions = removeCondition(conditions, ConditionType.Stalled);
  // Objects Casdoor refused for their own content do not make the server unready: they are listed.
  return set(conditions, ConditionType.Ready, 'True', Reason.Synced, standingMessage(standing, counts));
}

function stamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

function withStanding(status: CasdoorServerStatus, standing: Standing): void {
  status.users = standing.users;
  status.groups = standing.groups;
  status.usersInSync = `${standing.users.inSync}/${standing.users.selected}`;
  status.failures = standing.failures.slice(0, MAX_FAILURES);
}

/** The status after a full comparison, a suspended connection test, or a failure. Pure. */
export function finalServerStatus(server: CasdoorServer, outcome: PushOutcome, now: Date, nextSyncAt: Date, request: string | undefined): CasdoorServerStatus {
  const previous = server.status ?? {};
  const generation = server.metadata.generation;
  const set = (conditions: Condition[], type: string, status: Condition['status'], reason: string, message: string): Condition[] =>
    setCondition(conditions, { type, status, reason, message, ...(generation !== undefined && { observedGeneration: generation }) }, now);
  let conditions = removeCondition(previous.conditions ?? [], ConditionType.Reconciling);
  const status: CasdoorServerStatus = { ...previous, lastSyncTime: stamp(now), nextSyncTime: stamp(nextSyncAt), failedInputsDigest: null };
  if (generation !== undefined) status.observedGeneration = generation;
  if (request !== undefined) status.lastHandledSyncRequest = request;
  const connectedMessage = `Credentials accepted and ${plural(server.spec.organizations.length, 'organization')} found`;
  switch (outcome.kind) {
    case 'compared':
      conditions = set(conditions, ConditionType.Connected, 'True', Reason.Connected, connectedMessage);
      conditions = standingConditions(conditions, outcome, set, outcome.counts);
      withStanding(status, outcome);
      status.lastSync = outcome.counts;
      if (!outcome.blocked) status.lastSuccessfulSyncTime = stamp(now);
      break;
    case 'suspended':
      conditions = removeCondition(conditions, ConditionType.Stalled);
      conditions = set(conditions, ConditionType.Connected, 'True', Reason.Connected, connectedMessage);
      conditions = set(conditions, ConditionType.Ready, 'False', Reason.Suspended, 'Suspended: the connection works; nothing is written to Casdoor until spec.suspend is false');
      break;
    case 'failed':
      if (outcome.connected === false) conditions = set(conditions, ConditionType.Connected, 'False', outcome.reason, outcome.message);
      else if (outcome.connected === 'unknown' || !conditions.some((c) => c.type === ConditionType.Connected)) {
        conditions = set(conditions, ConditionType.Connected, 'Unknown', outcome.reason, `The connection was not tested: ${outcome.message}`);
      }
      conditions = set(conditions, ConditionType.Ready, 'False', outcome.reason, outcome.message);
      conditions = outcome.stalled ? set(conditions, ConditionType.Stalled, 'True', outcome.reason, outcome.message) : removeCondition(conditions, ConditionType.Stalled);
      if (outcome.failedInputsDigest) status.failedInputsDigest = outcome.failedInputsDigest;
      break;
  }
  status.conditions = order(conditions);
  return status;
}

/** The status after changes were pushed between comparisons: where the objects stand now. Pure. */
export function pushedStatus(server: CasdoorServer, standing: Standing, now: Date): CasdoorServerStatus {
  const previous = server.status ?? {};
  const generation = server.metadata.generation;
  const set = (conditions: Condition[], type: string, status: Condition['status'], reason: string, message: string): Condition[] =>
    setCondition(conditions, { type, status, reason, message, ...(generation !== undefined && { observedGeneration: generation }) }, now);
  const status: CasdoorServerStatus = { ...previous };
  withStanding(status, standing);
  status.conditions = order(standingConditions(previous.conditions ?? [], standing, set));
  return status;
}

/** The status written when a full comparison starts. */
export function comparingStatus(server: CasdoorServer, now: Date): CasdoorServerStatus {
  const generation = server.metadata.generation;
  const extra = generation !== undefined ? { observedGeneration: generation } : {};
  let conditions = setCondition(removeCondition(server.status?.conditions ?? [], ConditionType.Stalled),
    { type: ConditionType.Reconciling, status: 'True', reason: Reason.Progressing, message: 'comparing with Casdoor', ...extra }, now);
  if (!conditions.some((c) => c.type === ConditionType.Ready) || server.status?.observedGeneration !== generation) {
    conditions = setCondition(conditions, { type: ConditionType.Ready, status: 'Unknown', reason: Reason.Progressing, message: 'Comparing with Casdoor', ...extra }, now);
  }
  return { ...server.status, conditions: order(conditions) };
}

const ORDER: readonly string[] = [ConditionType.Ready, ConditionType.Connected, ConditionType.Reconciling, ConditionType.Stalled];

function order(conditions: Condition[]): Condition[] {
  return [...conditions].sort((a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type));
}
