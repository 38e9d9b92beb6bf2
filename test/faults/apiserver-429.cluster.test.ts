// The API server rejecting requests with 429 (a private control plane with
// very low in-flight limits and priority-and-fairness off, so the limits answer
// 429 rather than queue), the operator running as a ServiceAccount, since
// system:masters is exempt from the limits: the operator slows down and converges.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertExact, report, seconds } from '../support/faults.ts';
import { startOperator } from '../support/operator.ts';
import { type PrivateCluster, privateCluster, serviceAccountKubeconfig } from '../support/private-cluster.ts';
import { type SyncerEnv, syncerEnv } from '../support/syncer-env.ts';

const MEMBERS = 1000;

const test = suite<{ cluster: PrivateCluster; env?: SyncerEnv }>('faults: API server answers 429');

test.before(async (context) => {
  context.cluster = await privateCluster('faults-429', [
    '--enable-priority-and-fairness=false',
    '--max-requests-inflight=5',
    '--max-mutating-requests-inflight=2',
  ]);
});
test.after(async (context) => {
  await context.env?.close();
  await context.cluster.destroy();
});

test('1000 members through --max-mutating-requests-inflight=2: slowed by 429s, converges exactly', async (context) => {
  const env = await syncerEnv('throttled', { generate: { members: MEMBERS, departments: 20, seed: 13 } }, context.cluster);
  context.env = env;
  // The operator as a ServiceAccount: the harness's system:masters user is exempt from the limits.
  await env.operator.kill();
  env.operator = startOperator(await serviceAccountKubeconfig(context.cluster, env.ns), env.ns);
  const started = Date.now();
  await env.applySyncer('acme');
  let syncer;
  try {
    syncer = await env.waitReady('acme', 'True', 240_000, 2000);
  } catch (error) {
    console.log(env.operator.log().split('\n').slice(-40).join('\n'));
    throw error;
  }
  const took = seconds(started);
  await assertExact(env, syncer);
  assert.is(syncer.status?.lastSync?.['failed'], 0);
  // The API server's own count of the 429s it answered on CasdoorUsers: proof the limit bit.
  const metrics = await context.cluster.kubectlOk(['get', '--raw', '/metrics']);
  const rejected = metrics
    .split('\n')
    // The in-flight filter counts what it rejects as terminations, not in apiserver_request_total.
    .filter((line) => /^apiserver_request_(total|terminations_total)\{/.test(line) && line.includes('code="429"') && line.includes('resource="casdoorusers"'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  assert.ok(rejected > 0, 'the API server never answered 429 on CasdoorUsers');
  const log = env.operator.log();
  const syncs = (log.match(/"msg":"sync finished"/g) ?? []).length;
  const gaveUp = (log.match(/"msg":"write failed"/g) ?? []).length;
  // Being asked to slow down is no failure: no write may give up. (The number of syncs is only
  // reported: the final status write has no retry of its own, and a 429 on it means one more sync.)
  assert.is(gaveUp, 0, 'writes gave up on 429');
  report('API server answers 429 (max 2 mutating requests in flight, APF off)', `${rejected} CasdoorUser requests answered 429 and retried after Retry-After plus jitter; ${gaveUp} writes gave up, ${syncs} sync; all ${MEMBERS} users exact, Ready, ${took} s after the syncer was created`);
});

test.run();
