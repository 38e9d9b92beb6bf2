import type { CasdoorServer, PushFailure } from '../api/casdoor-server.ts';
import type { CasdoorClient, RemoteGroup, RemoteUser } from '../casdoor/client.ts';
import { CasdoorErrorReason, isCasdoorError } from '../casdoor/errors.ts';
import { removalLimit } from '../shared/limit.ts';
import { applyDeletions, applyWrites, noResults } from './apply.ts';
import { fingerprintOf, managerOf, markOf, type PushKind, remoteKey, type SelectedObject } from './objects.ts';
import { admissionFailure, type Deletion, type Write } from './plan.ts';
import { selects } from './selector.ts';
import { describeRef, objectRef, refKind, remoteRef, splitRef } from './refs.ts';
import { NO_PARENT, type ServerState } from './state.ts';

/** How long deletions are gathered after the last one before they are judged together. */
export const DELETION_SETTLE_MS = 5_000;

/** Options of {@link pushChanges}. */
export interface PushOptions {
  client: CasdoorClient;
  server: CasdoorServer;
  state: ServerState;
  /** The object of `kind` named `name` in the server's namespace, as the cache holds it now. */
  lookup(kind: PushKind, name: string): (SelectedObject & { labels?: Record<string, string> }) | undefined;
  now: number;
  concurrency?: number;
  signal?: AbortSignal;
  onRefused?: (failure: PushFailure) => void;
}

/** What a push did. */
export interface PushResult {
  /** Writes made, deletions included. */
  writes: number;
  /** When gathered deletions settle, if any wait. */
  deletionsDueAt?: number;
}

/**
 * Carries objects changed since the last comparison into Casdoor, one write
 * per changed object and no listing: what the last comparison learnt says
 * whether each is managed, unmarked or absent. Objects gone from the
 * selection become deletions, gathered and judged together against
 * maxDeletions once they have settled, never one watch event at a time.
 */
export async function pushChanges(options: PushOptions): Promise<PushResult> {
  const { state, server } = options;
  const namespace = server.metadata.namespace ?? 'default';
  const mark = markOf(namespace, server.metadata.name);
  const organizations = new Set(server.spec.organizations);
  const writes: Write[] = [];
  for (const ref of [...state.pending].sort(groupsFirst)) {
    state.pending.delete(ref);
    const [kind, name] = splitRef(ref);
    const object = options.lookup(kind, name);
    if (!object || !selects(server.spec.selector, object.labels)) {
      gone(state, ref, kind, options.now, server.spec.prune);
      continue;
    }
    const key = remoteKey(object.spec);
    const previous = state.targetOf(ref);
    // A new spec.owner or spec.name is another Casdoor object: the old one goes (a user's password,
    // MFA and bindings with it), as the guide says.
    if (previous !== undefined && previous !== key) gone(state, ref, kind, options.now, server.spec.prune);
    const sharer = state.sharedTarget(ref, kind, key);
    const refusal = admissionFailure(object, { organizations, server: `${namespace}/${server.metadata.name}` }) ??
      (sharer ? `${describeRef(sharer)} is written to the same Casdoor ${kind === 'CasdoorUser' ? 'user' : 'group'} ${key}` : undefined);
    if (refusal) {
      state.dropTarget(ref);
      state.inSync.delete(ref);
      record(state, options, { kind, name, reason: refusal });
      continue;
    }
    state.deletions.delete(remoteRef(kind, key));
    state.setTarget(ref, key);
    if (state.inSync.get(ref) === fingerprintOf(object)) continue;
    const target = remoteRef(kind, key);
    const foreign = state.foreign.get(target);
    if (foreign !== undefined) state.skipped.set(ref, { kind, name, reason: `${key} is managed by CasdoorServer ${foreign}` });
    else if (state.managed.has(target)) writes.push({ op: 'update', object });
    else if (!state.unmanaged.has(target)) writes.push({ op: 'create', object });
    else if (server.spec.existingUsers === 'Adopt') writes.push({ op: 'adopt', object });
    else state.skipped.set(ref, { kind, name, reason: `${key} already exists in Casdoor and was not created by this server (existingUsers: Skip)` });
  }

  let count = 0;
  const apply = { client: options.client, mark, ...(options.concurrency !== undefined && { concurrency: options.concurrency }), ...(options.signal && { signal: options.signal }) };
  for (const batch of [writes.filter((w) => w.object.kind === 'CasdoorGroup'), writes.filter((w) => w.object.kind === 'CasdoorUser')]) {
    // Groups are overwritten whole: what Casdoor holds goes under the spec. (update-group of a
    // group deleted in Casdoor answers "Unaffected": such a group is created again.) An object to
    // adopt is looked at again: it may have gained a mark since the comparison.
    const ready: Write[] = [];
    for (const write of batch) {
      if ((write.object.kind !== 'CasdoorGroup' || write.op === 'create') && write.op !== 'adopt') {
        ready.push(write);
        continue;
      }
      const remote = await fetchRemote(options.client, write.object, options.signal);
      const manager = remote ? managerOf(remote) : undefined;
      if (!remote) ready.push({ op: 'create', object: write.object });
      else if (write.op !== 'adopt' || manager === undefined || manager === mark) ready.push({ ...write, op: manager === mark ? 'update' : write.op, remote });
      else skipForeign(state, write.object, manager);
    }
    const results = await applyWrites(ready, apply);
    count += ready.length;
    for (const write of ready) {
      const ref = objectRef(write.object.kind, write.object.name);
      const failure = results.failures.find((f) => f.kind === write.object.kind && f.name === write.object.name);
      if (failure) {
        count += await settleConflict(write, failure, options, mark);
        continue;
      }
      written(state, write.object);
      state.failures.delete(ref);
    }
  }
  count += await applySettledDeletions(options, mark);
  const result: PushResult = { writes: count };
  // Blocked deletions wait for a change (a deleted object back, maxDeletions raised), not for a timer.
  if (state.deletions.size > 0 && !state.blocked) result.deletionsDueAt = state.lastDeletionAt + DELETION_SETTLE_MS;
  return result;
}

