/** A WeCom department, validated. Fields WeCom did not return are absent. */
export interface Department {
  id: number;
  /** 0 for the root. */
  parentId: number;
  /** Absent when the list came from department/simplelist. */
  name?: string;
  order?: number;
  /** Userids of the department's leaders, in WeCom's order. */
  leaders: string[];
}

/** A WeCom member, validated. Optional fields are absent when WeCom did not return them or returned "". */
export interface Member {
  userid: string;
  name?: string;
  /** Department ids in WeCom's order; after a fetch, merged across every listing of the member. */
  departments: number[];
  position?: string;
  mobile?: string;
  /** WeCom's string: "0" unknown, "1" male, "2" female. */
  gender?: string;
  email?: string;
  avatar?: string;
  /** 1 activated, 2 disabled, 4 not activated, 5 quit. */
  status?: number;
  /** 1 or 0; absent in today's responses, which means enabled. */
  enable?: number;
}

/** A member record that failed validation, and why. */
export interface RejectedMember {
  /** The userid, when the record carried a usable one. */
  userid?: string;
  /** The department whose listing held the record. */
  departmentId?: number;
  reason: string;
}

/** One row of user/list_id: a member-department pair. */
export interface DepartmentUser {
  userid: string;
  departmentId: number;
}

const USERID = /^[A-Za-z0-9_\-@.]{1,64}$/;
const MAX_FIELD_CHARS = 4096;
const MEMBER_STRING_FIELDS = ['name', 'position', 'mobile', 'email', 'avatar'] as const;

/** Whether the value is a WeCom userid: 1 to 64 letters, digits, `_ - @ .`. */
export function isUserid(value: unknown): value is string {
  return typeof value === 'string' && USERID.test(value);
}

/** A non-negative safe integer, or undefined. */
function asId(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validation outcome of one record. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Validates one entry of department/list or department/simplelist. */
export function parseDepartment(raw: unknown): Parsed<Department> {
  if (!isRecord(raw)) return { ok: false, reason: 'department entry is not an object' };
  const id = asId(raw['id']);
  if (id === undefined || id === 0) return { ok: false, reason: 'department id is not a positive integer' };
  const parentId = asId(raw['parentid']);
  if (parentId === undefined) return { ok: false, reason: `department ${id}: parentid is not an integer` };
  const department: Department = { id, parentId, leaders: [] };
  const name = raw['name'];
  if (typeof name === 'string' && name !== '') department.name = name.slice(0, MAX_FIELD_CHARS);
  else if (name !== undefined && name !== null && typeof name !== 'string') {
    return { ok: false, reason: `department ${id}: name is not a string` };
  }
  const order = raw['order'];
  if (typeof order === 'number' && Number.isFinite(order)) department.order = order;
  const leaders = raw['department_leader'];
  if (Array.isArray(leaders)) department.leaders = leaders.filter(isUserid);
  return { ok: true, value: department };
}

/**
 * Validates one member record. `listedIn` is the department whose listing held it:
 * used when the record has no department list of its own.
 */
export function parseMember(raw: unknown, listedIn?: number): Parsed<Member> {
  if (!isRecord(raw)) return { ok: false, reason: 'member record is not an object' };
  const userid = raw['userid'];
  if (!isUserid(userid)) return { ok: false, reason: 'userid is missing or not 1-64 letters, digits, _ - @ .' };
  const member: Member = { userid, departments: [] };
  for (const field of MEMBER_STRING_FIELDS) {
    const value = raw[field];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') return { ok: false, reason: `${field} is not a string` };
    if (value.length > MAX_FIELD_CHARS) return { ok: false, reason: `${field} is longer than ${MAX_FIELD_CHARS} characters` };
    member[field] = value;
  }
  const gender = raw['gender'];
  // The docs say string; old responses and some proxies send a number.
  if (typeof gender === 'string' && gender !== '') member.gender = gender.slice(0, 8);
  else if (typeof gender === 'number' && Number.isInteger(gender)) member.gender = String(gender);
  else if (gender !== undefined && gender !== null && gender !== '') return { ok: false, reason: 'gender is neither a string nor a number' };
  for (const field of ['status', 'enable'] as const) {
    const value = raw[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value)) return { ok: false, reason: `${field} is not an integer` };
    member[field] = value;
  }
  const departments = raw['department'];
  if (departments !== undefined && departments !== null) {
    if (!Array.isArray(departments)) return { ok: false, reason: 'department is not a list' };
    for (const id of departments) {
      const valid = asId(id);
      if (valid === undefined || valid === 0) return { ok: false, reason: 'department lists an id that is not a positive integer' };
      if (!member.departments.includes(valid)) member.departments.push(valid);
    }
  }
  if (listedIn !== undefined && !member.departments.includes(listedIn)) member.departments.push(listedIn);
  // Copied once built: an object grown field by field, and an array grown by push, keep spare room,
  // which a sync of 100,000 members holds until it ends (about 12 MB).
  return { ok: true, value: { ...member, departments: member.departments.slice() } };
}

/** The userid of a raw record, when it has a usable one: lets a rejection name the member. */
export function useridOf(raw: unknown): string | undefined {
  return isRecord(raw) && isUserid(raw['userid']) ? raw['userid'] : undefined;
}
