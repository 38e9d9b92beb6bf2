// Pushes between comparisons, against the stand-in Casdoor over HTTP: one write per
// change, and deletions gathered, settled and judged together, never in slices.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CasdoorServer } from '../../src/api/casdoor-server.ts';
import { CasdoorClient } from '../../src/casdoor/client.ts';
import { MANAGED_BY_PROPERTY, type SelectedObject } from '../../src/casdoorserver/objects.ts';
import { DELETION_SETTLE_MS, pushChanges } from '../../src/casdoorserver/push.ts';
import { objectRef, remoteRef } from '../../src/casdoorserver/refs.ts';
import { ServerState } from '../../src/casdoorserver/state.ts';
import { startCasdoor, type CasdoorStandIn } from '../support/casdoor/server.ts';

const test = suite<{ casdoor: CasdoorStandIn; client: CasdoorClient }>('CasdoorServer pushes');
const MARK = 'casdoor/main';

test.before.each(async (context) => {
  context.casdoor = await startCasdoor();
  context.client = new CasdoorClient({ endpoint: context.casdoor.url, clientId: context.casdoor.app.clientId, clientSecret: context.casdoor.app.clientSecret });
});
test.after.each(async ({ casdoor, client }) => {
  await client.close();
  await casdoor.close();
});

const server = (spec: Partial<CasdoorServer['spec']> = {}): CasdoorServer => ({
  apiVersion: 'casdoor.org/v1alpha1', kind: 'CasdoorServer', metadata: { name: 'main', namespace: 'casdoor', uid: 'u' },
  spec: { endpoint: 'http://x', credentialsRef: { name: 'c', clientIdKey: 'clientId', clientSecretKey: 'clientSecret' }, organizations: ['acme'], interval: '10m', existingUsers: 'Skip', prune: true, maxDeletions: '10%', suspend: false, ...spec },
});
const user = (name: string, spec: Record<string, unknown> = {}): SelectedObject => ({ kind: 'CasdoorUser', name: `acme.${name}`, spec: { owner: 'acme', name, displayName: name, isForbidden: false, ...spec } });

/** Ten users in Casdoor with this server's mark, as a comparison would have left the state. */
function compared(casdoor: CasdoorStandIn): { state: ServerState; objects: Map<string, SelectedObject> } {
  const state = new ServerState('u');
  const objects = new Map<string, SelectedObject>();
  for (let i = 0; i < 10; i++) {
    const object = user(`u${i}`);
    casdoor.store.addUser({ ...object.spec, properties: { [MANAGED_BY_PROPERTY]: MARK } });
    objects.set(object.name, object);
    state.managed.set(remoteRef('CasdoorUser', `acme/u${i}`), {});
    state.setTarget(objectRef('CasdoorUser', object.name), `acme/u${i}`);
  }
  state.compared = true;
  return { state, objects };
}

test('a changed object is one write, and nothing is listed', async ({ casdoor, client }) => {
  const { state, objects } = compared(casdoor);
  objects.set('acme.u3', user('u3', { displayName: 'renamed' }));
  state.pending.add(objectRef('CasdoorUser', 'acme.u3'));
  casdoor.resetCounters();
  const result = await pushChanges({ client, server: server(), state, now: 0, lookup: (_kind, name) => objects.get(name) });
  assert.is(result.writes, 1);
  assert.is(casdoor.counters.writes, 1);
  assert.is(casdoor.counters.calls['get-users'] ?? 0, 0);
  assert.is(casdoor.store.getUser('acme/u3')?.['displayName'], 'renamed');
});

test('deletions wait until they settle, then go together; the next ones count with them, so the guard is never passed in slices', async ({ casdoor, client }) => {
  const { state, objects } = compared(casdoor);
  const push = (now: number) => pushChanges({ client, server: server(), state, now, lookup: (_kind, name) => objects.get(name) });
  objects.delete('acme.u1');
  state.pending.add(objectRef('CasdoorUser', 'acme.u1'));
  const gathered = await push(0);
  assert.is(gathered.deletionsDueAt, DELETION_SETTLE_MS, 'judged once settled');
  assert.ok(casdoor.store.getUser('acme/u1'), 'not deleted at once');
  await push(DELETION_SETTLE_MS);
  assert.is(casdoor.store.getUser('acme/u1'), null, 'deleted once settled: 1 of 10 is within 10%');
  // A second one, later: with the first it would be 2 of 10, more than 10% allows.
  objects.delete('acme.u2');
  state.pending.add(objectRef('CasdoorUser', 'acme.u2'));
  await push(DELETION_SETTLE_MS + 1000);
  const blocked = await push(3 * DELETION_SETTLE_MS);
  assert.ok(casdoor.store.getUser('acme/u2'), 'the second slice was blocked');
  assert.equal(state.blocked, { wanted: 2, limit: 1 });
  assert.is(blocked.deletionsDueAt, undefined, 'blocked deletions wait for a change, not a timer');
  // The object comes back: nothing is left to delete, and the block lifts.
  objects.set('acme.u2', user('u2'));
  state.pending.add(objectRef('CasdoorUser', 'acme.u2'));
  await push(4 * DELETION_SETTLE_MS);
  assert.is(state.blocked, undefined);
  assert.is(state.deletions.size, 0);
});

test('an object renamed leaves a deletion for what it was written to', async ({ casdoor, client }) => {
  const { state, objects } = compared(casdoor);
  objects.set('acme.u4', user('u4-renamed'));
  state.pending.add(objectRef('CasdoorUser', 'acme.u4'));
  await pushChanges({ client, server: server(), state, now: 0, lookup: (_kind, name) => objects.get(name) });
  assert.ok(casdoor.store.getUser('acme/u4-renamed'), 'the new name created');
  assert.ok(state.deletions.has(remoteRef('CasdoorUser', 'acme/u4')), 'the old one gathered for deletion');
});

