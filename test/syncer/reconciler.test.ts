// The reconciler with real WeCom (the simulator over HTTP) and fakes at its
// Kubernetes edges: the orderings and restarts a cluster test cannot pin down.
import pino from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ANNOTATION_SYNC_REQUESTED_AT } from '../../src/api/group.ts';
import type { WeComSyncer, WeComSyncerStatus } from '../../src/api/wecom-syncer.ts';
import type { ObjectWriter } from '../../src/syncer/object-writer.ts';
import { OwnedIndex } from '../../src/syncer/owned-index.ts';
import { toStoredObject } from '../../src/syncer/stored.ts';
import { type SyncerDeps, WeComSyncerReconciler } from '../../src/syncer/reconciler.ts';
import { WeComClient } from '../../src/wecom/client.ts';
import { startSimulator, type Simulator } from '../support/simulator/server.ts';
import { makeSyncer, storedUser } from '../support/syncer-fixtures.ts';

const test = suite<{ sim: Simulator }>('reconciler');

test.before.each(async (context) => {
  context.sim = await startSimulator({ generate: { members: 30, departments: 6 } });
});
test.after.each(async ({ sim }) => {
  await sim.close();
});

const quietWriter: ObjectWriter = {
  create: async () => {},
  createNew: async () => true,
  update: async () => {},
  forbid: async () => {},
  delete: async () => {},
};

function deps(sim: Simulator, syncer: WeComSyncer, secret: string, overrides: Partial<SyncerDeps> = {}): SyncerDeps {
  return {
    getSyncer: () => syncer,
    users: new OwnedIndex(),
    groups: new OwnedIndex(),
    readSecret: async () => ({ value: secret, allowedURLs: sim.url }),
    writer: quietWriter,
    writeStatus: async () => {},
    events: { record: async () => {} },
    wecomClient: (apiURL, corpId, secretValue) => new WeComClient({ apiURL, corpId, secret: secretValue, retry: { maxAttempts: 1 } }),
    logger: pino({ level: 'silent' }),
    ...overrides,
  };
}

test('a slow progress write never lands after the final status', async ({ sim }) => {
  sim.setFaults({ latencyMs: 20 });
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } });
  const writes: Array<{ final: boolean; done: number }> = [];
  let clock = 0;
  const reconciler = new WeComSyncerReconciler(
    deps(sim, syncer, sim.corpSecret, {
      progressIntervalMs: 0,
      writeStatus: async (_syncer, status: WeComSyncerStatus) => {
        const final = status.lastSyncTime !== syncer.status?.lastSyncTime;
        // Progress writes are slow; the final one is fast: the race the channel prevents.
        await new Promise((resolve) => setTimeout(resolve, final ? 0 : 60));
        writes.push({ final, done: ++clock });
      },
    }),
  );
  await reconciler.reconcile('casdoor/acme', new AbortController().signal);
  assert.ok(writes.length >= 2, 'progress and final writes happened');
  assert.is(writes.at(-1)?.final, true, 'the final status is the last write');
  assert.is(writes.filter((w) => w.final).length, 1);
});

test('a restarted operator does not call WeCom again for a syncer stalled on its secret', async ({ sim }) => {
  const stalled = { type: 'Stalled', status: 'True' as const, reason: 'InvalidSecret', message: 'x', lastTransitionTime: '2026-11-27T00:00:00Z', observedGeneration: 1 };
  const ready = { ...stalled, type: 'Ready', status: 'False' as const };
  const syncer = makeSyncer({
    spec: { apiURL: sim.url, corpId: sim.corpId },
    status: { observedGeneration: 1, lastSyncTime: '2020-01-01T00:00:00Z', conditions: [ready, stalled] },
  });
  const fresh = new WeComSyncerReconciler(deps(sim, syncer, 'still-wrong'));
  const result = await fresh.reconcile('casdoor/acme', new AbortController().signal);
  assert.is(sim.counters.calls['gettoken'] ?? 0, 0, 'the interval elapsed long ago, yet WeCom was not called');
  assert.is(result.requeueAfterMs, 60_000);
});

