import type { CasdoorServer, PushCounts, PushFailure } from '../api/casdoor-server.ts';
import type { CasdoorClient, RemoteGroup, RemoteUser } from '../casdoor/client.ts';
import { CasdoorError, CasdoorErrorReason } from '../casdoor/errors.ts';
import { removalLimit } from '../shared/limit.ts';
import { applyDeletions, applyWrites, noResults } from './apply.ts';
import { fieldsInSync, MANAGED_BY_PROPERTY, managerOf, markOf, remoteKey, type SelectedObject, USER_FIELDS } from './objects.ts';
import { admit, planComparison } from './plan.ts';
import { objectRef, refKind, remoteRef } from './refs.ts';
import { NO_PARENT, replaceEntries, type ServerState } from './state.ts';
import type { BlockedDeletions } from './status.ts';

/** Options of one full comparison. */
export interface CompareOptions {
  client: CasdoorClient;
  server: CasdoorServer;
  users: readonly SelectedObject[];
  groups: readonly SelectedObject[];
  state: ServerState;
  concurrency?: number;
  signal?: AbortSignal;
  onRefused?: (failure: PushFailure) => void;
}

/** What a full comparison did. */
export interface Comparison {
  counts: PushCounts;
  blocked?: BlockedDeletions;
}

/**
 * The connection test: the credentials work (a read anonymous callers are
 * refused) and every listed organization exists.
 */
export async function testConnection(client: CasdoorClient, organizations: readonly string[], signal?: AbortSignal): Promise<void> {
  await client.checkAccess(organizations[0]!, signal);
  for (const organization of organizations) {
    if (!(await client.organizationExists(organization, signal))) {
      throw new CasdoorError(CasdoorErrorReason.OrganizationNotFound, 'get-organization',
        `organization ${organization} of spec.organizations does not exist in Casdoor: create it there, or remove it from the list`);
    }
  }
}

/**
 * Lists every user and group of the listed organizations, compares them with
 * the selected objects and writes what differs: groups (parents first), users,
 * then deletions (users, then groups children first) unless more users would
 * go than maxDeletions allows. Fills the server's state with what Casdoor now holds.
 */
