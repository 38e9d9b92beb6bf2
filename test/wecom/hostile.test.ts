// Hostile answers at the client level, where a cluster adds nothing: wrong types in
// WeCom's envelope, broken and oversized bodies, a decompression bomb, a body that
// trickles, a redirect to another server. Each is a clear WeComError or a per-member
// rejection with a reason, never a crash, a hang, or a request that carries the secret.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WeComClient } from '../../src/wecom/client.ts';
import { WeComErrorReason, type WeComError } from '../../src/wecom/errors.ts';
import { fetchOrganization } from '../../src/wecom/fetch.ts';
import { simulatorSuite } from '../support/simulator/suite.ts';
import { clientFor, rejectionOf } from './support.ts';

const SECRET = 'hostile-test-secret-0123456789abcdef';
const TOKEN = 'hostile-test-token-0123456789abcdef';

interface TestServer {
  url: string;
  /** The path and query of every request. */
  requests: string[];
  close(): Promise<void>;
}

/** A server on loopback answering every request with `handler`; every request is recorded. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A server whose gettoken answers a token, and everything else goes to `handler`. */
function hostileServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  return listen((req, res) => {
    if ((req.url ?? '').startsWith('/cgi-bin/gettoken')) return answerJSON({ errcode: 0, errmsg: 'ok', access_token: TOKEN, expires_in: 7200 })(req, res);
    handler(req, res);
  });
}

function clientOf(url: string, options: { timeoutMs?: number; maxBodyBytes?: number } = {}): WeComClient {
  return new WeComClient({
    apiURL: url, corpId: 'ww0123456789abcdef', secret: SECRET, ...options,
    retry: { maxAttempts: 2, sleep: async () => {}, random: () => 0 },
  });
}

function answerJSON(body: unknown): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

/** The error's text, which must never hold the secret or the token. */
function assertClean(error: WeComError): void {
  const text = `${error.message} ${String(error.cause)} ${error.stack ?? ''}`;
  assert.not.ok(text.includes(SECRET), 'the secret is in the error');
  assert.not.ok(text.includes(TOKEN), 'the token is in the error');
}

const envelope = suite('hostile WeCom envelopes');

// [what, endpoint called, body, reason, message]
const envelopes: Array<[string, 'departments' | 'members', unknown, string, RegExp]> = [
  ['department not a list', 'departments', { errcode: 0, department: 'all of them' }, WeComErrorReason.BadResponse, /department\/list has no department list/],
  ['department null', 'departments', { errcode: 0, department: null }, WeComErrorReason.BadResponse, /has no department list/],
  ['a department id as a string', 'departments', { errcode: 0, department: [{ id: '2', parentid: 1, name: 'x' }] }, WeComErrorReason.BadResponse, /department id is not a positive integer/],
  ['a department entry null', 'departments', { errcode: 0, department: [null] }, WeComErrorReason.BadResponse, /department entry is not an object/],
  ['errcode as a string', 'departments', { errcode: '0', department: [] }, WeComErrorReason.BadResponse, /errcode that is not an integer/],
  ['a JSON array', 'departments', [1, 2, 3], WeComErrorReason.BadResponse, /not a JSON object/],
  ['JSON null', 'departments', 'null', WeComErrorReason.BadResponse, /not a JSON object/],
  ['userlist not a list', 'members', { errcode: 0, userlist: { userid: 'a' } }, WeComErrorReason.BadResponse, /user\/list for department 1 has no userlist/],
  ['userlist null', 'members', { errcode: 0, userlist: null }, WeComErrorReason.BadResponse, /has no userlist/],
  ['truncated JSON', 'members', '{"errcode":0,"userlist":[{"userid":"a","na', WeComErrorReason.BadResponse, /not JSON \(\d+ bytes\)/],
  ['invalid JSON', 'members', '{errcode:0, userlist:[}', WeComErrorReason.BadResponse, /not JSON/],
  ['an empty body', 'members', '', WeComErrorReason.BadResponse, /not JSON \(empty body\)/],
  ['an HTML page', 'members', '<html><body>502 Bad Gateway</body></html>', WeComErrorReason.BadResponse, /not JSON \(an HTML or XML page\)/],
];

for (const [what, call, body, reason, message] of envelopes) {
  envelope(`${what}: ${reason}, "${message.source}"`, async () => {
    const server = await hostileServer(answerJSON(body));
    try {
      const client = clientOf(server.url);
      const error = (await rejectionOf(call === 'departments' ? client.listDepartments() : client.listMembers(1))) as WeComError;
      assert.is(error.reason, reason);
      assert.match(error.message, message);
      assertClean(error);
    } finally {
      await server.close();
    }
  });
}

