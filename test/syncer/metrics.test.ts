import type { KubernetesObject } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { WeComSyncerStatus } from '../../src/api/wecom-syncer.ts';
import { SyncerMetrics } from '../../src/syncer/metrics.ts';
import { sampleValue, samples } from '../support/prom-text.ts';

const test = suite('SyncerMetrics');

function syncer(name: string, status?: WeComSyncerStatus, deleting = false): KubernetesObject & { status?: WeComSyncerStatus } {
  return {
    metadata: { namespace: 'team', name, ...(deleting && { deletionTimestamp: new Date('2026-01-01T00:00:00Z') }) },
    ...(status && { status }),
  };
}

const synced: WeComSyncerStatus = {
  users: { total: 10, active: 8, forbidden: 2 },
  lastSyncTime: '2026-05-01T10:00:00Z',
  lastSuccessfulSyncTime: '2026-05-01T09:00:00Z',
};

function setup() {
  const registry = new Registry();
  return { registry, metrics: new SyncerMetrics(registry) };
}

test('counts WeCom requests by syncer, endpoint and errcode, or http_<status> or none without one', async () => {
  const { registry, metrics } = setup();
  metrics.syncerHandlers.add?.(syncer('acme'));
  const request = (info: Parameters<typeof metrics.wecomRequest>[1]) => metrics.wecomRequest('team/acme', info);
  request({ endpoint: 'gettoken', errcode: 0, httpStatus: 200, durationMs: 40 });
  request({ endpoint: 'user/list', errcode: 0, httpStatus: 200, durationMs: 100 });
  request({ endpoint: 'user/list', errcode: 45009, httpStatus: 200, durationMs: 20 });
  request({ endpoint: 'user/list', httpStatus: 502, durationMs: 30 });
  request({ endpoint: 'user/list', durationMs: 15_000 });
  const text = await registry.metrics();
  const acme = { namespace: 'team', name: 'acme' };
  assert.is(sampleValue(text, 'wecom_requests_total', { ...acme, endpoint: 'gettoken', errcode: '0' }), 1);
  assert.is(sampleValue(text, 'wecom_requests_total', { ...acme, endpoint: 'user/list', errcode: '0' }), 1);
  assert.is(sampleValue(text, 'wecom_requests_total', { ...acme, endpoint: 'user/list', errcode: '45009' }), 1);
  assert.is(sampleValue(text, 'wecom_requests_total', { ...acme, endpoint: 'user/list', errcode: 'http_502' }), 1);
  assert.is(sampleValue(text, 'wecom_requests_total', { ...acme, endpoint: 'user/list', errcode: 'none' }), 1);
  assert.is(sampleValue(text, 'wecom_request_duration_seconds_count', { endpoint: 'user/list' }), 4);
  assert.is(sampleValue(text, 'wecom_request_duration_seconds_sum', { endpoint: 'user/list' }), 15.15);
  assert.is(sampleValue(text, 'wecom_request_duration_seconds_bucket', { endpoint: 'user/list', le: '0.1' }), 3);
});

test('a deleted syncer\'s request series go with it, and its late calls are timed but not counted', async () => {
  const { registry, metrics } = setup();
  metrics.syncerHandlers.add?.(syncer('acme'));
  metrics.syncerHandlers.add?.(syncer('other'));
  metrics.wecomRequest('team/acme', { endpoint: 'user/list', errcode: 60020, httpStatus: 200, durationMs: 10 });
  metrics.wecomRequest('team/other', { endpoint: 'user/list', errcode: 0, httpStatus: 200, durationMs: 10 });
  metrics.syncerHandlers.delete?.(syncer('acme'));
  metrics.wecomRequest('team/acme', { endpoint: 'gettoken', errcode: 0, httpStatus: 200, durationMs: 10 });
  const text = await registry.metrics();
  assert.equal(samples(text, 'wecom_requests_total').map((sample) => sample.labels.name), ['other']);
  assert.is(sampleValue(text, 'wecom_request_duration_seconds_count', { endpoint: 'gettoken' }), 1);
});

