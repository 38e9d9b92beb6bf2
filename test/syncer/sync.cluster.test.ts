// The operator end to end on a real control plane, driven through kubectl.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { leakedSecrets, type StoredUser, type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';
import { waitFor } from '../support/wait.ts';
import { member, smallOrg } from './fixtures.ts';

const test = suite<{ env: SyncerEnv }>('sync');

test.before.each(async (context) => {
  context.env = await syncerEnv('sync', { org: smallOrg() });
});
test.after.each(async ({ env }) => {
  const leaks = leakedSecrets(env.sim, [env.operator.log(), JSON.stringify(await env.syncer('acme').catch(() => ({})))]);
  await env.close();
  assert.equal(leaks, [], 'a secret or token reached the log or status');
});

const byId = (users: StoredUser[]): Map<string, StoredUser> => new Map(users.map((u) => [String(u.spec.id), u]));

test('writes one CasdoorUser per member with the mapping, labels and owner', async ({ env }) => {
  await env.applySyncer('acme');
  const syncer = await env.waitReady('acme');
  assert.equal(syncer.status?.users, { total: 10, active: 8, forbidden: 2 });
  assert.is(syncer.status?.departments, 5);
  assert.is(syncer.status?.lastSync?.created, 10);
  const users = byId(await env.users('casdoor.org/syncer=acme'));
  assert.is(users.size, 10);
  const zhang = users.get('ZhangSan')!;
  assert.is(zhang.metadata.name, 'acme.zhangsan');
  assert.equal(zhang.metadata.labels, { 'casdoor.org/syncer': 'acme', 'casdoor.org/organization': 'acme' });
  assert.equal(zhang.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.controller]), [['WeComSyncer', 'acme', true]]);
  assert.equal(zhang.spec, {
    owner: 'acme', name: 'ZhangSan', id: 'ZhangSan', wecom: 'ZhangSan', displayName: '张三',
    email: 'zhangsan@acme.example', phone: '13800000000', countryCode: 'CN', avatar: 'https://a.example/z.png', title: 'Engineer',
    gender: 'Male', isForbidden: false, groups: ['acme/2', 'acme/3', 'acme/4'],
  });
  assert.is(users.get('lisi')!.spec.gender, 'Female');
  assert.is(users.get('wangwu')!.spec.isForbidden, true);
  assert.is(users.get('zhaoliu')!.spec.isForbidden, true);
  assert.not.ok('email' in users.get('lisi')!.spec, 'a field WeCom did not return is omitted');
  assert.ok(users.has('zhou.ba') && /^acme\.zhou-ba-[0-9a-f]{10}$/.test(users.get('zhou.ba')!.metadata.name));
  const groups = new Map((await env.groups()).map((g) => [String(g.spec.name), g.spec]));
  assert.equal(groups.get('2'), { owner: 'acme', name: '2', displayName: '研发中心', parentId: '1', isTopGroup: false, type: 'Physical', manager: 'ZhangSan' });
  assert.equal(groups.get('1')?.parentId, 'acme');
  assert.equal(groups.get('1')?.isTopGroup, true);
  assert.ok(groups.has('5'), 'an empty department is a group too');
  const wide = await env.cluster.kubectlOk(['get', 'wcs', 'acme', '-n', env.ns, '-o', 'wide']);
  assert.match(wide, /acme\s+ww\w+\s+True\s+10\s+/);
});

test('with the contacts secret restricted as on every new deployment (48009 on details), the sync works and names the members the app cannot see', async ({ env }) => {
  // The app sees department 4 (Infra) alone: three of the ten members.
  env.sim.setOrg({ ...smallOrg(), appScope: [4] });
  await env.applySyncer('acme', { contactsSecretRef: { name: 'wecom', key: 'contactsSecret' } });
  const syncer = await env.waitReady('acme');
  assert.equal((await env.users()).map((u) => String(u.spec.id)).sort(), ['ZhangSan', 'feng11', 'zhaoliu']);
  assert.is(syncer.status?.departments, 1);
  assert.ok((env.sim.counters.calls['user/list_id'] ?? 0) >= 1, 'the contacts secret paged user/list_id');
  const hidden = env.operator.log().split('\n').find((line) => line.includes('cannot see'));
  assert.ok(hidden, 'the log names the hidden members');
  assert.match(hidden!, /"count":\s*7/);
  const sample = (JSON.parse(hidden!) as { sample: string[] }).sample;
  assert.equal([...sample].sort(), ['chen12', 'lisi', 'sunqi', 'wangwu', 'wujiu', 'zhengshi', 'zhou.ba'], 'the log names who is hidden');
});

