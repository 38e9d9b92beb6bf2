// kube-apiserver and etcd SIGKILLed in the middle of a sync of 1000 members,
// then started again (`control-plane up`): the operator recovers by itself,
// the CasdoorUsers are exact, and its watches come back. On a control plane of
// this file's own, since it kills components.
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertExact, report, seconds, waitMidSync } from '../support/faults.ts';
import { type PrivateCluster, privateCluster } from '../support/private-cluster.ts';
import { type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';

const MEMBERS = 1000;
/** How long the component stays dead: longer than a write's own retries (about 3 s). */
const DOWN_MS = 6000;

const test = suite<{ cluster: PrivateCluster; env?: SyncerEnv }>('faults: control plane killed mid-sync');

test.before(async (context) => {
  context.cluster = await privateCluster('faults-cp');
});
test.after(async ({ cluster }) => {
  await cluster.destroy();
});
test.after.each(async (context) => {
  await context.env?.close();
  context.env = undefined;
});

for (const component of ['kube-apiserver', 'etcd'] as const) {
  test(`${component} SIGKILLed mid-sync and restarted: exact users, Ready, watches back`, async (context) => {
    const env = await syncerEnv('kill', { generate: { members: MEMBERS, departments: 40, seed: 7 } }, context.cluster);
    context.env = env;
    const started = Date.now();
    await env.applySyncer('acme');
    const before = await waitMidSync(env, MEMBERS);
    await context.cluster.kill(component);
    await sleep(DOWN_MS);
    await context.cluster.restart();
    const back = Date.now();
    try {
      const syncer = await env.waitReady('acme', 'True', 150_000, 1000);
      const recovered = seconds(back);
      const whole = seconds(started);
      await assertExact(env, syncer);
      // A new request must be answered: the operator's watches came back.
      const asked = Date.now();
      const answered = await env.requestSync('acme');
      assert.is(answered.status?.users?.total, MEMBERS);
      report(`${component} SIGKILLed`, `${before}/${MEMBERS} users written at the kill, down ${DOWN_MS / 1000} s, Ready with all users ${recovered} s after restart (${whole} s after the sync began), next sync request answered in ${seconds(asked)} s`);
    } catch (error) {
      const pid = env.operator.pid;
      const alive = pid !== undefined && (() => { try { return process.kill(pid, 0); } catch { return false; } })();
      console.log(`operator ${pid} alive: ${alive}\n${env.operator.log().split('\n').slice(-60).map((line) => `  ${line.slice(0, 400)}`).join('\n')}`);
      throw error;
    }
  });
}

test('kube-apiserver SIGKILLed while the operator is idle: the operator stays up and answers the next request', async (context) => {
  const env = await syncerEnv('idle', { generate: { members: 20, departments: 3, seed: 23 } }, context.cluster);
  context.env = env;
  await env.applySyncer('acme');
  await env.waitReady('acme');
  // Its watches die with the API server, and its informers back off: no socket is left open.
  await context.cluster.kill('kube-apiserver');
  await sleep(DOWN_MS);
  assert.not.match(env.operator.log(), /operator exited/, 'the operator exited while the API server was down');
  await context.cluster.restart();
  const back = Date.now();
  const answered = await env.requestSync('acme');
  assert.is(answered.status?.users?.total, 20);
  report('kube-apiserver SIGKILLed while the operator is idle', `the operator stays up (it used to exit 0 once no socket was open); a new sync request answered ${seconds(back)} s after the restart`);
});

test.run();
