// WeCom down for longer than the client's retries last (about 8 s): the sync
// fails with Ready=False and the reason, touches no CasdoorUser, and the first
// sync after WeCom is back converges by itself. Kills nothing: shared control plane.
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { report, seconds } from '../support/faults.ts';
import { startSimulator } from '../support/simulator/server.ts';
import { type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';
import { waitFor } from '../support/wait.ts';

const MEMBERS = 60;

const test = suite<{ env: SyncerEnv }>('faults: WeCom down');

test.before.each(async (context) => {
  context.env = await syncerEnv('down', { generate: { members: MEMBERS, departments: 6, seed: 11 } });
  await context.env.applySyncer('acme');
  await context.env.waitReady('acme');
});
test.after.each(async ({ env }) => {
  await env.close();
});

/** The resourceVersion of every CasdoorUser, by name. */
async function versions(env: SyncerEnv): Promise<Record<string, string>> {
  return Object.fromEntries((await env.users()).map((u) => [u.metadata.name, u.metadata.resourceVersion]));
}

/**
 * Runs a sync request against a broken WeCom, checks the failure, mends WeCom
 * and measures how long the operator takes to converge without being asked.
 */
async function downThenBack(env: SyncerEnv, fault: string, reason: string, mend: () => Promise<void>): Promise<void> {
  const before = await versions(env);
  const failed = await env.requestSync('acme');
  const ready = failed.status?.conditions?.find((c) => c.type === 'Ready');
  assert.is(ready?.status, 'False', `${fault}: Ready`);
  assert.is(ready?.reason, reason, `${fault}: Ready's reason`);
  assert.is(failed.status?.conditions?.find((c) => c.type === 'Connected')?.reason, reason);
  assert.not.ok(failed.status?.conditions?.some((c) => c.type === 'Stalled'), 'a WeCom outage is not a reason to stall');
  // Down for longer: the operator keeps retrying with backoff, and touches nobody.
  await sleep(3000);
  assert.equal(await versions(env), before, `${fault}: a CasdoorUser was touched`);
  await mend();
  const back = Date.now();
  const synced = await env.waitReady('acme', 'True', 90_000, 500);
  assert.is(synced.status?.users?.total, MEMBERS);
  assert.equal(Object.keys(await versions(env)).sort(), Object.keys(before).sort());
  report(fault, `Ready=False reason ${reason}, no CasdoorUser written; converged ${seconds(back)} s after WeCom came back, without a request`);
}

test('connection refused: Unreachable, nothing touched, converges once WeCom listens again', async ({ env }) => {
  const { port } = new URL(env.sim.url);
  const old = env.sim;
  await old.close();
  await downThenBack(env, 'WeCom refuses connections', 'Unreachable', async () => {
    // The same corp on the same port, as after a proxy restart.
    env.sim = await startSimulator({
      port: Number(port), corpId: old.corpId, corpSecret: old.corpSecret, contactsSecret: old.contactsSecret, org: old.org,
    });
  });
});

test('HTTP 502 from a gateway on every call: Unreachable, nothing touched, converges', async ({ env }) => {
  env.sim.setFaults({ script: [{ httpStatus: 502, times: 1_000_000 }] });
  await downThenBack(env, 'WeCom answers HTTP 502', 'Unreachable', async () => env.sim.setFaults({ script: [] }));
});

test('HTML instead of JSON on every call: BadResponse, nothing touched, converges', async ({ env }) => {
  env.sim.setFaults({ script: [{ body: 'html', times: 1_000_000 }] });
  await downThenBack(env, 'WeCom answers HTML with HTTP 200', 'BadResponse', async () => env.sim.setFaults({ script: [] }));
});

test('a WeCom that hangs: the call is abandoned after the 15 s timeout and retried', async ({ env }) => {
  env.sim.setFaults({ latencyMs: 60_000 });
  const asked = Date.now();
  await env.cluster.kubectlOk(['annotate', 'wcs', 'acme', '-n', env.ns, `casdoor.org/sync-requested-at=hang-${asked}`, '--overwrite']);
  // While the first call hangs, WeCom recovers; the retry after the timeout succeeds in the same sync.
  await sleep(3000);
  env.sim.setFaults({ latencyMs: 0 });
  const synced = await waitFor('the request after the hang', async () => {
    const syncer = await env.syncer('acme');
    return syncer.status?.lastHandledSyncRequest === `hang-${asked}` ? syncer : undefined;
  }, 40_000, 500);
  const took = Date.now() - asked;
  assert.is(synced.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  assert.ok(took >= 14_000, `answered in ${took} ms: the hanging call was not waited for`);
  report('WeCom hangs (no answer)', `the hung call was abandoned at the 15 s timeout and retried; the sync converged ${(took / 1000).toFixed(1)} s after the request`);
});

test.run();
