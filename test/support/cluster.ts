// The harness that control-plane tests share: one control plane per test run
// (started by test/run.ts), one namespace per test, and kubectl to drive it
// the way users do.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { up } from '../../hack/control-plane/cluster.ts';

/** Set by test/run.ts: the kubeconfig of the run's control plane. */
export const ENV_KUBECONFIG = 'WECOM_SYNCER_TEST_KUBECONFIG';
/** Set by test/run.ts: the control plane's DIR, for tests that kill and restart components. */
export const ENV_CONTROL_PLANE_DIR = 'WECOM_SYNCER_TEST_CONTROL_PLANE_DIR';

/** The outcome of one kubectl call. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The shared control plane, as a test sees it. */
export interface TestCluster {
  kubeconfig: string;
  dir: string;
  /** Runs kubectl against the cluster; never throws on a non-zero exit. */
  kubectl(args: string[], options?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** Like kubectl, but throws with kubectl's stderr on a non-zero exit. */
  kubectlOk(args: string[], options?: { input?: string; timeoutMs?: number }): Promise<string>;
  /** Creates a fresh namespace for one test and returns its name. */
  namespace(prefix?: string): Promise<string>;
}

let shared: Promise<TestCluster> | undefined;

/**
 * The control plane of this test run. A test file run on its own (outside
 * `make test`) starts, or reuses, one in .run/dev-cluster and leaves it up for
 * the next run.
 */
export function testCluster(): Promise<TestCluster> {
  shared ??= (async () => {
    let kubeconfig = process.env[ENV_KUBECONFIG];
    let dir = process.env[ENV_CONTROL_PLANE_DIR];
    if (!kubeconfig || !dir) {
      dir = join(import.meta.dirname, '..', '..', '.run', 'dev-cluster');
      kubeconfig = (await up(dir)).kubeconfig;
    }
    return makeCluster(kubeconfig, dir);
  })();
  return shared;
}

/** The harness over any control plane's kubeconfig (the shared one, or a private one of a fault test). */
export function makeCluster(kubeconfig: string, dir: string): TestCluster {
  const kubectl: TestCluster['kubectl'] = (args, options = {}) =>
    new Promise((resolve) => {
      const child = spawn('kubectl', [`--kubeconfig=${kubeconfig}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 1, stdout, stderr });
      });
      child.stdin.end(options.input ?? '');
    });
  const kubectlOk: TestCluster['kubectlOk'] = async (args, options) => {
    const result = await kubectl(args, options);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr.trim()}`);
    return result.stdout;
  };
  return {
    kubeconfig,
    dir,
    kubectl,
    kubectlOk,
    async namespace(prefix = 'test') {
      const name = `${prefix}-${randomBytes(3).toString('hex')}`;
      await kubectlOk(['create', 'namespace', name]);
      return name;
    },
  };
}