envelope('a department listed twice comes back once, as first listed', async () => {
  const department = [{ id: 1, parentid: 0, name: 'root' }, { id: 2, parentid: 1, name: 'first' }, { id: 2, parentid: 1, name: 'again' }];
  const server = await hostileServer(answerJSON({ errcode: 0, errmsg: 'ok', department }));
  try {
    const { departments } = await clientOf(server.url).listDepartments();
    assert.equal(departments.map((d) => [d.id, d.name]), [[1, 'root'], [2, 'first']]);
  } finally {
    await server.close();
  }
});

envelope('a body nested a million deep is a clear error, not a stack overflow', async () => {
  const server = await hostileServer(answerJSON(`{"errcode":0,"userlist":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`));
  try {
    const listing = await clientOf(server.url).listMembers(1);
    assert.equal(listing.members, []);
    assert.equal(listing.rejected.map((r) => r.reason), ['member record is not an object']);
  } finally {
    await server.close();
  }
});

envelope('gettoken answering a number for the token, a huge one or none is a clear error', async () => {
  for (const token of [12345, 'x'.repeat(100_000), '']) {
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errcode: 0, access_token: token, expires_in: 7200 }));
    });
    try {
      const error = (await rejectionOf(clientOf(server.url).listDepartments())) as WeComError;
      assert.is(error.reason, WeComErrorReason.BadResponse);
      assert.match(error.message, /without a usable access_token/);
    } finally {
      await server.close();
    }
  }
});

envelope('a 70 MB body is cut off at the 64 MiB limit with a clear error', async () => {
  const total = 70 * 1024 * 1024;
  let written = 0;
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  const server = await hostileServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(total) });
    const pump = (): void => {
      while (written < total) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('error', () => {});
    pump();
  });
  try {
    const error = (await rejectionOf(clientOf(server.url).listMembers(1))) as WeComError;
    assert.is(error.reason, WeComErrorReason.BadResponse);
    assert.match(error.message, /exceeds the size limit/);
    assert.is(error.retryable, false, 'an oversized answer is not fetched again');
  } finally {
    await server.close();
  }
});

envelope('a gzip bomb (64 KB that inflates to 64 MB) is cut off at the limit', async () => {
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20), { level: 9 });
  assert.ok(bomb.length < 100 * 1024);
  const server = await hostileServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    res.on('error', () => {});
    res.end(bomb);
  });
  try {
    const error = (await rejectionOf(clientOf(server.url, { maxBodyBytes: 8 * 1024 * 1024 }).listMembers(1))) as WeComError;
    assert.is(error.reason, WeComErrorReason.BadResponse);
    assert.match(error.message, /exceeds the size limit/);
  } finally {
    await server.close();
  }
});

envelope('a body that trickles a byte at a time times out as a whole', async () => {
  const timers: NodeJS.Timeout[] = [];
  const server = await hostileServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.on('error', () => {});
    const timer = setInterval(() => res.write(' '), 50);
    timers.push(timer);
    res.on('close', () => clearInterval(timer));
  });
  const started = Date.now();
  try {
    const error = (await rejectionOf(clientOf(server.url, { timeoutMs: 600 }).listMembers(1))) as WeComError;
    assert.is(error.reason, WeComErrorReason.Unreachable);
    assert.match(error.message, /timed out/);
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  } finally {
    for (const timer of timers) clearInterval(timer);
    await server.close();
  }
});

envelope('a redirect to another server is not followed: it gets no request, and the error says why', async () => {
  const elsewhere = await hostileServer(answerJSON({ errcode: 0, department: [] }));
  // gettoken carries the corp secret, department/list the token: each is redirected in turn.
  for (const redirected of ['/cgi-bin/gettoken', '/cgi-bin/department/list']) {
    const redirecting = await listen((req, res) => {
      if (!(req.url ?? '').startsWith(redirected)) return answerJSON({ errcode: 0, access_token: TOKEN, expires_in: 7200 })(req, res);
      res.writeHead(302, { location: `${elsewhere.url}${req.url ?? '/'}` });
      res.end();
    });
    try {
      const error = (await rejectionOf(clientOf(redirecting.url).listDepartments())) as WeComError;
      assert.is(error.reason, WeComErrorReason.BadResponse);
      assert.match(error.message, /redirect \(HTTP 302\), which is never followed because the query carries credentials: set the API URL to the final address/);
      assert.is(error.retryable, false);
      assertClean(error);
      assert.ok(redirecting.requests.some((url) => url.startsWith(redirected)));
    } finally {
      await redirecting.close();
    }
  }
  assert.equal(elsewhere.requests, [], 'the redirect target was called');
  await elsewhere.close();
});

