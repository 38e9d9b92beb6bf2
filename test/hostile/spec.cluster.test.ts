// Specs the API server accepts but the operator cannot use: a Secret with a missing
// key, an empty value or binary data (Ready=False naming the problem, not Stalled: the
// Secret may still be on its way), and a plain-http apiURL to a host that is not
// loopback (Stalled, InsecureAPIURL). None of them calls WeCom.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type StoredCondition, type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';
import { smallOrg } from '../syncer/fixtures.ts';
import { closeAndScanForSecrets } from './support.ts';

const test = suite<{ env: SyncerEnv }>('unusable specs, end to end');

test.before(async (context) => {
  context.env = await syncerEnv('badspec', { org: smallOrg() });
});

test.after(({ env }) => closeAndScanForSecrets(env));

/** Applies a Secret `name` whose `data` holds these raw bytes per key. */
async function applySecret(env: SyncerEnv, name: string, data: Record<string, Buffer>): Promise<void> {
  const manifest = {
    apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: env.ns, annotations: { 'casdoor.org/allowed-urls': env.sim.url } },
    data: Object.fromEntries(Object.entries(data).map(([key, bytes]) => [key, bytes.toString('base64')])),
  };
  await env.cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
}

/** The conditions once Ready is False for the current generation. */
async function failedConditions(env: SyncerEnv, name: string): Promise<Map<string, StoredCondition>> {
  const syncer = await env.waitReady(name, 'False');
  return new Map(syncer.status?.conditions?.map((c) => [c.type, c]));
}

// [syncer, Secret data, which ref, reason, message]
const secrets: Array<[string, Record<string, Buffer>, 'corpSecretRef' | 'contactsSecretRef', string, RegExp]> = [
  ['missing-key', { other: Buffer.from('x') }, 'corpSecretRef', 'SecretNotFound', /key "corpSecret" of Secret [\w-]+\/missing-key not found; waiting for it to be added/],
  ['empty', { corpSecret: Buffer.alloc(0) }, 'corpSecretRef', 'SecretInvalid', /key "corpSecret" of Secret [\w-]+\/empty is empty/],
  ['blank', { corpSecret: Buffer.from('  \n') }, 'corpSecretRef', 'SecretInvalid', /key "corpSecret" of Secret [\w-]+\/blank is empty/],
  ['binary', { corpSecret: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]) }, 'corpSecretRef', 'SecretInvalid', /key "corpSecret" of Secret [\w-]+\/binary holds binary data, not a WeCom secret/],
  ['control-chars', { corpSecret: Buffer.from('abc\u0007def') }, 'corpSecretRef', 'SecretInvalid', /holds binary data/],
  ['too-long', { corpSecret: Buffer.from('s'.repeat(5000)) }, 'corpSecretRef', 'SecretInvalid', /is longer than 1024 characters/],
  ['contacts-empty', { contactsSecret: Buffer.alloc(0) }, 'contactsSecretRef', 'SecretInvalid', /key "contactsSecret" of Secret [\w-]+\/contacts-empty is empty/],
];

for (const [name, data, ref, reason, message] of secrets) {
  test(`a Secret ${name}: Ready=False ${reason}, naming the Secret and key, not Stalled`, async ({ env }) => {
    await applySecret(env, name, data);
    const spec = ref === 'corpSecretRef'
      ? { corpSecretRef: { name } }
      : { contactsSecretRef: { name, key: 'contactsSecret' } };
    await env.applySyncer(name, spec);
    const conditions = await failedConditions(env, name);
    assert.is(conditions.get('Ready')?.reason, reason);
    assert.match(conditions.get('Ready')?.message ?? '', message);
    assert.not.ok(conditions.has('Stalled'), 'a Secret problem is not Stalled: GitOps may still deliver it');
  });
}

test('a Secret fixed in place is picked up', async ({ env }) => {
  await applySecret(env, 'empty', { corpSecret: Buffer.from(env.sim.corpSecret) });
  await env.waitReady('empty', 'True', 70_000);
});

const insecure = ['http://example.invalid', 'http://10.0.0.1:8080', 'http://localhost.example.com', 'http://127.0.0.1.nip.io'];

for (const [index, apiURL] of insecure.entries()) {
  test(`apiURL ${apiURL}: Stalled InsecureAPIURL, and no call is made`, async ({ env }) => {
    const name = `insecure-${index}`;
    const calls = JSON.stringify(env.sim.counters.calls);
    await env.applySyncer(name, { apiURL });
    const conditions = await failedConditions(env, name);
    for (const type of ['Ready', 'Stalled']) {
      assert.is(conditions.get(type)?.reason, 'InsecureAPIURL', type);
      assert.match(conditions.get(type)?.message ?? '', /uses plain http, which is allowed only for loopback hosts.*Use https/);
    }
    assert.is(JSON.stringify(env.sim.counters.calls), calls);
  });
}

test('an insecure apiURL corrected to loopback syncs', async ({ env }) => {
  // localhost is an origin of its own: the Secret's owner allows it too.
  const localhost = env.sim.url.replace('127.0.0.1', 'localhost');
  await env.applySecret('wecom', { corpSecret: env.sim.corpSecret, contactsSecret: env.sim.contactsSecret }, [env.sim.url, localhost]);
  await env.applySyncer('insecure-0', { apiURL: localhost });
  const syncer = await env.waitReady('insecure-0', 'True');
  assert.not.ok(syncer.status?.conditions?.some((c) => c.type === 'Stalled'));
});

test('none of the unusable specs ever called WeCom with their Secret', async ({ env }) => {
  // Only the two fixed syncers above fetched a token; the others never reached gettoken.
  assert.ok((env.sim.counters.calls['gettoken'] ?? 0) <= 2, JSON.stringify(env.sim.counters.calls));
});

test.run();