/**
 * A selected object is gone (deleted, no longer selected, or now naming another Casdoor object):
 * what it was written to becomes a deletion, if this server manages it and no other selected object writes it.
 */
function gone(state: ServerState, ref: string, kind: PushKind, now: number, prune: boolean): void {
  const key = state.targetOf(ref);
  state.forgetObject(ref);
  if (key === undefined || !prune || !state.managed.has(remoteRef(kind, key)) || state.sharedTarget(ref, kind, key)) return;
  const [owner, ...rest] = key.split('/');
  state.deletions.set(remoteRef(kind, key), { kind, owner: owner!, name: rest.join('/') });
  state.lastDeletionAt = now;
}

/** Records a written object as managed and in sync. */
function written(state: ServerState, object: SelectedObject): void {
  const ref = objectRef(object.kind, object.name);
  const target = remoteRef(object.kind, remoteKey(object.spec));
  state.inSync.set(ref, fingerprintOf(object));
  state.unmanaged.delete(target);
  state.managed.set(target, object.kind === 'CasdoorGroup' ? { parent: `${String(object.spec['owner'])}/${String(object.spec['parentId'])}` } : NO_PARENT);
  state.skipped.delete(ref);
}

/**
 * A write refused because the object already exists (created by someone
 * since the comparison), or gone (deleted in Casdoor since): looks again and
 * writes what the object now calls for; any other refusal is recorded.
 */
async function settleConflict(write: Write, failure: PushFailure, options: PushOptions, mark: string): Promise<number> {
  const { state, client } = options;
  // Only a clash of the object's own name: a duplicate email or phone is a refusal like any other.
  const exists = /: Username already exists$|UNIQUE constraint failed: group\.name/.test(failure.reason);
  const missing = /doesn't exist$/.test(failure.reason);
  if ((write.op === 'create' && exists) || (write.op !== 'create' && missing)) {
    const remote = await fetchRemote(client, write.object, options.signal);
    const manager = remote ? managerOf(remote) : undefined;
    const op = !remote ? 'create' : manager === mark ? 'update' : manager === undefined && options.server.spec.existingUsers === 'Adopt' ? 'adopt' : undefined;
    if (op) {
      const retry = await applyWrites([{ op, object: write.object, ...(remote && { remote }) }], { client, mark, ...(options.signal && { signal: options.signal }) });
      if (retry.failures.length === 0) {
        written(state, write.object);
        state.failures.delete(objectRef(write.object.kind, write.object.name));
        return 1;
      }
      record(state, options, retry.failures[0]!);
      return 1;
    }
    if (manager) {
      skipForeign(state, write.object, manager);
      return 0;
    }
    state.unmanaged.add(remoteRef(write.object.kind, remoteKey(write.object.spec)));
    state.skipped.set(objectRef(write.object.kind, write.object.name), {
      kind: write.object.kind, name: write.object.name,
      reason: `${remoteKey(write.object.spec)} already exists in Casdoor and was not created by this server (existingUsers: Skip)`,
    });
    return 0;
  }
  record(state, options, failure);
  return 0;
}

