// A control plane of one fault-test file's own, in a temp dir under .run/, so
// that killing etcd or kube-apiserver never touches the run's shared one.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
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

/** Starts a control plane in .run/<prefix>-XXXXXX with extra kube-apiserver flags, CRDs installed. */
export async function privateCluster(prefix: string, apiserverArgs: string[] = []): Promise<PrivateCluster> {
  await mkdir(RUN_DIR, { recursive: true });
  const dir = await mkdtemp(join(RUN_DIR, `${prefix}-`));
  try {
    const plane = await up(dir, { apiserverArgs });
    const cluster = makeCluster(plane.kubeconfig, dir);
    await cluster.kubectlOk(['apply', '--server-side', '-f', 'crds/']);
    await cluster.kubectlOk(['wait', '--for=condition=Established', '-f', 'crds/']);
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
