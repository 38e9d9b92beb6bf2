// WeCom's contact-change events end to end on a real control plane: the
// simulator sends what WeCom sends (encrypted with Tencent's library) to the
// operator's receiver; a change arrives within seconds, with a 1h interval
// and no sync request.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../../hack/control-plane/cluster.ts';
import { callbackPath } from '../../src/callback/secrets.ts';
import { type OperatorProcess, startOperator } from '../support/operator.ts';
import { checkReceiverURL, type EventReceiver } from '../support/simulator/events.ts';
import { leakedSecrets, type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';
import { waitFor } from '../support/wait.ts';
import { member, smallOrg } from '../syncer/fixtures.ts';

const TOKEN = 'events-test-token-4f1c9a';
const AES_KEY = 'Zm9yIHRoZSBldmVudCByZWNlaXZlciB0ZXN0cyBvbmx';
const LEASE = 'wecom-syncer-leader';

interface Context {
  env: SyncerEnv;
  operators: OperatorProcess[];
}

const test = suite<Context>('contact-change events');

test.before.each(async (context) => {
  context.env = await syncerEnv('events', { org: smallOrg() });
  // This test's operators serve the receiver; the env's own does not.
  await context.env.operator.kill();
  context.operators = [];
  await context.env.applySecret('wecom-callback', { callbackToken: TOKEN, encodingAESKey: AES_KEY });
});
test.after.each(async ({ env, operators }) => {
  const texts = [...operators.map((operator) => operator.log()), JSON.stringify(await env.syncer('acme').catch(() => ({})))];
  const events = await env.cluster.kubectlOk(['get', 'events', '-n', env.ns, '-o', 'json']);
  await Promise.all(operators.map((operator) => operator.kill('SIGKILL')));
  await env.close();
  assert.equal(leakedSecrets(env.sim, texts), [], 'no WeCom secret or token in logs or status');
  for (const text of [...texts, events]) {
    assert.not.ok(text.includes(TOKEN), 'the receiver\'s Token is in no log, status or Event');
    assert.not.ok(text.includes(AES_KEY), 'the EncodingAESKey is in no log, status or Event');
  }
});

/** Starts an operator serving the receiver on a port of its own. */
async function operatorWithReceiver(context: Context, extraArgs: string[] = []): Promise<{ operator: OperatorProcess; port: number }> {
  const port = await freePort();
  const operator = startOperator(context.env.cluster.kubeconfig, context.env.ns, [`--webhook-bind-address=127.0.0.1:${port}`, ...extraArgs]);
  context.operators.push(operator);
  return { operator, port };
}

const callback = { tokenRef: { name: 'wecom-callback' }, encodingAESKeyRef: { name: 'wecom-callback' } };

/** Applies the syncer with a 1h interval and events on; waits for its first sync and returns the receiver WeCom must call. */
async function syncerWithEvents(env: SyncerEnv, port: number): Promise<EventReceiver> {
  await env.applySyncer('acme', { interval: '1h', removedUsers: 'Forbid', callback });
  const syncer = await env.waitReady('acme');
  const path = (syncer.status as { callback?: { path?: string } } | undefined)?.callback?.path;
  assert.is(path, callbackPath(TOKEN, env.ns, 'acme'), 'status says where WeCom must send events');
  return { url: `http://127.0.0.1:${port}${path}`, token: TOKEN, encodingAESKey: AES_KEY };
}

/** The syncer's status.callback, and its event mark. */
async function callbackStatus(env: SyncerEnv): Promise<{ eventsReceived?: number; lastHandledEvent?: string; lastEventTime?: string; mark?: string }> {
  const syncer = await env.syncer('acme');
  return { ...(syncer.status as { callback?: object } | undefined)?.callback, mark: syncer.metadata.annotations?.['casdoor.org/event-received-at'] };
}

test('a member deleted in WeCom is forbidden within seconds through its event: 1h interval, no sync request', async (context) => {
  const { env } = context;
  const { port } = await operatorWithReceiver(context);
  const receiver = await syncerWithEvents(env, port);
  const check = await checkReceiverURL(receiver, env.sim.corpId);
  assert.equal([check.status, check.body], [200, check.expected], 'the URL check answers the echostr\'s plaintext');

  // The first sync just ended: an event now waits for the 10-second spacing, so wait it out first.
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  env.sim.setEventReceiver(receiver);
  const listings = env.sim.counters.calls['department/list'] ?? 0;
  const sent = Date.now();
  env.sim.patchOrg({ removeUserIds: ['lisi'] });
  await waitFor('lisi forbidden', async () => (await env.users()).find((u) => u.spec.id === 'lisi')?.spec.isForbidden === true || undefined, 15_000, 100);
  const seconds = (Date.now() - sent) / 1000;
  assert.ok(seconds < 5, `forbidden ${seconds} s after the event (goal: under 5)`);
  const deliveries = await env.sim.eventsDelivered();
  assert.equal(deliveries.map((d) => [d.change.changeType, d.statuses]), [['delete_user', [200]]]);
  assert.is(env.sim.counters.calls['department/list'], listings + 1, 'one sync');
  const status = await waitFor('the sync to answer the mark', async () => {
    const current = await callbackStatus(env);
    return current.lastHandledEvent !== undefined && current.lastHandledEvent === current.mark ? current : undefined;
  });
  assert.is(status.eventsReceived, 1);
  assert.ok(status.lastEventTime);
  assert.is((await env.syncer('acme')).metadata.annotations?.['casdoor.org/sync-requested-at'], undefined, 'no sync request was made');
});

test('a burst of 40 events is one sync, which answers the last of them', async (context) => {
  const { env } = context;
  const { port } = await operatorWithReceiver(context);
  const receiver = await syncerWithEvents(env, port);
  env.sim.setEventReceiver(receiver);
  const listings = env.sim.counters.calls['department/list'] ?? 0;
  for (let i = 0; i < 40; i++) env.sim.patchOrg({ upsertMembers: [member(`joiner${i}`, [2])] });
  const deliveries = await env.sim.eventsDelivered();
  assert.is(deliveries.filter((d) => d.delivered).length, 40, 'every event answered 200');
  await waitFor('every joiner synced', async () => ((await env.users()).filter((u) => String(u.spec.id).startsWith('joiner')).length === 40 ? true : undefined), 30_000, 200);
  const status = await waitFor('the sync to answer the last mark', async () => {
    const current = await callbackStatus(env);
    return current.lastHandledEvent === current.mark ? current : undefined;
  });
  assert.is(env.sim.counters.calls['department/list'], listings + 1, 'one sync for the burst');
  assert.is(status.eventsReceived, 40, 'every event counted');
});

test('two replicas: the event reaches the follower, and the leader syncs', async (context) => {
  const { env } = context;
  const election = ['--leader-elect', `--leader-election-namespace=${env.ns}`];
  const replicas = [await operatorWithReceiver(context, election), await operatorWithReceiver(context, election)];
  const ids = await Promise.all(replicas.map(({ operator }) => waitFor('a replica\'s identity', async () => /"identity":"([^"]+)"/.exec(operator.log())?.[1])));
  const leaderId = await waitFor('a leader', async () => {
    const result = await env.cluster.kubectl(['get', 'lease', LEASE, '-n', env.ns, '-o', 'jsonpath={.spec.holderIdentity}']);
    return ids.includes(result.stdout) ? result.stdout : undefined;
  });
  const follower = replicas[ids.indexOf(leaderId) === 0 ? 1 : 0]!;
  const receiver = await syncerWithEvents(env, follower.port);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  env.sim.setEventReceiver(receiver);
  env.sim.patchOrg({ removeUserIds: ['lisi'] });
  await waitFor('lisi forbidden', async () => (await env.users()).find((u) => u.spec.id === 'lisi')?.spec.isForbidden === true || undefined, 15_000, 100);
  assert.match(follower.operator.log(), /contact-change event received/, 'the follower received it');
  assert.not.match(follower.operator.log(), /"msg":"sync starting"/, 'the follower never syncs');
});

test.run();
