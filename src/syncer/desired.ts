import { CASDOOR_GROUP_KIND, type CasdoorGroupSpec } from '../api/casdoor-group.ts';
import { CASDOOR_USER_KIND, type CasdoorUserSpec } from '../api/casdoor-user.ts';
import { API_VERSION, LABEL_ORGANIZATION, LABEL_SYNCER, WECOM_SYNCER_KIND_REF, type OwnerReference } from '../api/group.ts';
import type { WeComSyncer } from '../api/wecom-syncer.ts';
import { shortDigest } from '../shared/digest.ts';
import type { Organization } from '../wecom/fetch.ts';
import type { Department, Member } from '../wecom/types.ts';
import type { StoredObject } from './stored.ts';
import { casdoorGroupName, casdoorGroupsOf, casdoorUserName, type MappingOptions, toCasdoorGroupSpec, toCasdoorUserSpec } from './mapping.ts';

/** Which of the two kinds an object is. */
export type ManagedKind = typeof CASDOOR_USER_KIND | typeof CASDOOR_GROUP_KIND;

/** One object as a sync wants it: everything the operator owns of it. */
export interface DesiredObject {
  kind: ManagedKind;
  name: string;
  labels: Record<string, string>;
  ownerReference: OwnerReference;
  readonly spec: CasdoorUserSpec | CasdoorGroupSpec;
  /** {@link fingerprint} of the above, to compare with what is stored. */
  fingerprint: string;
  isForbidden: boolean;
}

/**
 * What the syncs of one syncer last wrote: each object's fingerprint by name (a plan's `wanted`).
 * Kept between syncs to tell hand edits from the operator's own writes; a few
 * bytes per member, where the objects themselves would cost hundreds.
 */
export interface Wanted {
  users: Map<string, string>;
  groups: Map<string, string>;
}

/** The desired objects of one sync, by object name. */
export interface DesiredState {
  users: Map<string, DesiredObject>;
  groups: Map<string, DesiredObject>;
  /** Object names of members whose record WeCom sent malformed: never removed, never rewritten. */
  protectedUsers: Set<string>;
  /** Malformed member records without a usable userid: while any exist, nobody may be removed. */
  unidentifiedRejects: number;
}

/** A label value: at most 63 characters, alphanumeric at both ends, `-_.` inside. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The labels of every object a syncer writes. The organization label only when it is a valid label value. */
export function managedLabels(syncer: WeComSyncer): Record<string, string> {
  const labels: Record<string, string> = {};
  const organization = syncer.spec.organization;
  // Keys in sorted order (organization < syncer), as fingerprints read them.
  if (organization.length <= 63 && LABEL_VALUE.test(organization)) labels[LABEL_ORGANIZATION] = organization;
  labels[LABEL_SYNCER] = syncer.metadata.name;
  return labels;
}

/** The controller reference that makes garbage collection delete a syncer's objects with it. */
export function ownerReferenceTo(syncer: WeComSyncer): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: WECOM_SYNCER_KIND_REF,
    name: syncer.metadata.name,
    uid: syncer.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * A digest of everything the operator owns of an object: spec, its labels,
 * whether it is marked removed, and its controller. The same function digests
 * desired and stored objects, so equal digests mean no write is needed.
 */
export function fingerprint(parts: {
  spec: unknown;
  labels: Record<string, string>;
  removed: boolean;
  ownerUid: string | undefined;
}): string {
  // Its keys in order, so that canonicalJSON need not sort them.
  return shortDigest(canonicalJSON({ labels: parts.labels, ownerUid: parts.ownerUid, removed: parts.removed, spec: parts.spec }));
}

/** Keys as JSON, each quoted once: a resync of 100,000 users quotes the same dozen keys a million times. */
const QUOTED_KEYS = new Map<string, string>();
const QUOTED_KEYS_MAX = 1024;

function quotedKey(key: string): string {
  let text = QUOTED_KEYS.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    if (QUOTED_KEYS.size < QUOTED_KEYS_MAX) QUOTED_KEYS.set(key, text);
  }
  return text;
}

/**
 * JSON with object keys sorted and undefined fields left out, so equal values give equal text. An
 * object whose keys come in order already (the specs and labels the syncer builds, and what kube-apiserver
 * returns: it writes keys sorted) is written as it is enumerated, without a sorted copy of its keys:
 * at every resync that copy and its sort were a tenth of all the operator allocated.
 */
