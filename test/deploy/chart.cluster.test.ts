// charts/wecom-syncer on a real API server, as a platform team runs it: on a
// control plane of its own without the CRDs, so that Helm installs them from
// the chart's crds/; `helm install` (no replicas: no kubelet runs pods here),
// the operator run as the rendered Deployment says with nothing but the chart's
// ServiceAccount token, the CRDs upgraded as the docs say, `helm upgrade` with
// other values, and `helm uninstall`, which leaves the CRDs and the users in
// place. The tests run in order, each on what the one before left.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type PrivateCluster, privateCluster } from '../support/private-cluster.ts';
import { CHART_DIR, helm } from '../support/helm.ts';
import { can, forbidden, syncIn, tokenKubeconfig, written } from '../support/install.ts';
import { type OperatorProcess, startOperator } from '../support/operator.ts';
import { type Simulator, startSimulator } from '../support/simulator/server.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface Context {
  cluster: PrivateCluster;
  sim: Simulator;
  dir: string;
  /** helm's environment: the test cluster, and its own config, cache and data folders. */
  env: NodeJS.ProcessEnv;
  /** The release and the namespace it is installed in (the same name). */
  release: string;
  /** The namespace the operator watches, and one it does not. */
  app: string;
  other: string;
  operator?: OperatorProcess;
}
const test = suite<Context>('charts/wecom-syncer on a cluster');

const fullname = (context: Context): string => `${context.release}-wecom-syncer`;

