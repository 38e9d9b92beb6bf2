// Events become marks on their syncer, coalesced: a burst is a few API calls, and none is lost.
import pino from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EventMarker } from '../../src/callback/marker.ts';

const test = suite('event marker');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a burst of 500 events is two marks carrying all 500: one at once, one after the spacing', async () => {
  const marks: Array<{ key: string; count: number; at: string }> = [];
  const marker = new EventMarker({ mark: async (key, at, count) => void marks.push({ key, count, at }), logger: pino({ level: 'silent' }), minIntervalMs: 100 });
  for (let i = 0; i < 500; i++) marker.received('casdoor/acme');
  await sleep(250);
  assert.equal(marks.map((m) => m.count), [1, 499]);
  assert.ok(Date.parse(marks[1]!.at) - Date.parse(marks[0]!.at) >= 100, 'the second waits for the spacing');
  assert.is(new Set(marks.map((m) => m.at)).size, 2, 'each mark a new value, so each changes the annotation');
});

test('syncers are marked apart; a failed mark is carried by the next one', async () => {
  const marks: Array<{ key: string; count: number }> = [];
  let failures = 1;
  const marker = new EventMarker({
    mark: async (key, _at, count) => {
      if (key === 'ns/b' && failures-- > 0) throw new Error('the API server is down');
      marks.push({ key, count });
    },
    logger: pino({ level: 'silent' }),
    minIntervalMs: 50,
  });
  marker.received('ns/a');
  marker.received('ns/b');
  marker.received('ns/b');
  // The retry after a failure waits twice the spacing.
  await sleep(400);
  assert.equal(marks.filter((m) => m.key === 'ns/a').map((m) => m.count), [1]);
  assert.equal(marks.filter((m) => m.key === 'ns/b').map((m) => m.count), [2], 'the failed mark\'s event is not lost');
});

test('flush marks what is pending at once, for shutdown', async () => {
  const marks: number[] = [];
  const marker = new EventMarker({ mark: async (_key, _at, count) => void marks.push(count), logger: pino({ level: 'silent' }), minIntervalMs: 60_000 });
  marker.received('ns/a');
  marker.received('ns/a');
  await sleep(10);
  await marker.flush();
  assert.equal(marks, [1, 1]);
});

test.run();
