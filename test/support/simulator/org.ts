import { createPrng } from './prng.ts';

/** A department as WeCom's department/list returns it. */
export interface SimDepartment {
  id: number;
  name: string;
  name_en?: string;
  parentid: number;
  order: number;
  department_leader: string[];
}

/**
 * A member as WeCom's user/list returns it. Only `userid` and `department` are required
 * (they place the member); every other field is passed through as is, whatever its type.
 */
export interface SimMember {
  userid: string;
  department: number[];
  [field: string]: unknown;
}

/** The simulated corp's contacts. */
export interface SimOrg {
  departments: SimDepartment[];
  members: SimMember[];
  /** Department ids the app secret may see (with their subtrees); absent = everything. */
  appScope?: number[];
}

/** What a generated organization looks like. */
export interface GenerateOptions {
  members: number;
  departments: number;
  /** Deepest nesting, the root being depth 1. Default 3. */
  depth?: number;
  /** Share of members in two or three departments. Default 0.1. */
  multiDepartmentShare?: number;
  /** Shares of members per non-active status. Defaults 0.03 each. */
  statusMix?: { disabled?: number; notActivated?: number; quit?: number };
  /** Include the old `enable` field (1 or 0). Default false, as in today's API. */
  withEnable?: boolean;
  /** Same seed, same organization. Default 1. */
  seed?: number;
}

const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗'];
const GIVEN = [...'伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰'];
const UNITS = ['研发', '产品', '销售', '市场', '财务', '人事', '运营', '客服', '法务', '采购'];
const POSITIONS = ['工程师', '高级工程师', '经理', '总监', '专员', '助理', 'Engineer', 'Designer'];

/** A repeatable organization: a department tree and members spread over it. */
export function generateOrg(options: GenerateOptions): SimOrg {
  const prng = createPrng(options.seed ?? 1);
  const maxDepth = Math.max(1, options.depth ?? 3);
  const departments: SimDepartment[] = [
    { id: 1, name: '模拟科技有限公司', name_en: 'Sim Corp', parentid: 0, order: 100000000, department_leader: [] },
  ];
  const depthOf = new Map<number, number>([[1, 1]]);
  const parents = [1];
  for (let id = 2; id <= Math.max(1, options.departments); id++) {
    const parentid = prng.pick(parents);
    const depth = (depthOf.get(parentid) ?? 1) + 1;
    depthOf.set(id, depth);
    if (depth < maxDepth) parents.push(id);
    departments.push({
      id, parentid, order: 100000000 - id,
      name: `${prng.pick(UNITS)}${id}部`, name_en: `Unit ${id}`, department_leader: [],
    });
  }
  const mix = options.statusMix ?? {};
  const disabled = mix.disabled ?? 0.03;
  const notActivated = mix.notActivated ?? 0.03;
  const quit = mix.quit ?? 0.03;
  const share = options.multiDepartmentShare ?? 0.1;
  const members: SimMember[] = [];
  for (let i = 1; i <= options.members; i++) {
    const number = String(i).padStart(6, '0');
    // Some mixed-case userids: WeCom keeps the case and compares ignoring it.
    const userid = i % 17 === 0 ? `User${number}` : `user${number}`;
    const main = prng.pick(departments).id;
    const department = [main];
    if (prng.next() < share) {
      for (let extra = 1 + prng.int(2); extra > 0; extra--) {
        const other = prng.pick(departments).id;
        if (!department.includes(other)) department.push(other);
      }
    }
    const roll = prng.next();
    const status = roll < disabled ? 2 : roll < disabled + notActivated ? 4 : roll < disabled + notActivated + quit ? 5 : 1;
    const member: SimMember = {
      userid,
      name: `${prng.pick(SURNAMES)}${prng.pick(GIVEN)}${prng.next() < 0.5 ? prng.pick(GIVEN) : ''}`,
      department,
      order: department.map(() => 0),
      position: prng.pick(POSITIONS),
      mobile: `138${String(i).padStart(8, '0')}`,
      gender: prng.pick(['1', '2']),
      email: `${userid.toLowerCase()}@sim.example`,
      is_leader_in_dept: department.map(() => 0),
      avatar: `https://wework.qpic.cn/wwpic/${number}/0`,
      thumb_avatar: `https://wework.qpic.cn/wwpic/${number}/100`,
      telephone: '',
      alias: '',
      status,
      main_department: main,
      qr_code: `https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=${number}`,
      address: '',
    };
    if (options.withEnable) member['enable'] = status === 2 ? 0 : 1;
    members.push(member);
    const home = departments.find((d) => d.id === main);
    if (home && home.department_leader.length === 0 && prng.next() < 0.5) home.department_leader.push(userid);
  }
  return { departments, members };
}

/**
 * Narrows parsed JSON to an organization, checking what the simulator relies on:
 * department ids, parents, and each member's userid and department list.
 */
export function parseOrg(raw: unknown): SimOrg {
  if (!isRecord(raw)) throw new Error('org: not an object');
  const { departments, members, appScope } = raw;
  if (!Array.isArray(departments) || !Array.isArray(members)) throw new Error('org: departments and members must be lists');
  const org: SimOrg = { departments: departments.map(parseDepartment), members: members.map(parseMember) };
  if (appScope !== undefined) {
    if (!isIdList(appScope)) throw new Error('org: appScope must be a list of department ids');
    org.appScope = appScope;
  }
  return org;
}

function parseDepartment(raw: unknown, index: number): SimDepartment {
  if (!isRecord(raw) || typeof raw['id'] !== 'number' || typeof raw['parentid'] !== 'number' || typeof raw['name'] !== 'string') {
    throw new Error(`org: departments[${index}] needs a numeric id and parentid and a name`);
  }
  const leaders = raw['department_leader'] ?? [];
  const department: SimDepartment = {
    id: raw['id'], parentid: raw['parentid'], name: raw['name'],
    order: typeof raw['order'] === 'number' ? raw['order'] : 0,
    department_leader: Array.isArray(leaders) ? leaders.filter((l): l is string => typeof l === 'string') : [],
  };
  if (typeof raw['name_en'] === 'string') department.name_en = raw['name_en'];
  return department;
}

function parseMember(raw: unknown, index: number): SimMember {
  if (!isRecord(raw) || typeof raw['userid'] !== 'string' || !isIdList(raw['department'])) {
    throw new Error(`org: members[${index}] needs a userid and a department list`);
  }
  return { ...raw, userid: raw['userid'], department: raw['department'] };
}

/** Whether the value is a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIdList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isInteger(v));
}
