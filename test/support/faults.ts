// What the fault tests check after every fault: the exact set of CasdoorUsers,
// and how long recovery took (printed, for the table of docs/reliability.md).
import * as assert from 'uvu/assert';
import type { StoredSyncer, SyncerEnv } from './syncer-env.ts';
import { waitFor } from './wait.ts';

/** The names of the CasdoorUsers in the env's namespace (cheap: names only). */
export async function userNames(env: SyncerEnv): Promise<string[]> {
  const out = await env.cluster.kubectlOk(['get', 'cu', '-n', env.ns, '-o', 'name']);
  return out.split('\n').filter((line) => line !== '');
}

/** Waits until the sync is writing (some but not all users exist), and returns how many do. */
export async function waitMidSync(env: SyncerEnv, total: number, timeoutMs = 60_000): Promise<number> {
  return waitFor('a sync half done', async () => {
    const count = (await userNames(env)).length;
    return count > 0 && count < total * 0.8 ? count : undefined;
  }, timeoutMs, 500);
}

/**
 * Asserts the stored CasdoorUsers are exactly the simulator's members: one per
 * userid, no duplicate, none extra, none forbidden or marked removed, and that
 * status says Ready with the right total.
 */
export async function assertExact(env: SyncerEnv, syncer: StoredSyncer): Promise<void> {
  const members = env.sim.org.members.map((m) => m.userid);
  const users = await env.users();
  const names = users.map((u) => u.metadata.name);
  assert.is(users.length, members.length, 'CasdoorUser count');
  assert.is(new Set(names).size, names.length, 'duplicate CasdoorUser names');
  const ids = users.map((u) => String(u.spec['id']));
  assert.is(new Set(ids).size, ids.length, 'two CasdoorUsers for one userid');
  assert.equal([...ids].sort(), [...members].sort(), 'spec.id of the CasdoorUsers against the members');
  const removed = users.filter((u) => u.metadata.annotations?.['casdoor.org/removed-from-source'] !== undefined);
  assert.equal(removed.map((u) => u.metadata.name), [], 'users marked removed');
  assert.is(syncer.status?.users?.total, members.length, 'status.users.total');
  assert.is(syncer.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
}

/** Milliseconds since `start`, as seconds with one decimal, for the log. */
export function seconds(start: number): string {
  return ((Date.now() - start) / 1000).toFixed(1);
}

/** Prints one measured figure, prefixed so it is easy to find in `make test`'s output. */
export function report(fault: string, figures: string): void {
  console.log(`# reliability: ${fault}: ${figures}`);
}
