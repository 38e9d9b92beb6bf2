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

test.run();
