// `make copies`: the files kept in more than one place, written from their one source.
// The Helm chart can only read files inside its own folder, and the Prometheus Operator wants the rules
// wrapped in a PrometheusRule, so these are copies; tests fail (naming this command) when one drifts.
//   crds/*.yaml                            -> charts/wecom-syncer/crds/
//   deploy/monitoring/rules.yaml           -> charts/wecom-syncer/files/rules.yaml
//                                          -> deploy/monitoring/prometheus-rule.yaml (its groups, under spec:)
//   deploy/monitoring/grafana-dashboard.json -> charts/wecom-syncer/files/grafana-dashboard.json
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const CHART = join(ROOT, 'charts', 'wecom-syncer');

const PROMETHEUS_RULE_HEADER = `# The operator's alerts for the Prometheus Operator: \`kubectl apply -k deploy/monitoring\` where its CRDs are.
# Written by \`make copies\` from rules.yaml (its groups under spec:, comments and all): edit rules.yaml.
# Your Prometheus selects PrometheusRules by label (spec.ruleSelector); add the label it wants in an overlay
# (kube-prometheus-stack: \`release: <its release>\`).
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: wecom-syncer
  labels:
    app.kubernetes.io/name: wecom-syncer
    app.kubernetes.io/part-of: wecom-syncer
spec:
`;

/** Every file `make copies` writes, by path from the repository's root, with its content. */
export function copies(): Map<string, string> {
  const files = new Map<string, string>();
  const read = (...path: string[]): string => readFileSync(join(ROOT, ...path), 'utf8');
  for (const file of readdirSync(join(ROOT, 'crds')).filter((name) => name.endsWith('.yaml')).sort()) {
    files.set(join('charts', 'wecom-syncer', 'crds', file), read('crds', file));
  }
  const rules = read('deploy', 'monitoring', 'rules.yaml');
  files.set(join('charts', 'wecom-syncer', 'files', 'rules.yaml'), rules);
  files.set(join('deploy', 'monitoring', 'prometheus-rule.yaml'), PROMETHEUS_RULE_HEADER + groupsIndented(rules));
  files.set(join('charts', 'wecom-syncer', 'files', 'grafana-dashboard.json'), read('deploy', 'monitoring', 'grafana-dashboard.json'));
  return files;
}

/** rules.yaml from its `groups:` line on (the file's own header comment stays there), indented under spec:. */
function groupsIndented(rules: string): string {
  const start = rules.search(/^groups:/m);
  if (start < 0) throw new Error('deploy/monitoring/rules.yaml has no top-level groups:');
  return rules.slice(start).split('\n').map((line) => (line === '' ? line : `  ${line}`)).join('\n');
}

async function main(): Promise<void> {
  // The chart's crds/ holds exactly the repository's: a CRD removed there goes here too.
  await rm(join(CHART, 'crds'), { recursive: true, force: true });
  const files = copies();
  for (const [path, content] of files) {
    await mkdir(join(ROOT, path, '..'), { recursive: true });
    await writeFile(join(ROOT, path), content);
  }
  console.error(`copies: wrote ${files.size} files`);
}

if (import.meta.main) await main();
