// Hand edits between syncs: the reconciler keeps only fingerprints of what it
// wrote, and puts an edited or deleted object back from the last version the
// cache showed that still matched. The cache is played here by an index the
// writer fills, told of every change as the operator's informer tells it.
import pino from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CASDOOR_USER_KIND } from '../../src/api/casdoor-user.ts';
import type { WeComSyncer } from '../../src/api/wecom-syncer.ts';
import type { DesiredObject, ManagedKind } from '../../src/syncer/desired.ts';
import { OwnedIndex } from '../../src/syncer/owned-index.ts';
import { WeComSyncerReconciler } from '../../src/syncer/reconciler.ts';
import { type StoredObject, toStoredObject } from '../../src/syncer/stored.ts';
import { WeComClient } from '../../src/wecom/client.ts';
import { startSimulator, type Simulator } from '../support/simulator/server.ts';
import { makeSyncer } from '../support/syncer-fixtures.ts';

const KEY = 'casdoor/acme';
const test = suite<{ sim: Simulator }>('hand edits');

test.before.each(async (context) => {
  context.sim = await startSimulator({ generate: { members: 20, departments: 4 } });
});
test.after.each(async ({ sim }) => {
  await sim.close();
});

/** A reconciler whose writes land in a cache that tells it of each change, as the operator's wiring does. */
function world(sim: Simulator) {
  const syncer: WeComSyncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId, syncGroups: false } });
  const users = new OwnedIndex();
  const writes: Array<{ op: string; name: string; spec: Record<string, unknown> }> = [];
  let version = 0;
  let reconciler: WeComSyncerReconciler;
  /** Stores a version of an object as the API server would, and tells the reconciler. */
  const store = (kind: ManagedKind, name: string, spec: Record<string, unknown> | undefined, ownerUid = 'uid-acme'): boolean => {
    const before = users.of(KEY).get(name);
    let after: StoredObject | undefined;
    if (spec) {
      after = toStoredObject({
        metadata: {
          name, namespace: 'casdoor', resourceVersion: String(++version), labels: { 'casdoor.org/syncer': 'acme', 'casdoor.org/organization': 'acme' },
          ownerReferences: [{ apiVersion: 'casdoor.org/v1alpha1', kind: 'WeComSyncer', name: 'acme', uid: ownerUid, controller: true }],
        },
        spec: structuredClone(spec),
      } as never);
      users.upsert(after);
    } else if (before) {
      users.remove(before);
    }
    return reconciler.ownedObjectChanged(KEY, kind, before, after);
  };
  const write = async (op: string, object: DesiredObject): Promise<void> => {
    writes.push({ op, name: object.name, spec: { ...object.spec } });
    store(object.kind, object.name, { ...object.spec });
  };
  reconciler = new WeComSyncerReconciler({
    getSyncer: () => syncer,
    users,
    groups: new OwnedIndex(),
    readSecret: async () => ({ value: sim.corpSecret, allowedURLs: sim.url }),
    writer: { create: (_ns, o) => write('create', o), createNew: async (_ns, o) => (await write('create', o), true), update: (_ns, o) => write('update', o), forbid: async () => {}, delete: async () => {} },
    writeStatus: async (_syncer, status) => {
      syncer.status = status;
    },
    events: { record: async () => {} },
    wecomClient: (apiURL, corpId, secret) => new WeComClient({ apiURL, corpId, secret, retry: { maxAttempts: 1 } }),
    logger: pino({ level: 'silent' }),
  });
  return {
    users,
    writes,
    store,
    reconcile: () => reconciler.reconcile(KEY, new AbortController().signal),
    /** Syncs that reached WeCom: each lists the departments once. */
    fetches: () => sim.counters.calls['department/list'] ?? 0,
  };
}

test('its own writes are no edits; an edit and a delete are put back from the last matching version, without WeCom', async ({ sim }) => {
  const w = world(sim);
  await w.reconcile();
  const synced = w.writes.length;
  assert.is(synced, 20, 'the sync created every user');
  const fetches = w.fetches();
  const [edited, deleted] = [...w.users.of(KEY).values()];
  const original = structuredClone(edited!.spec);
  assert.ok(w.store(CASDOOR_USER_KIND, edited!.metadata.name, { ...edited!.spec, displayName: 'hacked', email: 'x@evil.example' }), 'an edit queues the syncer');
  assert.ok(w.store(CASDOOR_USER_KIND, deleted!.metadata.name, undefined), 'a delete queues the syncer');
  await w.reconcile();
  assert.is(w.fetches(), fetches, 'no sync: WeCom was not asked');
  const putBack = w.writes.slice(synced);
  assert.equal(putBack.map((write) => `${write.op} ${write.name}`).sort(), [`create ${deleted!.metadata.name}`, `update ${edited!.metadata.name}`].sort());
  assert.equal(putBack.find((write) => write.op === 'update')?.spec, original, 'the edited user gets its synced spec back');
  // Put back, the objects match again: a further reconcile writes nothing.
  await w.reconcile();
  assert.is(w.writes.length, synced + 2);
});

test('edited twice before the repair: the version before the first edit goes back', async ({ sim }) => {
  const w = world(sim);
  await w.reconcile();
  const synced = w.writes.length;
  const [user] = [...w.users.of(KEY).values()];
  const original = structuredClone(user!.spec);
  w.store(CASDOOR_USER_KIND, user!.metadata.name, { ...original, title: 'first edit' });
  w.store(CASDOOR_USER_KIND, user!.metadata.name, { ...original, title: 'second edit' });
  await w.reconcile();
  assert.equal(w.writes.slice(synced).map((write) => write.spec), [original]);
});

/** A world after its first sync: its writes and WeCom fetches so far, and one synced user. */
async function synced(sim: Simulator) {
  const w = world(sim);
  await w.reconcile();
  return { w, synced: w.writes.length, fetches: w.fetches(), user: [...w.users.of(KEY).values()][0]! };
}

test('a changed object with no matching version known is left to a sync', async ({ sim }) => {
  const { w, synced: written, fetches, user } = await synced(sim);
  // Deleted and written again by someone else before the cache showed the delete: no version that matched.
  w.users.remove(user);
  assert.ok(w.store(CASDOOR_USER_KIND, user.metadata.name, { ...user.spec, displayName: 'impostor' }, 'uid-someone-else'));
  await w.reconcile();
  assert.is(w.fetches(), fetches + 1, 'a sync fetched WeCom again');
  assert.equal(w.writes.slice(written).map((write) => `${write.op} ${write.name}`), [`update ${user.metadata.name}`], 'the sync rewrote it');
});

test('an object the cache has not shown yet is no edit', async ({ sim }) => {
  const { w, synced: written, fetches, user } = await synced(sim);
  // The cache lags: a user the sync wrote is not in it yet, and the key is queued again.
  w.users.remove(user);
  await w.reconcile();
  assert.is(w.writes.length, written, 'nothing written');
  assert.is(w.fetches(), fetches, 'no sync');
});

test.run();