envelope('plain http to loopback never goes through an HTTP_PROXY from the environment', async () => {
  const proxy = await listen((_req, res) => {
    res.writeHead(502);
    res.end();
  });
  const target = await hostileServer(answerJSON({ errcode: 0, department: [{ id: 1, parentid: 0, name: 'root' }] }));
  const saved = { HTTP_PROXY: process.env['HTTP_PROXY'], http_proxy: process.env['http_proxy'], NO_PROXY: process.env['NO_PROXY'], no_proxy: process.env['no_proxy'] };
  process.env['HTTP_PROXY'] = process.env['http_proxy'] = proxy.url;
  delete process.env['NO_PROXY'];
  delete process.env['no_proxy'];
  try {
    const listing = await clientOf(target.url).listDepartments();
    assert.is(listing.departments.length, 1);
    assert.equal(proxy.requests, [], 'the secret went to the proxy in clear text');
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await proxy.close();
    await target.close();
  }
});

envelope.run();

// Per-member rejections, through the simulator: each record is rejected with a reason,
// the rest of the department is kept, and a rejected userid is never counted as removed.
const members = simulatorSuite('hostile WeCom member records', { generate: { members: 6, departments: 2, seed: 3 } });

// [what, record, the rejection's userid (undefined: none usable), reason]
const records: Array<[string, unknown, string | undefined, RegExp]> = [
  ['status as a string', { userid: 'h1', status: '1', department: [1] }, 'h1', /status is not an integer/],
  ['enable as a boolean', { userid: 'h2', enable: true, department: [1] }, 'h2', /enable is not an integer/],
  ['department not a list', { userid: 'h3', department: '1' }, 'h3', /department is not a list/],
  ['a department id as a string', { userid: 'h4', department: ['1'] }, 'h4', /department lists an id that is not a positive integer/],
  ['a 1 MB name', { userid: 'h5', name: 'x'.repeat(1024 * 1024), department: [1] }, 'h5', /name is longer than 4096 characters/],
  ['a name that is an object', { userid: 'h6', name: { zh: '张三' }, department: [1] }, 'h6', /name is not a string/],
  ['gender as a list', { userid: 'h7', gender: ['1'], department: [1] }, 'h7', /gender is neither a string nor a number/],
  ['a userid with a space', { userid: 'bad id', department: [1] }, undefined, /userid is missing or not 1-64/],
  ['a userid with a slash', { userid: '../../etc', department: [1] }, undefined, /userid is missing/],
  ['a userid in Chinese', { userid: '张三', department: [1] }, undefined, /userid is missing/],
  ['a userid of 65 characters', { userid: 'a'.repeat(65), department: [1] }, undefined, /userid is missing/],
  ['a userid as a number', { userid: 12345, department: [1] }, undefined, /userid is missing/],
  ['a userid null', { userid: null, department: [1] }, undefined, /userid is missing/],
  ['a record null', null, undefined, /member record is not an object/],
  ['a record that is a string', 'userid=h8', undefined, /member record is not an object/],
];

for (const [what, record, userid, reason] of records) {
  members(`${what}: rejected with "${reason.source}", the department's other members kept`, async ({ sim }) => {
    sim.setFaults({ hostileRecords: [{ departmentId: 1, record }] });
    const { client } = clientFor(sim);
    const listing = await client.listMembers(1);
    assert.equal(listing.rejected.map((r) => r.userid), [userid]);
    assert.match(listing.rejected[0]?.reason ?? '', reason);
    assert.is(listing.rejected[0]?.departmentId, 1);
    assert.ok(listing.rejected[0]!.reason.length < 200, 'the reason quotes the hostile value');
    assert.is(listing.members.length, sim.org.members.filter((m) => m.department.includes(1)).length);
  });
}

members('nulls in optional fields mean absent, as a missing field does', async ({ sim }) => {
  sim.setFaults({ hostileRecords: [{ departmentId: 1, record: { userid: 'nully', name: null, email: null, mobile: null, gender: null, status: null, enable: null, department: null } }] });
  const { client } = clientFor(sim);
  const listing = await client.listMembers(1);
  assert.equal(listing.rejected, []);
  assert.equal(listing.members.find((m) => m.userid === 'nully'), { userid: 'nully', departments: [1] });
});

members('a member rejected in one department but valid in another is synced', async ({ sim }) => {
  const real = sim.org.members[0]!;
  sim.setFaults({ hostileRecords: [{ departmentId: 2, record: { userid: real.userid, status: 'weird', department: [2] } }] });
  const { client } = clientFor(sim);
  const org = await fetchOrganization(client);
  assert.ok(org.members.some((m) => m.userid === real.userid));
  assert.equal(org.rejected, []);
});

members.run();
