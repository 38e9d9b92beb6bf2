import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ANNOTATION_EVENT_RECEIVED_AT, ANNOTATION_SYNC_REQUESTED_AT } from '../../src/api/group.ts';
import type { Condition, WeComSyncerSpec, WeComSyncerStatus } from '../../src/api/wecom-syncer.ts';
import { decideSync, EVENT_SYNC_MIN_MS, intervalMs, jitterFraction, stalledRecheckMs, SyncTrigger } from '../../src/shared/schedule.ts';
import { makeSyncer } from '../support/syncer-fixtures.ts';

const test = suite('schedule');
const HOUR = 3_600_000;
const lastSync = new Date('2026-11-26T10:00:00Z');
const at = (ms: number): Date => new Date(lastSync.getTime() + ms);
const condition = (type: string, status: Condition['status'], reason = 'Synced'): Condition =>
  ({ type, status, reason, message: '', lastTransitionTime: '2026-11-26T10:00:00Z', observedGeneration: 1 });

/** A syncer whose last sync of generation 1 finished at `lastSync` and left Ready True. */
function synced(
  options: { conditions?: Condition[]; status?: WeComSyncerStatus; annotations?: Record<string, string>; generation?: number; spec?: Partial<WeComSyncerSpec> } = {},
) {
  return makeSyncer({
    generation: options.generation ?? 1,
    ...(options.annotations && { annotations: options.annotations }),
    ...(options.spec && { spec: options.spec }),
    status: {
      observedGeneration: 1,
      lastSyncTime: lastSync.toISOString(),
      conditions: options.conditions ?? [condition('Ready', 'True')],
      ...options.status,
    },
  });
}

test('a syncer that never synced syncs now', () => {
  const decision = decideSync(makeSyncer(), lastSync);
  assert.is(decision.trigger, SyncTrigger.FirstSync);
});

test('a new generation syncs now', () => {
  assert.is(decideSync(synced({ generation: 2 }), at(1000)).trigger, SyncTrigger.NewGeneration);
});

test('a settled syncer is not due before its interval', () => {
  assert.is(decideSync(synced(), at(1000)).trigger, undefined);
});

test('a new sync-request annotation syncs now', () => {
  const syncer = synced({ annotations: { [ANNOTATION_SYNC_REQUESTED_AT]: 'b' }, status: { lastHandledSyncRequest: 'a' } });
  assert.is(decideSync(syncer, at(1000)).trigger, SyncTrigger.SyncRequested);
});

test('a first sync-request annotation syncs now', () => {
  const syncer = synced({ annotations: { [ANNOTATION_SYNC_REQUESTED_AT]: 'a' } });
  assert.is(decideSync(syncer, at(1000)).trigger, SyncTrigger.SyncRequested);
});

test('a request already answered is not due again', () => {
  const syncer = synced({ annotations: { [ANNOTATION_SYNC_REQUESTED_AT]: 'a' }, status: { lastHandledSyncRequest: 'a' } });
  assert.is(decideSync(syncer, at(1000)).trigger, undefined);
});

test('a sync left Reconciling by a stopped process runs again', () => {
  const syncer = synced({ conditions: [condition('Ready', 'Unknown'), condition('Reconciling', 'True')] });
  assert.is(decideSync(syncer, at(1000)).trigger, SyncTrigger.Interrupted);
});

test('a failure a retry may fix is due again', () => {
  const syncer = synced({ conditions: [condition('Ready', 'False', 'SyncFailed')] });
  assert.is(decideSync(syncer, at(1000)).trigger, SyncTrigger.PreviousFailed);
});

test('a stalled failure waits for a human, not for a retry', () => {
  const syncer = synced({ conditions: [condition('Ready', 'False', 'InvalidSecret'), condition('Stalled', 'True', 'InvalidSecret')] });
  assert.is(decideSync(syncer, at(1000)).trigger, undefined);
});

test('a suspended syncer whose connection test passed is not tested again before the interval', () => {
  const syncer = synced({ spec: { suspend: true }, conditions: [condition('Ready', 'False', 'Suspended')] });
  assert.is(decideSync(syncer, at(1000)).trigger, undefined);
});

test('a suspended syncer whose connection test failed for a retryable cause is tested again', () => {
  for (const reason of ['SecretNotFound', 'Unreachable', 'Busy', 'RateLimited']) {
    const syncer = synced({ spec: { suspend: true }, conditions: [condition('Ready', 'False', reason)] });
    assert.is(decideSync(syncer, at(1000)).trigger, SyncTrigger.PreviousFailed, reason);
  }
});

