// The CasdoorServer when things go wrong, on the real control plane: a deleted
// WeComSyncer (the deletion guard), wrong credentials, an endpoint its Secret does
// not allow, Casdoor down, a locked database, a restart mid-push, two servers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startCasdoor } from '../support/casdoor/server.ts';
import { type CasdoorEnv, casdoorEnv } from '../support/casdoor-env.ts';
import { startOperator } from '../support/operator.ts';
import { waitFor } from '../support/wait.ts';
import { smallOrg } from '../syncer/fixtures.ts';

const test = suite<{ env?: CasdoorEnv }>('CasdoorServer faults');

test.after.each(async (context) => {
  if (!context.env) return;
  const env = context.env;
  context.env = undefined;
  const texts = [env.operator.log(), await env.cluster.kubectlOk(['get', 'events,cds', '-n', env.ns, '-o', 'json'])];
  await env.close();
  assert.equal(env.casdoor.secrets().filter((s) => texts.some((t) => t.includes(s))).length, 0, 'a client secret reached the log, an Event or status');
});

const condition = (server: { status?: { conditions?: Array<{ type: string; reason: string; status: string; message: string }> } }, type: string) =>
  server.status?.conditions?.find((c) => c.type === type);

test('deleting a WeComSyncer of 1,000 members deletes nobody from Casdoor: the deletions are blocked together', async (context) => {
  const env = (context.env = await casdoorEnv('cds-guard', { generate: { members: 1000, departments: 10, seed: 3 } }));
  await env.applySyncer('acme', { syncGroups: false });
  await env.waitReady('acme', 'True', 60_000);
  await env.applyServer('main');
  const pushed = await env.waitServer('main', 'True', 60_000);
  assert.is(pushed.status?.users?.inSync, 1000);
  await env.cluster.kubectlOk(['delete', 'wcs', 'acme', '-n', env.ns]);
  await waitFor('the CasdoorUsers garbage-collected', async () => ((await env.users()).length === 0 ? true : undefined), 60_000, 500);
  const blocked = await waitFor('the deletions blocked', async () => {
    const server = await env.server('main');
    return condition(server, 'Stalled')?.reason === 'DeletionsBlocked' ? server : undefined;
  }, 30_000, 200);
  assert.match(condition(blocked, 'Stalled')!.message, /1000 users would be deleted from Casdoor, more than spec.maxDeletions allows \(100\)/);
  assert.is(condition(blocked, 'Ready')?.status, 'False');
  assert.is(env.casdoorUsers().length, 1000, 'nobody deleted from Casdoor');
  // A full comparison judges them the same way.
  await env.requestComparison('main');
  assert.is(env.casdoorUsers().length, 1000);
});

test('wrong credentials stall, Casdoor is not asked again in a loop, and the fixed Secret is picked up unasked', async (context) => {
  const env = (context.env = await casdoorEnv('cds-creds', { org: smallOrg() }));
  await env.applySecret('casdoor-app', { clientId: env.casdoor.app.clientId, clientSecret: 'not-the-secret' }, [env.casdoor.url]);
  await env.applyServer('main');
  const stalled = await env.waitServer('main', 'False');
  assert.is(condition(stalled, 'Stalled')?.reason, 'InvalidCredentials');
  assert.is(condition(stalled, 'Connected')?.status, 'False');
  assert.match(stalled.status?.failedInputsDigest ?? '', /^scrypt\./);
  const calls = env.casdoor.counters.calls['get-users'];
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.is(env.casdoor.counters.calls['get-users'], calls, 'the wrong secret was sent again');
  await env.applySecret('casdoor-app', { clientId: env.casdoor.app.clientId, clientSecret: env.casdoor.app.clientSecret }, [env.casdoor.url]);
  const ready = await env.waitServer('main', 'True', 30_000);
  assert.is(ready.status?.lastHandledSyncRequest, undefined, 'no sync request');
});

