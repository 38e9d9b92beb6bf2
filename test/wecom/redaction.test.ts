import * as assert from 'uvu/assert';
import { callerIPFromErrmsg } from '../../src/wecom/errors.ts';
import { fetchOrganization } from '../../src/wecom/fetch.ts';
import { redactURL, scrub } from '../../src/wecom/redact.ts';
import { TokenCache } from '../../src/wecom/token-cache.ts';
import { simulatorSuite } from '../support/simulator/suite.ts';
import { capturedLogger, clientFor, rejectionOf } from './support.ts';

const test = simulatorSuite('no secret or token leaks', { generate: { members: 10, departments: 3 } });

test('redactURL removes access_token and corpsecret values', () => {
  assert.is(
    redactURL('http://x/cgi-bin/gettoken?corpid=ww1&corpsecret=abc&x=1'),
    'http://x/cgi-bin/gettoken?corpid=ww1&corpsecret=REDACTED&x=1',
  );
  assert.is(redactURL('/cgi-bin/user/list?access_token=T0k3n&department_id=1'), '/cgi-bin/user/list?access_token=REDACTED&department_id=1');
  assert.is(scrub('echo s3cr3tvalue back', ['s3cr3tvalue']), 'echo REDACTED back');
});

test('extracts the caller IP from an errmsg', () => {
  const errmsg = 'not allow to access from your ip, hint: [1700000000_1], from ip: 198.51.100.4, more info at https://open.work.weixin.qq.com/devtool/query?e=60020';
  assert.is(callerIPFromErrmsg(errmsg), '198.51.100.4');
  assert.is(callerIPFromErrmsg('system busy'), undefined);
});

test('errors and log lines hold neither the secret nor any token', async ({ sim }) => {
  const tokens: string[] = [];
  const { logger, output } = capturedLogger();
  const cache = new TokenCache();
  const { client } = clientFor(sim, { logger, tokenCache: cache });
  // Spy the tokens by fetching them the way the client does, through the shared cache.
  const collect = async (): Promise<void> => {
    tokens.push(await cache.get({ apiURL: sim.url, corpId: sim.corpId, secret: sim.corpSecret }, async () => {
      throw new Error('the client should have issued one already');
    }));
  };
  await fetchOrganization(client);
  await collect();
  sim.killTokens(42001);
  sim.setFaults({ script: [
    { endpoint: 'user/list', errcode: 45009 },
    { endpoint: 'user/list', body: 'html' },
    { endpoint: 'user/list', httpStatus: 500 },
  ] });
  await fetchOrganization(client);
  await collect();
  const errors: unknown[] = [];
  sim.setFaults({ untrustedIP: true });
  errors.push(await rejectionOf(fetchOrganization(client)));
  sim.resetFaults();
  sim.killTokens(40014);
  sim.setFaults({ script: [{ endpoint: 'gettoken', errcode: 40001 }] });
  errors.push(await rejectionOf(fetchOrganization(client)));
  errors.push(await rejectionOf(clientFor(sim, { logger, secret: `${sim.corpSecret}x` }).client.listDepartments()));

  const texts = [output(), ...errors.flatMap(describe)];
  assert.ok(output().includes('retrying'), 'retries were logged');
  for (const secret of [sim.corpSecret, sim.contactsSecret, ...tokens]) {
    for (const text of texts) assert.not.ok(text.includes(secret), `leaked in: ${text.slice(0, 200)}`);
  }
});

/** Every text an error exposes: message, stack, causes, and its JSON form. */
function describe(error: unknown): string[] {
  const texts: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    texts.push(e.message, e.stack ?? '', JSON.stringify(e), String(e));
  }
  return texts;
}

test.run();
