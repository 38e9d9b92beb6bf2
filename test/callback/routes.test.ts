// Which syncer an event path names: built from the cache and the Secrets, read again only when it must be.
import pino from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { WeComSyncer } from '../../src/api/wecom-syncer.ts';
import { CallbackRoutes } from '../../src/callback/routes.ts';
import { callbackPath } from '../../src/callback/secrets.ts';
import { SecretProblem, type SecretReader } from '../../src/secrets/reader.ts';
import { makeSyncer } from '../support/syncer-fixtures.ts';

const test = suite('callback routes');
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const callback = { tokenRef: { name: 'cb', key: 'callbackToken' }, encodingAESKeyRef: { name: 'cb', key: 'encodingAESKey' } };

function world(secrets: Record<string, string>) {
  let now = 1_000_000;
  let reads = 0;
  let failing = false;
  const syncers: WeComSyncer[] = [makeSyncer({ spec: { callback } })];
  const readSecret: SecretReader = async (namespace, ref) => {
    reads++;
    if (failing) throw new Error('the API server is down');
    const value = secrets[ref.key];
    if (value === undefined) throw new SecretProblem('SecretNotFound', `key ${ref.key} of Secret ${namespace}/${ref.name} not found`);
    return { value, allowedURLs: undefined };
  };
  const routes = new CallbackRoutes({ syncers: () => syncers, readSecret, logger: pino({ level: 'silent' }), now: () => now });
  return {
    routes,
    syncers,
    reads: () => reads,
    advance: (ms: number) => void (now += ms),
    fail: (value: boolean) => void (failing = value),
  };
}

test('a syncer\'s path leads to it, with its corp; an unknown path reads the Secrets again at most every 5 s', async () => {
  const w = world({ callbackToken: 'token', encodingAESKey: KEY });
  const path = callbackPath('token', 'casdoor', 'acme');
  const target = await w.routes.target(path);
  assert.is(target?.key, 'casdoor/acme');
  assert.is(target?.corpId, 'ww0123456789abcdef');
  const reads = w.reads();
  assert.is(await w.routes.target('/wecom/callback/00000000000000000000000000000000'), undefined);
  assert.is(await w.routes.target('/wecom/callback/11111111111111111111111111111111'), undefined);
  assert.is(w.reads(), reads, 'scanners do not make the operator read Secrets');
  w.advance(5_000);
  await w.routes.target('/wecom/callback/00000000000000000000000000000000');
  assert.ok(w.reads() > reads, 'after 5 s an unknown path is looked for again');
});

test('a rotated Token moves the path once the table is rebuilt; a syncer change rebuilds it at once', async () => {
  const secrets = { callbackToken: 'old', encodingAESKey: KEY };
  const w = world(secrets);
  assert.ok(await w.routes.target(callbackPath('old', 'casdoor', 'acme')));
  secrets.callbackToken = 'new';
  w.routes.invalidate();
  assert.ok(await w.routes.target(callbackPath('new', 'casdoor', 'acme')));
  assert.is(await w.routes.target(callbackPath('old', 'casdoor', 'acme')), undefined, 'the old path leads nowhere');
});

test('a missing Secret or a key that is no EncodingAESKey: the syncer has no path; the API server down: what was known stays', async () => {
  assert.is(await world({ callbackToken: 'token' }).routes.target(callbackPath('token', 'casdoor', 'acme')), undefined);
  assert.is(await world({ callbackToken: 'token', encodingAESKey: 'short' }).routes.target(callbackPath('token', 'casdoor', 'acme')), undefined);
  const w = world({ callbackToken: 'token', encodingAESKey: KEY });
  const path = callbackPath('token', 'casdoor', 'acme');
  assert.ok(await w.routes.target(path));
  w.fail(true);
  w.routes.invalidate();
  assert.ok(await w.routes.target(path), 'still served from what was read before');
  const fresh = world({ callbackToken: 'token', encodingAESKey: KEY });
  fresh.fail(true);
  const failure = await fresh.routes.target(path).then(() => undefined, (error: unknown) => error);
  assert.instance(failure, Error, 'nothing known yet: the receiver answers 503');
});

test.run();
