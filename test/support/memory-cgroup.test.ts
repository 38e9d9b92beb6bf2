// The benchmark's stand-in for a container's memory limit: a process started
// in the cgroup sees the limit as Node sees a pod's.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createMemoryCgroup, inCgroup, type MemoryCgroup, quantityBytes } from './memory-cgroup.ts';

test('quantityBytes reads Kubernetes memory quantities', () => {
  assert.is(quantityBytes('512Mi'), 512 * 2 ** 20);
  assert.is(quantityBytes('1Gi'), 2 ** 30);
  assert.is(quantityBytes('1.5Gi'), 1.5 * 2 ** 30);
  assert.is(quantityBytes('500M'), 500e6);
  assert.is(quantityBytes('268435456'), 268435456);
  assert.throws(() => quantityBytes('512MB'), /not a memory quantity/);
  assert.throws(() => quantityBytes(''), /not a memory quantity/);
});

test('a process started in the cgroup sees its limit, and Node sizes its heap from it', async () => {
  let cgroup: MemoryCgroup;
  try {
    cgroup = await createMemoryCgroup(`wecom-syncer-test-${process.pid}`, quantityBytes('512Mi'));
  } catch (error) {
    // Not root, or no memory controller: the benchmark then says so and runs the operator unconfined.
    assert.match(String(error), /cgroup|EACCES|EROFS|EPERM|ENOENT/);
    console.log(`# no memory cgroup on this machine: ${String(error)}`);
    return;
  }
  try {
    const script = 'console.log(JSON.stringify([process.constrainedMemory(), require("v8").getHeapStatistics().heap_size_limit]))';
    const [command, ...args] = inCgroup(cgroup, [process.execPath, '-e', script]);
    const { stdout } = await promisify(execFile)(command!, args);
    const [constrained, heapLimit] = JSON.parse(stdout) as [number, number];
    assert.is(constrained, 512 * 2 ** 20);
    // V8 gives the old generation a quarter to a half of the memory it is told of: far below this machine's default.
    assert.ok(heapLimit < 512 * 2 ** 20, `heap limit ${heapLimit} in a 512Mi cgroup`);
  } finally {
    await cgroup.remove();
  }
});

test.run();