test('a fixed Secret is noticed at the next recheck and synced', async ({ sim }) => {
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } });
  let secret = 'wrong';
  const statuses: WeComSyncerStatus[] = [];
  const reconciler = new WeComSyncerReconciler(
    deps(sim, syncer, '', {
      readSecret: async () => ({ value: secret, allowedURLs: sim.url }),
      writeStatus: async (_s, status) => void statuses.push(status),
    }),
  );
  const first = await reconciler.reconcile('casdoor/acme', new AbortController().signal);
  assert.is(first.requeueAfterMs, 5_000, 'just stalled: the Secret is re-read within seconds');
  assert.is(sim.counters.calls['gettoken'], 1);
  syncer.status = statuses.at(-1)!;
  await reconciler.reconcile('casdoor/acme', new AbortController().signal);
  assert.is(sim.counters.calls['gettoken'], 1, 'same secret: not called again');
  secret = sim.corpSecret;
  await reconciler.reconcile('casdoor/acme', new AbortController().signal);
  assert.is(statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
});

/**
 * A WeCom client factory whose listing of department `gated` waits until `open()` is true (checked every
 * few ms, for at most 5 s): the order a test needs between the other listings' writes and that one.
 */
function gatedClient(gated: number, open: () => boolean): SyncerDeps['wecomClient'] {
  return (apiURL, corpId, secret) => {
    const client = new WeComClient({ apiURL, corpId, secret, retry: { maxAttempts: 1 } });
    const listMembers = client.listMembers.bind(client);
    client.listMembers = async (departmentId, signal) => {
      for (let waited = 0; departmentId === gated && !open() && waited < 5000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
      return listMembers(departmentId, signal);
    };
    return client;
  };
}

/** A writer that records what it is asked, and how many member listings WeCom had been asked for by then. */
function recordingWriter(sim: Simulator, delayMs = 0): { writer: ObjectWriter; writes: Array<{ op: string; kind: string; name: string; memberListings: number }> } {
  const writes: Array<{ op: string; kind: string; name: string; memberListings: number }> = [];
  const record = async (op: string, kind: string, name: string): Promise<void> => {
    const memberListings = sim.counters.calls['user/list'] ?? 0;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    writes.push({ op, kind, name, memberListings });
  };
  return {
    writes,
    writer: {
      create: async (_ns, object) => record('create', object.kind, object.name),
      createNew: async (_ns, object) => {
        await record('create', object.kind, object.name);
        return true;
      },
      update: async (_ns, object) => record('update', object.kind, object.name),
      forbid: async (_ns, kind, name) => record('forbid', kind, name),
      delete: async (_ns, kind, name) => record('delete', kind, name),
    },
  };
}

test('groups are written while the members are fetched, and departments are listed once', async ({ sim }) => {
  // One department at a time, 30 ms each: the member fetch takes a while.
  sim.setFaults({ latencyMs: 30 });
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } });
  const { writer, writes } = recordingWriter(sim);
  const reconciler = new WeComSyncerReconciler(deps(sim, syncer, sim.corpSecret, { writer, fetchConcurrency: 1 }));
  await reconciler.reconcile('casdoor/acme', new AbortController().signal);
  const departments = sim.org.departments.length;
  const groups = writes.filter((w) => w.kind === 'CasdoorGroup');
  assert.is(groups.length, departments);
  assert.ok(groups[0]!.memberListings < departments, `the first group was written after ${groups[0]!.memberListings} of ${departments} member listings`);
  const firstUser = writes.findIndex((w) => w.kind === 'CasdoorUser');
  assert.ok(firstUser > writes.lastIndexOf(groups.at(-1)!), 'every group is written before the first user');
  assert.is(sim.counters.calls['department/list'], 1, 'the connection test\'s listing is the one synced');
});

