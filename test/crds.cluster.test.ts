// The CRDs on a real API server, driven through kubectl as users drive it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testCluster, type TestCluster } from './support/cluster.ts';

const ROOT = join(import.meta.dirname, '..');
const test = suite<{ cluster: TestCluster; ns: string }>('CRDs');

test.before(async (context) => {
  context.cluster = await testCluster();
  await context.cluster.kubectlOk(['apply', '--server-side', '-f', join(ROOT, 'crds')]);
  await context.cluster.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(ROOT, 'crds')]);
  context.ns = await context.cluster.namespace('crds');
});

/** A WeComSyncer manifest with the required fields, then `spec` overridden. */
function syncer(name: string, spec: Record<string, unknown>): string {
  const base = { organization: 'acme', corpId: 'ww0123456789abcdef', corpSecretRef: { name: 'acme-wecom' } };
  return JSON.stringify({
    apiVersion: 'casdoor.org/v1alpha1',
    kind: 'WeComSyncer',
    metadata: { name },
    spec: Object.fromEntries(Object.entries({ ...base, ...spec }).filter(([, value]) => value !== undefined)),
  });
}

test('installs with both client-side and server-side apply', async ({ cluster }) => {
  const out = await cluster.kubectlOk(['apply', '-f', join(ROOT, 'crds')]);
  assert.match(out, /wecomsyncers\.casdoor\.org/);
  assert.match(out, /casdoorusers\.casdoor\.org/);
  assert.match(out, /casdoorgroups\.casdoor\.org/);
  assert.match(out, /casdoorservers\.casdoor\.org/);
});

test('accepts every sample', async ({ cluster, ns }) => {
  const samples = readdirSync(join(ROOT, 'deploy', 'samples')).filter((file) => file.endsWith('.yaml'));
  assert.ok(samples.length >= 4);
  for (const file of samples) {
    await cluster.kubectlOk(['apply', '-n', ns, '-f', join(ROOT, 'deploy', 'samples', file)]);
  }
  const names = await cluster.kubectlOk(['get', 'casdoor', '-n', ns, '-o', 'name']);
  assert.match(names, /wecomsyncer\.casdoor\.org\/acme\n/);
  assert.match(names, /casdooruser\.casdoor\.org\/acme\.zhangsan/);
  assert.match(names, /casdoorgroup\.casdoor\.org\/acme\.dept-2/);
  assert.match(names, /casdoorserver\.casdoor\.org\/main/);
});

test('fills in the defaults', async ({ cluster, ns }) => {
  await cluster.kubectlOk(['apply', '-n', ns, '-f', '-'], { input: syncer('defaults', {}) });
  const spec = JSON.parse(await cluster.kubectlOk(['get', 'wcs', 'defaults', '-n', ns, '-o', 'jsonpath={.spec}']));
  assert.equal(spec, {
    organization: 'acme',
    corpId: 'ww0123456789abcdef',
    corpSecretRef: { name: 'acme-wecom', key: 'corpSecret' },
    interval: '1h',
    suspend: false,
    apiURL: 'https://qyapi.weixin.qq.com',
    removedUsers: 'Forbid',
    syncGroups: true,
    maxRemovals: '10%',
  });
});