export async function compareAll(options: CompareOptions): Promise<Comparison> {
  const { client, server, state, signal } = options;
  // Until it completes, what the state says of Casdoor is not to be pushed on.
  state.compared = false;
  const namespace = server.metadata.namespace ?? 'default';
  const mark = markOf(namespace, server.metadata.name);
  const remoteUsers: RemoteUser[] = [];
  const remoteGroups: RemoteGroup[] = [];
  const serverName = `${namespace}/${server.metadata.name}`;
  // Admitted once, for the judge and the plan: each user's key is the string its target already is, when equal.
  const organizations = new Set(server.spec.organizations);
  const admittedUsers = admit(options.users, { organizations, server: serverName }, (object) => {
    const key = remoteKey(object.spec);
    const known = state.targetOf(objectRef(object.kind, object.name));
    return known === key ? known : key;
  });
  const inSync = inSyncJudge(admittedUsers.byKey, mark);
  for (const organization of server.spec.organizations) {
    const users = await client.listUsers(organization, { ...(signal && { signal }), fields: USER_FIELDS, properties: [MANAGED_BY_PROPERTY], reduce: inSync.reduce });
    for (const user of users) remoteUsers.push(user);
    for (const group of await client.listGroups(organization, signal)) remoteGroups.push(group);
  }
  const plan = planComparison({
    server: serverName,
    users: options.users,
    groups: options.groups,
    remoteUsers,
    remoteGroups,
    organizations,
    mark,
    existing: server.spec.existingUsers,
    prune: server.spec.prune,
    judgedInSync: inSync.judged,
    admittedUsers,
  });
  let unchanged = 0;
  for (const ref of plan.inSync.keys()) if (refKind(ref) === 'CasdoorUser') unchanged++;

  // The plan's map becomes the state's: at 100,000 objects two copies of it are 15 MB.
  state.inSync = plan.inSync;
  state.failures.clear();
  state.skipped.clear();
  for (const failure of plan.failures) state.failures.set(objectRef(failure.kind as SelectedObject['kind'], failure.name), failure);
  // Only admitted objects are written to a Casdoor object: a refused duplicate going must not delete it.
  // The maps of 100,000 entries are brought up to date in place, not cleared and filled again.
  state.replaceTargets(function* () {
    for (const [key, object] of admittedUsers.byKey) {
      const ref = objectRef(object.kind, object.name);
      if (!state.failures.has(ref)) yield [ref, key];
    }
    for (const object of options.groups) {
      const ref = objectRef(object.kind, object.name);
      if (!state.failures.has(ref)) yield [ref, remoteKey(object.spec)];
    }
  });
  // What Casdoor holds, before the writes. Each key comes once: the listing keeps one reading of each
  // user, and one found in sync (judged) was not kept.
  replaceEntries(state.managed, function* () {
    for (const [kind, objects] of [['CasdoorUser', remoteUsers], ['CasdoorGroup', remoteGroups]] as const) {
      for (const remote of objects) {
        if (managerOf(remote) === mark) yield [remoteRef(kind, remoteKey(remote)), kind === 'CasdoorGroup' ? { parent: `${remote.owner}/${String(remote['parentId'])}` } : NO_PARENT];
      }
    }
    // Users found in sync were not kept from the listing: each is the Casdoor user its object is written to.
    for (const object of inSync.judged) {
      const key = state.targetOf(objectRef(object.kind, object.name));
      if (key !== undefined) yield [remoteRef(object.kind, key), NO_PARENT];
    }
  }, (a, b) => a.parent === b.parent);
  state.unmanaged.clear();
  state.foreign.clear();
  for (const [kind, objects] of [['CasdoorUser', remoteUsers], ['CasdoorGroup', remoteGroups]] as const) {
    for (const remote of objects) {
      const manager = managerOf(remote);
      if (manager === undefined) state.unmanaged.add(remoteRef(kind, remoteKey(remote)));
      else if (manager !== mark) state.foreign.set(remoteRef(kind, remoteKey(remote)), manager);
    }
  }
  for (const skipped of plan.skipped) state.skipped.set(objectRef(skipped.kind as SelectedObject['kind'], skipped.name), skipped);

  // The listing has served: let it go before the writes (at 10,000 users it is megabytes).
  remoteUsers.length = 0;
  remoteGroups.length = 0;
  const apply = { client, mark, ...(options.concurrency !== undefined && { concurrency: options.concurrency }), ...(signal && { signal }), ...(options.onRefused && { onRefused: options.onRefused }) };
  const groupResults = noResults();
  for (const level of plan.groupWrites) await applyWrites(level, apply, groupResults);
  const userResults = await applyWrites(plan.userWrites, apply);
  for (const results of [groupResults, userResults]) {
    for (const [ref, fingerprint] of results.written) state.inSync.set(ref, fingerprint);
    for (const failure of results.failures) state.failures.set(objectRef(failure.kind as SelectedObject['kind'], failure.name), failure);
  }
  for (const write of [...plan.groupWrites.flat(), ...plan.userWrites]) {
    const ref = objectRef(write.object.kind, write.object.name);
    if (!state.inSync.has(ref)) continue;
    const key = remoteRef(write.object.kind, remoteKey(write.object.spec));
    state.unmanaged.delete(key);
    state.managed.set(key, write.object.kind === 'CasdoorGroup' ? { parent: `${String(write.object.spec['owner'])}/${String(write.object.spec['parentId'])}` } : NO_PARENT);
  }

  // Deletions, judged together: none when more users would go than the guard allows.
  const limit = removalLimit(server.spec.maxDeletions, plan.managedUsers);
  let blocked: BlockedDeletions | undefined;
  const deletions = noResults();
  if (plan.userDeletions.length > limit) {
    blocked = { wanted: plan.userDeletions.length, limit };
  } else {
    await applyDeletions([...plan.userDeletions, ...plan.groupDeletions], apply, deletions);
    for (const deletion of [...plan.userDeletions, ...plan.groupDeletions]) {
      const failed = deletions.failures.some((f) => f.name === `${deletion.owner}/${deletion.name}`);
      if (!failed) state.managed.delete(remoteRef(deletion.kind, `${deletion.owner}/${deletion.name}`));
    }
  }
  state.blocked = blocked;
  state.deletions.clear();
  state.deletedSinceComparison = 0;
  // Blocked deletions stay gathered: a push judges them again when something changes.
  if (blocked) {
    for (const deletion of [...plan.userDeletions, ...plan.groupDeletions]) state.deletions.set(remoteRef(deletion.kind, `${deletion.owner}/${deletion.name}`), deletion);
    state.lastDeletionAt = Date.now();
  }
  state.compared = true;

  const groupDeletions = plan.groupDeletions.length - deletions.failures.filter((f) => f.kind === 'CasdoorGroup').length;
  return {
    counts: {
      created: userResults.created,
      updated: userResults.updated,
      unchanged,
      deleted: blocked ? 0 : plan.userDeletions.length - deletions.failures.filter((f) => f.kind === 'CasdoorUser').length,
      adopted: userResults.adopted,
      skipped: plan.skipped.filter((s) => s.kind === 'CasdoorUser').length,
      failed: userResults.failures.length + plan.failures.filter((f) => f.kind === 'CasdoorUser').length,
      groupsCreated: groupResults.created,
      groupsUpdated: groupResults.updated + groupResults.adopted,
      groupsDeleted: blocked ? 0 : groupDeletions,
      groupsFailed: groupResults.failures.length + plan.failures.filter((f) => f.kind === 'CasdoorGroup').length,
    },
    ...(blocked && { blocked }),
  };
}

/**
 * Judges each Casdoor user as its page arrives: one in sync with the selected
 * object admitted for its key (and carrying this server's mark) is not
 * kept at all, only its object remembered as judged. The plan needs no more of
 * it: at 100,000 users, even each user's key and mark would be some 20 MB.
 */
function inSyncJudge(byKey: ReadonlyMap<string, SelectedObject>, mark: string): { reduce: (remote: RemoteUser) => RemoteUser | undefined; judged: Set<SelectedObject> } {
  const judged = new Set<SelectedObject>();
  const reduce = (remote: RemoteUser): RemoteUser | undefined => {
    const object = byKey.get(remoteKey(remote));
    if (!object) return remote;
    // A user read twice (the pages shifted) is judged by its last reading, as the listing keeps its last.
    if (managerOf(remote) !== mark || !fieldsInSync(object.spec, remote)) {
      judged.delete(object);
      return remote;
    }
    judged.add(object);
    return undefined;
  };
  return { reduce, judged };
}
