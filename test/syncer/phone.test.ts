import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type CasdoorPhone, casdoorPhone, mainlandMobile } from '../../src/syncer/phone.ts';

const test = suite('phone');

/** The library's own answer, as casdoorPhone gave it before its fast path. */
function libraryAnswer(compact: string): CasdoorPhone {
  const parsed = parsePhoneNumberFromString(compact, 'CN');
  if (!parsed?.isValid() || !parsed.country) return { phone: compact };
  return { phone: parsed.nationalNumber, countryCode: parsed.country };
}

/** A deterministic stream of digits, so that a failure names a number that can be tried again. */
function* numbers(count: number, seed: number): Generator<string> {
  let state = seed;
  for (let i = 0; i < count; i++) {
    // A 32-bit linear congruential generator, exact in integer arithmetic.
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    yield `1${String(state % 10 ** 9).padStart(9, '0')}${i % 10}`;
  }
}

test('the fast path is on with the installed metadata: an upgrade that changes its shape fails here, not silently slower', () => {
  assert.type(mainlandMobile, 'function');
});

test('the fast path answers 11-digit numbers starting with 1 and nothing else', () => {
  const fast = mainlandMobile!;
  assert.equal(fast('13800000009'), { phone: '13800000009', countryCode: 'CN' });
  for (const other of ['+8613800000009', '8613800000009', '013800000009', '1380000000', '138000000091', '23800000009', '1380000000x']) {
    assert.is(fast(other), undefined, other);
  }
  // A carrier code (11xx, 12xx, 179xx), a national prefix or an international prefix is stripped by the
  // library's parse: left to it.
  for (const carrier of ['11012345678', '12512345678', '17951234567', '11210000000']) assert.is(fast(carrier), undefined, carrier);
});

test('the fast path gives the library\'s answer for every 3-digit prefix and for 20,000 numbers', () => {
  const fast = mainlandMobile!;
  let answered = 0;
  let valid = 0;
  const check = (compact: string): void => {
    const answer = fast(compact);
    if (answer === undefined) return;
    answered++;
    if (answer.countryCode) valid++;
    assert.equal(answer, libraryAnswer(compact), compact);
  };
  for (let prefix = 100; prefix < 200; prefix++) for (const rest of ['00000000', '55555555', '99999999', '12345678']) check(`${prefix}${rest}`);
  const sample = new Set(numbers(20_000, 42));
  assert.is(sample.size, 20_000, 'distinct numbers');
  for (const compact of sample) check(compact);
  // Both answers occur: the sample is not all valid numbers or all invalid ones.
  assert.ok(answered > 10_000 && valid > 5_000 && answered - valid > 1_000, `${answered} answered, ${valid} valid`);
});

test('casdoorPhone gives the library\'s answer for numbers on the fast path and off it', () => {
  for (const mobile of ['13800000009', '138 0000 0009', '+86 13800000009', '19912345678', '14012345678', '10012345678', '+852 61234567', '021-12345678']) {
    assert.equal(casdoorPhone(mobile), libraryAnswer(mobile.replace(/[\s-]+/g, '')), mobile);
  }
});

test.run();
