import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** This folder: the Go module whose mains are etcd, kube-apiserver and kube-controller-manager. */
const MODULE_DIR = import.meta.dirname;
const REPO_ROOT = join(MODULE_DIR, '..', '..');

/** The three control-plane binaries, built for one pair of versions. */
export interface Binaries {
  kubernetesVersion: string;
  etcdVersion: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
}

const COMMANDS = ['etcd', 'kube-apiserver', 'kube-controller-manager'] as const;

/** Reads the pinned versions from the module's go.mod, the one place they are written. */
export async function pinnedVersions(): Promise<{ kubernetes: string; etcd: string }> {
  const goMod = await readFile(join(MODULE_DIR, 'go.mod'), 'utf8');
  const version = (module: string): string => {
    const match = new RegExp(`^\\s*${module.replaceAll('.', '\\.')} (v\\S+)`, 'm').exec(goMod);
    if (!match?.[1]) throw new Error(`go.mod does not require ${module}`);
    return match[1];
  };
  return { kubernetes: version('k8s.io/kubernetes'), etcd: version('go.etcd.io/etcd/server/v3') };
}

/**
 * The cache folder for a version pair. Outside the work tree when
 * WECOM_SYNCER_CACHE is set, so several clones can share one build.
 */
export function cacheDir(kubernetes: string, etcd: string): string {
  const root = process.env.WECOM_SYNCER_CACHE ?? join(REPO_ROOT, '.cache');
  return join(root, 'control-plane', `kubernetes-${kubernetes}_etcd-${etcd}`);
}

/**
 * Returns the cached binaries, building them first when this version pair has
 * not been built yet. A cold build takes minutes; a cached one costs nothing.
 */
export async function ensureBinaries(log: (line: string) => void = () => {}): Promise<Binaries> {
  const versions = await pinnedVersions();
  const dir = cacheDir(versions.kubernetes, versions.etcd);
  const paths = {
    kubernetesVersion: versions.kubernetes,
    etcdVersion: versions.etcd,
    etcd: join(dir, 'etcd'),
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
  };
  if (COMMANDS.every((command) => existsSync(join(dir, command)))) return paths;

  log(`building kube-apiserver ${versions.kubernetes}, kube-controller-manager and etcd ${versions.etcd} (minutes, once)`);
  // Build into a scratch folder and rename, so an interrupted build never
  // leaves a half-written binary that a later run would take as cached.
  const scratch = `${dir}.partial-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const minor = /^v1\.(\d+)\./.exec(versions.kubernetes)?.[1];
  if (!minor) throw new Error(`unexpected Kubernetes version ${versions.kubernetes}`);
  const ldflags = [
    '-s', '-w',
    `-X k8s.io/component-base/version.gitVersion=${versions.kubernetes}`,
    '-X k8s.io/component-base/version.gitMajor=1',
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    '-X k8s.io/component-base/version.gitTreeState=clean',
  ].join(' ');
  const started = Date.now();
  await run('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', `${scratch}/`, './cmd/...'], {
    ...process.env,
    CGO_ENABLED: '0',
  });
  await mkdir(join(dir, '..'), { recursive: true });
  await rm(dir, { recursive: true, force: true });
  await rename(scratch, dir);
  log(`built in ${Math.round((Date.now() - started) / 1000)} s into ${dir}`);
  return paths;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: MODULE_DIR, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (error) => reject(new Error(`cannot run ${command}: is Go installed?`, { cause: error })));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args[0]} failed (${signal ?? `exit ${code}`})`));
    });
  });
}
