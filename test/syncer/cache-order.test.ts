// A status write reaches the informer cache a moment after it returns, so the
// reconcile that follows (a retry after a failure, a key queued again) may read
// the cache before or after its own write. Each decision here is run both ways,
// and must come out the same.
import pino from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { SecretKeyRef, WeComSyncer, WeComSyncerStatus } from '../../src/api/wecom-syncer.ts';
import { OwnedIndex } from '../../src/syncer/owned-index.ts';
import { WeComSyncerReconciler } from '../../src/syncer/reconciler.ts';
import { SecretProblem } from '../../src/secrets/reader.ts';
import { WeComClient } from '../../src/wecom/client.ts';
import { startSimulator, type Simulator } from '../support/simulator/server.ts';
import { makeSyncer } from '../support/syncer-fixtures.ts';

const test = suite<{ sim: Simulator }>('decisions whichever status the cache holds');

test.before.each(async (context) => {
  context.sim = await startSimulator({ generate: { members: 12, departments: 3 } });
});
test.after.each(async ({ sim }) => {
  await sim.close();
});

/**
 * Which status the cache holds when the next reconcile reads it: the last one
 * the reconcile before the last wrote (delivered one reconcile late), the first
 * progress write of the last reconcile, or its final write.
 */
type CacheOrder = 'before' | 'progress' | 'final';
const ORDERS: readonly CacheOrder[] = ['before', 'progress', 'final'];

/**
 * A reconciler over a syncer whose cache holds, after each reconcile, the status `order` names.
 * Its Secrets allow the syncer's apiURL. `failFinal` makes final status writes fail.
 */
function world(syncer: WeComSyncer, readValue: (namespace: string, ref: SecretKeyRef) => Promise<string>) {
  const statuses: WeComSyncerStatus[] = [];
  let cached = syncer;
  let previous: WeComSyncerStatus | undefined = syncer.status;
  const control = { failFinal: false };
  const reconciler = new WeComSyncerReconciler({
    getSyncer: () => cached,
    users: new OwnedIndex(),
    groups: new OwnedIndex(),
    readSecret: async (namespace, ref) => ({ value: await readValue(namespace, ref), allowedURLs: syncer.spec.apiURL }),
    writer: { create: async () => {}, createNew: async () => true, update: async () => {}, forbid: async () => {}, delete: async () => {} },
    writeStatus: async (_syncer, status) => {
      if (control.failFinal && !isProgress(status)) throw new Error('the API server is down');
      statuses.push(status);
    },
    events: { record: async () => {} },
    wecomClient: (apiURL, corpId, secret) => new WeComClient({ apiURL, corpId, secret, retry: { maxAttempts: 1 } }),
    logger: pino({ level: 'silent' }),
  });
  return {
    statuses,
    control,
    /** Replaces what the cache holds, as another writer (or a new object of the same name) would. */
    setCached(next: WeComSyncer): void {
      cached = next;
    },
    /** Runs one reconcile, then lets the cache hold what `order` says. Resolves with 'retry' when it threw. */
    async reconcile(order: CacheOrder = 'final'): Promise<'retry' | { requeueAfterMs?: number }> {
      const first = statuses.length;
      let result: 'retry' | { requeueAfterMs?: number };
      try {
        result = await reconciler.reconcile('casdoor/acme', new AbortController().signal);
      } catch {
        result = 'retry';
      }
      const written = statuses.slice(first);
      const last = written.at(-1) ?? previous;
      const held = order === 'final' ? last : order === 'progress' ? (written.find(isProgress) ?? previous) : previous;
      cached = { ...cached, ...(held ? { status: held } : {}) };
      previous = last;
      return result;
    },
  };
}

const isProgress = (status: WeComSyncerStatus): boolean => status.conditions?.some((c) => c.type === 'Reconciling') ?? false;
const condition = (status: WeComSyncerStatus | undefined, type: string) => status?.conditions?.find((c) => c.type === type);

