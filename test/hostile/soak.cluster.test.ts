// The soak: 200 consecutive syncs of one small organization, each requested by
// annotation, with random faults (seeded, so a failure repeats): 45009, -1, 5xx, an
// HTML body, tokens killed, latency, a failing department, and organization changes.
// The operator's memory (VmRSS) and open file descriptors are read after every sync;
// the readings of syncs 11-20 and of syncs 191-200 are compared by their lowest RSS
// (garbage collection makes single readings jump by tens of MB; a leak raises the floor)
// and their highest fd count, and must stay flat. Afterwards the users match the
// simulator's org exactly.
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createPrng, type Prng } from '../support/simulator/prng.ts';
import type { SimMember } from '../support/simulator/org.ts';
import type { StoredSyncer, SyncerEnv } from '../support/syncer-env.ts';
import { syncerEnv } from '../support/syncer-env.ts';
import { closeAndScanForSecrets } from './support.ts';

const SYNCS = 200;
/** Readings compared: syncs 11-20 against syncs 191-200. */
const WINDOW = 10;
const FIRST_READING = 20;
const SEED = 20261127;
/** Generous bounds: V8's heap grows in steps, and a sync of 50 members allocates little. */
const MAX_RSS_GROWTH_MB = 40;
const MAX_FD_GROWTH = 20;

const test = suite<{ env: SyncerEnv }>('soak');

test.before(async (context) => {
  context.env = await syncerEnv('soak', { generate: { members: 50, departments: 6, seed: 11 } });
  await context.env.applySyncer('soak', { removedUsers: 'Delete', maxRemovals: '100%' });
  await context.env.waitReady('soak');
});

test.after(({ env }) => closeAndScanForSecrets(env));

interface Reading {
  sync: number;
  rssMB: number;
  fds: number;
}

