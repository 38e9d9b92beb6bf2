import type { ManagedKind } from './desired.ts';
import type { ObjectWriter } from './object-writer.ts';
import type { Plan } from './plan.ts';

/** Writes a sync keeps in flight at once, unless told otherwise. */
export const DEFAULT_WRITE_CONCURRENCY = 16;

/** What applying one plan did. */
export interface ApplyCounts {
  created: number;
  updated: number;
  removed: number;
  failed: number;
}

/** Options of {@link applyPlan}. */
export interface ApplyOptions {
  namespace: string;
  kind: ManagedKind;
  writer: ObjectWriter;
  /** How removals are carried out: Forbid marks, Delete deletes. */
  removal: 'Forbid' | 'Delete' | 'Keep';
  /** Writes in flight at once. */
  concurrency: number;
  /** The removed-from-source annotation's value. */
  now: string;
  /** Told after each write with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Told of each write that failed for good; the others go on. */
  onFailure?: (name: string, error: unknown) => void;
  signal?: AbortSignal;
}

/**
 * Carries out a plan with a bounded number of writes in flight. A write that
 * fails is counted and does not stop the others. The plan's lists are taken
 * (left empty): each object is let go once written, so a sync of 100,000
 * creates does not hold every member's record until its last write.
 */
export async function applyPlan(plan: Pick<Plan, 'create' | 'update' | 'remove'>, options: ApplyOptions): Promise<ApplyCounts> {
  const { namespace, kind, writer } = options;
  const counts: ApplyCounts = { created: 0, updated: 0, removed: 0, failed: 0 };
  const jobs: Array<Job | undefined> = [
    ...plan.create.splice(0).map((o): Job => ({ name: o.name, run: () => writer.create(namespace, o), count: 'created' })),
    ...plan.update.splice(0).map((o): Job => ({ name: o.name, run: () => writer.update(namespace, o), count: 'updated' })),
    ...plan.remove.splice(0).map((s): Job => ({
      name: s.metadata.name,
      run: () =>
        options.removal === 'Delete'
          ? writer.delete(namespace, kind, s.metadata.name)
          : writer.forbid(namespace, kind, s.metadata.name, options.now),
      count: 'removed',
    })),
  ];
  const total = jobs.length;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < total && !options.signal?.aborted) {
      const job = jobs[next]!;
      jobs[next++] = undefined;
      try {
        await job.run();
        counts[job.count]++;
      } catch (error) {
        counts.failed++;
        options.onFailure?.(job.name, error);
      }
      // Counted apart from the call: `?.` would skip evaluating `++done` when no one listens.
      done++;
      options.onProgress?.(done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, total) }, worker));
  // Jobs never started because of an abort count as failed: the sync did not finish them.
  counts.failed += total - done;
  return counts;
}

/** One write of a plan. */
interface Job {
  name: string;
  run: () => Promise<void>;
  count: keyof ApplyCounts;
}
