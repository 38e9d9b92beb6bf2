// The reconciler and the Secrets it sends: where they may go (casdoor.org/allowed-urls),
// and what a syncer stalled on them remembers across a restart (the digest in status).
import pino from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { WeComSyncer, WeComSyncerStatus } from '../../src/api/wecom-syncer.ts';
import { type SecretKey, SecretProblem } from '../../src/secrets/reader.ts';
import { OwnedIndex } from '../../src/syncer/owned-index.ts';
import { type SyncerDeps, WeComSyncerReconciler } from '../../src/syncer/reconciler.ts';
import { WeComClient } from '../../src/wecom/client.ts';
import { startSimulator, type Simulator } from '../support/simulator/server.ts';
import { makeSyncer } from '../support/syncer-fixtures.ts';

const test = suite<{ sim: Simulator }>('credentials');

test.before.each(async (context) => {
  context.sim = await startSimulator({ generate: { members: 6, departments: 2 } });
});
test.after.each(async ({ sim }) => {
  await sim.close();
});

/** A reconciler whose cache holds the last status written (or `syncer`'s own before any). */
function reconcilerFor(syncer: WeComSyncer, secret: (refName: string) => SecretKey, wecomClient?: SyncerDeps['wecomClient']) {
  const statuses: WeComSyncerStatus[] = [];
  const reconciler = new WeComSyncerReconciler({
    getSyncer: () => (statuses.length > 0 ? { ...syncer, status: statuses.at(-1)! } : syncer),
    users: new OwnedIndex(),
    groups: new OwnedIndex(),
    readSecret: async (_namespace, ref) => secret(ref.name),
    writer: { create: async () => {}, createNew: async () => true, update: async () => {}, forbid: async () => {}, delete: async () => {} },
    writeStatus: async (_syncer, status) => void statuses.push(status),
    events: { record: async () => {} },
    wecomClient: wecomClient ?? ((apiURL, corpId, value) => new WeComClient({ apiURL, corpId, secret: value, retry: { maxAttempts: 1 } })),
    logger: pino({ level: 'silent' }),
  });
  return { statuses, reconcile: () => reconciler.reconcile('casdoor/acme', new AbortController().signal).catch(() => ({ threw: true })) };
}

const condition = (status: WeComSyncerStatus | undefined, type: string) => status?.conditions?.find((c) => c.type === type);

test('a Secret that does not allow the apiURL is sent nowhere: Stalled URLNotAllowed, and the annotation added is picked up', async ({ sim }) => {
  let secret: SecretKey = { value: sim.corpSecret, allowedURLs: 'https://wecom-proxy.corp.example' };
  const { statuses, reconcile } = reconcilerFor(makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } }), () => secret);
  const first = await reconcile();
  assert.is(sim.counters.connectionsAccepted, 0, 'the simulator received no connection');
  const stalled = condition(statuses.at(-1), 'Stalled');
  assert.is(stalled?.reason, 'URLNotAllowed');
  assert.is(condition(statuses.at(-1), 'Ready')?.status, 'False');
  assert.match(stalled?.message ?? '', `Secret casdoor/acme-wecom may not be sent to ${sim.url}`);
  assert.match(stalled?.message ?? '', `kubectl annotate secret acme-wecom -n casdoor casdoor.org/allowed-urls='https://wecom-proxy.corp.example,${sim.url}' --overwrite`);
  assert.equal(first, { requeueAfterMs: 5_000 }, 'the Secret is re-read soon; no backoff loop');
  assert.match(statuses.at(-1)?.failedInputsDigest ?? '', /^scrypt\.[0-9a-f]{32}\.[0-9a-f]{64}$/);
  // The recheck with nothing changed sends nothing.
  await reconcile();
  assert.is(sim.counters.connectionsAccepted, 0);
  // The owner allows the origin: the next recheck syncs, with no other change.
  secret = { ...secret, allowedURLs: `https://wecom-proxy.corp.example, ${sim.url}` };
  await reconcile();
  assert.is(condition(statuses.at(-1), 'Ready')?.status, 'True');
  assert.is(statuses.at(-1)?.failedInputsDigest, null, 'the digest goes once the stall is over');
});

