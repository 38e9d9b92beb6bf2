import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseGoDuration } from '../../src/shared/duration.ts';

const test = suite('duration');

test('minutes, hours and their sums', () => {
  assert.is(parseGoDuration('1m'), 60_000);
  assert.is(parseGoDuration('1h'), 3_600_000);
  assert.is(parseGoDuration('1h30m'), 5_400_000);
  assert.is(parseGoDuration('2h45m30s'), 9_930_000);
});

test('fractions of a unit', () => {
  assert.is(parseGoDuration('1.5h'), 5_400_000);
  assert.is(parseGoDuration('0.5m'), 30_000);
});

test('milliseconds and smaller units', () => {
  assert.is(parseGoDuration('500ms'), 500);
  assert.is(parseGoDuration('1s500ms'), 1500);
  assert.is(parseGoDuration('1500us'), 1.5);
  assert.is(parseGoDuration('2000000ns'), 2);
});

test('anything that is not a Go duration throws', () => {
  for (const text of ['often', '', '10', '1d', '1h ', ' 1h', '1H', 'h', '1m10', '-1h']) {
    assert.throws(() => parseGoDuration(text), JSON.stringify(text));
  }
});

test.run();
