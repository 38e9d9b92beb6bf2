// kube-apiserver and etcd SIGKILLed in the middle of a sync of 1500 members,
// then started again (`control-plane up`): the operator recovers by itself,
// the CasdoorUsers are exact, and its watches come back. On a control plane of
// this file's own, since it kills components.
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertExact, report, seconds, waitMidSync } from '../support/faults.ts';
import { type PrivateCluster, privateCluster } from '../support/private-cluster.ts';
import { type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';

const MEMBERS = 1500;
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
      console.log(env.operator.log().split('\n').slice(-60).join('\n'));
      throw error;
    }
  });
}

test.run();
