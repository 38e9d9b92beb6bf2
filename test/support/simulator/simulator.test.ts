import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { generateOrg } from './org.ts';
import type { Simulator } from './server.ts';
import { simulatorSuite } from './suite.ts';

const test = simulatorSuite('simulator', { generate: { members: 12, departments: 4, seed: 5 } });

async function call(sim: Simulator, path: string, init?: RequestInit): Promise<Record<string, unknown>> {
  const response = await fetch(`${sim.url}${path}`, init);
  return (await response.json()) as Record<string, unknown>;
}

async function token(sim: Simulator, secret = sim.corpSecret): Promise<string> {
  const body = await call(sim, `/cgi-bin/gettoken?corpid=${sim.corpId}&corpsecret=${secret}`);
  return String(body['access_token']);
}

test('generated organizations repeat with the same seed and differ with another', () => {
  const options = { members: 200, departments: 30, depth: 4, seed: 9 };
  assert.equal(generateOrg(options), generateOrg(options));
  assert.not.equal(generateOrg(options), generateOrg({ ...options, seed: 10 }));
});

test('generated organizations honour depth, sharing and the status mix', () => {
  const org = generateOrg({ members: 2000, departments: 100, depth: 3, multiDepartmentShare: 0.2, statusMix: { quit: 0.1 }, seed: 2 });
  const parent = new Map(org.departments.map((d) => [d.id, d.parentid]));
  const depth = (id: number): number => (id === 0 ? 0 : 1 + depth(parent.get(id) ?? 0));
  assert.ok(org.departments.every((d) => depth(d.id) <= 3));
  const shared = org.members.filter((m) => m.department.length > 1).length / 2000;
  assert.ok(shared > 0.12 && shared < 0.25, String(shared));
  const quit = org.members.filter((m) => m['status'] === 5).length / 2000;
  assert.ok(quit > 0.07 && quit < 0.13, String(quit));
});

test('errors are HTTP 200 with the hint suffix', async ({ sim }) => {
  const response = await fetch(`${sim.url}/cgi-bin/gettoken?corpid=${sim.corpId}&corpsecret=wrong`);
  assert.is(response.status, 200);
  const body = (await response.json()) as { errcode: number; errmsg: string };
  assert.is(body.errcode, 40001);
  assert.match(body.errmsg, /^invalid credential, hint: \[\d+_\d+\], from ip: 127\.0\.0\.1, more info at https:\/\/open\.work\.weixin\.qq\.com\/devtool\/query\?e=40001$/);
});

test('privacy mode strips sensitive fields', async ({ sim }) => {
  sim.setFaults({ privacyMode: true });
  const body = await call(sim, `/cgi-bin/user/list?access_token=${await token(sim)}&department_id=1`);
  const list = body['userlist'] as Record<string, unknown>[];
  assert.ok(list.length > 0);
  for (const member of list) {
    for (const field of ['avatar', 'mobile', 'email', 'qr_code', 'address']) assert.not.ok(field in member, field);
    assert.is(member['gender'], '0');
  }
});

test('by default the contacts secret may page user/list_id but gets 48009 on every detail API, as from any IP added since 2022', async ({ sim }) => {
  const t = await token(sim, sim.contactsSecret);
  const page = await call(sim, `/cgi-bin/user/list_id?access_token=${t}`, { method: 'POST', body: JSON.stringify({ cursor: '', limit: 5 }) });
  assert.is((page['dept_user'] as unknown[]).length, 5);
  assert.ok(typeof page['next_cursor'] === 'string' && page['next_cursor'] !== '');
  const userid = (sim.org.members[0] as { userid: string }).userid;
  for (const path of ['user/list?department_id=1', `user/get?userid=${userid}`, 'department/list', 'user/simplelist?department_id=1', 'department/get?id=1']) {
    const separator = path.includes('?') ? '&' : '?';
    assert.is((await call(sim, `/cgi-bin/${path}${separator}access_token=${t}`))['errcode'], 48009, path);
  }
  assert.is((await call(sim, `/cgi-bin/department/simplelist?access_token=${t}`))['errcode'], 0);
  // The app secret is not restricted.
  assert.is((await call(sim, `/cgi-bin/user/list?access_token=${await token(sim)}&department_id=1`))['errcode'], 0);
});

