// Two operator processes electing a leader on a real control plane: only the leader reconciles, and a leader
// that stops (SIGTERM) or dies (SIGKILL) is replaced.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testCluster, type TestCluster } from '../support/cluster.ts';
import { type OperatorProcess, startOperator } from '../support/operator.ts';
import { applySecret } from '../support/secrets.ts';
import { type Simulator, startSimulator } from '../support/simulator/server.ts';
import { waitFor } from '../support/wait.ts';

const LEASE = 'wecom-syncer-leader';

interface Env {
  cluster: TestCluster;
  ns: string;
  sim: Simulator;
  operators: OperatorProcess[];
}

const test = suite<{ env: Env }>('leader election');

test.before.each(async (context) => {
  const cluster = await testCluster();
  await cluster.kubectlOk(['apply', '--server-side', '-f', 'crds/']);
  await cluster.kubectlOk(['wait', '--for=condition=Established', '-f', 'crds/']);
  const ns = await cluster.namespace('leader');
  const sim = await startSimulator();
  await applySecret(cluster, ns, 'wecom', { corpSecret: sim.corpSecret }, [sim.url]);
  context.env = { cluster, ns, sim, operators: [] };
});
test.after.each(async ({ env }) => {
  await Promise.all(env.operators.map((operator) => operator.kill('SIGKILL')));
  await env.sim.close();
  await env.cluster.kubectl(['delete', 'namespace', env.ns, '--wait=false']);
});

/** Starts a replica electing in the test's namespace. */
function replica(env: Env, extraArgs: string[] = []): OperatorProcess {
  const operator = startOperator(env.cluster.kubeconfig, env.ns, ['--leader-elect', `--leader-election-namespace=${env.ns}`, ...extraArgs]);
  env.operators.push(operator);
  return operator;
}

/** The candidate name a replica logs with each leader-election line. */
function identityOf(operator: OperatorProcess): Promise<string> {
  return waitFor('the replica to log its identity', async () => /"identity":"([^"]+)"/.exec(operator.log())?.[1]);
}

async function holder(env: Env): Promise<string> {
  const result = await env.cluster.kubectl(['get', 'lease', LEASE, '-n', env.ns, '-o', 'jsonpath={.spec.holderIdentity}']);
  return result.code === 0 ? result.stdout : '';
}

/** Waits until exactly one of `operators` holds the Lease; returns [leader, follower]. */
async function electedPair(env: Env, operators: readonly [OperatorProcess, OperatorProcess]): Promise<[OperatorProcess, OperatorProcess]> {
  const ids = await Promise.all(operators.map(identityOf));
  const leaderId = await waitFor('a leader', async () => {
    const id = await holder(env);
    return ids.includes(id) ? id : undefined;
  });
  const [a, b] = operators;
  return leaderId === ids[0] ? [a, b] : [b, a];
}

function applySyncer(env: Env): Promise<string> {
  const manifest = {
    apiVersion: 'casdoor.org/v1alpha1',
    kind: 'WeComSyncer',
    metadata: { name: 'acme', namespace: env.ns },
    spec: { organization: 'acme', corpId: env.sim.corpId, corpSecretRef: { name: 'wecom' }, apiURL: env.sim.url },
  };
  return env.cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
}

let requests = 0;

/** Asks for a sync and waits until some replica has handled it. */
async function requestSync(env: Env, timeoutMs = 30_000): Promise<void> {
  const value = `leader-${++requests}-${Date.now()}`;
  await env.cluster.kubectlOk(['annotate', 'wcs', 'acme', '-n', env.ns, `casdoor.org/sync-requested-at=${value}`, '--overwrite']);
  await waitFor(`sync request ${value} handled`, async () => {
    const handled = await env.cluster.kubectlOk(['get', 'wcs', 'acme', '-n', env.ns, '-o', 'jsonpath={.status.lastHandledSyncRequest}']);
    return handled === value ? true : undefined;
  }, timeoutMs);
}

