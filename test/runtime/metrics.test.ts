import { Registry } from 'prom-client';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Controller } from '../../src/runtime/controller.ts';
import { RuntimeMetrics } from '../../src/runtime/metrics.ts';
import { type Reconciler, TerminalError } from '../../src/runtime/reconcile.ts';
import { WorkQueue } from '../../src/runtime/workqueue.ts';
import { sampleValue } from '../support/prom-text.ts';
import { FakeClock, flush } from './fake-clock.ts';
import { captureLogger } from './log-sink.ts';

const test = suite('RuntimeMetrics');

/** Each key ends the way its name says, after `ms` of fake time. */
function byName(clock: FakeClock, ms: number): Reconciler {
  return {
    async reconcile(key) {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
      if (key === 'error') throw new Error('failed');
      if (key === 'terminal') throw new TerminalError('bad spec');
      return key === 'requeue' ? { requeueAfterMs: 60_000 } : {};
    },
  };
}

function setup() {
  const registry = new Registry();
  const metrics = new RuntimeMetrics(registry);
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock, baseBackoffMs: 600, listener: metrics.workQueueListener('things') });
  const controller = new Controller({
    name: 'things',
    reconciler: byName(clock, 250),
    logger: captureLogger().logger,
    clock,
    queue,
    concurrency: 4,
    listener: metrics.controllerListener('things'),
  });
  return { registry, clock, queue, controller };
}

test('series exist at zero before anything happens, under controller-runtime names', async () => {
  const { registry } = setup();
  const text = await registry.metrics();
  for (const result of ['success', 'error', 'requeue_after', 'terminal_error']) {
    assert.is(sampleValue(text, 'controller_runtime_reconcile_total', { controller: 'things', result }), 0, result);
  }
  assert.is(sampleValue(text, 'controller_runtime_reconcile_errors_total', { controller: 'things' }), 0);
  assert.is(sampleValue(text, 'workqueue_depth', { name: 'things' }), 0);
  assert.is(sampleValue(text, 'workqueue_adds_total', { name: 'things' }), 0);
  assert.is(sampleValue(text, 'workqueue_retries_total', { name: 'things' }), 0);
});

test('counts reconciles by result, errors, retries, adds and their times', async () => {
  const { registry, clock, queue, controller } = setup();
  for (const key of ['ok', 'requeue', 'error', 'terminal']) queue.add(key);
  queue.add('ok'); // collapsed into the waiting one, but counted as an add, as client-go does
  let text = await registry.metrics();
  assert.is(sampleValue(text, 'workqueue_depth', { name: 'things' }), 4);

  controller.start();
  await clock.advance(250);
  text = await registry.metrics();
  const total = (result: string) => sampleValue(text, 'controller_runtime_reconcile_total', { controller: 'things', result });
  assert.equal(['success', 'requeue_after', 'error', 'terminal_error'].map(total), [1, 1, 1, 1]);
  assert.is(sampleValue(text, 'controller_runtime_reconcile_errors_total', { controller: 'things' }), 2);
  assert.is(sampleValue(text, 'controller_runtime_terminal_reconcile_errors_total', { controller: 'things' }), 1);
  assert.is(sampleValue(text, 'controller_runtime_reconcile_time_seconds_count', { controller: 'things' }), 4);
  // 250 ms of fake time each: all four in the 0.25 s bucket, none in the 0.2 s one.
  assert.is(sampleValue(text, 'controller_runtime_reconcile_time_seconds_bucket', { controller: 'things', le: '0.2' }), 0);
  assert.is(sampleValue(text, 'controller_runtime_reconcile_time_seconds_bucket', { controller: 'things', le: '0.25' }), 4);
  assert.is(sampleValue(text, 'controller_runtime_reconcile_time_seconds_sum', { controller: 'things' }), 1);
  assert.is(sampleValue(text, 'workqueue_adds_total', { name: 'things' }), 5);
  assert.is(sampleValue(text, 'workqueue_retries_total', { name: 'things' }), 1);
  assert.is(sampleValue(text, 'workqueue_depth', { name: 'things' }), 0);
  assert.is(sampleValue(text, 'workqueue_queue_duration_seconds_count', { name: 'things' }), 4);
  assert.is(sampleValue(text, 'workqueue_work_duration_seconds_count', { name: 'things' }), 4);
  assert.is(sampleValue(text, 'workqueue_work_duration_seconds_sum', { name: 'things' }), 1);

  // The failed key comes back after its 600 ms backoff: one more add, one more error.
  await clock.advance(1_000);
  text = await registry.metrics();
  assert.is(sampleValue(text, 'controller_runtime_reconcile_total', { controller: 'things', result: 'error' }), 2);
  assert.is(sampleValue(text, 'workqueue_retries_total', { name: 'things' }), 2);
  assert.is(sampleValue(text, 'workqueue_adds_total', { name: 'things' }), 6);

  const stopped = controller.stop();
  await flush();
  await clock.advance(250);
  await stopped;
});

test.run();
