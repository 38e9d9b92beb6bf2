// charts/wecom-syncer as helm renders it (no cluster needed): lint, the same
// objects as deploy/ with default values, and what each value must change.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments } from 'yaml';
import { CHART_DIR, helm, type Rendered, renderChart } from '../support/helm.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const test = suite('charts/wecom-syncer');

/** The labels Helm adds to say who installed what; kustomize's install has none of them. */
const HELM_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/instance', 'app.kubernetes.io/version'];

/** A deep copy with Helm's labels dropped from every label map and selector, and objects in a stable order. */
function withoutHelmLabels(objects: Rendered[]): Rendered[] {
  const strip = (value: unknown, key?: string): unknown => {
    if (Array.isArray(value)) return value.map((item) => strip(item));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value).filter(([name]) => !(key !== undefined && ['labels', 'matchLabels', 'selector'].includes(key) && HELM_LABELS.includes(name)));
    return Object.fromEntries(entries.map(([name, item]) => [name, strip(item, name)]));
  };
  return (strip(objects) as Rendered[]).sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
}

function kustomize(dir: string): Rendered[] {
  const result = spawnSync('kubectl', ['kustomize', join(ROOT, dir)], { encoding: 'utf8' });
  assert.is(result.status, 0, result.stderr);
  return parseAllDocuments(result.stdout).map((doc) => doc.toJSON() as Rendered);
}

