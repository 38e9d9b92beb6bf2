import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ANNOTATION_REMOVED_FROM_SOURCE, API_VERSION, LABEL_ORGANIZATION, LABEL_SYNCER } from '../../src/api/group.ts';
import { canonicalJSON, type DesiredObject, desiredState, desiredUserMaker, fingerprint, JudgedMember, managedLabels, memberJudge } from '../../src/syncer/desired.ts';
import { casdoorUserName } from '../../src/syncer/mapping.ts';
import { toStoredObject } from '../../src/syncer/stored.ts';
import type { StoredObject } from '../../src/syncer/stored.ts';
import type { Organization } from '../../src/wecom/fetch.ts';
import type { Member } from '../../src/wecom/types.ts';
import { makeSyncer } from '../support/syncer-fixtures.ts';

const test = suite('desired');

const organization: Organization = {
  departments: [
    { id: 1, parentId: 0, name: 'Acme', leaders: [] },
    { id: 2, parentId: 1, name: '研发中心', leaders: ['ZhangSan'] },
  ],
  simpleDepartments: false,
  members: [
    { userid: 'ZhangSan', name: '张三', departments: [2, 1], email: 'zhangsan@acme.example', gender: '1', status: 1 },
    { userid: 'LiSi', departments: [2], status: 5 },
  ],
  rejected: [],
};

/**
 * The object as the API server returns it after KubeObjectWriter.create: the
 * body it POSTs, through JSON, plus the fields the server adds and a label and
 * an annotation someone else put there.
 */
function asStored(object: DesiredObject, edit: (stored: StoredJSON) => void = () => {}): KubernetesObject {
  const body = {
    apiVersion: API_VERSION,
    kind: object.kind,
    metadata: { name: object.name, namespace: 'casdoor', labels: object.labels, ownerReferences: [object.ownerReference] },
    spec: object.spec,
  };
  const stored: StoredJSON = JSON.parse(JSON.stringify(body));
  Object.assign(stored.metadata, {
    uid: '7f6c1d2e-0000-4000-8000-000000000001',
    resourceVersion: '4711',
    generation: 1,
    creationTimestamp: '2026-11-26T10:00:00Z',
    managedFields: [{ manager: 'wecom-syncer', operation: 'Update', apiVersion: API_VERSION, fieldsType: 'FieldsV1', fieldsV1: {} }],
  });
  stored.metadata.labels['team'] = 'platform';
  stored.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
  edit(stored);
  return stored;
}
interface StoredJSON extends KubernetesObject {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string>; ownerReferences: V1OwnerReference[] };
  spec: Record<string, unknown>;
}

const state = desiredState(makeSyncer(), organization);
const zhangsan = state.users.get(casdoorUserName('acme', 'ZhangSan'))!;
const group = [...state.groups.values()][0]!;

test('a user as the API server stores it digests the same as it was wanted', () => {
  for (const user of state.users.values()) assert.is(toStoredObject(asStored(user)).fingerprint, user.fingerprint, user.name);
});

test('a group as the API server stores it digests the same as it was wanted', () => {
  for (const g of state.groups.values()) assert.is(toStoredObject(asStored(g)).fingerprint, g.fingerprint, g.name);
});

test('a changed spec field differs', () => {
  const stored = asStored(zhangsan, (s) => (s.spec['displayName'] = '张三丰'));
  assert.is.not(toStoredObject(stored).fingerprint, zhangsan.fingerprint);
});

test('a spec field added by hand differs', () => {
  const stored = asStored(zhangsan, (s) => (s.spec['phone'] = '13800000000'));
  assert.is.not(toStoredObject(stored).fingerprint, zhangsan.fingerprint);
});

test('a changed own label differs', () => {
  const stored = asStored(zhangsan, (s) => (s.metadata.labels[LABEL_ORGANIZATION] = 'other'));
  assert.is.not(toStoredObject(stored).fingerprint, zhangsan.fingerprint);
});

test('the removed-from-source annotation differs', () => {
  const stored = toStoredObject(asStored(zhangsan, (s) => (s.metadata.annotations = { [ANNOTATION_REMOVED_FROM_SOURCE]: '2026-11-26T10:00:00Z' })));
  assert.is.not(stored.fingerprint, zhangsan.fingerprint);
  assert.ok(stored.removed);
});

