import type { KubernetesObject } from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LABEL_ORGANIZATION, LABEL_SYNCER } from '../src/api/group.ts';
import { CasdoorObject } from '../src/casdoor-object.ts';
import { fingerprintOf, specFingerprint } from '../src/casdoorserver/objects.ts';
import { selects } from '../src/casdoorserver/selector.ts';
import { OwnedIndex } from '../src/syncer/owned-index.ts';
import { toStoredObject } from '../src/syncer/stored.ts';

const test = suite('casdoor object');

function raw(labels?: Record<string, string>): KubernetesObject & { spec: Record<string, unknown> } {
  return {
    apiVersion: 'casdoor.org/v1alpha1',
    kind: 'CasdoorUser',
    metadata: {
      name: 'acme-zhangsan', namespace: 'team', uid: 'u-1', resourceVersion: '42',
      ...(labels && { labels }),
      ownerReferences: [{ apiVersion: 'wecom.casdoor.org/v1alpha1', kind: 'WeComSyncer', name: 'acme', uid: 's-1', controller: true }],
    },
    spec: { displayName: '张三', id: 'ZhangSan', name: 'ZhangSan', owner: 'acme' },
  };
}

test('is its own metadata, holding what the syncer reads of the object and what the CasdoorServer reads', () => {
  const labels = { [LABEL_ORGANIZATION]: 'acme', [LABEL_SYNCER]: 'acme', team: 'a' };
  const object = new CasdoorObject('CasdoorUser', raw(labels));
  assert.ok(object.metadata === object, 'no second object for the metadata');
  assert.not.ok(Object.hasOwn(object, 'metadata'), 'a getter on the class, not a field of each object');
  const stored = toStoredObject(raw(labels));
  assert.equal(
    { name: object.metadata.name, namespace: object.metadata.namespace, resourceVersion: object.metadata.resourceVersion, uid: object.metadata.uid, labels: object.metadata.labels },
    stored.metadata,
  );
  assert.is(object.fingerprint, stored.fingerprint);
  assert.equal([object.isForbidden, object.removed], [stored.isForbidden, stored.removed]);
  // The CasdoorServer's view: kind, name, uid, resourceVersion, the spec and its fingerprint, the labels it selects by.
  assert.equal([object.kind, object.name, object.uid, object.resourceVersion], ['CasdoorUser', 'acme-zhangsan', 'u-1', '42']);
  assert.equal(object.spec, raw().spec);
  assert.is(fingerprintOf(object), specFingerprint(raw().spec));
  assert.ok(selects({ matchLabels: { team: 'a' } }, object.labels));
  assert.is(OwnedIndex.ownerKey(object), 'team/acme');
});

test('an object without labels has none, and no syncer owns it', () => {
  const object = new CasdoorObject('CasdoorUser', raw());
  assert.equal(object.labels, {});
  assert.ok(Object.isFrozen(object.labels), 'one shared empty set');
  assert.is(object.labels, new CasdoorObject('CasdoorGroup', raw()).labels);
  assert.is(OwnedIndex.ownerKey(object), 'team/');
  assert.ok(selects(undefined, object.labels));
  assert.not.ok(selects({ matchLabels: { team: 'a' } }, object.labels));
});

test.run();
