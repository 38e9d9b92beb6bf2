import type { KubernetesObject } from '@kubernetes/client-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type EventHandlers, Informer } from '../../src/runtime/informer.ts';
import { ResourceExpiredError } from '../../src/runtime/listwatch.ts';
import { FakeClock, flush } from './fake-clock.ts';
import { FakeListWatch, obj } from './fake-listwatch.ts';
import { captureLogger } from './log-sink.ts';

type Seen = string[];

/** Handlers that record `add ns/name@rv`, `update ns/name@rv->rv`, `delete ns/name`. */
function recorder(seen: Seen): EventHandlers<KubernetesObject> {
  const id = (o: KubernetesObject): string => `${o.metadata?.namespace}/${o.metadata?.name}`;
  return {
    add: (o) => seen.push(`add ${id(o)}@${o.metadata?.resourceVersion}`),
    update: (a, b) => seen.push(`update ${id(b)}@${a.metadata?.resourceVersion}->${b.metadata?.resourceVersion}`),
    delete: (o) => seen.push(`delete ${id(o)}`),
  };
}

function setup(pageSize = 500) {
  const clock = new FakeClock();
  const lw = new FakeListWatch();
  const { logger, lines } = captureLogger();
  const informer = new Informer({ name: 'things', listWatch: lw, transform: (o) => o, logger, clock, pageSize });
  const seen: Seen = [];
  informer.addHandlers(recorder(seen));
  return { clock, lw, informer, seen, lines };
}

test('the initial list delivers adds and marks the cache synced', async () => {
  const { lw, informer, seen } = setup();
  lw.put(obj('ns', 'a', '1'), obj('ns', 'b', '2'));
  assert.is(informer.hasSynced(), false);
  informer.start();
  await informer.synced;
  assert.is(informer.hasSynced(), true);
  assert.equal(seen, ['add ns/a@1', 'add ns/b@2']);
  assert.is(informer.size, 2);
  assert.is(informer.get('ns/a')?.metadata?.resourceVersion, '1');
  await flush();
  assert.is(informer.status().state, 'watching');
  assert.is(lw.current.resourceVersion, '100', 'the watch starts at the list resourceVersion');
  informer.stop();
});

test('watch events update the cache and bookmarks move the resourceVersion', async () => {
  const { lw, informer, seen } = setup();
  lw.put(obj('ns', 'a', '1'));
  informer.start();
  await flush();
  lw.current.emit({ type: 'ADDED', object: obj('ns', 'b', '101') });
  lw.current.emit({ type: 'MODIFIED', object: obj('ns', 'a', '102') });
  lw.current.emit({ type: 'DELETED', object: obj('ns', 'b', '103') });
  lw.current.emit({ type: 'BOOKMARK', resourceVersion: '150' });
  assert.equal(seen, ['add ns/a@1', 'add ns/b@101', 'update ns/a@1->102', 'delete ns/b']);
  assert.is(informer.get('ns/a')?.metadata?.resourceVersion, '102');
  assert.is(informer.get('ns/b'), undefined);
  assert.is(informer.resourceVersion, '150');
  informer.stop();
});

test('a failed watch backs off, relists, and delivers what changed while disconnected', async () => {
  const { clock, lw, informer, seen, lines } = setup();
  lw.put(obj('ns', 'a', '1'), obj('ns', 'b', '2'), obj('ns', 'c', '3'));
  informer.start();
  await flush();
  seen.length = 0;

  lw.current.end(new Error('connection reset'));
  await flush();
  assert.is(informer.status().state, 'backing_off');
  assert.equal(clock.pending(), [1000]);
  assert.ok(lines.some((l) => l.msg === 'watch failed; relisting in 1000 ms' && l.informer === 'things'));

  lw.objects.delete('ns/b');
  lw.put(obj('ns', 'c', '201'), obj('ns', 'd', '202'));
  lw.resourceVersion = '202';
  await clock.advance(1000);
  assert.equal(seen.sort(), ['add ns/d@202', 'delete ns/b', 'update ns/c@3->201']);
  assert.is(lw.listCalls.length, 2);
  assert.is(lw.current.resourceVersion, '202');
  assert.is(informer.status().state, 'watching');
  assert.is(informer.status().lastError, 'connection reset');
  informer.stop();
});

