// A fetch settles each member once its record is final, whatever order the listings arrive in.
// The client is a stand-in at the module boundary whose listings arrive when a test releases them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { MemberListing, WeComClient } from '../../src/wecom/client.ts';
import { fetchOrganization, type Organization } from '../../src/wecom/fetch.ts';
import type { Department, Member } from '../../src/wecom/types.ts';

const test = suite('fetch: members settled as their records become final');

const departments: Department[] = [1, 2, 3].map((id) => ({ id, parentId: id === 1 ? 0 : 1, name: `d${id}`, leaders: [] }));

/** Listings by department id; each arrives when `release(id)` is called. */
function gatedClient(listings: Record<number, Member[]>) {
  const gates = new Map<number, () => void>();
  const waiting = new Map<number, Promise<void>>();
  for (const id of Object.keys(listings).map(Number)) waiting.set(id, new Promise<void>((resolve) => gates.set(id, resolve)));
  const client = {
    async listMembers(id: number): Promise<MemberListing> {
      await waiting.get(id);
      // Fresh records per listing, as JSON.parse gives them.
      return { members: structuredClone(listings[id] ?? []), rejected: [] };
    },
  } as unknown as WeComClient;
  return { client, release: (id: number) => gates.get(id)!() };
}

/** Fetches with every department listed at once, releasing the listings in `order`; what settle was told, in turn. */
async function fetchInOrder(
  listings: Record<number, Member[]>,
  order: number[],
  standIn: (member: Member) => Member = (member) => ({ userid: member.userid, departments: member.departments, name: 'stand-in' }),
): Promise<{ organization: Organization; settled: Member[] }> {
  const { client, release } = gatedClient(listings);
  const settled: Member[] = [];
  const fetching = fetchOrganization(client, {
    departments: { departments, simple: false },
    concurrency: departments.length,
    settle: (member) => {
      settled.push(structuredClone(member));
      return standIn(member);
    },
  });
  for (const id of order) {
    release(id);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { organization: await fetching, settled };
}

const ORDERS = [[1, 2, 3], [3, 2, 1], [2, 3, 1]];

test('a member of one department is settled once, with its record; the result holds what settle returned', async () => {
  for (const order of ORDERS) {
    const { organization, settled } = await fetchInOrder({ 1: [{ userid: 'a', departments: [1], name: 'A' }], 2: [], 3: [] }, order);
    assert.equal(settled, [{ userid: 'a', departments: [1], name: 'A' }], `order ${order}`);
    assert.equal(organization.members, [{ userid: 'a', departments: [1], name: 'stand-in' }]);
  }
});

test('a member of several departments is settled once all are listed, from its first department\'s record, in any order', async () => {
  const listings = {
    1: [],
    2: [{ userid: 'li', departments: [3, 2], name: 'from 2' }],
    3: [{ userid: 'li', departments: [3, 2], name: 'from 3' }],
  };
  for (const order of ORDERS) {
    const { organization, settled } = await fetchInOrder(listings, order);
    assert.equal(settled, [{ userid: 'li', departments: [3, 2], name: 'from 2' }], `order ${order}`);
    assert.equal(organization.members, [{ userid: 'li', departments: [3, 2], name: 'stand-in' }]);
    assert.equal(organization.rejected, []);
  }
});

test('records that name different departments are merged as ever: the first department\'s record, every department; what was settled gets a new array', async () => {
  // WeCom added li to department 3 while the fetch ran: department 2's record still says [2].
  const listings = {
    1: [],
    2: [{ userid: 'li', departments: [2], name: 'from 2' }],
    3: [{ userid: 'li', departments: [2, 3], name: 'from 3' }],
  };
  for (const order of ORDERS) {
    // A stand-in that keeps the name: whole or settled, the member must come out the same.
    const { organization } = await fetchInOrder(listings, order, (member) => ({ userid: member.userid, departments: member.departments, name: member.name! }));
    assert.equal(organization.members.map((m) => [m.userid, m.departments, m.name]), [['li', [2, 3], 'from 2']], `order ${order}`);
    assert.equal(organization.rejected, []);
  }
});

test('a department the fetch does not list is not waited for; userids differing in case are rejected, settled or not', async () => {
  const listings = {
    1: [{ userid: 'wang', departments: [1, 99], name: 'W' }, { userid: 'Zhao', departments: [1], name: 'Z' }],
    2: [{ userid: 'zhao', departments: [2], name: 'z' }],
    3: [],
  };
  for (const order of ORDERS) {
    const { organization, settled } = await fetchInOrder(listings, order);
    assert.ok(settled.some((m) => m.userid === 'wang'), `order ${order}`);
    assert.equal(organization.members.map((m) => m.userid), ['wang']);
    assert.equal(organization.rejected.map((r) => r.userid).sort(), ['Zhao', 'zhao']);
  }
});

test.run();
