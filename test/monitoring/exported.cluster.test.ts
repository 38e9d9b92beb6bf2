// Every metric the alerts and the dashboard name is one a running operator exports, with the labels they
// select on: scraped after a sync, a comparison with Casdoor and an election, on the real control plane.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../../hack/control-plane/cluster.ts';
import { type CasdoorEnv, casdoorEnv } from '../support/casdoor-env.ts';
import { startOperator } from '../support/operator.ts';
import { parseSamples, type Sample } from '../support/prom-text.ts';
import { waitFor } from '../support/wait.ts';
import { dashboardExprs, metricNames, readDashboard, ruleExprs } from './metric-names.ts';

const test = suite<{ env: CasdoorEnv; port: number }>('monitoring: exported metrics');

/** The label names each `metric{...}` selector of `expr` matches on. */
function selectorLabels(expr: string): Array<[metric: string, label: string]> {
  const found: Array<[string, string]> = [];
  for (const [, metric = '', matchers = ''] of expr.matchAll(/([a-zA-Z_:][\w:]*)\{([^}]*)\}/g)) {
    for (const [, label = ''] of matchers.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) found.push([metric, label]);
  }
  return found;
}

/** The samples of a metric, a histogram's by its _count series. */
function seriesOf(samples: Sample[], metric: string): Sample[] {
  return samples.filter((sample) => sample.name === metric || sample.name === `${metric}_count`);
}

test.before(async (context) => {
  context.env = await casdoorEnv('exported');
  // The env's operator serves no metrics and elects no leader; this one does both.
  await context.env.operator.kill();
  context.port = await freePort();
  context.env.operator = startOperator(context.env.cluster.kubeconfig, context.env.ns, [
    `--metrics-bind-address=127.0.0.1:${context.port}`, '--leader-elect', `--leader-election-namespace=${context.env.ns}`,
  ]);
});
test.after(async ({ env }) => {
  await env.close();
});

test('every metric the alerts and the dashboard use is exported, with every label they select on', async ({ env, port }) => {
  await env.applySyncer('acme');
  await env.waitReady('acme', 'True', 60_000);
  await env.applyServer('door');
  await env.waitServer('door', 'True', 60_000);
  const { alerts, dashboard } = metricNames();
  const wanted = [...new Set([...alerts, ...dashboard])].sort();
  // The gauges follow status through the informers, a moment after the status writes.
  const samples = await waitFor('every metric the alerts and the dashboard name', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    const parsed = parseSamples(await response.text());
    return wanted.every((metric) => seriesOf(parsed, metric).length > 0) ? parsed : undefined;
  }, 30_000).catch(async (error: unknown) => {
    const parsed = parseSamples(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    throw new Error(`not exported: ${wanted.filter((metric) => seriesOf(parsed, metric).length === 0).join(', ')}`, { cause: error });
  });
  const exprs = [...ruleExprs().values(), ...dashboardExprs(readDashboard())];
  const missing = exprs.flatMap(selectorLabels)
    // The Lease's series has no namespace of its own: Prometheus adds the scrape target's.
    .filter(([metric, label]) => !(label === 'namespace' && metric === 'leader_election_master_status'))
    .filter(([metric, label]) => seriesOf(samples, metric).length > 0 && !seriesOf(samples, metric).some((sample) => label in sample.labels))
    .map(([metric, label]) => `${metric}{${label}}`);
  assert.equal([...new Set(missing)], [], 'labels the queries select on that no exported series has');
  assert.ok(wanted.length >= 15, `${wanted.length} metrics checked`);
});

test.run();
