import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Controller, type ReconcileOutcome } from '../../src/runtime/controller.ts';
import { type Reconciler, type Result, TerminalError } from '../../src/runtime/reconcile.ts';
import { WorkQueue } from '../../src/runtime/workqueue.ts';
import { FakeClock, flush } from './fake-clock.ts';
import { captureLogger } from './log-sink.ts';

/** A reconciler whose every call answers with the next behaviour in the list (the last one repeats). */
function scripted(...behaviours: Array<() => Promise<Result>>): Reconciler & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    reconcile(key) {
      calls.push(key);
      const next = behaviours[Math.min(calls.length - 1, behaviours.length - 1)];
      if (!next) throw new Error('no behaviour scripted');
      return next();
    },
  };
}

function setup(reconciler: Reconciler, concurrency = 1) {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock, baseBackoffMs: 5 });
  const { logger, lines } = captureLogger();
  const outcomes: ReconcileOutcome[] = [];
  const controller = new Controller({
    name: 'test',
    reconciler,
    logger,
    clock,
    queue,
    concurrency,
    listener: { reconciled: (outcome) => outcomes.push(outcome) },
  });
  return { clock, queue, controller, lines, outcomes };
}

test('success forgets the backoff and does not requeue', async () => {
  const r = scripted(async () => ({}));
  const { queue, controller, clock, outcomes } = setup(r);
  queue.addRateLimited('ns/a');
  await clock.advance(5);
  controller.start();
  await flush();
  assert.equal(r.calls, ['ns/a']);
  assert.is(queue.numRequeues('ns/a'), 0);
  assert.equal(clock.pending(), []);
  assert.equal(outcomes, ['success']);
  await controller.stop();
});

test('an error requeues the key with growing backoff', async () => {
  const r = scripted(async () => {
    throw new Error('boom');
  });
  const { queue, controller, clock, outcomes, lines } = setup(r);
  controller.start();
  queue.add('ns/a');
  await flush();
  assert.equal(clock.pending(), [5]);
  await clock.advance(5);
  assert.equal(clock.pending(), [10]);
  assert.is(queue.numRequeues('ns/a'), 2);
  assert.equal(r.calls, ['ns/a', 'ns/a']);
  assert.equal(outcomes, ['error', 'error']);
  const failure = lines.find((l) => l.msg === 'reconcile failed; retrying in 5 ms');
  assert.ok(failure, 'the failure is logged with its retry delay');
  assert.is(failure.key, 'ns/a');
  await controller.stop();
});

test('a TerminalError is not retried', async () => {
  const r = scripted(async () => {
    throw new TerminalError('invalid spec');
  });
  const { queue, controller, clock, outcomes } = setup(r);
  controller.start();
  queue.add('ns/a');
  await flush();
  await clock.advance(60_000);
  assert.equal(r.calls, ['ns/a']);
  assert.equal(clock.pending(), []);
  assert.is(queue.numRequeues('ns/a'), 0);
  assert.equal(outcomes, ['terminal_error']);
  queue.add('ns/a');
  await flush();
  assert.equal(r.calls, ['ns/a', 'ns/a'], 'a new event runs it again');
  await controller.stop();
});

test('requeueAfterMs forgets the backoff and schedules the key', async () => {
  const r = scripted(
    async () => {
      throw new Error('first fails');
    },
    async () => ({ requeueAfterMs: 60_000 }),
  );
  const { queue, controller, clock, outcomes } = setup(r);
  controller.start();
  queue.add('ns/a');
  await flush();
  await clock.advance(5);
  assert.is(queue.numRequeues('ns/a'), 0);
  assert.equal(clock.pending(), [60_000]);
  await clock.advance(60_000);
  assert.equal(r.calls.length, 3);
  assert.equal(outcomes, ['error', 'requeue_after', 'requeue_after']);
  await controller.stop();
});

test('a thrown non-Error does not kill the worker', async () => {
  let n = 0;
  const r: Reconciler = {
    async reconcile() {
      n++;
      if (n === 1) throw 'a string';
      return {};
    },
  };
  const { queue, controller, lines, outcomes } = setup(r);
  controller.start();
  queue.add('ns/a');
  await flush();
  queue.add('ns/b');
  await flush();
  assert.is(n, 2);
  assert.equal(outcomes, ['error', 'success']);
  const failure = lines.find((l) => l.key === 'ns/a' && l.level === 50);
  assert.match(String((failure?.err as { message?: string } | undefined)?.message), 'non-Error thrown: "a string"');
  await controller.stop();
});

