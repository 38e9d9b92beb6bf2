import { type Named, objectKey } from './key.ts';
import type { EventHandlers } from './informer.ts';
import type { WorkQueue } from './workqueue.ts';

/** Informer handlers that queue the key of every object added, updated or deleted. */
export function enqueueObject<T extends Named>(queue: WorkQueue): EventHandlers<T> {
  return enqueueMapped(queue, (obj: T) => {
    const key = objectKey(obj);
    return key === undefined ? [] : [key];
  });
}

/**
 * Informer handlers that queue the keys `toKeys` maps each changed object to, e.g. an owned object to its
 * owner's key. On update both the old and the new object are mapped, so a change of owner reaches both.
 */
export function enqueueMapped<T>(queue: WorkQueue, toKeys: (obj: T) => readonly string[]): EventHandlers<T> {
  const enqueue = (obj: T): void => {
    for (const key of toKeys(obj)) queue.add(key);
  };
  return {
    add: enqueue,
    update: (oldObj, newObj) => {
      enqueue(oldObj);
      enqueue(newObj);
    },
    delete: enqueue,
  };
}
