import type { KubernetesObject } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Condition } from '../../src/api/wecom-syncer.ts';
import { StatusGauges } from '../../src/shared/status-gauges.ts';
import { sampleValue, samples } from '../support/prom-text.ts';

const test = suite('StatusGauges');

const at = '2026-05-01T10:00:00Z';
function condition(type: string, status: Condition['status'], reason: string): Condition {
  return { type, status, reason, message: '', lastTransitionTime: at, observedGeneration: 1 };
}
function object(spec: { interval?: string; suspend?: boolean }, conditions: Condition[], deleting = false): KubernetesObject {
  return {
    metadata: { namespace: 'team', name: 'acme', ...(deleting && { deletionTimestamp: new Date(at) }) },
    ...({ spec, status: { conditions } } as object),
  };
}
function setup() {
  const registry = new Registry();
  return { registry, gauges: new StatusGauges(registry, 'thing', 'Thing') };
}

test('one series per condition, with its status and reason; a changed reason replaces its series', async () => {
  const { registry, gauges } = setup();
  gauges.observe(object({ interval: '1h' }, [condition('Ready', 'False', 'InvalidSecret'), condition('Stalled', 'True', 'InvalidSecret')]));
  let text = await registry.metrics();
  assert.is(sampleValue(text, 'thing_status_condition', { namespace: 'team', name: 'acme', type: 'Ready', status: 'False', reason: 'InvalidSecret' }), 1);
  assert.is(sampleValue(text, 'thing_status_condition', { type: 'Stalled', status: 'True', reason: 'InvalidSecret' }), 1);
  assert.is(sampleValue(text, 'thing_interval_seconds', { namespace: 'team', name: 'acme' }), 3600);
  assert.is(sampleValue(text, 'thing_suspended', { namespace: 'team', name: 'acme' }), 0);

  gauges.observe(object({ interval: '30m', suspend: true }, [condition('Ready', 'True', 'Synced')]));
  text = await registry.metrics();
  assert.equal(samples(text, 'thing_status_condition').map((s) => `${s.labels.type}=${s.labels.status}/${s.labels.reason}`), ['Ready=True/Synced'], 'the old series are gone, Stalled with them');
  assert.is(sampleValue(text, 'thing_interval_seconds'), 1800);
  assert.is(sampleValue(text, 'thing_suspended'), 1);
});

test('a deleted object, or one being deleted, has no series left', async () => {
  for (const remove of ['delete', 'deletionTimestamp'] as const) {
    const { registry, gauges } = setup();
    gauges.observe(object({ interval: '1h' }, [condition('Ready', 'True', 'Synced')]));
    if (remove === 'delete') gauges.forget(object({}, []));
    else gauges.observe(object({ interval: '1h' }, [condition('Ready', 'True', 'Synced')], true));
    const text = await registry.metrics();
    for (const name of ['thing_status_condition', 'thing_interval_seconds', 'thing_suspended']) assert.equal(samples(text, name), [], `${name} after ${remove}`);
  }
});

test('an interval that does not parse has no interval series, the rest stays', async () => {
  const { registry, gauges } = setup();
  gauges.observe(object({ interval: 'hourly' }, [condition('Ready', 'True', 'Synced')]));
  const text = await registry.metrics();
  assert.equal(samples(text, 'thing_interval_seconds'), []);
  assert.is(sampleValue(text, 'thing_status_condition', { type: 'Ready' }), 1);
});

test.run();
