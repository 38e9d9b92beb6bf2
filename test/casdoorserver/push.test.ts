// Pushes between comparisons, against the stand-in Casdoor over HTTP: one write per
// change, and deletions gathered, settled and judged together, never in slices.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CasdoorServer } from '../../src/api/casdoor-server.ts';
import { CasdoorClient } from '../../src/casdoor/client.ts';
import { MANAGED_BY_PROPERTY, type SelectedObject } from '../../src/casdoorserver/objects.ts';
import { DELETION_SETTLE_MS, pushChanges } from '../../src/casdoorserver/push.ts';
import { remoteRef, ServerState } from '../../src/casdoorserver/state.ts';
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
    state.writtenTo.set(`CasdoorUser/${object.name}`, `acme/u${i}`);
  }
  state.compared = true;
  return { state, objects };
}

test('a changed object is one write, and nothing is listed', async ({ casdoor, client }) => {
  const { state, objects } = compared(casdoor);
  objects.set('acme.u3', user('u3', { displayName: 'renamed' }));
  state.pending.add('CasdoorUser/acme.u3');
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
  state.pending.add('CasdoorUser/acme.u1');
  const gathered = await push(0);
  assert.is(gathered.deletionsDueAt, DELETION_SETTLE_MS, 'judged once settled');
  assert.ok(casdoor.store.getUser('acme/u1'), 'not deleted at once');
  await push(DELETION_SETTLE_MS);
  assert.is(casdoor.store.getUser('acme/u1'), null, 'deleted once settled: 1 of 10 is within 10%');
  // A second one, later: with the first it would be 2 of 10, more than 10% allows.
  objects.delete('acme.u2');
  state.pending.add('CasdoorUser/acme.u2');
  await push(DELETION_SETTLE_MS + 1000);
  const blocked = await push(3 * DELETION_SETTLE_MS);
  assert.ok(casdoor.store.getUser('acme/u2'), 'the second slice was blocked');
  assert.equal(state.blocked, { wanted: 2, limit: 1 });
  assert.is(blocked.deletionsDueAt, undefined, 'blocked deletions wait for a change, not a timer');
  // The object comes back: nothing is left to delete, and the block lifts.
  objects.set('acme.u2', user('u2'));
  state.pending.add('CasdoorUser/acme.u2');
  await push(4 * DELETION_SETTLE_MS);
  assert.is(state.blocked, undefined);
  assert.is(state.deletions.size, 0);
});

test('an object renamed leaves a deletion for what it was written to', async ({ casdoor, client }) => {
  const { state, objects } = compared(casdoor);
  objects.set('acme.u4', user('u4-renamed'));
  state.pending.add('CasdoorUser/acme.u4');
  await pushChanges({ client, server: server(), state, now: 0, lookup: (_kind, name) => objects.get(name) });
  assert.ok(casdoor.store.getUser('acme/u4-renamed'), 'the new name created');
  assert.ok(state.deletions.has(remoteRef('CasdoorUser', 'acme/u4')), 'the old one gathered for deletion');
});

test('with prune off, an object gone leaves no deletion', async ({ casdoor, client }) => {
  const kept = compared(casdoor);
  kept.objects.delete('acme.u5');
  kept.state.pending.add('CasdoorUser/acme.u5');
  await pushChanges({ client, server: server({ prune: false }), state: kept.state, now: 0, lookup: (_kind, name) => kept.objects.get(name) });
  assert.is(kept.state.deletions.size, 0);
});

test('a user created in Casdoor since the comparison is looked at again: unmarked is skipped, and nothing is overwritten', async ({ casdoor, client }) => {
  const { state, objects } = compared(casdoor);
  casdoor.store.addUser({ owner: 'acme', name: 'newcomer', displayName: 'made in Casdoor' });
  objects.set('acme.newcomer', user('newcomer'));
  state.pending.add('CasdoorUser/acme.newcomer');
  await pushChanges({ client, server: server(), state, now: 0, lookup: (_kind, name) => objects.get(name) });
  assert.is(casdoor.store.getUser('acme/newcomer')?.['displayName'], 'made in Casdoor');
  assert.ok(state.skipped.has('CasdoorUser/acme.newcomer'));
});

test.run();
