// The overlay of this process's own status writes, with fields other writers own left out.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OwnStatuses } from '../../src/shared/own-status.ts';

const test = suite('own statuses');

interface Status {
  phase?: string;
  callback?: { eventsReceived?: number; lastHandledEvent?: string };
}

test('a cache still holding this process\'s progress write, with receivers\' counts added to it, is older than the final write', () => {
  const own = new OwnStatuses<Status>({ ignoredFields: ['callback'] });
  const before = { metadata: { uid: 'u' }, status: { phase: 'idle', callback: { eventsReceived: 1, lastHandledEvent: 'm1' } } };
  own.begin('k', before, before);
  own.progress('k', { phase: 'syncing' });
  own.written('k', 'u', { phase: 'done', callback: { lastHandledEvent: 'm2' } });
  // What the API server stores for the progress write: the merge patch kept status.callback, and a receiver counted since.
  const lagging = { metadata: { uid: 'u' }, status: { phase: 'syncing', callback: { eventsReceived: 5, lastHandledEvent: 'm1' } } };
  assert.equal(own.effective('k', lagging).status, { phase: 'done', callback: { lastHandledEvent: 'm2' } });
  // The final write itself, with the counts: the cache has caught up and wins.
  const caughtUp = { metadata: { uid: 'u' }, status: { phase: 'done', callback: { eventsReceived: 5, lastHandledEvent: 'm2' } } };
  assert.equal(own.effective('k', caughtUp).status, caughtUp.status);
});

test('without ignored fields, a status that differs in any field is another writer\'s, and the cache wins', () => {
  const own = new OwnStatuses<Status>();
  const before = { metadata: { uid: 'u' }, status: { phase: 'idle' } };
  own.begin('k', before, before);
  own.progress('k', { phase: 'syncing' });
  own.written('k', 'u', { phase: 'done' });
  assert.equal(own.effective('k', { metadata: { uid: 'u' }, status: { phase: 'syncing' } }).status, { phase: 'done' });
  const other = { metadata: { uid: 'u' }, status: { phase: 'syncing', callback: { eventsReceived: 5 } } };
  assert.equal(own.effective('k', other).status, other.status);
});

test.run();
