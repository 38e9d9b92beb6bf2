import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findCondition, isTrue, removeCondition, setCondition } from '../../src/api/conditions.ts';
import type { Condition } from '../../src/api/wecom-syncer.ts';

const test = suite('conditions');
const t0 = new Date('2026-11-26T09:00:00.000Z');
const t1 = new Date('2026-11-26T10:00:00.789Z');
const ready: Condition = { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok', observedGeneration: 1, lastTransitionTime: '2026-11-26T09:00:00Z' };
const connected: Condition = { ...ready, type: 'Connected', reason: 'Connected' };

test('a new condition is appended with now as its transition time, in whole seconds', () => {
  const conditions = setCondition([ready], { type: 'Stalled', status: 'True', reason: 'InvalidSecret', message: 'm' }, t1);
  assert.equal(conditions.map((c) => c.type), ['Ready', 'Stalled']);
  assert.is(conditions[1]?.lastTransitionTime, '2026-11-26T10:00:00Z');
});

test('the same status keeps lastTransitionTime and takes the new reason, message and generation', () => {
  const [next] = setCondition([ready], { type: 'Ready', status: 'True', reason: 'Synced', message: 'again', observedGeneration: 2 }, t1);
  assert.equal(next, { ...ready, message: 'again', observedGeneration: 2 });
});

test('a changed status moves lastTransitionTime', () => {
  const [next] = setCondition([ready], { type: 'Ready', status: 'False', reason: 'SyncFailed', message: 'm' }, t1);
  assert.is(next?.lastTransitionTime, '2026-11-26T10:00:00Z');
  assert.is(next?.status, 'False');
});

test('a condition is replaced in place and the others are untouched', () => {
  const conditions = setCondition([ready, connected], { type: 'Ready', status: 'Unknown', reason: 'Progressing', message: 'm' }, t0);
  assert.equal(conditions.map((c) => `${c.type}=${c.status}`), ['Ready=Unknown', 'Connected=True']);
  assert.is(conditions[1], connected);
});

test('setting does not change the list it was given', () => {
  const before = [ready];
  setCondition(before, { type: 'Ready', status: 'False', reason: 'SyncFailed', message: 'm' }, t1);
  setCondition(before, { type: 'Stalled', status: 'True', reason: 'InvalidSecret', message: 'm' }, t1);
  assert.equal(before, [ready]);
});

test('removing takes out only that type, and a missing type is no error', () => {
  assert.equal(removeCondition([ready, connected], 'Ready'), [connected]);
  assert.equal(removeCondition([ready], 'Reconciling'), [ready]);
  assert.equal(removeCondition([], 'Ready'), []);
});

test('find and isTrue read a condition by type', () => {
  assert.is(findCondition([ready, connected], 'Connected'), connected);
  assert.is(findCondition(undefined, 'Ready'), undefined);
  assert.ok(isTrue([ready], 'Ready'));
  assert.not.ok(isTrue([{ ...ready, status: 'Unknown' }], 'Ready'));
  assert.not.ok(isTrue(undefined, 'Ready'));
});

test.run();
