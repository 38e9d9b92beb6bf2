// deploy/ as kustomize renders it (`kubectl kustomize`, no cluster needed):
// what a platform team checks before it runs an operator in production.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');

/** A rendered object, loosely typed: the tests read what they check. */
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Container {
  image: string;
  args: string[];
  env: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  ports: Array<{ name: string; containerPort: number }>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown>;
}
interface PodSpec {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  containers: Container[];
  topologySpreadConstraints?: unknown[];
}

/** `kubectl kustomize dir` as objects. */
function render(dir: string): Manifest[] {
  const result = spawnSync('kubectl', ['kustomize', join(ROOT, dir)], { encoding: 'utf8' });
  assert.is(result.status, 0, `kubectl kustomize ${dir}: ${result.stderr}`);
  return parseAllDocuments(result.stdout).map((doc) => doc.toJSON() as Manifest);
}

function find(objects: Manifest[], kind: string, name?: string): Manifest {
  const found = objects.find((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  assert.ok(found, `${kind} ${name ?? ''} is rendered`);
  return found;
}

function podSpec(objects: Manifest[]): PodSpec {
  const deployment = find(objects, 'Deployment', 'wecom-syncer') as Manifest & { spec: { template: { spec: PodSpec } } };
  return deployment.spec.template.spec;
}

function container(objects: Manifest[]): Container {
  const [first] = podSpec(objects).containers;
  assert.ok(first);
  return first;
}

/** The verbs `rules` grant on `resource` in `group`. */
function verbs(rules: Rule[], group: string, resource: string): string[] {
  return rules.filter((rule) => rule.apiGroups.includes(group) && rule.resources.includes(resource)).flatMap((rule) => rule.verbs).sort();
}

const base = render('deploy');
const namespaced = render('deploy/namespaced');
const test = suite('deploy/ manifests');

test('the base holds the operator and its RBAC, but neither CRDs nor samples', () => {
  assert.equal(base.map((object) => `${object.kind}/${object.metadata.name}`).sort(), [
    'ClusterRole/wecom-syncer',
    'ClusterRoleBinding/wecom-syncer',
    'Deployment/wecom-syncer',
    'Namespace/wecom-syncer',
    'PodDisruptionBudget/wecom-syncer',
    'Role/wecom-syncer-leader-election',
    'RoleBinding/wecom-syncer-leader-election',
    'Service/wecom-syncer-metrics',
    'Service/wecom-syncer-webhook',
    'ServiceAccount/wecom-syncer',
  ]);
  for (const object of base.filter((o) => !['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind))) {
    assert.is(object.metadata.namespace, 'wecom-syncer', `${object.kind} is in the operator's namespace`);
  }
  assert.is(find(base, 'Namespace').metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
});

test('the ClusterRole grants exactly what the operator does, with no wildcard', () => {
  const rules = (find(base, 'ClusterRole') as Manifest & { rules: Rule[] }).rules;
  for (const rule of rules) {
    for (const field of [rule.apiGroups, rule.resources, rule.verbs]) assert.not.ok(field.includes('*'), `no wildcard in ${JSON.stringify(rule)}`);
  }
  assert.equal(verbs(rules, 'casdoor.org', 'wecomsyncers'), ['get', 'list', 'patch', 'watch'], 'patch: the event receiver\'s annotation');
  assert.equal(verbs(rules, 'casdoor.org', 'wecomsyncers/status'), ['patch']);
  assert.equal(verbs(rules, 'casdoor.org', 'wecomsyncers/finalizers'), ['update']);
  assert.equal(verbs(rules, 'casdoor.org', 'casdoorservers'), ['get', 'list', 'watch']);
  assert.equal(verbs(rules, 'casdoor.org', 'casdoorservers/status'), ['patch']);
  assert.equal(verbs(rules, 'casdoor.org', 'casdoorusers'), ['create', 'delete', 'get', 'list', 'patch', 'watch']);
  assert.equal(verbs(rules, 'casdoor.org', 'casdoorgroups'), ['create', 'delete', 'get', 'list', 'patch', 'watch']);
  assert.equal(verbs(rules, '', 'secrets'), ['get'], 'Secrets: get only');
  assert.equal(verbs(rules, '', 'events'), ['create', 'patch']);
  const covered = new Set(rules.flatMap((rule) => rule.resources.map((resource) => `${rule.apiGroups.join()}/${resource}`)));
  assert.equal([...covered].sort(), [
    '/events', '/secrets', 'casdoor.org/casdoorgroups', 'casdoor.org/casdoorservers', 'casdoor.org/casdoorservers/status', 'casdoor.org/casdoorusers',
    'casdoor.org/wecomsyncers', 'casdoor.org/wecomsyncers/finalizers', 'casdoor.org/wecomsyncers/status',
  ]);
});

test('the bindings name the operator\'s ServiceAccount; the Lease Role is namespaced', () => {
  for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
    const binding = find(base, kind) as Manifest & { subjects: unknown[] };
    assert.equal(binding.subjects, [{ kind: 'ServiceAccount', name: 'wecom-syncer', namespace: 'wecom-syncer' }]);
  }
  const lease = find(base, 'Role', 'wecom-syncer-leader-election') as Manifest & { rules: Rule[] };
  assert.equal(lease.rules, [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['wecom-syncer-leader'], verbs: ['get', 'update'] },
  ], 'create in the namespace; get and update the one Lease main.ts elects on');
});

test('the Deployment: 2 replicas, leader election, POD_NAMESPACE, probes, metrics, resources', () => {
  const deployment = find(base, 'Deployment') as Manifest & { spec: { replicas: number } };
  assert.is(deployment.spec.replicas, 2);
  const operator = container(base);
  assert.is(operator.image, 'ghcr.io/wecom-syncer/wecom-syncer:0.1.0');
  assert.ok(operator.args.includes('--leader-elect'));
  assert.ok(operator.args.includes('--metrics-bind-address=:8080'));
  assert.ok(operator.args.includes('--health-probe-bind-address=:8081'));
  assert.ok(operator.args.includes('--webhook-bind-address=:9292'));
  assert.not.ok(operator.args.some((arg) => arg.startsWith('--namespace')), 'watches every namespace');
  assert.is(operator.env.find((e) => e.name === 'POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath, 'metadata.namespace');
  assert.equal(operator.ports.map((p) => [p.name, p.containerPort]), [['metrics', 8080], ['health', 8081], ['webhook', 9292]]);
  assert.equal(operator.livenessProbe.httpGet, { path: '/healthz', port: 'health' });
  assert.equal(operator.readinessProbe.httpGet, { path: '/readyz', port: 'health' });
  assert.equal(operator.resources, { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } });
  // The heap is a share of the memory limit; a heap cap in MB would have to be kept in step with it by hand.
  const nodeOptions = operator.env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
  assert.not.match(nodeOptions, /max-old-space-size=|max-heap-size/, 'no heap cap in MB: the heap follows the memory limit');
  assert.is(nodeOptions, '--max-semi-space-size=8 --max-old-space-size-percentage=65', 'the young generation and the heap\'s share, as measured in docs/performance.md ("What made it fast", "Memory")');
  assert.is(podSpec(base).serviceAccountName, 'wecom-syncer');
  assert.ok((podSpec(base).topologySpreadConstraints ?? []).length > 0, 'replicas spread over nodes');
});

test('the pod meets the restricted Pod Security Standard', () => {
  const pod = podSpec(base);
  assert.equal(pod.securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
  const security = container(base).securityContext;
  assert.is(security.allowPrivilegeEscalation, false);
  assert.is(security.readOnlyRootFilesystem, true);
  assert.is(security.runAsNonRoot, true);
  assert.is(security.runAsUser, 65532);
  assert.equal(security.capabilities, { drop: ['ALL'] });
  assert.equal(security.seccompProfile, { type: 'RuntimeDefault' });
});

test('a PodDisruptionBudget keeps one replica, and Services expose the metrics and the event receiver', () => {
  const pdb = find(base, 'PodDisruptionBudget') as Manifest & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } };
  assert.is(pdb.spec.minAvailable, 1);
  type ServiceManifest = Manifest & { spec: { selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string }> } };
  const service = find(base, 'Service', 'wecom-syncer-metrics') as ServiceManifest;
  assert.equal(service.spec.ports, [{ name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' }]);
  const webhook = find(base, 'Service', 'wecom-syncer-webhook') as ServiceManifest;
  assert.equal(webhook.spec.ports, [{ name: 'webhook', port: 9292, targetPort: 'webhook', protocol: 'TCP' }]);
  const podLabels = (find(base, 'Deployment') as Manifest & { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
  for (const selector of [pdb.spec.selector.matchLabels, service.spec.selector, webhook.spec.selector]) {
    for (const [key, value] of Object.entries(selector)) assert.is(podLabels[key], value, `the pods carry ${key}=${value}`);
  }
});

test('the namespaced variant: a Role in its own namespace, no cluster-wide object, one watched namespace', () => {
  assert.not.ok(namespaced.some((object) => ['ClusterRole', 'ClusterRoleBinding', 'Namespace'].includes(object.kind)));
  const role = find(namespaced, 'Role', 'wecom-syncer') as Manifest & { rules: Rule[] };
  assert.equal(role.rules, (find(base, 'ClusterRole') as Manifest & { rules: Rule[] }).rules, 'the same rules as the ClusterRole');
  const binding = find(namespaced, 'RoleBinding', 'wecom-syncer') as Manifest & { roleRef: { kind: string; name: string } };
  assert.equal(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'wecom-syncer' });
  for (const object of namespaced) assert.is(object.metadata.namespace, 'wecom-syncer', `${object.kind}/${object.metadata.name}`);
  assert.ok(container(namespaced).args.includes('--namespace=$(POD_NAMESPACE)'));
  assert.ok(container(namespaced).args.includes('--leader-elect'));
});

test.run();
