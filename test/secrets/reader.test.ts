import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeSecretValue, inputsDigest, matchesDigest, SecretProblem } from '../../src/secrets/reader.ts';

const test = suite('secrets');
const ref = { name: 'acme-wecom', key: 'corpSecret' };
const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64');

/** The SecretProblem decoding `encoded` throws; fails the test when it does not throw one. */
function problem(encoded: string | undefined): SecretProblem {
  try {
    decodeSecretValue(encoded, 'casdoor', ref);
  } catch (error) {
    if (error instanceof SecretProblem) return error;
    throw error;
  }
  throw new Error('expected a SecretProblem');
}

test('a missing key is SecretNotFound naming the Secret and the key', () => {
  const error = problem(undefined);
  assert.is(error.reason, 'SecretNotFound');
  assert.match(error.message, 'Secret casdoor/acme-wecom');
  assert.match(error.message, '"corpSecret"');
});

test('an empty value is SecretInvalid', () => {
  const error = problem('');
  assert.is(error.reason, 'SecretInvalid');
  assert.match(error.message, 'empty');
  assert.match(error.message, 'casdoor/acme-wecom');
});

test('a value of whitespace only is SecretInvalid', () => {
  for (const value of [' ', '\n', ' \t\r\n ']) assert.is(problem(b64(value)).reason, 'SecretInvalid', JSON.stringify(value));
});

test('bytes that are not UTF-8 are SecretInvalid', () => {
  const error = problem(b64(Buffer.from([0x41, 0xff, 0xfe, 0x42])));
  assert.is(error.reason, 'SecretInvalid');
  assert.match(error.message, 'binary');
});

test('control characters inside the value are SecretInvalid', () => {
  for (const value of ['abc\u0000def', 'abc\ndef', 'abc\u007fdef', '\u0001']) {
    assert.is(problem(b64(value)).reason, 'SecretInvalid', JSON.stringify(value));
  }
});

test('a value longer than any WeCom secret is SecretInvalid', () => {
  assert.is(problem(b64('x'.repeat(1025))).reason, 'SecretInvalid');
});

test('a valid value is returned without surrounding whitespace', () => {
  const secret = 'Kx7_pQ2-ab3cdEFghIJklMNopQRstUVwxYZ0123456';
  assert.is(decodeSecretValue(b64(`${secret}\n`), 'casdoor', ref), secret);
  assert.is(decodeSecretValue(b64(`  ${secret} `), 'casdoor', ref), secret);
  assert.is(decodeSecretValue(b64('秘密'), 'casdoor', ref), '秘密');
});

test('no error message contains the value', () => {
  const secret = 'TopSecretValue42';
  for (const value of [`${secret}\u0000`, `${secret}\nmore`, secret.repeat(100), Buffer.concat([Buffer.from(secret), Buffer.from([0xff])])]) {
    const error = problem(b64(value));
    assert.not.match(error.message, secret);
    assert.not.match(String(error.stack), secret);
  }
});

test('the salted digest matches exactly the inputs it was made of, and never contains one', async () => {
  const digest = await inputsDigest(['1', 'secret-a', undefined]);
  assert.match(digest, /^scrypt\.[0-9a-f]{32}\.[0-9a-f]{64}$/);
  assert.ok(await matchesDigest(digest, ['1', 'secret-a', undefined]));
  assert.not.ok(await matchesDigest(digest, ['1', 'secret-b', undefined]));
  assert.not.ok(await matchesDigest(digest, ['2', 'secret-a', undefined]));
  assert.not.ok(await matchesDigest(digest, ['1', 'secret-a', 'https://proxy.example']), 'an added input is a change');
  assert.not.match(digest, 'secret');
});

test('two digests of the same inputs differ (salted), yet both match', async () => {
  const a = await inputsDigest(['secret-a']);
  const b = await inputsDigest(['secret-a']);
  assert.is.not(a, b);
  assert.ok((await matchesDigest(a, ['secret-a'])) && (await matchesDigest(b, ['secret-a'])));
});

test('the digest is scrypt at N=16384, not a fast hash: each guess costs a key derivation', async () => {
  const salt = '0'.repeat(32);
  const digest = await inputsDigest(['secret-a'], salt);
  const { scryptSync } = await import('node:crypto');
  const expected = scryptSync(JSON.stringify(['secret-a']), salt, 32, { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString('hex');
  assert.is(digest, `scrypt.${salt}.${expected}`);
});

test('a malformed stored digest matches nothing', async () => {
  for (const stored of ['', 'abc', 'zz.zz', `scrypt.${'0'.repeat(32)}.`, `scrypt.${'0'.repeat(31)}.${'0'.repeat(64)}`, `${'0'.repeat(32)}.${'0'.repeat(64)}`]) {
    assert.not.ok(await matchesDigest(stored, ['secret-a']), stored);
  }
});

test.run();