test('a contacts secret trusted before 2022 may still read details, when asked for', async ({ sim }) => {
  sim.setFaults({ contactsSecretTrustedBefore2022: true });
  const t = await token(sim, sim.contactsSecret);
  assert.is((await call(sim, `/cgi-bin/user/list?access_token=${t}&department_id=1`))['errcode'], 0);
  assert.is((await call(sim, `/cgi-bin/department/list?access_token=${t}`))['errcode'], 0);
  sim.resetFaults();
  assert.is((await call(sim, `/cgi-bin/department/list?access_token=${t}`))['errcode'], 48009, 'reset returns to the default');
});

test('a concurrency ceiling answers 45033 and counters record the peak', async ({ sim }) => {
  sim.setFaults({ maxConcurrent: 2, latencyMs: 30 });
  const t = await token(sim);
  const bodies = await Promise.all([1, 2, 3, 4].map((id) => call(sim, `/cgi-bin/user/list?access_token=${t}&department_id=${id}`)));
  assert.equal(bodies.map((b) => b['errcode']).sort(), [0, 0, 45033, 45033]);
  assert.ok(sim.counters.maxInFlight >= 3, 'the peak includes the refused calls');
  assert.is(sim.counters.calls['user/list'], 4);
});

test('a frequency-limit window answers 45009 until it ends', async ({ sim }) => {
  sim.setFaults({ frequencyLimitMs: 60_000 });
  assert.is((await call(sim, `/cgi-bin/gettoken?corpid=${sim.corpId}&corpsecret=${sim.corpSecret}`))['errcode'], 45009);
  sim.setFaults({ frequencyLimitedUntil: 0 });
  assert.is((await call(sim, `/cgi-bin/gettoken?corpid=${sim.corpId}&corpsecret=${sim.corpSecret}`))['errcode'], 0);
});

test('the admin endpoints change faults and the organization and show counters', async ({ sim }) => {
  const t = await token(sim);
  const post = (path: string, body: unknown) => call(sim, path, { method: 'POST', body: JSON.stringify(body) });
  await post('/__sim/faults', { untrustedIP: true });
  assert.is((await call(sim, `/cgi-bin/department/list?access_token=${t}`))['errcode'], 60020);
  await post('/__sim/faults/reset', {});
  await post('/__sim/org', { upsertMembers: [{ userid: 'NewHire', name: '新人', department: [1] }], removeUserIds: ['user000001'] });
  const listed = (await call(sim, `/cgi-bin/user/list?access_token=${t}&department_id=1`))['userlist'] as { userid: string }[];
  assert.ok(listed.some((m) => m.userid === 'NewHire'));
  assert.not.ok(sim.org.members.some((m) => m.userid === 'user000001'));
  await post('/__sim/tokens/kill', { errcode: 42001 });
  assert.is((await call(sim, `/cgi-bin/department/list?access_token=${t}`))['errcode'], 42001);
  const counters = await call(sim, '/__sim/counters');
  assert.is((counters['calls'] as Record<string, number>)['department/list'], 2);
  assert.is(counters['tokensIssued'], 1);
  const rejected = await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: '{"latencyMs":"slow"}' });
  assert.is(rejected.status, 400);
});

test('the CLI prints the four lines and stops on SIGTERM', async () => {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
  const scenario = fileURLToPath(new URL('./scenarios/demo.json', import.meta.url));
  const child = spawn(process.execPath, [cli, '--port', '0', '--scenario', scenario], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    lines.push(line);
    if (lines.length === 4) break;
  }
  assert.equal(lines.map((l) => l.split('=')[0]), ['URL', 'CORP_ID', 'CORP_SECRET', 'CONTACTS_SECRET']);
  const url = lines[0]?.slice('URL='.length) ?? '';
  const org = (await (await fetch(`${url}/__sim/org`)).json()) as { members: unknown[] };
  assert.ok(org.members.length >= 24);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.is(code, 0);
});

test.run();
