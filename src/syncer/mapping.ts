import { createHash } from 'node:crypto';
import type { CasdoorGroupSpec } from '../api/casdoor-group.ts';
import type { CasdoorUserSpec } from '../api/casdoor-user.ts';
import type { Department, Member } from '../wecom/types.ts';
import { casdoorPhone } from './phone.ts';

/** What the mapping needs beyond the member. */
export interface MappingOptions {
  /** The Casdoor organization. */
  organization: string;
  /** Whether departments become groups (`spec.groups`). */
  syncGroups: boolean;
  /** Departments that become groups; others are left out of `spec.groups`. Absent = all. */
  visibleDepartments?: ReadonlySet<number>;
}

/** WeCom statuses that forbid sign-in: 2 disabled, 4 not activated, 5 quit. */
const FORBIDDING_STATUSES: ReadonlySet<number> = new Set([2, 4, 5]);

/**
 * The CasdoorUser spec of a WeCom member. Pure. Fields WeCom did not return are
 * omitted, never empty strings; a missing `enable` means enabled. Its keys are
 * in sorted order, as its fingerprint reads them (desired.ts, `canonicalJSON`).
 */
export function toCasdoorUserSpec(member: Member, options: MappingOptions): CasdoorUserSpec {
  const phone = member.mobile ? casdoorPhone(member.mobile) : undefined;
  const gender = GENDERS[member.gender ?? ''];
  const spec: Partial<CasdoorUserSpec> = {};
  if (member.avatar) spec.avatar = member.avatar;
  if (phone?.countryCode) spec.countryCode = phone.countryCode;
  if (member.name) spec.displayName = member.name;
  if (member.email) spec.email = member.email;
  if (gender) spec.gender = gender;
  if (options.syncGroups) spec.groups = casdoorGroupsOf(member.departments, options);
  spec.id = member.userid;
  spec.isForbidden = isForbidden(member);
  spec.name = casdoorUsername(member.userid);
  spec.owner = options.organization;
  if (phone) spec.phone = phone.phone;
  if (member.position) spec.title = member.position;
  spec.wecom = member.userid;
  return spec as CasdoorUserSpec;
}

/** The Casdoor groups of a member of these departments: those the fetch listed. */
export function casdoorGroupsOf(departments: readonly number[], options: MappingOptions): string[] {
  const visible = options.visibleDepartments;
  return departments.filter((id) => !visible || visible.has(id)).map((id) => `${options.organization}/${id}`);
}

const GENDERS: Readonly<Record<string, 'Male' | 'Female'>> = { '1': 'Male', '2': 'Female' };

/** Casdoor's user-name rule: its API refuses any other name on add and rename. */
const CASDOOR_USERNAME = /^[a-zA-Z0-9]+([-._][a-zA-Z0-9]+)*$/;

/**
 * The Casdoor user name of a WeCom userid: the userid itself when Casdoor
 * accepts it, else derived: each run of characters other than letters and
 * digits made '-', '-' trimmed from both ends, then '-' and 8 hex digits of
 * the userid's SHA-256 (`zhao@acme` -> `zhao-acme-1a2b3c4d`; nothing usable
 * -> `u-1a2b3c4d`), so two userids that differ only in refused characters
 * still get two names. (A valid userid spelled exactly like another's derived
 * name would meet it: Casdoor refuses the second, and the CasdoorServer says
 * so.) `spec.id` and `spec.wecom` keep the exact userid: Casdoor's WeCom
 * sign-in matches on `wecom`.
 */
export function casdoorUsername(userid: string): string {
  if (CASDOOR_USERNAME.test(userid)) return userid;
  const hash = createHash('sha256').update(userid).digest('hex').slice(0, 8);
  const readable = userid.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return `${readable === '' ? 'u' : readable}-${hash}`;
}

/** Whether the member may not sign in: status 2, 4 or 5, or `enable` 0. */
export function isForbidden(member: Pick<Member, 'status' | 'enable'>): boolean {
  return (member.status !== undefined && FORBIDDING_STATUSES.has(member.status)) || member.enable === 0;
}

/**
 * The CasdoorGroup spec of a WeCom department. `visible` holds the ids of every
 * department the app sees: a department whose parent is not among them is a top group.
 */
export function toCasdoorGroupSpec(department: Department, organization: string, visible: ReadonlySet<number>): CasdoorGroupSpec {
  const isTopGroup = department.parentId === 0 || !visible.has(department.parentId);
  const manager = department.leaders[0];
  // Keys in sorted order, as for a user.
  return {
    displayName: department.name ?? String(department.id),
    isTopGroup,
    ...(manager && { manager }),
    name: String(department.id),
    owner: organization,
    parentId: isTopGroup ? organization : String(department.parentId),
    type: 'Physical',
  };
}

const DNS_SUBDOMAIN_MAX = 253;
const HASH_CHARS = 10;
/** A readable userid part: lowercase letters, digits and '-', starting and ending alphanumeric, no '.'. */
const READABLE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** The tail a hashed name ends with; a readable name may not look like it. */
const HASH_TAIL = new RegExp(`-[0-9a-f]{${HASH_CHARS}}$`);

/**
 * The CasdoorUser object name for a member: `<syncer>.<userid>`, deterministic and a
 * valid DNS subdomain. How it stays unique per (syncer, userid):
 * - The userid is case-folded first. WeCom compares userids ignoring case, so `ZhangSan`
 *   becomes `acme.zhangsan`; two records differing only in case are rejected by the fetch.
 * - The readable form is used only when the folded userid is lowercase letters, digits and
 *   '-' with no '.', and does not end like a hash: then the text after the last '.' is the
 *   userid and the text before it the syncer, so no two (syncer, userid) pairs meet.
 * - Otherwise (`_`, `@`, `.`, or too long): the userid with those characters made '-',
 *   then '-' and 10 hex digits of SHA-256 of the folded userid.
 * Throws when the syncer name leaves no room (longer than 241 characters).
 */
export function casdoorUserName(syncerName: string, userid: string): string {
  const folded = userid.toLowerCase();
  const room = DNS_SUBDOMAIN_MAX - syncerName.length - 1;
  if (READABLE.test(folded) && !HASH_TAIL.test(folded) && folded.length <= room) return `${syncerName}.${folded}`;
  const hash = createHash('sha256').update(folded).digest('hex').slice(0, HASH_CHARS);
  if (room < HASH_CHARS + 1) throw new Error(`syncer name ${syncerName.slice(0, 40)}… is too long to derive user object names from`);
  const readable = folded
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, room - HASH_CHARS - 1)
    .replace(/^-+|-+$/g, '');
  // 'u-<hash>' when nothing readable is left: it ends like a hash, so no readable name equals it.
  return `${syncerName}.${readable === '' ? 'u' : readable}-${hash}`;
}

/** The CasdoorGroup object name for a department: `<syncer>.dept-<id>`. */
export function casdoorGroupName(syncerName: string, departmentId: number): string {
  return `${syncerName}.dept-${departmentId}`;
}
