import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot, goBuildOnce, requiredVersion } from '../go/build.ts';

/** This folder: the Go module whose mains are etcd, kube-apiserver and kube-controller-manager. */
const MODULE_DIR = import.meta.dirname;

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
  return { kubernetes: requiredVersion(goMod, 'k8s.io/kubernetes'), etcd: requiredVersion(goMod, 'go.etcd.io/etcd/server/v3') };
}

/** The cache folder for a version pair (see {@link cacheRoot}). */
export function cacheDir(kubernetes: string, etcd: string): string {
  return join(cacheRoot(), 'control-plane', `kubernetes-${kubernetes}_etcd-${etcd}`);
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
  const minor = /^v1\.(\d+)\./.exec(versions.kubernetes)?.[1];
  if (!minor) throw new Error(`unexpected Kubernetes version ${versions.kubernetes}`);
  const ldflags = [
    '-s', '-w',
    `-X k8s.io/component-base/version.gitVersion=${versions.kubernetes}`,
    '-X k8s.io/component-base/version.gitMajor=1',
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    '-X k8s.io/component-base/version.gitTreeState=clean',
  ].join(' ');
  const what = `kube-apiserver ${versions.kubernetes}, kube-controller-manager and etcd ${versions.etcd}`;
  await goBuildOnce({ moduleDir: MODULE_DIR, packages: ['./cmd/...'], binaries: COMMANDS, dir, ldflags, what }, log);
  return paths;
}