async function helmOk(context: Context, args: string[]): Promise<string> {
  const result = await helm(args, context.env);
  assert.is(result.code, 0, `helm ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** The operator container's args of the release's Deployment, as stored. */
async function deploymentArgs(context: Context): Promise<string[]> {
  const deployment = JSON.parse(await context.cluster.kubectlOk(['get', 'deployment', fullname(context), '-n', context.release, '-o', 'json'])) as {
    spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
  };
  return deployment.spec.template.spec.containers[0]?.args ?? [];
}

test.before(async (context) => {
  context.cluster = await privateCluster('chart', [], { crds: false });
  context.sim = await startSimulator();
  context.dir = await mkdtemp(join(tmpdir(), 'wecom-syncer-chart-'));
  context.env = {
    ...process.env,
    KUBECONFIG: context.cluster.kubeconfig,
    HELM_CONFIG_HOME: join(context.dir, 'helm-config'),
    HELM_CACHE_HOME: join(context.dir, 'helm-cache'),
    HELM_DATA_HOME: join(context.dir, 'helm-data'),
  };
  context.release = await context.cluster.namespace('chart');
  context.app = await context.cluster.namespace('chart-app');
  context.other = await context.cluster.namespace('chart-other');
});

test.after(async (context) => {
  await context.operator?.kill();
  await context.sim.close();
  await context.cluster.destroy();
  await rm(context.dir, { recursive: true, force: true });
});

test('helm install, then the chart\'s ServiceAccount token alone runs a full sync in the namespace it watches', async (context) => {
  const { cluster, sim, release, app } = context;
  const crds = await cluster.kubectl(['get', 'crd', '-o', 'name']);
  assert.not.match(crds.stdout, 'casdoor.org', 'no CRD before the install');
  await helmOk(context, ['install', release, CHART_DIR, '-n', release, '--set', 'replicaCount=0', '--set', `watchNamespaces={${app}}`]);
  await cluster.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(ROOT, 'crds')]);
  const serviceAccount = fullname(context);
  const kubeconfig = await tokenKubeconfig(cluster, context.dir, release, serviceAccount);
  // The flags the chart gives the pod, but for the addresses: a test process must not take fixed ports.
  const rendered = (await deploymentArgs(context)).filter((arg) => !/^--(metrics|health-probe|webhook)-bind-address=/.test(arg) && !arg.startsWith('--namespace='));
  assert.ok(rendered.includes(`--leader-election-id=${fullname(context)}-leader`), rendered.join(' '));
  context.operator = startOperator(kubeconfig, app, [...rendered, `--leader-election-namespace=${release}`]);
  const syncer = await syncIn(cluster, sim, app);
  assert.is(syncer.status?.users?.total, sim.org.members.length);
  const objects = await written(cluster, app);
  assert.is(objects.users, sim.org.members.length, 'every member became a CasdoorUser');
  assert.is(objects.groups, sim.org.departments.length, 'every department became a CasdoorGroup');
  const holder = await cluster.kubectlOk(['get', 'lease', `${fullname(context)}-leader`, '-n', release, '-o', 'jsonpath={.spec.holderIdentity}']);
  assert.ok(holder.trim() !== '', 'the release\'s Lease has a holder');
  assert.equal(forbidden(context.operator), [], 'the API server refused nothing');

  const as = `system:serviceaccount:${release}:${serviceAccount}`;
  assert.ok(await can(cluster, as, 'list', 'wecomsyncers.casdoor.org', ['-n', app]), 'may list syncers where it watches');
  assert.not.ok(await can(cluster, as, 'list', 'wecomsyncers.casdoor.org', ['-n', context.other]), 'watchNamespaces grants nothing elsewhere');
  assert.not.ok(await can(cluster, as, 'list', 'wecomsyncers.casdoor.org', ['-A']), 'nor across namespaces');
  assert.not.ok(await can(cluster, as, 'list', 'secrets', ['-n', app]), 'may not list Secrets');
});

test('helm upgrade with other values changes the Deployment and the bindings, and the release keeps working', async (context) => {
  const { cluster, release, app, other } = context;
  const before = await deploymentArgs(context);
  assert.ok(before.includes('--log-level=info'));
  await helmOk(context, ['upgrade', release, CHART_DIR, '-n', release, '--reuse-values', '--set', `watchNamespaces={${app},${other}}`, '--set', 'logLevel=debug', '--set', 'leaderElection.leaseDuration=30s']);
  const after = await deploymentArgs(context);
  assert.ok(after.includes('--log-level=debug'), after.join(' '));
  assert.ok(after.includes('--leader-election-lease-duration=30s'));
  assert.equal(after.filter((arg) => arg.startsWith('--namespace=')), [`--namespace=${app}`, `--namespace=${other}`]);
  const status = JSON.parse(await helmOk(context, ['status', release, '-n', release, '-o', 'json'])) as { version: number; info: { status: string } };
  assert.is(status.version, 2);
  assert.is(status.info.status, 'deployed');
  const as = `system:serviceaccount:${release}:${fullname(context)}`;
  assert.ok(await can(cluster, as, 'list', 'wecomsyncers.casdoor.org', ['-n', other]), 'the new namespace is bound');
  // The running operator's token still works: the ServiceAccount was kept, not recreated.
  const request = `after-upgrade-${Date.now()}`;
  await cluster.kubectlOk(['annotate', 'wcs', 'acme', '-n', app, `casdoor.org/sync-requested-at=${request}`, '--overwrite']);
  await waitFor('the sync requested after the upgrade', async () => {
    const handled = await cluster.kubectlOk(['get', 'wcs', 'acme', '-n', app, '-o', 'jsonpath={.status.lastHandledSyncRequest}']);
    return handled === request ? true : undefined;
  }, 60_000);
  assert.equal(forbidden(context.operator!), []);
});

test('the CRDs upgrade as the docs say, over the ones Helm installed', async (context) => {
  const result = await context.cluster.kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(ROOT, 'crds')]);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /customresourcedefinition.apiextensions.k8s.io\/wecomsyncers.casdoor.org serverside-applied/);
});

test('helm uninstall removes the operator\'s objects and leaves the CRDs, the syncer and its users', async (context) => {
  const { cluster, release, app } = context;
  await context.operator?.kill();
  const users = (await written(cluster, app)).users;
  await helmOk(context, ['uninstall', release, '-n', release, '--wait']);
  for (const [kind, namespace] of [['deployment', release], ['serviceaccount', release], ['clusterrole', undefined], ['rolebinding', app], ['role', release]] as const) {
    const name = kind === 'role' ? `${fullname(context)}-leader-election` : fullname(context);
    const found = await cluster.kubectl(['get', kind, name, ...(namespace ? ['-n', namespace] : []), '--ignore-not-found', '-o', 'name']);
    assert.is(found.stdout.trim(), '', `${kind} ${name} is gone`);
  }
  for (const crd of ['wecomsyncers.casdoor.org', 'casdoorusers.casdoor.org', 'casdoorgroups.casdoor.org', 'casdoorservers.casdoor.org']) {
    await cluster.kubectlOk(['get', 'crd', crd, '-o', 'name']);
  }
  await cluster.kubectlOk(['get', 'wcs', 'acme', '-n', app, '-o', 'name']);
  assert.is((await written(cluster, app)).users, users, 'every CasdoorUser is still there');
  assert.ok(users > 0);
});

test.run();
