// The CasdoorServer reconciler with the stand-in Casdoor over HTTP and fakes at its
// Kubernetes edges: the decisions a cluster test cannot pin down.
import pino from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CasdoorServer, CasdoorServerStatus } from '../../src/api/casdoor-server.ts';
import { CasdoorClient } from '../../src/casdoor/client.ts';
import { type CachedObject, CasdoorServerReconciler } from '../../src/casdoorserver/reconciler.ts';
import { startCasdoor, type CasdoorStandIn } from '../support/casdoor/server.ts';

const test = suite<{ casdoor: CasdoorStandIn }>('CasdoorServer reconciler');

test.before.each(async (context) => {
  context.casdoor = await startCasdoor();
});
test.after.each(async ({ casdoor }) => {
  await casdoor.close();
});

const KEY = 'casdoor/main';

function world(casdoor: CasdoorStandIn, secret = casdoor.app.clientSecret) {
  const server: CasdoorServer = {
    apiVersion: 'casdoor.org/v1alpha1', kind: 'CasdoorServer', metadata: { name: 'main', namespace: 'casdoor', uid: 'u', generation: 1 },
    spec: { endpoint: casdoor.url, credentialsRef: { name: 'app', clientIdKey: 'clientId', clientSecretKey: 'clientSecret' }, organizations: ['acme'], interval: '10m', existingUsers: 'Skip', prune: true, maxDeletions: '10%', suspend: false },
  };
  const objects = new Map<string, CachedObject>();
  for (let i = 0; i < 5; i++) objects.set(`acme.u${i}`, { kind: 'CasdoorUser', name: `acme.u${i}`, spec: { owner: 'acme', name: `u${i}`, displayName: `U${i}`, isForbidden: false } });
  const statuses: CasdoorServerStatus[] = [];
  const clients: CasdoorClient[] = [];
  const credentials = { secret, reads: 0 };
  const reconciler = new CasdoorServerReconciler({
    getServer: () => ({ ...server, ...(statuses.length > 0 && { status: statuses.at(-1)! }) }),
    objects: (_ns, kind) => (kind === 'CasdoorUser' ? [...objects.values()] : []),
    object: (_ns, kind, name) => (kind === 'CasdoorUser' ? objects.get(name) : undefined),
    readSecret: async (_ns, ref) => {
      credentials.reads++;
      return { value: ref.key === 'clientId' ? casdoor.app.clientId : credentials.secret, allowedURLs: casdoor.url };
    },
    casdoorClient: (endpoint, clientId, clientSecret) => {
      const client = new CasdoorClient({ endpoint, clientId, clientSecret, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
      clients.push(client);
      return client;
    },
    writeStatus: async (_server, status) => void statuses.push(status),
    events: { record: async () => {} },
    logger: pino({ level: 'silent' }),
  });
  return {
    objects, statuses, credentials,
    reconcile: () => reconciler.reconcile(KEY, new AbortController().signal).then((r) => r, () => 'retry' as const),
    changed: (name: string) => reconciler.objectChanged(KEY, 'CasdoorUser', name),
    close: () => Promise.all(clients.map((c) => c.close())),
  };
}

const ready = (status: CasdoorServerStatus | undefined) => status?.conditions?.find((c) => c.type === 'Ready');

test('a push that Casdoor fails loses nothing: the change stays pending and the retry compares in full', async ({ casdoor }) => {
  const w = world(casdoor);
  try {
    await w.reconcile();
    assert.is(ready(w.statuses.at(-1))?.status, 'True');
    w.objects.set('acme.u1', { kind: 'CasdoorUser', name: 'acme.u1', spec: { owner: 'acme', name: 'u1', displayName: 'renamed', isForbidden: false } });
    w.changed('acme.u1');
    casdoor.fail({ endpoint: 'update-user', msg: 'database is locked', times: 2 });
    assert.is(await w.reconcile(), 'retry', 'retried with backoff');
    casdoor.resetCounters();
    await w.reconcile();
    assert.ok((casdoor.counters.calls['get-users'] ?? 0) > 0, 'the retry was a full comparison');
    assert.is(casdoor.store.getUser('acme/u1')?.['displayName'], 'renamed');
  } finally {
    await w.close();
  }
});

test('stalled on credentials, object events do not re-read the Secret before the recheck is due', async ({ casdoor }) => {
  const w = world(casdoor, 'not-the-secret');
  try {
    await w.reconcile();
    assert.is(w.statuses.at(-1)?.conditions?.find((c) => c.type === 'Stalled')?.reason, 'InvalidCredentials');
    const calls = casdoor.counters.calls['get-users'];
    const before = w.credentials.reads;
    for (let i = 0; i < 20; i++) {
      w.changed('acme.u1');
      await w.reconcile();
    }
    const reads = w.credentials.reads - before;
    assert.ok(reads <= 2, `the Secret was read ${reads} times for 20 events`);
    assert.is(casdoor.counters.calls['get-users'], calls, 'Casdoor was not called with the refused secret');
  } finally {
    await w.close();
  }
});

test.run();
