import type { ExistingPolicy, PushFailure } from '../api/casdoor-server.ts';
import type { RemoteGroup, RemoteUser } from '../casdoor/client.ts';
import { fieldsInSync, fingerprintOf, managerOf, type PushKind, remoteKey, type SelectedObject } from './objects.ts';
import { objectRef } from './refs.ts';

/** One write to Casdoor: a new object, fields written back, or an existing object taken over. */
export interface Write {
  op: 'create' | 'update' | 'adopt';
  object: SelectedObject;
  /** What Casdoor holds, for update and adopt. */
  remote?: RemoteUser | RemoteGroup;
}

/** One object to delete from Casdoor. */
export interface Deletion {
  kind: PushKind;
  owner: string;
  name: string;
}

/** Inputs of {@link planComparison}: what is selected in Kubernetes, and what Casdoor holds. */
export interface ComparisonInput {
  /** `namespace/name` of the CasdoorServer, for messages. */
  server: string;
  users: readonly SelectedObject[];
  groups: readonly SelectedObject[];
  /** Every user and group of the listed organizations, as Casdoor holds them. */
  remoteUsers: readonly RemoteUser[];
  remoteGroups: readonly RemoteGroup[];
  organizations: ReadonlySet<string>;
  mark: string;
  existing: ExistingPolicy;
  prune: boolean;
  /**
   * Selected users whose Casdoor user was found, as it was last listed, in sync and carrying this
   * server's mark: left out of remoteUsers, since the plan needs nothing more of them.
   */
  judgedInSync?: ReadonlySet<SelectedObject>;
  /** The users' {@link admit admission}, when the caller has made it from `users` already. */
  admittedUsers?: Admission;
}

/** Which selected objects of one kind may be written, by the Casdoor key of each, and why the others may not. */
export interface Admission {
  byKey: Map<string, SelectedObject>;
  failures: PushFailure[];
}

/** What a full comparison must do, in dependency order. */
export interface ComparisonPlan {
  /** Group writes by depth: every parent's level before its children's. */
  groupWrites: Write[][];
  userWrites: Write[];
  /** Users first, then groups children first: Casdoor refuses to delete a group with members or children. */
  userDeletions: Deletion[];
  groupDeletions: Deletion[];
  /** Objects found in sync: `objectRef` -> the fingerprint of their spec. */
  inSync: Map<string, string>;
  /** Objects left alone: already in Casdoor without this server's mark (Skip), or with another server's. */
  skipped: PushFailure[];
  /** Objects never written: outside spec.organizations, or two objects for one Casdoor object. */
  failures: PushFailure[];
  /** Users in Casdoor that carry this server's mark: what the deletion guard is a share of. */
  managedUsers: number;
}

/**
 * Compares what is selected with what Casdoor holds, and plans the writes
 * that make Casdoor match. Pure. Only objects carrying this server's mark are
 * updated or deleted; unmarked ones are adopted or skipped by policy; fields
 * absent from a spec are never compared, so they are never blanked.
 */
export function planComparison(input: ComparisonInput): ComparisonPlan {
  const plan: ComparisonPlan = { groupWrites: [], userWrites: [], userDeletions: [], groupDeletions: [], inSync: new Map(), skipped: [], failures: [], managedUsers: 0 };
  const groupAdmission = admit(input.groups, input);
  const userAdmission = input.admittedUsers ?? admit(input.users, input);
  plan.failures = [...groupAdmission.failures, ...userAdmission.failures];
  const wantedGroups = groupAdmission.byKey;
  const wantedUsers = userAdmission.byKey;

  const remoteGroups = new Map(input.remoteGroups.map((g) => [remoteKey(g), g]));
  const groupWrites = new Map<string, Write>();
  for (const [key, object] of wantedGroups) {
    const write = writeFor(object, remoteGroups.get(key), input, plan);
    if (write) groupWrites.set(key, write);
  }
  plan.groupWrites = byDepth(wantedGroups, groupWrites);

  const remoteUsers = new Map(input.remoteUsers.map((u) => [remoteKey(u), u]));
  for (const [key, object] of wantedUsers) {
    if (input.judgedInSync?.has(object)) {
      plan.inSync.set(objectRef(object.kind, object.name), fingerprintOf(object));
      plan.managedUsers++;
      continue;
    }
    const write = writeFor(object, remoteUsers.get(key), input, plan);
    if (write) plan.userWrites.push(write);
  }

  for (const user of input.remoteUsers) {
    if (managerOf(user) !== input.mark) continue;
    plan.managedUsers++;
    if (input.prune && !wantedUsers.has(remoteKey(user))) plan.userDeletions.push({ kind: 'CasdoorUser', owner: user.owner, name: user.name });
  }
  if (input.prune) {
    const gone = input.remoteGroups.filter((g) => managerOf(g) === input.mark && !wantedGroups.has(remoteKey(g)));
    plan.groupDeletions = childrenFirst(gone).map((g) => ({ kind: 'CasdoorGroup', owner: g.owner, name: g.name }));
  }
  return plan;
}

