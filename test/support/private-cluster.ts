// A control plane of one fault-test file's own, in a temp dir under .run/, so
// that killing etcd or kube-apiserver never touches the run's shared one.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Component, down, kill, up } from '../../hack/control-plane/cluster.ts';
import { makeCluster, type TestCluster } from './cluster.ts';

/** A private control plane, with the fault handles a test needs. */
export interface PrivateCluster extends TestCluster {
  /** SIGKILLs one component, as a crash would. */
  kill(component: Component): Promise<void>;
  /** Starts whatever is not running again, on the same data and ports (`control-plane up`). */
  restart(): Promise<void>;
  /** Stops every component and removes the directory. */
  destroy(): Promise<void>;
}

const RUN_DIR = join(import.meta.dirname, '..', '..', '.run');

/**
 * Starts a control plane in .run/<prefix>-XXXXXX with extra kube-apiserver flags, and the CRDs installed
 * unless `crds` is false (a test of an install that brings them itself).
 */
export async function privateCluster(prefix: string, apiserverArgs: string[] = [], { crds = true } = {}): Promise<PrivateCluster> {
  await mkdir(RUN_DIR, { recursive: true });
  const dir = await mkdtemp(join(RUN_DIR, `${prefix}-`));
  try {
    const plane = await up(dir, { apiserverArgs });
    const cluster = makeCluster(plane.kubeconfig, dir);
    if (crds) {
      await cluster.kubectlOk(['apply', '--server-side', '-f', 'crds/']);
      await cluster.kubectlOk(['wait', '--for=condition=Established', '-f', 'crds/']);
    }
    return {
      ...cluster,
      kill: (component) => kill(dir, component),
      restart: async () => {
        await up(dir);
      },
      destroy: async () => {
        await down(dir);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await down(dir);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A kubeconfig for a ServiceAccount bound to cluster-admin, as the operator runs
 * in a real cluster. The harness's own user is in system:masters, which the API
 * server exempts from its in-flight limits (and APF): a throttling test needs this one.
 */
export async function serviceAccountKubeconfig(cluster: TestCluster, namespace: string, name = 'wecom-syncer'): Promise<string> {
  await cluster.kubectlOk(['create', 'serviceaccount', name, '-n', namespace]);
  await cluster.kubectlOk(['create', 'clusterrolebinding', `${namespace}-${name}`, '--clusterrole=cluster-admin', `--serviceaccount=${namespace}:${name}`]);
  const token = (await cluster.kubectlOk(['create', 'token', name, '-n', namespace, '--duration=1h'])).trim();
  const admin = await readFile(cluster.kubeconfig, 'utf8');
  const file = join(cluster.dir, `kubeconfig-${namespace}-${name}`);
  await writeFile(file, admin.replace(/^(\s*token:\s*).*$/m, `$1${token}`), { mode: 0o600 });
  return file;
}
