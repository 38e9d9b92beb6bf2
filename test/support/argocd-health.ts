// Runs deploy/argocd/health-wecomsyncer.lua the way Argo CD does (the object as
// the global `obj`, the returned table's status and message) with Debian's Lua
// interpreters: lua5.1, the language of the gopher-lua Argo CD embeds, and lua5.4.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The health check's path. */
export const HEALTH_SCRIPT = join(import.meta.dirname, '..', '..', 'deploy', 'argocd', 'health-wecomsyncer.lua');
const INTERPRETERS = ['lua5.1', 'lua5.4'];

/** A JSON value as a Lua table constructor, the way Argo CD hands the object to the script. */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  return `{${Object.entries(value as Record<string, unknown>).map(([key, item]) => `[${toLua(key)}] = ${toLua(item)}`).join(', ')}}`;
}

/** Argo CD's health of `object`; throws when an interpreter fails or the two disagree. */
export function argoHealth(object: unknown): { status: string; message: string } {
  const harness = `obj = ${toLua(object)}
local check = assert(loadfile(${toLua(HEALTH_SCRIPT)}))
local hs = check()
io.write(hs.status, "\\n", hs.message)`;
  const outputs = INTERPRETERS.map((lua) => {
    const result = spawnSync(lua, ['-'], { input: harness, encoding: 'utf8' });
    if (result.error) throw new Error(`${lua} is not installed (make tools installs it): ${result.error.message}`);
    if (result.status !== 0 || result.stderr !== '') throw new Error(`${lua} failed (exit ${result.status}): ${result.stderr}`);
    return result.stdout;
  });
  if (outputs[0] !== outputs[1]) throw new Error(`Lua 5.1 and 5.4 disagree: ${JSON.stringify(outputs)}`);
  const [status = '', message = ''] = (outputs[0] ?? '').split('\n');
  return { status, message };
}
