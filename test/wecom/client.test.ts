import * as assert from 'uvu/assert';
import type { WeComRequestInfo } from '../../src/wecom/client.ts';
import { WeComError, WeComErrorReason } from '../../src/wecom/errors.ts';
import { startSimulator } from '../support/simulator/server.ts';
import { simulatorSuite } from '../support/simulator/suite.ts';
import { clientFor, rejectionOf } from './support.ts';

const test = simulatorSuite('WeComClient', { generate: { members: 30, departments: 6, seed: 7 } });

test('reuses one token for many calls', async ({ sim }) => {
  const { client } = clientFor(sim);
  await client.listDepartments();
  await client.listMembers(1);
  await client.listMembers(2);
  assert.is(sim.counters.calls['gettoken'], 1);
  assert.is(sim.counters.tokensIssued, 1);
});

test('concurrent first calls share one gettoken', async ({ sim }) => {
  const { client } = clientFor(sim);
  await Promise.all([1, 2, 3, 4, 5, 6].map((id) => client.listMembers(id)));
  assert.is(sim.counters.calls['gettoken'], 1);
});

for (const errcode of [42001, 40014] as const) {
  test(`renews the token and retries once on ${errcode}`, async ({ sim }) => {
    const { client } = clientFor(sim);
    await client.listDepartments();
    sim.killTokens(errcode);
    const listing = await client.listDepartments();
    assert.ok(listing.departments.length > 0);
    assert.is(sim.counters.calls['gettoken'], 2);
    assert.is(sim.counters.calls['department/list'], 2 + 1);
  });
}

test('renews a token that expired by its lifetime', async () => {
  const sim = await startSimulator({ tokenLifetimeSeconds: 1, generate: { members: 3, departments: 1 } });
  try {
    // A margin of 0 keeps the stale token cached, so WeCom's 42001 is what renews it.
    const { TokenCache } = await import('../../src/wecom/token-cache.ts');
    const { client } = clientFor(sim, { tokenCache: new TokenCache({ marginMs: 0, now: () => 0 }) });
    await client.listMembers(1);
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    await client.listMembers(1);
    assert.is(sim.counters.calls['gettoken'], 2);
  } finally {
    await sim.close();
  }
});

const transient = [
  ['45009 frequency limit', { errcode: 45009 }],
  ['-1 system busy', { errcode: -1 }],
  ['45033 concurrency limit', { errcode: 45033 }],
  ['HTTP 502', { httpStatus: 502 }],
  ['HTTP 503 with a JSON body', { httpStatus: 503, body: 'empty' }],
  ['an HTML page with HTTP 200', { body: 'html' }],
  ['malformed JSON', { body: 'malformed' }],
  ['truncated JSON', { body: 'truncated' }],
] as const;
for (const [name, fault] of transient) {
  test(`retries after ${name}`, async ({ sim }) => {
    sim.setFaults({ script: [{ endpoint: 'user/list', times: 2, ...fault }] });
    const { client, sleeps } = clientFor(sim);
    const listing = await client.listMembers(1);
    assert.ok(listing.members.length > 0);
    assert.is(sim.counters.calls['user/list'], 3);
    assert.equal(sleeps, [250, 500], 'full jitter at random 0.5 of 500 ms doubling');
  });
}

test('retries gettoken itself on a frequency limit and on busy', async ({ sim }) => {
  sim.setFaults({ script: [{ endpoint: 'gettoken', errcode: 45009 }, { endpoint: 'gettoken', errcode: -1 }] });
  const { client, sleeps } = clientFor(sim);
  await client.listDepartments();
  assert.is(sim.counters.calls['gettoken'], 3);
  assert.is(sim.counters.tokensIssued, 1);
  assert.is(sleeps.length, 2);
});

test('gives up after the bounded number of attempts', async ({ sim }) => {
  sim.setFaults({ script: [{ endpoint: 'user/list', times: 100, errcode: -1 }] });
  const { client } = clientFor(sim, { retry: { maxAttempts: 3 } });
  const error = await rejectionOf(client.listMembers(1));
  assert.instance(error, WeComError);
  assert.is((error as WeComError).reason, WeComErrorReason.Busy);
  assert.is(sim.counters.calls['user/list'], 3);
});

test('never retries a wrong secret: gettoken is called exactly once', async ({ sim }) => {
  const { client, sleeps } = clientFor(sim, { secret: 'not-the-secret' });
  const error = await rejectionOf(client.listDepartments());
  assert.instance(error, WeComError);
  assert.is((error as WeComError).reason, WeComErrorReason.InvalidSecret);
  assert.is((error as WeComError).errcode, 40001);
  assert.is(sim.counters.calls['gettoken'], 1);
  assert.equal(sleeps, []);
});

test('never retries a wrong corp ID', async ({ sim }) => {
  const { client } = clientFor(sim, { corpId: 'wwwrong' });
  const error = (await rejectionOf(client.listDepartments())) as WeComError;
  assert.is(error.reason, WeComErrorReason.InvalidCorpID);
  assert.is(sim.counters.calls['gettoken'], 1);
});

test('connection test catches an untrusted IP and names the IP to allow', async ({ sim }) => {
  sim.setFaults({ untrustedIP: true, callerIP: '203.0.113.7' });
  const { client } = clientFor(sim);
  const error = (await rejectionOf(client.listDepartments())) as WeComError;
  assert.is(error.reason, WeComErrorReason.IPNotAllowed);
  assert.is(error.errcode, 60020);
  assert.ok(error.message.includes("add 203.0.113.7 to the app's trusted IPs"), error.message);
  assert.is(sim.counters.calls['department/list'], 1, 'not retried');
});

