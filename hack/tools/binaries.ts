// helm and promtool, built from the Go module proxy at the versions their
// go.mod files pin, and cached as the control plane is.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot, goBuildOnce, requiredVersion } from '../go/build.ts';

interface Tool {
  /** The module that holds the command, as its go.mod requires it. */
  module: string;
  /** The command's package. */
  package: string;
  /** -X flags that set the version the binary prints, given the pinned version. */
  versionFlags(version: string): string[];
}

const TOOLS = {
  helm: {
    module: 'helm.sh/helm/v4',
    package: 'helm.sh/helm/v4/cmd/helm',
    versionFlags: (version) => [`-X helm.sh/helm/v4/internal/version.version=${version}`],
  },
  promtool: {
    module: 'github.com/prometheus/prometheus',
    package: 'github.com/prometheus/prometheus/cmd/promtool',
    // Prometheus's Go module tags release 3.M.P as v0.3MM.P (3.16.0 is v0.316.0).
    versionFlags: (version) => [`-X github.com/prometheus/common/version.Version=${version.replace(/^v0\.3(\d\d)\./, (_, minor: string) => `3.${Number(minor)}.`)}`],
  },
} satisfies Record<string, Tool>;

export type ToolName = keyof typeof TOOLS;
export const TOOL_NAMES = Object.keys(TOOLS) as ToolName[];

/** The version of the tool that its module's go.mod pins, the one place it is written. */
export async function pinnedVersion(name: ToolName): Promise<string> {
  const goMod = await readFile(join(import.meta.dirname, name, 'go.mod'), 'utf8');
  return requiredVersion(goMod, TOOLS[name].module, `hack/tools/${name}/go.mod`);
}

/** The path of the tool's binary, built first when this version has not been built yet. */
export async function ensureTool(name: ToolName, log: (line: string) => void = () => {}): Promise<string> {
  const tool: Tool = TOOLS[name];
  const version = await pinnedVersion(name);
  const dir = join(cacheRoot(), 'tools', `${name}-${version}`);
  const ldflags = ['-s', '-w', ...tool.versionFlags(version)].join(' ');
  await goBuildOnce({ moduleDir: join(import.meta.dirname, name), packages: [tool.package], binaries: [name], dir, ldflags, what: `${name} ${version}` }, log);
  return join(dir, name);
}

/** Runs the tool with `args`, building it first when needed. Resolves with its exit code and output; a failing exit is no error. */
export async function runTool(name: ToolName, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = spawnSync(await ensureTool(name), args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}
