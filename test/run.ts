// `make test`: the type check, the unit tests, then the tests that need a
// real control plane (files named *.cluster.test.ts), which share one control
// plane for the whole run. Ends with the line `N passed, N failed, N skipped`.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { down, up } from '../hack/control-plane/cluster.ts';
import { ENV_CONTROL_PLANE_DIR, ENV_KUBECONFIG } from './support/cluster.ts';

const ROOT = join(import.meta.dirname, '..');
/** A group that runs longer than this is stopped and counted as one failure. */
const GROUP_TIMEOUT_MS = 45 * 60_000;

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .sort();
}

/** Runs a command, echoing its output, and resolves with its exit code and output. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      output += `\n${command} ${args.join(' ')}: stopped after ${GROUP_TIMEOUT_MS / 60_000} minutes\n`;
      child.kill('SIGKILL');
    }, GROUP_TIMEOUT_MS);
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        process.stdout.write(chunk);
      });
    }
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? 1, output });
    });
  });
}

async function typecheck(): Promise<Counts> {
  console.log('# type check (tsc --noEmit)');
  const { code } = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', ROOT]);
  return code === 0 ? { passed: 1, failed: 0, skipped: 0 } : { passed: 0, failed: 1, skipped: 0 };
}

async function uvuGroup(title: string, files: string[], env: NodeJS.ProcessEnv = process.env): Promise<Counts> {
  if (files.length === 0) return { passed: 0, failed: 0, skipped: 0 };
  console.log(`# ${title} (${files.length} files)`);
  const { code, output } = await run(process.execPath, [join(ROOT, 'test/support/uvu-group.ts'), ...files], env);
  const count = (label: string): number | undefined => {
    const match = new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(output);
    return match ? Number(match[1]) : undefined;
  };
  const total = count('Total');
  const passed = count('Passed');
  const skipped = count('Skipped') ?? 0;
  if (total === undefined || passed === undefined) {
    // The group crashed before uvu could report: count it as one failure.
    return { passed: 0, failed: 1, skipped: 0 };
  }
  const failed = total - passed - skipped;
  return { passed, failed: failed === 0 && code !== 0 ? 1 : failed, skipped };
}

async function main(): Promise<void> {
  const all = testFiles(join(ROOT, 'test'));
  const clusterFiles = all.filter((file) => file.endsWith('.cluster.test.ts'));
  const unitFiles = all.filter((file) => !clusterFiles.includes(file));
  const results: Counts[] = [await typecheck(), await uvuGroup('unit tests', unitFiles)];

  if (clusterFiles.length > 0) {
    await mkdir(join(ROOT, '.run'), { recursive: true });
    const dir = await mkdtemp(join(ROOT, '.run', 'test-'));
    try {
      console.log('# starting the control plane');
      const plane = await up(dir, { log: (line) => console.log(`control-plane: ${line}`) });
      results.push(
        await uvuGroup('control-plane tests', clusterFiles, {
          ...process.env,
          [ENV_KUBECONFIG]: plane.kubeconfig,
          [ENV_CONTROL_PLANE_DIR]: dir,
        }),
      );
    } catch (error) {
      console.log(`control plane failed: ${error instanceof Error ? error.message : String(error)}`);
      results.push({ passed: 0, failed: 1, skipped: 0 });
    } finally {
      await down(dir);
      await rm(dir, { recursive: true, force: true });
    }
  }

  const sum = results.reduce((a, b) => ({ passed: a.passed + b.passed, failed: a.failed + b.failed, skipped: a.skipped + b.skipped }));
  console.log(`${sum.passed} passed, ${sum.failed} failed, ${sum.skipped} skipped`);
  process.exit(sum.failed === 0 ? 0 : 1);
}

await main();
