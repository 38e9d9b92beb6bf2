// How a CasdoorServer's state names objects: a user's names are the strings the caller holds.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { describeRef, objectRef, refKind, remoteRef, splitRef } from '../../src/casdoorserver/refs.ts';
import { ServerState } from '../../src/casdoorserver/state.ts';

const test = suite('refs');

test('a user is named by its name, a group apart, and each name splits back', () => {
  assert.is(objectRef('CasdoorUser', 'acme.zhang'), 'acme.zhang');
  assert.is.not(objectRef('CasdoorGroup', 'acme.zhang'), 'acme.zhang');
  for (const kind of ['CasdoorUser', 'CasdoorGroup'] as const) {
    const ref = objectRef(kind, 'acme.d-2');
    assert.equal(splitRef(ref), [kind, 'acme.d-2']);
    assert.is(refKind(ref), kind);
    assert.is(describeRef(ref), `${kind} acme.d-2`);
  }
});

test('in Casdoor, a user is named by its key, and no user key reads as a group', () => {
  assert.is(remoteRef('CasdoorUser', 'acme/zhang'), 'acme/zhang');
  assert.is.not(remoteRef('CasdoorGroup', 'acme/zhang'), 'acme/zhang');
  // spec.organizations (every owner a server writes) allows letters, digits and -._ only.
  const state = new ServerState('uid');
  state.managed.set(remoteRef('CasdoorUser', 'acme/zhang'), {});
  state.managed.set(remoteRef('CasdoorUser', 'acme-2/li'), {});
  state.managed.set(remoteRef('CasdoorGroup', 'acme/zhang'), { parent: 'acme/root' });
  assert.is(state.managedUsers(), 2);
});

test.run();