test('a member fetch that fails creates only members new to the cache: no update and no removal', async ({ sim }) => {
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId, removedUsers: 'Delete' } });
  const groups = new OwnedIndex();
  // A group whose department WeCom no longer lists: Delete would remove it after a complete fetch.
  groups.upsert(toStoredObject({
    metadata: { name: 'acme.dept-999', namespace: 'casdoor', resourceVersion: '1', labels: { 'casdoor.org/syncer': 'acme' }, ownerReferences: [{ apiVersion: 'casdoor.org/v1alpha1', kind: 'WeComSyncer', name: 'acme', uid: 'uid-acme', controller: true }] },
    spec: { owner: 'acme', name: '999' },
  } as never));
  // A member stored out of date (a complete fetch would update it) and one WeCom no longer has (Delete would delete it).
  const users = new OwnedIndex();
  const listed = sim.org.members.filter((m) => m.department.some((id) => id !== sim.org.departments.at(-1)!.id));
  const stale = `acme.${listed[0]!.userid.toLowerCase()}`;
  for (const name of [stale, 'acme.gone']) users.upsert(storedUser(name, { fingerprint: 'out-of-date' }));
  sim.setFaults({ failingDepartments: [sim.org.departments.at(-1)!.id] });
  // Slow writes: the fetch fails first, and the sync must still wait for them.
  const { writer, writes } = recordingWriter(sim, 20);
  const statuses: WeComSyncerStatus[] = [];
  let writesBeforeFinalStatus = -1;
  const reconciler = new WeComSyncerReconciler(deps(sim, syncer, sim.corpSecret, {
    writer,
    groups,
    users,
    fetchConcurrency: 1,
    // The failing department is listed last, once a user has been created from the listings before it.
    wecomClient: gatedClient(sim.org.departments.at(-1)!.id, () => writes.some((w) => w.kind === 'CasdoorUser')),
    writeStatus: async (_s, status) => {
      statuses.push(status);
      writesBeforeFinalStatus = writes.length;
    },
  }));
  await reconciler.reconcile('casdoor/acme', new AbortController().signal).catch(() => {});
  assert.is(statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')?.status, 'False', 'the sync failed');
  assert.is(writes.filter((w) => w.op === 'create' && w.kind === 'CasdoorGroup').length, sim.org.departments.length);
  assert.is(writesBeforeFinalStatus, writes.length, 'every write ended before the final status');
  const userWrites = writes.filter((w) => w.kind === 'CasdoorUser');
  assert.ok(userWrites.length > 0, 'members of the departments listed were created');
  assert.ok(statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')?.message.endsWith(`${userWrites.length} members new to the operator were created from the departments listed; no other user changed.`), 'Ready says how many were created');
  assert.equal(userWrites.filter((w) => w.op !== 'create'), [], 'no update, no removal');
  assert.equal(writes.filter((w) => w.op === 'delete' || w.op === 'forbid'), []);
  const creatable = new Set(listed.map((m) => `acme.${m.userid.toLowerCase()}`));
  creatable.delete(stale);
  assert.equal(userWrites.filter((w) => !creatable.has(w.name)), [], 'only members the cache did not hold, of departments listed');
});

test('members new to the cache are created while later departments are listed, and written once', async ({ sim }) => {
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } });
  const { writer, writes } = recordingWriter(sim);
  const last = sim.org.departments.at(-1)!.id;
  const reconciler = new WeComSyncerReconciler(deps(sim, syncer, sim.corpSecret, {
    writer,
    fetchConcurrency: 1,
    wecomClient: gatedClient(last, () => writes.some((w) => w.kind === 'CasdoorUser')),
  }));
  await reconciler.reconcile('casdoor/acme', new AbortController().signal);
  const users = writes.filter((w) => w.kind === 'CasdoorUser');
  assert.ok(users[0]!.memberListings < sim.org.departments.length, 'the first user was created before the last listing');
  assert.equal(users.filter((w) => w.op !== 'create'), []);
  assert.is(new Set(users.map((w) => w.name)).size, users.length, 'each user written once, members of several departments included');
  assert.is(users.length, sim.org.members.length);
});

test('a user created early that the cache then sees deleted is created again by the plan', async ({ sim }) => {
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } });
  const { writer, writes } = recordingWriter(sim);
  let deleted: string | undefined;
  const reconciler: WeComSyncerReconciler = new WeComSyncerReconciler(deps(sim, syncer, sim.corpSecret, {
    writer,
    fetchConcurrency: 1,
    // Before the last listing: the cache shows the first user created deleted by hand.
    wecomClient: gatedClient(sim.org.departments.at(-1)!.id, () => {
      const first = writes.find((w) => w.kind === 'CasdoorUser');
      if (first && deleted === undefined) {
        deleted = first.name;
        reconciler.ownedObjectChanged('casdoor/acme', 'CasdoorUser', storedUser(first.name), undefined);
      }
      return deleted !== undefined;
    }),
  }));
  await reconciler.reconcile('casdoor/acme', new AbortController().signal);
  assert.ok(deleted);
  assert.equal(writes.filter((w) => w.name === deleted).map((w) => w.op), ['create', 'create']);
});