function read(pid: number, sync: number): Reading {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return { sync, rssMB: Math.round(rssKB / 102.4) / 10, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** The lowest and highest RSS and the most fds over the {@link WINDOW} readings ending at sync `end`. */
function windowOf(readings: readonly Reading[], end: number): { rssLowMB: number; rssHighMB: number; fds: number } {
  const window = readings.filter((r) => r.sync > end - WINDOW && r.sync <= end);
  return {
    rssLowMB: Math.min(...window.map((r) => r.rssMB)),
    rssHighMB: Math.max(...window.map((r) => r.rssMB)),
    fds: Math.max(...window.map((r) => r.fds)),
  };
}

/** Requests a sync through the API (faster than kubectl) and waits until status says it was handled. */
function syncRequester(env: SyncerEnv): (name: string) => Promise<StoredSyncer> {
  const kc = new KubeConfig();
  kc.loadFromFile(env.cluster.kubeconfig);
  const api = kc.makeApiClient(CustomObjectsApi);
  const where = { group: 'casdoor.org', version: 'v1alpha1', namespace: env.ns, plural: 'wecomsyncers' };
  let n = 0;
  return async (name) => {
    const value = `soak-${++n}-${Date.now()}`;
    await api.patchNamespacedCustomObject(
      { ...where, name, body: { metadata: { annotations: { 'casdoor.org/sync-requested-at': value } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const syncer = (await api.getNamespacedCustomObject({ ...where, name })) as StoredSyncer;
      if (syncer.status?.lastHandledSyncRequest === value) return syncer;
      await sleep(20);
    }
    throw new Error(`sync request ${value} not handled within 60 s`);
  };
}

/** One random change of the organization, as WeCom sees them every day. */
function changeOrg(env: SyncerEnv, prng: Prng, sync: number): string {
  const org = env.sim.org;
  const departments = org.departments.map((d) => d.id);
  const someone = (): SimMember => prng.pick(org.members);
  switch (prng.int(5)) {
    case 0: {
      const userid = `soak${sync}`;
      env.sim.patchOrg({ upsertMembers: [{ userid, name: `新人${sync}`, department: [prng.pick(departments)], status: 1, position: 'Engineer' }] });
      return `join ${userid}`;
    }
    case 1: {
      if (org.members.length <= 40) return 'none';
      const gone = someone();
      env.sim.patchOrg({ removeUserIds: [gone.userid] });
      return `leave ${gone.userid}`;
    }
    case 2: {
      const member = someone();
      env.sim.patchOrg({ upsertMembers: [{ ...member, name: `改名${sync}` }] });
      return `rename ${member.userid}`;
    }
    case 3: {
      const member = someone();
      env.sim.patchOrg({ upsertMembers: [{ ...member, status: prng.pick([1, 2, 4, 5]) }] });
      return `status ${member.userid}`;
    }
    default: {
      const member = someone();
      env.sim.patchOrg({ upsertMembers: [{ ...member, department: [prng.pick(departments)] }] });
      return `move ${member.userid}`;
    }
  }
}

/** Sets up this sync's faults and returns their names; `failing` is true when the sync is meant to fail. */
function injectFaults(env: SyncerEnv, prng: Prng): { names: string[]; failing: boolean } {
  const names: string[] = [];
  let failing = false;
  const endpoints = ['gettoken', 'department/list', 'user/list'];
  for (let k = prng.int(3); k > 0; k--) {
    const roll = prng.next();
    if (roll < 0.16) {
      env.sim.faults.script.push({ endpoint: prng.pick(endpoints), errcode: 45009 });
      names.push('45009');
    } else if (roll < 0.32) {
      env.sim.faults.script.push({ endpoint: prng.pick(endpoints), errcode: -1 });
      names.push('-1');
    } else if (roll < 0.48) {
      env.sim.faults.script.push({ endpoint: prng.pick(endpoints), httpStatus: prng.pick([500, 502, 503]) });
      names.push('5xx');
    } else if (roll < 0.62) {
      env.sim.faults.script.push({ endpoint: prng.pick(endpoints), body: 'html' });
      names.push('html');
    } else if (roll < 0.78) {
      env.sim.killTokens(prng.pick([40014, 42001] as const));
      names.push('killTokens');
    } else if (roll < 0.96) {
      env.sim.setFaults({ latencyMs: 10 + prng.int(90) });
      names.push('latency');
    } else {
      env.sim.setFaults({ failingDepartments: [prng.pick(env.sim.org.departments).id] });
      names.push('failingDepartment');
      failing = true;
    }
  }
  return { names, failing };
}

test(`${SYNCS} syncs with random faults: memory and file descriptors stay flat, the users end exact`, async ({ env }) => {
  const pid = env.operator.pid;
  assert.ok(pid !== undefined);
  const requestSync = syncRequester(env);
  const prng = createPrng(SEED);
  const readings: Reading[] = [];
  const tally: Record<string, number> = {};
  let failedSyncs = 0;
  const started = Date.now();
  for (let sync = 1; sync <= SYNCS; sync++) {
    env.sim.resetFaults();
    const change = prng.next() < 0.3 ? changeOrg(env, prng, sync) : 'none';
    const { names, failing } = injectFaults(env, prng);
    for (const name of [...names, ...(change !== 'none' ? ['orgChange'] : [])]) tally[name] = (tally[name] ?? 0) + 1;
    const before = failing ? (await env.users()).map((u) => `${u.metadata.name}@${u.metadata.resourceVersion}`).sort() : [];
    const syncer = await requestSync('soak');
    const ready = syncer.status?.conditions?.find((c) => c.type === 'Ready');
    if (failing) {
      failedSyncs++;
      assert.is(ready?.status, 'False', `sync ${sync} with a failing department: ${ready?.message}`);
      const after = (await env.users()).map((u) => `${u.metadata.name}@${u.metadata.resourceVersion}`).sort();
      assert.equal(after, before, `sync ${sync}: a failed sync touched users`);
    } else {
      // One-shot faults are retried away: every other sync converges.
      assert.is(ready?.status, 'True', `sync ${sync} (${names.join(', ') || 'no fault'}; ${change}): ${ready?.message}`);
    }
    readings.push(read(pid, sync));
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const first = windowOf(readings, FIRST_READING);
  const last = windowOf(readings, SYNCS);
  console.log(`soak: ${SYNCS} syncs in ${seconds} s (${failedSyncs} meant to fail); faults ${JSON.stringify(tally)}`);
  console.log(`soak: RSS lowest/highest and most fds per 10 syncs: ${[20, 50, 100, 150, 200].map((end) => {
    const w = windowOf(readings, end);
    return `syncs ${end - WINDOW + 1}-${end}: ${w.rssLowMB}/${w.rssHighMB} MB, ${w.fds} fds`;
  }).join('; ')}`);
  assert.ok(last.rssLowMB - first.rssLowMB < MAX_RSS_GROWTH_MB, `RSS floor grew ${first.rssLowMB} -> ${last.rssLowMB} MB`);
  assert.ok(last.fds - first.fds < MAX_FD_GROWTH, `fds grew ${first.fds} -> ${last.fds}`);

  // No fault left: the users are exactly the simulator's members.
  env.sim.resetFaults();
  const syncer = await requestSync('soak');
  assert.is(syncer.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  const users = new Map((await env.users()).map((u) => [u.spec['id'], u.spec]));
  const members = env.sim.org.members;
  assert.equal([...users.keys()].sort(), members.map((m) => m.userid).sort());
  for (const member of members) {
    const spec = users.get(member.userid)!;
    assert.is(spec['displayName'], member['name'], member.userid);
    assert.is(spec['isForbidden'], [2, 4, 5].includes(Number(member['status'])), member.userid);
    assert.equal(spec['groups'], member.department.map((id) => `acme/${id}`), member.userid);
  }
  assert.is(syncer.status?.users?.total, members.length);
});

test.run();
