// deploy/monitoring/'s alerts with the real promtool: the rule file is valid, its unit tests
// (alerts.test.yaml) pass and cover every alert both firing and not firing, the PrometheusRule holds
// the same groups, and every alert says what to look at and links a runbook section that exists.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { metricsIn, MONITORING_DIR } from './metric-names.ts';
import { promtool } from './promtool.ts';

const RULES_FILE = join(MONITORING_DIR, 'rules.yaml');
const UNIT_TESTS_FILE = join(import.meta.dirname, 'alerts.test.yaml');
/** Where the runbook sections are: the page runbook_url names. */
const RUNBOOKS_FILE = join(MONITORING_DIR, '..', '..', 'docs', 'operating.md');
const RUNBOOK_BASE = 'https://github.com/wecom-syncer/wecom-syncer/blob/main/docs/operating.md#';

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleGroup {
  name: string;
  rules: AlertRule[];
}
interface AlertCase {
  alertname: string;
  eval_time: string;
  exp_alerts?: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }>;
}
interface UnitTests {
  rule_files: string[];
  tests: Array<{ name?: string; alert_rule_test?: AlertCase[] }>;
}

const read = (file: string): string => readFileSync(file, 'utf8');
const groups = (parse(read(RULES_FILE)) as { groups: RuleGroup[] }).groups;
const alerts = groups.flatMap((group) => group.rules);
const unitTests = parse(read(UNIT_TESTS_FILE)) as UnitTests;

/**
 * What the unit tests leave untested: an alert with no case where it fires, or none where it must not,
 * and a case naming no alert of the file (promtool passes `exp_alerts: []` for a name that does not exist).
 */
function coverageProblems(alertNames: readonly string[], tests: UnitTests): string[] {
  const cases = tests.tests.flatMap((group) => group.alert_rule_test ?? []);
  const problems = cases.filter((c) => !alertNames.includes(c.alertname)).map((c) => `a case at ${c.eval_time} tests ${c.alertname}, which no rule defines`);
  for (const name of alertNames) {
    const own = cases.filter((c) => c.alertname === name);
    if (!own.some((c) => (c.exp_alerts ?? []).length > 0)) problems.push(`${name}: no case where it fires`);
    if (!own.some((c) => (c.exp_alerts ?? []).length === 0)) problems.push(`${name}: no case where it must not fire`);
  }
  return problems;
}

/** The labels an alert fires with in its unit tests. */
function firingLabels(name: string): Record<string, string> {
  const cases = unitTests.tests.flatMap((group) => group.alert_rule_test ?? []).filter((c) => c.alertname === name);
  return cases.flatMap((c) => c.exp_alerts ?? [])[0]?.exp_labels ?? {};
}

const test = suite('deploy/monitoring alerts');

test('promtool check rules accepts rules.yaml', async () => {
  const { code, output } = await promtool(['check', 'rules', RULES_FILE]);
  assert.is(code, 0, output);
  assert.match(output, `SUCCESS: ${alerts.length} rules found`);
});

test('promtool test rules passes alerts.test.yaml, which tests rules.yaml', async () => {
  assert.equal(unitTests.rule_files, ['../../deploy/monitoring/rules.yaml']);
  const { code, output } = await promtool(['test', 'rules', UNIT_TESTS_FILE]);
  assert.is(code, 0, output);
  assert.match(output, 'SUCCESS');
});

test('every alert has a unit test where it fires and one where it must not', () => {
  assert.ok(alerts.length >= 10);
  assert.equal(coverageProblems(alerts.map((rule) => rule.alert), unitTests), [], 'test/monitoring/alerts.test.yaml leaves alerts untested');
});

test('the coverage check names an alert left without a firing or a non-firing case, and a case of no alert', () => {
  const fires = (alertname: string): AlertCase => ({ alertname, eval_time: '20m', exp_alerts: [{ exp_labels: { severity: 'warning' } }] });
  const quiet = (alertname: string): AlertCase => ({ alertname, eval_time: '5m', exp_alerts: [] });
  const tests = (...cases: AlertCase[]): UnitTests => ({ rule_files: [], tests: [{ alert_rule_test: cases.slice(0, 1) }, { alert_rule_test: cases.slice(1) }] });
  assert.equal(coverageProblems(['A', 'B'], tests(fires('A'), quiet('A'), quiet('B'), fires('B'))), []);
  assert.equal(coverageProblems(['A', 'B'], tests(fires('A'), quiet('A'))), ['B: no case where it fires', 'B: no case where it must not fire']);
  assert.equal(coverageProblems(['A', 'B'], tests(fires('A'), fires('B'), quiet('B'))), ['A: no case where it must not fire']);
  assert.equal(coverageProblems(['A'], tests(quiet('A'), { ...fires('A'), exp_alerts: undefined })), ['A: no case where it fires']);
  assert.equal(coverageProblems(['A'], tests(fires('A'), quiet('A'), quiet('a'))), ['a case at 5m tests a, which no rule defines']);
});

