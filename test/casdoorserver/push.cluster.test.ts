// WeCom -> CasdoorUser -> Casdoor on the real control plane, driven through
// kubectl: the first push, changes within seconds, drift put right, fields
// Casdoor owns surviving, Skip and Adopt, prune, refusals.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type CasdoorEnv, casdoorEnv } from '../support/casdoor-env.ts';
import { leakedSecrets } from '../support/syncer-env.ts';
import { waitFor } from '../support/wait.ts';
import { member, smallOrg } from '../syncer/fixtures.ts';

const test = suite<{ env: CasdoorEnv }>('CasdoorServer push');

test.before.each(async (context) => {
  context.env = await casdoorEnv('cds', { org: smallOrg() });
});
test.after.each(async ({ env }) => {
  const texts = [env.operator.log(), await env.cluster.kubectlOk(['get', 'events,cds,wcs', '-n', env.ns, '-o', 'json'])];
  const leaks = [...leakedSecrets(env.sim, texts), ...env.casdoor.secrets().filter((s) => texts.some((t) => t.includes(s))).map((s) => `${s.slice(0, 4)}…`)];
  await env.close();
  assert.equal(leaks, [], 'a secret reached the log, an Event or status');
});

const MARK_KEY = 'casdoor.org/managed-by';
const byName = (env: CasdoorEnv): Map<string, Record<string, unknown>> => new Map(env.casdoorUsers().map((u) => [String(u['name']), u]));

/** A synced WeComSyncer `acme` and a Ready CasdoorServer `main`. */
async function pushed(env: CasdoorEnv, spec: Record<string, unknown> = {}): Promise<void> {
  await env.applySyncer('acme');
  await env.waitReady('acme');
  await env.applyServer('main', spec);
  await env.waitServer('main');
}

test('the first push writes every user and group, groups first and parents before children, each marked', async ({ env }) => {
  await pushed(env);
  const server = await env.server('main');
  assert.equal(server.status?.users, { selected: 10, inSync: 10, failed: 0, skipped: 0 });
  assert.equal(server.status?.groups, { selected: 5, inSync: 5, failed: 0, skipped: 0 });
  assert.is(server.status?.usersInSync, '10/10');
  assert.is(server.status?.lastSync?.['created'], 10);
  const users = byName(env);
  assert.is(users.size, 10);
  const zhang = users.get('ZhangSan')!;
  assert.equal([zhang['id'], zhang['wecom'], zhang['displayName'], zhang['phone'], zhang['countryCode'], zhang['email']], ['ZhangSan', 'ZhangSan', '张三', '13800000000', 'CN', 'zhangsan@acme.example']);
  assert.equal(zhang['groups'], ['acme/2', 'acme/3', 'acme/4']);
  assert.is((zhang['properties'] as Record<string, string>)[MARK_KEY], `${env.ns}/main`);
  assert.is(users.get('wangwu')!['isForbidden'], true);
  // Groups: parents were created before their children (Casdoor's store keeps creation order).
  const groups = [...env.casdoor.store.groups.values()].filter((g) => g['owner'] === 'acme').map((g) => String(g['name']));
  assert.equal(groups.slice().sort(), ['1', '2', '3', '4', '5']);
  for (const [child, parent] of [['2', '1'], ['3', '2'], ['4', '3'], ['5', '1']]) assert.ok(groups.indexOf(parent!) < groups.indexOf(child!), `${parent} before ${child}`);
  assert.is(env.casdoor.store.groups.get('1')!['parentId'], 'acme');
  assert.is(env.casdoor.counters.sessionsCreated, 1, 'one Casdoor session for the whole push');
  const wide = await env.cluster.kubectlOk(['get', 'cds', 'main', '-n', env.ns, '-o', 'wide']);
  assert.match(wide, /main\s+http:\/\/127\.0\.0\.1:\d+\s+True\s+10\/10\s+/);
});

