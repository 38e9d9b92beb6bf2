import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SharedConnectionsKubeConfig } from '../../src/runtime/kube-config.ts';
import { KubeWatch, WatchRefusedError } from '../../src/runtime/kube-watch.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A local HTTP server standing in for the API server, and a kubeconfig with a bearer token pointing at it. */
async function apiServer(handler: Handler): Promise<{ kc: SharedConnectionsKubeConfig; server: Server; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // The operator's own KubeConfig: its credentials, user agent and connection pool.
  const kc = new SharedConnectionsKubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'fake', token: 'token-of-the-test' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  return { kc, server, requests };
}

function stop(server: Server): void {
  server.closeAllConnections();
  server.close();
}

/**
 * Runs one watch: its events as `type name` and how it ended. It resolves a while after the first `done`, so
 * that a second call (aborting a finished body makes undici emit an error on it too) would be counted.
 */
function watchOnce(watch: KubeWatch, query: Record<string, unknown> = {}): Promise<{ events: string[]; err: unknown; doneCalls: number }> {
  return new Promise((resolve) => {
    const events: string[] = [];
    let doneCalls = 0;
    let first: unknown;
    void watch.watch('/apis/casdoor.org/v1alpha1/casdoorusers', query, (type, object) => {
      events.push(`${type} ${(object as { metadata?: { name?: string } }).metadata?.name}`);
    }, (err) => {
      if (doneCalls++ === 0) {
        first = err;
        setTimeout(() => resolve({ events, err: first, doneCalls }), 50);
      }
    });
  });
}

const line = (type: string, name: string): string => `${JSON.stringify({ type, object: { metadata: { name } } })}\n`;

test('a watch sends the credentials and watch=true, delivers events in order, and ends with nothing when the server closes', async () => {
  const { kc, server, requests } = await apiServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(line('ADDED', 'a'));
    res.write(line('MODIFIED', 'a').slice(0, 10));
    setTimeout(() => res.end(line('MODIFIED', 'a').slice(10) + line('DELETED', 'a')), 20);
  });
  try {
    const { events, err, doneCalls } = await watchOnce(new KubeWatch(kc), { resourceVersion: '7', labelSelector: undefined });
    assert.equal(events, ['ADDED a', 'MODIFIED a', 'DELETED a']);
    assert.is(err, null);
    assert.is(doneCalls, 1);
    const url = new URL(requests[0]?.url ?? '', 'http://x');
    assert.is(url.searchParams.get('watch'), 'true');
    assert.is(url.searchParams.get('resourceVersion'), '7');
    assert.is(url.searchParams.has('labelSelector'), false, 'an undefined parameter is left out');
    assert.is(requests[0]?.headers.authorization, 'Bearer token-of-the-test');
    assert.is(requests[0]?.headers['user-agent'], 'wecom-syncer');
  } finally {
    stop(server);
  }
});

test('a line that is not JSON ends the watch with an error that names neither the line nor the token', async () => {
  const { kc, server } = await apiServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(line('ADDED', 'a'));
    res.write('{"type":"ADDED","object":{"metadata":{"name":"token-of-the-test"\n');
    res.write(line('ADDED', 'c'));
  });
  try {
    const { events, err, doneCalls } = await watchOnce(new KubeWatch(kc));
    assert.equal(events, ['ADDED a'], 'nothing after the bad line is delivered');
    assert.is(doneCalls, 1);
    assert.instance(err, Error);
    assert.match((err as Error).message, /not JSON/);
    assert.not.match((err as Error).message, /token-of-the-test/);
  } finally {
    stop(server);
  }
});

test('a stream cut inside an event is an error, not a normal close; a last event without its newline is delivered', async () => {
  const cut = await apiServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(line('ADDED', 'a') + line('ADDED', 'b').slice(0, 12));
  });
  try {
    const { events, err } = await watchOnce(new KubeWatch(cut.kc));
    assert.equal(events, ['ADDED a']);
    assert.instance(err, Error);
    assert.match((err as Error).message, /not JSON/);
  } finally {
    stop(cut.server);
  }
  const unterminated = await apiServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(line('ADDED', 'a') + line('ADDED', 'b').trimEnd());
  });
  try {
    const { events, err } = await watchOnce(new KubeWatch(unterminated.kc));
    assert.equal(events, ['ADDED a', 'ADDED b']);
    assert.is(err, null);
  } finally {
    stop(unterminated.server);
  }
});

test('a refused watch ends with its HTTP status; a quiet one ends after the idle timeout with a TimeoutError', async () => {
  const refused = await apiServer((_req, res) => {
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', code: 403, message: 'casdoorusers is forbidden: User "bench" cannot watch resource "casdoorusers"' }));
  });
  try {
    const { err } = await watchOnce(new KubeWatch(refused.kc));
    assert.instance(err, WatchRefusedError);
    assert.is((err as WatchRefusedError).statusCode, 403);
    assert.match((err as Error).message, /HTTP 403 Forbidden: casdoorusers is forbidden: User "bench" cannot watch/, 'what RBAC said');
    assert.not.match((err as Error).message, /token-of-the-test/);
  } finally {
    stop(refused.server);
  }
  const quiet = await apiServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(line('ADDED', 'a'));
  });
  try {
    const started = performance.now();
    const { events, err } = await watchOnce(new KubeWatch(quiet.kc, { idleTimeoutMs: 100 }));
    assert.equal(events, ['ADDED a']);
    assert.is((err as Error).name, 'TimeoutError');
    assert.ok(performance.now() - started >= 100, 'not before the idle timeout');
  } finally {
    stop(quiet.server);
  }
});

test('the idle timeout counts from the last chunk: a watch that keeps receiving stays open past it', async () => {
  const { kc, server } = await apiServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    let sent = 0;
    const next = (): void => {
      if (++sent > 10) res.end();
      else {
        res.write(line('MODIFIED', `n${sent}`));
        setTimeout(next, 30);
      }
    };
    next();
  });
  try {
    // 300 ms of events 30 ms apart, against an idle timeout of 300 ms.
    const { events, err } = await watchOnce(new KubeWatch(kc, { idleTimeoutMs: 300 }));
    assert.is(events.length, 10, 'every event');
    assert.is(err, null, 'closed by the server, not by the timer');
  } finally {
    stop(server);
  }
});

test('aborting a watch closes its connection', async () => {
  let closed!: () => void;
  const connectionClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const { kc, server } = await apiServer((req, res) => {
    req.socket.on('close', closed);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(line('ADDED', 'a'));
  });
  try {
    let done = 0;
    const controller = await new KubeWatch(kc).watch('/x', {}, () => {}, () => done++);
    controller.abort();
    await connectionClosed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.is(done, 1, 'done is called once');
  } finally {
    stop(server);
  }
});

test.run();
