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
 * One member per userid. WeCom's userids are unique ignoring case, so records whose
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
      } else {
        const added = member.departments.filter((id) => !known.departments.includes(id));
        // A new array of the exact length: push would leave room for 16 more ids in each merged member.
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
  const exact = new Set(members.map((m) => m.userid));
  // A record rejected in one listing but valid in another is the valid member, not a rejection.
  return { members, rejected: rejected.filter((r) => r.userid === undefined || !exact.has(r.userid)) };
}