test('a suspended syncer stalled on its credentials waits for a human', () => {
  const syncer = synced({ spec: { suspend: true }, conditions: [condition('Ready', 'False', 'InvalidSecret'), condition('Stalled', 'True', 'InvalidSecret')] });
  assert.is(decideSync(syncer, at(1000)).trigger, undefined);
});

test('the interval elapses at interval times (1 + jitter) after the last sync', () => {
  const syncer = synced();
  const interval = intervalMs(syncer);
  assert.is(decideSync(syncer, at(interval - 1)).trigger, undefined);
  assert.is(decideSync(syncer, at(interval)).trigger, SyncTrigger.IntervalElapsed);
});

test('the jitter stretches the interval by less than 5%', () => {
  const interval = intervalMs(synced());
  assert.ok(interval >= HOUR && interval < HOUR * 1.05, String(interval));
  for (let i = 0; i < 200; i++) {
    const fraction = jitterFraction(`uid-${i}`);
    assert.ok(fraction >= 0 && fraction < 0.05, `${i}: ${fraction}`);
  }
});

test('the jitter is stable per uid and differs between uids', () => {
  assert.is(jitterFraction('uid-a'), jitterFraction('uid-a'));
  const fractions = new Set(Array.from({ length: 20 }, (_, i) => jitterFraction(`uid-${i}`)));
  assert.ok(fractions.size > 15, String(fractions.size));
});

test('a restart decides the same as the process before it', () => {
  const syncer = synced({ annotations: { [ANNOTATION_SYNC_REQUESTED_AT]: 'a' }, status: { lastHandledSyncRequest: 'a' } });
  const restored = structuredClone(syncer);
  for (const now of [at(1000), at(HOUR), at(2 * HOUR)]) {
    assert.equal(decideSync(restored, now), decideSync(syncer, now));
  }
});

test('when not due, the next sync is the last sync plus the interval', () => {
  const syncer = synced();
  const decision = decideSync(syncer, at(1000));
  assert.is(decision.nextSyncAt.getTime(), at(intervalMs(syncer)).getTime());
});

test('when a sync runs now, the next is one interval from now', () => {
  const syncer = synced({ generation: 2 });
  const now = at(5000);
  assert.is(decideSync(syncer, now).nextSyncAt.getTime(), Math.floor(now.getTime() + intervalMs(syncer)));
});

test('a stalled syncer re-reads its Secret 5 s after the stall, then at half the time stalled, at least once a minute', () => {
  const since = '2026-11-26T10:00:00Z';
  const after = (seconds: number): Date => new Date(Date.parse(since) + seconds * 1000);
  assert.is(stalledRecheckMs(since, after(0)), 5_000);
  assert.is(stalledRecheckMs(since, after(8)), 5_000);
  assert.is(stalledRecheckMs(since, after(30)), 15_000);
  assert.is(stalledRecheckMs(since, after(120)), 60_000);
  assert.is(stalledRecheckMs(since, after(86_400)), 60_000);
  assert.is(stalledRecheckMs(undefined, after(0)), 60_000);
  assert.is(stalledRecheckMs('not a time', after(0)), 60_000);
});

const callback = { tokenRef: { name: 'cb', key: 'callbackToken' }, encodingAESKeyRef: { name: 'cb', key: 'encodingAESKey' } };

test('a new event mark syncs once 10 s have passed since the last sync; until then it waits for them', () => {
  const marked = synced({ annotations: { [ANNOTATION_EVENT_RECEIVED_AT]: '2026-11-26T10:00:03.000Z' }, spec: { callback } });
  const early = decideSync(marked, at(4000));
  assert.is(early.trigger, undefined, 'within 10 s of a sync: no sync yet');
  assert.is(early.nextSyncAt.getTime(), at(EVENT_SYNC_MIN_MS).getTime(), 'requeued for the end of the spacing, not the interval');
  assert.is(decideSync(marked, at(EVENT_SYNC_MIN_MS)).trigger, SyncTrigger.EventReceived);
});

test('an event mark the last sync answered, or none, syncs nothing before the interval', () => {
  const answered = synced({ annotations: { [ANNOTATION_EVENT_RECEIVED_AT]: 'mark-1' }, status: { callback: { lastHandledEvent: 'mark-1' } }, spec: { callback } });
  const decision = decideSync(answered, at(60_000));
  assert.is(decision.trigger, undefined);
  assert.ok(decision.nextSyncAt.getTime() >= at(HOUR).getTime());
  assert.is(decideSync(synced(), at(60_000)).trigger, undefined);
  // Events turned off: the mark left behind asks for nothing, and status.callback (now null) cannot answer it.
  assert.is(decideSync(synced({ annotations: { [ANNOTATION_EVENT_RECEIVED_AT]: 'mark-2' } }), at(60_000)).trigger, undefined);
});

test.run();