test('a member renamed in WeCom reaches Casdoor within seconds, in one write and no listing', async ({ env }) => {
  await pushed(env);
  env.casdoor.resetCounters();
  env.sim.patchOrg({ upsertMembers: [member('lisi', [2], { gender: '2', name: '李四 (renamed)' })] });
  await env.requestSync('acme');
  await waitFor('the new name in Casdoor', async () => (byName(env).get('lisi')?.['displayName'] === '李四 (renamed)' ? true : undefined), 10_000, 100);
  assert.is(env.casdoor.counters.writes, 1, 'one write for one change');
  assert.is(env.casdoor.counters.calls['get-users'] ?? 0, 0, 'no listing of Casdoor');
});

test('a member who leaves WeCom is forbidden in Casdoor', async ({ env }) => {
  await pushed(env);
  env.sim.patchOrg({ removeUserIds: ['wujiu'] });
  await env.requestSync('acme');
  await waitFor('wujiu forbidden in Casdoor', async () => (byName(env).get('wujiu')?.['isForbidden'] === true ? true : undefined), 10_000, 100);
});

test('an edit in Casdoor is reverted and a deletion in Casdoor recreated at the next comparison; a comparison with nothing to change writes nothing', async ({ env }) => {
  await pushed(env);
  env.casdoor.store.updateUser('acme/lisi', { displayName: 'edited in Casdoor' }, ['displayName']);
  env.casdoor.store.deleteUser({ owner: 'acme', name: 'sunqi' });
  env.casdoor.resetCounters();
  const compared = await env.requestComparison('main');
  assert.is(compared.status?.lastSync?.['updated'], 1);
  assert.is(compared.status?.lastSync?.['created'], 1);
  assert.is(byName(env).get('lisi')?.['displayName'], 'name-lisi');
  assert.ok(byName(env).get('sunqi'), 'recreated');
  env.casdoor.resetCounters();
  const again = await env.requestComparison('main');
  assert.is(env.casdoor.counters.writes, 0, 'nothing to change, nothing written');
  assert.is(again.status?.lastSync?.['unchanged'], 10);
});

test("fields Casdoor holds that the spec does not survive every write: password, properties, roles; an absent field is never blanked", async ({ env }) => {
  await pushed(env);
  env.casdoor.store.updateUser('acme/ZhangSan', { password: 'hunter2', properties: { oauth_GitHub_id: '42' }, roles: ['admin'] }, ['password', 'properties']);
  const stored = env.casdoor.store.users.get('acme/ZhangSan')!;
  stored['roles'] = ['admin'];
  // WeCom's privacy rules strip the email: the spec loses it, Casdoor keeps it.
  env.sim.setFaults({ privacyMode: true });
  env.sim.patchOrg({ upsertMembers: [member('ZhangSan', [2, 3, 4], { name: '张三丰', email: 'zhangsan@acme.example', mobile: '13800000000', gender: '1' })] });
  await env.requestSync('acme');
  await waitFor('the rename in Casdoor', async () => (byName(env).get('ZhangSan')?.['displayName'] === '张三丰' ? true : undefined), 10_000, 100);
  await env.requestComparison('main');
  const zhang = byName(env).get('ZhangSan')!;
  assert.is(zhang['password'], 'hunter2');
  assert.equal(zhang['roles'], ['admin']);
  assert.is((zhang['properties'] as Record<string, string>)['oauth_GitHub_id'], '42');
  assert.is((zhang['properties'] as Record<string, string>)[MARK_KEY], `${env.ns}/main`);
  assert.is(zhang['email'], 'zhangsan@acme.example', 'an email WeCom no longer returns stays in Casdoor');
});

