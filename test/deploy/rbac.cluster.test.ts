// deploy/'s RBAC on a real API server: install the base (and the namespaced
// variant) into a test namespace, mint a token for its ServiceAccount, run the
// operator with a kubeconfig that holds only that token, and see a full sync
// work; then ask the API server what the same identity may and may not do.
// The Deployment is scaled to 0: no kubelet runs pods here.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { testCluster, type TestCluster } from '../support/cluster.ts';
import { can, forbidden, syncIn, tokenKubeconfig, written } from '../support/install.ts';
import { type OperatorProcess, startOperator } from '../support/operator.ts';
import { type Simulator, startSimulator } from '../support/simulator/server.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface Context {
  cluster: TestCluster;
  sim: Simulator;
  /** Temporary files: overlays and kubeconfigs. */
  dir: string;
  namespaces: string[];
  operators: OperatorProcess[];
}
const test = suite<Context>('deploy/ RBAC');

/** An installed variant: where it runs and who it is. */
interface Install {
  namespace: string;
  serviceAccount: string;
  /** The `--as` of `kubectl auth can-i` for its ServiceAccount. */
  as: string;
  kubeconfig: string;
  /** The objects applied, as kustomize rendered them. */
  objects: Array<{ kind: string; spec?: { template?: { metadata: object; spec: object } } }>;
}

/**
 * Installs deploy/`variant` into a fresh namespace through an overlay, as a
 * user customizes it: the namespace set, names suffixed so that the
 * cluster-wide objects of parallel runs do not collide, no replicas. Then
 * mints a token for its ServiceAccount.
 */
async function install(context: Context, variant: 'deploy' | 'deploy/namespaced', prefix: string): Promise<Install> {
  const { cluster } = context;
  const namespace = await cluster.namespace(prefix);
  context.namespaces.push(namespace);
  const overlay = join(context.dir, namespace);
  await mkdir(overlay);
  const suffix = `-${namespace}`;
  await writeFile(join(overlay, 'kustomization.yaml'), JSON.stringify({
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace,
    nameSuffix: suffix,
    resources: [relative(overlay, join(ROOT, variant))],
    replicas: [{ name: 'wecom-syncer', count: 0 }],
  }));
  const rendered = await cluster.kubectlOk(['kustomize', overlay]);
  await cluster.kubectlOk(['apply', '-f', '-'], { input: rendered });
  const serviceAccount = `wecom-syncer${suffix}`;
  return {
    namespace,
    serviceAccount,
    as: `system:serviceaccount:${namespace}:${serviceAccount}`,
    kubeconfig: await tokenKubeconfig(context.cluster, context.dir, namespace, serviceAccount),
    objects: parseAllDocuments(rendered).map((doc) => doc.toJSON() as Install['objects'][number]),
  };
}

test.before(async (context) => {
  context.cluster = await testCluster();
  await context.cluster.kubectlOk(['apply', '--server-side', '-f', join(ROOT, 'crds')]);
  await context.cluster.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(ROOT, 'crds')]);
  context.sim = await startSimulator();
  context.dir = await mkdtemp(join(tmpdir(), 'wecom-syncer-rbac-'));
  context.namespaces = [];
  context.operators = [];
});

test.after(async ({ cluster, sim, dir, namespaces, operators }) => {
  for (const operator of operators) await operator.kill();
  await sim.close();
  for (const namespace of namespaces) {
    await cluster.kubectl(['delete', 'clusterrolebinding,clusterrole', `wecom-syncer-${namespace}`, '--ignore-not-found']);
    await cluster.kubectl(['delete', 'namespace', namespace, '--wait=false']);
  }
  await rm(dir, { recursive: true, force: true });
});

test('deploy/: the ServiceAccount\'s token alone runs a full sync in another namespace, with leader election', async (context) => {
  const { cluster, sim } = context;
  const operator = await install(context, 'deploy', 'rbac-op');
  const app = await context.cluster.namespace('rbac-app');
  context.namespaces.push(app);
  // The namespace enforces the restricted Pod Security Standard, and the Deployment's pod passes it.
  const template = operator.objects.find((object) => object.kind === 'Deployment')?.spec?.template;
  assert.ok(template);
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { ...template.metadata, name: 'operator' }, spec: template.spec };
  const admitted = await cluster.kubectl(['create', '-n', operator.namespace, '--dry-run=server', '-f', '-'], { input: JSON.stringify(pod) });
  assert.is(admitted.code, 0, admitted.stderr);
  assert.is(admitted.stderr, '', 'no Pod Security warning');
  const plain = await cluster.kubectl(['run', 'plain', '--image=busybox', '-n', operator.namespace, '--dry-run=server']);
  assert.match(plain.stderr, /violates PodSecurity "restricted/, 'a pod without the securityContext is refused');

  const process = startOperator(operator.kubeconfig, app, ['--leader-elect', `--leader-election-namespace=${operator.namespace}`]);
  context.operators.push(process);
  const syncer = await syncIn(context.cluster, context.sim, app);
  assert.is(syncer.status?.users?.total, sim.org.members.length);
  const objects = await written(cluster, app);
  assert.is(objects.users, sim.org.members.length, 'every member became a CasdoorUser');
  assert.is(objects.groups, sim.org.departments.length, 'every department became a CasdoorGroup');
  assert.ok(objects.events > 0, 'Events were recorded');
  const lease = await cluster.kubectl(['get', 'lease', 'wecom-syncer-leader', '-n', operator.namespace, '-o', 'jsonpath={.spec.holderIdentity}']);
  assert.is(lease.code, 0, `the Lease is in the operator's namespace: ${lease.stderr}`);
  assert.equal(forbidden(process), [], 'the API server refused nothing');
});

