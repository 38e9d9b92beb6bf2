import { createHash } from 'node:crypto';
import { ANNOTATION_EVENT_RECEIVED_AT, ANNOTATION_SYNC_REQUESTED_AT } from '../api/group.ts';
import { ConditionType, findCondition, isTrue, Reason } from '../api/conditions.ts';
import type { Condition } from '../api/wecom-syncer.ts';
import { parseGoDuration } from './duration.ts';

/** Why a sync runs now. */
export const SyncTrigger = {
  FirstSync: 'first sync',
  NewGeneration: 'spec changed',
  SyncRequested: 'sync requested',
  EventReceived: 'WeCom sent a contact-change event',
  Interrupted: 'previous sync was interrupted',
  PreviousFailed: 'previous sync failed',
  IntervalElapsed: 'interval elapsed',
  SecretChanged: 'Secret changed',
  EditedByHand: 'objects were changed by hand',
} as const;
export type SyncTrigger = (typeof SyncTrigger)[keyof typeof SyncTrigger];

/**
 * What scheduling reads of an object: a WeComSyncer, or a CasdoorServer (whose full
 * comparisons follow the same rules).
 */
export interface Scheduled {
  metadata: { name: string; uid?: string; generation?: number; annotations?: Record<string, string> };
  spec: { interval: string; callback?: unknown };
  status?: {
    lastSyncTime?: string;
    observedGeneration?: number;
    lastHandledSyncRequest?: string;
    conditions?: Condition[];
    callback?: { lastHandledEvent?: string } | null;
  };
}

/** Whether a sync is due, and when the next scheduled one is. */
export interface SyncDecision {
  trigger?: SyncTrigger;
  /** When the interval next elapses, counted from the last sync (or from now when one runs now). */
  nextSyncAt: Date;
}

/** The least time from the end of a sync to a sync for events: a burst of them is one sync, and WeCom is spared. */
export const EVENT_SYNC_MIN_MS = 10_000;

/** The most the interval is stretched, so that syncers created together do not sync together forever. */
const MAX_JITTER = 0.05;

/**
 * A fixed fraction in [0, MAX_JITTER) per syncer, from its uid: stable across
 * operator restarts, so a restart neither skips a due sync nor reshuffles them
 * into a storm.
 */
export function jitterFraction(uid: string): number {
  const value = createHash('sha256').update(uid).digest().readUInt32BE(0);
  return (value / 0x1_0000_0000) * MAX_JITTER;
}

/** The interval of a syncer with its jitter, in ms. */
export function intervalMs(syncer: Scheduled): number {
  return parseGoDuration(syncer.spec.interval) * (1 + jitterFraction(syncer.metadata.uid ?? syncer.metadata.name));
}

/**
 * Decides from the object alone (spec, annotation, status) whether a sync is
 * due. Pure: everything it needs is in the stored object, so a restarted
 * operator decides exactly as the one before it.
 */
export function decideSync(syncer: Scheduled, now: Date): SyncDecision {
  const status = syncer.status ?? {};
  const interval = intervalMs(syncer);
  const request = syncer.metadata.annotations?.[ANNOTATION_SYNC_REQUESTED_AT];
  const last = status.lastSyncTime ? Date.parse(status.lastSyncTime) : Number.NaN;
  const dueAt = new Date(Number.isNaN(last) ? now.getTime() : last + interval);
  const runNow = (trigger: SyncTrigger): SyncDecision => ({ trigger, nextSyncAt: new Date(now.getTime() + interval) });

  if (Number.isNaN(last)) return runNow(SyncTrigger.FirstSync);
  if (status.observedGeneration !== syncer.metadata.generation) return runNow(SyncTrigger.NewGeneration);
  if (request !== undefined && request !== status.lastHandledSyncRequest) return runNow(SyncTrigger.SyncRequested);
  // Events since the last sync: one sync for all of them, at most one every 10 seconds.
  // Only while events are on: a mark left from before spec.callback was removed asks for nothing.
  const event = syncer.spec.callback ? syncer.metadata.annotations?.[ANNOTATION_EVENT_RECEIVED_AT] : undefined;
  const eventDueAt = event !== undefined && event !== status.callback?.lastHandledEvent ? last + EVENT_SYNC_MIN_MS : Number.POSITIVE_INFINITY;
  if (now.getTime() >= eventDueAt) return runNow(SyncTrigger.EventReceived);
  if (isTrue(status.conditions, ConditionType.Reconciling)) return runNow(SyncTrigger.Interrupted);
  // A failure a retry may fix (not Stalled, which waits for a human) is retried,
  // a suspended syncer's connection test included; the work queue's backoff paces
  // the retries. A suspended syncer's own Ready=False (reason Suspended) is no failure.
  const ready = findCondition(status.conditions, ConditionType.Ready);
  if (ready?.status === 'False' && ready.reason !== Reason.Suspended && !isTrue(status.conditions, ConditionType.Stalled)) {
    return runNow(SyncTrigger.PreviousFailed);
  }
  if (now.getTime() >= dueAt.getTime()) return runNow(SyncTrigger.IntervalElapsed);
  return { nextSyncAt: new Date(Math.min(dueAt.getTime(), eventDueAt)) };
}

/** The soonest and the latest re-read of a Secret a syncer is stalled on. */
const STALLED_RECHECK_MIN_MS = 5_000;
const STALLED_RECHECK_MAX_MS = 60_000;

/**
 * When a syncer stalled on its credentials next re-reads its Secrets (a GET,
 * no WeCom call): soon after the stall, when a person is most likely fixing
 * it, then less often, and at least once a minute. Half the time stalled so
 * far, between 5 s and 60 s; from the Stalled condition's transition time, so
 * a restarted operator keeps the pace.
 */
export function stalledRecheckMs(stalledSince: string | undefined, now: Date): number {
  const elapsed = stalledSince ? now.getTime() - Date.parse(stalledSince) : Number.NaN;
  if (!Number.isFinite(elapsed)) return STALLED_RECHECK_MAX_MS;
  return Math.min(STALLED_RECHECK_MAX_MS, Math.max(STALLED_RECHECK_MIN_MS, Math.round(elapsed / 2)));
}