test('a controller of another uid differs', () => {
  const stored = asStored(zhangsan, (s) => (s.metadata.ownerReferences[0]!.uid = 'uid-of-a-recreated-syncer'));
  assert.is.not(toStoredObject(stored).fingerprint, zhangsan.fingerprint);
});

test('a stored object keeps its name, namespace, syncer label and forbidden flag', () => {
  const lisi = state.users.get(casdoorUserName('acme', 'LiSi'))!;
  const stored = toStoredObject(asStored(lisi));
  assert.is(stored.metadata.name, lisi.name);
  assert.is(stored.metadata.namespace, 'casdoor');
  assert.is(stored.metadata.resourceVersion, '4711');
  assert.is(stored.metadata.labels[LABEL_SYNCER], 'acme');
  assert.ok(stored.isForbidden);
  assert.not.ok(stored.removed);
});

test('objects carry the syncer and organization labels and a controller reference', () => {
  assert.equal(zhangsan.labels, { [LABEL_SYNCER]: 'acme', [LABEL_ORGANIZATION]: 'acme' });
  assert.equal(zhangsan.ownerReference, {
    apiVersion: API_VERSION, kind: 'WeComSyncer', name: 'acme', uid: 'uid-acme', controller: true, blockOwnerDeletion: true,
  });
});

test('the organization label is left out when the organization is not a valid label value', () => {
  for (const organization of ['Acme Corp', '-acme', 'acme-', 'a'.repeat(64), '研发']) {
    assert.not.ok(LABEL_ORGANIZATION in managedLabels(makeSyncer({ spec: { organization } })), organization);
  }
  assert.is(managedLabels(makeSyncer({ spec: { organization: 'a'.repeat(63) } }))[LABEL_ORGANIZATION], 'a'.repeat(63));
  assert.is(managedLabels(makeSyncer({ spec: { organization: 'Acme_Corp.2' } }))[LABEL_ORGANIZATION], 'Acme_Corp.2');
});

test('rejected and hidden userids are protected', () => {
  const withUnknowns: Organization = {
    ...organization,
    rejected: [{ userid: 'Broken', reason: 'no name' }, { reason: 'no userid' }],
    hiddenUserIds: ['Hidden'],
  };
  const { protectedUsers } = desiredState(makeSyncer(), withUnknowns);
  assert.equal([...protectedUsers].sort(), [casdoorUserName('acme', 'Broken'), casdoorUserName('acme', 'Hidden')].sort());
});

test('no groups are wanted, and users list none, when syncGroups is false', () => {
  const off = desiredState(makeSyncer({ spec: { syncGroups: false } }), organization);
  assert.is(off.groups.size, 0);
  for (const user of off.users.values()) assert.not.ok('groups' in user.spec, user.name);
});

test('with groups on, users list their departments and each department is a group', () => {
  assert.is(state.groups.size, 2);
  assert.equal((zhangsan.spec as { groups?: string[] }).groups, ['acme/2', 'acme/1']);
});

test('the same organization gives the same fingerprints every time', () => {
  const again = desiredState(makeSyncer(), structuredClone(organization));
  for (const [name, object] of state.users) assert.is(again.users.get(name)?.fingerprint, object.fingerprint, name);
});

test('a fingerprint ignores key order and undefined fields, and sees every value and the order of lists', () => {
  const base = { spec: { name: 'a', groups: ['x', 'y'], email: 'a@example.com' }, labels: { k: 'v' }, removed: false, ownerUid: 'u' };
  const reordered = { ownerUid: 'u', removed: false, labels: { k: 'v' }, spec: { email: 'a@example.com', groups: ['x', 'y'], name: 'a', phone: undefined } };
  assert.is(fingerprint(reordered), fingerprint(base));
  assert.is.not(fingerprint({ ...base, spec: { ...base.spec, groups: ['y', 'x'] } }), fingerprint(base));
  assert.is.not(fingerprint({ ...base, spec: { ...base.spec, email: 'b@example.com' } }), fingerprint(base));
  assert.is.not(fingerprint({ ...base, removed: true }), fingerprint(base));
  assert.is.not(fingerprint({ ...base, ownerUid: undefined }), fingerprint(base));
  // A value that merely moves between fields is a change.
  assert.is.not(fingerprint({ ...base, spec: { name: 'a@example.com', groups: ['x', 'y'], email: 'a' } }), fingerprint(base));
});

