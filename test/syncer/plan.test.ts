import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RemovedUsersPolicy } from '../../src/api/wecom-syncer.ts';
import type { DesiredObject } from '../../src/syncer/desired.ts';
import { removalLimit } from '../../src/shared/limit.ts';
import { planSync, type PlanInput } from '../../src/syncer/plan.ts';
import type { StoredObject } from '../../src/syncer/stored.ts';
import { byName, desiredUser, storedUser } from '../support/syncer-fixtures.ts';

const test = suite('plan');

function plan(desired: DesiredObject[], stored: StoredObject[], policy: RemovedUsersPolicy, extra: Partial<PlanInput> = {}) {
  return planSync({ desired, stored: byName(stored), policy, maxRemovals: '100%', ...extra });
}
const names = (objects: ReadonlyArray<DesiredObject | StoredObject>): string[] =>
  objects.map((o) => ('metadata' in o ? o.metadata.name : o.name));

test('creates what is not stored, updates what differs, leaves what matches', () => {
  const result = plan(
    [desiredUser('a'), desiredUser('b', 'new'), desiredUser('c')],
    [storedUser('b', { fingerprint: 'old' }), storedUser('c')],
    'Forbid',
  );
  assert.equal(names(result.create), ['a']);
  assert.equal(names(result.update), ['b']);
  assert.is(result.unchanged, 1);
  assert.equal(result.remove, []);
  assert.is(result.total, 3);
});

test('a member who comes back to a forbidden object is updated, not left removed', () => {
  const result = plan([desiredUser('a')], [storedUser('a', { fingerprint: 'removed', isForbidden: true, removed: true })], 'Forbid');
  assert.equal(names(result.update), ['a']);
});

test('Forbid removes gone members that are not already removed', () => {
  const result = plan([desiredUser('a')], [storedUser('a'), storedUser('gone')], 'Forbid');
  assert.equal(names(result.remove), ['gone']);
  assert.is(result.total, 2);
  assert.is(result.forbidden, 1);
});

test('Forbid does not remove again what it already forbade, and counts it forbidden', () => {
  const result = plan([desiredUser('a')], [storedUser('a'), storedUser('old', { isForbidden: true, removed: true })], 'Forbid');
  assert.equal(result.remove, []);
  assert.is(result.total, 2);
  assert.is(result.forbidden, 1);
  assert.is(result.blockedRemovals, undefined);
});

test('Forbid marks again a removed object someone un-forbade by hand', () => {
  const result = plan([], [storedUser('old', { isForbidden: false, removed: true })], 'Forbid');
  assert.equal(names(result.remove), ['old']);
  assert.is(result.forbidden, 1);
});

test('Delete removes gone members, also those an earlier Forbid marked', () => {
  const result = plan([desiredUser('a')], [storedUser('a'), storedUser('gone'), storedUser('old', { isForbidden: true, removed: true })], 'Delete');
  assert.equal(names(result.remove), ['gone', 'old']);
  assert.is(result.total, 1);
  assert.is(result.forbidden, 0);
});

test('Keep removes nobody and counts the kept, forbidden ones as forbidden', () => {
  const result = plan([desiredUser('a')], [storedUser('a'), storedUser('gone'), storedUser('was', { isForbidden: true })], 'Keep');
  assert.equal(result.remove, []);
  assert.is(result.total, 3);
  assert.is(result.forbidden, 1);
});

test('desired forbidden members count as forbidden under every policy', () => {
  for (const policy of ['Forbid', 'Delete', 'Keep'] as const) {
    const result = plan([desiredUser('a', 'fp', { isForbidden: true }), desiredUser('b')], [], policy);
    assert.is(result.forbidden, 1, policy);
    assert.is(result.total, 2, policy);
  }
});

test('protected names are never removed, under any policy', () => {
  for (const policy of ['Forbid', 'Delete'] as const) {
    const result = plan([], [storedUser('malformed'), storedUser('gone')], policy, { protectedNames: new Set(['malformed']) });
    assert.equal(names(result.remove), ['gone'], policy);
    assert.is(result.total, policy === 'Forbid' ? 2 : 1, policy);
  }
});

test('a percentage limit is of the stored objects, rounded up', () => {
  assert.is(removalLimit('10%', 5), 1);
  assert.is(removalLimit('10%', 10), 1);
  assert.is(removalLimit('10%', 11), 2);
  assert.is(removalLimit('10%', 0), 0);
  assert.is(removalLimit('0%', 100), 0);
  assert.is(removalLimit('100%', 7), 7);
});

test('a count limit is taken as is, as a number or a string', () => {
  assert.is(removalLimit(3, 100), 3);
  assert.is(removalLimit('3', 100), 3);
  assert.is(removalLimit(0, 100), 0);
});

test('a limit that is neither a count nor a percentage throws', () => {
  for (const bad of ['ten', '1.5%', '-1', '10 %']) assert.throws(() => removalLimit(bad, 10), bad);
});

test('removes nobody when the guard trips, and says how many would have gone', () => {
  const stored = Array.from({ length: 10 }, (_, i) => storedUser(`u${i}`));
  const result = plan([desiredUser('u0'), desiredUser('new')], stored, 'Forbid', { maxRemovals: '10%' });
  assert.equal(result.remove, []);
  assert.equal(result.blockedRemovals, { wanted: 9, limit: 1 });
});

