// The Casdoor client against the stand-in over real HTTP.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CasdoorClient, type CasdoorClientOptions } from '../../src/casdoor/client.ts';
import { CasdoorError, CasdoorErrorReason } from '../../src/casdoor/errors.ts';
import { startCasdoor, type CasdoorStandIn } from '../support/casdoor/server.ts';

const test = suite<{ casdoor: CasdoorStandIn; clients: CasdoorClient[] }>('Casdoor client');

test.before.each(async (context) => {
  context.casdoor = await startCasdoor();
  context.clients = [];
});
test.after.each(async ({ casdoor, clients }) => {
  await Promise.all(clients.map((c) => c.close()));
  await casdoor.close();
});

function clientFor(context: { casdoor: CasdoorStandIn; clients: CasdoorClient[] }, options: Partial<CasdoorClientOptions> = {}): CasdoorClient {
  const client = new CasdoorClient({
    endpoint: context.casdoor.url,
    clientId: context.casdoor.app.clientId,
    clientSecret: context.casdoor.app.clientSecret,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
  context.clients.push(client);
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<CasdoorError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CasdoorError) return error;
    throw error;
  }
  throw new Error('expected a CasdoorError');
}

test('a wrong client secret is InvalidCredentials, though Casdoor only says "Unauthorized operation"', async (context) => {
  const client = clientFor(context, { clientSecret: 'not-the-secret' });
  const error = await rejection(client.checkAccess('acme'));
  assert.is(error.reason, CasdoorErrorReason.InvalidCredentials);
  assert.not.ok(error.transient);
  assert.is(context.casdoor.counters.calls['get-users'], 1, 'not retried');
});

test('keeps the session cookie: one session for many requests', async (context) => {
  const client = clientFor(context);
  for (let i = 0; i < 5; i++) await client.checkAccess('acme');
  assert.is(context.casdoor.counters.sessionsCreated, 1);
  assert.ok(client.session);
});

test('lists every user by the total: a page past the end repeats the last page, and is never asked for', async (context) => {
  for (let i = 0; i < 1234; i++) context.casdoor.store.addUser({ owner: 'acme', name: `user${i}` });
  const client = clientFor(context, { pageSize: 500 });
  const users = await client.listUsers('acme');
  assert.is(users.length, 1234);
  assert.is(new Set(users.map((u) => u.name)).size, 1234);
  assert.is(context.casdoor.counters.calls['get-users'], 3);
  // An exact multiple of the page size stops at the total too.
  context.casdoor.resetCounters();
  for (let i = 1234; i < 1500; i++) context.casdoor.store.addUser({ owner: 'acme', name: `user${i}` });
  assert.is((await client.listUsers('acme')).length, 1500);
  assert.is(context.casdoor.counters.calls['get-users'], 3);
  assert.equal(await client.listUsers('empty-org'), []);
  const slim = await client.listUsers('acme', { fields: ['displayName'] });
  assert.equal(Object.keys(slim[0]!).sort(), ['displayName', 'name', 'owner'], 'only the fields asked for are kept');
  const seen: string[] = [];
  const odd = await client.listUsers('acme', { reduce: (user) => (seen.push(user.name), Number(user.name.slice(4)) % 2 === 1 ? user : undefined) });
  assert.is(seen.length, 1500, 'every user is shown to reduce');
  assert.is(odd.length, 750, 'a user reduced to nothing is left out');
  assert.ok(odd.every((u) => Number(u.name.slice(4)) % 2 === 1));
});

test('a user read twice while the pages shift counts by its last reading, kept or reduced to nothing', async (context) => {
  for (const lastKept of [false, true]) {
    const org = lastKept ? 'second' : 'first';
    context.casdoor.store.createOrganization(org);
    for (let i = 0; i < 4; i++) context.casdoor.store.addUser({ owner: org, name: `u${i}` });
    const client = clientFor(context, { pageSize: 2 });
    let readings = 0;
    const users = await client.listUsers(org, {
      reduce: (user) => {
        if (user.name !== 'u0') return user;
        // Deleted and added again while page 1 is read: u0 is last now, and page 2 shows it again.
        if (++readings === 1) {
          context.casdoor.store.deleteUser({ owner: org, name: 'u0' });
          context.casdoor.store.addUser({ owner: org, name: 'u0' });
        }
        return (readings === 2) === lastKept ? user : undefined;
      },
    });
    assert.is(readings, 2, 'u0 was read twice');
    assert.is(users.some((u) => u.name === 'u0'), lastKept, lastKept ? 'kept at its last reading' : 'reduced at its last reading');
  }
});