test('canonical JSON sorts keys whatever order they come in, and writes keys in order without sorting them', () => {
  const sorted = '{"1":1,"10":[{"a":null,"b":"x"}],"9":true,"A":"\\"","a":{"x":1,"y":2},"é":0}';
  const orders: Array<Record<string, unknown>> = [
    { 1: 1, 10: [{ a: null, b: 'x' }], 9: true, A: '"', a: { x: 1, y: 2 }, é: 0 },
    { é: 0, a: { y: 2, x: 1 }, A: '"', 9: true, 10: [{ b: 'x', a: null }], 1: 1, gone: undefined },
    Object.assign(Object.create(null) as Record<string, unknown>, { a: { x: 1, y: 2 }, A: '"', é: 0, 9: true, 1: 1, 10: [{ a: null, b: 'x' }] }),
  ];
  for (const order of orders) assert.is(canonicalJSON(order), sorted);
  // Only own fields count, whatever an object inherits.
  class Spec { own = 'b'; }
  (Spec.prototype as unknown as Record<string, unknown>)['inherited'] = 'a';
  assert.is(canonicalJSON(new Spec()), '{"own":"b"}');
  // Nor what a plain object inherits, should anything have written to Object.prototype.
  const prototype = Object.prototype as Record<string, unknown>;
  prototype['polluted'] = 1;
  try {
    assert.is(canonicalJSON({ a: 1 }), '{"a":1}');
  } finally {
    delete prototype['polluted'];
  }
  // The specs this module builds come with their keys in order.
  for (const user of state.users.values()) assert.equal(Object.keys(user.spec), Object.keys(user.spec).sort(), user.name);
  for (const group of state.groups.values()) assert.equal(Object.keys(group.spec), Object.keys(group.spec).sort(), group.name);
  const labels = Object.keys(managedLabels(makeSyncer()));
  assert.equal(labels, [...labels].sort());
  assert.is(labels.length, 2);
});

test('a member stored as wanted is judged so, and then wanted as the very version stored; any other is kept whole', () => {
  const syncer = makeSyncer();
  const stored = toStoredObject(asStored(zhangsan));
  const edited = toStoredObject(asStored(zhangsan, (o) => (o.spec['displayName'] = 'edited')));
  const [zhang, li] = organization.members as [Member, Member];
  const judge = (found: StoredObject | undefined) => memberJudge(syncer, organization.departments, (name) => (name === zhangsan.name ? found : undefined));
  const judged = judge(stored)(zhang);
  assert.instance(judged, JudgedMember);
  assert.equal([judged.userid, judged.departments], [zhang.userid, zhang.departments]);
  // Members judged with the same departments share one frozen list of them.
  const judgeAll = memberJudge(syncer, organization.departments, () => stored);
  const [one, two] = [judgeAll(zhang), judgeAll({ ...zhang, departments: [...zhang.departments] })];
  assert.ok(Object.isFrozen(one.departments));
  assert.is(one.departments, two.departments);
  assert.is.not(one.departments, zhang.departments, 'not the record\'s own list');
  for (const [member, found] of [[zhang, edited], [zhang, undefined], [li, stored], [{ ...li, userid: '' }, stored]] as const) {
    assert.is(judge(found)(member), member, 'kept whole');
  }
  const wanted = desiredUserMaker(syncer, organization.departments)(judged);
  assert.equal([wanted.name, wanted.fingerprint, wanted.isForbidden, wanted.spec], [zhangsan.name, zhangsan.fingerprint, zhangsan.isForbidden, stored.spec]);
  assert.equal([wanted.labels, wanted.ownerReference], [zhangsan.labels, zhangsan.ownerReference]);
});

test('a judged member that a later record adds departments to is wanted with its groups made again, as the whole record would be', () => {
  const syncer = makeSyncer();
  const [, li] = organization.members as [Member, Member];
  const liName = casdoorUserName('acme', 'LiSi');
  const stored = toStoredObject(asStored(state.users.get(liName)!));
  const judged = memberJudge(syncer, organization.departments, (name) => (name === liName ? stored : undefined))(li);
  assert.instance(judged, JudgedMember);
  // What the merge does to a member listed again with more departments.
  judged.departments = judged.departments.concat([1]);
  const make = desiredUserMaker(syncer, organization.departments);
  const wanted = make(judged);
  const whole = make({ ...li, departments: [2, 1] });
  assert.equal([wanted.name, wanted.fingerprint, wanted.spec], [whole.name, whole.fingerprint, whole.spec]);
  assert.is.not(wanted.fingerprint, stored.fingerprint);
});

test.run();
