import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DesiredObject } from '../../src/syncer/desired.ts';
import { EarlyCreates, type EarlyCreatesOptions } from '../../src/syncer/early-creates.ts';
import type { Member } from '../../src/wecom/types.ts';
import { desiredUser } from '../support/syncer-fixtures.ts';

const test = suite('early-creates');

const member = (userid: string): Member => ({ userid, departments: [1] }) as unknown as Member;

/** Creates that wait until released, so a test sees what is in flight. */
function heldCreates() {
  const started: string[] = [];
  const pending: Array<() => void> = [];
  let inFlight = 0;
  let most = 0;
  const create = (object: DesiredObject): Promise<boolean> => {
    started.push(object.name);
    most = Math.max(most, ++inFlight);
    return new Promise((resolve, reject) => {
      pending.push(() => {
        inFlight--;
        if (object.name.endsWith('fails')) reject(new Error('refused'));
        // An object of that name exists after all (409): left as it is.
        else resolve(!object.name.endsWith('exists'));
      });
    });
  };
  const releaseAll = async (): Promise<void> => {
    while (pending.length > 0) {
      for (const release of pending.splice(0)) release();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { create, started, releaseAll, most: () => most };
}

function early(create: EarlyCreatesOptions['create'], options: Partial<EarlyCreatesOptions> = {}): EarlyCreates {
  return new EarlyCreates({
    isStored: () => false,
    nameOf: (m) => m.userid.toLowerCase(),
    toDesired: (m) => desiredUser(m.userid.toLowerCase()),
    create,
    concurrency: 2,
    signal: new AbortController().signal,
    ...options,
  });
}

test('nothing is created before start; then at most `concurrency` at once', async () => {
  const held = heldCreates();
  const creates = early(held.create);
  creates.offer(['a', 'b', 'c', 'd', 'e'].map(member));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(held.started, []);
  creates.start();
  assert.equal(held.started, ['a', 'b']);
  await held.releaseAll();
  const { written, failed } = await creates.finish();
  assert.equal([...written.keys()], ['a', 'b', 'c', 'd', 'e']);
  assert.is(failed, 0);
  assert.is(held.most(), 2);
});

test('a member is offered once, whatever the case of its userid; stored ones and unnamable ones are left to the plan', async () => {
  const held = heldCreates();
  const made: string[] = [];
  const creates = early(held.create, {
    concurrency: 10,
    isStored: (name) => name === 'stored',
    nameOf: (m) => {
      if (m.userid === 'bad') throw new Error('no name');
      return m.userid.toLowerCase();
    },
    toDesired: (m) => {
      made.push(m.userid);
      return desiredUser(m.userid.toLowerCase());
    },
  });
  creates.start();
  creates.offer(['li', 'stored', 'bad'].map(member));
  creates.offer(['LI', 'li', 'wang'].map(member));
  assert.equal(held.started, ['li', 'wang']);
  assert.equal(made, ['li', 'wang'], 'no spec is made for a member stored or unnamable');
  await held.releaseAll();
  assert.equal([...(await creates.finish()).written.keys()], ['li', 'wang']);
});

test('an object found existing (409) is neither written nor failed; one the cache saw deleted is no longer written', async () => {
  const held = heldCreates();
  const creates = early(held.create, { concurrency: 10 });
  creates.start();
  creates.offer(['a', 'b-exists', 'c'].map(member));
  await held.releaseAll();
  creates.deleted('c');
  const { written, failed } = await creates.finish();
  assert.equal([...written.keys()], ['a']);
  assert.is(failed, 0);
});

test('a listener that throws does not keep finish waiting', async () => {
  const held = heldCreates();
  const creates = early(held.create, { onWritten: () => { throw new Error('listener'); } });
  creates.start();
  creates.offer(['a'].map(member));
  const finished = creates.finish();
  process.once('unhandledRejection', () => {});
  await held.releaseAll();
  assert.equal([...(await finished).written.keys()], ['a']);
});

test('finish waits for the creates in flight and drops those not begun; failures are not written', async () => {
  const held = heldCreates();
  const creates = early(held.create);
  creates.start();
  creates.offer(['a', 'b-fails', 'c', 'd'].map(member));
  const finished = creates.finish();
  let done = false;
  void finished.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.is(done, false, 'two creates still in flight');
  await held.releaseAll();
  const { written, failed } = await finished;
  assert.equal(held.started, ['a', 'b-fails'], 'c and d were never begun: the plan writes them');
  assert.equal([...written], [['a', 'fp-a']]);
  assert.is(failed, 1);
  creates.offer([member('e')]);
  assert.equal(held.started, ['a', 'b-fails'], 'nothing is taken after finish');
});

test('an aborted signal begins nothing more', async () => {
  const held = heldCreates();
  const abort = new AbortController();
  const creates = early(held.create, { signal: abort.signal });
  creates.start();
  creates.offer(['a', 'b', 'c'].map(member));
  abort.abort();
  await held.releaseAll();
  assert.equal(held.started, ['a', 'b']);
  assert.equal([...(await creates.finish()).written.keys()], ['a', 'b']);
});

test.run();
