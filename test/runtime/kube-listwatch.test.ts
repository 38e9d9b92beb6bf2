import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kubeListWatch, listWatchVia, resourcePath } from '../../src/runtime/kube-listwatch.ts';
import { type ListWatch, ResourceExpiredError, type WatchEvent } from '../../src/runtime/listwatch.ts';

const RESOURCE = { group: 'casdoor.org', version: 'v1alpha1', plural: 'casdoorusers' };

type Handler = (req: IncomingMessage, url: URL, res: ServerResponse) => void;

/** A local HTTP server standing in for the API server; each test sets its handler and reads the request URLs. */
async function apiServer(handler: Handler): Promise<{ kc: KubeConfig; urls: URL[]; server: Server }> {
  const urls: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    urls.push(url);
    handler(req, url, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  return { kc, urls, server };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function item(name: string, rv: string): unknown {
  return { apiVersion: 'casdoor.org/v1alpha1', kind: 'CasdoorUser', metadata: { namespace: 'ns', name, resourceVersion: rv } };
}

/** Runs one watch and resolves with its events and how it ended. */
function watchOnce(lw: ListWatch, rv: string): Promise<{ events: WatchEvent[]; err: unknown }> {
  return new Promise((resolve) => {
    const events: WatchEvent[] = [];
    lw.watch(rv, (event) => events.push(event), (err) => resolve({ events, err }));
  });
}

test('resourcePath builds namespaced and all-namespace paths', () => {
  assert.is(resourcePath(RESOURCE), '/apis/casdoor.org/v1alpha1/casdoorusers');
  assert.is(resourcePath(RESOURCE, 'team-a'), '/apis/casdoor.org/v1alpha1/namespaces/team-a/casdoorusers');
});

test('list sends limit, continue and the label selector, and reads the page', async () => {
  const { kc, urls, server } = await apiServer((_req, _url, res) =>
    json(res, 200, { kind: 'List', metadata: { resourceVersion: '42', continue: 'next' }, items: [item('a', '41')] }),
  );
  try {
    const lw = kubeListWatch(kc, RESOURCE, { namespace: 'ns', labelSelector: 'casdoor.org/syncer=acme' });
    const page = await lw.list({ limit: 2, continue: 'tok' });
    assert.is(page.resourceVersion, '42');
    assert.is(page.continue, 'next');
    assert.is(page.items[0]?.metadata?.name, 'a');
    const url = urls[0];
    assert.is(url?.pathname, '/apis/casdoor.org/v1alpha1/namespaces/ns/casdoorusers');
    assert.is(url?.searchParams.get('limit'), '2');
    assert.is(url?.searchParams.get('continue'), 'tok');
    assert.is(url?.searchParams.get('labelSelector'), 'casdoor.org/syncer=acme');
  } finally {
    server.close();
  }
});

test('list across all namespaces uses the cluster path; a 410 becomes ResourceExpiredError', async () => {
  const { kc, urls, server } = await apiServer((_req, _url, res) =>
    json(res, 410, { kind: 'Status', code: 410, reason: 'Expired', message: 'continue token expired' }),
  );
  try {
    const lw = kubeListWatch(kc, RESOURCE);
    const err = await lw.list({ limit: 10, continue: 'old' }).then(() => undefined, (e: unknown) => e);
    assert.instance(err, ResourceExpiredError);
    assert.is(urls[0]?.pathname, '/apis/casdoor.org/v1alpha1/casdoorusers');
  } finally {
    server.close();
  }
});

test('watch asks for bookmarks from the resourceVersion and delivers events until the server closes', async () => {
  const { kc, urls, server } = await apiServer((_req, _url, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`${JSON.stringify({ type: 'ADDED', object: item('a', '43') })}\n`);
    res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'CasdoorUser', metadata: { resourceVersion: '50' } } })}\n`);
    res.end(`${JSON.stringify({ type: 'DELETED', object: item('a', '51') })}\n`);
  });
  try {
    const lw = kubeListWatch(kc, RESOURCE, { labelSelector: 'x=y', watchTimeoutSeconds: 60 });
    const { events, err } = await watchOnce(lw, '42');
    assert.equal(
      events.map((e) => (e.type === 'BOOKMARK' ? `BOOKMARK ${e.resourceVersion}` : `${e.type} ${e.object.metadata?.resourceVersion}`)),
      ['ADDED 43', 'BOOKMARK 50', 'DELETED 51'],
    );
    assert.is(err, undefined, 'a server close is a normal end');
    const params = urls[0]?.searchParams;
    assert.is(params?.get('watch'), 'true');
    assert.is(params?.get('allowWatchBookmarks'), 'true');
    assert.is(params?.get('resourceVersion'), '42');
    assert.is(params?.get('labelSelector'), 'x=y');
    assert.is(params?.get('timeoutSeconds'), '60');
  } finally {
    server.close();
  }
});

test('a watch ERROR event with code 410 ends the watch with ResourceExpiredError', async () => {
  const { kc, server } = await apiServer((_req, _url, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version' } })}\n`);
  });
  try {
    const { err } = await watchOnce(kubeListWatch(kc, RESOURCE), '1');
    assert.instance(err, ResourceExpiredError);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('a watch refused with an HTTP error ends with an error that is not ResourceExpiredError', async () => {
  const { kc, server } = await apiServer((_req, _url, res) => json(res, 403, { kind: 'Status', code: 403 }));
  try {
    const { err } = await watchOnce(kubeListWatch(kc, RESOURCE), '1');
    assert.instance(err, Error);
    assert.not.instance(err, ResourceExpiredError);
  } finally {
    server.close();
  }
});

test('a watch refused with 410 Gone ends with ResourceExpiredError, so the informer relists', async () => {
  const { kc, server } = await apiServer((_req, _url, res) => json(res, 410, { kind: 'Status', code: 410, message: 'too old resource version' }));
  try {
    const { err } = await watchOnce(kubeListWatch(kc, RESOURCE), '1');
    assert.instance(err, ResourceExpiredError);
  } finally {
    server.close();
  }
});

test('a watch its transport closed for being idle ends normally, so the informer resumes it', async () => {
  const idle = Object.assign(new Error('received nothing for 30000 ms'), { name: 'TimeoutError' });
  const transport = {
    watch: async (_path: string, _query: Record<string, unknown>, _callback: unknown, done: (err: unknown) => void) => {
      setImmediate(() => done(idle));
      return new AbortController();
    },
  };
  const lists = { listClusterCustomObject: async () => ({}), listNamespacedCustomObject: async () => ({}) };
  const { err } = await watchOnce(listWatchVia(lists as never, transport, RESOURCE), '1');
  assert.is(err, undefined);
});

test.run();
