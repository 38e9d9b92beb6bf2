import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TokenCache, type IssuedToken } from '../../src/wecom/token-cache.ts';

const test = suite('TokenCache');
const source = { apiURL: 'http://wecom', corpId: 'ww1', secret: 's3cret' };

function issuer(lifetimeSeconds = 7200) {
  let n = 0;
  const issue = async (): Promise<IssuedToken> => ({ accessToken: `t${++n}`, expiresInSeconds: lifetimeSeconds });
  return { issue, count: () => n };
}

test('concurrent callers share one issue', async () => {
  const cache = new TokenCache();
  const { issue, count } = issuer();
  const tokens = await Promise.all([cache.get(source, issue), cache.get(source, issue), cache.get(source, issue)]);
  assert.equal(tokens, ['t1', 't1', 't1']);
  assert.is(count(), 1);
});

test('renews shortly before expiry', async () => {
  let now = 0;
  const cache = new TokenCache({ marginMs: 300_000, now: () => now });
  const { issue } = issuer(7200);
  assert.is(await cache.get(source, issue), 't1');
  now = 7200_000 - 300_001;
  assert.is(await cache.get(source, issue), 't1');
  now = 7200_000 - 300_000;
  assert.is(await cache.get(source, issue), 't2');
});

test('the margin is at most half of a short lifetime', async () => {
  let now = 0;
  const cache = new TokenCache({ marginMs: 300_000, now: () => now });
  const { issue } = issuer(10);
  await cache.get(source, issue);
  now = 4_999;
  assert.is(await cache.get(source, issue), 't1');
  now = 5_000;
  assert.is(await cache.get(source, issue), 't2');
});

test('keys by API URL, corp ID and secret', async () => {
  const cache = new TokenCache();
  const { issue } = issuer();
  await cache.get(source, issue);
  await cache.get({ ...source, secret: 'other' }, issue);
  await cache.get({ ...source, corpId: 'ww2' }, issue);
  await cache.get({ ...source, apiURL: 'http://proxy' }, issue);
  assert.is(cache.size, 4);
  assert.is(await cache.get(source, issue), 't1');
});

test('drops only the token that was rejected', async () => {
  const cache = new TokenCache();
  const { issue } = issuer();
  await cache.get(source, issue);
  cache.drop(source, 't1');
  assert.is(await cache.get(source, issue), 't2');
  cache.drop(source, 't1');
  assert.is(await cache.get(source, issue), 't2', 'a late drop of the old token keeps the renewal');
});

test('a failed issue is not cached', async () => {
  const cache = new TokenCache();
  let fail = true;
  const issue = async (): Promise<IssuedToken> => {
    if (fail) throw new Error('nope');
    return { accessToken: 'ok', expiresInSeconds: 7200 };
  };
  await cache.get(source, issue).then(() => assert.unreachable(), () => undefined);
  fail = false;
  assert.is(await cache.get(source, issue), 'ok');
});

test.run();
