import type { DepartmentListing, MemberListing, WeComClient } from './client.ts';
import { WeComError, isWeComError } from './errors.ts';
import type { Department, Member, RejectedMember } from './types.ts';

/** Progress of a fetch, told after each department's members are in. */
export interface FetchProgress {
  departmentsDone: number;
  departmentsTotal: number;
}

/** Options of {@link fetchOrganization}. */
export interface FetchOptions {
  /** Departments listed at once. Default 8; WeCom answers 45033 when too many calls run at once. */
  concurrency?: number;
  /** The departments, when the caller has just listed them (the connection test does): not listed again. */
  departments?: DepartmentListing;
  /** A client with the Sync of Contacts secret: pages user/list_id to find members the app cannot see. */
  contacts?: WeComClient;
  onProgress?: (progress: FetchProgress) => void;
  /**
   * Told of each department's valid member records as they arrive, in no set order, before the fetch
   * is complete: what a caller does with them must not depend on the rest of the organization.
   */
  onMembers?: (members: readonly Member[]) => void;
  /**
   * Told of each member once its record is final: every department the record names that this fetch
   * lists has been listed (a member of one department, at once). What it returns takes the record's
   * place in the result: a caller may keep a smaller stand-in, with the record's userid and departments
   * (equal ones: the merge never changes a list of departments in place, so it may be shared and frozen).
   * Records of one member that name different departments are never settled together, and the merge
   * may still add departments to what was settled: it then sets a new `departments` array.
   */
  settle?: (member: Member) => Member;
  signal?: AbortSignal;
}

/** A complete snapshot of the organization as the app sees it. */
export interface Organization {
  departments: Department[];
  /** True when departments came from department/simplelist (no names or leaders). */
  simpleDepartments: boolean;
  /** One entry per userid, departments merged in WeCom's order. */
  members: Member[];
  /** Records that failed validation. Their userids, when known, must not count as removed. */
  rejected: RejectedMember[];
  /** With a contacts client: userids in the corp that the app secret cannot see. */
  hiddenUserIds?: string[];
}

/** The default number of departments listed at once. */
export const DEFAULT_FETCH_CONCURRENCY = 8;

/**
 * Fetches every department, then the members of each with bounded concurrency, and
 * merges members listed in several departments. The result is complete or this throws:
 * a department that still fails after retries fails the fetch, because a partial list
 * would make the caller remove real people.
 */
export async function fetchOrganization(client: WeComClient, options: FetchOptions = {}): Promise<Organization> {
  const { departments, simple } = options.departments ?? (await client.listDepartments(options.signal));
  const listings = await listAllMembers(client, departments, options);
  const { members, rejected } = mergeMembers(departments, listings);
  const organization: Organization = { departments, simpleDepartments: simple, members, rejected };
  if (options.contacts) {
    const seen = new Set([...members, ...rejected].map((m) => m.userid?.toLowerCase()));
    const all = await options.contacts.listUserIds(options.signal);
    organization.hiddenUserIds = [...new Set(all.map((row) => row.userid))].filter((id) => !seen.has(id.toLowerCase()));
  }
  return organization;
}

/** The userids a caller must never treat as removed: every rejected record that named one. */
export function rejectedUserIds(organization: Pick<Organization, 'rejected'>): Set<string> {
  const ids = new Set<string>();
  for (const r of organization.rejected) if (r.userid !== undefined) ids.add(r.userid);
  return ids;
}

async function listAllMembers(client: WeComClient, departments: Department[], options: FetchOptions): Promise<MemberListing[]> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_FETCH_CONCURRENCY));
  // Aborts the siblings of a failed department: the fetch fails anyway.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const listings: MemberListing[] = new Array(departments.length);
  const settlement = options.settle && new Settlement(departments, listings, options.settle);
  let next = 0;
  let done = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < departments.length) {
      const index = next++;
      const department = departments[index];
      if (!department) break;
      try {
        const listing = await client.listMembers(department.id, signal);
        listings[index] = listing;
        options.onMembers?.(listing.members);
        settlement?.arrived(index);
        options.onProgress?.({ departmentsDone: ++done, departmentsTotal: departments.length });
      } catch (error) {
        if (!failure) {
          failure = { error: departmentFailure(department.id, error) };
          stop.abort(new Error('another department failed'));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, departments.length) }, lane));
  options.signal?.throwIfAborted();
  if (failure) throw failure.error;
  return listings;
}

function departmentFailure(departmentId: number, error: unknown): unknown {
  if (!isWeComError(error)) return error;
  return new WeComError(error.reason, `listing the members of department ${departmentId} failed: ${error.message}`, {
    ...(error.errcode !== undefined && { errcode: error.errcode }),
    ...(error.httpStatus !== undefined && { httpStatus: error.httpStatus }),
    retryable: error.retryable,
    cause: error,
  });
}