for (const order of ORDERS) {
  test(`a suspended syncer created before its Secret tests the connection once the Secret exists (cache: ${order})`, async ({ sim }) => {
    let secret: string | undefined;
    const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId, suspend: true } });
    const w = world(syncer, async (namespace, ref) => {
      if (secret === undefined) throw new SecretProblem('SecretNotFound', `Secret ${namespace}/${ref.name} not found`);
      return secret;
    });
    assert.is(await w.reconcile(order), 'retry', 'a missing Secret is retried with backoff');
    assert.is(condition(w.statuses.at(-1), 'Ready')?.reason, 'SecretNotFound');
    // The work queue's retry, with the Secret still missing, then after it arrived.
    assert.is(await w.reconcile(order), 'retry');
    secret = sim.corpSecret;
    await w.reconcile(order);
    assert.is(sim.counters.calls['gettoken'], 1, 'the connection was tested');
    assert.is(condition(w.statuses.at(-1), 'Ready')?.reason, 'Suspended');
    assert.is(condition(w.statuses.at(-1), 'Connected')?.status, 'True');
  });

  test(`a suspended syncer whose WeCom was busy tests again (cache: ${order})`, async ({ sim }) => {
    const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId, suspend: true } });
    const w = world(syncer, async () => sim.corpSecret);
    sim.setFaults({ script: [{ endpoint: 'department/list', errcode: -1 }] });
    assert.is(await w.reconcile(order), 'retry');
    assert.is(condition(w.statuses.at(-1), 'Ready')?.reason, 'Busy');
    await w.reconcile(order);
    assert.is(condition(w.statuses.at(-1), 'Ready')?.reason, 'Suspended');
    assert.is(sim.counters.calls['department/list'], 2);
  });

  test(`a sync that failed just after a stalled syncer's Secret was fixed is retried (cache: ${order})`, async ({ sim }) => {
    let secret = 'wrong';
    const w = world(makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } }), async () => secret);
    assert.equal(await w.reconcile(), { requeueAfterMs: 5_000 }, 'stalled: the Secret re-read soon, not retried with backoff');
    assert.is(condition(w.statuses.at(-1), 'Stalled')?.reason, 'InvalidSecret');
    // The Secret is fixed while WeCom is busy for a moment.
    secret = sim.corpSecret;
    sim.setFaults({ script: [{ endpoint: 'department/list', errcode: -1 }] });
    assert.is(await w.reconcile(order), 'retry', 'the changed Secret was tried');
    assert.is(condition(w.statuses.at(-1), 'Ready')?.reason, 'Busy');
    await w.reconcile(order);
    assert.is(condition(w.statuses.at(-1), 'Ready')?.status, 'True', 'the retry synced');
  });

  test(`a finished sync does not run again when its key is queued again (cache: ${order})`, async ({ sim }) => {
    const w = world(makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } }), async () => sim.corpSecret);
    await w.reconcile(order);
    assert.is(condition(w.statuses.at(-1), 'Ready')?.status, 'True');
    assert.ok(w.statuses.some(isProgress), 'the sync wrote progress');
    const calls = sim.counters.calls['department/list'];
    // Say a hand edit queued the key while the cache lags behind the final write.
    const result = await w.reconcile(order);
    assert.is(sim.counters.calls['department/list'], calls, 'no second sync');
    assert.ok(result !== 'retry' && (result.requeueAfterMs ?? 0) > 3_000_000, 'requeued for the interval');
  });
}

test('the cache wins when it holds a status this process did not write (edited by someone else)', async ({ sim }) => {
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } });
  const w = world(syncer, async () => sim.corpSecret);
  await w.reconcile('before');
  const final = w.statuses.at(-1)!;
  // Someone marks the sync failed in status, by hand: a retry is due, whatever this process wrote.
  const edited = { ...final, conditions: final.conditions?.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' as const, reason: 'SyncFailed' } : c)) };
  w.setCached({ ...syncer, status: edited });
  const calls = sim.counters.calls['department/list'];
  await w.reconcile();
  assert.is(sim.counters.calls['department/list'], calls! + 1, 'the edited status decided');
});

test('a syncer recreated under the same name is decided on its own status, not the old one\'s', async ({ sim }) => {
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } });
  const w = world(syncer, async () => sim.corpSecret);
  await w.reconcile('final');
  w.setCached(makeSyncer({ uid: 'uid-acme-2', spec: { apiURL: sim.url, corpId: sim.corpId } }));
  const calls = sim.counters.calls['department/list'];
  await w.reconcile();
  assert.is(sim.counters.calls['department/list'], calls! + 1, 'the new syncer had its first sync');
});

test('after a final status write failed, the stored progress write decides: the sync runs again', async ({ sim }) => {
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } });
  const w = world(syncer, async () => sim.corpSecret);
  w.control.failFinal = true;
  assert.is(await w.reconcile('progress'), 'retry');
  w.control.failFinal = false;
  const calls = sim.counters.calls['department/list'];
  await w.reconcile();
  assert.is(sim.counters.calls['department/list'], calls! + 1, 'the interrupted sync ran again');
  assert.is(condition(w.statuses.at(-1), 'Ready')?.status, 'True');
});

test.run();
