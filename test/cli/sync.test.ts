import { KubeConfig } from '@kubernetes/client-node';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Condition, WeComSyncer, WeComSyncerStatus } from '../../src/api/wecom-syncer.ts';
import {
  type Clock,
  CrdNotInstalledError,
  describeOutcome,
  ExitCode,
  formatDuration,
  kubeSyncerClient,
  runSync,
  type SyncerClient,
  SyncerNotFoundError,
} from '../../src/cli/sync.ts';

const ANNOTATION = 'casdoor.org/sync-requested-at';

function condition(type: string, status: Condition['status'], reason: string, message = ''): Condition {
  return { type, status, reason, message, lastTransitionTime: '2026-11-27T00:00:00Z' };
}

function syncer(status: WeComSyncerStatus = {}, annotations: Record<string, string> = {}): WeComSyncer {
  return {
    apiVersion: 'casdoor.org/v1alpha1',
    kind: 'WeComSyncer',
    metadata: { name: 'acme', namespace: 'casdoor', annotations },
    spec: {
      organization: 'acme', corpId: 'ww1', corpSecretRef: { name: 's', key: 'corpSecret' }, interval: '1h', suspend: false,
      apiURL: 'https://qyapi.weixin.qq.com', removedUsers: 'Forbid', syncGroups: true, maxRemovals: '10%',
    },
    status,
  };
}

const synced: WeComSyncerStatus = {
  conditions: [condition('Ready', 'True', 'Synced', 'Synced 10 users'), condition('Connected', 'True', 'Connected', 'Token issued')],
  users: { total: 10, active: 8, forbidden: 2 },
  departments: 5,
  lastSync: { created: 3, updated: 1, unchanged: 6, removed: 0, failed: 0 },
  lastSuccessfulSyncTime: '2026-11-27T00:00:00Z',
};

// ---- the outcome, as printed ----

const outcome = suite('cli outcome');

outcome('a successful sync prints Ready, the user and write counts, and is ok', () => {
  const { ok, lines } = describeOutcome(syncer(synced));
  assert.ok(ok);
  assert.equal(lines, [
    '✔ synced: Ready=True (Synced): Synced 10 users',
    '  users: 10 total, 8 active, 2 forbidden',
    '  departments: 5',
    '  last sync: 3 created, 1 updated, 6 unchanged, 0 removed, 0 failed',
  ]);
});

outcome('a failed sync prints the reason, a failing connection and a stall, and when it last succeeded', () => {
  const { ok, lines } = describeOutcome(syncer({
    ...synced,
    conditions: [
      condition('Ready', 'False', 'InvalidSecret', 'WeCom rejected the secret (40001)'),
      condition('Connected', 'False', 'InvalidSecret', 'WeCom rejected the secret (40001)'),
      condition('Stalled', 'True', 'InvalidSecret', 'WeCom rejected the secret (40001)'),
    ],
  }));
  assert.not.ok(ok);
  assert.is(lines[0], '✗ sync failed: Ready=False (InvalidSecret): WeCom rejected the secret (40001)');
  assert.is(lines[1], '  Connected=False (InvalidSecret): WeCom rejected the secret (40001)');
  assert.match(lines[2] ?? '', /^ {2}Stalled=True \(InvalidSecret\).*a person must act/);
  assert.ok(lines.includes('  users: 10 total, 8 active, 2 forbidden'));
  assert.is(lines.at(-1), '  last successful sync: 2026-11-27T00:00:00Z');
});

outcome('a failure with a working connection does not repeat Connected, and a first failure never succeeded', () => {
  const { ok, lines } = describeOutcome(syncer({
    conditions: [condition('Ready', 'False', 'Busy', 'WeCom is busy'), condition('Connected', 'True', 'Connected', 'ok')],
  }));
  assert.not.ok(ok);
  assert.equal(lines, ['✗ sync failed: Ready=False (Busy): WeCom is busy', '  last successful sync: never']);
});

outcome('a suspended syncer reports its connection test: ok when Connected is True', () => {
  const suspended = condition('Ready', 'False', 'Suspended', 'Suspended: the connection works');
  const passed = describeOutcome(syncer({ conditions: [suspended, condition('Connected', 'True', 'Connected', 'Token issued')] }));
  assert.ok(passed.ok);
  assert.match(passed.lines[0] ?? '', /connection test passed/);
  const failed = describeOutcome(syncer({ conditions: [suspended, condition('Connected', 'False', 'IPNotAllowed', 'not from 203.0.113.7')] }));
  assert.not.ok(failed.ok);
  assert.ok(failed.lines.includes('  Connected=False (IPNotAllowed): not from 203.0.113.7'));
});

outcome('status without Ready is a failure, not a crash', () => {
  assert.equal(describeOutcome(syncer()), { ok: false, lines: ['✗ sync failed: status has no Ready condition', '  last successful sync: never'] });
});

