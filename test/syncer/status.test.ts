import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findCondition } from '../../src/api/conditions.ts';
import type { Condition, WeComSyncerStatus } from '../../src/api/wecom-syncer.ts';
import { finalStatus, progressStatus, type SyncOutcome } from '../../src/syncer/status.ts';
import { makeSyncer } from '../support/syncer-fixtures.ts';

const test = suite('status');
const earlier = new Date('2026-11-26T09:00:00Z');
const now = new Date('2026-11-26T10:00:00.123Z');
const next = new Date('2026-11-26T11:00:00.456Z');

const synced = (extra: Partial<Extract<SyncOutcome, { kind: 'synced' }>> = {}): SyncOutcome => ({
  kind: 'synced',
  departments: 12,
  users: { total: 340, active: 322, forbidden: 18 },
  counts: { created: 3, updated: 1, unchanged: 336, removed: 0, failed: 0, groupsCreated: 0, groupsUpdated: 0, groupsRemoved: 0, groupsFailed: 0 },
  ...extra,
});
const failed = (extra: Partial<Extract<SyncOutcome, { kind: 'failed' }>>): SyncOutcome => ({
  kind: 'failed', reason: 'InvalidSecret', message: 'the secret is wrong (errcode 40001).', stalled: true, connected: false, ...extra,
});

function final(outcome: SyncOutcome, status?: WeComSyncerStatus, generation = 3, request?: string): WeComSyncerStatus {
  return finalStatus(makeSyncer({ generation, ...(status && { status }) }), outcome, now, next, request);
}
function get(status: WeComSyncerStatus, type: string): Condition | undefined {
  return findCondition(status.conditions, type);
}
/** A status as an earlier sync of generation 2 left it. */
function previous(conditions: Array<[string, Condition['status'], string]>): WeComSyncerStatus {
  return {
    observedGeneration: 2,
    conditions: conditions.map(([type, status, reason]) => ({ type, status, reason, message: '', observedGeneration: 2, lastTransitionTime: earlier.toISOString() })),
  };
}

test('a successful sync is Ready True Synced with its counts', () => {
  const status = final(synced());
  const ready = get(status, 'Ready')!;
  assert.is(ready.status, 'True');
  assert.is(ready.reason, 'Synced');
  assert.match(ready.message, 'Synced 340 users from 12 departments: 3 created, 1 updated, 0 removed, 336 unchanged');
  assert.equal(status.users, { total: 340, active: 322, forbidden: 18 });
  assert.is(status.departments, 12);
  assert.is(status.lastSync?.created, 3);
  assert.is(get(status, 'Connected')?.status, 'True');
});

test('malformed member records are counted in Ready, with a few examples', () => {
  const ready = get(final(synced({ rejected: { count: 4, examples: ['lisi: status is not an integer', 'Bob: name is longer than 4096 characters'] } })), 'Ready')!;
  assert.is(ready.status, 'True');
  assert.match(ready.message, '336 unchanged. 4 member records from WeCom malformed and left as they are (lisi: status is not an integer; Bob: name is longer than 4096 characters; …): see the operator log');
  assert.not.match(get(final(synced()), 'Ready')!.message, /malformed/);
});

test('times are whole seconds: last sync, last success and next sync', () => {
  const status = final(synced());
  assert.is(status.lastSyncTime, '2026-11-26T10:00:00Z');
  assert.is(status.lastSuccessfulSyncTime, '2026-11-26T10:00:00Z');
  assert.is(status.nextSyncTime, '2026-11-26T11:00:00Z');
  assert.is(get(status, 'Ready')?.lastTransitionTime, '2026-11-26T10:00:00Z');
});

test('lastTransitionTime is kept when a condition keeps its status', () => {
  const status = final(synced(), previous([['Ready', 'True', 'Synced'], ['Connected', 'True', 'Connected']]));
  assert.is(get(status, 'Ready')?.lastTransitionTime, earlier.toISOString());
  assert.is(get(status, 'Connected')?.lastTransitionTime, earlier.toISOString());
});

test('lastTransitionTime moves when a condition changes status', () => {
  const status = final(synced(), previous([['Ready', 'False', 'SyncFailed']]));
  assert.is(get(status, 'Ready')?.lastTransitionTime, '2026-11-26T10:00:00Z');
});

