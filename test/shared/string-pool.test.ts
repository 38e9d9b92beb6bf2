// Sharing strings must never change what an object says: only copies may go.
// (What it saves is measured by the benchmark: heapAfterGcMB.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { shareStrings, StringPool } from '../../src/shared/string-pool.ts';

const test = suite('string pool');

const user = () => ({
  apiVersion: 'casdoor.org/v1alpha1',
  kind: 'CasdoorUser',
  metadata: { name: 'acme.zhangsan', namespace: 'casdoor', labels: { 'casdoor.org/syncer': 'acme', 'casdoor.org/organization': 'acme' } },
  spec: {
    owner: 'acme', name: 'zhangsan', id: 'zhangsan', wecom: 'zhangsan-other', isForbidden: false, title: 'Engineer', countryCode: 'CN',
    groups: ['acme/1', 'acme/2', 7, null], gender: { unexpected: true }, phone: '13800000000',
  },
});

test('an object says the same after its strings are shared, whatever its fields hold', () => {
  const pool = new StringPool();
  for (let i = 0; i < 3; i++) {
    const object = user();
    shareStrings(object, pool);
    assert.equal(object, user());
  }
});

test('a full pool, an object without spec or metadata, and a spec that is no object are left as they are', () => {
  const pool = new StringPool(1);
  for (const object of [user(), user(), { kind: 'CasdoorUser' }, { metadata: {}, spec: 'text' }]) {
    const before = structuredClone(object);
    shareStrings(object as never, pool);
    assert.equal(object, before);
  }
  assert.is(pool.get('x'.repeat(200)), 'x'.repeat(200));
});

test('objects with equal labels and groups share one frozen copy of each; lists with other items keep their own', () => {
  const pool = new StringPool();
  const [first, second] = [user(), user()];
  const other = { ...user(), spec: { ...user().spec, groups: ['acme/1', 'acme/2'] } };
  for (const object of [first, second, other]) shareStrings(object, pool);
  assert.is(first.metadata.labels, second.metadata.labels);
  assert.ok(Object.isFrozen(first.metadata.labels));
  assert.throws(() => { (first.metadata.labels as Record<string, string>)['casdoor.org/syncer'] = 'other'; });
  assert.equal(second.metadata.labels, user().metadata.labels);
  // ['acme/1', 'acme/2', 7, null] holds items that are no strings: never pooled.
  assert.is.not(first.spec.groups, second.spec.groups);
  assert.ok(!Object.isFrozen(first.spec.groups));
  const third = { ...user(), spec: { ...user().spec, groups: ['acme/1', 'acme/2'] } };
  shareStrings(third, pool);
  assert.is(third.spec.groups, other.spec.groups);
  assert.ok(Object.isFrozen(other.spec.groups));
});

test('past its limit, the pool shares what it holds and keeps new label sets as they came', () => {
  const pool = new StringPool(1);
  const labels = { a: 'x' };
  assert.is(pool.shared(labels), labels);
  assert.is(pool.shared({ a: 'x' }), labels);
  const fresh = { a: 'y' };
  assert.is(pool.shared(fresh), fresh);
  assert.ok(!Object.isFrozen(fresh));
});

test.run();