test('a user created early from a record a later listing contradicts (userids differing in case) is deleted again', async ({ sim }) => {
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } });
  const last = sim.org.departments.at(-1)!.id;
  const first = sim.org.members.find((m) => !m.department.includes(last))!;
  const twin = first.userid.toUpperCase();
  sim.setFaults({ hostileRecords: [{ departmentId: last, record: { userid: twin, name: 'twin', department: [last] } }] });
  const name = `acme.${first.userid.toLowerCase()}`;
  const { writer, writes } = recordingWriter(sim);
  const reconciler = new WeComSyncerReconciler(deps(sim, syncer, sim.corpSecret, {
    writer,
    fetchConcurrency: 1,
    wecomClient: gatedClient(last, () => writes.some((w) => w.name === name)),
  }));
  await reconciler.reconcile('casdoor/acme', new AbortController().signal);
  assert.equal(writes.filter((w) => w.name === name).map((w) => w.op), ['create', 'delete']);
  assert.is(writes.filter((w) => w.kind === 'CasdoorUser' && w.op === 'create').length, sim.org.members.length);
});

test('a user judged stored as wanted while the fetch ran, then edited by hand before the plan, is put back by that sync', async ({ sim }) => {
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } });
  const users = new OwnedIndex();
  const written: Array<{ op: string; kind: string; name: string; spec: unknown }> = [];
  // Stores what it writes, as the cache would show it.
  const store = async (op: string, _ns: string, object: Parameters<ObjectWriter['update']>[1]): Promise<void> => {
    written.push({ op, kind: object.kind, name: object.name, spec: structuredClone(object.spec) });
    if (object.kind !== 'CasdoorUser') return;
    users.upsert(toStoredObject({
      metadata: { name: object.name, namespace: 'casdoor', resourceVersion: String(written.length), labels: object.labels, ownerReferences: [object.ownerReference] },
      spec: structuredClone(object.spec),
    } as never));
  };
  const writer: ObjectWriter = {
    ...quietWriter,
    create: (ns, object) => store('create', ns, object),
    createNew: async (ns, object) => (await store('create', ns, object), true),
    update: (ns, object) => store('update', ns, object),
  };
  const last = sim.org.departments.at(-1)!.id;
  const member = sim.org.members.find((m) => !m.department.includes(last))!;
  const name = `acme.${member.userid.toLowerCase()}`;
  let editing = false;
  const reconciler = new WeComSyncerReconciler(deps(sim, syncer, sim.corpSecret, {
    writer,
    users,
    fetchConcurrency: 1,
    wecomClient: gatedClient(last, () => {
      if (!editing) return true;
      // Every other department is listed (and judged) by the time the last one is asked for.
      const stored = users.of('casdoor/acme').get(name)!;
      users.upsert({ ...stored, spec: { ...stored.spec, displayName: 'edited by hand' }, fingerprint: 'edited' });
      editing = false;
      return true;
    }),
  }));
  await reconciler.reconcile('casdoor/acme', new AbortController().signal);
  const original = written.find((w) => w.name === name)!.spec;
  written.length = 0;
  editing = true;
  syncer.metadata.annotations = { ...syncer.metadata.annotations, [ANNOTATION_SYNC_REQUESTED_AT]: new Date().toISOString() };
  await reconciler.reconcile('casdoor/acme', new AbortController().signal);
  assert.is(editing, false, 'the edit was made while the fetch ran');
  assert.equal(written.filter((w) => w.kind === 'CasdoorUser').map((w) => [w.op, w.name]), [['update', name]]);
  assert.equal(written.find((w) => w.name === name)!.spec, original, 'the version that matched, put back');
});

test('a syncer deleted while its members are fetched stops the fetch and writes no user', async ({ sim }) => {
  sim.setFaults({ latencyMs: 30 });
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } });
  let deleted = false;
  const { writer, writes } = recordingWriter(sim);
  const reconciler = new WeComSyncerReconciler(deps(sim, syncer, sim.corpSecret, {
    getSyncer: () => (deleted ? undefined : syncer),
    writer: { ...writer, create: async (ns, object) => { deleted = true; await writer.create(ns, object); }, createNew: async (ns, object) => { deleted = true; return writer.createNew(ns, object); } },
    fetchConcurrency: 1,
  }));
  const result = await reconciler.reconcile('casdoor/acme', new AbortController().signal);
  assert.equal(result, {}, 'the syncer is gone: nothing to requeue');
  assert.ok((sim.counters.calls['user/list'] ?? 0) < sim.org.departments.length, `${sim.counters.calls['user/list']} of ${sim.org.departments.length} departments listed`);
  assert.equal(writes.filter((w) => w.kind === 'CasdoorUser'), []);
});

test.run();
