import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Where built binaries are cached: outside the work tree when WECOM_SYNCER_CACHE is set, so clones share one build. */
export function cacheRoot(): string {
  return process.env.WECOM_SYNCER_CACHE ?? join(import.meta.dirname, '..', '..', '.cache');
}

/** The version of `module` that a go.mod (its text) requires, the one place a pinned version is written. */
export function requiredVersion(goMod: string, module: string, file = 'go.mod'): string {
  const match = new RegExp(`^\\s*(?:require\\s+)?${module.replaceAll('.', '\\.')} (v\\S+)`, 'm').exec(goMod);
  if (!match?.[1]) throw new Error(`${file} does not require ${module}`);
  return match[1];
}

/** One `go build` of a module's mains into a cache folder. */
export interface GoBuild {
  /** The Go module that pins the versions (its go.mod and go.sum). */
  moduleDir: string;
  /** The packages to build, e.g. `./cmd/...` or a tool's import path. */
  packages: readonly string[];
  /** The binaries the build makes: when all are in `dir`, nothing is built. */
  binaries: readonly string[];
  /** The cache folder for this exact version. */
  dir: string;
  ldflags: string;
  /** What is built, for the log line, e.g. `helm v4.3.1`. */
  what: string;
}

/**
 * Builds into a scratch folder and renames it to `dir`, so an interrupted build never leaves a half-written
 * binary that a later run would take as cached. Resolves true when it built, false when all was cached.
 */
export async function goBuildOnce({ moduleDir, packages, binaries, dir, ldflags, what }: GoBuild, log: (line: string) => void): Promise<boolean> {
  if (binaries.every((file) => existsSync(join(dir, file)))) return false;
  log(`building ${what} (minutes, once)`);
  const started = Date.now();
  await removeAbandonedScratch(dir);
  const scratch = `${dir}.partial-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  try {
    await run('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', `${scratch}/`, ...packages], moduleDir);
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
  await mkdir(dirname(dir), { recursive: true });
  await rm(dir, { recursive: true, force: true });
  await rename(scratch, dir);
  log(`built in ${Math.round((Date.now() - started) / 1000)} s into ${dir}`);
  return true;
}

/** Scratch folders of builds whose process is gone (killed mid-build): a live one's is left alone. */
async function removeAbandonedScratch(dir: string): Promise<void> {
  const prefix = `${basename(dir)}.partial-`;
  const entries = await readdir(dirname(dir)).catch(() => []);
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) await rm(join(dirname(dir), entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, CGO_ENABLED: '0' }, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (error) => reject(new Error(`cannot run ${command}: is Go installed?`, { cause: error })));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args[0]} failed (${signal ?? `exit ${code}`})`));
    });
  });
}
