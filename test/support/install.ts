// What the tests of an install (deploy/ or the Helm chart) share: a kubeconfig
// holding only a ServiceAccount's token, a full sync run with it, what it wrote,
// and what the API server says that identity may do.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import type { TestCluster } from './cluster.ts';
import type { OperatorProcess } from './operator.ts';
import { applySecret } from './secrets.ts';
import type { Simulator } from './simulator/server.ts';
import type { StoredSyncer } from './syncer-env.ts';
import { waitFor } from './wait.ts';

/** `kubectl create token` for `serviceAccount`, in a kubeconfig (written into `dir`) with the cluster's address and CA and nothing else. */
export async function tokenKubeconfig(cluster: TestCluster, dir: string, namespace: string, serviceAccount: string): Promise<string> {
  const token = (await cluster.kubectlOk(['create', 'token', serviceAccount, '-n', namespace, '--duration=1h'])).trim();
  const admin = parse(await readFile(cluster.kubeconfig, 'utf8')) as {
    clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
  };
  const server = admin.clusters[0]?.cluster;
  assert.ok(server, 'the cluster kubeconfig names a server');
  const path = join(dir, `kubeconfig-${namespace}-${serviceAccount}`);
  await writeFile(path, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: server.server, 'certificate-authority-data': server['certificate-authority-data'] } }],
    users: [{ name: serviceAccount, user: { token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: serviceAccount, namespace } }],
    'current-context': 'test',
  }), { mode: 0o600 });
  return path;
}

/** Whether `as` may `verb` `resource` (`-n NS`, `-A`, `--subresource=...` in `scope`), per the API server. */
export async function can(cluster: TestCluster, as: string, verb: string, resource: string, scope: string[]): Promise<boolean> {
  const result = await cluster.kubectl(['auth', 'can-i', verb, resource, `--as=${as}`, ...scope]);
  const answer = result.stdout.trim();
  assert.ok(answer === 'yes' || answer === 'no', `kubectl auth can-i answered "${answer}" ${result.stderr}`);
  return answer === 'yes';
}

/** Creates the WeCom Secret and a WeComSyncer `acme` in `namespace`, and waits for a complete sync by the operator. */
export async function syncIn(cluster: TestCluster, sim: Simulator, namespace: string): Promise<StoredSyncer> {
  await applySecret(cluster, namespace, 'wecom', { corpSecret: sim.corpSecret }, [sim.url]);
  await cluster.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'casdoor.org/v1alpha1',
      kind: 'WeComSyncer',
      metadata: { name: 'acme', namespace },
      spec: { organization: 'acme', corpId: sim.corpId, corpSecretRef: { name: 'wecom' }, apiURL: sim.url },
    }),
  });
  return waitFor(`Ready=True on ${namespace}/acme`, async () => {
    const syncer = JSON.parse(await cluster.kubectlOk(['get', 'wcs', 'acme', '-n', namespace, '-o', 'json'])) as StoredSyncer & { metadata: { generation: number } };
    const ready = syncer.status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === 'True' && ready.observedGeneration === syncer.metadata.generation ? syncer : undefined;
  }, 60_000);
}

/** What the operator wrote in `namespace`: users, groups and Events of the syncer `acme`. */
export async function written(cluster: TestCluster, namespace: string): Promise<{ users: number; groups: number; events: number }> {
  const count = async (args: string[]): Promise<number> => (JSON.parse(await cluster.kubectlOk([...args, '-n', namespace, '-o', 'json'])) as { items: unknown[] }).items.length;
  return {
    users: await count(['get', 'cu', '-l', 'casdoor.org/syncer=acme']),
    groups: await count(['get', 'cg', '-l', 'casdoor.org/syncer=acme']),
    events: await count(['get', 'events', '--field-selector', 'involvedObject.kind=WeComSyncer']),
  };
}

/** The lines of an operator's JSON log that report a refusal by the API server. */
export function forbidden(operator: OperatorProcess): string[] {
  return operator.log().split('\n').filter((line) => /forbidden|\b403\b/i.test(line));
}