test('users already in Casdoor: Skip leaves them alone and lists them; Adopt takes them over', async ({ env }) => {
  env.casdoor.store.addUser({ owner: 'acme', name: 'lisi', displayName: 'made by Casdoor\'s own syncer', registerSource: 'acme/wecom' });
  await pushed(env);
  const skipped = await env.server('main');
  assert.equal(skipped.status?.users, { selected: 10, inSync: 9, failed: 0, skipped: 1 });
  assert.is(byName(env).get('lisi')?.['displayName'], 'made by Casdoor\'s own syncer');
  await env.applyServer('main', { existingUsers: 'Adopt' });
  const adopted = await env.waitServer('main');
  assert.is(adopted.status?.lastSync?.['adopted'], 1);
  const lisi = byName(env).get('lisi')!;
  assert.is(lisi['displayName'], 'name-lisi');
  assert.is(lisi['registerSource'], 'acme/wecom', 'what the spec does not hold stays');
  assert.is((lisi['properties'] as Record<string, string>)[MARK_KEY], `${env.ns}/main`);
});

test('a CasdoorUser deleted in Kubernetes is deleted from Casdoor (prune), once the deletions settle', async ({ env }) => {
  await env.applySyncer('acme', { removedUsers: 'Delete' });
  await env.waitReady('acme');
  await env.applyServer('main');
  await env.waitServer('main');
  env.sim.patchOrg({ removeUserIds: ['chen12'] });
  await env.requestSync('acme');
  await waitFor('chen12 gone from Casdoor', async () => (byName(env).has('chen12') ? undefined : true), 20_000, 200);
  assert.is(byName(env).size, 9);
  await env.applyServer('main', { prune: false });
  await env.waitServer('main');
  env.sim.patchOrg({ removeUserIds: ['feng11'] });
  await env.requestSync('acme');
  await new Promise((resolve) => setTimeout(resolve, 7000));
  assert.ok(byName(env).has('feng11'), 'prune off: nothing deleted');
});

test('a name and a phone Casdoor refuses: Ready stays True, the failures listed, an Event on each object', async ({ env }) => {
  await pushed(env);
  await env.cluster.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'casdoor.org/v1alpha1', kind: 'CasdoorUser', metadata: { name: 'bad-name', namespace: env.ns }, spec: { owner: 'acme', name: 'zhao@acme', id: 'zhao@acme', wecom: 'zhao@acme', isForbidden: false } },
      { apiVersion: 'casdoor.org/v1alpha1', kind: 'CasdoorUser', metadata: { name: 'bad-phone', namespace: env.ns }, spec: { owner: 'acme', name: 'badphone', id: 'badphone', wecom: 'badphone', phone: '12', isForbidden: false } },
      { apiVersion: 'casdoor.org/v1alpha1', kind: 'CasdoorUser', metadata: { name: 'other-org', namespace: env.ns }, spec: { owner: 'elsewhere', name: 'x', id: 'x', wecom: 'x', isForbidden: false } },
    ] }),
  });
  const server = await waitFor('three failures listed', async () => {
    const s = await env.server('main');
    return (s.status?.failures?.length ?? 0) >= 3 ? s : undefined;
  }, 15_000, 200);
  assert.is(server.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  const reasons = new Map(server.status!.failures!.map((f) => [f.name, f.reason]));
  assert.match(reasons.get('bad-name') ?? '', 'Casdoor refused the user: The username may only contain');
  assert.match(reasons.get('bad-phone') ?? '', 'Casdoor refused the user: Phone number is invalid');
  assert.match(reasons.get('other-org') ?? '', `organization elsewhere is not in spec.organizations of CasdoorServer ${env.ns}/main`);
  assert.not.ok(env.casdoor.store.organizations.has('elsewhere') && env.casdoorUsers('elsewhere').length > 0, 'nothing written outside the organizations');
  const events = JSON.parse(await env.cluster.kubectlOk(['get', 'events', '-n', env.ns, '-o', 'json'])) as { items: Array<{ involvedObject: { kind: string; name: string }; type: string; message: string }> };
  for (const name of ['bad-name', 'bad-phone', 'other-org']) {
    assert.ok(events.items.some((e) => e.involvedObject.kind === 'CasdoorUser' && e.involvedObject.name === name && e.type === 'Warning'), `an Event on ${name}`);
  }
});

test.run();
