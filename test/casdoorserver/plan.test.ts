import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RemoteGroup, RemoteUser } from '../../src/casdoor/client.ts';
import { fieldsInSync, MANAGED_BY_PROPERTY, type SelectedObject } from '../../src/casdoorserver/objects.ts';
import { admit, type ComparisonInput, planComparison } from '../../src/casdoorserver/plan.ts';
import { objectRef } from '../../src/casdoorserver/refs.ts';

const test = suite('CasdoorServer comparison plan');
const MARK = 'casdoor/main';

const user = (name: string, spec: Record<string, unknown> = {}): SelectedObject => ({ kind: 'CasdoorUser', name: `acme.${name}`, spec: { owner: 'acme', name, displayName: name, isForbidden: false, ...spec } });
const group = (name: string, parentId: string, spec: Record<string, unknown> = {}): SelectedObject => ({ kind: 'CasdoorGroup', name: `acme.dept-${name}`, spec: { owner: 'acme', name, parentId, isTopGroup: parentId === 'acme', type: 'Physical', displayName: name, ...spec } });
const remote = (name: string, fields: Record<string, unknown> = {}, mark: string | null = MARK): RemoteUser => ({ owner: 'acme', name, displayName: name, isForbidden: false, email: '', properties: mark ? { [MANAGED_BY_PROPERTY]: mark } : {}, ...fields });
const remoteGroup = (name: string, parentId: string, mark: string | null = MARK): RemoteGroup => ({ owner: 'acme', name, parentId, isTopGroup: parentId === 'acme', type: 'Physical', displayName: name, properties: mark ? { [MANAGED_BY_PROPERTY]: mark } : null });

function plan(input: Partial<ComparisonInput>) {
  return planComparison({ server: 'casdoor/main', users: [], groups: [], remoteUsers: [], remoteGroups: [], organizations: new Set(['acme']), mark: MARK, existing: 'Skip', prune: true, ...input });
}

test('absent users are created, marked ones that differ updated, marked ones in sync left alone', () => {
  const p = plan({ users: [user('a'), user('b', { displayName: 'B!' }), user('c')], remoteUsers: [remote('b'), remote('c')] });
  assert.equal(p.userWrites.map((w) => [w.op, w.object.name]), [['create', 'acme.a'], ['update', 'acme.b']]);
  assert.equal([...p.inSync.keys()], [objectRef('CasdoorUser', 'acme.c')]);
});

test('a user Casdoor has without the mark is skipped under Skip, adopted under Adopt; another server\'s mark is never taken', () => {
  const users = [user('a'), user('b')];
  const remoteUsers = [remote('a', {}, null), remote('b', {}, 'other/server')];
  const skip = plan({ users, remoteUsers });
  assert.equal(skip.userWrites, []);
  assert.equal(skip.skipped.map((s) => s.name), ['acme.a', 'acme.b']);
  assert.match(skip.skipped[1]!.reason, 'managed by CasdoorServer other/server');
  const adopt = plan({ users, remoteUsers, existing: 'Adopt' });
  assert.equal(adopt.userWrites.map((w) => [w.op, w.object.name]), [['adopt', 'acme.a']]);
  assert.equal(adopt.skipped.map((s) => s.name), ['acme.b']);
});

test('users found in sync as they were listed are in sync, managed, and never deleted', () => {
  const [a, b, c] = [user('a'), user('b', { displayName: 'B!' }), user('c')];
  // a and c were judged in sync and left out of the listing; b was listed.
  const p = plan({ users: [a, b, c], remoteUsers: [remote('b'), remote('gone')], judgedInSync: new Set([a, c]) });
  assert.equal(p.userWrites.map((w) => [w.op, w.object.name]), [['update', 'acme.b']]);
  assert.equal([...p.inSync.keys()].sort(), [objectRef('CasdoorUser', 'acme.a'), objectRef('CasdoorUser', 'acme.c')]);
  assert.is(p.managedUsers, 4, 'a, b, c and gone');
  assert.equal(p.userDeletions.map((d) => d.name), ['gone']);
});

