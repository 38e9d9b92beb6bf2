// WeCom's own limits mid-sync: a frequency-limit window (45009), a concurrency
// ceiling (45033), tokens that die (40014/42001). The sync either converges or
// fails, and never removes anyone. Kills nothing: shared control plane.
// (One department that keeps failing is test/syncer/failures.cluster.test.ts.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertExact, report, seconds } from '../support/faults.ts';
import { type StoredSyncer, type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';
import { waitFor } from '../support/wait.ts';

const MEMBERS = 400;

const test = suite<{ env: SyncerEnv }>('faults: WeCom limits');

test.before.each(async (context) => {
  context.env = await syncerEnv('limits', { generate: { members: MEMBERS, departments: 30, seed: 5 } });
});
test.after.each(async ({ env }) => {
  await env.close();
});

/** Names of users marked removed or deleted since `before`: must stay empty under every fault. */
async function removedSince(env: SyncerEnv, before: readonly string[]): Promise<string[]> {
  const users = await env.users();
  const now = new Set(users.map((u) => u.metadata.name));
  return [
    ...before.filter((name) => !now.has(name)),
    ...users.filter((u) => u.metadata.annotations?.['casdoor.org/removed-from-source'] !== undefined).map((u) => u.metadata.name),
  ];
}

test('a 45009 window longer than the retries: RateLimited, nobody removed, converges after the window', async ({ env }) => {
  await env.applySyncer('acme');
  await env.waitReady('acme');
  const before = (await env.users()).map((u) => u.metadata.name);
  // A member leaves meanwhile: the failed sync must not act on a partial view.
  const leaver = env.sim.org.members[0]!.userid;
  env.sim.patchOrg({ removeUserIds: [leaver] });
  env.sim.setFaults({ frequencyLimitMs: 12_000 });
  const failed = await env.requestSync('acme');
  const ready = failed.status?.conditions?.find((c) => c.type === 'Ready');
  assert.is(ready?.status, 'False');
  assert.is(ready?.reason, 'RateLimited');
  assert.equal(await removedSince(env, before), []);
  const windowEnds = env.sim.faults.frequencyLimitedUntil;
  await env.waitReady('acme', 'True', 90_000, 500);
  report('WeCom 45009 window of 12 s', `Ready=False reason RateLimited, nobody removed; converged ${((Date.now() - windowEnds) / 1000).toFixed(1)} s after the window closed`);
  // Now that WeCom answers in full, the member who left is forbidden, as policy says.
  const gone = (await env.users()).find((u) => u.spec['id'] === leaver);
  assert.is(gone?.spec['isForbidden'], true);
  assert.equal(await removedSince(env, before), [gone?.metadata.name]);
});

test('a concurrency ceiling of 2 (45033) against 8 lanes: retried, converges exactly', async ({ env }) => {
  env.sim.setFaults({ maxConcurrent: 2, latencyMs: 20 });
  const started = Date.now();
  await env.applySyncer('acme');
  let syncer: StoredSyncer;
  try {
    syncer = await env.waitReady('acme', 'True', 90_000, 500);
  } catch (error) {
    console.log(env.operator.log().split('\n').filter((l) => /retrying|failed/.test(l)).slice(-10).join('\n'));
    throw error;
  }
  await assertExact(env, syncer);
  const refused = env.sim.counters.calls['user/list'] ?? 0;
  assert.ok(env.sim.counters.maxInFlight >= 3, 'the ceiling was never hit');
  report('WeCom concurrency ceiling 2 (45033)', `45033 answers retried with jittered backoff; exact after ${seconds(started)} s, ${refused} user/list calls for 30 departments`);
});

test('tokens killed mid-fetch (42001, then 40014): renewed, converges exactly', async ({ env }) => {
  env.sim.setFaults({ latencyMs: 150 });
  await env.applySyncer('acme');
  await waitFor('the fetch under way', async () => ((env.sim.counters.calls['user/list'] ?? 0) > 3 ? true : undefined), 30_000, 50);
  env.sim.killTokens(42001);
  await waitFor('a new token', async () => (env.sim.counters.tokensIssued >= 2 ? true : undefined), 30_000, 50);
  env.sim.killTokens(40014);
  const killed = Date.now();
  env.sim.setFaults({ latencyMs: 0 });
  const syncer = await env.waitReady('acme', 'True', 60_000, 500);
  await assertExact(env, syncer);
  assert.ok(env.sim.counters.tokensIssued >= 3, `tokens issued: ${env.sim.counters.tokensIssued}`);
  report('WeCom tokens killed mid-fetch (42001, 40014)', `renewed (${env.sim.counters.tokensIssued} tokens issued), exact; Ready ${seconds(killed)} s after the second kill`);
});

test('tokens killed while users are being written: the next sync renews and changes nothing', async ({ env }) => {
  await env.applySyncer('acme');
  // From the first user written on: 400 writes can end between two polls of a loaded machine, and
  // what this proves (the next sync renews the dead token, once) holds either way.
  await waitFor('the first users written', async () => ((await env.users()).length > 0 ? true : undefined), 60_000, 100);
  // Members are created while the fetch runs, so the kill may land in the first sync's fetch (which then
  // renews the token) or after it (the next sync renews it): either way it is renewed exactly once.
  const tokensBeforeKill = env.sim.counters.tokensIssued;
  env.sim.killTokens(40014);
  const syncer = await env.waitReady('acme', 'True', 60_000, 500);
  await assertExact(env, syncer);
  const again = await env.requestSync('acme');
  assert.is(again.status?.lastSync?.['unchanged'], MEMBERS);
  assert.is(env.sim.counters.tokensIssued, tokensBeforeKill + 1, 'the dead token was not renewed exactly once');
});

test.run();