function find(objects: Rendered[], kind: string, name?: string): Rendered {
  const found = objects.find((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  assert.ok(found, `${kind} ${name ?? ''} is rendered`);
  return found;
}

interface Container { image: string; imagePullPolicy: string; args: string[]; env: Array<{ name: string; value?: string }>; ports: Array<{ name: string }> }
function podSpec(objects: Rendered[], name = 'wecom-syncer'): Record<string, unknown> & { containers: Container[] } {
  return (find(objects, 'Deployment', name) as unknown as { spec: { template: { spec: Record<string, unknown> & { containers: Container[] } } } }).spec.template.spec;
}
function container(objects: Rendered[], name?: string): Container {
  const [first] = podSpec(objects, name).containers;
  assert.ok(first);
  return first;
}

test('helm lint --strict passes, with default values and with every mode', async () => {
  for (const set of [[], ['namespaced=true'], ['watchNamespaces={a,b}'], ['leaderElection.enabled=false,replicaCount=1'], ['metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,metrics.grafanaDashboard.enabled=true']]) {
    const result = await helm(['lint', '--strict', CHART_DIR, ...set.flatMap((value) => ['--set', value])]);
    assert.is(result.code, 0, `helm lint --strict ${set.join(' ')}: ${result.stdout}${result.stderr}`);
  }
});

test('with default values it renders what deploy/ does, but for the Namespace (helm install --create-namespace makes it)', async () => {
  const chart = withoutHelmLabels(await renderChart());
  const base = withoutHelmLabels(kustomize('deploy').filter((object) => object.kind !== 'Namespace'));
  assert.equal(chart.map((object) => `${object.kind}/${object.metadata.name}`), base.map((object) => `${object.kind}/${object.metadata.name}`));
  for (const [index, object] of chart.entries()) assert.equal(object, base[index], `${object.kind}/${object.metadata.name}`);
});

test('namespaced: a Role and RoleBinding in the release namespace, nothing cluster-scoped, and the pod watches its own namespace', async () => {
  const objects = await renderChart({ namespaced: 'true' }, { namespace: 'team-a' });
  assert.equal(objects.filter((object) => object.kind.startsWith('Cluster')).map((object) => object.kind), []);
  assert.is(find(objects, 'Role', 'wecom-syncer').metadata.namespace, 'team-a');
  const binding = find(objects, 'RoleBinding', 'wecom-syncer') as Rendered & { roleRef: { kind: string } };
  assert.is(binding.roleRef.kind, 'Role');
  assert.ok(container(objects).args.includes('--namespace=$(POD_NAMESPACE)'));
  // The same rules as the cluster-wide install.
  const clusterRole = find(await renderChart(), 'ClusterRole', 'wecom-syncer');
  assert.equal((find(objects, 'Role', 'wecom-syncer') as { rules?: unknown }).rules, (clusterRole as { rules?: unknown }).rules);
});

test('watchNamespaces: the ClusterRole bound in each watched namespace only, and a --namespace flag for each', async () => {
  const objects = await renderChart({ watchNamespaces: '{team-a,team-b}' });
  assert.equal(objects.filter((object) => object.kind === 'ClusterRoleBinding'), [], 'no cluster-wide binding');
  const bindings = objects.filter((object) => object.kind === 'RoleBinding' && object.metadata.name === 'wecom-syncer');
  assert.equal(bindings.map((binding) => binding.metadata.namespace), ['team-a', 'team-b']);
  for (const binding of bindings) assert.is((binding as unknown as { roleRef: { kind: string } }).roleRef.kind, 'ClusterRole');
  const args = container(objects).args;
  assert.equal(args.filter((arg) => arg.startsWith('--namespace=')), ['--namespace=team-a', '--namespace=team-b']);
});

test('contradictory values are refused with a message', async () => {
  for (const [sets, expected] of [
    [['namespaced=true', 'watchNamespaces={team-b}'], /leave watchNamespaces empty/],
    [['leaderElection.enabled=false'], /one replica at most/],
    [['podLabels.app\\.kubernetes\\.io/name=mine'], /podLabels may not set app.kubernetes.io\/name/],
  ] as const) {
    const result = await helm(['template', 'wecom-syncer', CHART_DIR, ...sets.flatMap((set) => ['--set', set])]);
    assert.is.not(result.code, 0, sets.join(' '));
    assert.match(result.stderr, expected);
  }
});

test('the scrape annotation follows metrics.port', async () => {
  for (const [port, expected] of [[undefined, '8080'], ['9090', '9090']] as const) {
    const objects = await renderChart(port ? { 'metrics.port': port } : {});
    const service = find(objects, 'Service', 'wecom-syncer-metrics');
    assert.is(service.metadata.annotations?.['prometheus.io/port'], expected);
    assert.ok(container(objects).args.includes(`--metrics-bind-address=:${expected}`));
  }
});

test('a long release name keeps every name within 63 characters', async () => {
  const release = `identity-${'x'.repeat(44)}`;
  const objects = await renderChart({ 'metrics.grafanaDashboard.enabled': 'true' }, { release });
  const long = objects.filter((object) => object.metadata.name.length > 63).map((object) => object.metadata.name);
  assert.equal(long, []);
  assert.ok(objects.length > 8);
});

test('no leader election: no --leader-elect, no Lease Role; one replica has no PodDisruptionBudget', async () => {
  const objects = await renderChart({ 'leaderElection.enabled': 'false', replicaCount: '1' });
  assert.not.ok(container(objects).args.includes('--leader-elect'));
  assert.not.ok(objects.some((object) => object.metadata.name === 'wecom-syncer-leader-election'));
  assert.not.ok(objects.some((object) => object.kind === 'PodDisruptionBudget'), 'a PDB of minAvailable 1 over 1 replica would block every drain');
  assert.is((find(objects, 'Deployment') as unknown as { spec: { replicas: number } }).spec.replicas, 1);
});

test('another release name: every name, the Lease and its Role follow it', async () => {
  const objects = await renderChart({ 'leaderElection.leaseDuration': '30s' }, { release: 'corp' });
  assert.ok(objects.every((object) => object.metadata.name.startsWith('corp-wecom-syncer')), objects.map((object) => object.metadata.name).join(', '));
  const args = container(objects, 'corp-wecom-syncer').args;
  assert.ok(args.includes('--leader-election-id=corp-wecom-syncer-leader'));
  assert.ok(args.includes('--leader-election-lease-duration=30s'));
  const role = find(objects, 'Role', 'corp-wecom-syncer-leader-election') as unknown as { rules: Array<{ resourceNames?: string[] }> };
  assert.equal(role.rules.flatMap((rule) => rule.resourceNames ?? []), ['corp-wecom-syncer-leader']);
  assert.is((find(objects, 'ServiceAccount') as Rendered).metadata.name, 'corp-wecom-syncer');
});

test('image: tag, digest, pull policy and pull secrets', async () => {
  let objects = await renderChart({ 'image.repository': 'registry.corp.example/wecom-syncer', 'image.tag': '0.2.0', 'image.pullPolicy': 'Always', 'imagePullSecrets[0].name': 'corp-registry' });
  assert.is(container(objects).image, 'registry.corp.example/wecom-syncer:0.2.0');
  assert.is(container(objects).imagePullPolicy, 'Always');
  assert.equal(podSpec(objects).imagePullSecrets, [{ name: 'corp-registry' }]);
  const digest = `sha256:${'a'.repeat(64)}`;
  objects = await renderChart({ 'image.digest': digest });
  assert.is(container(objects).image, `ghcr.io/wecom-syncer/wecom-syncer@${digest}`);
  objects = await renderChart();
  const chartYaml = readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8');
  assert.is(container(objects).image, `ghcr.io/wecom-syncer/wecom-syncer:${/appVersion: "(.+)"/.exec(chartYaml)?.[1]}`, 'the tag defaults to appVersion');
});

test('scheduling, pod metadata, log level, extra args and env, resources', async () => {
  const objects = await renderChart({
    'nodeSelector.pool': 'system', 'tolerations[0].key': 'dedicated', 'tolerations[0].operator': 'Exists', priorityClassName: 'system-cluster-critical',
    'podAnnotations.team': 'identity', 'podLabels.cost-center': 'idm', logLevel: 'debug', 'extraArgs[0]': '--concurrency=8',
    'extraEnv[0].name': 'TZ', 'extraEnv[0].value': 'Asia/Shanghai', 'resources.limits.memory': '640Mi', topologySpreadConstraints: 'null',
  });
  const pod = podSpec(objects);
  assert.equal(pod.nodeSelector, { pool: 'system' });
  assert.equal(pod.tolerations, [{ key: 'dedicated', operator: 'Exists' }]);
  assert.is(pod.priorityClassName, 'system-cluster-critical');
  assert.is(pod.topologySpreadConstraints, undefined);
  const template = (find(objects, 'Deployment') as unknown as { spec: { template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } } }).spec.template.metadata;
  assert.is(template.annotations.team, 'identity');
  assert.is(template.labels['cost-center'], 'idm');
  const operator = container(objects);
  assert.ok(operator.args.includes('--log-level=debug'));
  assert.ok(operator.args.includes('--concurrency=8'));
  assert.ok(operator.env.some((variable) => variable.name === 'TZ' && variable.value === 'Asia/Shanghai'));
  assert.is((operator as unknown as { resources: { limits: { memory: string } } }).resources.limits.memory, '640Mi');
});

test('ServiceMonitor and PrometheusRule: off by default, on when asked, selecting the metrics Service', async () => {
  const off = await renderChart();
  assert.not.ok(off.some((object) => object.kind === 'ServiceMonitor' || object.kind === 'PrometheusRule'));
  const on = await renderChart({ 'metrics.serviceMonitor.enabled': 'true', 'metrics.serviceMonitor.labels.release': 'prometheus', 'metrics.prometheusRule.enabled': 'true' });
  const monitor = find(on, 'ServiceMonitor') as unknown as { metadata: { labels: Record<string, string> }; spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string }> } };
  assert.is(monitor.metadata.labels.release, 'prometheus');
  assert.equal(monitor.spec.endpoints.map((endpoint) => endpoint.port), ['metrics']);
  const service = find(on, 'Service', 'wecom-syncer-metrics') as unknown as { metadata: { labels: Record<string, string> } };
  for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) assert.is(service.metadata.labels[key], value, `the ServiceMonitor selects the metrics Service by ${key}`);
  assert.ok((monitor.spec.endpoints[0] as { honorLabels?: boolean }).honorLabels, 'the series keep their own namespace label');
  const rule = find(on, 'PrometheusRule') as unknown as { spec: { groups: unknown } };
  const rules = parse(readFileSync(join(ROOT, 'deploy', 'monitoring', 'rules.yaml'), 'utf8')) as { groups: unknown };
  assert.equal(rule.spec.groups, rules.groups, 'the groups of deploy/monitoring/rules.yaml');
});

