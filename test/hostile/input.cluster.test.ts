// Hostile WeCom answers end to end, on the real control plane: WeCom's record of an
// existing member turns malformed, a second userid differing only in case, records
// without a usable userid, broken JSON. Each sync either rejects the records with a
// reason (operator log and Ready) or fails with a clear reason; the operator keeps
// running; and nothing is removed or rewritten: every existing CasdoorUser keeps its
// resourceVersion. maxRemovals is 100%, so it is the protection that holds, not the guard.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { SimMember } from '../support/simulator/org.ts';
import { type StoredUser, type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';
import { smallOrg } from '../syncer/fixtures.ts';
import { closeAndScanForSecrets } from './support.ts';

const test = suite<{ env: SyncerEnv }>('hostile input, end to end');

test.before(async (context) => {
  context.env = await syncerEnv('hostile', { org: smallOrg() });
  // With the contacts secret too, so its tokens are among those the final scan looks for.
  await context.env.applySyncer('acme', { maxRemovals: '100%', contactsSecretRef: { name: 'wecom', key: 'contactsSecret' } });
  await context.env.waitReady('acme');
});

test.before.each(({ env }) => {
  env.sim.setOrg(smallOrg());
  env.sim.resetFaults();
});

test.after(({ env }) => closeAndScanForSecrets(env));

/** Every CasdoorUser by name: resourceVersion and spec. */
async function snapshot(env: SyncerEnv): Promise<Map<string, StoredUser>> {
  return new Map((await env.users()).map((u) => [u.metadata.name, u]));
}

/** Asserts no CasdoorUser was created, removed, forbidden or rewritten since `before`. */
async function assertUntouched(env: SyncerEnv, before: Map<string, StoredUser>): Promise<void> {
  const after = await snapshot(env);
  assert.equal([...after.keys()].sort(), [...before.keys()].sort(), 'the set of CasdoorUsers changed');
  for (const [name, user] of after) {
    assert.is(user.metadata.resourceVersion, before.get(name)?.metadata.resourceVersion, `${name} was rewritten`);
    assert.not.ok(user.metadata.annotations?.['casdoor.org/removed-from-source'], `${name} was marked removed`);
  }
}

/** The operator is still running, and its log has no crash. */
function assertAlive(env: SyncerEnv): void {
  const pid = env.operator.pid;
  assert.ok(pid !== undefined);
  assert.not.throws(() => process.kill(pid, 0), 'the operator process is gone');
  assert.not.match(env.operator.log(), /uncaught|unhandled|"level":60/i);
}

/** The members of smallOrg without `userid`, plus `record` in the listing of `departmentId`. */
function replaceRecord(env: SyncerEnv, userid: string, departmentId: number, record: unknown): void {
  const org = smallOrg();
  env.sim.setOrg({ ...org, members: org.members.filter((m: SimMember) => m.userid !== userid) });
  env.sim.setFaults({ hostileRecords: [{ departmentId, record }] });
}

// WeCom's record of lisi (department 2) turns into this: [what, record, reason in the log and Ready].
const malformed: Array<[string, Record<string, unknown>, RegExp]> = [
  ['status as a string', { userid: 'lisi', name: 'name-lisi', status: '1', department: [2] }, /lisi: status is not an integer/],
  ['department not a list', { userid: 'lisi', name: 'name-lisi', status: 1, department: '2' }, /lisi: department is not a list/],
  ['a 1 MB name', { userid: 'lisi', name: '李'.repeat(1024 * 1024), status: 1, department: [2] }, /lisi: name is longer than 4096 characters/],
  ['a name that is an object', { userid: 'lisi', name: { zh: '李四' }, status: 1, department: [2] }, /lisi: name is not a string/],
];

for (const [what, record, reason] of malformed) {
  test(`a member's record with ${what} is rejected with its reason and the member left as it is`, async ({ env }) => {
    const before = await snapshot(env);
    const logFrom = env.operator.log().length;
    replaceRecord(env, 'lisi', 2, record);
    const syncer = await env.requestSync('acme');
    const ready = syncer.status?.conditions?.find((c) => c.type === 'Ready');
    assert.is(ready?.status, 'True', ready?.message);
    assert.match(ready?.message ?? '', /1 member record from WeCom malformed and left as they are/);
    assert.match(ready?.message ?? '', reason);
    assert.ok(ready!.message.length < 2000, 'the hostile value reached status');
    const log = env.operator.log().slice(logFrom);
    assert.match(log, /member records from WeCom were malformed and left as they are/);
    assert.match(log, new RegExp(`"userid":"lisi","departmentId":2,"reason":"${reason.source.replace(/^lisi: /, '')}`));
    await assertUntouched(env, before);
    assertAlive(env);
  });
}

test('a second userid differing only in case, listed first, takes over nobody', async ({ env }) => {
  const before = await snapshot(env);
  // Department 1 is listed before department 2, ZhangSan's own.
  env.sim.setFaults({ hostileRecords: [{ departmentId: 1, record: { userid: 'ZHANGSAN', name: 'impostor', email: 'evil@attacker.example', status: 1, department: [1] } }] });
  const syncer = await env.requestSync('acme');
  const ready = syncer.status?.conditions?.find((c) => c.type === 'Ready');
  assert.is(ready?.status, 'True', ready?.message);
  assert.match(ready?.message ?? '', /2 member records from WeCom malformed/);
  assert.match(ready?.message ?? '', /userids ZHANGSAN, ZhangSan differ only in case|userids ZhangSan, ZHANGSAN differ only in case/);
  await assertUntouched(env, before);
  const zhangsan = (await snapshot(env)).get('acme.zhangsan');
  assert.is(zhangsan?.spec['id'], 'ZhangSan');
  assert.is(zhangsan?.spec['displayName'], '张三');
  assertAlive(env);
});

// Records with no usable userid could be anyone: while one is there, nobody counts as gone.
const unidentified: Array<[string, unknown]> = [
  ['a userid with characters WeCom does not allow', { userid: 'chen 12/../x', name: 'x', department: [1] }],
  ['a userid in Chinese', { userid: '陈十二', name: 'x', department: [1] }],
  ['a null record', null],
  ['a userid null', { userid: null, name: 'x', department: [1] }],
];

for (const [what, record] of unidentified) {
  test(`${what}, while a member really leaves: nobody is removed in that sync`, async ({ env }) => {
    const before = await snapshot(env);
    const logFrom = env.operator.log().length;
    // chen12 (department 1) leaves, and department 1 also lists the hostile record.
    replaceRecord(env, 'chen12', 1, record);
    const syncer = await env.requestSync('acme');
    const ready = syncer.status?.conditions?.find((c) => c.type === 'Ready');
    assert.is(ready?.status, 'True', ready?.message);
    assert.match(ready?.message ?? '', /a record without a valid userid in department 1: (userid is missing|member record is not an object)/);
    assert.match(env.operator.log().slice(logFrom), /member records without a usable userid: nobody is removed in this sync/);
    await assertUntouched(env, before);
    assertAlive(env);
  });
}

test('once the hostile record is gone, the member who left is forbidden as usual, and restored on return', async ({ env }) => {
  const org = smallOrg();
  env.sim.setOrg({ ...org, members: org.members.filter((m) => m.userid !== 'chen12') });
  await env.requestSync('acme');
  const chen = (await snapshot(env)).get('acme.chen12');
  assert.is(chen?.spec['isForbidden'], true);
  assert.ok(chen?.metadata.annotations?.['casdoor.org/removed-from-source']);
  env.sim.setOrg(smallOrg());
  await env.requestSync('acme');
  const back = (await snapshot(env)).get('acme.chen12');
  assert.is(back?.spec['isForbidden'], false);
  assert.not.ok(back?.metadata.annotations?.['casdoor.org/removed-from-source']);
});

// Answers that are not JSON, every time (more than the client's 5 attempts): the sync fails.
const broken: Array<[string, 'truncated' | 'malformed' | 'html' | 'empty', RegExp]> = [
  ['truncated JSON', 'truncated', /is not JSON \(\d+ bytes\)/],
  ['invalid JSON', 'malformed', /is not JSON \(\d+ bytes\)/],
  ['an HTML page', 'html', /is not JSON \(an HTML or XML page\)/],
];

for (const [what, body, message] of broken) {
  test(`${what} from user/list fails the sync with BadResponse, touching nobody; it converges after`, async ({ env }) => {
    const before = await snapshot(env);
    env.sim.setFaults({ script: [{ endpoint: 'user/list', body, times: 1000 }] });
    const syncer = await env.requestSync('acme');
    const ready = syncer.status?.conditions?.find((c) => c.type === 'Ready');
    assert.is(ready?.status, 'False');
    assert.is(ready?.reason, 'BadResponse');
    assert.match(ready?.message ?? '', /listing the members of department \d+ failed: WeCom's answer for \/cgi-bin\/user\/list/);
    assert.match(ready?.message ?? '', message);
    assert.not.ok(syncer.status?.conditions?.some((c) => c.type === 'Stalled'), 'a broken answer is not for a human to fix');
    await assertUntouched(env, before);
    assertAlive(env);
    env.sim.resetFaults();
    await env.waitReady('acme', 'True', 70_000);
    await assertUntouched(env, before);
  });
}

test('a 70 MB answer is cut off at the 64 MiB limit: the sync fails, touching nobody, and the operator lives on', async ({ env }) => {
  const before = await snapshot(env);
  replaceRecord(env, 'lisi', 2, { userid: 'lisi', name: 'x'.repeat(70 * 1024 * 1024), department: [2] });
  const syncer = await env.requestSync('acme');
  const ready = syncer.status?.conditions?.find((c) => c.type === 'Ready');
  assert.is(ready?.status, 'False');
  assert.is(ready?.reason, 'BadResponse');
  assert.match(ready?.message ?? '', /listing the members of department 2 failed: WeCom's answer for \/cgi-bin\/user\/list exceeds the size limit/);
  await assertUntouched(env, before);
  assertAlive(env);
  env.sim.setOrg(smallOrg());
  env.sim.resetFaults();
  await env.waitReady('acme', 'True', 70_000);
  await assertUntouched(env, before);
});

test('after all of it the operator still serves a sync request, and the users are exact', async ({ env }) => {
  const syncer = await env.requestSync('acme');
  assert.is(syncer.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  assert.is(syncer.status?.users?.total, 10);
  const ids = (await env.users()).map((u) => u.spec['id']).sort();
  assert.equal(ids, smallOrg().members.map((m) => m.userid).sort());
  assertAlive(env);
});

test.run();