/**
 * Settles each member once its record is final, so that a caller can let go of what it no longer needs
 * of it while the other departments are still listed (at 100,000 members the records are some 40 MB).
 * A member's records are final when every department they name has been listed: each listing holds a
 * record of it then, and no later one should (unless WeCom changed the member meanwhile, or a record
 * lacks its departments: the merge then adds the new ones to what was settled). Records of a member
 * are settled together only when they agree, from the first department's, as {@link mergeMembers}
 * merges them, whatever order the listings came in.
 */
class Settlement {
  readonly #indexOf: Map<number, number>;
  readonly #listings: MemberListing[];
  readonly #settle: (member: Member) => Member;
  /** Members of several departments not all listed yet, by case-folded userid: where each record is. */
  readonly #waiting = new Map<string, Array<{ listing: number; position: number }>>();

  constructor(departments: readonly Department[], listings: MemberListing[], settle: (member: Member) => Member) {
    this.#indexOf = new Map(departments.map((department, index) => [department.id, index]));
    this.#listings = listings;
    this.#settle = settle;
  }

  /** The listing at `index` has arrived. */
  arrived(index: number): void {
    const members = this.#listings[index]!.members;
    for (let position = 0; position < members.length; position++) {
      const member = members[position]!;
      const folded = member.userid.toLowerCase();
      const waiting = this.#waiting.get(folded);
      const listed = member.departments.every((id) => {
        const listing = this.#indexOf.get(id);
        return listing === undefined || this.#listings[listing] !== undefined;
      });
      if (!waiting && listed) {
        members[position] = this.#settle(member);
        continue;
      }
      const records = waiting ?? [];
      records.push({ listing: index, position });
      if (!waiting) this.#waiting.set(folded, records);
      if (listed) {
        this.#waiting.delete(folded);
        this.#settleAll(records);
      }
    }
  }

  /** Settles the records of one member as one, when they agree; else leaves them whole, to the merge. */
  #settleAll(records: Array<{ listing: number; position: number }>): void {
    const recordAt = ({ listing, position }: { listing: number; position: number }) => this.#listings[listing]!.members[position]!;
    const first = records.reduce((a, b) => (b.listing < a.listing ? b : a));
    const base = recordAt(first);
    if (!records.every((at) => recordAt(at).userid === base.userid && sameDepartments(recordAt(at), base))) return;
    const settled = this.#settle(base);
    for (const { listing, position } of records) this.#listings[listing]!.members[position] = settled;
  }
}

/** Whether two records of a member name the same departments, in whatever order. */
function sameDepartments(a: Member, b: Member): boolean {
  return a.departments.every((id) => b.departments.includes(id)) && b.departments.every((id) => a.departments.includes(id));
}

/**
 * One member per userid: the record of its first department's listing, with the departments of all its
 * records. WeCom's userids are unique ignoring case, so records whose
 * userids differ only in case are hostile or broken, and nothing tells which one is
 * real: all of them are rejected (their object, named from the case-folded userid,
 * is then neither rewritten nor removed), so no record can take over another's object.
 */
function mergeMembers(departments: Department[], listings: MemberListing[]): { members: Member[]; rejected: RejectedMember[] } {
  const byFolded = new Map<string, Member>();
  /** Per folded userid that clashes: each spelling and the department that listed it first. */
  const clashes = new Map<string, Map<string, number | undefined>>();
  const rejected: RejectedMember[] = [];
  listings.forEach((listing, index) => {
    rejected.push(...listing.rejected);
    for (const member of listing.members) {
      const folded = member.userid.toLowerCase();
      const known = byFolded.get(folded);
      if (!known) {
        // The listing's own record, not a copy: validation built it (and its departments) for this fetch alone.
        byFolded.set(folded, member);
      } else if (known.userid !== member.userid) {
        const spellings = clashes.get(folded) ?? new Map([[known.userid, known.departments[0]]]);
        if (!spellings.has(member.userid)) spellings.set(member.userid, departments[index]?.id);
        clashes.set(folded, spellings);
      } else if (known !== member) {
        const added = member.departments.filter((id) => !known.departments.includes(id));
        // A new array of the exact length: push would leave room for 16 more ids in each merged member.
        // (A settled stand-in tells by the new array that its departments grew.)
        if (added.length > 0) known.departments = known.departments.concat(added);
      }
    }
  });
  for (const [folded, spellings] of clashes) {
    byFolded.delete(folded);
    const reason = `userids ${[...spellings.keys()].join(', ')} differ only in case, which WeCom does not allow: none of them is synced`;
    for (const [userid, departmentId] of spellings) rejected.push({ userid, departmentId, reason });
  }
  const members = [...byFolded.values()];
  // No set of 100,000 userids when, as in most fetches, nothing was rejected.
  if (rejected.length === 0) return { members, rejected };
  const exact = new Set(members.map((m) => m.userid));
  // A record rejected in one listing but valid in another is the valid member, not a rejection.
  return { members, rejected: rejected.filter((r) => r.userid === undefined || !exact.has(r.userid)) };
}
