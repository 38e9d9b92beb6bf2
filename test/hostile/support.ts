// What the hostile-input and soak suites share.
import * as assert from 'uvu/assert';
import { leakedSecrets, type SyncerEnv } from '../support/syncer-env.ts';

/**
 * Closes the env after scanning the operator's log, every Event and every
 * WeComSyncer status in the cluster for the env's secrets and every token its
 * simulator issued: fails when one appears.
 */
export async function closeAndScanForSecrets(env: SyncerEnv): Promise<void> {
  const events = await env.cluster.kubectlOk(['get', 'events', '-A', '-o', 'json']);
  const statuses = await env.cluster.kubectlOk(['get', 'wcs', '-A', '-o', 'json']);
  const leaks = leakedSecrets(env.sim, [env.operator.log(), events, statuses]);
  await env.close();
  assert.ok(env.operator.log().length > 0, 'there was no operator log to scan');
  assert.equal(leaks, [], 'a secret or token reached the log, an Event or status');
}