test('connection test catches a department outside the visible scope', async ({ sim }) => {
  const { client } = clientFor(sim);
  sim.setFaults({ script: [{ endpoint: 'department/list', errcode: 60011 }] });
  const error = (await rejectionOf(client.listDepartments())) as WeComError;
  assert.is(error.reason, WeComErrorReason.OutOfScope);
});

test('falls back to department/simplelist when the contacts secret gets 48009', async ({ sim }) => {
  const { client } = clientFor(sim, { contacts: true });
  const listing = await client.listDepartments();
  assert.ok(listing.simple);
  assert.is(listing.departments.length, sim.org.departments.length);
  assert.is(listing.departments[0]?.name, undefined);
  assert.is(sim.counters.calls['department/simplelist'], 1);
});

test('user/list_id with the app secret is refused with 48002', async ({ sim }) => {
  const { client } = clientFor(sim);
  const error = (await rejectionOf(client.listUserIds())) as WeComError;
  assert.is(error.reason, WeComErrorReason.SecretNotAllowed);
  assert.is(error.errcode, 48002);
});

test('user/list_id follows the cursor across pages', async () => {
  const sim = await startSimulator({ generate: { members: 25_000, departments: 3, multiDepartmentShare: 0 } });
  try {
    const { client } = clientFor(sim, { contacts: true });
    const rows = await client.listUserIds();
    assert.is(rows.length, 25_000);
    assert.is(sim.counters.calls['user/list_id'], 3);
  } finally {
    await sim.close();
  }
});

test('a redirect is never followed', async ({ sim }) => {
  sim.setFaults({ script: [{ endpoint: 'gettoken', httpStatus: 302 }] });
  const { client } = clientFor(sim);
  const error = (await rejectionOf(client.listDepartments())) as WeComError;
  assert.is(error.reason, WeComErrorReason.BadResponse);
  assert.is(error.retryable, false);
  assert.is(sim.counters.calls['gettoken'], 1);
});

test('an oversized body is a clear error', async ({ sim }) => {
  const { client } = clientFor(sim, { maxBodyBytes: 200 });
  const error = (await rejectionOf(client.listMembers(1))) as WeComError;
  assert.is(error.reason, WeComErrorReason.BadResponse);
  assert.match(error.message, /size limit/);
});

test('an unreachable API is Unreachable and retried', async () => {
  const sim = await startSimulator();
  const url = sim.url;
  await sim.close();
  const { client, sleeps } = clientFor({ ...sim, url }, { retry: { maxAttempts: 2 } });
  const error = (await rejectionOf(client.listDepartments())) as WeComError;
  assert.is(error.reason, WeComErrorReason.Unreachable);
  assert.is(sleeps.length, 1);
});

test('a slow answer times out as Unreachable', async ({ sim }) => {
  sim.setFaults({ latencyMs: 300 });
  const { client } = clientFor(sim, { timeoutMs: 50, retry: { maxAttempts: 1 } });
  const error = (await rejectionOf(client.listDepartments())) as WeComError;
  assert.is(error.reason, WeComErrorReason.Unreachable);
  assert.match(error.message, /timed out/);
});

test('malformed member records are rejected one by one', async ({ sim }) => {
  sim.setFaults({
    hostileRecords: [
      { departmentId: 1, record: { userid: 'bad1', name: 42, department: [1] } },
      { departmentId: 1, record: { userid: 'bad2', department: 'one' } },
      { departmentId: 1, record: { userid: 'no spaces allowed' } },
      { departmentId: 1, record: null },
      { departmentId: 1, record: { userid: 'bad3', status: '1' } },
    ],
  });
  const { client } = clientFor(sim);
  const listing = await client.listMembers(1);
  assert.equal(listing.rejected.map((r) => r.userid), ['bad1', 'bad2', undefined, undefined, 'bad3']);
  assert.ok(listing.rejected.every((r) => r.departmentId === 1 && r.reason.length > 0));
  assert.ok(listing.members.length > 0);
});

test('tells onRequest of every attempt by endpoint, errcode and HTTP status, with no URL or credential', async ({ sim }) => {
  const infos: WeComRequestInfo[] = [];
  const { client } = clientFor(sim, { onRequest: (info) => infos.push(info) });
  await client.listDepartments();
  sim.setFaults({ script: [{ endpoint: 'user/list', errcode: -1 }, { endpoint: 'user/list', httpStatus: 502 }] });
  await client.listMembers(1);
  assert.equal(infos.map((i) => [i.endpoint, i.errcode, i.httpStatus]), [
    ['gettoken', 0, 200],
    ['department/list', 0, 200],
    ['user/list', -1, 200],
    ['user/list', undefined, 502],
    ['user/list', 0, 200],
  ]);
  assert.ok(infos.every((i) => i.durationMs >= 0));
  const text = JSON.stringify(infos);
  for (const secret of [sim.corpSecret, ...sim.issuedTokens()]) assert.not.ok(text.includes(secret));
});

test('an onRequest that throws fails no call', async ({ sim }) => {
  const { client } = clientFor(sim, { onRequest: () => { throw new Error('observer broke'); } });
  const listing = await client.listDepartments();
  assert.ok(listing.departments.length > 0);
});

test.run();