outcome('durations print the way Go prints them', () => {
  assert.is(formatDuration(300_000), '5m0s');
  assert.is(formatDuration(90_000), '1m30s');
  assert.is(formatDuration(60_000), '1m0s');
  assert.is(formatDuration(45_000), '45s');
  assert.is(formatDuration(3_723_000), '1h2m3s');
});

outcome.run();

// ---- the request-and-wait flow, on a fake cluster and a fake clock ----

/** A fake clock: sleeping advances time at once. */
function fakeClock(start = Date.parse('2026-11-27T01:00:00.000Z')): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => new Date(now),
    async sleep(ms) {
      slept.push(ms);
      now += ms;
    },
  };
}

/** Records what is printed. */
function fakeTerminal() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, terminal: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } };
}

/**
 * A fake cluster: `requestSync` stores the annotation; each `get` first runs
 * `onGet` (the operator's progress), with the number of reads so far.
 */
function fakeClient(onGet: (stored: WeComSyncer, reads: number) => WeComSyncer | Error = (s) => s) {
  let stored = syncer(synced);
  let reads = 0;
  const requests: string[] = [];
  const client: SyncerClient = {
    async requestSync(_namespace, _name, value) {
      requests.push(value);
      stored = { ...stored, metadata: { ...stored.metadata, annotations: { [ANNOTATION]: value } } };
      return stored;
    },
    async get() {
      const next = onGet(stored, ++reads);
      if (next instanceof Error) throw next;
      stored = next;
      return stored;
    },
  };
  return { client, requests, reads: () => reads };
}

/** The operator answering the request after `after` reads, with `status` merged over the stored status. */
function answersAfter(after: number, status: WeComSyncerStatus = {}) {
  return (stored: WeComSyncer, reads: number): WeComSyncer => {
    if (reads < after) return stored;
    return { ...stored, status: { ...stored.status, ...status, lastHandledSyncRequest: stored.metadata.annotations?.[ANNOTATION] } };
  };
}

const flow = suite('cli sync flow');
const request = { name: 'acme', namespace: 'casdoor', wait: true, timeoutMs: 60_000, pollMs: 1000 };

flow('annotates with a fresh RFC 3339 value, waits until status answers it, prints the outcome and exits 0', async () => {
  const { client, requests } = fakeClient(answersAfter(3));
  const { out, err, terminal } = fakeTerminal();
  const clock = fakeClock();
  assert.is(await runSync(client, request, terminal, clock), ExitCode.Ok);
  assert.equal(requests, ['2026-11-27T01:00:00.000Z']);
  assert.equal(clock.slept, [1000, 1000]);
  assert.is(out[0], '✔ synced: Ready=True (Synced): Synced 10 users');
  assert.ok(out.includes('  last sync: 3 created, 1 updated, 6 unchanged, 0 removed, 0 failed'));
  assert.equal(err, [
    '► annotating WeComSyncer acme in casdoor namespace',
    '✔ WeComSyncer annotated: casdoor.org/sync-requested-at=2026-11-27T01:00:00.000Z',
    '◎ waiting for the sync to finish',
  ]);
});

flow('a stale answer to an earlier request is not taken for ours', async () => {
  const { client } = fakeClient((stored, reads) =>
    reads < 3 ? { ...stored, status: { ...synced, lastHandledSyncRequest: '2026-11-26T00:00:00Z' } } : answersAfter(3)(stored, reads));
  const clock = fakeClock();
  assert.is(await runSync(client, request, fakeTerminal().terminal, clock), ExitCode.Ok);
  assert.is(clock.slept.length, 2);
});

flow('a failed sync prints the reason and exits 1', async () => {
  const { client } = fakeClient(answersAfter(1, { conditions: [condition('Ready', 'False', 'Busy', 'WeCom is busy (-1)')] }));
  const { out, terminal } = fakeTerminal();
  assert.is(await runSync(client, request, terminal, fakeClock()), ExitCode.Failed);
  assert.is(out[0], '✗ sync failed: Ready=False (Busy): WeCom is busy (-1)');
});

flow('progress from Reconciling is printed once per change', async () => {
  const progress = (message: string): WeComSyncerStatus => ({ conditions: [...synced.conditions!, condition('Reconciling', 'True', 'Syncing', message)] });
  const steps = [progress('fetching'), progress('written 2/10'), progress('written 2/10'), progress('written 10/10')];
  const { client } = fakeClient((stored, reads) =>
    reads <= steps.length ? { ...stored, status: steps[reads - 1] } : answersAfter(0, synced)(stored, reads));
  const { err, terminal } = fakeTerminal();
  assert.is(await runSync(client, request, terminal, fakeClock()), ExitCode.Ok);
  assert.equal(err.slice(3), ['◎ fetching', '◎ written 2/10', '◎ written 10/10']);
});

flow('--no-wait returns after the annotation without reading status', async () => {
  const { client, reads } = fakeClient();
  const { out, terminal } = fakeTerminal();
  assert.is(await runSync(client, { ...request, wait: false }, terminal, fakeClock()), ExitCode.Ok);
  assert.is(reads(), 0);
  assert.equal(out, []);
});

