// `wecom-syncer sync` and `kubectl wecom sync` as users run them: the bin/
// scripts as child processes, against the real control plane and operator.
import { spawn } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';
import { smallOrg } from '../syncer/fixtures.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args` with KUBECONFIG pointing at the test cluster and bin/ first on PATH. */
function run(env: SyncerEnv, command: string, args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, KUBECONFIG: env.cluster.kubeconfig, PATH: `${BIN}${delimiter}${process.env['PATH'] ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const show = (result: Run): string => `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;

const test = suite<{ env: SyncerEnv }>('cli sync');

test.before(async (context) => {
  context.env = await syncerEnv('cli', { org: smallOrg() });
  await context.env.applySyncer('acme');
  await context.env.waitReady('acme');
});
test.after(async ({ env }) => {
  await env.close();
});

test('wecom-syncer sync waits for the sync it asked for and prints the counts', async ({ env }) => {
  const before = (await env.syncer('acme')).status?.lastHandledSyncRequest;
  const result = await run(env, join(BIN, 'wecom-syncer'), ['sync', 'acme', '-n', env.ns]);
  assert.is(result.code, 0, show(result));
  assert.match(result.stdout, /✔ synced: Ready=True \(Synced\)/, show(result));
  assert.match(result.stdout, /users: 10 total, 8 active, 2 forbidden/, show(result));
  assert.match(result.stdout, /last sync: 0 created, 0 updated, 10 unchanged, 0 removed, 0 failed/, show(result));
  const value = /sync-requested-at=(\S+)/.exec(result.stderr)?.[1];
  assert.ok(value && !Number.isNaN(Date.parse(value)), `no RFC 3339 request value in:\n${result.stderr}`);
  const stored = await env.syncer('acme');
  assert.is(stored.metadata.annotations?.['casdoor.org/sync-requested-at'], value);
  assert.is(stored.status?.lastHandledSyncRequest, value);
  assert.is.not(before, value);
});

test('kubectl wecom sync works as a kubectl plugin when bin/ is on PATH', async ({ env }) => {
  const result = await run(env, 'kubectl', ['wecom', 'sync', 'acme', '-n', env.ns, '--timeout', '60s']);
  assert.is(result.code, 0, show(result));
  assert.match(result.stdout, /✔ synced: .*\n.*users: 10 total/, show(result));
  const help = await run(env, 'kubectl', ['wecom', '--help']);
  assert.is(help.code, 0, show(help));
  assert.match(help.stdout, /^usage: kubectl wecom sync \[wcs\/\]NAME \| cds\/NAME/, show(help));
});

test('--no-wait records the request and returns at once', async ({ env }) => {
  const result = await run(env, join(BIN, 'wecom-syncer'), ['sync', 'acme', '-n', env.ns, '--wait=false']);
  assert.is(result.code, 0, show(result));
  assert.is(result.stdout, '');
  const value = /sync-requested-at=(\S+)/.exec(result.stderr)?.[1];
  assert.is((await env.syncer('acme')).metadata.annotations?.['casdoor.org/sync-requested-at'], value);
});

test('a syncer that does not exist exits 1 with "not found"', async ({ env }) => {
  const result = await run(env, join(BIN, 'wecom-syncer'), ['sync', 'nobody', '-n', env.ns]);
  assert.is(result.code, 1, show(result));
  assert.match(result.stderr, new RegExp(`wecomsyncer ${env.ns}/nobody not found`), show(result));
});

test('a usage error exits 2 without touching the cluster', async ({ env }) => {
  const result = await run(env, join(BIN, 'wecom-syncer'), ['sync', 'acme', '-n', env.ns, '--timeout', 'soon']);
  assert.is(result.code, 2, show(result));
  assert.match(result.stderr, /--timeout: "soon" is not a Go duration/, show(result));
});

test('a suspended syncer answers with a connection test: exit 0 when it passes', async ({ env }) => {
  await env.applySyncer('quiet', { suspend: true });
  await env.waitReady('quiet', 'False');
  const result = await run(env, join(BIN, 'wecom-syncer'), ['sync', 'quiet', '-n', env.ns, '--timeout', '60s']);
  assert.is(result.code, 0, show(result));
  assert.match(result.stdout, /✔ suspended: the connection test passed/, show(result));
  assert.match(result.stdout, /Connected=True/, show(result));
});

test('wecom-syncer sync cds/NAME runs a full comparison with Casdoor and prints its counts', async ({ env }) => {
  const { startCasdoor } = await import('../support/casdoor/server.ts');
  const casdoor = await startCasdoor();
  try {
    await env.applySecret('casdoor-app', { clientId: casdoor.app.clientId, clientSecret: casdoor.app.clientSecret }, [casdoor.url]);
    await env.cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'casdoor.org/v1alpha1', kind: 'CasdoorServer', metadata: { name: 'main', namespace: env.ns },
      spec: { endpoint: casdoor.url, credentialsRef: { name: 'casdoor-app' }, organizations: ['acme'] },
    }) });
    const result = await run(env, join(BIN, 'kubectl-wecom'), ['sync', 'cds/main', '-n', env.ns, '--timeout', '60s']);
    assert.is(result.code, 0, show(result));
    assert.match(result.stderr, /annotating CasdoorServer main/, show(result));
    assert.match(result.stdout, /✔ synced: Ready=True \(Synced\)/, show(result));
    assert.match(result.stdout, /users: 10\/10 in sync, 0 failed, 0 skipped/, show(result));
    const missing = await run(env, join(BIN, 'wecom-syncer'), ['sync', 'cds/nosuch', '-n', env.ns]);
    assert.is(missing.code, 1, show(missing));
    assert.match(missing.stderr, /casdoorserver .*\/nosuch not found/, show(missing));
  } finally {
    await casdoor.close();
  }
});

test('a failed sync exits 1 and prints the reason', async ({ env }) => {
  env.sim.setFaults({ failingDepartments: [3] });
  try {
    // The WeCom client retries a busy department for about 15 s before giving up.
    const result = await run(env, join(BIN, 'wecom-syncer'), ['sync', 'acme', '-n', env.ns, '--timeout', '60s']);
    assert.is(result.code, 1, show(result));
    assert.match(result.stdout, /✗ sync failed: Ready=False \(Busy\)/, show(result));
    assert.match(result.stdout, /last successful sync: \d{4}-/, show(result));
  } finally {
    env.sim.resetFaults();
  }
});

test.run();
