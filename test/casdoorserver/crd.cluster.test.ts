// The CasdoorServer CRD on the real API server: defaults, and manifests it must refuse.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testCluster, type TestCluster } from '../support/cluster.ts';

const test = suite<{ cluster: TestCluster; ns: string }>('CasdoorServer CRD');

test.before(async (context) => {
  context.cluster = await testCluster();
  await context.cluster.kubectlOk(['apply', '--server-side', '-f', 'crds/']);
  await context.cluster.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', '-f', 'crds/']);
  context.ns = await context.cluster.namespace('cds-crd');
});
test.after(({ cluster, ns }) => cluster.kubectl(['delete', 'namespace', ns, '--wait=false']).then(() => undefined));

function server(name: string, spec: Record<string, unknown>): string {
  const base = { endpoint: 'https://door.example.com', credentialsRef: { name: 'casdoor-app' }, organizations: ['acme'] };
  return JSON.stringify({ apiVersion: 'casdoor.org/v1alpha1', kind: 'CasdoorServer', metadata: { name }, spec: Object.fromEntries(Object.entries({ ...base, ...spec }).filter(([, v]) => v !== undefined)) });
}

test('fills in the defaults', async ({ cluster, ns }) => {
  await cluster.kubectlOk(['apply', '-n', ns, '-f', '-'], { input: server('defaults', {}) });
  const spec = JSON.parse(await cluster.kubectlOk(['get', 'cds', 'defaults', '-n', ns, '-o', 'jsonpath={.spec}']));
  assert.equal(spec, {
    endpoint: 'https://door.example.com',
    credentialsRef: { name: 'casdoor-app', clientIdKey: 'clientId', clientSecretKey: 'clientSecret' },
    organizations: ['acme'],
    interval: '10m',
    existingUsers: 'Skip',
    prune: true,
    maxDeletions: '10%',
    suspend: false,
  });
  const columns = await cluster.kubectlOk(['get', 'cds', '-n', ns, '-o', 'wide']);
  assert.match(columns, /NAME\s+ENDPOINT\s+READY\s+USERS\s+LAST SYNC\s+AGE\s+STATUS\s+SUSPENDED/);
  assert.match(await cluster.kubectlOk(['get', 'casdoor', '-n', ns, '-o', 'name']), /casdoorserver\.casdoor\.org\/defaults/);
});

const refused: Array<[string, Record<string, unknown>, RegExp]> = [
  ['an endpoint that is no URL', { endpoint: 'door.example.com' }, /endpoint must be an http\(s\) URL with a host/],
  ['an endpoint without a host', { endpoint: 'https://' }, /endpoint must be an http\(s\) URL with a host/],
  ['an ftp endpoint', { endpoint: 'ftp://door.example.com' }, /endpoint must be an http\(s\) URL with a host/],
  ['plain http to a remote host', { endpoint: 'http://door.example.com' }, /endpoint may use plain http only for a loopback host/],
  ['no organizations', { organizations: [] }, /spec\.organizations: Invalid value: .*should have at least 1 items|must have at least 1 items/],
  ['an organization Casdoor would refuse', { organizations: ['a/b'] }, /spec\.organizations\[0\]: Invalid value: "a\/b"/],
  ['an interval under a minute', { interval: '30s' }, /interval must be at least 1m/],
  ['an interval that is no duration', { interval: 'often' }, /interval must be a Go duration/],
  ['maxDeletions over 100%', { maxDeletions: '150%' }, /maxDeletions must be a count of 0 or more, or a percentage/],
  ['a negative maxDeletions', { maxDeletions: -1 }, /maxDeletions must be a count of 0 or more/],
  ['existingUsers not Skip or Adopt', { existingUsers: 'Overwrite' }, /spec\.existingUsers: Unsupported value: "Overwrite"/],
  ['no credentialsRef', { credentialsRef: undefined }, /spec\.credentialsRef: Required value/],
];
for (const [what, spec, message] of refused) {
  test(`refuses ${what}`, async ({ cluster, ns }) => {
    const result = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], { input: server('bad', spec) });
    assert.is.not(result.code, 0, `accepted: ${result.stdout}`);
    assert.match(result.stderr, message);
  });
}

test('accepts plain http to loopback, a count for maxDeletions and Adopt', async ({ cluster, ns }) => {
  await cluster.kubectlOk(['apply', '-n', ns, '-f', '-'], { input: server('local', { endpoint: 'http://127.0.0.1:8000', maxDeletions: 5, existingUsers: 'Adopt' }) });
});

test.run();