test('a CasdoorUser made by hand under a member\'s name before the syncer is taken over, not skipped', async ({ env }) => {
  // No syncer label: the operator's cache of owned objects does not hold it, so the sync finds it by its 409.
  const manual = { apiVersion: 'casdoor.org/v1alpha1', kind: 'CasdoorUser', metadata: { name: 'acme.zhangsan', namespace: env.ns }, spec: { owner: 'acme', name: 'ZhangSan', id: 'ZhangSan', displayName: 'by hand' } };
  await env.cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manual) });
  await env.applySyncer('acme');
  const syncer = await env.waitReady('acme');
  assert.is(syncer.status?.users?.total, 10);
  const zhang = byId(await env.users('casdoor.org/syncer=acme')).get('ZhangSan');
  assert.is(zhang?.metadata.name, 'acme.zhangsan');
  assert.is(zhang?.spec.displayName, '张三');
  assert.equal(zhang?.metadata.ownerReferences?.map((o) => o.kind), ['WeComSyncer']);
});

test('a resync with no change in WeCom writes nothing', async ({ env }) => {
  await env.applySyncer('acme');
  await env.waitReady('acme');
  const before = (await env.users()).map((u) => `${u.metadata.name}@${u.metadata.resourceVersion}`).sort();
  const syncer = await env.requestSync('acme');
  assert.equal(syncer.status?.lastSync, { created: 0, updated: 0, unchanged: 10, removed: 0, failed: 0, groupsCreated: 0, groupsUpdated: 0, groupsRemoved: 0, groupsFailed: 0 });
  const after = (await env.users()).map((u) => `${u.metadata.name}@${u.metadata.resourceVersion}`).sort();
  assert.equal(after, before);
});

test('carries over a changed and a disabled member, each with one write', async ({ env }) => {
  await env.applySyncer('acme');
  await env.waitReady('acme');
  env.sim.patchOrg({ upsertMembers: [member('lisi', [2], { gender: '2', name: '李四' }), member('sunqi', [1], { status: 2 })] });
  const syncer = await env.requestSync('acme');
  assert.is(syncer.status?.lastSync?.updated, 2);
  assert.is(syncer.status?.lastSync?.unchanged, 8);
  const users = byId(await env.users());
  assert.is(users.get('lisi')!.spec.displayName, '李四');
  assert.is(users.get('sunqi')!.spec.isForbidden, true);
});

test('Forbid marks a removed member and restores one who comes back', async ({ env }) => {
  await env.applySyncer('acme', { maxRemovals: 1 });
  await env.waitReady('acme');
  const chen = member('chen12', [1]);
  env.sim.patchOrg({ removeUserIds: ['chen12'] });
  let syncer = await env.requestSync('acme');
  assert.is(syncer.status?.lastSync?.removed, 1);
  let user = byId(await env.users()).get('chen12')!;
  assert.is(user.spec.isForbidden, true);
  assert.ok(user.metadata.annotations?.['casdoor.org/removed-from-source']);
  assert.equal(syncer.status?.users, { total: 10, active: 7, forbidden: 3 });
  env.sim.patchOrg({ upsertMembers: [chen] });
  syncer = await env.requestSync('acme');
  user = byId(await env.users()).get('chen12')!;
  assert.is(user.spec.isForbidden, false);
  assert.is(user.metadata.annotations?.['casdoor.org/removed-from-source'], undefined);
});

test('Delete deletes a removed member; Keep leaves it untouched', async ({ env }) => {
  await env.applySyncer('acme', { removedUsers: 'Delete' });
  await env.waitReady('acme');
  env.sim.patchOrg({ removeUserIds: ['chen12'] });
  await env.requestSync('acme');
  assert.not.ok(byId(await env.users()).has('chen12'));
  await env.applySyncer('acme', { removedUsers: 'Keep' });
  await env.waitReady('acme');
  const kept = byId(await env.users()).get('sunqi')!;
  env.sim.patchOrg({ removeUserIds: ['sunqi'] });
  const syncer = await env.requestSync('acme');
  assert.is(syncer.status?.lastSync?.removed, 0);
  assert.equal(byId(await env.users()).get('sunqi'), kept);
});