export function canonicalJSON(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJSON(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const prototype: unknown = Object.getPrototypeOf(record);
  if (prototype === Object.prototype || prototype === null) {
    let out = '{';
    let previous: string | undefined;
    let inOrder = true;
    for (const key in record) {
      // Default sort order is by UTF-16 code units, as `<` compares. An inherited key (for-in sees those,
      // Object.keys does not) sends the object to the sorted path too, which leaves it out.
      if ((previous !== undefined && key < previous) || !Object.hasOwn(record, key)) {
        inOrder = false;
        break;
      }
      previous = key;
      out = withField(out, key, record[key]);
    }
    if (inOrder) return `${out}}`;
  }
  let out = '{';
  // Default sort order is by UTF-16 code units, stable across runs and processes.
  for (const key of Object.keys(record).sort()) out = withField(out, key, record[key]);
  return `${out}}`;
}

/** `out`, an object's JSON so far, with one more field; an undefined one is left out. */
function withField(out: string, key: string, field: unknown): string {
  return field === undefined ? out : `${out}${out.length > 1 ? ',' : ''}${quotedKey(key)}:${canonicalJSON(field)}`;
}

/** A desired object whose spec is kept: groups (one per department), and objects put back after a hand edit. */
export function desiredObject(
  kind: ManagedKind,
  name: string,
  spec: CasdoorUserSpec | CasdoorGroupSpec,
  labels: Record<string, string>,
  ownerReference: OwnerReference,
): DesiredObject {
  return {
    kind,
    name,
    labels,
    ownerReference,
    spec,
    fingerprint: fingerprint({ spec, labels, removed: false, ownerUid: ownerReference.uid }),
    isForbidden: (spec as { isForbidden?: boolean }).isForbidden === true,
  };
}

/** What every user of one sync shares. */
interface UserContext {
  labels: Record<string, string>;
  ownerReference: OwnerReference;
  mapping: MappingOptions;
}

/**
 * A member as a sync wants its CasdoorUser. The spec is built from the member
 * each time it is read, not kept: a sync keeps these only for the members it
 * writes, and the member records stay in memory until the plan is made anyway.
 */
class DesiredUser implements DesiredObject {
  readonly kind = CASDOOR_USER_KIND;
  readonly name: string;
  readonly fingerprint: string;
  readonly isForbidden: boolean;
  readonly #member: Member;
  readonly #context: UserContext;

  constructor(name: string, member: Member, context: UserContext) {
    this.name = name;
    this.#member = member;
    this.#context = context;
    const spec = this.spec;
    this.fingerprint = fingerprint({ spec, labels: context.labels, removed: false, ownerUid: context.ownerReference.uid });
    this.isForbidden = spec.isForbidden;
  }

  get spec(): CasdoorUserSpec {
    return toCasdoorUserSpec(this.#member, this.#context.mapping);
  }

  get labels(): Record<string, string> {
    return this.#context.labels;
  }

  get ownerReference(): OwnerReference {
    return this.#context.ownerReference;
  }
}

/** Maps a fetched organization to the objects a sync wants, every one of them at once. Pure. */
export function desiredState(syncer: WeComSyncer, organization: Organization): DesiredState {
  const { users, ...rest } = desiredUsers(syncer, organization);
  return { ...rest, users: new Map(Array.from(users, (user) => [user.name, user])), groups: desiredGroups(syncer, organization.departments) };
}

/**
 * The CasdoorGroups a sync wants: they depend on the departments alone, so a
 * sync can write them while it still fetches the members. Empty when groups are off. Pure.
 */
export function desiredGroups(syncer: WeComSyncer, departments: readonly Department[]): Map<string, DesiredObject> {
  const groups = new Map<string, DesiredObject>();
  if (!syncer.spec.syncGroups) return groups;
  const labels = managedLabels(syncer);
  const owner = ownerReferenceTo(syncer);
  const visible = new Set(departments.map((department) => department.id));
  for (const department of departments) {
    const name = casdoorGroupName(syncer.metadata.name, department.id);
    const spec = toCasdoorGroupSpec(department, syncer.spec.organization, visible);
    groups.set(name, desiredObject(CASDOOR_GROUP_KIND, name, spec, labels, owner));
  }
  return groups;
}

/**
 * A member whose CasdoorUser was found stored as the sync wants it once its record was final: the
 * record is let go, and the sync wants the very version it found. Should the object change before the
 * plan, that version is what is put back. It holds no string or list of its own: its userid is the
 * stored spec's (equal, since the digests matched) and its departments a list shared by every judged
 * member of the same departments, so that it costs some 70 bytes where the record held 420.
 */
export class JudgedMember implements Member {
  readonly userid: string;
  /** Its record's departments (shared, frozen), until the merge adds those of a later record (a new array then). */
  departments: number[];
  /** The stored version that matched. */
  readonly stored: StoredObject;
  /** The departments it was judged with. */
  readonly judgedDepartments: readonly number[];

  constructor(member: Member, stored: StoredObject, departments: readonly number[] = member.departments) {
    const id = stored.spec['id'];
    this.userid = id === member.userid ? id : member.userid;
    this.departments = departments as number[];
    this.judgedDepartments = departments;
    this.stored = stored;
  }
}

function userContext(syncer: WeComSyncer, departments: readonly Department[]): UserContext {
  return {
    labels: managedLabels(syncer),
    ownerReference: ownerReferenceTo(syncer),
    mapping: {
      organization: syncer.spec.organization,
      syncGroups: syncer.spec.syncGroups,
      visibleDepartments: new Set(departments.map((department) => department.id)),
    },
  };
}

/**
 * Makes the CasdoorUser a sync wants of one member, for a fetch that listed `departments`. Pure.
 * Throws when no object name can be derived from the member's userid.
 */
export function desiredUserMaker(syncer: WeComSyncer, departments: readonly Department[]): (member: Member) => DesiredObject {
  const context = userContext(syncer, departments);
  return (member) => {
    if (!(member instanceof JudgedMember)) return new DesiredUser(casdoorUserName(syncer.metadata.name, member.userid), member, context);
    const { stored } = member;
    const { labels, ownerReference, mapping } = context;
    // Its fingerprint matched the one desired, which covers the labels and the owner: those are the sync's.
    if (member.departments === member.judgedDepartments) {
      return { kind: CASDOOR_USER_KIND, name: stored.metadata.name, labels, ownerReference, spec: stored.spec as unknown as CasdoorUserSpec, fingerprint: stored.fingerprint, isForbidden: stored.isForbidden };
    }
    // A later record named more departments: of the spec, only the groups depend on them.
    const spec = { ...(stored.spec as unknown as CasdoorUserSpec), ...(mapping.syncGroups && { groups: casdoorGroupsOf(member.departments, mapping) }) };
    return desiredObject(CASDOOR_USER_KIND, stored.metadata.name, spec, labels, ownerReference);
  };
}

/**
 * Judges a member whose record is final (`fetchOrganization`'s `settle`) against the stored objects of
 * its syncer: one stored as the sync wants it becomes a {@link JudgedMember}; any other is kept whole.
 */
export function memberJudge(syncer: WeComSyncer, departments: readonly Department[], stored: (name: string) => StoredObject | undefined): (member: Member) => Member {
  const context = userContext(syncer, departments);
  // One frozen list per distinct list of departments: a department's 20 to 1,000 members share one.
  const lists = new Map<string, readonly number[]>();
  const shared = (ids: readonly number[]): readonly number[] => {
    const key = ids.join(',');
    let list = lists.get(key);
    if (!list) lists.set(key, (list = Object.freeze(ids.slice())));
    return list;
  };
  return (member) => {
    let name: string;
    try {
      name = casdoorUserName(syncer.metadata.name, member.userid);
    } catch {
      return member;
    }
    // The name first: a member not stored yet (all of them, in a first sync) costs no spec here.
    const found = stored(name);
    return found !== undefined && found.fingerprint === new DesiredUser(name, member, context).fingerprint ? new JudgedMember(member, found, shared(member.departments)) : member;
  };
}

/**
 * The CasdoorUsers a sync wants, one per member, made as they are read: a sync that finds most of them
 * unchanged holds a few at a time, not 100,000. Also which stored users no sync may remove. Pure.
 */
export function desiredUsers(syncer: WeComSyncer, organization: Organization): Omit<DesiredState, 'groups' | 'users'> & { users: Iterable<DesiredObject> } {
  const make = desiredUserMaker(syncer, organization.departments);
  const users = {
    *[Symbol.iterator](): Iterator<DesiredObject> {
      for (const member of organization.members) yield make(member);
    },
  };
  const protectedUsers = new Set<string>();
  // Malformed records and members only the contacts secret sees still exist in WeCom.
  const stillInWeCom = [...organization.rejected.map((r) => r.userid), ...(organization.hiddenUserIds ?? [])];
  for (const userid of stillInWeCom) {
    if (userid === undefined) continue;
    try {
      protectedUsers.add(casdoorUserName(syncer.metadata.name, userid));
    } catch {
      // A userid no name can be derived from has no object to protect.
    }
  }
  const unidentifiedRejects = organization.rejected.filter((r) => r.userid === undefined).length;
  return { users, protectedUsers, unidentifiedRejects };
}
