// A smoke run of the scale benchmark (bench/sync.ts) at a few hundred members:
// every step runs and its JSON holds, and the invariants that do not depend
// on the machine's speed are exact.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runSyncBenchmark, syncPhases } from '../bench/sync.ts';

const FIELDS = [
  'users', 'departments', 'floorSeconds', 'floorBeforeSeconds', 'floorAfterSeconds', 'floorUsersSeconds', 'initialSyncSeconds', 'initialVsFloor', 'initialFetchSeconds', 'initialCreatedWhileFetching', 'initialWritesVsFloor', 'resyncSeconds', 'resyncWrites',
  'oneChangeWrites', 'tokenRequests', 'wecomCalls', 'serialFetchSeconds', 'parallelFetchSeconds', 'fetchSpeedup', 'peakRssMB',
  'casdoorFloorSeconds', 'casdoorPushSeconds', 'casdoorResyncWrites', 'casdoorOneChangeWrites', 'casdoorOneChangeSeconds',
  'heapAfterGcMB', 'restartReadySeconds', 'restartWrites', 'restartPeakRssMB', 'restartHeapAfterGcMB', 'eventToUserSeconds',
];

test('bench: 300 members, no latency: every field, no write on a resync, one write for one change, one token', async () => {
  const result = await runSyncBenchmark({ users: 300, latencyMs: 0 });
  const json: Record<string, unknown> = JSON.parse(JSON.stringify(result));
  assert.equal(Object.keys(json).sort(), [...FIELDS].sort());
  assert.is(result.users, 300);
  assert.is(result.departments, 15);
  assert.is(result.resyncWrites, 0);
  assert.is(result.oneChangeWrites, 1);
  assert.is(result.restartWrites, 0, 'a restarted operator writes nothing');
  assert.ok(result.heapAfterGcMB > 0 && result.restartHeapAfterGcMB > 0 && result.restartReadySeconds > 0);
  assert.is(result.casdoorResyncWrites, 0, 'a comparison with nothing changed writes nothing to Casdoor');
  assert.is(result.casdoorOneChangeWrites, 1, 'one change, one write to Casdoor');
  assert.is(result.tokenRequests, 1);
  assert.is(result.wecomCalls.gettoken, 1);
  // Three syncs, each listing every department's members once.
  assert.is(result.wecomCalls['user/list'], 3 * 15);
  for (const field of FIELDS.filter((f) => f !== 'wecomCalls')) {
    const value = json[field];
    assert.ok(typeof value === 'number' && Number.isFinite(value) && value >= 0, `${field} is ${String(value)}`);
  }
  assert.ok(result.floorSeconds > 0 && result.initialSyncSeconds > 0 && result.peakRssMB > 0);
  // The floor writes a group per department before the users (it checks that itself); both times are rounded.
  assert.ok(result.floorUsersSeconds > 0 && result.floorUsersSeconds <= result.floorSeconds, 'the users are a part of the floor');
  // Two floors, one on each side of the initial sync; the ratio is taken against their mean (each is rounded).
  assert.ok(result.floorBeforeSeconds > 0 && result.floorAfterSeconds > 0);
  assert.ok(Math.abs(result.floorSeconds - (result.floorBeforeSeconds + result.floorAfterSeconds) / 2) <= 0.01, 'the floor is the mean of the two');
  assert.ok(Math.abs(result.initialVsFloor - result.initialSyncSeconds / result.floorSeconds) <= 0.01, 'the ratio is against that mean');
  assert.ok(result.initialFetchSeconds < result.initialSyncSeconds, 'the fetch is a part of the initial sync');
});

test('bench: the initial sync\'s phases come from the first sync\'s start, plan and end in the log', () => {
  const line = (msg: string, time: number) => JSON.stringify({ level: 30, time, msg });
  const planned = (time: number, created: number) => JSON.stringify({ level: 30, time, msg: 'planned', createdWhileFetching: created });
  const log = [line('sync starting', 1000), 'not JSON', planned(2500, 40), line('sync finished', 9000), line('sync starting', 20_000), planned(20_100, 7)].join('\n');
  assert.equal(syncPhases(log), { fetchSeconds: 1.5, writeSeconds: 6.5, createdWhileFetching: 40 });
  assert.throws(() => syncPhases(line('sync starting', 1000)), /lacks the first sync/);
});

test.run();