test('backoff grows while failures repeat and resets after a healthy watch', async () => {
  const { clock, lw, informer } = setup();
  lw.listErrors.push(new Error('down'), new Error('down'), new Error('down'));
  informer.start();
  await flush();
  assert.equal(clock.pending(), [1000]);
  await clock.advance(1000);
  assert.equal(clock.pending(), [2000]);
  await clock.advance(2000);
  assert.equal(clock.pending(), [4000]);
  await clock.advance(4000);
  assert.is(informer.hasSynced(), true);
  assert.is(informer.status().failures, 3);
  await clock.advance(10_000);
  lw.current.end(new Error('reset'));
  await flush();
  assert.equal(clock.pending(), [1000], 'a watch that stayed up resets the backoff');
  informer.stop();
});

test('a long outage never spaces attempts more than 30 s apart', async () => {
  const { clock, lw, informer } = setup();
  lw.listErrors.push(...Array.from({ length: 8 }, () => new Error('down')));
  informer.start();
  await flush();
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    const [delay] = clock.pending();
    delays.push(delay!);
    await clock.advance(delay!);
  }
  assert.equal(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  assert.is(informer.hasSynced(), true);
  informer.stop();
});

test('410 Gone relists at once, without backoff', async () => {
  const { clock, lw, informer, lines } = setup();
  lw.put(obj('ns', 'a', '1'));
  informer.start();
  await flush();
  lw.current.end(new ResourceExpiredError('too old resource version'));
  await flush();
  assert.equal(clock.pending(), []);
  assert.is(lw.listCalls.length, 2);
  assert.is(lw.watches.length, 2);
  assert.ok(lines.some((l) => typeof l.msg === 'string' && l.msg.includes('410 Gone')));
  informer.stop();
});

test('a watch that closes normally resumes from the last resourceVersion without relisting', async () => {
  const { clock, lw, informer } = setup();
  informer.start();
  await flush();
  lw.current.emit({ type: 'ADDED', object: obj('ns', 'a', '120') });
  await clock.advance(60_000);
  lw.current.end();
  await flush();
  assert.is(lw.listCalls.length, 1);
  assert.is(lw.watches.length, 2);
  assert.is(lw.current.resourceVersion, '120');
  informer.stop();
});

test('a watch that closes at once is resumed only after a backoff', async () => {
  const { clock, lw, informer } = setup();
  informer.start();
  await flush();
  lw.current.end();
  await flush();
  assert.is(lw.watches.length, 1);
  assert.equal(clock.pending(), [1000]);
  await clock.advance(1000);
  assert.is(lw.watches.length, 2);
  assert.is(lw.listCalls.length, 1);
  informer.stop();
});

test('the transform is applied before caching and before handlers', async () => {
  const clock = new FakeClock();
  const lw = new FakeListWatch();
  const { logger } = captureLogger();
  const slim = (o: KubernetesObject): KubernetesObject => ({ metadata: { ...o.metadata, managedFields: [] } });
  const informer = new Informer({ name: 'things', listWatch: lw, transform: (o) => slim(o), logger, clock });
  const added: KubernetesObject[] = [];
  informer.addHandlers({ add: (o) => added.push(o) });
  lw.put(obj('ns', 'a', '1', { big: 'x'.repeat(100) }));
  informer.start();
  await flush();
  lw.current.emit({ type: 'ADDED', object: obj('ns', 'b', '101', { big: 'y' }) });
  for (const o of [informer.get('ns/a'), informer.get('ns/b'), ...added]) {
    assert.ok(o);
    assert.not.ok('data' in o, 'the transform dropped data');
    assert.equal(o.metadata?.managedFields, []);
  }
  informer.stop();
});

