// Things users do to the objects while the operator works: a WeComSyncer
// deleted mid-sync, a Secret rotated between syncs. (CasdoorUsers edited or
// deleted by hand: test/syncer/sync.cluster.test.ts.) Shared control plane.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { report, seconds, userNames, waitMidSync } from '../support/faults.ts';
import { startSimulator } from '../support/simulator/server.ts';
import { type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';
import { waitFor } from '../support/wait.ts';

const test = suite<{ env: SyncerEnv }>('faults: objects changed under the operator');

test.after.each(async ({ env }) => {
  await env.close();
});

test('a WeComSyncer deleted mid-sync: it stops writing, other syncers still served, GC removes what it wrote', async (context) => {
  // Enough members that the writes outlast the poll that catches them half done and the delete after it:
  // at 500, a fast machine could finish the sync before the operator saw the deletion.
  const members = 2000;
  const env = await syncerEnv('deleted', { generate: { members, departments: 10, seed: 17 } });
  context.env = env;
  const other = await startSimulator({ corpId: 'ww00000000000000c3', generate: { members: 5, departments: 2, seed: 2 } });
  try {
    await env.applySyncer('doomed', { syncGroups: false });
    await waitMidSync(env, members);
    await env.cluster.kubectlOk(['delete', 'wcs', 'doomed', '-n', env.ns, '--wait=false']);
    const deleted = Date.now();
    // Another syncer, created after the delete, is served: the operator neither crashed nor hung.
    await env.applySecret('other', { corpSecret: other.corpSecret }, [other.url]);
    await env.applySyncer('other', { organization: 'other', corpId: other.corpId, corpSecretRef: { name: 'other' }, apiURL: other.url });
    await env.waitReady('other', 'True', 60_000, 500);
    const served = seconds(deleted);
    await waitFor('the deleted syncer\'s users collected', async () => {
      const left = (await userNames(env)).filter((name) => name.includes('/doomed.'));
      return left.length === 0 ? true : undefined;
    }, 120_000, 1000);
    const collected = seconds(deleted);
    assert.is((await env.users('casdoor.org/syncer=other')).length, 5);
    await env.requestSync('other');
    const log = env.operator.log();
    assert.not.match(log, /uncaught|unhandled/i);
    // It stopped writing for the deleted syncer, and took the deletion for no error.
    assert.match(log, /deleted mid-sync; stopped writing/);
    assert.not.match(log, /"key":"[^"]*\/doomed".*"msg":"reconcile failed/);
    report('WeComSyncer deleted mid-sync', `its sync stopped writing at once (no error); another syncer Ready ${served} s after the delete; every CasdoorUser of the deleted one garbage-collected ${collected} s after the delete`);
  } finally {
    await other.close();
  }
});

test('a Secret rotated between syncs: the next sync uses the new secret (a new token) and changes nothing', async (context) => {
  const env = await syncerEnv('rotated', { corpSecret: 'first-secret-value-000000', generate: { members: 30, departments: 4, seed: 19 } });
  context.env = env;
  await env.applySyncer('acme');
  await env.waitReady('acme');
  // WeCom's admin resets the secret: the old one stops working at once.
  const { port } = new URL(env.sim.url);
  const old = env.sim;
  await old.close();
  env.sim = await startSimulator({ port: Number(port), corpId: old.corpId, corpSecret: 'second-secret-value-11111', contactsSecret: old.contactsSecret, org: old.org });
  const rotated = Date.now();
  await env.applySecret('wecom', { corpSecret: 'second-secret-value-11111' });
  const synced = await env.requestSync('acme');
  assert.is(synced.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  assert.is(synced.status?.lastSync?.['unchanged'], 30);
  assert.is(env.sim.counters.tokensIssued, 1, 'a token for the new secret');
  report('Secret rotated between syncs (old secret revoked)', `the next sync requested a token with the new secret and changed nothing; Ready ${seconds(rotated)} s after the rotation`);
});

test.run();
