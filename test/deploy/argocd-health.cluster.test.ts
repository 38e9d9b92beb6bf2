// The Argo CD health check on statuses the operator really writes: a synced,
// a suspended, a stalled and a Secret-less syncer, and one whose spec changed
// while no operator ran.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { argoHealth } from '../support/argocd-health.ts';
import { type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';
import { waitFor } from '../support/wait.ts';

const test = suite<{ env: SyncerEnv }>('Argo CD health check on real statuses');

test.before(async (context) => {
  context.env = await syncerEnv('argocd');
});
test.after(async ({ env }) => {
  await env.close();
});

/** The stored WeComSyncer `name`, whole, as Argo CD reads it. */
async function stored(env: SyncerEnv, name: string): Promise<unknown> {
  return JSON.parse(await env.cluster.kubectlOk(['get', 'wcs', name, '-n', env.ns, '-o', 'json']));
}

test('Healthy, Suspended and Degraded as the operator reports them', async ({ env }) => {
  await env.applySecret('wrong', { corpSecret: 'not-the-secret' });
  await env.applySyncer('synced');
  await env.applySyncer('paused', { suspend: true });
  await env.applySyncer('wrong', { corpSecretRef: { name: 'wrong' } });
  await env.applySyncer('nosecret', { corpSecretRef: { name: 'absent' } });

  await env.waitReady('synced');
  assert.equal(argoHealth(await stored(env, 'synced')).status, 'Healthy');
  await env.waitReady('paused', 'False');
  assert.equal(argoHealth(await stored(env, 'paused')).status, 'Suspended');
  await env.waitReady('wrong', 'False');
  const wrong = argoHealth(await stored(env, 'wrong'));
  assert.is(wrong.status, 'Degraded');
  assert.match(wrong.message, /40001/);
  await env.waitReady('nosecret', 'False');
  const missing = argoHealth(await stored(env, 'nosecret'));
  assert.is(missing.status, 'Degraded');
  assert.match(missing.message, /absent/);
});

test('Progressing while a spec change waits for the operator', async ({ env }) => {
  await env.operator.kill();
  await env.cluster.kubectlOk(['patch', 'wcs', 'synced', '-n', env.ns, '--type=merge', '-p', '{"spec":{"interval":"2h"}}']);
  const health = await waitFor('a new generation', async () => {
    const result = argoHealth(await stored(env, 'synced'));
    return result.status === 'Healthy' ? undefined : result;
  });
  assert.equal(health, { status: 'Progressing', message: 'Waiting for the operator to observe generation 2' });
});

test.run();
