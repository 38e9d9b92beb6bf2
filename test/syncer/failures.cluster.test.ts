// How the operator fails: wrong credentials, a missing Secret, WeCom down, a
// restart mid-sync. Nothing may be lost, and no secret may leak.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startOperator } from '../support/operator.ts';
import { leakedSecrets, type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';
import { waitFor } from '../support/wait.ts';
import { smallOrg } from './fixtures.ts';

const test = suite<{ env: SyncerEnv }>('failures');

test.before.each(async (context) => {
  context.env = await syncerEnv('fail', { org: smallOrg() });
});
test.after.each(async ({ env }) => {
  const events = await env.cluster.kubectlOk(['get', 'events', '-n', env.ns, '-o', 'json']);
  const statuses = await env.cluster.kubectlOk(['get', 'wcs', '-n', env.ns, '-o', 'json']);
  const leaks = leakedSecrets(env.sim, [env.operator.log(), events, statuses]);
  await env.close();
  assert.equal(leaks, [], 'a secret or token reached the log, an Event or status');
});

test('a wrong secret stalls, and WeCom is not asked again until the Secret changes', async ({ env }) => {
  await env.applySecret('wrong', { corpSecret: 'not-the-secret' });
  await env.applySyncer('acme', { corpSecretRef: { name: 'wrong' } });
  const syncer = await env.waitReady('acme', 'False');
  const conditions = new Map(syncer.status?.conditions?.map((c) => [c.type, c]));
  assert.is(conditions.get('Stalled')?.reason, 'InvalidSecret');
  assert.is(conditions.get('Connected')?.status, 'False');
  assert.match(conditions.get('Connected')?.message ?? '', /40001/);
  const calls = env.sim.counters.calls['gettoken'];
  // Requeues and restarts must not call gettoken again with the same wrong secret.
  await env.cluster.kubectlOk(['label', 'wcs', 'acme', '-n', env.ns, 'touched=yes']);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.is(env.sim.counters.calls['gettoken'], calls);
  // The fix: a corrected Secret and a sync request.
  await env.applySecret('wrong', { corpSecret: env.sim.corpSecret });
  await env.requestSync('acme');
  await env.waitReady('acme');
  assert.is((await env.users()).length, 10);
});

test('a Secret is not sent to an apiURL its annotation does not list: no connection, Stalled; the printed kubectl annotate lets the sync through', async ({ env }) => {
  const { startSimulator } = await import('../support/simulator/server.ts');
  // Someone who may edit WeComSyncers points one at a server of their own.
  const elsewhere = await startSimulator({ corpId: env.sim.corpId, corpSecret: env.sim.corpSecret, org: smallOrg() });
  try {
    await env.applySyncer('acme', { apiURL: elsewhere.url });
    const syncer = await env.waitReady('acme', 'False');
    const stalled = syncer.status?.conditions?.find((c) => c.type === 'Stalled');
    assert.is(stalled?.reason, 'URLNotAllowed');
    assert.match(stalled?.message ?? '', `Secret ${env.ns}/wecom may not be sent to ${elsewhere.url}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.is(elsewhere.counters.connectionsAccepted, 0, 'the unlisted server received a connection');
    // The Secret's owner runs the command the message gives, and nothing else.
    const command = /kubectl (annotate secret \S+ -n \S+ casdoor\.org\/allowed-urls='[^']+' --overwrite)/.exec(stalled?.message ?? '')?.[1];
    assert.ok(command, 'the message gives the kubectl annotate to run');
    await env.cluster.kubectlOk(command.replaceAll("'", '').split(' '));
    const ready = await env.waitReady('acme', 'True', 30_000);
    assert.is(ready.metadata.generation, syncer.metadata.generation, 'no spec change');
    assert.is(ready.status?.lastHandledSyncRequest, undefined, 'no sync request');
    assert.ok(elsewhere.counters.calls['gettoken'] === 1 && (env.sim.counters.calls['gettoken'] ?? 0) === 0);
    assert.is((await env.users()).length, 10);
  } finally {
    await elsewhere.close();
  }
});

test('a restarted operator keeps away from WeCom with the Secret that failed, and syncs unasked once it is fixed', async ({ env }) => {
  await env.applySecret('wrong', { corpSecret: 'not-the-secret' });
  await env.applySyncer('acme', { corpSecretRef: { name: 'wrong' } });
  const stalled = await env.waitReady('acme', 'False');
  assert.is(stalled.status?.conditions?.find((c) => c.type === 'Stalled')?.reason, 'InvalidSecret');
  assert.match(stalled.status?.failedInputsDigest ?? '', /^scrypt\.[0-9a-f]{32}\.[0-9a-f]{64}$/);
  const calls = env.sim.counters.calls['gettoken'];
  await env.operator.kill();
  env.operator = startOperator(env.cluster.kubeconfig, env.ns);
  await waitFor('the restarted operator at work', async () => (/controllers started/.test(env.operator.log()) ? true : undefined));
  // Past its first look (at once) and its first recheck (5 s after the stall, long gone).
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.is(env.sim.counters.calls['gettoken'], calls, 'the same failing content was sent again');
  await env.operator.kill();
  await env.applySecret('wrong', { corpSecret: env.sim.corpSecret });
  env.operator = startOperator(env.cluster.kubeconfig, env.ns);
  const ready = await env.waitReady('acme', 'True', 30_000);
  assert.is(ready.status?.lastHandledSyncRequest, undefined, 'no sync request');
  assert.is(ready.status?.failedInputsDigest, undefined, 'the digest is gone with the stall');
  assert.is((await env.users()).length, 10);
});

test('an untrusted IP stalls with IPNotAllowed naming the IP', async ({ env }) => {
  env.sim.setFaults({ untrustedIP: true, callerIP: '203.0.113.7' });
  await env.applySyncer('acme');
  const syncer = await env.waitReady('acme', 'False');
  const connected = syncer.status?.conditions?.find((c) => c.type === 'Connected');
  assert.is(connected?.reason, 'IPNotAllowed');
  assert.match(connected?.message ?? '', /203\.0\.113\.7/);
  assert.is(syncer.status?.conditions?.find((c) => c.type === 'Stalled')?.reason, 'IPNotAllowed');
});

test('a missing Secret is not stalled, and its arrival is picked up', async ({ env }) => {
  await env.applySyncer('acme', { corpSecretRef: { name: 'later', key: 'appSecret' } });
  const syncer = await env.waitReady('acme', 'False');
  const ready = syncer.status?.conditions?.find((c) => c.type === 'Ready');
  assert.is(ready?.reason, 'SecretNotFound');
  assert.match(ready?.message ?? '', /later/);
  assert.not.ok(syncer.status?.conditions?.some((c) => c.type === 'Stalled'));
  await env.applySecret('later', { other: 'x' });
  await waitFor('the missing key named', async () => {
    const message = (await env.condition('acme', 'Ready'))?.message ?? '';
    return /key "appSecret" of Secret .*later/.test(message) ? true : undefined;
  }, 70_000);
  await env.cluster.kubectlOk(['delete', 'secret', 'later', '-n', env.ns]);
  await env.applySecret('later', { appSecret: env.sim.corpSecret });
  await env.waitReady('acme', 'True', 70_000);
});

test('a suspended syncer created before its Secret tests the connection once the Secret arrives', async ({ env }) => {
  await env.applySyncer('acme', { suspend: true, corpSecretRef: { name: 'later' } });
  const failed = await env.waitReady('acme', 'False');
  assert.is(failed.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'SecretNotFound');
  // Past the first retry (2 s after the failure), which reads a cache that by then holds
  // the failed status: a retry that depended on a stale cache has stopped here.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  await env.applySecret('later', { corpSecret: env.sim.corpSecret });
  const tested = await waitFor('the connection tested', async () => {
    const syncer = await env.syncer('acme');
    return syncer.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'Suspended' ? syncer : undefined;
  }, 30_000);
  assert.is(tested.status?.conditions?.find((c) => c.type === 'Connected')?.status, 'True');
  assert.equal(await env.users(), [], 'a suspended syncer writes no user');
});

test('WeCom down: Ready False with the reason, no user touched, converges after', async ({ env }) => {
  await env.applySyncer('acme');
  await env.waitReady('acme');
  const before = (await env.users()).map((u) => u.metadata.resourceVersion).sort();
  env.sim.setFaults({ failingDepartments: [3] });
  await env.requestSync('acme');
  const ready = await env.condition('acme', 'Ready');
  assert.is(ready?.status, 'False');
  assert.is(ready?.reason, 'Busy');
  assert.equal((await env.users()).map((u) => u.metadata.resourceVersion).sort(), before, 'a failed fetch touched users');
  env.sim.resetFaults();
  await env.waitReady('acme', 'True', 70_000);
});

test('the operator restarted mid-sync finishes the job without a duplicate', async ({ env }) => {
  await env.operator.kill('SIGKILL');
  env.sim.setOrg({ departments: smallOrg().departments, members: Array.from({ length: 600 }, (_, i) => ({ userid: `user${i}`, name: `U${i}`, department: [1 + (i % 5)], status: 1 })) });
  env.sim.setFaults({ latencyMs: 300 });
  const first = startOperator(env.cluster.kubeconfig, env.ns);
  await env.applySyncer('acme', { syncGroups: false });
  await waitFor('the sync under way', async () => ((await env.condition('acme', 'Reconciling'))?.status === 'True' ? true : undefined));
  await first.kill('SIGKILL');
  env.sim.setFaults({ latencyMs: 0 });
  env.operator = startOperator(env.cluster.kubeconfig, env.ns);
  const syncer = await env.waitReady('acme', 'True', 60_000);
  assert.is(syncer.status?.users?.total, 600);
  const names = (await env.users()).map((u) => u.metadata.name);
  assert.is(names.length, 600);
  assert.is(new Set(names).size, 600);
});

test('two syncers for two corps in one namespace keep to their own users', async ({ env }) => {
  const { startSimulator } = await import('../support/simulator/server.ts');
  const other = await startSimulator({ corpId: 'ww00000000000000b2', generate: { members: 7, departments: 3, seed: 9 } });
  try {
    await env.applySecret('beta', { corpSecret: other.corpSecret }, [other.url]);
    await env.applySyncer('alpha');
    await env.applySyncer('beta', { organization: 'beta', corpId: other.corpId, corpSecretRef: { name: 'beta' }, apiURL: other.url });
    await env.waitReady('alpha');
    await env.waitReady('beta');
    assert.is((await env.users('casdoor.org/syncer=alpha')).length, 10);
    assert.is((await env.users('casdoor.org/syncer=beta')).length, 7);
    assert.ok((await env.users('casdoor.org/syncer=beta')).every((u) => u.spec.owner === 'beta'));
  } finally {
    await other.close();
  }
});

test.run();