test('prometheus-rule.yaml is a PrometheusRule with exactly the groups of rules.yaml, and the kustomization installs it', () => {
  const rule = parse(read(join(MONITORING_DIR, 'prometheus-rule.yaml'))) as {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels: Record<string, string> };
    spec: { groups: RuleGroup[] };
  };
  assert.is(rule.apiVersion, 'monitoring.coreos.com/v1');
  assert.is(rule.kind, 'PrometheusRule');
  assert.is(rule.metadata.name, 'wecom-syncer');
  assert.equal(rule.metadata.labels, { 'app.kubernetes.io/name': 'wecom-syncer', 'app.kubernetes.io/part-of': 'wecom-syncer' });
  assert.equal(rule.spec.groups, groups);
  assert.equal(groups.map((group) => group.name), ['wecom-syncer']);
  const kustomization = parse(read(join(MONITORING_DIR, 'kustomization.yaml'))) as { resources: string[] };
  assert.equal(kustomization.resources, ['prometheus-rule.yaml']);
});

test('every alert has a severity, a summary, a description saying what to look at, and a runbook that exists', () => {
  const headings = new Set(read(RUNBOOKS_FILE).split('\n').flatMap((line) => /^### (\S+)\s*$/.exec(line)?.[1] ?? []));
  for (const rule of alerts) {
    const { alert, annotations = {} } = rule;
    assert.ok(['warning', 'critical'].includes(rule.labels?.severity ?? ''), `${alert}: severity warning or critical`);
    assert.ok(rule.for, `${alert}: a for`);
    assert.equal(Object.keys(annotations).sort(), ['description', 'runbook_url', 'summary'], alert);
    assert.match(annotations.description ?? '', 'kubectl', `${alert}: the description gives a command to look with`);
    // An alert name is letters only, so GitHub's anchor of `### Name` is the name in lower case.
    assert.match(alert, /^[A-Za-z]+$/);
    assert.is(annotations.runbook_url, `${RUNBOOK_BASE}${alert.toLowerCase()}`, alert);
    assert.ok(headings.has(alert), `${alert}: a "### ${alert}" section in docs/operating.md`);

    // The labels the annotations name are the ones the alert fires with (else they render empty), and
    // an alert about one object names it as namespace/name.
    const labels = firingLabels(alert);
    const text = Object.values(annotations).join('\n');
    for (const [, label] of text.matchAll(/\$labels\.(\w+)/g)) assert.ok(label && label in labels, `${alert}: fires without the label ${label} its annotations name`);
    if ('name' in labels && 'namespace' in labels) assert.match(annotations.description ?? '', '{{ $labels.namespace }}/{{ $labels.name }}', alert);
  }
  assert.equal([...headings].sort(), alerts.map((rule) => rule.alert).sort(), 'one runbook section an alert, none for an alert that is gone');
});

test('template braces only in annotations, so the chart can include the file as it is', () => {
  for (const rule of alerts) {
    assert.not.match(rule.expr, '{{', rule.alert);
    assert.not.match(JSON.stringify(rule.labels ?? {}), '{{', rule.alert);
  }
});

test('metricsIn reads the metric names off PromQL', () => {
  assert.equal(
    metricsIn('sum by (endpoint, errcode) (rate(wecom_requests_total{errcode!="0"}[10m])) / on (endpoint) group_left () sum by (endpoint) (rate(wecom_requests_total[10m])) > 0.05'),
    ['wecom_requests_total'],
  );
  assert.equal(
    metricsIn('histogram_quantile(0.95, sum by (le) (rate(controller_runtime_reconcile_time_seconds_bucket{controller=~"a|b"}[$__rate_interval]))) and workqueue_depth unless up offset 1h'),
    ['controller_runtime_reconcile_time_seconds', 'up', 'workqueue_depth'],
  );
  assert.equal(metricsIn('time() - max(wecom_syncer_last_success_timestamp_seconds) by (namespace) > 3 * wecom_syncer_interval_seconds'), [
    'wecom_syncer_interval_seconds',
    'wecom_syncer_last_success_timestamp_seconds',
  ]);
  assert.equal(metricsIn('label_replace(x_count, "dst", "$1", "src", "(.*)") * 1e3'), ['x']);
  const names = metricsIn(alerts.find((rule) => rule.alert === 'WeComSyncerSyncStale')?.expr ?? '');
  assert.equal(names, ['wecom_syncer_interval_seconds', 'wecom_syncer_last_success_timestamp_seconds', 'wecom_syncer_suspended']);
});

test.run();
