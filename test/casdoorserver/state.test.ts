// Which selected objects write each Casdoor object: one (nearly always) or several.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ServerState } from '../../src/casdoorserver/state.ts';

const test = suite('server state');

test('a Casdoor object written by one, then two, then one selected object again', () => {
  const state = new ServerState('uid');
  state.setTarget('CasdoorUser/a', 'acme/zhang');
  assert.is(state.sharedTarget('CasdoorUser/a', 'CasdoorUser', 'acme/zhang'), undefined);
  state.setTarget('CasdoorUser/b', 'acme/zhang');
  assert.is(state.sharedTarget('CasdoorUser/a', 'CasdoorUser', 'acme/zhang'), 'CasdoorUser/b');
  assert.is(state.sharedTarget('CasdoorUser/b', 'CasdoorUser', 'acme/zhang'), 'CasdoorUser/a');
  state.dropTarget('CasdoorUser/a');
  assert.is(state.sharedTarget('CasdoorUser/b', 'CasdoorUser', 'acme/zhang'), undefined);
  assert.is(state.sharedTarget('CasdoorUser/x', 'CasdoorUser', 'acme/zhang'), 'CasdoorUser/b');
  // Moving an object to another Casdoor user leaves the first with no writer.
  state.setTarget('CasdoorUser/b', 'acme/li');
  assert.is(state.sharedTarget('CasdoorUser/x', 'CasdoorUser', 'acme/zhang'), undefined);
  assert.is(state.targetOf('CasdoorUser/b'), 'acme/li');
  // The same object set twice is still one writer.
  state.setTarget('CasdoorUser/b', 'acme/li');
  state.dropTarget('CasdoorUser/b');
  assert.is(state.sharedTarget('CasdoorUser/x', 'CasdoorUser', 'acme/li'), undefined);
});

test.run();
