import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LABEL_SYNCER } from '../../src/api/group.ts';
import { OwnedIndex } from '../../src/syncer/owned-index.ts';
import type { StoredObject } from '../../src/syncer/stored.ts';
import { storedUser } from '../support/syncer-fixtures.ts';

const test = suite('owned-index');
const of = (syncer: string, name: string, namespace = 'casdoor'): StoredObject => {
  const object = storedUser(name);
  return { ...object, metadata: { ...object.metadata, namespace, labels: { [LABEL_SYNCER]: syncer } } };
};

test('objects are filed under namespace/syncer', () => {
  const index = new OwnedIndex();
  index.upsert(of('acme', 'acme.a'));
  index.upsert(of('beta', 'beta.a'));
  index.upsert(of('acme', 'acme.b', 'other'));
  assert.equal([...index.of('casdoor/acme').keys()], ['acme.a']);
  assert.equal([...index.of('casdoor/beta').keys()], ['beta.a']);
  assert.equal([...index.of('other/acme').keys()], ['acme.b']);
  assert.is(index.of('casdoor/none').size, 0);
});

test('has tells whether one syncer holds a name', () => {
  const index = new OwnedIndex();
  index.upsert(of('acme', 'acme.a'));
  assert.ok(index.has('casdoor/acme', 'acme.a'));
  assert.not.ok(index.has('casdoor/acme', 'acme.b'));
  assert.not.ok(index.has('casdoor/beta', 'acme.a'));
});

test('an update replaces the object and a delete forgets it', () => {
  const index = new OwnedIndex();
  index.upsert(of('acme', 'acme.a'));
  index.upsert({ ...of('acme', 'acme.a'), fingerprint: 'new' });
  assert.is(index.of('casdoor/acme').get('acme.a')?.fingerprint, 'new');
  index.remove(of('acme', 'acme.a'));
  assert.is(index.of('casdoor/acme').size, 0);
});

test('a syncer\'s objects are the index\'s own, read-only: later events show in them, and a syncer without any has none', () => {
  const index = new OwnedIndex();
  index.upsert(of('acme', 'acme.a'));
  const objects = index.of('casdoor/acme');
  index.upsert(of('acme', 'acme.b'));
  assert.equal([...objects.keys()], ['acme.a', 'acme.b']);
  assert.is(index.of('casdoor/none').size, 0);
});

test.run();