test('the removal guard removes nobody, still updates, and says what to do', async ({ env }) => {
  await env.applySyncer('acme', { removedUsers: 'Delete' });
  await env.waitReady('acme');
  // 10% of 10 rounds up to 1: removing 3 trips the guard.
  env.sim.patchOrg({ removeUserIds: ['sunqi', 'wujiu', 'chen12'], upsertMembers: [member('lisi', [2], { name: 'Li Si' })] });
  const syncer = await env.requestSync('acme');
  const stalled = syncer.status?.conditions?.find((c) => c.type === 'Stalled');
  const ready = syncer.status?.conditions?.find((c) => c.type === 'Ready');
  assert.is(stalled?.reason, 'RemovalsBlocked');
  assert.is(ready?.status, 'False');
  assert.match(ready?.message ?? '', /would remove 3 users \(limit 1\).*raise spec\.maxRemovals/);
  const users = byId(await env.users());
  assert.is(users.size, 10);
  assert.is(users.get('lisi')!.spec.displayName, 'Li Si');
  const events = await env.cluster.kubectlOk(['get', 'events', '-n', env.ns, '--field-selector', 'reason=RemovalsBlocked', '-o', 'name']);
  assert.ok(events.trim().length > 0, 'an Event says removals were blocked');
  // Raising the limit is a spec change: the next sync removes them.
  await env.applySyncer('acme', { removedUsers: 'Delete', maxRemovals: '50%' });
  await env.waitReady('acme');
  assert.is((await env.users()).length, 7);
});

test('puts back a CasdoorUser edited or deleted by hand at once', async ({ env }) => {
  await env.applySyncer('acme');
  await env.waitReady('acme');
  await env.cluster.kubectlOk(['patch', 'cu', 'acme.lisi', '-n', env.ns, '--type=merge', '-p', '{"spec":{"displayName":"hacked","email":"x@evil.example"}}']);
  await env.cluster.kubectlOk(['delete', 'cu', 'acme.sunqi', '-n', env.ns]);
  await env.cluster.kubectlOk(['patch', 'cg', 'acme.dept-2', '-n', env.ns, '--type=merge', '-p', '{"spec":{"displayName":"hacked"}}']);
  await waitFor('hand edits put back', async () => {
    const users = byId(await env.users());
    const group = (await env.groups()).find((g) => g.spec.name === '2');
    return users.get('lisi')?.spec.displayName === 'name-lisi' && !('email' in users.get('lisi')!.spec) && users.has('sunqi') && group?.spec.displayName === '研发中心' ? true : undefined;
  }, 15_000);
});

test('suspend tests the connection only; enabling it syncs', async ({ env }) => {
  await env.applySyncer('acme', { suspend: true });
  const syncer = await env.waitReady('acme', 'False');
  assert.is(syncer.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'Suspended');
  assert.is(syncer.status?.conditions?.find((c) => c.type === 'Connected')?.status, 'True');
  assert.is((await env.users()).length, 0);
  await env.applySyncer('acme', { suspend: false });
  await env.waitReady('acme');
  assert.is((await env.users()).length, 10);
});

test('syncGroups false writes no group and no spec.groups', async ({ env }) => {
  await env.applySyncer('acme', { syncGroups: false });
  await env.waitReady('acme');
  assert.is((await env.groups()).length, 0);
  assert.ok((await env.users()).every((u) => !('groups' in u.spec)));
});

test('deleting the syncer garbage-collects its users; --cascade=orphan keeps them', async ({ env }) => {
  await env.applySyncer('acme');
  await env.applySyncer('other', { organization: 'other' });
  await env.waitReady('acme');
  await env.waitReady('other');
  await env.cluster.kubectlOk(['delete', 'wcs', 'other', '-n', env.ns, '--cascade=orphan']);
  await env.cluster.kubectlOk(['delete', 'wcs', 'acme', '-n', env.ns]);
  await waitFor('garbage collection', async () => ((await env.users('casdoor.org/syncer=acme')).length === 0 ? true : undefined));
  assert.is((await env.users('casdoor.org/syncer=other')).length, 10);
});

test.run();
