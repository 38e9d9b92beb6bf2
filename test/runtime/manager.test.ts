import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { InformerStatus } from '../../src/runtime/informer.ts';
import { type CacheSource, Manager, type Runnable } from '../../src/runtime/manager.ts';
import { flush } from './fake-clock.ts';
import { captureLogger } from './log-sink.ts';

/** An informer stand-in whose sync the test triggers; it records what happened to it in `log`. */
function fakeInformer(name: string, log: string[]): CacheSource & { sync(): void } {
  let synced = false;
  let resolveSynced = (): void => {};
  let rejectSynced = (_err: Error): void => {};
  const promise = new Promise<void>((resolve, reject) => {
    resolveSynced = resolve;
    rejectSynced = reject;
  });
  promise.catch(() => {});
  return {
    name,
    synced: promise,
    start: () => void log.push(`start ${name}`),
    stop: () => {
      log.push(`stop ${name}`);
      rejectSynced(new Error('stopped'));
    },
    hasSynced: () => synced,
    status: (): InformerStatus => ({ name, state: synced ? 'watching' : 'listing', synced, failures: 0 }),
    sync() {
      synced = true;
      resolveSynced();
    },
  };
}

function fakeController(name: string, log: string[]): Runnable {
  return {
    name,
    start: () => void log.push(`start ${name}`),
    stop: async (graceMs?: number) => void log.push(`stop ${name} grace=${graceMs}`),
  };
}

test('starts informers, waits for their caches and the election, then starts controllers', async () => {
  const log: string[] = [];
  const a = fakeInformer('a', log);
  const b = fakeInformer('b', log);
  let elect = (): void => {};
  const elected = new Promise<void>((resolve) => (elect = resolve));
  const manager = new Manager({
    logger: captureLogger().logger,
    informers: [a, b],
    controllers: [fakeController('c', log)],
    elected,
    stopGraceMs: 5000,
  });
  const started = manager.start();
  await flush();
  assert.equal(log, ['start a', 'start b']);
  assert.is(manager.ready(), false);
  a.sync();
  await flush();
  assert.is(manager.ready(), false);
  b.sync();
  await flush();
  assert.is(manager.ready(), true, 'ready before elected: a follower is ready too');
  assert.is(manager.phase, 'waiting_for_election');
  assert.equal(log, ['start a', 'start b']);
  elect();
  await started;
  assert.is(manager.phase, 'running');
  assert.equal(log, ['start a', 'start b', 'start c']);
  assert.equal(
    manager.informerStatuses().map((s) => s.state),
    ['watching', 'watching'],
  );

  await Promise.all([manager.stop(), manager.stop()]);
  assert.equal(log.slice(3), ['stop c grace=5000', 'stop a', 'stop b'], 'controllers stop before informers, once');
  assert.is(manager.phase, 'stopped');
});

test('stop before the caches sync ends start without starting controllers', async () => {
  const log: string[] = [];
  const manager = new Manager({
    logger: captureLogger().logger,
    informers: [fakeInformer('a', log)],
    controllers: [fakeController('c', log)],
  });
  const started = manager.start();
  await flush();
  await manager.stop();
  await started;
  assert.not.ok(log.includes('start c'));
  assert.ok(log.includes('stop a'));
});

test('a rejected election makes start reject', async () => {
  const log: string[] = [];
  const informer = fakeInformer('a', log);
  const manager = new Manager({
    logger: captureLogger().logger,
    informers: [informer],
    controllers: [fakeController('c', log)],
    elected: Promise.reject(new Error('lease API forbidden')),
  });
  informer.sync();
  const err = await manager.start().then(() => undefined, (e: unknown) => e);
  assert.instance(err, Error);
  assert.not.ok(log.includes('start c'));
  await manager.stop();
});

test.run();