const CONTROLLERS_STARTED = '"msg":"controllers started"';

test('one replica leads and reconciles; on SIGTERM it exits 0 and releases, and the other takes over at once', async ({ env }) => {
  const [leader, follower] = await electedPair(env, [replica(env), replica(env)]);
  const followerId = await identityOf(follower);
  await waitFor('the follower to say it waits', async () => (follower.log().includes('waiting to be elected') ? true : undefined));

  await applySyncer(env);
  await requestSync(env);
  const reconcileLine = `"key":"${env.ns}/acme"`;
  assert.ok(leader.log().includes(CONTROLLERS_STARTED) && leader.log().includes(reconcileLine), 'the leader reconciles');
  assert.not.ok(follower.log().includes(CONTROLLERS_STARTED) || follower.log().includes(reconcileLine), 'the follower does not');

  const stoppedAt = Date.now();
  assert.is(await leader.kill('SIGTERM'), 0, 'a SIGTERM-ed leader exits 0');
  assert.ok(leader.log().includes('released the lease'));
  await waitFor('the follower to take over', async () => ((await holder(env)) === followerId ? true : undefined));
  const takeoverMs = Date.now() - stoppedAt;
  console.log(`# takeover after SIGTERM: ${takeoverMs} ms (lease duration 15 s)`);
  // The follower tries every 2 s, jittered up to 4.4 s; without the release it would wait out the 15 s lease.
  assert.ok(takeoverMs < 7_000, `took over after ${takeoverMs} ms`);

  await requestSync(env);
  assert.ok(follower.log().includes(CONTROLLERS_STARTED), 'the new leader reconciles');
});

test('when the leader is killed, the other takes over once the lease expires and finishes the pending work', async ({ env }) => {
  // Short timings, which also proves the duration flags reach the election.
  const timings = ['--leader-election-lease-duration=4s', '--leader-election-renew-deadline=3s', '--leader-election-retry-period=1s'];
  const [leader, follower] = await electedPair(env, [replica(env, timings), replica(env, timings)]);
  const followerId = await identityOf(follower);
  await applySyncer(env);
  await requestSync(env);

  const killedAt = Date.now();
  assert.is(await leader.kill('SIGKILL'), null);
  // Work that arrives while nobody leads waits for the next leader.
  const pending = requestSync(env);
  await waitFor('the follower to take over', async () => ((await holder(env)) === followerId ? true : undefined));
  const takeoverMs = Date.now() - killedAt;
  console.log(`# takeover after SIGKILL: ${takeoverMs} ms (lease duration 4 s)`);
  // The follower counts the lease duration from when it saw the last renewal (up to one jittered retry period,
  // 2.2 s, after it), then takes over at its next attempt (up to 2.2 s more); 15 s would be the default lease alone.
  assert.ok(takeoverMs < 2_200 + 4_000 + 2_200 + 1_500, `took over after ${takeoverMs} ms`);
  await pending;
  assert.ok(follower.log().includes(CONTROLLERS_STARTED));
});

test('a leader that finds another holder in the Lease exits 1 at once', async ({ env }) => {
  const leader = replica(env);
  await waitFor('a leader', async () => ((await holder(env)) !== '' ? true : undefined));
  const patchedAt = Date.now();
  await env.cluster.kubectlOk(['patch', 'lease', LEASE, '-n', env.ns, '--type=merge', '-p', '{"spec":{"holderIdentity":"intruder"}}']);
  // SIGCONT leaves a running process alone: this only waits for the exit.
  assert.is(await leader.kill('SIGCONT'), 1, 'exits non-zero, as a controller-runtime manager does');
  assert.ok(Date.now() - patchedAt < 5_000, 'at its next renewal, not after the renew deadline');
  assert.match(leader.log(), /lost leadership.*held by intruder|held by intruder.*lost leadership/);
});

test.run();