test('a paged list follows continue until the last page', async () => {
  const { lw, informer, seen } = setup(2);
  for (const name of ['a', 'b', 'c', 'd', 'e']) lw.put(obj('ns', name, '1'));
  informer.start();
  await informer.synced;
  assert.equal(lw.listCalls, [{ limit: 2 }, { limit: 2, continue: '2' }, { limit: 2, continue: '4' }]);
  assert.is(seen.length, 5);
  informer.stop();
});

test('an expired continue token restarts the list from the first page', async () => {
  const { lw, informer, clock } = setup(2);
  for (const name of ['a', 'b', 'c']) lw.put(obj('ns', name, '1'));
  lw.listErrors.push(undefined, new ResourceExpiredError('continue token expired'));
  informer.start();
  await informer.synced;
  assert.equal(lw.listCalls, [{ limit: 2 }, { limit: 2, continue: '2' }, { limit: 2 }, { limit: 2, continue: '2' }]);
  assert.equal(clock.pending(), []);
  informer.stop();
});

test('a handler that throws neither stops the informer nor other handlers', async () => {
  const { lw, informer, seen } = setup();
  informer.addHandlers({
    add: () => {
      throw new Error('handler bug');
    },
  });
  lw.put(obj('ns', 'a', '1'));
  informer.start();
  await flush();
  lw.current.emit({ type: 'ADDED', object: obj('ns', 'b', '101') });
  assert.equal(seen, ['add ns/a@1', 'add ns/b@101']);
  assert.is(informer.status().state, 'watching');
  informer.stop();
});

test('stop aborts the watch, and rejects synced when the cache never synced', async () => {
  const { lw, informer } = setup();
  lw.listErrors.push(new Error('down'));
  informer.start();
  await flush();
  informer.stop();
  const outcome = await informer.synced.then(() => 'resolved', (err: unknown) => String(err));
  assert.match(outcome, 'stopped before its cache synced');
  assert.is(informer.status().state, 'stopped');

  const second = setup();
  second.informer.start();
  await flush();
  second.informer.stop();
  assert.is(second.lw.current.aborted, true);
  await flush();
  assert.is(second.lw.watches.length, 1, 'no new watch after stop');
});

test('an object the transform rejects is skipped and logged, and the rest still arrive', async () => {
  const clock = new FakeClock();
  const lw = new FakeListWatch();
  const { logger, lines } = captureLogger();
  const transform = (o: KubernetesObject): KubernetesObject => {
    if (o.metadata?.name === 'bad') throw new Error('not a valid object');
    return o;
  };
  const informer = new Informer({ name: 'things', listWatch: lw, transform, logger, clock });
  lw.put(obj('ns', 'bad', '1'), obj('ns', 'good', '2'));
  informer.start();
  await informer.synced;
  assert.is(informer.size, 1);
  assert.ok(informer.get('ns/good'));
  assert.ok(lines.some((l) => l.key === 'ns/bad' && l.level === 50));
  await flush();
  lw.current.emit({ type: 'MODIFIED', object: obj('ns', 'bad', '120') });
  assert.is(informer.resourceVersion, '120', 'the resourceVersion still moves on');
  informer.stop();
});

test('a watch function that throws counts as a failed watch', async () => {
  const { clock, lw, informer } = setup();
  let calls = 0;
  const realWatch = lw.watch.bind(lw);
  lw.watch = (rv, onEvent, onDone) => {
    calls++;
    if (calls === 1) throw new Error('no current cluster');
    return realWatch(rv, onEvent, onDone);
  };
  informer.start();
  await flush();
  assert.equal(clock.pending(), [1000]);
  await clock.advance(1000);
  assert.is(informer.status().state, 'watching');
  assert.is(lw.listCalls.length, 2);
  informer.stop();
});

test.run();