const rejected: Array<[string, Record<string, unknown>, RegExp]> = [
  ['no corpId', { corpId: undefined }, /spec\.corpId: Required value/],
  ['an empty organization', { organization: '' }, /spec\.organization.*at least 1 chars/],
  ['a corpId of the wrong shape', { corpId: 'acme' }, /corpId must look like ww0123456789abcdef/],
  ['interval "often"', { interval: 'often' }, /interval must be a Go duration such as 30m/],
  ['interval "10s"', { interval: '10s' }, /interval must be at least 1m/],
  ['removedUsers "Purge"', { removedUsers: 'Purge' }, /spec\.removedUsers: Unsupported value: "Purge": supported values: "Forbid", "Delete", "Keep"/],
  ['maxRemovals "150%"', { maxRemovals: '150%' }, /maxRemovals must be a count of 0 or more, or a percentage from 0% to 100%/],
  ['maxRemovals -1', { maxRemovals: -1 }, /maxRemovals must be a count of 0 or more/],
  ['corpSecretRef without name', { corpSecretRef: { key: 'corpSecret' } }, /spec\.corpSecretRef\.name: Required value/],
  ['a Secret name with capitals', { corpSecretRef: { name: 'Acme_Wecom' } }, /must be a valid Secret name/],
  ['a Secret key with a slash', { corpSecretRef: { name: 'acme', key: 'a/b' } }, /must be a valid Secret key/],
  ['an apiURL that is not a URL', { apiURL: 'qyapi.weixin.qq.com' }, /apiURL must be an http\(s\) URL/],
  ['suspend "yes"', { suspend: 'yes' }, /spec\.suspend: Invalid value: "string": spec\.suspend in body must be of type boolean/],
  ['contactsSecretRef without name', { contactsSecretRef: { key: 'contactsSecret' } }, /spec\.contactsSecretRef\.name: Required value/],
  ['a contactsSecretRef key with a slash', { contactsSecretRef: { name: 'acme', key: 'a/b' } }, /spec\.contactsSecretRef\.key: Invalid value: "a\/b": must be a valid Secret key/],
  ['an empty Secret key', { corpSecretRef: { name: 'acme', key: '' } }, /spec\.corpSecretRef\.key: Invalid value: "": must be a valid Secret key/],
  ['corpSecretRef as a string', { corpSecretRef: 'acme-wecom' }, /spec\.corpSecretRef in body must be of type object/],
  ['an organization with surrounding spaces', { organization: ' acme ' }, /organization must not start or end with spaces/],
  ['an organization of 101 characters', { organization: 'o'.repeat(101) }, /spec\.organization: Too long/],
  ['interval "0s"', { interval: '0s' }, /interval must be at least 1m/],
  ['interval "1d"', { interval: '1d' }, /interval must be a Go duration such as 30m/],
  ['interval "-5m"', { interval: '-5m' }, /interval must be a Go duration such as 30m/],
  ['interval ""', { interval: '' }, /interval must be a Go duration such as 30m/],
  ['maxRemovals "10.5%"', { maxRemovals: '10.5%' }, /maxRemovals must be a count of 0 or more, or a percentage from 0% to 100%/],
  ['maxRemovals "abc"', { maxRemovals: 'abc' }, /maxRemovals must be a count of 0 or more, or a percentage from 0% to 100%/],
  ['maxRemovals 1.5', { maxRemovals: 1.5 }, /spec\.maxRemovals in body must be of type integer,string/],
  ['apiURL "ftp://x"', { apiURL: 'ftp://x' }, /apiURL must be an http\(s\) URL/],
  ['apiURL "https://" (no host)', { apiURL: 'https://' }, /apiURL must be an http\(s\) URL/],
  ['syncGroups "yes"', { syncGroups: 'yes' }, /spec\.syncGroups in body must be of type boolean/],
  ['removedUsers "delete" (lowercase)', { removedUsers: 'delete' }, /spec\.removedUsers: Unsupported value: "delete": supported values: "Forbid", "Delete", "Keep"/],
  ['an unknown field', { removeUsers: 'Delete' }, /unknown field "spec\.removeUsers"/],
];

for (const [what, spec, message] of rejected) {
  test(`rejects ${what} with a message a user understands`, async ({ cluster, ns }) => {
    const result = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], { input: syncer('bad', spec) });
    assert.is.not(result.code, 0, `${what} was accepted`);
    assert.match(result.stderr, message);
  });
}

test('rejects a syncer name longer than a label value', async ({ cluster, ns }) => {
  const result = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], { input: syncer('s'.repeat(64), {}) });
  assert.is.not(result.code, 0);
  assert.match(result.stderr, /name must be at most 63 characters/);
});

test('accepts the boundary values', async ({ cluster, ns }) => {
  for (const [index, spec] of [{ interval: '1m' }, { interval: '1h30m' }, { maxRemovals: 0 }, { maxRemovals: '100%' }, { apiURL: 'http://127.0.0.1:8080' }].entries()) {
    await cluster.kubectlOk(['apply', '-n', ns, '-f', '-'], { input: syncer(`edge-${index}`, spec) });
  }
});

test('kubectl explain teaches the API', async ({ cluster }) => {
  const spec = await cluster.kubectlOk(['explain', 'wcs.spec']);
  for (const field of ['organization', 'corpId', 'corpSecretRef', 'contactsSecretRef', 'interval', 'suspend', 'apiURL', 'removedUsers', 'syncGroups', 'maxRemovals']) {
    assert.match(spec, new RegExp(`\\n\\s+${field}\\s`), `explain lacks ${field}`);
  }
  assert.match(spec, /Go duration such as 30m/);
  assert.match(await cluster.kubectlOk(['explain', 'cu.spec.isForbidden']), /disabled, not activated or has quit/);
  assert.match(await cluster.kubectlOk(['explain', 'cg.spec.parentId']), /parent department's id/);
});

test('kubectl get shows the printer columns', async ({ cluster, ns }) => {
  const table = await cluster.kubectlOk(['get', 'wcs', '-n', ns]);
  assert.match(table.split('\n')[0] ?? '', /^NAME\s+ORGANIZATION\s+CORP ID\s+READY\s+USERS\s+LAST SYNC\s+AGE$/);
  const wide = await cluster.kubectlOk(['get', 'wcs', '-n', ns, '-o', 'wide']);
  assert.match(wide.split('\n')[0] ?? '', /AGE\s+STATUS\s+SUSPENDED$/);
  const users = await cluster.kubectlOk(['get', 'cu', '-n', ns]);
  assert.match(users, /^NAME\s+ORGANIZATION\s+DISPLAY NAME\s+EMAIL\s+FORBIDDEN\s+AGE\n/);
  assert.match(users, /acme\.zhangsan\s+acme\s+张三\s+zhangsan@acme\.example\s+false/);
  const groups = await cluster.kubectlOk(['get', 'cg', '-n', ns]);
  assert.match(groups, /^NAME\s+ORGANIZATION\s+DISPLAY NAME\s+PARENT\s+AGE\n/);
});

test.run();
