import * as assert from 'uvu/assert';
import { WeComError, WeComErrorReason } from '../../src/wecom/errors.ts';
import { fetchOrganization, rejectedUserIds, type FetchProgress } from '../../src/wecom/fetch.ts';
import { toCasdoorUserSpec } from '../../src/syncer/mapping.ts';
import { startSimulator } from '../support/simulator/server.ts';
import { simulatorSuite } from '../support/simulator/suite.ts';
import type { SimOrg } from '../support/simulator/org.ts';
import { clientFor, rejectionOf } from './support.ts';


/** Root 1 with children 2 and 3; 3 has child 4. Li is in 2 and 3, in that WeCom order. */
const smallOrg = (): SimOrg => ({
  departments: [
    { id: 1, name: '总部', parentid: 0, order: 1, department_leader: ['Boss'] },
    { id: 2, name: '研发', parentid: 1, order: 2, department_leader: [] },
    { id: 3, name: '销售', parentid: 1, order: 3, department_leader: [] },
    { id: 4, name: '华东', parentid: 3, order: 4, department_leader: [] },
  ],
  members: [
    { userid: 'Boss', name: '老板', department: [1], status: 1, email: 'boss@a.example', mobile: '13800000001', avatar: 'https://a/1', gender: '1' },
    { userid: 'li', name: '李雷', department: [3, 2], status: 1 },
    { userid: 'han', name: '韩梅梅', department: [4], status: 5 },
  ],
});


const test = simulatorSuite('fetchOrganization', { org: smallOrg() }, (sim) => sim.setOrg(smallOrg()));

test('fetches every member with one gettoken', async ({ sim }) => {
  const { client } = clientFor(sim);
  const org = await fetchOrganization(client);
  assert.equal(org.members.map((m) => m.userid).sort(), ['Boss', 'han', 'li']);
  assert.is(org.departments.length, 4);
  assert.is(sim.counters.calls['gettoken'], 1);
  assert.is(sim.counters.calls['user/list'], 4);
});

test('merges a member listed in several departments, in WeCom order', async ({ sim }) => {
  const { client } = clientFor(sim);
  const org = await fetchOrganization(client);
  const li = org.members.filter((m) => m.userid === 'li');
  assert.is(li.length, 1);
  assert.equal(li[0]?.departments, [3, 2]);
});

test('never runs more calls at once than the concurrency', async () => {
  const sim = await startSimulator({ generate: { members: 400, departments: 60, seed: 3 }, faults: { latencyMs: 15, maxConcurrent: 4 } });
  try {
    const { client } = clientFor(sim);
    const org = await fetchOrganization(client, { concurrency: 4 });
    assert.ok(org.members.length > 0);
    assert.is(sim.counters.maxInFlight, 4, 'bounded and used');
    assert.is(sim.counters.calls['user/list'], 60, 'no 45033 was answered, so no retry');
  } finally {
    await sim.close();
  }
});

test('a department that keeps failing fails the whole fetch', async ({ sim }) => {
  sim.setFaults({ failingDepartments: [3] });
  const { client } = clientFor(sim, { retry: { maxAttempts: 3 } });
  const error = (await rejectionOf(fetchOrganization(client, { concurrency: 2 }))) as WeComError;
  assert.instance(error, WeComError);
  assert.is(error.reason, WeComErrorReason.Busy);
  assert.match(error.message, /department 3/);
});

test('reports progress per department', async ({ sim }) => {
  const { client } = clientFor(sim);
  const seen: FetchProgress[] = [];
  await fetchOrganization(client, { onProgress: (p) => seen.push(p) });
  assert.equal(seen.map((p) => p.departmentsDone), [1, 2, 3, 4]);
  assert.ok(seen.every((p) => p.departmentsTotal === 4));
});

test('a malformed record is rejected and its userid kept from removal', async ({ sim }) => {
  sim.setFaults({ hostileRecords: [{ departmentId: 2, record: { userid: 'weird', name: ['not', 'a', 'string'], department: [2] } }] });
  const { client } = clientFor(sim);
  const org = await fetchOrganization(client);
  assert.not.ok(org.members.some((m) => m.userid === 'weird'));
  assert.equal([...rejectedUserIds(org)], ['weird']);
  assert.match(org.rejected[0]?.reason ?? '', /name/);
});

test('userids differing only in case are all rejected, whichever department lists one first', async ({ sim }) => {
  for (const departmentId of [4, 1]) {
    sim.setFaults({ hostileRecords: [{ departmentId, record: { userid: 'LI', name: 'x', department: [departmentId] } }] });
    const { client } = clientFor(sim);
    const org = await fetchOrganization(client);
    assert.equal(org.members.filter((m) => m.userid.toLowerCase() === 'li'), [], `listed in ${departmentId}`);
    assert.equal(org.rejected.map((r) => r.userid).sort(), ['LI', 'li']);
    assert.match(org.rejected[0]?.reason ?? '', /differ only in case/);
    assert.equal([...rejectedUserIds(org)].sort(), ['LI', 'li']);
  }
});

test('with the contacts secret, reports members the app cannot see', async ({ sim }) => {
  sim.setOrg({ ...smallOrg(), appScope: [2] });
  const app = clientFor(sim).client;
  const contacts = clientFor(sim, { contacts: true }).client;
  const org = await fetchOrganization(app, { contacts });
  assert.equal(org.departments.map((d) => d.id), [2]);
  assert.equal(org.members.map((m) => m.userid), ['li']);
  assert.equal(org.hiddenUserIds?.sort(), ['Boss', 'han']);
});

test('privacy-stripped fields are absent from the mapped spec', async ({ sim }) => {
  sim.setFaults({ privacyMode: true });
  const { client } = clientFor(sim);
  const org = await fetchOrganization(client);
  const boss = org.members.find((m) => m.userid === 'Boss');
  assert.ok(boss);
  const spec = toCasdoorUserSpec(boss, { organization: 'acme', syncGroups: false });
  assert.equal(spec, { owner: 'acme', name: 'Boss', id: 'Boss', wecom: 'Boss', displayName: '老板', isForbidden: false });
});

test('an abort stops the fetch', async ({ sim }) => {
  sim.setFaults({ latencyMs: 200 });
  const { client } = clientFor(sim);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('stopped')), 20);
  const error = (await rejectionOf(fetchOrganization(client, { signal: controller.signal }))) as Error;
  assert.is(error.message, 'stopped');
});

test.run();
