import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leaseNamespace } from '../../src/runtime/kube-lease.ts';
import { LeaderElector, type LeaderElectorOptions, LeaseConflictError, type LeaseRecord, type LeaseStore, type StoredLease } from '../../src/runtime/leader-election.ts';
import { FakeClock, flush } from './fake-clock.ts';
import { captureLogger } from './log-sink.ts';

/** An in-memory Lease with the API server's optimistic concurrency, and hooks to make it fail or hang. */
class FakeLeaseStore implements LeaseStore {
  lease: StoredLease | undefined;
  #version = 0;
  /** When set, every call rejects with it. */
  failWith: Error | undefined;
  /** When true, every call hangs (an API server that accepts the connection and never answers). */
  hang = false;
  /** Runs after a read and before the write that follows it: a rival's chance to write first. */
  beforeWrite: (() => void) | undefined;
  writes: LeaseRecord[] = [];

  async read(): Promise<StoredLease | undefined> {
    await this.#gate();
    return this.lease && structuredClone(this.lease);
  }

  async create(record: LeaseRecord): Promise<StoredLease> {
    await this.#gate();
    this.#rival();
    if (this.lease) throw new LeaseConflictError('leases "x" already exists');
    return this.#write(record);
  }

  async replace(record: LeaseRecord, resourceVersion: string): Promise<StoredLease> {
    await this.#gate();
    this.#rival();
    if (!this.lease) throw new Error('not found');
    if (this.lease.resourceVersion !== resourceVersion) throw new LeaseConflictError('the object has been modified');
    return this.#write(record);
  }

  /** Writes as another candidate would, bypassing the hooks. */
  put(record: LeaseRecord): void {
    this.#write(record);
  }

  get holder(): string | undefined {
    return this.lease?.record.holderIdentity;
  }

  #write(record: LeaseRecord): StoredLease {
    this.writes.push(record);
    this.lease = { record: structuredClone(record), resourceVersion: String(++this.#version) };
    return structuredClone(this.lease);
  }

  #rival(): void {
    const hook = this.beforeWrite;
    this.beforeWrite = undefined;
    hook?.();
  }

  async #gate(): Promise<void> {
    if (this.hang) await new Promise<never>(() => {});
    if (this.failWith) throw this.failWith;
  }
}

interface Candidate {
  elector: LeaderElector;
  lost: string[];
  elected: () => boolean;
}

function candidate(store: LeaseStore, clock: FakeClock, identity: string, options: Partial<LeaderElectorOptions> = {}): Candidate {
  const lost: string[] = [];
  let elected = false;
  const elector = new LeaderElector({
    leases: store,
    identity,
    logger: captureLogger().logger,
    onLost: (reason) => void lost.push(reason),
    clock,
    wallClock: () => new Date(Date.UTC(2026, 0, 1) + clock.now()),
    random: () => 0,
    ...options,
  });
  void elector.elected.then(() => (elected = true));
  return { elector, lost, elected: () => elected };
}

/** A fresh store and clock, and candidate `a` elected on them. */
async function soleLeader(): Promise<{ clock: FakeClock; store: FakeLeaseStore; a: Candidate }> {
  const clock = new FakeClock();
  const store = new FakeLeaseStore();
  const a = candidate(store, clock, 'a');
  a.elector.start();
  await flush();
  return { clock, store, a };
}

test('acquires at once when there is no lease, and starts counting transitions at 0', async () => {
  const { store, a } = await soleLeader();
  assert.ok(a.elected());
  assert.ok(a.elector.isLeader());
  assert.is(store.holder, 'a');
  assert.is(store.lease?.record.leaseDurationSeconds, 15);
  assert.is(store.lease?.record.leaseTransitions, 0);
});

test('waits while another candidate renews its lease, and never writes it', async () => {
  const clock = new FakeClock();
  const store = new FakeLeaseStore();
  store.put({ holderIdentity: 'other', leaseDurationSeconds: 15, leaseTransitions: 3 });
  const b = candidate(store, clock, 'b');
  b.elector.start();
  for (let i = 0; i < 10; i++) {
    await clock.advance(5_000);
    store.put({ holderIdentity: 'other', leaseDurationSeconds: 15, leaseTransitions: 3 });
  }
  assert.not.ok(b.elected());
  assert.not.ok(b.elector.isLeader());
  assert.is(store.holder, 'other');
  assert.ok(store.writes.every((record) => record.holderIdentity === 'other'));
});

test('takes over a lease not renewed for its duration, counted from when it was first seen', async () => {
  const clock = new FakeClock();
  const store = new FakeLeaseStore();
  // A renewTime far in the past proves nothing: the other node's clock may be wrong; only our own clock counts.
  store.put({ holderIdentity: 'gone', leaseDurationSeconds: 15, renewTime: new Date(0), leaseTransitions: 3 });
  const b = candidate(store, clock, 'b');
  b.elector.start();
  await clock.advance(14_000);
  assert.not.ok(b.elected());
  await clock.advance(2_000);
  assert.ok(b.elected());
  assert.is(store.holder, 'b');
  assert.is(store.lease?.record.leaseTransitions, 4);
  assert.equal(store.lease?.record.acquireTime, new Date(Date.UTC(2026, 0, 1) + 16_000));
});

test('takes over a released lease at its next attempt', async () => {
  const clock = new FakeClock();
  const store = new FakeLeaseStore();
  const a = candidate(store, clock, 'a');
  const b = candidate(store, clock, 'b');
  a.elector.start();
  await flush();
  b.elector.start();
  await clock.advance(10_000);
  assert.not.ok(b.elected());

  await a.elector.release();
  assert.not.ok(a.elector.isLeader());
  assert.is(store.holder, undefined);
  assert.is(store.lease?.record.leaseDurationSeconds, 1);
  await clock.advance(2_000);
  assert.ok(b.elected());
  assert.is(store.holder, 'b');
  assert.is(store.lease?.record.leaseTransitions, 0, 'a released lease has no holder, so taking it is no transition');
  assert.equal(a.lost, []);
});

