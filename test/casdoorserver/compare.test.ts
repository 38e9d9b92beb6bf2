// A full comparison whose listing reads a user twice: Casdoor's pages shift when a user is added while they are
// read, and the listing keeps the last reading of each name. The comparison must judge by that reading too.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CasdoorServer } from '../../src/api/casdoor-server.ts';
import type { CasdoorClient, ListOptions, RemoteUser } from '../../src/casdoor/client.ts';
import { compareAll } from '../../src/casdoorserver/compare.ts';
import { MANAGED_BY_PROPERTY, type SelectedObject } from '../../src/casdoorserver/objects.ts';
import { remoteRef } from '../../src/casdoorserver/refs.ts';
import { ServerState } from '../../src/casdoorserver/state.ts';

const test = suite('CasdoorServer full comparison');
const MARK = 'casdoor/main';

const server: CasdoorServer = {
  apiVersion: 'casdoor.org/v1alpha1', kind: 'CasdoorServer', metadata: { name: 'main', namespace: 'casdoor', uid: 'u' },
  spec: { endpoint: 'http://x', credentialsRef: { name: 'c', clientIdKey: 'clientId', clientSecretKey: 'clientSecret' }, organizations: ['acme'], interval: '10m', existingUsers: 'Skip', prune: true, maxDeletions: '100%', suspend: false },
};
const user = (name: string): SelectedObject => ({ kind: 'CasdoorUser', name: `acme.${name}`, spec: { owner: 'acme', name, displayName: name, isForbidden: false } });
const casdoorUser = (name: string, fields: Record<string, unknown> = {}, mark = MARK): RemoteUser => ({ owner: 'acme', name, displayName: name, isForbidden: false, properties: { [MANAGED_BY_PROPERTY]: mark }, ...fields });

/** A client whose listing reads `readings` in order, keeping the last reading of each name as CasdoorClient does. */
function listingOf(readings: RemoteUser[]): { client: CasdoorClient; updates: string[] } {
  const updates: string[] = [];
  const client = {
    async listUsers(_organization: string, options: ListOptions = {}) {
      const byName = new Map<string, RemoteUser | undefined>();
      for (const reading of readings) byName.set(reading.name, options.reduce ? options.reduce(structuredClone(reading)) : reading);
      return [...byName.values()].filter((u) => u !== undefined);
    },
    async listGroups() {
      return [];
    },
    async updateUser(owner: string, name: string) {
      updates.push(`${owner}/${name}`);
    },
    async deleteUser(owner: string, name: string) {
      updates.push(`deleted ${owner}/${name}`);
    },
  };
  return { client: client as unknown as CasdoorClient, updates };
}

test('read in sync, then read again changed: the change is written', async () => {
  const { client, updates } = listingOf([casdoorUser('a'), casdoorUser('b'), casdoorUser('b', { displayName: 'edited in Casdoor' })]);
  const state = new ServerState('u');
  const { counts } = await compareAll({ client, server, users: [user('a'), user('b')], groups: [], state });
  assert.equal(updates, ['acme/b']);
  assert.is(counts.updated, 1);
  assert.is(counts.unchanged, 1);
});

test('read changed, then read again in sync: nothing is written', async () => {
  const { client, updates } = listingOf([casdoorUser('b', { displayName: 'old' }), casdoorUser('b')]);
  const state = new ServerState('u');
  const { counts } = await compareAll({ client, server, users: [user('b')], groups: [], state });
  assert.equal(updates, []);
  assert.is(counts.unchanged, 1);
  assert.ok(state.managed.has(remoteRef('CasdoorUser', 'acme/b')));
});

test('read in sync, then read again with another server\'s mark: never managed, never written, never deleted', async () => {
  const { client, updates } = listingOf([casdoorUser('b'), casdoorUser('b', {}, 'other/server')]);
  const state = new ServerState('u');
  const { counts } = await compareAll({ client, server, users: [user('b')], groups: [], state });
  assert.equal(updates, []);
  assert.is(counts.skipped, 1);
  assert.not.ok(state.managed.has(remoteRef('CasdoorUser', 'acme/b')));
  assert.is(state.foreign.get(remoteRef('CasdoorUser', 'acme/b')), 'other/server');
});

test.run();