flow('times out with exit 1, the request value, and the last API error', async () => {
  const { client } = fakeClient((stored, reads) => (reads % 2 ? stored : new Error('connect ECONNREFUSED 127.0.0.1:6443')));
  const { err, terminal } = fakeTerminal();
  const clock = fakeClock();
  assert.is(await runSync(client, { ...request, timeoutMs: 5_000 }, terminal, clock), ExitCode.Failed);
  assert.equal(clock.slept, [1000, 1000, 1000, 1000, 1000]);
  assert.match(err.at(-1) ?? '', /^✗ timed out after 5s waiting for wecomsyncer casdoor\/acme to handle the sync request 2026-11-27T01:00:00.000Z \(last error: connect ECONNREFUSED/);
});

flow('a syncer that does not exist, or is deleted while we wait, exits 1 with "not found"', async () => {
  const missing: SyncerClient = {
    requestSync: () => Promise.reject(new SyncerNotFoundError('wecomsyncer casdoor/acme not found')),
    get: () => Promise.reject(new Error('not called')),
  };
  const first = fakeTerminal();
  assert.is(await runSync(missing, request, first.terminal, fakeClock()), ExitCode.Failed);
  assert.is(first.err.at(-1), '✗ wecomsyncer casdoor/acme not found');

  const { client } = fakeClient((stored, reads) => (reads < 2 ? stored : new SyncerNotFoundError('wecomsyncer casdoor/acme not found')));
  const second = fakeTerminal();
  assert.is(await runSync(client, request, second.terminal, fakeClock()), ExitCode.Failed);
  assert.is(second.err.at(-1), '✗ wecomsyncer casdoor/acme not found');
});

flow('a newer request by someone else replaces ours, and its answer answers us', async () => {
  const theirs = '2026-11-27T01:00:01.500Z';
  const { client } = fakeClient((stored, reads) => {
    if (reads === 1) return { ...stored, metadata: { ...stored.metadata, annotations: { [ANNOTATION]: theirs } } };
    return reads >= 3 ? { ...stored, status: { ...synced, lastHandledSyncRequest: theirs } } : stored;
  });
  const { err, terminal } = fakeTerminal();
  assert.is(await runSync(client, request, terminal, fakeClock()), ExitCode.Ok);
  assert.ok(err.includes(`◎ a newer request (${theirs}) replaced ours; waiting for it instead`));
});

flow.run();

// ---- telling a missing object from a missing CRD, on a fake API server ----

const client = suite<{ server: Server; kc: KubeConfig; served: string[] }>('cli kube client');

client.before(async (context) => {
  context.served = [];
  context.server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/apis/casdoor.org/v1alpha1' && context.served.length > 0) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'casdoor.org/v1alpha1', resources: context.served.map((name) => ({ name, namespaced: true, kind: 'X', verbs: [], singularName: '' })) }));
      return;
    }
    if (url === '/apis/casdoor.org/v1alpha1/namespaces/casdoor/wecomsyncers/acme' && req.method === 'PATCH') {
      res.statusCode = 403;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'wecomsyncers.casdoor.org "acme" is forbidden: User "bob" cannot patch resource' }));
      return;
    }
    res.statusCode = 404;
    res.setHeader('content-type', 'text/plain');
    res.end('404 page not found\n');
  });
  await new Promise<void>((resolve) => context.server.listen(0, '127.0.0.1', resolve));
  const { port } = context.server.address() as AddressInfo;
  context.kc = new KubeConfig();
  context.kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
});
client.after(({ server }) => new Promise<void>((resolve) => server.close(() => resolve())));

client('a 404 while the API server does not serve wecomsyncers means the CRD is not installed', async ({ kc, served }) => {
  served.length = 0;
  const error = await kubeSyncerClient(kc).get('casdoor', 'other').catch((e: unknown) => e);
  assert.instance(error, CrdNotInstalledError);
  assert.match((error as Error).message, /CRD is not installed.*wecomsyncers\.casdoor\.org\/v1alpha1.*kubectl apply -f crds\//);
  served.push('casdoorusers');
  assert.instance(await kubeSyncerClient(kc).get('casdoor', 'other').catch((e: unknown) => e), CrdNotInstalledError);
});

client('a 404 while wecomsyncers is served means the syncer does not exist', async ({ kc, served }) => {
  served.splice(0, served.length, 'wecomsyncers', 'wecomsyncers/status');
  const error = await kubeSyncerClient(kc).requestSync('casdoor', 'other', 'v').catch((e: unknown) => e);
  assert.instance(error, SyncerNotFoundError);
  assert.is((error as Error).message, 'wecomsyncer casdoor/other not found');
});

client('other API errors carry the Status message, not the whole response', async ({ kc }) => {
  const error = await kubeSyncerClient(kc).requestSync('casdoor', 'acme', 'v').catch((e: unknown) => e);
  assert.instance(error, Error);
  assert.is((error as Error).message, 'HTTP 403: wecomsyncers.casdoor.org "acme" is forbidden: User "bob" cannot patch resource');
});

client.run();
