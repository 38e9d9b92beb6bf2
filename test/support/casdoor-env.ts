// One test's world for the CasdoorServer: a syncer env (namespace, WeCom
// simulator, operator) plus a stand-in Casdoor and the Secret with its
// application's credentials, allowed to go to it.
import { type CasdoorStandIn, startCasdoor } from './casdoor/server.ts';
import type { StoredCondition, SyncerEnv } from './syncer-env.ts';
import { syncerEnv } from './syncer-env.ts';
import type { SimulatorOptions } from './simulator/server.ts';
import { waitFor } from './wait.ts';

/** A CasdoorServer as stored. */
export interface StoredServer {
  metadata: { generation: number; annotations?: Record<string, string> };
  status?: {
    observedGeneration?: number;
    conditions?: StoredCondition[];
    lastHandledSyncRequest?: string;
    usersInSync?: string;
    users?: { selected: number; inSync: number; failed: number; skipped: number };
    groups?: { selected: number; inSync: number; failed: number; skipped: number };
    lastSync?: Record<string, number>;
    failures?: Array<{ kind: string; name: string; reason: string }>;
    failedInputsDigest?: string;
  };
}

/** The env, with Casdoor. */
export interface CasdoorEnv extends SyncerEnv {
  casdoor: CasdoorStandIn;
  /** Applies a CasdoorServer `name` pointed at this env's Casdoor, `spec` merged over the defaults. */
  applyServer(name: string, spec?: Record<string, unknown>): Promise<void>;
  server(name: string): Promise<StoredServer>;
  /** Waits until Ready has `status` for the current generation (no comparison running), and returns the server. */
  waitServer(name: string, status?: 'True' | 'False', timeoutMs?: number): Promise<StoredServer>;
  /** Requests a full comparison and waits until status says it was handled. */
  requestComparison(name: string): Promise<StoredServer>;
  /** The users of an organization as Casdoor holds them. */
  casdoorUsers(owner?: string): Array<Record<string, unknown>>;
}

let requests = 0;

/** A syncer env with a stand-in Casdoor (organizations `acme` and any others named). */
export async function casdoorEnv(prefix: string, simOptions: SimulatorOptions = {}, organizations: string[] = ['acme']): Promise<CasdoorEnv> {
  const base = await syncerEnv(prefix, simOptions);
  const casdoor = await startCasdoor({ organizations });
  await base.applySecret('casdoor-app', { clientId: casdoor.app.clientId, clientSecret: casdoor.app.clientSecret }, [casdoor.url]);
  const getJSON = async <T>(args: string[]): Promise<T> => JSON.parse(await base.cluster.kubectlOk([...args, '-n', base.ns, '-o', 'json'])) as T;
  const close = base.close;
  const env: CasdoorEnv = Object.assign(base, {
    casdoor,
    async applyServer(name: string, spec: Record<string, unknown> = {}) {
      const manifest = {
        apiVersion: 'casdoor.org/v1alpha1',
        kind: 'CasdoorServer',
        metadata: { name, namespace: base.ns },
        spec: { endpoint: casdoor.url, credentialsRef: { name: 'casdoor-app' }, organizations, ...spec },
      };
      await base.cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    },
    server: (name: string) => getJSON<StoredServer>(['get', 'cds', name]),
    waitServer(name: string, status: 'True' | 'False' = 'True', timeoutMs = 30_000) {
      return waitFor(`CasdoorServer ${name} Ready=${status}`, async () => {
        const server = await env.server(name);
        const ready = server.status?.conditions?.find((c) => c.type === 'Ready');
        const running = server.status?.conditions?.some((c) => c.type === 'Reconciling');
        return ready?.status === status && ready.observedGeneration === server.metadata.generation && !running ? server : undefined;
      }, timeoutMs, 200);
    },
    async requestComparison(name: string) {
      const value = `compare-${++requests}-${Date.now()}`;
      await base.cluster.kubectlOk(['annotate', 'cds', name, '-n', base.ns, `casdoor.org/sync-requested-at=${value}`, '--overwrite']);
      return waitFor(`comparison ${value} handled`, async () => {
        const server = await env.server(name);
        return server.status?.lastHandledSyncRequest === value ? server : undefined;
      });
    },
    casdoorUsers: (owner = 'acme') => casdoor.store.usersOf(owner),
    async close() {
      await close();
      await casdoor.close();
    },
  });
  return env;
}
