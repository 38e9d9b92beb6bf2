import type { KubernetesObject } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CasdoorServerStatus } from '../../src/api/casdoor-server.ts';
import { CasdoorServerMetrics } from '../../src/casdoorserver/metrics.ts';
import { sampleValue, samples } from '../support/prom-text.ts';

const test = suite('CasdoorServerMetrics');

function server(status?: Partial<CasdoorServerStatus>): KubernetesObject {
  return { metadata: { namespace: 'team', name: 'door' }, ...({ spec: { interval: '1h', suspend: false }, status } as object) };
}
const counted = { users: { selected: 10, inSync: 8, failed: 1, skipped: 1 }, groups: { selected: 3, inSync: 3, failed: 0, skipped: 0 } };
const compared = { kind: 'compared', counts: {}, failures: [] } as never;

test('objects by kind and state, from status', async () => {
  const registry = new Registry();
  const metrics = new CasdoorServerMetrics(registry);
  metrics.serverHandlers.add?.(server(counted));
  const text = await registry.metrics();
  assert.is(sampleValue(text, 'casdoor_server_objects', { namespace: 'team', name: 'door', kind: 'CasdoorUser', state: 'failed' }), 1);
  assert.is(sampleValue(text, 'casdoor_server_objects', { kind: 'CasdoorGroup', state: 'inSync' }), 3);
  assert.is(sampleValue(text, 'casdoor_server_interval_seconds', { namespace: 'team', name: 'door' }), 3600);
});

test('a deleted server leaves no series, and a comparison that ends after the deletion adds none', async () => {
  const registry = new Registry();
  const metrics = new CasdoorServerMetrics(registry);
  metrics.comparisonFinished('team/door', compared, 1000);
  assert.equal(samples(await registry.metrics(), 'casdoor_server_comparisons_total'), [], 'not a server the informer holds');
  metrics.serverHandlers.add?.(server(counted));
  metrics.comparisonFinished('team/door', compared, 1000);
  metrics.request('team/door', 'get-users', 'Unreachable', 0.5);
  let text = await registry.metrics();
  assert.is(sampleValue(text, 'casdoor_server_comparisons_total', { namespace: 'team', name: 'door', result: 'compared' }), 1);
  assert.is(sampleValue(text, 'casdoor_requests_total', { namespace: 'team', name: 'door', endpoint: 'get-users', outcome: 'Unreachable' }), 1);
  metrics.serverHandlers.delete?.(server(counted));
  metrics.comparisonFinished('team/door', compared, 1000);
  metrics.request('team/door', 'get-users', 'ok', 0.1);
  text = await registry.metrics();
  assert.is(sampleValue(text, 'casdoor_request_duration_seconds_count', { endpoint: 'get-users' }), 2, 'a late call is timed');
  for (const name of ['casdoor_requests_total', 'casdoor_server_objects', 'casdoor_server_comparisons_total', 'casdoor_server_comparison_duration_seconds_count', 'casdoor_server_status_condition', 'casdoor_server_suspended']) {
    assert.equal(samples(text, name).filter((sample) => sample.labels.name === 'door'), [], name);
  }
});

test.run();
