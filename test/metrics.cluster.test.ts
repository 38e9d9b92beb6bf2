// /metrics of a real operator process after a real sync: controller-runtime's
// series, ours, and no credential anywhere in the text.
import { createServer } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type OperatorProcess, startOperator } from './support/operator.ts';
import { sampleValue, samples } from './support/prom-text.ts';
import { leakedSecrets, type SyncerEnv, syncerEnv } from './support/syncer-env.ts';
import { waitFor } from './support/wait.ts';
import { smallOrg } from './syncer/fixtures.ts';
import { freePort } from '../hack/control-plane/cluster.ts';

const test = suite<{ env: SyncerEnv; operator: OperatorProcess; port: number }>('metrics');


async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.is(response.status, 200);
  return response.text();
}

test.before.each(async (context) => {
  context.env = await syncerEnv('metrics', { org: smallOrg() });
  // The env's operator serves no metrics; this test's own does, on a port of its own.
  await context.env.operator.kill();
  context.port = await freePort();
  context.operator = startOperator(context.env.cluster.kubeconfig, context.env.ns, [`--metrics-bind-address=127.0.0.1:${context.port}`]);
});
test.after.each(async ({ env, operator }) => {
  await operator.kill();
  await env.close();
});

test('serves controller-runtime series and ours after a sync, with no credential in the text', async ({ env, operator, port }) => {
  await env.applySyncer('acme');
  const syncer = await env.waitReady('acme');
  const active = syncer.status?.users?.active;
  assert.ok(active !== undefined && active > 0);

  // The gauges follow status through the informer, a moment after the status write.
  const text = await waitFor('the users gauge to match status', async () => {
    const text = await scrape(port);
    return sampleValue(text, 'wecom_syncer_users', { namespace: env.ns, name: 'acme', state: 'active' }) === active ? text : undefined;
  });

  const reconciles = (result: string) => sampleValue(text, 'controller_runtime_reconcile_total', { controller: 'wecomsyncer', result }) ?? 0;
  assert.ok(reconciles('success') + reconciles('requeue_after') > 0, 'a successful reconcile is counted');
  assert.is(sampleValue(text, 'controller_runtime_reconcile_errors_total', { controller: 'wecomsyncer' }), 0);
  assert.ok((sampleValue(text, 'controller_runtime_reconcile_time_seconds_count', { controller: 'wecomsyncer' }) ?? 0) > 0);
  assert.ok((sampleValue(text, 'workqueue_adds_total', { name: 'wecomsyncer' }) ?? 0) > 0);
  assert.is.not(sampleValue(text, 'workqueue_depth', { name: 'wecomsyncer' }), undefined);
  assert.is.not(sampleValue(text, 'workqueue_retries_total', { name: 'wecomsyncer' }), undefined);

  // One token for the whole sync: the cache works, and the endpoint label is the path below /cgi-bin/.
  assert.is(sampleValue(text, 'wecom_requests_total', { namespace: env.ns, name: 'acme', endpoint: 'gettoken', errcode: '0' }), 1);
  assert.ok((sampleValue(text, 'wecom_requests_total', { namespace: env.ns, name: 'acme', endpoint: 'user/list', errcode: '0' }) ?? 0) > 0);
  assert.ok((sampleValue(text, 'wecom_request_duration_seconds_count', { endpoint: 'department/list' }) ?? 0) > 0);
  assert.is(sampleValue(text, 'wecom_syncer_users', { namespace: env.ns, name: 'acme', state: 'forbidden' }), syncer.status?.users?.forbidden);
  const lastSync = Date.parse(syncer.status?.lastSyncTime ?? '') / 1000;
  assert.is(sampleValue(text, 'wecom_syncer_last_sync_timestamp_seconds', { namespace: env.ns, name: 'acme' }), lastSync);
  assert.is(sampleValue(text, 'wecom_syncer_syncs_total', { namespace: env.ns, name: 'acme', result: 'synced' }), 1);
  assert.is(sampleValue(text, 'wecom_syncer_sync_duration_seconds_count', { namespace: env.ns, name: 'acme' }), 1);
  assert.ok((sampleValue(text, 'process_resident_memory_bytes') ?? 0) > 0, 'default process metrics are there');

  assert.equal(leakedSecrets(env.sim, [text, operator.log()]), [], 'a secret or token reached /metrics or the log');
});

test('a deleted syncer leaves no series behind', async ({ env, port }) => {
  await env.applySyncer('acme');
  await env.waitReady('acme');
  await waitFor('the syncer series', async () => (samples(await scrape(port), 'wecom_syncer_users', { name: 'acme' }).length > 0 ? true : undefined));
  await env.cluster.kubectlOk(['delete', 'wcs', 'acme', '-n', env.ns]);
  const text = await waitFor('the syncer series to go', async () => {
    const text = await scrape(port);
    return text.includes('name="acme"') ? undefined : text;
  });
  assert.equal(samples(text, 'wecom_requests_total', { name: 'acme' }), [], 'its request counts went with it');
  assert.ok((sampleValue(text, 'wecom_request_duration_seconds_count', { endpoint: 'gettoken' }) ?? 0) > 0, 'the request durations, which name no syncer, stay');
});

test.run();