test('renews every retry period, keeping the acquire time and the lease', async () => {
  const { clock, store, a } = await soleLeader();
  const acquired = store.lease?.record.acquireTime;
  await clock.advance(60_000);
  assert.is(store.writes.length, 31, 'one create and a renewal every 2 s');
  assert.is(store.holder, 'a');
  assert.equal(store.lease?.record.acquireTime, acquired);
  assert.equal(store.lease?.record.renewTime, new Date(Date.UTC(2026, 0, 1) + 60_000));
  assert.ok(a.elector.isLeader());
  assert.equal(a.lost, []);
});

test('rides out renewal failures shorter than the renew deadline', async () => {
  const { clock, store, a } = await soleLeader();
  store.failWith = new Error('connection refused');
  await clock.advance(8_000);
  store.failWith = undefined;
  await clock.advance(20_000);
  assert.ok(a.elector.isLeader());
  assert.equal(a.lost, []);
});

test('loses leadership when renewals fail for the renew deadline', async () => {
  const { clock, store, a } = await soleLeader();
  store.failWith = new Error('connection refused');
  await clock.advance(9_999);
  assert.equal(a.lost, []);
  await clock.advance(1);
  assert.is(a.lost.length, 1);
  assert.match(a.lost[0]!, /could not renew the lease for 10 s/);
  assert.not.ok(a.elector.isLeader());
  await clock.advance(60_000);
  assert.is(a.lost.length, 1, 'onLost is called once');
});

test('loses leadership at the renew deadline when the API server hangs', async () => {
  const { clock, store, a } = await soleLeader();
  store.hang = true;
  await clock.advance(9_999);
  assert.equal(a.lost, []);
  await clock.advance(1);
  assert.is(a.lost.length, 1);
  // A hung release must not hold up shutdown beyond the renew deadline either.
  const released = a.elector.release();
  await clock.advance(10_000);
  await released;
});

test('loses leadership at once when another candidate holds the lease', async () => {
  const { clock, store, a } = await soleLeader();
  store.put({ holderIdentity: 'usurper', leaseDurationSeconds: 15 });
  await clock.advance(2_000);
  assert.equal(a.lost, ['the lease is held by usurper']);
  assert.not.ok(a.elector.isLeader());
});

test('of two candidates racing for an expired lease, the one whose write comes second stays a follower (409)', async () => {
  const clock = new FakeClock();
  const store = new FakeLeaseStore();
  store.put({ holderIdentity: 'gone', leaseDurationSeconds: 15 });
  const b = candidate(store, clock, 'b');
  b.elector.start();
  await clock.advance(14_000);
  // Just after b reads the expired lease, c takes it.
  store.beforeWrite = () => store.put({ holderIdentity: 'c', leaseDurationSeconds: 15, leaseTransitions: 1 });
  await clock.advance(2_000);
  assert.is(store.holder, 'c');
  assert.not.ok(b.elected());
  // c's write is fresh, so b waits a whole lease duration again.
  await clock.advance(10_000);
  assert.not.ok(b.elected());
  assert.is(store.holder, 'c');
});

test('of two candidates creating the lease at once, one wins and the other follows', async () => {
  const clock = new FakeClock();
  const store = new FakeLeaseStore();
  const a = candidate(store, clock, 'a');
  const b = candidate(store, clock, 'b');
  a.elector.start();
  b.elector.start();
  await clock.advance(30_000);
  assert.is([a, b].filter((c) => c.elector.isLeader()).length, 1);
  assert.is(store.holder, a.elector.isLeader() ? 'a' : 'b');
});

test('release by a follower writes nothing', async () => {
  const clock = new FakeClock();
  const store = new FakeLeaseStore();
  store.put({ holderIdentity: 'other', leaseDurationSeconds: 15 });
  const b = candidate(store, clock, 'b');
  b.elector.start();
  await clock.advance(4_000);
  await b.elector.release();
  assert.is(store.writes.length, 1);
  assert.is(store.holder, 'other');
  await clock.advance(60_000);
  assert.not.ok(b.elected(), 'a released candidate stops campaigning');
});

test('release does not free a lease that someone else wrote since', async () => {
  const { store, a } = await soleLeader();
  store.put({ holderIdentity: 'usurper', leaseDurationSeconds: 15 });
  await a.elector.release();
  assert.is(store.holder, 'usurper');
});

test('rejects timings where the leader could still act after a follower took over', () => {
  const clock = new FakeClock();
  const store = new FakeLeaseStore();
  assert.throws(() => candidate(store, clock, 'a', { leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }), /longer than the renew deadline/);
  assert.throws(() => candidate(store, clock, 'a', { renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }), /1.2 times the retry period/);
});

test('takes the lease namespace from the flag, else POD_NAMESPACE, else the service account', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lease-ns-'));
  const file = join(dir, 'namespace');
  writeFileSync(file, 'from-pod\n');
  const missing = join(dir, 'missing');
  assert.is(leaseNamespace('from-flag', { POD_NAMESPACE: 'from-env' }, file), 'from-flag');
  assert.is(leaseNamespace(undefined, { POD_NAMESPACE: 'from-env' }, file), 'from-env');
  assert.is(leaseNamespace(undefined, {}, file), 'from-pod');
  assert.is(leaseNamespace(undefined, {}, missing), undefined);
});

test.run();