test('an endpoint the Secret does not allow receives no connection; the annotation added lets the comparison through', async (context) => {
  const env = (context.env = await casdoorEnv('cds-origin', { org: smallOrg() }));
  const elsewhere = await startCasdoor();
  try {
    await env.applySecret('elsewhere', { clientId: elsewhere.app.clientId, clientSecret: elsewhere.app.clientSecret }, [env.casdoor.url]);
    await env.applyServer('main', { endpoint: elsewhere.url, credentialsRef: { name: 'elsewhere' } });
    const stalled = await env.waitServer('main', 'False');
    assert.is(condition(stalled, 'Stalled')?.reason, 'URLNotAllowed');
    assert.match(condition(stalled, 'Stalled')!.message, `Secret ${env.ns}/elsewhere may not be sent to ${elsewhere.url}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.is(elsewhere.counters.connectionsAccepted, 0);
    await env.cluster.kubectlOk(['annotate', 'secret', 'elsewhere', '-n', env.ns, `casdoor.org/allowed-urls=${env.casdoor.url},${elsewhere.url}`, '--overwrite']);
    await env.waitServer('main', 'True', 30_000);
    assert.ok(elsewhere.counters.connectionsAccepted > 0);
  } finally {
    await elsewhere.close();
  }
});

test('Casdoor down: Ready False Unreachable, retried with backoff; back up, it converges unasked', async (context) => {
  const env = (context.env = await casdoorEnv('cds-down', { org: smallOrg() }));
  await env.applySyncer('acme');
  await env.waitReady('acme');
  env.casdoor.setDown(true);
  await env.applyServer('main');
  const down = await env.waitServer('main', 'False');
  assert.is(condition(down, 'Ready')?.reason, 'Unreachable');
  assert.not.ok(condition(down, 'Stalled'), 'not stalled: a retry may fix it');
  env.casdoor.setDown(false);
  const up = await env.waitServer('main', 'True', 70_000);
  assert.is(up.status?.users?.inSync, 10);
});

test('"database is locked" bursts are retried: every user arrives, once', async (context) => {
  const env = (context.env = await casdoorEnv('cds-locked', { generate: { members: 200, departments: 5, seed: 4 } }));
  await env.applySyncer('acme');
  await env.waitReady('acme');
  env.casdoor.fail({ endpoint: 'add-user', msg: 'database is locked', times: 40 }, { endpoint: 'add-group', msg: 'database is locked', times: 3 });
  await env.applyServer('main');
  const ready = await env.waitServer('main', 'True', 60_000);
  assert.is(ready.status?.users?.inSync, 200);
  assert.is(env.casdoorUsers().length, 200);
});

test('the operator restarted mid-push converges without a duplicate', async (context) => {
  const env = (context.env = await casdoorEnv('cds-restart', { generate: { members: 400, departments: 5, seed: 5 } }));
  await env.applySyncer('acme', { syncGroups: false });
  await env.waitReady('acme', 'True', 60_000);
  env.casdoor.latencyMs = 20;
  await env.applyServer('main');
  await waitFor('the push under way', async () => (env.casdoorUsers().length > 20 ? true : undefined), 30_000, 50);
  await env.operator.kill('SIGKILL');
  env.casdoor.latencyMs = 0;
  env.operator = startOperator(env.cluster.kubeconfig, env.ns);
  const ready = await env.waitServer('main', 'True', 60_000);
  assert.is(ready.status?.users?.inSync, 400);
  assert.is(ready.status?.users?.failed, 0, 'no create of its own users reported as a refusal');
  const users = env.casdoorUsers();
  assert.is(users.length, 400);
  assert.ok(users.every((u) => (u['properties'] as Record<string, string>)['casdoor.org/managed-by'] === `${env.ns}/main`), 'every user marked');
  // Each user created once; at most the writes in flight at the kill were tried again.
  assert.ok((env.casdoor.counters.calls['add-user'] ?? 0) <= 400 + 8, `add-user called ${env.casdoor.counters.calls['add-user']} times`);
});

test('two CasdoorServers in two namespaces keep to their own objects and marks', async (context) => {
  const env = (context.env = await casdoorEnv('cds-two', { org: smallOrg() }, ['acme', 'beta']));
  const other = await casdoorEnv('cds-two-b', { generate: { members: 4, departments: 1, seed: 8 } }, ['beta']);
  try {
    await env.applySyncer('acme', { syncGroups: false });
    await other.applySyncer('beta', { organization: 'beta', syncGroups: false });
    await env.waitReady('acme');
    await other.waitReady('beta');
    // Both push into the first Casdoor, each with its own organization.
    await other.applySecret('casdoor-app', { clientId: env.casdoor.app.clientId, clientSecret: env.casdoor.app.clientSecret }, [env.casdoor.url]);
    await env.applyServer('main', { organizations: ['acme'] });
    await other.applyServer('main', { endpoint: env.casdoor.url, organizations: ['beta'] });
    await env.waitServer('main');
    await other.waitServer('main');
    assert.is(env.casdoorUsers('acme').length, 10);
    assert.is(env.casdoorUsers('beta').length, 4);
    for (const user of env.casdoorUsers('beta')) assert.is((user['properties'] as Record<string, string>)['casdoor.org/managed-by'], `${other.ns}/main`);
    for (const user of env.casdoorUsers('acme')) assert.is((user['properties'] as Record<string, string>)['casdoor.org/managed-by'], `${env.ns}/main`);
  } finally {
    await other.close();
  }
});

test.run();
