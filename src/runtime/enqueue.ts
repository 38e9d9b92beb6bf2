import type { KubernetesObject } from '@kubernetes/client-node';
import { type Named, objectKey } from './key.ts';
import type { EventHandlers } from './informer.ts';
import type { WorkQueue } from './workqueue.ts';

/**
 * Whether an update asks its object's reconciler to look again: a new generation
 * (spec), annotations (a sync request) or a deletion. Its own status writes do not.
 */
export function changedForReconcile(before: KubernetesObject, after: KubernetesObject): boolean {
  return before.metadata?.generation !== after.metadata?.generation ||
    JSON.stringify(before.metadata?.annotations ?? {}) !== JSON.stringify(after.metadata?.annotations ?? {}) ||
    before.metadata?.deletionTimestamp !== after.metadata?.deletionTimestamp;
}

/**
 * Informer handlers for a reconciled kind: queue an object's key when it is
 * added or deleted, and on an update only when {@link changedForReconcile}, so
 * the reconciler's own status writes queue nothing.
 */
export function enqueueForReconcile(queue: WorkQueue): EventHandlers<KubernetesObject> {
  const enqueue = (object: KubernetesObject): void => {
    const key = objectKey(object);
    if (key) queue.add(key);
  };
  return { add: enqueue, delete: enqueue, update: (before, after) => (changedForReconcile(before, after) ? enqueue(after) : undefined) };
}

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