test('deploy/: the ServiceAccount cannot list, watch or change Secrets, nor create pods', async (context) => {
  const { cluster } = context;
  const [operatorNs, app] = context.namespaces;
  assert.ok(operatorNs && app, 'the previous test installed deploy/');
  const as = `system:serviceaccount:${operatorNs}:wecom-syncer-${operatorNs}`;
  // [allowed, verb, resource, scope...]: what the ClusterRole and the Lease Role allow, and what they must not.
  const expected: Array<[boolean, string, string, ...string[]]> = [
    [true, 'get', 'secrets', '-n', app],
    [false, 'list', 'secrets', '-n', app],
    [false, 'list', 'secrets', '-A'],
    [false, 'watch', 'secrets', '-n', app],
    [false, 'delete', 'secrets', '-n', app],
    [false, 'create', 'secrets', '-n', app],
    [false, 'update', 'secrets', '-n', app],
    [false, 'create', 'pods', '-n', app],
    [false, 'create', 'pods', '-n', operatorNs],
    [false, 'get', 'configmaps', '-n', app],
    [false, 'create', 'deployments.apps', '-n', operatorNs],
    [false, 'create', 'customresourcedefinitions.apiextensions.k8s.io'],
    [false, 'escalate', 'clusterroles.rbac.authorization.k8s.io'],
    [true, 'watch', 'wecomsyncers.casdoor.org', '-A'],
    [false, 'update', 'wecomsyncers.casdoor.org', '-n', app],
    [true, 'patch', 'wecomsyncers.casdoor.org', '-n', app],
    [false, 'delete', 'wecomsyncers.casdoor.org', '-n', app],
    [true, 'patch', 'wecomsyncers.casdoor.org', '-n', app, '--subresource=status'],
    [true, 'delete', 'casdoorusers.casdoor.org', '-n', app],
    [false, 'deletecollection', 'casdoorusers.casdoor.org', '-n', app],
    [true, 'create', 'events', '-n', app],
    [true, 'patch', 'events', '-n', app],
    [false, 'delete', 'events', '-n', app],
    [true, 'update', 'leases.coordination.k8s.io/wecom-syncer-leader', '-n', operatorNs],
    [false, 'update', 'leases.coordination.k8s.io/another-lease', '-n', operatorNs],
    [true, 'create', 'leases.coordination.k8s.io', '-n', operatorNs],
    [false, 'create', 'leases.coordination.k8s.io', '-n', app],
    [false, 'delete', 'leases.coordination.k8s.io', '-n', operatorNs],
  ];
  const answers = await Promise.all(expected.map(([, verb, resource, ...scope]) => can(cluster, as, verb, resource, scope)));
  const wrong = expected.filter(([allowed], index) => answers[index] !== allowed).map(([allowed, ...args]) => `${allowed ? 'cannot' : 'can'} ${args.join(' ')}`);
  assert.equal(wrong, []);
});

test('deploy/namespaced: a Role alone runs a full sync in its own namespace, and reaches no other', async (context) => {
  const { cluster, sim } = context;
  const tenant = await install(context, 'deploy/namespaced', 'rbac-tenant');
  const other = context.namespaces[1];
  assert.ok(other);
  const rendered = await cluster.kubectlOk(['get', 'clusterrole', `wecom-syncer-${tenant.namespace}`, '--ignore-not-found', '-o', 'name']);
  assert.is(rendered.trim(), '', 'no ClusterRole');

  const process = startOperator(tenant.kubeconfig, tenant.namespace, ['--leader-elect', `--leader-election-namespace=${tenant.namespace}`]);
  context.operators.push(process);
  await syncIn(context.cluster, context.sim, tenant.namespace);
  const objects = await written(cluster, tenant.namespace);
  assert.is(objects.users, sim.org.members.length);
  assert.ok(objects.events > 0);
  assert.equal(forbidden(process), []);

  for (const [verb, resource] of [['list', 'wecomsyncers.casdoor.org'], ['create', 'casdoorusers.casdoor.org'], ['get', 'secrets']] as const) {
    assert.ok(await can(cluster, tenant.as, verb, resource, ['-n', tenant.namespace]), `may ${verb} ${resource} in its namespace`);
    assert.not.ok(await can(cluster, tenant.as, verb, resource, ['-n', other]), `may not ${verb} ${resource} in another namespace`);
  }
  assert.not.ok(await can(cluster, tenant.as, 'list', 'wecomsyncers.casdoor.org', ['-A']), 'may not list across namespaces');
  assert.not.ok(await can(cluster, tenant.as, 'list', 'secrets', ['-n', tenant.namespace]), 'may not list Secrets');
});

test.run();