test('a reconciler that throws synchronously does not kill the worker', async () => {
  let n = 0;
  const r: Reconciler = {
    reconcile() {
      n++;
      if (n === 1) throw new Error('sync throw');
      return Promise.resolve({});
    },
  };
  const { queue, controller, outcomes } = setup(r);
  controller.start();
  queue.add('ns/a');
  queue.add('ns/b');
  await flush();
  assert.equal(outcomes, ['error', 'success']);
  await controller.stop();
});

/** A reconciler whose calls each wait until the test releases them, counting how many run at once. */
function gated() {
  const releases: Array<() => void> = [];
  const calls: string[] = [];
  let running = 0;
  const state = { calls, releases, maxRunning: 0 };
  const reconciler: Reconciler = {
    async reconcile(key) {
      calls.push(key);
      running++;
      state.maxRunning = Math.max(state.maxRunning, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
      return {};
    },
  };
  return { reconciler, state };
}

test('workers never reconcile one key at once, and a re-add runs it once more', async () => {
  const { reconciler, state } = gated();
  const { queue, controller } = setup(reconciler, 4);
  controller.start();
  queue.add('ns/a');
  await flush();
  queue.add('ns/a');
  queue.add('ns/a');
  await flush();
  assert.is(state.maxRunning, 1);
  state.releases.shift()?.();
  await flush();
  assert.equal(state.calls, ['ns/a', 'ns/a']);
  state.releases.shift()?.();
  await flush();
  assert.equal(state.calls, ['ns/a', 'ns/a']);
  assert.is(state.maxRunning, 1);
  await controller.stop();
});

test('runs different keys concurrently up to the worker count', async () => {
  const { reconciler, state } = gated();
  const { queue, controller } = setup(reconciler, 2);
  controller.start();
  for (const key of ['ns/a', 'ns/b', 'ns/c']) queue.add(key);
  await flush();
  assert.is(state.maxRunning, 2);
  for (const release of state.releases.splice(0)) release();
  await flush();
  assert.equal(state.calls, ['ns/a', 'ns/b', 'ns/c']);
  for (const release of state.releases.splice(0)) release();
  await controller.stop();
});

test('stop lets in-flight reconciles finish within the grace period', async () => {
  let release = (): void => {};
  let aborted = false;
  const r: Reconciler = {
    async reconcile(_key, signal) {
      signal.addEventListener('abort', () => (aborted = true));
      await new Promise<void>((resolve) => (release = resolve));
      return {};
    },
  };
  const { queue, controller, clock } = setup(r);
  controller.start();
  queue.add('ns/a');
  await flush();
  let stopped = false;
  void controller.stop(1000).then(() => (stopped = true));
  queue.add('ns/b');
  await clock.advance(500);
  assert.is(stopped, false);
  release();
  await flush();
  assert.is(stopped, true);
  assert.is(aborted, false);
});

test('stop aborts in-flight reconciles once the grace period is over', async () => {
  const r: Reconciler = {
    reconcile: (_key, signal) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
  };
  const { queue, controller, clock, outcomes } = setup(r);
  controller.start();
  queue.add('ns/a');
  await flush();
  let stopped = false;
  void controller.stop(1000).then(() => (stopped = true));
  await clock.advance(999);
  assert.is(stopped, false);
  await clock.advance(1);
  assert.is(stopped, true);
  assert.equal(outcomes, ['error']);
});

test('every log line of a reconcile carries its key', async () => {
  const r = scripted(async () => ({}));
  const { queue, controller, lines } = setup(r);
  controller.start();
  queue.add('ns/a');
  await flush();
  const reconcileLines = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('reconcil'));
  assert.ok(reconcileLines.length >= 2);
  for (const line of reconcileLines) {
    assert.is(line.key, 'ns/a');
    assert.is(line.controller, 'test');
  }
  await controller.stop();
});

test.run();
