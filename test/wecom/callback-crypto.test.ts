// The event receiver's cipher: WeCom's published vectors, Tencent's own library
// (@wecom/crypto) in both directions, and every malformed input refused.
import { createCipheriv } from 'node:crypto';
import { decrypt as tencentDecrypt, encrypt as tencentEncrypt, getSignature } from '@wecom/crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  callbackSignature, CallbackCryptoError, decryptMessage, encryptMessage, parseEncodingAESKey, signatureMatches,
} from '../../src/wecom/callback-crypto.ts';

const test = suite('callback crypto');

/** WeCom's doc 90968 (加解密方案说明) sample. */
const DOC = {
  token: 'QDG6eK',
  key: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  corpId: 'wx5823bf96d3bd56c7',
  url: {
    signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3', timestamp: '1409659589', nonce: '263014780',
    // As it arrives: percent-encoded in the query.
    echostr: decodeURIComponent('P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D'),
    plain: '1616140317555161061',
  },
  message: {
    signature: '477715d11cdb4164915debcba66cb864d751f3e6', timestamp: '1409659813', nonce: '1372623149',
    encrypt: 'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
  },
};

/** sbzhu/weworkapi_python callback/Sample.py (Tencent's sample). */
const SAMPLE = {
  token: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo',
  key: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
  corpId: 'ww1436e0e65a779aee',
  url: {
    signature: '012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb', timestamp: '1476416373', nonce: '47744683',
    echostr: 'fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==',
    plain: '1288432023552776189',
  },
  message: {
    signature: '0c3914025cb4b4d68103f6bfc8db550f79dcf48e', timestamp: '1476422779', nonce: '1597212914',
    encrypt: 'Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+',
  },
};

for (const [name, vector] of [['doc 90968', DOC], ['Sample.py', SAMPLE]] as const) {
  test(`${name}: the URL check verifies and decrypts to the published plaintext`, () => {
    const { signature, timestamp, nonce, echostr, plain } = vector.url;
    assert.ok(signatureMatches(signature, vector.token, timestamp, nonce, echostr));
    assert.ok(!signatureMatches(signature, `${vector.token}x`, timestamp, nonce, echostr), 'another token does not');
    assert.equal(decryptMessage(parseEncodingAESKey(vector.key), echostr), { message: plain, receiveId: vector.corpId });
  });

  test(`${name}: the message sample verifies and decrypts to XML for the corp`, () => {
    const { signature, timestamp, nonce, encrypt } = vector.message;
    assert.ok(signatureMatches(signature, vector.token, timestamp, nonce, encrypt));
    const { message, receiveId } = decryptMessage(parseEncodingAESKey(vector.key), encrypt);
    assert.is(receiveId, vector.corpId);
    assert.match(message, /^<xml>.*<\/xml>$/s);
    assert.equal(tencentDecrypt(vector.key, encrypt).message, message, 'Tencent\'s library reads the same');
  });
}

test('our encryption is decrypted by @wecom/crypto, and its encryption by ours, at every length around the 32-byte pad', () => {
  const key = parseEncodingAESKey(SAMPLE.key);
  for (let length = 0; length <= 70; length++) {
    const message = '事'.repeat(length % 7) + 'x'.repeat(length);
    const ours = encryptMessage(key, message, SAMPLE.corpId);
    assert.equal(tencentDecrypt(SAMPLE.key, ours).message, message);
    assert.is(tencentDecrypt(SAMPLE.key, ours).id, SAMPLE.corpId);
    assert.equal(decryptMessage(key, tencentEncrypt(SAMPLE.key, message, SAMPLE.corpId)), { message, receiveId: SAMPLE.corpId });
  }
});

test('our signature is Tencent\'s; a signature differing in one place, or in length, does not match', () => {
  const args = ['token', '1700000000', '12345', 'ZW5jcnlwdGVk'] as const;
  const signature = callbackSignature(...args);
  assert.is(signature, getSignature(...args));
  assert.ok(signatureMatches(signature.toUpperCase(), ...args), 'hex case does not matter');
  assert.ok(!signatureMatches(`${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`, ...args));
  assert.ok(!signatureMatches(signature.slice(0, -1), ...args));
  assert.ok(!signatureMatches('', ...args));
});

test('refused: a key that is not 43 base64 characters, and ciphertexts WeCom never sends', () => {
  for (const bad of ['', SAMPLE.key.slice(1), `${SAMPLE.key}A`, `${SAMPLE.key.slice(0, 42)}!`]) {
    assert.throws(() => parseEncodingAESKey(bad), refused);
  }
  const key = parseEncodingAESKey(SAMPLE.key);
  const good = encryptMessage(key, 'hello', SAMPLE.corpId);
  const raw = Buffer.from(good, 'base64');
  const cases: Record<string, string> = {
    'not base64': `${good.slice(0, 10)} ${good.slice(11)}`,
    empty: '',
    'not whole blocks': raw.subarray(0, raw.length - 16).toString('base64'),
    'another key': encryptMessage(parseEncodingAESKey(DOC.key), 'hello', SAMPLE.corpId),
  };
  for (const [why, text] of Object.entries(cases)) assert.throws(() => decryptMessage(key, text), refused, why);
  // A flipped bit in the last block spoils its padding.
  const flipped = Buffer.from(raw);
  flipped[flipped.length - 20]! ^= 0x01;
  assert.throws(() => decryptMessage(key, flipped.toString('base64')), refused);
});

test('refused: a plaintext whose length field runs past it, or shorter than its header', () => {
  const key = parseEncodingAESKey(SAMPLE.key);
  const lying = Buffer.concat([Buffer.alloc(16), Buffer.from([0, 0, 0x10, 0]), Buffer.from('short')]);
  const short = Buffer.alloc(8);
  for (const plain of [lying, short]) {
    assert.throws(() => decryptMessage(key, encryptRaw(key, plain)), refused);
  }
});

/** Encrypts a plaintext as given (padded to 32 bytes) with node:crypto: plaintexts WeCom would never build. */
function encryptRaw(key: ReturnType<typeof parseEncodingAESKey>, plain: Buffer): string {
  const pad = 32 - (plain.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key.key, key.iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}

function refused(error: unknown): boolean {
  return error instanceof CallbackCryptoError;
}

test.run();
