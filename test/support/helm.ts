// The real helm, built from the Go module proxy (hack/tools/), and the chart as it renders.
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runTool } from '../../hack/tools/binaries.ts';

export const CHART_DIR = join(import.meta.dirname, '..', '..', 'charts', 'wecom-syncer');

/** A rendered object, loosely typed: tests read what they check. */
export interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Runs helm with `args`; resolves with its exit code and output, never throws on a failing exit. */
export function helm(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return runTool('helm', args, env);
}

/** `helm template` of the chart with `--set`-style values (and value files), as objects. */
export async function renderChart(values: Record<string, string> = {}, options: { release?: string; namespace?: string; files?: string[] } = {}): Promise<Rendered[]> {
  const args = ['template', options.release ?? 'wecom-syncer', CHART_DIR, '-n', options.namespace ?? 'wecom-syncer'];
  for (const file of options.files ?? []) args.push('-f', file);
  for (const [key, value] of Object.entries(values)) args.push('--set', `${key}=${value}`);
  const result = await helm(args);
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')}: ${result.stderr}`);
  const docs = parseAllDocuments(result.stdout, { uniqueKeys: true });
  // A template that renders a key twice is YAML the API server would read one way and a reviewer another.
  const problems = docs.flatMap((doc) => doc.errors.map((error) => error.message));
  if (problems.length > 0) throw new Error(`helm ${args.join(' ')} rendered invalid YAML: ${problems.join('; ')}`);
  return docs.map((doc) => doc.toJSON() as Rendered | null).filter((object): object is Rendered => object !== null);
}
