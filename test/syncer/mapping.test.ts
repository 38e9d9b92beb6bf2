import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  casdoorGroupName, casdoorUserName, casdoorUsername, isForbidden, toCasdoorGroupSpec, toCasdoorUserSpec, type MappingOptions,
} from '../../src/syncer/mapping.ts';
import { casdoorPhone } from '../../src/syncer/phone.ts';
import type { Department, Member } from '../../src/wecom/types.ts';
import { createHash } from 'node:crypto';

const test = suite('mapping');
const base: Member = { userid: 'ZhangSan', departments: [2, 3] };
const off: MappingOptions = { organization: 'acme', syncGroups: false };
const map = (member: Partial<Member>, options: MappingOptions = off) => toCasdoorUserSpec({ ...base, ...member }, options);

test('userid becomes name, id and the WeCom binding, in exact case', () => {
  const spec = map({});
  assert.is(spec.name, 'ZhangSan');
  assert.is(spec.id, 'ZhangSan');
  assert.is(spec.wecom, 'ZhangSan');
  assert.is(spec.owner, 'acme');
});

test('a userid Casdoor accepts as a user name is the name; others are derived, with a hash of the userid', () => {
  const hash = (userid: string): string => createHash('sha256').update(userid).digest('hex').slice(0, 8);
  for (const valid of ['ZhangSan', 'zhou.ba', 'li-si', 'a_b', '007', 'x'.repeat(64)]) assert.is(casdoorUsername(valid), valid);
  assert.is(casdoorUsername('zhao@acme'), `zhao-acme-${hash('zhao@acme')}`);
  assert.is(casdoorUsername('li__si'), `li-si-${hash('li__si')}`);
  assert.is(casdoorUsername('_x'), `x-${hash('_x')}`);
  assert.is(casdoorUsername('a b'), `a-b-${hash('a b')}`);
  assert.is(casdoorUsername('张三'), `u-${hash('张三')}`);
  assert.is(casdoorUsername('zhao@acme.'), `zhao-acme-${hash('zhao@acme.')}`);
  assert.is.not(casdoorUsername('li__si'), casdoorUsername('li_-si'), 'two userids differing in refused characters get two names');
  const rule = /^[a-zA-Z0-9]+([-._][a-zA-Z0-9]+)*$/;
  for (const userid of ['zhao@acme', 'li__si', '_x', '张三', '-', '..', 'a/b', 'ends-']) assert.match(casdoorUsername(userid), rule);
  const spec = map({ userid: 'zhao@acme' });
  assert.equal([spec.id, spec.wecom], ['zhao@acme', 'zhao@acme'], 'id and wecom keep the exact userid');
});

test('name becomes displayName', () => assert.is(map({ name: '张三' }).displayName, '张三'));
test('email becomes email', () => assert.is(map({ email: 'z@acme.example' }).email, 'z@acme.example'));
test('mobile becomes phone and countryCode, as Casdoor stores them', () => {
  const spec = map({ mobile: '13800000000' });
  assert.is(spec.phone, '13800000000');
  assert.is(spec.countryCode, 'CN');
});

test('a +CC prefix is split into national digits and the region; spaces and dashes go', () => {
  assert.equal(casdoorPhone('+86 13800000009'), { phone: '13800000009', countryCode: 'CN' });
  assert.equal(casdoorPhone('+852 61234567'), { phone: '61234567', countryCode: 'HK' });
  assert.equal(casdoorPhone('138-0000-0009'), { phone: '13800000009', countryCode: 'CN' });
  assert.equal(casdoorPhone('+1 416-555-0100'), { phone: '4165550100', countryCode: 'CA' });
  assert.equal(casdoorPhone('+1 212 555 0100'), { phone: '2125550100', countryCode: 'US' });
  assert.equal(casdoorPhone('+44 20 7946 0958'), { phone: '2079460958', countryCode: 'GB' }, 'the trunk 0 is not a national digit');
});

test('a number not valid for its region is passed on as is, for Casdoor to refuse and the CasdoorServer to report', () => {
  assert.equal(casdoorPhone('12345'), { phone: '12345' });
  assert.equal(casdoorPhone('+86 123 45'), { phone: '+8612345' });
  assert.equal(casdoorPhone('call me'), { phone: 'callme' });
});
test('avatar becomes avatar', () => assert.is(map({ avatar: 'https://a/b' }).avatar, 'https://a/b'));
test('position becomes title', () => assert.is(map({ position: 'Engineer' }).title, 'Engineer'));

test('gender "1" is Male, "2" Female, anything else omitted', () => {
  assert.is(map({ gender: '1' }).gender, 'Male');
  assert.is(map({ gender: '2' }).gender, 'Female');
  for (const gender of ['0', '', '3', undefined]) assert.not.ok('gender' in map({ gender }), String(gender));
});

test('status 2, 4 and 5 forbid; 1 and a missing status do not', () => {
  for (const status of [2, 4, 5]) assert.ok(map({ status }).isForbidden, String(status));
  for (const status of [1, undefined]) assert.not.ok(map({ status }).isForbidden, String(status));
});

