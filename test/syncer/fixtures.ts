// A small organization for the operator's end-to-end tests: a nested tree, a
// member in three departments, disabled and quit members, an empty department.
import type { SimDepartment, SimMember, SimOrg } from '../support/simulator/org.ts';

export function department(id: number, parentid: number, name: string, leaders: string[] = []): SimDepartment {
  return { id, name, parentid, order: 1000 - id, department_leader: leaders };
}

export function member(userid: string, department: number[], extra: Record<string, unknown> = {}): SimMember {
  return { userid, name: `name-${userid}`, department, status: 1, position: 'Engineer', ...extra };
}

/** 4 deep: 1 > 2 > 3 > 4, plus 5 (empty) under 1. */
export function smallOrg(): SimOrg {
  return {
    departments: [
      department(1, 0, 'Acme'),
      department(2, 1, '研发中心', ['ZhangSan']),
      department(3, 2, 'Platform'),
      department(4, 3, 'Infra'),
      department(5, 1, 'Empty'),
    ],
    members: [
      member('ZhangSan', [2, 3, 4], { name: '张三', email: 'zhangsan@acme.example', mobile: '13800000000', gender: '1', avatar: 'https://a.example/z.png' }),
      member('lisi', [2], { gender: '2' }),
      member('wangwu', [3], { status: 2 }),
      member('zhaoliu', [4], { status: 5 }),
      member('sunqi', [1]),
      member('zhou.ba', [1]),
      member('wujiu', [2]),
      member('zhengshi', [3]),
      member('feng11', [4]),
      member('chen12', [1]),
    ],
  };
}