test('users and sync times follow the status the informer sees', async () => {
  const { registry, metrics } = setup();
  metrics.syncerHandlers.add?.(syncer('acme'));
  let text = await registry.metrics();
  assert.equal(samples(text, 'wecom_syncer_users', { name: 'acme' }), [], 'no series before the first sync');
  assert.equal(samples(text, 'wecom_syncer_last_sync_timestamp_seconds', { name: 'acme' }), []);

  metrics.syncerHandlers.update?.(syncer('acme'), syncer('acme', synced));
  text = await registry.metrics();
  assert.is(sampleValue(text, 'wecom_syncer_users', { namespace: 'team', name: 'acme', state: 'active' }), 8);
  assert.is(sampleValue(text, 'wecom_syncer_users', { namespace: 'team', name: 'acme', state: 'forbidden' }), 2);
  assert.is(sampleValue(text, 'wecom_syncer_last_sync_timestamp_seconds', { namespace: 'team', name: 'acme' }), Date.parse('2026-05-01T10:00:00Z') / 1000);
  assert.is(sampleValue(text, 'wecom_syncer_last_success_timestamp_seconds', { namespace: 'team', name: 'acme' }), Date.parse('2026-05-01T09:00:00Z') / 1000);

  metrics.syncerHandlers.update?.(syncer('acme', synced), syncer('acme', { ...synced, users: { total: 10, active: 5, forbidden: 5 } }));
  text = await registry.metrics();
  assert.is(sampleValue(text, 'wecom_syncer_users', { namespace: 'team', name: 'acme', state: 'active' }), 5);
});

test('counts the syncs this process ran by result, with their durations', async () => {
  const { registry, metrics } = setup();
  metrics.syncerHandlers.add?.(syncer('acme'));
  metrics.syncFinished('team/acme', { kind: 'suspended', departments: 3 }, 1_500);
  metrics.syncFinished('team/acme', { kind: 'failed', reason: 'Unreachable', message: 'down', stalled: false, connected: false }, 500);
  const text = await registry.metrics();
  assert.is(sampleValue(text, 'wecom_syncer_syncs_total', { namespace: 'team', name: 'acme', result: 'suspended' }), 1);
  assert.is(sampleValue(text, 'wecom_syncer_syncs_total', { namespace: 'team', name: 'acme', result: 'failed' }), 1);
  assert.is(sampleValue(text, 'wecom_syncer_sync_duration_seconds_count', { namespace: 'team', name: 'acme' }), 2);
  assert.is(sampleValue(text, 'wecom_syncer_sync_duration_seconds_sum', { namespace: 'team', name: 'acme' }), 2);
});

test('a deleted syncer leaves no series, even when its last sync ends after the delete', async () => {
  const { registry, metrics } = setup();
  metrics.syncerHandlers.add?.(syncer('acme', synced));
  metrics.syncerHandlers.add?.(syncer('other', synced));
  metrics.syncFinished('team/acme', { kind: 'suspended', departments: 3 }, 1_000);
  metrics.syncerHandlers.delete?.(syncer('acme', synced));
  metrics.syncFinished('team/acme', { kind: 'suspended', departments: 3 }, 1_000);
  const text = await registry.metrics();
  assert.not.ok(text.includes('name="acme"'), text);
  assert.is(sampleValue(text, 'wecom_syncer_users', { namespace: 'team', name: 'other', state: 'active' }), 8);
});

test('a syncer marked for deletion loses its series at once', async () => {
  const { registry, metrics } = setup();
  metrics.syncerHandlers.add?.(syncer('acme', synced));
  metrics.syncerHandlers.update?.(syncer('acme', synced), syncer('acme', synced, true));
  assert.not.ok((await registry.metrics()).includes('name="acme"'));
});

test.run();
