// The real promtool, built from the Go module proxy (hack/tools/), for the monitoring tests.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runTool } from '../../hack/tools/binaries.ts';

export interface Run {
  code: number;
  /** stdout and stderr together: promtool says what failed on either. */
  output: string;
}

/** Runs promtool with `args`; resolves with its exit code and output, never throws on a failing exit. */
export async function promtool(args: string[]): Promise<Run> {
  const { code, stdout, stderr } = await runTool('promtool', args);
  return { code, output: `${stdout}${stderr}` };
}

/**
 * `promtool check rules` on expressions written as recording rules `record: <prefix>_N`: promtool parses
 * every expression of a rule file, so an expression that is not PromQL fails it, and the output names N.
 */
export async function checkExprs(exprs: readonly string[], prefix = 'check:expr'): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'promql-'));
  try {
    const file = join(dir, 'exprs.yaml');
    const rules = exprs.map((expr, index) => ({ record: `${prefix}_${index}`, expr }));
    await writeFile(file, stringify({ groups: [{ name: 'exprs', rules }] }));
    return await promtool(['check', 'rules', file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
