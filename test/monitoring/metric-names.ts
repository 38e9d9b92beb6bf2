// The metric names the alerts (deploy/monitoring/rules.yaml) and the Grafana dashboard
// (deploy/monitoring/grafana-dashboard.json) use, so that a test can scrape a running operator and
// fail on a name it does not export. PromQL is read crudely, which is enough for what we write:
// strings, label matchers, ranges and label lists are dropped, then every identifier left that is
// not a function (followed by `(`), a keyword or part of a number is a metric name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const MONITORING_DIR = join(import.meta.dirname, '..', '..', 'deploy', 'monitoring');

/** Binary operators and modifiers (a `by (...)` list is removed before, `group_left` may stand without one). */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
/** A histogram's (or summary's) series, named after it: `x_bucket`, `x_sum` and `x_count` are `x`. */
const HISTOGRAM_SUFFIX = /_(?:bucket|sum|count)$/;

/** The metric names one PromQL expression selects, histogram series under the histogram's name, sorted. */
export function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w.$:])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    const name = match[1] ?? '';
    if (KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name.replace(HISTOGRAM_SUFFIX, ''));
  }
  return [...names].sort();
}

/** The rule file's expressions, by alert (or recording rule) name. */
export function ruleExprs(file = join(MONITORING_DIR, 'rules.yaml')): Map<string, string> {
  const { groups } = parse(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }> };
  return new Map(groups.flatMap((group) => group.rules.map((rule) => [rule.alert ?? rule.record ?? '', rule.expr] as const)));
}

/** A Grafana panel as far as its queries go; rows hold panels of their own when collapsed. */
export interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

/** Every panel query of a dashboard, rows' panels included, and the template variables' PromQL. */
export function dashboardExprs(dashboard: { panels: Panel[]; templating?: { list: Array<{ type: string; query?: unknown }> } }): string[] {
  const panels = (list: Panel[]): Panel[] => list.flatMap((panel) => [panel, ...panels(panel.panels ?? [])]);
  const queries = panels(dashboard.panels).flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? ''));
  const variables = (dashboard.templating?.list ?? [])
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query = typeof variable.query === 'string' ? variable.query : ((variable.query as { query?: string } | undefined)?.query ?? '');
      // label_values(selector, label): the selector is PromQL, the label is not a metric.
      return /^\s*label_values\((.*),\s*\w+\s*\)\s*$/s.exec(query)?.[1] ?? query;
    });
  return [...queries, ...variables];
}

export function readDashboard(file = join(MONITORING_DIR, 'grafana-dashboard.json')): Parameters<typeof dashboardExprs>[0] {
  return JSON.parse(readFileSync(file, 'utf8')) as Parameters<typeof dashboardExprs>[0];
}

/** Every metric name the alerts use, and every one the dashboard uses, each sorted. */
export function metricNames(): { alerts: string[]; dashboard: string[] } {
  const union = (exprs: Iterable<string>): string[] => [...new Set([...exprs].flatMap(metricsIn))].sort();
  return { alerts: union(ruleExprs().values()), dashboard: union(dashboardExprs(readDashboard())) };
}
