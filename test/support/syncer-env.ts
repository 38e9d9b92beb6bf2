// One test's world: a namespace, a WeCom simulator, a Secret, the operator
// watching the namespace, and helpers to read what it wrote through kubectl.
import { testCluster, type TestCluster } from './cluster.ts';
import { type OperatorProcess, startOperator } from './operator.ts';
import { applySecret } from './secrets.ts';
import { type Simulator, type SimulatorOptions, startSimulator } from './simulator/server.ts';
import { waitFor } from './wait.ts';

/** The parts of a stored object the tests read. */
export interface StoredUser {
  metadata: {
    name: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }>;
  };
  spec: Record<string, unknown>;
}

/** A condition as stored. */
export interface StoredCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** A WeComSyncer as stored. */
export interface StoredSyncer {
  metadata: { generation: number; annotations?: Record<string, string> };
  status?: {
    observedGeneration?: number;
    conditions?: StoredCondition[];
    lastHandledSyncRequest?: string;
    lastSyncTime?: string;
    users?: { total: number; active: number; forbidden: number };
    lastSync?: Record<string, number>;
    departments?: number;
    failedInputsDigest?: string;
  };
}

/** One test's namespace, simulator and operator. */
export interface SyncerEnv {
  cluster: TestCluster;
  ns: string;
  sim: Simulator;
  operator: OperatorProcess;
  /** Creates or replaces a Secret `name` with `data`, allowed to go to `allowedURLs` (default: this env's simulator). */
  applySecret(name: string, data: Record<string, string>, allowedURLs?: readonly string[]): Promise<void>;
  /** Applies a WeComSyncer `name` against this env's simulator, with `spec` merged over the defaults. */
  applySyncer(name: string, spec?: Record<string, unknown>): Promise<void>;
  syncer(name: string): Promise<StoredSyncer>;
  condition(name: string, type: string): Promise<StoredCondition | undefined>;
  /** Waits until Ready has status `status` for the current generation, and returns the syncer. */
  waitReady(name: string, status?: 'True' | 'False', timeoutMs?: number, pollMs?: number): Promise<StoredSyncer>;
  /** Sets the sync-request annotation to a new value and waits until status says it was handled. */
  requestSync(name: string): Promise<StoredSyncer>;
  users(selector?: string): Promise<StoredUser[]>;
  groups(selector?: string): Promise<StoredUser[]>;
  close(): Promise<void>;
}

let requests = 0;

/**
 * Creates the namespace, the simulator, the Secret and starts the operator, on
 * the run's shared control plane or on `onCluster` (a fault test's own).
 */
export async function syncerEnv(prefix: string, simOptions: SimulatorOptions = {}, onCluster?: TestCluster): Promise<SyncerEnv> {
  const cluster = onCluster ?? (await testCluster());
  await cluster.kubectlOk(['apply', '--server-side', '-f', 'crds/']);
  await cluster.kubectlOk(['wait', '--for=condition=Established', '-f', 'crds/']);
  const ns = await cluster.namespace(prefix);
  const sim = await startSimulator(simOptions);
  await applySecret(cluster, ns, 'wecom', { corpSecret: sim.corpSecret, contactsSecret: sim.contactsSecret }, [sim.url]);
  const operator = startOperator(cluster.kubeconfig, ns);

  const getJSON = async <T>(args: string[]): Promise<T> => JSON.parse(await cluster.kubectlOk([...args, '-n', ns, '-o', 'json'])) as T;
  const env: SyncerEnv = {
    cluster,
    ns,
    sim,
    operator,
    applySecret: (name, data, allowedURLs = [env.sim.url]) => applySecret(cluster, ns, name, data, allowedURLs),
    async applySyncer(name, spec = {}) {
      const manifest = {
        apiVersion: 'casdoor.org/v1alpha1',
        kind: 'WeComSyncer',
        metadata: { name, namespace: ns },
        spec: { organization: 'acme', corpId: sim.corpId, corpSecretRef: { name: 'wecom' }, apiURL: sim.url, ...spec },
      };
      await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    },
    syncer: (name) => getJSON<StoredSyncer>(['get', 'wcs', name]),
    async condition(name, type) {
      return (await env.syncer(name)).status?.conditions?.find((c) => c.type === type);
    },
    waitReady(name, status = 'True', timeoutMs = 30_000, pollMs = 200) {
      return waitFor(`Ready=${status} on ${name}`, async () => {
        const syncer = await env.syncer(name);
        const ready = syncer.status?.conditions?.find((c) => c.type === 'Ready');
        const reconciling = syncer.status?.conditions?.some((c) => c.type === 'Reconciling');
        return ready?.status === status && ready.observedGeneration === syncer.metadata.generation && !reconciling ? syncer : undefined;
      }, timeoutMs, pollMs);
    },
    async requestSync(name) {
      const value = `request-${++requests}-${Date.now()}`;
      await cluster.kubectlOk(['annotate', 'wcs', name, '-n', ns, `casdoor.org/sync-requested-at=${value}`, '--overwrite']);
      return waitFor(`sync request ${value} handled`, async () => {
        const syncer = await env.syncer(name);
        return syncer.status?.lastHandledSyncRequest === value ? syncer : undefined;
      });
    },
    async users(selector) {
      return (await getJSON<{ items: StoredUser[] }>(['get', 'cu', ...(selector ? ['-l', selector] : [])])).items;
    },
    async groups(selector) {
      return (await getJSON<{ items: StoredUser[] }>(['get', 'cg', ...(selector ? ['-l', selector] : [])])).items;
    },
    async close() {
      // The env's current ones: a test may have restarted the operator or the simulator.
      await env.operator.kill();
      await env.sim.close();
      await cluster.kubectl(['delete', 'namespace', ns, '--wait=false']);
    },
  };
  return env;
}

/** Proves that no secret and no token the simulator issued appears in `texts`. */
export function leakedSecrets(sim: Simulator, texts: readonly string[]): string[] {
  const secrets = [sim.corpSecret, sim.contactsSecret, ...sim.issuedTokens()];
  return secrets.filter((secret) => texts.some((text) => text.includes(secret))).map((s) => `${s.slice(0, 4)}…`);
}
