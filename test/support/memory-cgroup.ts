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

const V1_ROOT = '/sys/fs/cgroup/memory';
const V2_ROOT = '/sys/fs/cgroup';

/**
 * Creates a cgroup named `name` limited to `limitBytes`, on cgroup v2 when the
 * memory controller is there, else v1. Throws with the reason when this
 * machine does not let us (not Linux, not root, controller absent).
 */
export async function createMemoryCgroup(name: string, limitBytes: number): Promise<MemoryCgroup> {
  const v2Memory = existsSync(join(V2_ROOT, 'cgroup.controllers')) && readFileSync(join(V2_ROOT, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory');
  const [dir, limitFile] = v2Memory ? [join(V2_ROOT, name), 'memory.max'] : [join(V1_ROOT, name), 'memory.limit_in_bytes'];
  if (!v2Memory && !existsSync(V1_ROOT)) throw new Error('no cgroup memory controller on this machine');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, limitFile), String(limitBytes));
  return {
    procsFile: join(dir, 'cgroup.procs'),
    remove: () => rmdir(dir),
  };
}

/** Bytes in a Kubernetes memory quantity such as `512Mi`, `1G` or `268435456`. */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity.trim());
  if (!match) throw new Error(`not a memory quantity: "${quantity}"`);
  const unit = match[2] ?? '';
  const scale: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Math.round(Number(match[1]) * scale[unit]!);
}
