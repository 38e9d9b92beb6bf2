// The Argo CD health check in deploy/argocd/, run by real Lua interpreters
// against sample WeComSyncers: Debian's lua5.1 (the language of gopher-lua,
// which Argo CD embeds) and lua5.4. `make test` installs both (`make tools`).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { argoHealth, HEALTH_SCRIPT } from '../support/argocd-health.ts';

const test = suite('Argo CD health check');

type Condition = { type: string; status: string; reason: string; message: string };

/** A WeComSyncer of generation `generation` with `status` (none when undefined). */
function syncer(options: { generation?: number; suspend?: boolean; observedGeneration?: number; conditions?: Condition[] }) {
  const generation = options.generation ?? 2;
  return {
    apiVersion: 'casdoor.org/v1alpha1',
    kind: 'WeComSyncer',
    metadata: { name: 'acme', namespace: 'casdoor', generation },
    spec: { organization: 'acme', corpId: 'ww0123456789abcdef', corpSecretRef: { name: 'acme-wecom', key: 'corpSecret' }, suspend: options.suspend ?? false },
    ...(options.conditions && {
      status: {
        observedGeneration: options.observedGeneration ?? generation,
        conditions: options.conditions.map((c) => ({ ...c, observedGeneration: options.observedGeneration ?? generation, lastTransitionTime: '2026-11-26T10:00:00Z' })),
      },
    }),
  };
}

const connected: Condition = { type: 'Connected', status: 'True', reason: 'Connected', message: 'Token issued and 14 departments listed' };
const synced: Condition = { type: 'Ready', status: 'True', reason: 'Synced', message: 'Synced 36 users from 14 departments: 0 created, 0 updated, 0 removed, 36 unchanged' };

test('Healthy: Ready=True for the current generation', () => {
  assert.equal(argoHealth(syncer({ conditions: [synced, connected] })), { status: 'Healthy', message: synced.message });
});

test('Progressing: no status yet', () => {
  assert.is(argoHealth(syncer({})).status, 'Progressing');
  assert.is(argoHealth({ ...syncer({}), status: { conditions: [] } }).status, 'Progressing');
});

test('Progressing: the status answers an older generation, even a Ready or Stalled one', () => {
  assert.equal(argoHealth(syncer({ generation: 3, observedGeneration: 2, conditions: [synced, connected] })), {
    status: 'Progressing',
    message: 'Waiting for the operator to observe generation 3',
  });
  const stalled: Condition = { type: 'Stalled', status: 'True', reason: 'InvalidSecret', message: 'WeCom rejected the secret' };
  assert.is(argoHealth(syncer({ generation: 3, observedGeneration: 2, conditions: [stalled] })).status, 'Progressing');
});

test('Progressing: a sync is running, with its progress as the message', () => {
  const reconciling: Condition = { type: 'Reconciling', status: 'True', reason: 'Progressing', message: 'written 4200/10000' };
  const unknown: Condition = { type: 'Ready', status: 'Unknown', reason: 'Progressing', message: 'Sync in progress: written 4200/10000' };
  assert.equal(argoHealth(syncer({ conditions: [unknown, reconciling] })), { status: 'Progressing', message: 'written 4200/10000' });
  // A later sync of a syncer that was Ready.
  assert.is(argoHealth(syncer({ conditions: [synced, connected, reconciling] })).status, 'Progressing');
});

test('Degraded: Stalled=True, with the message a person acts on', () => {
  const message = 'WeCom rejected the secret (errcode 40001): check the Secret casdoor/acme-wecom key corpSecret';
  const conditions: Condition[] = [
    { type: 'Ready', status: 'False', reason: 'InvalidSecret', message },
    { type: 'Connected', status: 'False', reason: 'InvalidSecret', message },
    { type: 'Stalled', status: 'True', reason: 'InvalidSecret', message },
  ];
  assert.equal(argoHealth(syncer({ conditions })), { status: 'Degraded', message });
  // Suspension does not hide a failed connection test.
  assert.is(argoHealth(syncer({ suspend: true, conditions })).status, 'Degraded');
});

test('Degraded: Ready=False with a failure reason, stalled or not', () => {
  const missing: Condition = { type: 'Ready', status: 'False', reason: 'SecretNotFound', message: 'Secret casdoor/acme-wecom not found; retrying' };
  assert.equal(argoHealth(syncer({ conditions: [missing] })), { status: 'Degraded', message: missing.message });
  const blocked = 'Removal blocked: the sync would remove 12 users (limit 4)';
  assert.is(argoHealth(syncer({ conditions: [
    { type: 'Ready', status: 'False', reason: 'RemovalsBlocked', message: blocked },
    connected,
    { type: 'Stalled', status: 'True', reason: 'RemovalsBlocked', message: blocked },
  ] })).status, 'Degraded');
  assert.is(argoHealth(syncer({ suspend: true, conditions: [{ type: 'Ready', status: 'False', reason: 'Unreachable', message: 'timeout' }] })).status, 'Degraded');
});

test('Suspended: spec.suspend with the connection test passing', () => {
  const suspended: Condition = { type: 'Ready', status: 'False', reason: 'Suspended', message: 'Suspended: the connection works; no user is written until spec.suspend is false' };
  assert.equal(argoHealth(syncer({ suspend: true, conditions: [suspended, connected] })), { status: 'Suspended', message: suspended.message });
  // Suspended after having synced: the old Ready=True stays until the connection test ends.
  assert.is(argoHealth(syncer({ suspend: true, conditions: [synced, connected] })).status, 'Suspended');
});

test('the argocd-cm patch holds the same script under the key Argo CD reads', async () => {
  const patch = parse(await readFile(join(import.meta.dirname, '..', '..', 'deploy', 'argocd', 'argocd-cm-patch.yaml'), 'utf8')) as { data: Record<string, string> };
  assert.equal(Object.keys(patch.data), ['resource.customizations.health.casdoor.org_WeComSyncer']);
  assert.is(patch.data['resource.customizations.health.casdoor.org_WeComSyncer'], await readFile(HEALTH_SCRIPT, 'utf8'));
});

test.run();