test('with prune off, an object gone leaves no deletion', async ({ casdoor, client }) => {
  const kept = compared(casdoor);
  kept.objects.delete('acme.u5');
  kept.state.pending.add(objectRef('CasdoorUser', 'acme.u5'));
  await pushChanges({ client, server: server({ prune: false }), state: kept.state, now: 0, lookup: (_kind, name) => kept.objects.get(name) });
  assert.is(kept.state.deletions.size, 0);
});

test('a user created in Casdoor since the comparison is looked at again: unmarked is skipped, and nothing is overwritten', async ({ casdoor, client }) => {
  const { state, objects } = compared(casdoor);
  casdoor.store.addUser({ owner: 'acme', name: 'newcomer', displayName: 'made in Casdoor' });
  objects.set('acme.newcomer', user('newcomer'));
  state.pending.add(objectRef('CasdoorUser', 'acme.newcomer'));
  await pushChanges({ client, server: server(), state, now: 0, lookup: (_kind, name) => objects.get(name) });
  assert.is(casdoor.store.getUser('acme/newcomer')?.['displayName'], 'made in Casdoor');
  assert.ok(state.skipped.has(objectRef('CasdoorUser', 'acme.newcomer')));
});

test('after a block, objects coming back one by one never let the rest be deleted', async ({ casdoor, client }) => {
  const { state, objects } = compared(casdoor);
  const push = (now: number) => pushChanges({ client, server: server(), state, now, lookup: (_kind, name) => objects.get(name) });
  const all = [...objects.keys()];
  for (const name of all) {
    objects.delete(name);
    state.pending.add(objectRef('CasdoorUser', name));
  }
  await push(0);
  await push(DELETION_SETTLE_MS);
  assert.equal(state.blocked, { wanted: 10, limit: 1 });
  // Nine come back, one at a time: one deletion would now be within the limit, yet none goes.
  for (const [i, name] of all.slice(0, 9).entries()) {
    objects.set(name, user(name.slice('acme.'.length)));
    state.pending.add(objectRef('CasdoorUser', name));
    await push(DELETION_SETTLE_MS * (2 + i));
  }
  assert.is(casdoor.store.usersOf('acme').length, 10, 'nobody deleted');
  assert.ok(state.blocked, 'still blocked while a deletion remains');
  assert.is(state.deletions.size, 1);
});

test('a refused duplicate going away does not delete the Casdoor user the other object writes', async ({ casdoor, client }) => {
  const { state, objects } = compared(casdoor);
  // A second object for acme/u0, made after the comparison: refused as a duplicate.
  objects.set('zz.copy-of-u0', { ...user('u0'), name: 'zz.copy-of-u0' });
  state.pending.add(objectRef('CasdoorUser', 'zz.copy-of-u0'));
  await pushChanges({ client, server: server(), state, now: 0, lookup: (_kind, name) => objects.get(name) });
  assert.match(state.failures.get(objectRef('CasdoorUser', 'zz.copy-of-u0'))?.reason ?? '', 'CasdoorUser acme.u0 is written to the same Casdoor user acme/u0');
  objects.delete('zz.copy-of-u0');
  state.pending.add(objectRef('CasdoorUser', 'zz.copy-of-u0'));
  await pushChanges({ client, server: server(), state, now: 0, lookup: (_kind, name) => objects.get(name) });
  await pushChanges({ client, server: server(), state, now: 2 * DELETION_SETTLE_MS, lookup: (_kind, name) => objects.get(name) });
  assert.ok(casdoor.store.getUser('acme/u0'), 'acme/u0 still there');
  assert.is(state.deletions.size, 0);
});

test('under Adopt, a user another server marked is never taken over by a push', async ({ casdoor, client }) => {
  const { state, objects } = compared(casdoor);
  casdoor.store.addUser({ owner: 'acme', name: 'theirs', displayName: 'kept', properties: { [MANAGED_BY_PROPERTY]: 'other/server' } });
  state.foreign.set(remoteRef('CasdoorUser', 'acme/theirs'), 'other/server');
  objects.set('acme.theirs', user('theirs', { displayName: 'ours now?' }));
  state.pending.add(objectRef('CasdoorUser', 'acme.theirs'));
  await pushChanges({ client, server: server({ existingUsers: 'Adopt' }), state, now: 0, lookup: (_kind, name) => objects.get(name) });
  const theirs = casdoor.store.getUser('acme/theirs')!;
  assert.is(theirs['displayName'], 'kept');
  assert.is((theirs['properties'] as Record<string, string>)[MANAGED_BY_PROPERTY], 'other/server');
  assert.match(state.skipped.get(objectRef('CasdoorUser', 'acme.theirs'))?.reason ?? '', 'managed by CasdoorServer other/server');
  // One unmarked when compared, marked by another server since: looked at again before adopting.
  casdoor.store.addUser({ owner: 'acme', name: 'late', properties: { [MANAGED_BY_PROPERTY]: 'other/server' } });
  state.unmanaged.add(remoteRef('CasdoorUser', 'acme/late'));
  objects.set('acme.late', user('late'));
  state.pending.add(objectRef('CasdoorUser', 'acme.late'));
  await pushChanges({ client, server: server({ existingUsers: 'Adopt' }), state, now: 0, lookup: (_kind, name) => objects.get(name) });
  assert.is((casdoor.store.getUser('acme/late')!['properties'] as Record<string, string>)[MANAGED_BY_PROPERTY], 'other/server');
});

test.run();