test('creates and updates are still planned when the guard trips', () => {
  const stored = [storedUser('a', { fingerprint: 'old' }), storedUser('b'), storedUser('c')];
  const result = plan([desiredUser('a'), desiredUser('new')], stored, 'Delete', { maxRemovals: 1 });
  assert.equal(names(result.create), ['new']);
  assert.equal(names(result.update), ['a']);
  assert.equal(result.blockedRemovals, { wanted: 2, limit: 1 });
});

test('blocked removals stay in the totals as they are', () => {
  const stored = [storedUser('a'), storedUser('b', { isForbidden: true }), storedUser('c')];
  for (const policy of ['Forbid', 'Delete'] as const) {
    const result = plan([desiredUser('a')], stored, policy, { maxRemovals: '0%' });
    assert.is(result.total, 3, policy);
    assert.is(result.forbidden, 1, policy);
  }
});

test('removals up to the limit go ahead', () => {
  const stored = Array.from({ length: 10 }, (_, i) => storedUser(`u${i}`));
  const desired = stored.slice(1).map((s) => desiredUser(s.metadata.name));
  const result = plan(desired, stored, 'Delete', { maxRemovals: '10%' });
  assert.equal(names(result.remove), ['u0']);
  assert.is(result.blockedRemovals, undefined);
});

test('already forbidden objects do not count against the guard', () => {
  const stored = [storedUser('a'), ...Array.from({ length: 5 }, (_, i) => storedUser(`old${i}`, { isForbidden: true, removed: true }))];
  const result = plan([desiredUser('a')], stored, 'Forbid', { maxRemovals: 0 });
  assert.is(result.blockedRemovals, undefined);
  assert.is(result.forbidden, 5);
});

test('a plan with nothing changed writes nothing', () => {
  const result = plan([desiredUser('a'), desiredUser('b')], [storedUser('a'), storedUser('b')], 'Forbid');
  assert.is(result.create.length + result.update.length + result.remove.length, 0);
  assert.is(result.unchanged, 2);
});

test('wanted holds the fingerprint of every desired object, written or not, and nothing gone', () => {
  const result = plan(
    [desiredUser('a'), desiredUser('b', 'new'), desiredUser('c')],
    [storedUser('b', { fingerprint: 'old' }), storedUser('c'), storedUser('gone')],
    'Delete',
  );
  assert.equal([...result.wanted], [['a', 'fp-a'], ['b', 'new'], ['c', 'fp-c']]);
});

test('desired objects are read once, one at a time, as a generator yields them', () => {
  let made = 0;
  function* desired(): Generator<DesiredObject> {
    for (const name of ['a', 'b', 'c']) {
      made++;
      yield desiredUser(name);
    }
  }
  const result = planSync({ desired: desired(), stored: byName([storedUser('a'), storedUser('b'), storedUser('old')]), policy: 'Delete', maxRemovals: '100%' });
  assert.is(made, 3);
  assert.equal(names(result.create), ['c']);
  assert.is(result.unchanged, 2);
  // A generator gives its objects only once: the removals are judged on what was read.
  assert.equal(names(result.remove), ['old']);
  assert.is(result.total, 3);
});

test('an object the sync created early is judged by what it was created with, whether the cache shows it yet or not', () => {
  const created = new Map([['a', 'fp-a']]);
  for (const stored of [[], [storedUser('a')]]) {
    const result = plan([desiredUser('a')], stored, 'Forbid', { created });
    assert.equal([...result.create, ...result.update], [], `cache holds ${stored.length}`);
    assert.is(result.unchanged, 0, 'created, not unchanged');
    assert.equal([...result.wanted], [['a', 'fp-a']]);
    assert.is(result.total, 1);
  }
});

test('an object created early that the complete fetch wants otherwise is updated, not created again', () => {
  const created = new Map([['a', 'fp-early']]);
  for (const stored of [[], [storedUser('a', { fingerprint: 'fp-early' })]]) {
    const result = plan([desiredUser('a', 'fp-merged')], stored, 'Forbid', { created });
    assert.equal(names(result.update), ['a'], `cache holds ${stored.length}`);
    assert.equal(result.create, []);
  }
});

test('the cache\'s version of an object created early wins: a hand edit since is put back', () => {
  const result = plan([desiredUser('a')], [storedUser('a', { fingerprint: 'edited' })], 'Forbid', { created: new Map([['a', 'fp-a']]) });
  assert.equal(names(result.update), ['a']);
});

test('objects the sync created early do not raise the removal guard\'s limit, whether the cache shows them or not', () => {
  const stored = Array.from({ length: 10 }, (_, i) => storedUser(`old${i}`));
  const created = new Map(Array.from({ length: 10 }, (_, i): [string, string] => [`new${i}`, `fp-new${i}`]));
  const desired = [...Array.from({ length: 8 }, (_, i) => desiredUser(`old${i}`)), ...Array.from({ length: 10 }, (_, i) => desiredUser(`new${i}`))];
  for (const shown of [0, 10]) {
    const cache = [...stored, ...Array.from({ length: shown }, (_, i) => storedUser(`new${i}`))];
    // Two of the ten old objects are gone: 20% of them, against a limit of 10% (1).
    const result = plan(desired, cache, 'Forbid', { created, maxRemovals: '10%' });
    assert.equal(result.blockedRemovals, { wanted: 2, limit: 1 }, `cache shows ${shown} of the new`);
    assert.equal(result.remove, []);
  }
});

test.run();