test('Reconciling is gone when a sync ends, however it ends', () => {
  const running = previous([['Ready', 'Unknown', 'Progressing'], ['Reconciling', 'True', 'Progressing']]);
  for (const outcome of [synced(), { kind: 'suspended', departments: 1 } as const, failed({})]) {
    assert.is(get(final(outcome, running), 'Reconciling'), undefined, outcome.kind);
  }
});

test('blocked removals make Ready False and Stalled True, naming maxRemovals', () => {
  const status = final(synced({ blocked: { users: { wanted: 30, limit: 4 } } }));
  const ready = get(status, 'Ready')!;
  const stalled = get(status, 'Stalled')!;
  assert.is(ready.status, 'False');
  assert.is(ready.reason, 'RemovalsBlocked');
  assert.is(stalled.status, 'True');
  assert.is(stalled.reason, 'RemovalsBlocked');
  assert.match(ready.message, 'spec.maxRemovals');
  assert.match(ready.message, '30 users (limit 4)');
  assert.is(status.lastSuccessfulSyncTime, undefined);
});

test('blocked group removals are named too', () => {
  const status = final(synced({ blocked: { users: { wanted: 2, limit: 1 }, groups: { wanted: 1, limit: 0 } } }));
  assert.match(get(status, 'Ready')!.message, '2 users (limit 1) and 1 group (limit 0)');
});

test('write failures make Ready False WriteFailed, not Stalled', () => {
  const counts = { created: 1, updated: 0, unchanged: 0, removed: 0, failed: 2, groupsCreated: 0, groupsUpdated: 0, groupsRemoved: 0, groupsFailed: 1 };
  const status = final(synced({ counts }), previous([['Stalled', 'True', 'RemovalsBlocked']]));
  const ready = get(status, 'Ready')!;
  assert.is(ready.status, 'False');
  assert.is(ready.reason, 'WriteFailed');
  assert.match(ready.message, '3 objects could not be written');
  assert.is(get(status, 'Stalled'), undefined);
});

test('a success after a blocked sync clears Stalled', () => {
  const status = final(synced(), previous([['Ready', 'False', 'RemovalsBlocked'], ['Stalled', 'True', 'RemovalsBlocked']]));
  assert.is(get(status, 'Stalled'), undefined);
  assert.is(get(status, 'Ready')?.status, 'True');
});

test('a suspended syncer is Connected True and Ready False Suspended', () => {
  const status = final({ kind: 'suspended', departments: 4 }, previous([['Stalled', 'True', 'InvalidSecret']]));
  assert.is(get(status, 'Connected')?.status, 'True');
  const ready = get(status, 'Ready')!;
  assert.is(ready.status, 'False');
  assert.is(ready.reason, 'Suspended');
  assert.is(get(status, 'Stalled'), undefined);
});

test('wrong credentials make Connected False and Stalled True with the WeCom reason', () => {
  const status = final(failed({}));
  for (const type of ['Connected', 'Ready', 'Stalled']) {
    const condition = get(status, type)!;
    assert.is(condition.reason, 'InvalidSecret', type);
    assert.match(condition.message, 'errcode 40001', type);
  }
  assert.is(get(status, 'Connected')?.status, 'False');
  assert.is(get(status, 'Ready')?.status, 'False');
  assert.is(get(status, 'Stalled')?.status, 'True');
});

test('a failure a retry may fix is not Stalled and clears an old Stalled', () => {
  const status = final(failed({ reason: 'RateLimited', stalled: false, connected: false }), previous([['Stalled', 'True', 'InvalidSecret']]));
  assert.is(get(status, 'Stalled'), undefined);
  assert.is(get(status, 'Ready')?.reason, 'RateLimited');
});

test('a missing Secret leaves Connected as it was, or Unknown when never tested', () => {
  const missing = failed({ reason: 'SecretNotFound', stalled: false, connected: 'unchanged' });
  const kept = final(missing, previous([['Connected', 'True', 'Connected']]));
  assert.equal(get(kept, 'Connected'), previous([['Connected', 'True', 'Connected']]).conditions![0]);
  assert.is(get(final(missing), 'Connected')?.status, 'Unknown');
  assert.is(get(kept, 'Stalled'), undefined);
});

test('failed status keeps the counts of the last sync that ran', () => {
  const status = final(failed({}), { ...previous([]), users: { total: 5, active: 5, forbidden: 0 }, departments: 2 });
  assert.equal(status.users, { total: 5, active: 5, forbidden: 0 });
  assert.is(status.departments, 2);
});