/** Records an object whose Casdoor object another server manages: never written. */
function skipForeign(state: ServerState, object: SelectedObject, manager: string): void {
  const target = remoteRef(object.kind, remoteKey(object.spec));
  state.unmanaged.delete(target);
  state.foreign.set(target, manager);
  state.skipped.set(objectRef(object.kind, object.name), { kind: object.kind, name: object.name, reason: `${remoteKey(object.spec)} is managed by CasdoorServer ${manager}` });
}

/**
 * Applies the gathered deletions once none has come for the settling time,
 * unless they exceed the guard. Users already deleted since the last full
 * comparison count too, so a slow burst cannot pass the guard in slices.
 */
async function applySettledDeletions(options: PushOptions, mark: string): Promise<number> {
  const { state, server } = options;
  if (state.deletions.size === 0) {
    state.blocked = undefined;
    return 0;
  }
  // Blocked, deletions are never applied by a push, however few remain as objects come back one by
  // one: the block lifts when none remains, and otherwise a full comparison (maxDeletions raised) judges.
  if (state.blocked) return 0;
  if (options.now - state.lastDeletionAt < DELETION_SETTLE_MS) return 0;
  const all = [...state.deletions.values()];
  const users = all.filter((d) => d.kind === 'CasdoorUser');
  const limit = removalLimit(server.spec.maxDeletions, state.managedUsers() + state.deletedSinceComparison);
  if (users.length + state.deletedSinceComparison > limit) {
    state.blocked = { wanted: users.length + state.deletedSinceComparison, limit };
    return 0;
  }
  const groups = childrenFirst(all.filter((d) => d.kind === 'CasdoorGroup'), state);
  const results = await applyDeletions([...users, ...groups], { client: options.client, mark, ...(options.signal && { signal: options.signal }) });
  for (const deletion of all) {
    const name = `${deletion.owner}/${deletion.name}`;
    if (results.failures.some((f) => f.name === name)) continue;
    state.managed.delete(remoteRef(deletion.kind, name));
    if (deletion.kind === 'CasdoorUser') state.deletedSinceComparison++;
  }
  state.deletions.clear();
  return all.length;
}

function childrenFirst(groups: Deletion[], state: ServerState): Deletion[] {
  const depth = (deletion: Deletion, hops = 0): number => {
    const parent = state.managed.get(remoteRef('CasdoorGroup', `${deletion.owner}/${deletion.name}`))?.parent;
    const parentDeletion = parent ? groups.find((g) => `${g.owner}/${g.name}` === parent) : undefined;
    return parentDeletion && hops < groups.length ? depth(parentDeletion, hops + 1) + 1 : 0;
  };
  return [...groups].sort((a, b) => depth(b) - depth(a));
}

async function fetchRemote(client: CasdoorClient, object: SelectedObject, signal?: AbortSignal): Promise<RemoteUser | RemoteGroup | undefined> {
  const owner = String(object.spec['owner']);
  const name = String(object.spec['name']);
  try {
    return object.kind === 'CasdoorUser' ? await client.getUser(owner, name, signal) : await client.getGroup(owner, name, signal);
  } catch (error) {
    if (isCasdoorError(error) && error.reason === CasdoorErrorReason.Refused) return undefined;
    throw error;
  }
}

function record(state: ServerState, options: PushOptions, failure: PushFailure): void {
  state.failures.set(objectRef(failure.kind as PushKind, failure.name), failure);
  options.onRefused?.(failure);
}

function groupsFirst(a: string, b: string): number {
  return Number(refKind(a) === 'CasdoorUser') - Number(refKind(b) === 'CasdoorUser');
}
