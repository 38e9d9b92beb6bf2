// Which selected objects write each Casdoor object: one (nearly always) or several.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { objectRef } from '../../src/casdoorserver/refs.ts';
import { replaceEntries, ServerState } from '../../src/casdoorserver/state.ts';

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

/** A Map that counts its writes. */
class CountingMap<V> extends Map<string, V> {
  writes = 0;
  override set(key: string, value: V): this {
    this.writes++;
    return super.set(key, value);
  }
  override delete(key: string): boolean {
    this.writes++;
    return super.delete(key);
  }
}

test('entries replaced in place: nothing written when nothing changed; changed, new and gone entries, in any order', () => {
  const map = new CountingMap<{ parent?: string }>();
  const same = (a: { parent?: string }, b: { parent?: string }) => a.parent === b.parent;
  replaceEntries(map, () => [['a', {}], ['b', { parent: 'x' }], ['c', {}]], same);
  map.writes = 0;
  replaceEntries(map, () => [['c', {}], ['a', {}], ['b', { parent: 'x' }]], same);
  assert.is(map.writes, 0, 'equal values, another order');
  replaceEntries(map, () => [['b', { parent: 'y' }], ['d', {}]], same);
  assert.equal(Object.fromEntries(map), { b: { parent: 'y' }, d: {} });
  // As many entries as before, one of them new: the one gone is found all the same.
  replaceEntries(map, () => [['b', { parent: 'y' }], ['e', {}]], same);
  assert.equal(Object.fromEntries(map), { b: { parent: 'y' }, e: {} });
  replaceEntries(map, () => []);
  assert.is(map.size, 0);
});

test('targets replaced in place keep the writers of each Casdoor object right', () => {
  const state = new ServerState('uid');
  const [a, b, c] = ['a', 'b', 'c'].map((name) => objectRef('CasdoorUser', name)) as [string, string, string];
  state.replaceTargets(() => [[a, 'acme/zhang'], [b, 'acme/li']]);
  state.replaceTargets(() => [[b, 'acme/zhang'], [c, 'acme/wang']]);
  assert.is(state.targetOf(a), undefined, 'a is no longer selected');
  assert.is(state.targetOf(b), 'acme/zhang');
  assert.is(state.sharedTarget(c, 'CasdoorUser', 'acme/zhang'), b, 'b alone writes zhang now');
  assert.is(state.sharedTarget(c, 'CasdoorUser', 'acme/li'), undefined, 'nobody writes li');
  assert.is(state.sharedTarget(b, 'CasdoorUser', 'acme/wang'), c);
});

test.run();
