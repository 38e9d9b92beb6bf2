import { setImmediate as tick } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyPlan, type ApplyOptions } from '../../src/syncer/apply.ts';
import type { DesiredObject, ManagedKind } from '../../src/syncer/desired.ts';
import type { ObjectWriter } from '../../src/syncer/object-writer.ts';
import type { Plan } from '../../src/syncer/plan.ts';
import { desiredUser, storedUser } from '../support/syncer-fixtures.ts';

const test = suite('apply');

/** An ObjectWriter that records its calls, takes a tick per write, and fails the names it is told to. */
class FakeWriter implements ObjectWriter {
  readonly calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly failing: Set<string>;

  constructor(failing: Iterable<string> = []) {
    this.failing = new Set(failing);
  }

  create(namespace: string, object: DesiredObject): Promise<void> {
    return this.#write(`create ${namespace}/${object.name}`, object.name);
  }
  async createNew(namespace: string, object: DesiredObject): Promise<boolean> {
    await this.create(namespace, object);
    return true;
  }
  update(namespace: string, object: DesiredObject): Promise<void> {
    return this.#write(`update ${namespace}/${object.name}`, object.name);
  }
  forbid(namespace: string, kind: ManagedKind, name: string, at: string): Promise<void> {
    return this.#write(`forbid ${kind} ${namespace}/${name} ${at}`, name);
  }
  delete(namespace: string, kind: ManagedKind, name: string): Promise<void> {
    return this.#write(`delete ${kind} ${namespace}/${name}`, name);
  }

  async #write(call: string, name: string): Promise<void> {
    this.calls.push(call);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      await tick();
      if (this.failing.has(name)) throw new Error(`${name} refused`);
    } finally {
      this.inFlight--;
    }
  }
}

function makePlan(counts: { create?: number; update?: number; remove?: number }): Pick<Plan, 'create' | 'update' | 'remove'> {
  const users = (prefix: string, n = 0) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  return {
    create: users('new', counts.create).map((name) => desiredUser(name)),
    update: users('changed', counts.update).map((name) => desiredUser(name)),
    remove: users('gone', counts.remove).map((name) => storedUser(name)),
  };
}
function apply(plan: Pick<Plan, 'create' | 'update' | 'remove'>, writer: ObjectWriter, options: Partial<ApplyOptions> = {}) {
  return applyPlan(plan, { namespace: 'casdoor', kind: 'CasdoorUser', writer, removal: 'Forbid', concurrency: 4, now: '2026-11-26T10:00:00Z', ...options });
}

test('never has more than `concurrency` writes in flight, and uses them all', async () => {
  const writer = new FakeWriter();
  const counts = await apply(makePlan({ create: 20, update: 10, remove: 3 }), writer, { concurrency: 3, removal: 'Delete' });
  assert.equal(counts, { created: 20, updated: 10, removed: 3, failed: 0 });
  assert.is(writer.maxInFlight, 3);
});

test('without a progress callback, finished writes are not counted as failed', async () => {
  const counts = await apply(makePlan({ create: 2, remove: 1 }), new FakeWriter(), { concurrency: 1 });
  assert.equal(counts, { created: 2, updated: 0, removed: 1, failed: 0 });
});

test('a concurrency above the number of writes starts each write once', async () => {
  const writer = new FakeWriter();
  await apply(makePlan({ create: 2 }), writer, { concurrency: 16 });
  assert.equal(writer.calls, ['create casdoor/new0', 'create casdoor/new1']);
});

test('one failing write is counted as failed and the others are still done', async () => {
  const writer = new FakeWriter(['new1']);
  const failures: string[] = [];
  const counts = await apply(makePlan({ create: 4, update: 2 }), writer, {
    concurrency: 2,
    onFailure: (name, error) => failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`),
  });
  assert.equal(counts, { created: 3, updated: 2, removed: 0, failed: 1 });
  assert.equal(failures, ['new1: new1 refused']);
  assert.is(writer.calls.length, 6);
});

test('Forbid marks removed objects with the time, through forbid()', async () => {
  const writer = new FakeWriter();
  const counts = await apply(makePlan({ remove: 2 }), writer, { removal: 'Forbid' });
  assert.equal(writer.calls, [
    'forbid CasdoorUser casdoor/gone0 2026-11-26T10:00:00Z',
    'forbid CasdoorUser casdoor/gone1 2026-11-26T10:00:00Z',
  ]);
  assert.is(counts.removed, 2);
});

test('Delete deletes removed objects of the kind it is given, through delete()', async () => {
  const writer = new FakeWriter();
  await apply(makePlan({ remove: 1 }), writer, { removal: 'Delete', kind: 'CasdoorGroup' });
  assert.equal(writer.calls, ['delete CasdoorGroup casdoor/gone0']);
});

test('creates come before updates and updates before removals', async () => {
  const writer = new FakeWriter();
  await apply(makePlan({ create: 1, update: 1, remove: 1 }), writer, { concurrency: 1 });
  assert.equal(writer.calls.map((call) => call.split(' ')[0]), ['create', 'update', 'forbid']);
});

test('an abort stops new writes and counts the unstarted ones as failed', async () => {
  const writer = new FakeWriter();
  const controller = new AbortController();
  const counts = await apply(makePlan({ create: 10 }), writer, {
    concurrency: 2,
    signal: controller.signal,
    onProgress: (done) => {
      if (done === 3) controller.abort();
    },
  });
  // Two writes were in flight at the abort: the third and fourth finish, the rest never start.
  assert.is(writer.calls.length, 4);
  assert.equal(counts, { created: 4, updated: 0, removed: 0, failed: 6 });
});

test('an abort before the start writes nothing and fails everything', async () => {
  const writer = new FakeWriter();
  const counts = await apply(makePlan({ create: 3, remove: 2 }), writer, { signal: AbortSignal.abort() });
  assert.equal(writer.calls, []);
  assert.is(counts.failed, 5);
});

test('progress is told after every write and reaches the total', async () => {
  const seen: Array<[number, number]> = [];
  await apply(makePlan({ create: 3, update: 2, remove: 1 }), new FakeWriter(['new0']), { onProgress: (done, total) => seen.push([done, total]) });
  assert.equal(seen.map(([done]) => done), [1, 2, 3, 4, 5, 6]);
  assert.ok(seen.every(([, total]) => total === 6));
});

test('an empty plan writes nothing and counts nothing', async () => {
  const writer = new FakeWriter();
  assert.equal(await apply(makePlan({}), writer), { created: 0, updated: 0, removed: 0, failed: 0 });
  assert.equal(writer.calls, []);
});

test.run();
