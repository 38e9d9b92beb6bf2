import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WorkQueue } from '../../src/runtime/workqueue.ts';
import { FakeClock, flush } from './fake-clock.ts';

function queue(clock = new FakeClock(), maxBackoffMs?: number): WorkQueue {
  return new WorkQueue({ clock, baseBackoffMs: 5, ...(maxBackoffMs === undefined ? {} : { maxBackoffMs }) });
}

test('collapses adds of a waiting key into one', async () => {
  const q = queue();
  q.add('ns/a');
  q.add('ns/b');
  q.add('ns/a');
  assert.is(q.len(), 2);
  assert.is(await q.get(), 'ns/a');
  assert.is(await q.get(), 'ns/b');
  assert.is(q.len(), 0);
});

test('never hands a key being processed to a second worker', async () => {
  const q = queue();
  q.add('ns/a');
  assert.is(await q.get(), 'ns/a');
  q.add('ns/a');
  assert.is(q.len(), 0, 'the re-added key waits for done');
  let second: string | undefined = 'not yet';
  void q.get().then((key) => (second = key));
  await flush();
  assert.is(second, 'not yet');
  q.done('ns/a');
  await flush();
  assert.is(second, 'ns/a');
});

test('runs a key re-added while processing exactly once more', async () => {
  const q = queue();
  q.add('ns/a');
  const key = await q.get();
  assert.is(key, 'ns/a');
  q.add('ns/a');
  q.add('ns/a');
  q.done('ns/a');
  assert.is(q.len(), 1);
  assert.is(await q.get(), 'ns/a');
  q.done('ns/a');
  assert.is(q.len(), 0);
});

test('a key done without being re-added is not queued again', async () => {
  const q = queue();
  q.add('ns/a');
  await q.get();
  q.done('ns/a');
  assert.is(q.len(), 0);
});

test('wakes a waiting get when a key is added', async () => {
  const q = queue();
  const next = q.get();
  q.add('ns/a');
  assert.is(await next, 'ns/a');
});

test('backoff doubles per failure, is capped, and forget resets it', async () => {
  const clock = new FakeClock();
  const q = queue(clock, 40);
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    q.addRateLimited('ns/a');
    delays.push(clock.pending()[0] ?? -1);
    await clock.advance(1000);
    assert.is(await q.get(), 'ns/a');
    q.done('ns/a');
  }
  assert.equal(delays, [5, 10, 20, 40, 40]);
  assert.is(q.numRequeues('ns/a'), 5);
  q.forget('ns/a');
  assert.is(q.numRequeues('ns/a'), 0);
  q.addRateLimited('ns/a');
  assert.equal(clock.pending(), [5]);
});

test('backoff is per key', () => {
  const clock = new FakeClock();
  const q = queue(clock);
  q.addRateLimited('ns/a');
  q.addRateLimited('ns/a');
  q.addRateLimited('ns/b');
  assert.is(q.numRequeues('ns/a'), 2);
  assert.is(q.numRequeues('ns/b'), 1);
});

test('addAfter adds the key when its time comes', async () => {
  const clock = new FakeClock();
  const q = queue(clock);
  q.addAfter('ns/a', 100);
  await clock.advance(99);
  assert.is(q.len(), 0);
  await clock.advance(1);
  assert.is(q.len(), 1);
});

test('addAfter keeps the earlier time when a key is scheduled twice', async () => {
  const clock = new FakeClock();
  const q = queue(clock);
  q.addAfter('ns/a', 100);
  q.addAfter('ns/a', 500);
  assert.equal(clock.pending(), [100]);
  q.addAfter('ns/a', 30);
  assert.equal(clock.pending(), [30]);
  await clock.advance(30);
  assert.is(q.len(), 1);
  assert.equal(clock.pending(), []);
});

test('addAfter with no delay adds at once', () => {
  const q = queue();
  q.addAfter('ns/a', 0);
  assert.is(q.len(), 1);
});

test('shutDown unblocks waiting gets and stops handing out keys', async () => {
  const clock = new FakeClock();
  const q = queue(clock);
  const waiting = [q.get(), q.get()];
  q.shutDown();
  assert.equal(await Promise.all(waiting), [undefined, undefined]);
  q.add('ns/a');
  q.addAfter('ns/b', 10);
  assert.is(await q.get(), undefined);
  assert.equal(clock.pending(), []);
});

test('shutDown drops delayed adds', async () => {
  const clock = new FakeClock();
  const q = queue(clock);
  q.addAfter('ns/a', 10);
  q.shutDown();
  assert.equal(clock.pending(), []);
});

test('reports depth, adds, retries and durations to its listener', async () => {
  const clock = new FakeClock();
  const seen = { depth: [] as number[], adds: 0, retries: 0, latency: [] as number[], work: [] as number[] };
  const q = new WorkQueue({
    clock,
    listener: {
      depth: (d) => seen.depth.push(d),
      add: () => seen.adds++,
      retry: () => seen.retries++,
      queueLatency: (ms) => seen.latency.push(ms),
      workDuration: (ms) => seen.work.push(ms),
    },
  });
  q.add('ns/a');
  q.add('ns/a');
  await clock.advance(7);
  await q.get();
  await clock.advance(3);
  q.done('ns/a');
  q.addRateLimited('ns/a');
  assert.equal(seen.depth, [1, 0]);
  assert.is(seen.adds, 2);
  assert.is(seen.retries, 1);
  assert.equal(seen.latency, [7]);
  assert.equal(seen.work, [3]);
});

test.run();
