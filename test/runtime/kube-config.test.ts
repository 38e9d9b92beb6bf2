import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
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

test.run();
