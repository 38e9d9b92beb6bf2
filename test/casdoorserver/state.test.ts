// Which selected objects write each Casdoor object: one (nearly always) or several.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { objectRef } from '../../src/casdoorserver/refs.ts';
import { ServerState } from '../../src/casdoorserver/state.ts';

const test = suite('server state');

test('a Casdoor object written by one, then two, then one selected object again', () => {
  const state = new ServerState('uid');
  state.setTarget(objectRef('CasdoorUser', 'a'), 'acme/zhang');
  assert.is(state.sharedTarget(objectRef('CasdoorUser', 'a'), 'CasdoorUser', 'acme/zhang'), undefined);
  state.setTarget(objectRef('CasdoorUser', 'b'), 'acme/zhang');
  assert.is(state.sharedTarget(objectRef('CasdoorUser', 'a'), 'CasdoorUser', 'acme/zhang'), objectRef('CasdoorUser', 'b'));
  assert.is(state.sharedTarget(objectRef('CasdoorUser', 'b'), 'CasdoorUser', 'acme/zhang'), objectRef('CasdoorUser', 'a'));
  state.dropTarget(objectRef('CasdoorUser', 'a'));
  assert.is(state.sharedTarget(objectRef('CasdoorUser', 'b'), 'CasdoorUser', 'acme/zhang'), undefined);
  assert.is(state.sharedTarget(objectRef('CasdoorUser', 'x'), 'CasdoorUser', 'acme/zhang'), objectRef('CasdoorUser', 'b'));
  // Moving an object to another Casdoor user leaves the first with no writer.
  state.setTarget(objectRef('CasdoorUser', 'b'), 'acme/li');
  assert.is(state.sharedTarget(objectRef('CasdoorUser', 'x'), 'CasdoorUser', 'acme/zhang'), undefined);
  assert.is(state.targetOf(objectRef('CasdoorUser', 'b')), 'acme/li');
  // The same object set twice is still one writer.
  state.setTarget(objectRef('CasdoorUser', 'b'), 'acme/li');
  state.dropTarget(objectRef('CasdoorUser', 'b'));
  assert.is(state.sharedTarget(objectRef('CasdoorUser', 'x'), 'CasdoorUser', 'acme/li'), undefined);
});

test.run();