test('a contacts secret is checked too: the corp secret allowed alone is not enough', async ({ sim }) => {
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId, contactsSecretRef: { name: 'contacts', key: 'contactsSecret' } } });
  const { statuses, reconcile } = reconcilerFor(syncer, (name) =>
    name === 'contacts' ? { value: sim.contactsSecret, allowedURLs: undefined } : { value: sim.corpSecret, allowedURLs: sim.url });
  await reconcile();
  assert.is(sim.counters.connectionsAccepted, 0);
  assert.match(condition(statuses.at(-1), 'Stalled')?.message ?? '', `Secret casdoor/contacts may not be sent to ${sim.url}`);
});

test("WeCom's own API needs no annotation", async ({ sim }) => {
  const syncer = makeSyncer({ spec: { apiURL: 'https://qyapi.weixin.qq.com', corpId: sim.corpId } });
  // The client is built for WeCom's URL, and sent to the simulator: nothing leaves this machine.
  const built: string[] = [];
  const { statuses, reconcile } = reconcilerFor(syncer, () => ({ value: sim.corpSecret, allowedURLs: undefined }), (apiURL, corpId, value) => {
    built.push(apiURL);
    return new WeComClient({ apiURL: sim.url, corpId, secret: value, retry: { maxAttempts: 1 } });
  });
  await reconcile();
  assert.equal(built, ['https://qyapi.weixin.qq.com']);
  assert.is(condition(statuses.at(-1), 'Ready')?.status, 'True');
});

/** A syncer stalled on InvalidSecret as an earlier process left it: status with the digest of what failed. */
async function stalledByEarlierProcess(sim: Simulator, wrong: SecretKey): Promise<WeComSyncer> {
  const syncer = makeSyncer({ spec: { apiURL: sim.url, corpId: sim.corpId } });
  const earlier = reconcilerFor(syncer, () => wrong);
  await earlier.reconcile();
  assert.is(condition(earlier.statuses.at(-1), 'Stalled')?.reason, 'InvalidSecret');
  sim.resetCounters();
  return { ...syncer, status: earlier.statuses.at(-1)! };
}

test('a restarted operator does not call WeCom again with the content that failed', async ({ sim }) => {
  const wrong = { value: 'not-the-secret', allowedURLs: sim.url };
  const stalled = await stalledByEarlierProcess(sim, wrong);
  const restarted = reconcilerFor(stalled, () => wrong);
  await restarted.reconcile();
  await restarted.reconcile();
  assert.is(sim.counters.connectionsAccepted, 0, 'WeCom was not called');
  assert.is(restarted.statuses.length, 0, 'nothing to report');
});

test('a restarted operator syncs, without a request, when the Secret was fixed while it was down', async ({ sim }) => {
  const stalled = await stalledByEarlierProcess(sim, { value: 'not-the-secret', allowedURLs: sim.url });
  const restarted = reconcilerFor(stalled, () => ({ value: sim.corpSecret, allowedURLs: sim.url }));
  await restarted.reconcile();
  assert.is(sim.counters.calls['gettoken'], 1);
  assert.is(condition(restarted.statuses.at(-1), 'Ready')?.status, 'True');
});

test('an annotation edited on a Secret WeCom refused does not send the refused value again', async ({ sim }) => {
  const wrong = { value: 'not-the-secret', allowedURLs: sim.url };
  const stalled = await stalledByEarlierProcess(sim, wrong);
  const restarted = reconcilerFor(stalled, () => ({ ...wrong, allowedURLs: `${sim.url}, https://wecom-proxy.corp.example` }));
  await restarted.reconcile();
  assert.is(sim.counters.connectionsAccepted, 0, 'WeCom was called with the value it refused');
});

test('a Secret deleted while stalled is reported missing (not stalled), and nothing is sent', async ({ sim }) => {
  const stalled = await stalledByEarlierProcess(sim, { value: 'not-the-secret', allowedURLs: sim.url });
  const restarted = reconcilerFor(stalled, () => {
    throw new SecretProblem('SecretNotFound', 'Secret casdoor/acme-wecom (key "corpSecret") not found; waiting for it to be created');
  });
  assert.equal(await restarted.reconcile(), { threw: true }, 'retried with backoff');
  assert.is(condition(restarted.statuses.at(-1), 'Ready')?.reason, 'SecretNotFound');
  assert.is(condition(restarted.statuses.at(-1), 'Stalled'), undefined);
  assert.is(sim.counters.connectionsAccepted, 0);
});

test('the digest in status names no secret', async ({ sim }) => {
  const stalled = await stalledByEarlierProcess(sim, { value: 'not-the-secret', allowedURLs: sim.url });
  assert.not.match(JSON.stringify(stalled.status), 'not-the-secret');
});

test.run();
