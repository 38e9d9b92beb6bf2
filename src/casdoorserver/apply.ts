import type { PushFailure } from '../api/casdoor-server.ts';
import type { CasdoorClient, RemoteGroup, RemoteUser } from '../casdoor/client.ts';
import { CasdoorErrorReason, isCasdoorError } from '../casdoor/errors.ts';
import { fingerprintOf, groupToWrite, MANAGED_BY_PROPERTY, managerOf, newUser, userColumns } from './objects.ts';
import type { Deletion, Write } from './plan.ts';
import { objectRef } from './refs.ts';

/** Writes kept in flight at once: Casdoor on sqlite locks its database under more. */
export const DEFAULT_PUSH_CONCURRENCY = 8;

/** What applying writes did. */
export interface WriteResults {
  created: number;
  updated: number;
  adopted: number;
  deleted: number;
  /** Objects Casdoor refused, with its reason. */
  failures: PushFailure[];
  /** Objects written: `objectRef` -> the fingerprint of what was written. */
  written: Map<string, string>;
}

/** Options of {@link applyWrites} and {@link applyDeletions}. */
export interface ApplyOptions {
  client: CasdoorClient;
  mark: string;
  concurrency?: number;
  signal?: AbortSignal;
  /** Told of each object Casdoor refused. */
  onRefused?: (failure: PushFailure) => void;
}

/** Empty results, to add to. */
export function noResults(): WriteResults {
  return { created: 0, updated: 0, adopted: 0, deleted: 0, failures: [], written: new Map() };
}

/**
 * Carries out writes with bounded concurrency. A refusal of one object's
 * content is recorded and the others go on; a failure of Casdoor itself
 * (unreachable, credentials) stops the rest and is thrown once the writes in
 * flight have ended.
 */
export async function applyWrites(writes: readonly Write[], options: ApplyOptions, results: WriteResults = noResults()): Promise<WriteResults> {
  await pool(writes, options, async (write) => {
    const { object } = write;
    const owner = String(object.spec['owner']);
    const name = String(object.spec['name']);
    try {
      await writeOne(write, owner, name, options);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      // A create retried after a timeout finds its own first attempt: that is no refusal.
      const own = write.op === 'create' && NAME_CLASH.test(error.casdoorMessage) ? await ownRemote(write, owner, name, options) : undefined;
      if (own) {
        await writeOne({ op: 'update', object, remote: own }, owner, name, options);
        results.created++;
        results.written.set(objectRef(object.kind, object.name), fingerprintOf(object));
        return;
      }
      const failure = { kind: object.kind, name: object.name, reason: `Casdoor refused the ${object.kind === 'CasdoorUser' ? 'user' : 'group'}: ${error.casdoorMessage}` };
      results.failures.push(failure);
      options.onRefused?.(failure);
      return;
    }
    results[write.op === 'create' ? 'created' : write.op === 'update' ? 'updated' : 'adopted']++;
    results.written.set(objectRef(object.kind, object.name), fingerprintOf(object));
  });
  return results;
}

async function writeOne(write: Write, owner: string, name: string, options: ApplyOptions): Promise<void> {
  const { client, mark, signal } = options;
  const spec = write.object.spec;
  if (write.object.kind === 'CasdoorGroup') {
    if (write.op === 'create') await client.addGroup(groupToWrite(spec, mark), signal);
    else await client.updateGroup(groupToWrite(spec, mark, write.remote as RemoteGroup | undefined), signal);
    return;
  }
  if (write.op === 'create') return client.addUser(newUser(spec, mark), signal);
  const fields: Record<string, unknown> = { ...spec };
  const columns = userColumns(spec);
  // Taken over: the mark goes in with the fields (properties merge; other keys stay).
  if (write.op === 'adopt') {
    fields['properties'] = { [MANAGED_BY_PROPERTY]: mark };
    columns.push('properties');
  }
  await client.updateUser(owner, name, fields, columns, signal);
}

/** Deletes users or groups, in the order given, with bounded concurrency for users and one at a time for groups. */
export async function applyDeletions(deletions: readonly Deletion[], options: ApplyOptions, results: WriteResults = noResults()): Promise<WriteResults> {
  const users = deletions.filter((d) => d.kind === 'CasdoorUser');
  const groups = deletions.filter((d) => d.kind === 'CasdoorGroup');
  const remove = async (deletion: Deletion): Promise<void> => {
    try {
      if (deletion.kind === 'CasdoorUser') await options.client.deleteUser(deletion.owner, deletion.name, options.signal);
      else await options.client.deleteGroup(deletion.owner, deletion.name, options.signal);
      results.deleted++;
    } catch (error) {
      if (!isRefusal(error)) throw error;
      const failure = { kind: deletion.kind, name: `${deletion.owner}/${deletion.name}`, reason: `Casdoor refused to delete it: ${error.casdoorMessage}` };
      results.failures.push(failure);
      options.onRefused?.(failure);
    }
  };
  await pool(users, options, remove);
  // Children before parents: one at a time, in order.
  await pool(groups, { ...options, concurrency: 1 }, remove);
  return results;
}

/** Casdoor's answers to a create whose name is taken. */
const NAME_CLASH = /^Username already exists$|UNIQUE constraint failed: group\.name/;

/** Casdoor's object of that name, when it carries this server's mark. */
async function ownRemote(write: Write, owner: string, name: string, options: ApplyOptions): Promise<RemoteUser | RemoteGroup | undefined> {
  const remote = write.object.kind === 'CasdoorUser' ? await options.client.getUser(owner, name, options.signal) : await options.client.getGroup(owner, name, options.signal);
  return remote && managerOf(remote) === options.mark ? remote : undefined;
}

function isRefusal(error: unknown): error is { casdoorMessage: string } & Error {
  return isCasdoorError(error) && error.reason === CasdoorErrorReason.Refused;
}

/** Runs `job` over `items`, `concurrency` at a time; the first error stops new jobs and is thrown after the rest end. */
async function pool<T>(items: readonly T[], options: ApplyOptions, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (!failure && next < items.length && !options.signal?.aborted) {
      const item = items[next++]!;
      try {
        await job(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? DEFAULT_PUSH_CONCURRENCY, items.length) }, lane));
  if (failure) throw failure.error;
  options.signal?.throwIfAborted();
}