test('enable 0 forbids; a missing enable means enabled', () => {
  assert.ok(map({ status: 1, enable: 0 }).isForbidden);
  assert.not.ok(map({ status: 1, enable: 1 }).isForbidden);
  assert.not.ok(map({ status: 1 }).isForbidden);
  assert.ok(isForbidden({ status: 5, enable: 1 }));
});

test('fields WeCom did not return are omitted, never empty strings', () => {
  const spec = map({});
  assert.equal(Object.keys(spec).sort(), ['id', 'isForbidden', 'name', 'owner', 'wecom']);
  assert.ok(Object.values(spec).every((v) => v !== ''));
});

test('groups are the departments in WeCom order, only with groups on', () => {
  assert.not.ok('groups' in map({}));
  assert.equal(map({ departments: [3, 2] }, { organization: 'acme', syncGroups: true }).groups, ['acme/3', 'acme/2']);
});

test('groups leave out departments the app does not see', () => {
  const spec = map({ departments: [9, 2] }, { ...off, syncGroups: true, visibleDepartments: new Set([2]) });
  assert.equal(spec.groups, ['acme/2']);
});

const dept = (d: Partial<Department>): Department => ({ id: 2, parentId: 1, name: '研发中心', leaders: [], ...d });

test('a department becomes a group named by its id with its parent', () => {
  assert.equal(toCasdoorGroupSpec(dept({ leaders: ['ZhangSan', 'LiSi'] }), 'acme', new Set([1, 2])), {
    owner: 'acme', name: '2', displayName: '研发中心', parentId: '1', isTopGroup: false, type: 'Physical', manager: 'ZhangSan',
  });
});

test('the root and departments with an invisible parent are top groups under the organization', () => {
  const root = toCasdoorGroupSpec(dept({ id: 1, parentId: 0 }), 'acme', new Set([1]));
  assert.is(root.isTopGroup, true);
  assert.is(root.parentId, 'acme');
  const orphan = toCasdoorGroupSpec(dept({ id: 5, parentId: 4 }), 'acme', new Set([5]));
  assert.is(orphan.isTopGroup, true);
  assert.is(orphan.parentId, 'acme');
  assert.not.ok('manager' in orphan);
});

test('a department without a name (simplelist) is displayed by its id', () => {
  const { name: _omit, ...nameless } = dept({});
  assert.is(toCasdoorGroupSpec(nameless, 'acme', new Set([1])).displayName, '2');
});

test('group object names are <syncer>.dept-<id>', () => assert.is(casdoorGroupName('acme', 2), 'acme.dept-2'));

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

test('a valid userid gives a readable name, case-folded', () => {
  assert.is(casdoorUserName('acme', 'zhangsan'), 'acme.zhangsan');
  assert.is(casdoorUserName('acme', 'ZhangSan'), 'acme.zhangsan');
  assert.is(casdoorUserName('acme', 'li-lei-2'), 'acme.li-lei-2');
});

test('userids a name cannot hold get a sanitised name with a hash', () => {
  const name = casdoorUserName('acme', 'zhang_san@corp.example');
  assert.match(name, /^acme\.zhang-san-corp-example-[0-9a-f]{10}$/);
  assert.match(casdoorUserName('acme', '_-_'), /^acme\.u-[0-9a-f]{10}$/);
});

test('names are deterministic, valid and unique', () => {
  const userids = ['a_b', 'a-b', 'a.b', 'a@b', 'A_B', 'ab', '-ab', 'ab-', '_', '.', '@', 'x'.repeat(64), 'X.'.repeat(32),
    `a-${'0'.repeat(10)}`, 'zhangsan', 'zhang.san', 'zhang_san', '0', '9-9'];
  const names = new Map<string, string>();
  for (const userid of userids) {
    const name = casdoorUserName('acme', userid);
    assert.is(casdoorUserName('acme', userid), name, 'deterministic');
    assert.ok(DNS_SUBDOMAIN.test(name) && name.length <= 253, `valid: ${name}`);
    const folded = userid.toLowerCase();
    const other = names.get(name);
    assert.ok(other === undefined || other === folded, `${userid} and ${other} share ${name}`);
    names.set(name, folded);
  }
});

test('a readable name cannot pass for a hashed one', () => {
  const hashed = casdoorUserName('acme', 'a_b');
  const forged = hashed.slice('acme.'.length);
  assert.is.not(casdoorUserName('acme', forged), hashed);
});

test('syncer names with dots do not collide with userids with dots', () => {
  assert.is.not(casdoorUserName('acme.x', 'y'), casdoorUserName('acme', 'x.y'));
});

test('long syncer names still give names of at most 253 characters', () => {
  const syncer = 's'.repeat(230);
  const name = casdoorUserName(syncer, 'averyveryverylonguseridthatdoesnotfit');
  assert.ok(name.length <= 253 && DNS_SUBDOMAIN.test(name), name);
  assert.throws(() => casdoorUserName('s'.repeat(245), 'x_y'), /too long/);
});

test.run();
