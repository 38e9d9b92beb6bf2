/**
 * The CasdoorServer part of the scale benchmark (run by bench/sync.ts, with the
 * operator running and the CasdoorUsers of a complete WeCom sync stored):
 * 1. floor: a bare client of ours creates the N users in a stand-in Casdoor, with the push's concurrency;
 * 2. push: from creating the CasdoorServer to Ready with the N users in (another) stand-in Casdoor;
 * 3. a full comparison with nothing changed: writes to Casdoor (must be 0);
 * 4. one member changed in WeCom, through a WeCom sync request: writes to Casdoor (must be 1), and the
 *    time from the WeComSyncer's sync finishing to the user changed in Casdoor.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ANNOTATION_SYNC_REQUESTED_AT, GROUP, VERSION } from '../src/api/group.ts';
import { CASDOOR_SERVER_PLURAL, type CasdoorServer } from '../src/api/casdoor-server.ts';
import { WECOM_SYNCER_PLURAL, type WeComSyncer } from '../src/api/wecom-syncer.ts';
import { CasdoorClient } from '../src/casdoor/client.ts';
import { DEFAULT_PUSH_CONCURRENCY } from '../src/casdoorserver/apply.ts';
import { markOf, newUser } from '../src/casdoorserver/objects.ts';
import { casdoorUsername } from '../src/syncer/mapping.ts';
import { startCasdoor } from '../test/support/casdoor/server.ts';
import type { Simulator } from '../test/support/simulator/server.ts';
import { waitFor } from '../test/support/wait.ts';

/** The Casdoor fields of the benchmark's JSON. */
export interface CasdoorBenchmarkResult {
  casdoorFloorSeconds: number;
  casdoorPushSeconds: number;
  casdoorResyncWrites: number;
  casdoorOneChangeWrites: number;
  casdoorOneChangeSeconds: number;
}

/** What the Casdoor steps run against. */
export interface CasdoorBenchmarkContext {
  kc: KubeConfig;
  core: CoreV1Api;
  namespace: string;
  /** The WeComSyncer's name. */
  syncer: string;
  sim: Simulator;
  /** The specs of the stored CasdoorUsers. */
  specs: ReadonlyArray<Record<string, unknown>>;
  log: (line: string) => void;
}

const POLL_MS = 50;
const seconds = (since: number): number => Math.round((performance.now() - since) / 10) / 100;

/** Runs the four Casdoor steps; the stand-ins are closed after. */
export async function measureCasdoor(context: CasdoorBenchmarkContext): Promise<CasdoorBenchmarkResult> {
  const { kc, core, namespace, sim, specs, log } = context;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const n = specs.length;

  // 1. Floor: the same user bodies the push sends, at its concurrency, with no Kubernetes in between.
  const floorCasdoor = await startCasdoor();
  const floorClient = new CasdoorClient({ endpoint: floorCasdoor.url, clientId: floorCasdoor.app.clientId, clientSecret: floorCasdoor.app.clientSecret });
  let casdoorFloorSeconds: number;
  try {
    const mark = markOf(namespace, 'main');
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: DEFAULT_PUSH_CONCURRENCY }, async () => {
      while (next < n) await floorClient.addUser(newUser(specs[next++]!, mark));
    }));
    casdoorFloorSeconds = seconds(started);
    if (floorCasdoor.store.usersOf('acme').length !== n) throw new Error(`Casdoor floor: ${floorCasdoor.store.usersOf('acme').length} of ${n} users`);
    log(`Casdoor floor: ${n} users in ${casdoorFloorSeconds} s`);
  } finally {
    await floorClient.close();
    await floorCasdoor.close();
  }

  const casdoor = await startCasdoor();
  try {
    // 2. Push: the CasdoorUsers are stored; the CasdoorServer carries them over.
    await core.createNamespacedSecret({ namespace, body: {
      metadata: { name: 'casdoor-app', annotations: { 'casdoor.org/allowed-urls': casdoor.url } },
      stringData: { clientId: casdoor.app.clientId, clientSecret: casdoor.app.clientSecret },
    } });
    const server = (): Promise<CasdoorServer> => custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: CASDOOR_SERVER_PLURAL, name: 'main' }) as Promise<CasdoorServer>;
    let started = performance.now();
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: CASDOOR_SERVER_PLURAL, body: {
      apiVersion: `${GROUP}/${VERSION}`, kind: 'CasdoorServer', metadata: { name: 'main' },
      spec: { endpoint: casdoor.url, credentialsRef: { name: 'casdoor-app' }, organizations: ['acme'] },
    } });
    await waitFor('the CasdoorServer Ready with every user', async () => {
      const status = (await server()).status;
      const ready = status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' && status?.users?.inSync === n ? true : undefined;
    }, Math.max(120_000, n * 20), POLL_MS);
    const casdoorPushSeconds = seconds(started);
    log(`Casdoor push: ${n} users in ${casdoorPushSeconds} s (${casdoor.counters.writes} writes, ${casdoor.counters.sessionsCreated} session)`);

    // 3. A full comparison with nothing changed.
    let writes = casdoor.counters.writes;
    const value = `bench-${Date.now()}`;
    await annotate(custom, namespace, CASDOOR_SERVER_PLURAL, 'main', value);
    await waitFor('the comparison handled', async () => ((await server()).status?.lastHandledSyncRequest === value ? true : undefined), 120_000, POLL_MS);
    const casdoorResyncWrites = casdoor.counters.writes - writes;
    log(`Casdoor comparison with nothing changed: ${casdoorResyncWrites} writes`);

    // 4. One member changed in WeCom, through a WeCom sync request.
    const member = sim.org.members[Math.floor(sim.org.members.length / 3)]!;
    const title = `${String(member.position ?? '')} (changed for Casdoor)`;
    sim.patchOrg({ upsertMembers: [{ ...member, position: title }] });
    writes = casdoor.counters.writes;
    const request = `bench-wecom-${Date.now()}`;
    await annotate(custom, namespace, WECOM_SYNCER_PLURAL, context.syncer, request);
    await waitFor('the WeCom sync handled', async () => {
      const syncer = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: WECOM_SYNCER_PLURAL, name: context.syncer })) as WeComSyncer;
      return syncer.status?.lastHandledSyncRequest === request ? true : undefined;
    }, 120_000, POLL_MS);
    started = performance.now();
    const name = casdoorUsername(member.userid);
    await waitFor('the change in Casdoor', async () => (casdoor.store.getUser(`acme/${name}`)?.['title'] === title ? true : undefined), 60_000, 10);
    const casdoorOneChangeSeconds = seconds(started);
    // Writes that follow the change are counted too, for a moment.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const casdoorOneChangeWrites = casdoor.counters.writes - writes;
    log(`Casdoor one change: ${casdoorOneChangeWrites} writes, in Casdoor ${casdoorOneChangeSeconds} s after the WeCom sync finished`);
    return { casdoorFloorSeconds, casdoorPushSeconds, casdoorResyncWrites, casdoorOneChangeWrites, casdoorOneChangeSeconds };
  } finally {
    await casdoor.close();
  }
}

async function annotate(custom: CustomObjectsApi, namespace: string, plural: string, name: string, value: string): Promise<void> {
  await custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, namespace, plural, name, body: { metadata: { annotations: { [ANNOTATION_SYNC_REQUESTED_AT]: value } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
