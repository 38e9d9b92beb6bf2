// The event receiver, over real HTTP, against requests built the way WeCom
// builds them (Tencent's @wecom/crypto, in the simulator's event sender).
import { encrypt, getSignature } from '@wecom/crypto';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type CallbackTarget, CallbackReceiver, type ContactEvent } from '../../src/callback/receiver.ts';
import { callbackPath } from '../../src/callback/secrets.ts';
import { callbackServer, MAX_BODY_BYTES } from '../../src/callback/server.ts';
import { parseEncodingAESKey } from '../../src/wecom/callback-crypto.ts';
import { type EventReceiver, eventXml, signedEvent } from '../support/simulator/events.ts';

const CORP = 'ww5100000000000001';
const TOKEN = 'receiver-token-0123456789';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const PATH = callbackPath(TOKEN, 'casdoor', 'acme');

interface Context {
  base: string;
  receiver: EventReceiver;
  received: ContactEvent[];
  failTarget: boolean;
  close(): Promise<void>;
}

const test = suite<Context>('event receiver');

test.before.each(async (context) => {
  const target: CallbackTarget = { key: 'casdoor/acme', corpId: CORP, token: TOKEN, aesKey: parseEncodingAESKey(AES_KEY), path: PATH };
  context.received = [];
  context.failTarget = false;
  const receiver = new CallbackReceiver({
    target: async (path) => {
      if (context.failTarget) throw new Error('the API server is down');
      return path === PATH ? target : undefined;
    },
    received: (_target, event) => void context.received.push(event),
    logger: pino({ level: 'silent' }),
  });
  const server = callbackServer(receiver, pino({ level: 'silent' }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  context.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  context.receiver = { url: `${context.base}${PATH}`, token: TOKEN, encodingAESKey: AES_KEY };
  context.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
});
test.after.each(async ({ close }) => close());

const deleteUser = { changeType: 'delete_user' as const, fields: { UserID: 'zhangsan' } };

async function post(url: string, body: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { method: 'POST', body });
  return { status: response.status, body: await response.text() };
}

test('a verified event: 200, and the syncer is told what changed', async (context) => {
  const { query, body } = signedEvent(context.receiver, CORP, deleteUser);
  const answer = await post(`${context.receiver.url}?${query}`, body);
  assert.equal(answer, { status: 200, body: '' });
  assert.is(context.received.length, 1);
  assert.is(context.received[0]!.changeType, 'delete_user');
});

test('the URL check answers the bare plaintext, also when a + arrives unencoded', async (context) => {
  const timestamp = String(Math.floor(Date.now() / 1000));
  for (const [nonce, encode] of [['1', true], ['2', false]] as const) {
    let echostr = encrypt(AES_KEY, '1288432023552776189', CORP);
    while (!echostr.includes('+')) echostr = encrypt(AES_KEY, '1288432023552776189', CORP);
    const signature = getSignature(TOKEN, timestamp, nonce, echostr);
    const raw = encode ? encodeURIComponent(echostr) : echostr;
    const response = await fetch(`${context.receiver.url}?msg_signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&echostr=${raw}`);
    assert.is(response.status, 200);
    assert.is(await response.text(), '1288432023552776189', 'no quotes, no newline');
  }
  assert.is(context.received.length, 0, 'a URL check is no event');
});

test('refused with 4xx, and nothing received: every way a request can be wrong', async (context) => {
  const signed = (change = deleteUser, now = Date.now()) => signedEvent(context.receiver, CORP, change, now);
  const good = signed();
  const withQuery = (changes: Record<string, string>) => {
    const query = new URLSearchParams(good.query);
    for (const [key, value] of Object.entries(changes)) query.set(key, value);
    return `${context.receiver.url}?${query}`;
  };
  const stale = signed(deleteUser, Date.now() - 6 * 60_000);
  const foreign = (() => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const encrypted = encrypt(AES_KEY, eventXml('ww9999999999999999', deleteUser, Number(timestamp)), 'ww9999999999999999');
    const query = new URLSearchParams({ msg_signature: getSignature(TOKEN, timestamp, '77', encrypted), timestamp, nonce: '77' });
    return { url: `${context.receiver.url}?${query}`, body: `<xml><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>` };
  })();
  const cases: Array<[string, () => Promise<{ status: number; body: string }>, number]> = [
    ['an unknown path', () => post(`${context.base}/wecom/callback/${'0'.repeat(32)}?${good.query}`, good.body), 404],
    ['a path of another shape', () => post(`${context.base}/metrics`, good.body), 404],
    ['a bad signature', () => post(withQuery({ msg_signature: 'f'.repeat(40) }), good.body), 403],
    ['no signature', () => post(withQuery({ msg_signature: '' }), good.body), 400],
    ['a timestamp 6 minutes old', () => post(`${context.receiver.url}?${stale.query}`, stale.body), 400],
    ['encrypted for another corp', () => post(foreign.url, foreign.body), 403],
    ['malformed XML', () => post(`${context.receiver.url}?${good.query}`, '<xml><Encrypt>'), 400],
    ['no Encrypt element', () => post(`${context.receiver.url}?${good.query}`, '<xml><ToUserName>x</ToUserName></xml>'), 400],
    ['another method', async () => {
      const response = await fetch(`${context.receiver.url}?${good.query}`, { method: 'PUT', body: good.body });
      return { status: response.status, body: await response.text() };
    }, 405],
    ['a body over 1 MiB', () => post(`${context.receiver.url}?${good.query}`, 'x'.repeat(MAX_BODY_BYTES + 1)), 413],
  ];
  for (const [why, send, status] of cases) {
    const answer = await send();
    assert.is(answer.status, status, why);
    assert.not.match(answer.body, TOKEN, 'no answer carries the token');
    assert.not.match(answer.body, AES_KEY, 'no answer carries the key');
  }
  assert.is(context.received.length, 0);
});

test('a replayed request is refused; the first one counted once', async (context) => {
  const { query, body } = signedEvent(context.receiver, CORP, deleteUser);
  assert.is((await post(`${context.receiver.url}?${query}`, body)).status, 200);
  assert.is((await post(`${context.receiver.url}?${query}`, body)).status, 409);
  assert.is(context.received.length, 1);
});

test('a verified event of another kind is acknowledged and not counted as a contact change', async (context) => {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const xml = `<xml><ToUserName><![CDATA[${CORP}]]></ToUserName><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[batch_job_result]]></Event><BatchJob><JobId>j</JobId></BatchJob></xml>`;
  const encrypted = encrypt(AES_KEY, xml, CORP);
  const query = new URLSearchParams({ msg_signature: getSignature(TOKEN, timestamp, '5', encrypted), timestamp, nonce: '5' });
  assert.is((await post(`${context.receiver.url}?${query}`, `<xml><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`)).status, 200);
  assert.is(context.received.length, 0);
});

test('Secrets that cannot be read now: 503, which WeCom retries', async (context) => {
  context.failTarget = true;
  const { query, body } = signedEvent(context.receiver, CORP, deleteUser);
  assert.is((await post(`${context.receiver.url}?${query}`, body)).status, 503);
});

test.run();