test('an owner outside spec.organizations, and two objects for one Casdoor user, are failures, never writes', () => {
  const p = plan({ users: [user('a', { owner: 'elsewhere' }), user('b'), { ...user('b'), name: 'zz.copy-of-b' }] });
  assert.equal(p.userWrites.map((w) => w.object.name), ['acme.b']);
  assert.equal(p.failures.map((f) => f.name), ['acme.a', 'zz.copy-of-b']);
  assert.match(p.failures[0]!.reason, 'organization elsewhere is not in spec.organizations of CasdoorServer casdoor/main');
  assert.match(p.failures[1]!.reason, 'CasdoorUser acme.b is written to the same Casdoor user acme/b');
});

test('an admission made by the caller gives the plan the plan would have made', () => {
  const users = [user('a'), user('b', { displayName: 'B!' }), { ...user('b'), name: 'zz.copy-of-b' }, user('c', { owner: 'elsewhere' })];
  const input = { users, remoteUsers: [remote('b'), remote('gone')] };
  const held = new Map([['acme.a', 'acme/a'], ['acme.b', 'acme/b']]);
  const admittedUsers = admit(users, { organizations: new Set(['acme']), server: 'casdoor/main' }, (o) => held.get(o.name) ?? `${String(o.spec['owner'])}/${String(o.spec['name'])}`);
  assert.equal(plan({ ...input, admittedUsers }), plan(input));
  assert.equal(admittedUsers.failures.map((f) => f.name), ['acme.c', 'zz.copy-of-b']);
});

test('groups are written parents first, whatever order they come in', () => {
  const p = plan({ groups: [group('4', '3'), group('2', '1'), group('3', '2'), group('1', 'acme'), group('9', 'not-selected')] });
  const level = (name: string) => p.groupWrites.findIndex((l) => l.some((w) => w.object.spec['name'] === name));
  assert.ok(level('1') < level('2') && level('2') < level('3') && level('3') < level('4'));
  assert.is(level('9'), 0, 'a parent outside the selection starts a tree of its own');
});

test('only marked objects gone from the selection are deleted: users, then groups children first; none without prune', () => {
  const remoteUsers = [remote('gone'), remote('kept'), remote('unmarked-gone', {}, null)];
  const remoteGroups = [remoteGroup('1', 'acme'), remoteGroup('2', '1'), remoteGroup('3', '2'), remoteGroup('x', 'acme', null)];
  const p = plan({ users: [user('kept')], remoteUsers, remoteGroups });
  assert.equal(p.userDeletions.map((d) => d.name), ['gone']);
  assert.equal(p.groupDeletions.map((d) => d.name), ['3', '2', '1']);
  assert.is(p.managedUsers, 2);
  const keep = plan({ users: [user('kept')], remoteUsers, remoteGroups, prune: false });
  assert.equal([keep.userDeletions, keep.groupDeletions], [[], []]);
});

test('fields absent from a spec are not compared; arrays compare in order; Casdoor\'s empty values match absent ones', () => {
  assert.ok(fieldsInSync({ owner: 'acme', name: 'a', displayName: 'A' }, { owner: 'acme', name: 'a', displayName: 'A', email: 'kept@casdoor', password: 'x' }));
  assert.not.ok(fieldsInSync({ groups: ['acme/1', 'acme/2'] }, { groups: ['acme/2', 'acme/1'] }));
  assert.ok(fieldsInSync({ groups: [] }, { groups: null }));
  assert.ok(fieldsInSync({ isForbidden: false, title: '' }, {}));
  assert.not.ok(fieldsInSync({ isForbidden: true }, { isForbidden: false }));
});

test('a comparison reads every field a CasdoorUser spec may hold', async () => {
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const { USER_FIELDS } = await import('../../src/casdoorserver/objects.ts');
  const crd = parse(readFileSync(new URL('../../crds/casdoor.org_casdoorusers.yaml', import.meta.url), 'utf8')) as { spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } } } }> } };
  const specFields = Object.keys(crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties).filter((f) => f !== 'owner' && f !== 'name');
  assert.equal(specFields.filter((f) => !USER_FIELDS.includes(f)), [], 'a spec field the listing would drop, and so never compare');
});

test.run();
