// Departments as CasdoorGroups, end to end on the real control plane.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';
import { department, smallOrg } from './fixtures.ts';

const test = suite<{ env: SyncerEnv }>('groups');

test.before.each(async (context) => {
  context.env = await syncerEnv('groups', { org: smallOrg() });
});
test.after.each(async ({ env }) => {
  await env.close();
});

async function groupSpecs(env: SyncerEnv): Promise<Map<string, Record<string, unknown>>> {
  return new Map((await env.groups()).map((g) => [String(g.spec.name), g.spec]));
}

test('a department outside the app scope is left out and its visible child becomes a top group', async ({ env }) => {
  // The app sees department 3 (and its child 4) only; 1, 2 and 5 are outside its scope.
  env.sim.setOrg({ ...smallOrg(), appScope: [3] });
  await env.applySyncer('acme');
  const syncer = await env.waitReady('acme');
  assert.is(syncer.status?.departments, 2);
  const groups = await groupSpecs(env);
  assert.equal([...groups.keys()].sort(), ['3', '4']);
  assert.is(groups.get('3')?.isTopGroup, true);
  assert.is(groups.get('3')?.parentId, 'acme');
  assert.is(groups.get('4')?.parentId, '3');
  const zhang = (await env.users()).find((u) => u.spec.id === 'ZhangSan');
  assert.equal(zhang?.spec.groups, ['acme/3', 'acme/4'], 'only visible departments are groups of a member');
});

test('a rename and a move are carried over with one write per group and none for members', async ({ env }) => {
  await env.applySyncer('acme');
  await env.waitReady('acme');
  const org = smallOrg();
  env.sim.patchOrg({ upsertDepartments: [department(4, 2, 'Infrastructure'), department(5, 3, 'Empty')] });
  const syncer = await env.requestSync('acme');
  assert.is(syncer.status?.lastSync?.groupsUpdated, 2);
  assert.is(syncer.status?.lastSync?.updated, 0);
  assert.is(syncer.status?.lastSync?.unchanged, org.members.length);
  const groups = await groupSpecs(env);
  assert.is(groups.get('4')?.displayName, 'Infrastructure');
  assert.is(groups.get('4')?.parentId, '2');
  assert.is(groups.get('5')?.parentId, '3');
});

test('a removed department is kept under Forbid and deleted under Delete', async ({ env }) => {
  await env.applySyncer('acme', { maxRemovals: 5 });
  await env.waitReady('acme');
  env.sim.patchOrg({ removeDepartmentIds: [5] });
  let syncer = await env.requestSync('acme');
  assert.is(syncer.status?.lastSync?.groupsRemoved, 0);
  assert.ok((await groupSpecs(env)).has('5'));
  await env.applySyncer('acme', { maxRemovals: 5, removedUsers: 'Delete' });
  syncer = await env.waitReady('acme');
  assert.is(syncer.status?.lastSync?.groupsRemoved, 1);
  assert.not.ok((await groupSpecs(env)).has('5'));
});

test('syncGroups off drops spec.groups and removes groups only under Delete; on again restores them', async ({ env }) => {
  await env.applySyncer('acme');
  await env.waitReady('acme');
  await env.applySyncer('acme', { syncGroups: false });
  await env.waitReady('acme');
  assert.is((await env.groups()).length, 5, 'Forbid keeps the groups');
  assert.ok((await env.users()).every((u) => !('groups' in u.spec)));
  await env.applySyncer('acme', { syncGroups: false, removedUsers: 'Delete', maxRemovals: '100%' });
  await env.waitReady('acme');
  assert.is((await env.groups()).length, 0);
  await env.applySyncer('acme', { syncGroups: true });
  await env.waitReady('acme');
  assert.is((await env.groups()).length, 5);
  const zhang = (await env.users()).find((u) => u.spec.id === 'ZhangSan');
  assert.equal(zhang?.spec.groups, ['acme/2', 'acme/3', 'acme/4']);
});

test.run();
