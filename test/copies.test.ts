// The files kept in two places (hack/copies.ts) are what `make copies` would write: the chart's CRDs are the
// repository's, its rules and dashboard are deploy/monitoring's, and the PrometheusRule holds rules.yaml's groups.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copies } from '../hack/copies.ts';

const ROOT = join(import.meta.dirname, '..');
const test = suite('copies');

test('every copy is what make copies writes', () => {
  const stale = [...copies()].filter(([path, content]) => !existsSync(join(ROOT, path)) || readFileSync(join(ROOT, path), 'utf8') !== content).map(([path]) => path);
  assert.equal(stale, [], `out of date (run make copies): ${stale.join(', ')}`);
});

test('the chart\'s crds/ holds the repository\'s CRDs and nothing else', () => {
  const written = [...copies().keys()].filter((path) => path.startsWith(join('charts', 'wecom-syncer', 'crds'))).map((path) => path.split('/').pop()).sort();
  assert.equal(readdirSync(join(ROOT, 'charts', 'wecom-syncer', 'crds')).sort(), written);
  assert.equal(written, readdirSync(join(ROOT, 'crds')).filter((file) => file.endsWith('.yaml')).sort());
});

test.run();