test('an update names its columns: what it does not name survives', async (context) => {
  context.casdoor.store.addUser({ owner: 'acme', name: 'zhangsan', id: 'ZhangSan', email: 'z@acme.example', password: 'hunter2', properties: { oauth_GitHub_id: '7' } });
  const client = clientFor(context);
  await client.updateUser('acme', 'zhangsan', { displayName: '张三', properties: { 'casdoor.org/managed-by': 'ns/main' } }, ['displayName', 'properties']);
  const user = context.casdoor.store.getUser('acme/zhangsan')!;
  assert.is(user['displayName'], '张三');
  assert.is(user['email'], 'z@acme.example');
  assert.is(user['password'], 'hunter2');
  assert.equal(user['properties'], { oauth_GitHub_id: '7', 'casdoor.org/managed-by': 'ns/main' });
  await rejection(client.updateUser('acme', 'zhangsan', {}, [])).catch(() => undefined);
});

test('"database is locked", 5xx, HTML pages and dropped connections are retried', async (context) => {
  const client = clientFor(context);
  context.casdoor.fail({ endpoint: 'add-user', msg: 'database is locked' }, { endpoint: 'add-user', httpStatus: 502 }, { endpoint: 'add-user', html: true }, { endpoint: 'add-user', hangUp: true });
  await client.addUser({ owner: 'acme', name: 'lisi' });
  assert.is(context.casdoor.counters.calls['add-user'], 5, 'four spoiled answers, then the write');
  assert.ok(context.casdoor.store.getUser('acme/lisi'));
});

test('after the retries, Casdoor down is Unreachable and an HTML page BadResponse', async (context) => {
  const client = clientFor(context, { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
  context.casdoor.fail({ endpoint: 'get-users', httpStatus: 503, times: 3 });
  assert.is((await rejection(client.checkAccess('acme'))).reason, CasdoorErrorReason.Unreachable);
  context.casdoor.fail({ endpoint: 'get-users', html: true, times: 3 });
  const html = await rejection(client.checkAccess('acme'));
  assert.is(html.reason, CasdoorErrorReason.BadResponse);
  assert.match(html.message, 'HTML page');
  context.casdoor.setDown(true);
  assert.is((await rejection(client.checkAccess('acme'))).reason, CasdoorErrorReason.Unreachable);
});

test("an object Casdoor will not take is Refused with Casdoor's reason, at once", async (context) => {
  const client = clientFor(context);
  const name = await rejection(client.addUser({ owner: 'acme', name: 'zhao@acme' }));
  assert.is(name.reason, CasdoorErrorReason.Refused);
  assert.match(name.message, 'The username may only contain');
  const phone = await rejection(client.addUser({ owner: 'acme', name: 'bad', phone: '12' }));
  assert.is(phone.casdoorMessage, 'Phone number is invalid');
  assert.is(context.casdoor.counters.calls['add-user'], 2, 'refusals are not retried');
  const organization = await rejection(client.addUser({ owner: 'nosuch', name: 'x' }));
  assert.is(organization.reason, CasdoorErrorReason.OrganizationNotFound);
  assert.ok(await client.organizationExists('acme'));
  assert.not.ok(await client.organizationExists('nosuch'));
});

test('groups: add, list, overwrite whole, delete; a user already gone is no error', async (context) => {
  const client = clientFor(context);
  await client.addGroup({ owner: 'acme', name: '1', displayName: 'Acme', parentId: 'acme', isTopGroup: true, type: 'Physical' });
  await client.addGroup({ owner: 'acme', name: '2', displayName: 'R&D', parentId: '1', isTopGroup: false, type: 'Physical' });
  assert.equal((await client.listGroups('acme')).map((g) => g.name), ['1', '2']);
  const group = (await client.getGroup('acme', '2'))!;
  await client.updateGroup({ ...group, displayName: '研发' });
  assert.is((await client.getGroup('acme', '2'))?.['displayName'], '研发');
  assert.is((await rejection(client.deleteGroup('acme', '1'))).casdoorMessage, 'group has children group');
  await client.deleteGroup('acme', '2');
  await client.deleteUser('acme', 'nobody');
  assert.is(await client.getUser('acme', 'nobody'), undefined);
});

test('the client secret is in no error message, whatever failed', async (context) => {
  const secret = context.casdoor.app.clientSecret;
  const client = clientFor(context, { retry: { maxAttempts: 1 } });
  const messages: string[] = [];
  context.casdoor.fail({ msg: `something about ${secret}` });
  messages.push((await rejection(client.checkAccess('acme'))).message);
  context.casdoor.setDown(true);
  messages.push((await rejection(client.checkAccess('acme'))).message);
  const far = clientFor(context, { endpoint: 'http://127.0.0.1:1', retry: { maxAttempts: 1 } });
  messages.push((await rejection(far.checkAccess('acme'))).message);
  assert.equal(messages.filter((m) => m.includes(secret)), []);
});

test('a body larger than the bound is BadResponse, not read whole', async (context) => {
  for (let i = 0; i < 50; i++) context.casdoor.store.addUser({ owner: 'acme', name: `user${i}`, displayName: 'x'.repeat(1000) });
  const client = clientFor(context, { maxBodyBytes: 10_000 });
  const error = await rejection(client.listUsers('acme'));
  assert.is(error.reason, CasdoorErrorReason.BadResponse);
  assert.match(error.message, 'larger than 10000 bytes');
});

test.run();
