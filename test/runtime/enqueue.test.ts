import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { enqueueMapped, enqueueObject } from '../../src/runtime/enqueue.ts';
import { WorkQueue } from '../../src/runtime/workqueue.ts';

async function drain(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const key = await queue.get();
    if (key !== undefined) keys.push(key);
  }
  return keys;
}

test('enqueueObject queues the namespace/name of each changed object', async () => {
  const queue = new WorkQueue();
  const handlers = enqueueObject(queue);
  handlers.add?.({ metadata: { namespace: 'ns', name: 'a' } });
  handlers.update?.({ metadata: { namespace: 'ns', name: 'a' } }, { metadata: { namespace: 'ns', name: 'a' } });
  handlers.delete?.({ metadata: { name: 'cluster-wide' } });
  assert.equal(await drain(queue), ['ns/a', 'cluster-wide']);
});

test('enqueueMapped queues the owner of both the old and the new object on update', async () => {
  const queue = new WorkQueue();
  const ownerOf = (o: { owner: string }): string[] => [`ns/${o.owner}`];
  enqueueMapped(queue, ownerOf).update?.({ owner: 'old' }, { owner: 'new' });
  assert.equal(await drain(queue), ['ns/old', 'ns/new']);
});

test.run();