test('every condition a sync decides, and the status, carry the generation', () => {
  const old = previous([['Ready', 'True', 'Synced'], ['Connected', 'True', 'Connected'], ['Reconciling', 'True', 'Progressing']]);
  for (const outcome of [synced(), synced({ blocked: { users: { wanted: 3, limit: 1 } } }), { kind: 'suspended', departments: 1 } as const, failed({})]) {
    const status = final(outcome, old, 7);
    assert.is(status.observedGeneration, 7);
    for (const condition of status.conditions ?? []) assert.is(condition.observedGeneration, 7, `${outcome.kind} ${condition.type}`);
  }
});

test('the answered sync request is recorded, and an earlier one kept when none is given', () => {
  assert.is(final(synced(), undefined, 3, 'r1').lastHandledSyncRequest, 'r1');
  assert.is(final(synced(), { lastHandledSyncRequest: 'r0' }).lastHandledSyncRequest, 'r0');
  assert.is(final({ kind: 'suspended', departments: 1 }, undefined, 3, 'r2').lastHandledSyncRequest, 'r2');
});

test('conditions are in a fixed order: Ready, Connected, Stalled', () => {
  const status = final(failed({}));
  assert.equal(status.conditions?.map((c) => c.type), ['Ready', 'Connected', 'Stalled']);
});

test('progress sets Reconciling True and leaves Ready alone unless asked', () => {
  const syncer = makeSyncer({ generation: 3, status: previous([['Ready', 'True', 'Synced']]) });
  const status = progressStatus(syncer, 'written 4200/10000', now, false);
  const reconciling = get(status, 'Reconciling')!;
  assert.is(reconciling.status, 'True');
  assert.is(reconciling.message, 'written 4200/10000');
  assert.is(reconciling.observedGeneration, 3);
  assert.is(get(status, 'Ready')?.status, 'True');
});

test('progress makes Ready Unknown when asked', () => {
  const syncer = makeSyncer({ generation: 3, status: previous([['Ready', 'True', 'Synced']]) });
  const ready = get(progressStatus(syncer, 'fetching', now, true), 'Ready')!;
  assert.is(ready.status, 'Unknown');
  assert.is(ready.observedGeneration, 3);
});

test('progress adds Ready Unknown when there is no Ready yet', () => {
  const status = progressStatus(makeSyncer(), 'fetching', now, false);
  assert.is(get(status, 'Ready')?.status, 'Unknown');
  assert.equal(status.conditions?.map((c) => c.type), ['Ready', 'Reconciling']);
});

test('progress changes neither observedGeneration nor the last sync', () => {
  const old: WeComSyncerStatus = { ...previous([['Ready', 'True', 'Synced']]), lastSyncTime: earlier.toISOString() };
  const status = progressStatus(makeSyncer({ generation: 3, status: old }), 'fetching', now, true);
  assert.is(status.observedGeneration, 2);
  assert.is(status.lastSyncTime, earlier.toISOString());
});

test('status.callback: the sync writes the path and the mark it answered, never the receivers\' counts; null once callback is off', () => {
  const callback = { tokenRef: { name: 'cb', key: 'callbackToken' }, encodingAESKeyRef: { name: 'cb', key: 'encodingAESKey' } };
  const previous: WeComSyncerStatus = { callback: { path: '/wecom/callback/old', eventsReceived: 7, lastEventTime: '2026-11-26T09:59:00Z', lastHandledEvent: 'mark-1' } };
  const on = makeSyncer({ spec: { callback }, status: previous });
  assert.equal(finalStatus(on, synced(), now, next, undefined, { path: '/wecom/callback/new', event: 'mark-2' }).callback, { path: '/wecom/callback/new', lastHandledEvent: 'mark-2' });
  assert.equal(finalStatus(on, synced(), now, next, undefined).callback, { path: '/wecom/callback/old', lastHandledEvent: 'mark-1' }, 'unread Secrets keep the known path');
  assert.is('callback' in progressStatus(on, 'fetching', now, false), false, 'a progress write leaves status.callback alone');
  assert.is(finalStatus(makeSyncer({ status: previous }), synced(), now, next, undefined).callback, null);
  assert.is('callback' in finalStatus(makeSyncer(), synced(), now, next, undefined), false);
});

test.run();
