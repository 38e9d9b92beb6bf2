import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiException, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SharedConnectionsKubeConfig } from '../../src/runtime/kube-config.ts';

/** Makes `calls` API calls, `parallel` at a time, through `kc` against a local server; returns the TCP connections the server saw. */
async function connectionsFor(kc: KubeConfig, calls: number, parallel: number): Promise<number> {
  let connections = 0;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ items: [], metadata: {} }));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'someone', token: 'x' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'someone' }],
    currentContext: 'local',
  });
  const api = kc.makeApiClient(CustomObjectsApi);
  try {
    for (let done = 0; done < calls; done += parallel) {
      await Promise.all(Array.from({ length: parallel }, () => api.listNamespacedCustomObject({ group: 'g', version: 'v1', namespace: 'ns', plural: 'things' })));
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return connections;
}

test('client-node alone opens a connection per request (why SharedConnectionsKubeConfig exists)', async () => {
  assert.is(await connectionsFor(new KubeConfig(), 10, 1), 10);
});

// undici opens a second connection for the second request and reuses it from then on.
test('SharedConnectionsKubeConfig: sequential calls reuse a connection', async () => {
  assert.ok((await connectionsFor(new SharedConnectionsKubeConfig(), 20, 1)) <= 2);
});

test('SharedConnectionsKubeConfig: concurrent calls reuse a pool as large as the concurrency', async () => {
  const connections = await connectionsFor(new SharedConnectionsKubeConfig(), 80, 4);
  assert.ok(connections <= 8, `${connections} connections for 80 calls, 4 at a time`);
});

/** One request as a local server saw it. */
interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A SharedConnectionsKubeConfig against a local server that records each request and answers with `answer`. */
async function withServer(
  answer: (seen: Seen) => { status: number; headers?: Record<string, string>; body: unknown },
  use: (api: CustomObjectsApi, seen: Seen[], kc: SharedConnectionsKubeConfig) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(request);
      const reply = answer(request);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new SharedConnectionsKubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'someone', token: 'x' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'someone' }],
    currentContext: 'local',
  });
  try {
    await use(kc.makeApiClient(CustomObjectsApi), seen, kc);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const target = { group: 'g.example', version: 'v1', namespace: 'ns', plural: 'things' };

test('SharedConnectionsKubeConfig: a create sends its JSON body, bearer token and our user agent, and returns the answer', async () => {
  await withServer(
    (request) => ({ status: 201, body: { ...JSON.parse(request.body), metadata: { name: 'a', uid: 'u1' } } }),
    async (api, seen) => {
      const created = (await api.createNamespacedCustomObject({ ...target, body: { spec: { n: '张三' } }, fieldManager: 'me' })) as { metadata: { uid: string }; spec: unknown };
      assert.equal(created, { spec: { n: '张三' }, metadata: { name: 'a', uid: 'u1' } });
      assert.is(seen[0]?.method, 'POST');
      assert.is(seen[0]?.url, '/apis/g.example/v1/namespaces/ns/things?fieldManager=me');
      assert.equal(JSON.parse(seen[0]?.body ?? ''), { spec: { n: '张三' } });
      assert.is(seen[0]?.headers.authorization, 'Bearer x');
      assert.is(seen[0]?.headers['user-agent'], 'wecom-syncer');
    },
  );
});

test('SharedConnectionsKubeConfig: a watch names the operator too', async () => {
  await withServer(
    () => ({ status: 200, body: { type: 'ADDED', object: { metadata: { name: 'a' } } } }),
    async (_api, seen, kc) => {
      const events: string[] = [];
      await new Promise<void>((resolve) => {
        void new Watch(kc).watch('/apis/g.example/v1/things', {}, (type) => events.push(type), () => resolve());
      });
      assert.equal(events, ['ADDED']);
      assert.is(seen[0]?.headers['user-agent'], 'wecom-syncer');
      assert.is(seen[0]?.headers.authorization, 'Bearer x');
    },
  );
});

test('SharedConnectionsKubeConfig: a merge patch goes with its content type', async () => {
  await withServer(
    () => ({ status: 200, body: {} }),
    async (api, seen) => {
      await api.patchNamespacedCustomObject({ ...target, name: 'a', body: { spec: { x: null } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      assert.is(seen[0]?.method, 'PATCH');
      assert.is(seen[0]?.headers['content-type'], 'application/merge-patch+json');
      assert.equal(JSON.parse(seen[0]?.body ?? ''), { spec: { x: null } });
    },
  );
});

test('SharedConnectionsKubeConfig: an error answer becomes an ApiException with its code, body and headers', async () => {
  await withServer(
    () => ({ status: 429, headers: { 'retry-after': '3' }, body: { kind: 'Status', code: 429, message: 'slow down' } }),
    async (api) => {
      const error = await api.getNamespacedCustomObject({ ...target, name: 'a' }).then(() => undefined, (e: unknown) => e);
      assert.instance(error, ApiException);
      const apiError = error as ApiException<unknown>;
      assert.is(apiError.code, 429);
      assert.is(apiError.headers['retry-after'], '3');
      assert.match(String(apiError.body), 'slow down');
    },
  );
});

test.run();
