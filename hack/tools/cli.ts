// `node hack/tools/cli.ts build`: helm and promtool into the cache (see binaries.ts);
// `node hack/tools/cli.ts path NAME` prints where one is.
import { ensureTool, TOOL_NAMES, type ToolName } from './binaries.ts';

const USAGE = `usage: tools build | tools path ${TOOL_NAMES.join('|')}`;

async function main(): Promise<void> {
  const [verb, name] = process.argv.slice(2);
  const log = (line: string): void => console.error(`tools: ${line}`);
  if (verb === 'build' && name === undefined) {
    for (const tool of TOOL_NAMES) await ensureTool(tool, log);
    return;
  }
  if (verb === 'path' && TOOL_NAMES.includes(name as ToolName)) {
    console.log(await ensureTool(name as ToolName, log));
    return;
  }
  throw new Error(USAGE);
}

main().catch((error: unknown) => {
  console.error(`tools: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