test('Grafana dashboard: off by default, on as a ConfigMap for the dashboard sidecar holding deploy/monitoring\'s JSON', async () => {
  assert.not.ok((await renderChart()).some((object) => object.kind === 'ConfigMap'));
  const objects = await renderChart({ 'metrics.grafanaDashboard.enabled': 'true', 'metrics.grafanaDashboard.annotations.grafana_folder': 'Identity' });
  const map = find(objects, 'ConfigMap', 'wecom-syncer-dashboard') as unknown as { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; data: Record<string, string> };
  assert.is(map.metadata.labels.grafana_dashboard, '1');
  assert.is(map.metadata.annotations.grafana_folder, 'Identity');
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'monitoring', 'grafana-dashboard.json'), 'utf8')) as unknown;
  assert.equal(JSON.parse(map.data['wecom-syncer.json'] ?? ''), dashboard);
});

test('webhook off: no Service, no port, and the receiver turned off', async () => {
  const objects = await renderChart({ 'webhook.enabled': 'false' });
  assert.not.ok(objects.some((object) => object.metadata.name === 'wecom-syncer-webhook'));
  const operator = container(objects);
  assert.ok(operator.args.includes('--webhook-bind-address=0'));
  assert.not.ok(operator.ports.some((port) => port.name === 'webhook'));
});

test('values.schema.json takes a percentage for minAvailable', async () => {
  const objects = await renderChart({ 'podDisruptionBudget.minAvailable': '50%' });
  assert.is((find(objects, 'PodDisruptionBudget') as unknown as { spec: { minAvailable: string } }).spec.minAvailable, '50%');
});

test('values.schema.json rejects a mistyped value with a message naming it', async () => {
  for (const [set, expected] of [
    ['replicaCount=two', /replicaCount/],
    ['image.pullPolicy=Sometimes', /pullPolicy/],
    ['logLevel=loud', /logLevel/],
    ['namespaced=yes', /namespaced/],
    ['replicas=2', /replicas/],
    ['image.digest=latest', /digest/],
    ['podDisruptionBudget.minAvailable=most', /minAvailable/],
  ] as const) {
    const result = await helm(['template', 'wecom-syncer', CHART_DIR, '--set-string', set]);
    assert.is.not(result.code, 0, `--set ${set} is refused`);
    assert.match(result.stderr, expected, `--set ${set}: ${result.stderr}`);
  }
});

test.run();
