// deploy/monitoring/grafana-dashboard.json: it parses, its data source is the template variable
// everywhere, its variables read wecom_syncer_users, it shows what an operator of the syncer looks at,
// and every query, its Grafana variables replaced by plausible values, is PromQL as the real promtool
// parses it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dashboardExprs, metricsIn, MONITORING_DIR, type Panel } from './metric-names.ts';
import { checkExprs } from './promtool.ts';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

interface Variable {
  type: string;
  name: string;
  query?: unknown;
  definition?: string;
  datasource?: unknown;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: Variable[] };
  panels: Array<Panel & { id: number; gridPos: { x: number; y: number; w: number; h: number } }>;
}

const text = readFileSync(join(MONITORING_DIR, 'grafana-dashboard.json'), 'utf8');

/** What a variable stands for when the query runs; the dashboard's own multi-value ones as Grafana's regex. */
const VALUES: Record<string, string> = {
  namespace: 'casdoor|team-a',
  syncer: 'acme',
  __rate_interval: '2m',
  __interval: '1m',
  __range: '1d',
};

/** A query as Grafana sends it: `$name`, `${name}` and `${name:format}` replaced; an unknown one throws. */
function substitute(expr: string): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    const value = VALUES[name];
    if (value === undefined) throw new Error(`${whole} in ${expr}: not a variable of the dashboard or Grafana's`);
    return value;
  });
}

/** Every value under the key `datasource`, anywhere in the JSON. */
function datasources(node: unknown, path = '$'): Array<{ path: string; value: unknown }> {
  if (Array.isArray(node)) return node.flatMap((item, index) => datasources(item, `${path}[${index}]`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'datasource' ? [{ path: `${path}.${key}`, value }, ...datasources(value, `${path}.${key}`)] : datasources(value, `${path}.${key}`),
  );
}

const test = suite<{ dashboard: Dashboard }>('deploy/monitoring Grafana dashboard');

test.before((context) => {
  context.dashboard = JSON.parse(text) as Dashboard;
});

test('parses, with its uid, title and a current schema', ({ dashboard }) => {
  assert.is(dashboard.uid, 'wecom-syncer');
  assert.is(dashboard.title, 'wecom-syncer');
  assert.ok(dashboard.schemaVersion >= 36, 'schemaVersion 36 or later: data sources by uid');
});

test('the data source is the ${datasource} variable everywhere, never a uid of one Grafana', ({ dashboard }) => {
  const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
  assert.equal({ type: variable?.type, query: variable?.query }, { type: 'datasource', query: 'prometheus' });
  const found = datasources(dashboard);
  assert.ok(found.length > 10);
  for (const { path, value } of found) assert.equal(value, DATASOURCE, path);
  const queryPanels = dashboard.panels.filter((panel) => panel.type !== 'row');
  for (const panel of queryPanels) {
    assert.equal((panel as { datasource?: unknown }).datasource, DATASOURCE, panel.title);
    for (const target of panel.targets ?? []) assert.equal((target as { datasource?: unknown }).datasource, DATASOURCE, panel.title);
  }
});

test('namespace and syncer are variables read from wecom_syncer_users, and every panel query uses only known variables', ({ dashboard }) => {
  const variable = (name: string): Variable | undefined => dashboard.templating.list.find((v) => v.name === name);
  assert.is(variable('namespace')?.definition, 'label_values(wecom_syncer_users, namespace)');
  assert.is(variable('syncer')?.definition, 'label_values(wecom_syncer_users{namespace=~"$namespace"}, name)');
  for (const name of ['namespace', 'syncer']) {
    assert.is(variable(name)?.type, 'query');
    assert.equal((variable(name)?.query as { query?: string } | undefined)?.query, variable(name)?.definition);
  }
  const exprs = dashboardExprs(dashboard);
  for (const expr of exprs) substitute(expr);
  assert.ok(exprs.some((expr) => expr.includes('name=~"$syncer"')));
});

test('panels show syncs, users, staleness, WeCom and Casdoor calls and latency, queues, reconciles and conditions', ({ dashboard }) => {
  const used = new Set(dashboardExprs(dashboard).flatMap(metricsIn));
  for (const name of [
    'wecom_syncer_syncs_total',
    'wecom_syncer_users',
    'wecom_syncer_last_success_timestamp_seconds',
    'wecom_requests_total',
    'wecom_request_duration_seconds',
    'casdoor_requests_total',
    'casdoor_server_objects',
    'workqueue_depth',
    'controller_runtime_reconcile_time_seconds',
    'wecom_syncer_status_condition',
  ]) {
    assert.ok(used.has(name), `a panel shows ${name}`);
  }
  const exprs = dashboardExprs(dashboard);
  assert.ok(exprs.some((expr) => /^histogram_quantile\(.*wecom_request_duration_seconds_bucket/.test(expr)));
  assert.ok(exprs.some((expr) => /^histogram_quantile\(.*controller_runtime_reconcile_time_seconds_bucket/.test(expr)));
  assert.ok(exprs.some((expr) => expr.startsWith('time() - ') && expr.includes('wecom_syncer_last_success_timestamp_seconds')));

  const ids = dashboard.panels.map((panel) => panel.id);
  assert.is(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const panel of dashboard.panels) {
    assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title} fits the 24 columns`);
    if (panel.type !== 'row') assert.ok((panel.targets ?? []).length > 0 && (panel.targets ?? []).every((t) => t.expr), `${panel.title} has queries`);
  }
});

test('every query parses as PromQL (promtool check rules, each as a recording rule)', async ({ dashboard }) => {
  const exprs = dashboardExprs(dashboard).map(substitute);
  assert.ok(exprs.length >= 15);
  const { code, output } = await checkExprs(exprs, 'dashboard:expr');
  assert.is(code, 0, `${output}\n${exprs.map((expr, index) => `dashboard:expr_${index}: ${expr}`).join('\n')}`);
  assert.match(output, `SUCCESS: ${exprs.length} rules found`);
});

test('and the check fails on a query that is not PromQL, naming it', async () => {
  const { code, output } = await checkExprs(['sum by (endpoint) (rate(wecom_requests_total[5m]))', 'sum by (endpoint) (rate(wecom_requests_total[5m])'], 'dashboard:expr');
  assert.is.not(code, 0);
  assert.match(output, /dashboard:expr_1|unclosed|parse error/);
  assert.throws(() => substitute('rate(wecom_requests_total{name=~"$unknown"}[$__rate_interval])'), /\$unknown/);
});

test.run();
