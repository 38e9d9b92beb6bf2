// A memory cgroup to run a process in, the way a container's memory limit
// confines it. Node reads the limit at start (process.constrainedMemory()) and
// sizes V8's heap from it, so a process inside one behaves as it would in a
// pod with that limit: same heap limit, same young generation, same OOM kill.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A created cgroup; processes join it by writing their pid to `procsFile`. */
export interface MemoryCgroup {
  readonly procsFile: string;
  /** Removes the cgroup; its processes must have exited. */
  remove(): Promise<void>;
}

const V1_MEMORY = '/sys/fs/cgroup/memory';
const V2_ROOT = '/sys/fs/cgroup';

/**
 * Creates a cgroup named `name`, limited to `limitBytes`, inside this
 * process's own memory cgroup (so whatever limits this process also limits
 * it): on cgroup v2 when the memory controller is enabled for children there,
 * else on v1. Throws with the reason when this machine does not let us (not
 * Linux, not root, no memory controller), leaving nothing behind.
 */
export async function createMemoryCgroup(name: string, limitBytes: number): Promise<MemoryCgroup> {
  const { parent, limitFile } = memoryHierarchy();
  const dir = join(parent, name);
  await mkdir(dir);
  try {
    await writeFile(join(dir, limitFile), String(limitBytes));
  } catch (error) {
    await rmdir(dir).catch(() => {});
    throw error;
  }
  return { procsFile: join(dir, 'cgroup.procs'), remove: () => rmdir(dir) };
}

/** Where this process's memory cgroup is, and the name of the limit file there. */
function memoryHierarchy(): { parent: string; limitFile: string } {
  if (!existsSync('/proc/self/cgroup')) throw new Error('no cgroups on this machine');
  // Lines are `id:controllers:path`; v2's is `0::path`, v1's memory line names `memory`.
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').map((line) => line.split(':'));
  const v2Path = lines.find(([id, controllers]) => id === '0' && controllers === '')?.[2];
  if (v2Path !== undefined) {
    const parent = join(V2_ROOT, v2Path);
    const enabled = join(parent, 'cgroup.subtree_control');
    if (existsSync(enabled) && readFileSync(enabled, 'utf8').split(/\s+/).includes('memory')) return { parent, limitFile: 'memory.max' };
  }
  const v1Path = lines.find(([, controllers]) => controllers?.split(',').includes('memory'))?.[2];
  if (v1Path !== undefined && existsSync(V1_MEMORY)) return { parent: join(V1_MEMORY, v1Path), limitFile: 'memory.limit_in_bytes' };
  throw new Error('no memory cgroup controller available to this process');
}

/** `argv` as a command that first joins `cgroup` (a shell that then becomes the program: same pid). */
export function inCgroup(cgroup: MemoryCgroup, argv: readonly string[]): string[] {
  return ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', cgroup.procsFile, ...argv];
}

/** Bytes in a Kubernetes memory quantity such as `512Mi`, `1G` or `268435456`. */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity.trim());
  if (!match) throw new Error(`not a memory quantity: "${quantity}"`);
  const unit = match[2] ?? '';
  const scale: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Math.round(Number(match[1]) * scale[unit]!);
}