/**
 * Admits selected objects: those of spec.organizations, and of several written to one Casdoor object the
 * first by name. `keyOf` gives an object's Casdoor key; a caller may hand back an equal string it holds
 * already, so that 100,000 keys are not made again at every comparison.
 */
export function admit(
  objects: readonly SelectedObject[],
  input: Pick<ComparisonInput, 'organizations' | 'server'>,
  keyOf: (object: SelectedObject) => string = (object) => remoteKey(object.spec),
): Admission {
  const admission: Admission = { byKey: new Map(), failures: [] };
  for (const object of [...objects].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const key = keyOf(object);
    const other = admission.byKey.get(key);
    const refusal = admissionFailure(object, input) ??
      (other && `${other.kind} ${other.name} is written to the same Casdoor ${object.kind === 'CasdoorUser' ? 'user' : 'group'} ${key}`);
    if (refusal) admission.failures.push({ kind: object.kind, name: object.name, reason: refusal });
    else admission.byKey.set(key, object);
  }
  return admission;
}

/** Why an object may not be written at all, if it may not: its organization is not the server's. */
export function admissionFailure(object: SelectedObject, input: Pick<ComparisonInput, 'organizations' | 'server'>): string | undefined {
  const owner = object.spec['owner'];
  if (typeof owner !== 'string' || !input.organizations.has(owner)) {
    return `organization ${String(owner)} is not in spec.organizations of CasdoorServer ${input.server}`;
  }
  return undefined;
}

/** The write one selected object needs, or none; records what is in sync or skipped. */
function writeFor(object: SelectedObject, remote: RemoteUser | RemoteGroup | undefined, input: ComparisonInput, plan: ComparisonPlan): Write | undefined {
  if (!remote) return { op: 'create', object };
  const manager = managerOf(remote);
  if (manager === input.mark) {
    if (fieldsInSync(object.spec, remote)) {
      plan.inSync.set(objectRef(object.kind, object.name), fingerprintOf(object));
      return undefined;
    }
    return { op: 'update', object, remote };
  }
  if (manager !== undefined) {
    plan.skipped.push({ kind: object.kind, name: object.name, reason: `${remoteKey(object.spec)} is managed by CasdoorServer ${manager}` });
    return undefined;
  }
  if (input.existing === 'Adopt') return { op: 'adopt', object, remote };
  plan.skipped.push({ kind: object.kind, name: object.name, reason: `${remoteKey(object.spec)} already exists in Casdoor and was not created by this server (existingUsers: Skip)` });
  return undefined;
}

/** Group writes in levels: a group whose parent is also selected comes a level after it. */
function byDepth(groups: ReadonlyMap<string, SelectedObject>, writes: ReadonlyMap<string, Write>): Write[][] {
  const depth = new Map<string, number>();
  const depthOf = (key: string, seen: Set<string>): number => {
    const known = depth.get(key);
    if (known !== undefined) return known;
    const spec = groups.get(key)!.spec;
    const parentKey = `${String(spec['owner'])}/${String(spec['parentId'])}`;
    // A parent outside the selection, or a cycle, starts a tree of its own.
    const level = spec['isTopGroup'] === true || !groups.has(parentKey) || seen.has(parentKey) ? 0 : depthOf(parentKey, new Set([...seen, key])) + 1;
    depth.set(key, level);
    return level;
  };
  const levels: Write[][] = [];
  for (const [key, write] of writes) (levels[depthOf(key, new Set([key]))] ??= []).push(write);
  return levels.filter((level) => level !== undefined);
}

/** Groups ordered so that each comes before its parent. */
function childrenFirst(groups: readonly RemoteGroup[]): RemoteGroup[] {
  const byKey = new Map(groups.map((g) => [remoteKey(g), g]));
  const depth = (group: RemoteGroup, hops = 0): number => {
    const parent = byKey.get(`${group.owner}/${String(group.parentId)}`);
    return parent && hops < groups.length ? depth(parent, hops + 1) + 1 : 0;
  };
  return [...groups].sort((a, b) => depth(b) - depth(a));
}
