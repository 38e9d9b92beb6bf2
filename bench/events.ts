/**
 * The contact-change event step of the scale benchmark (run by bench/sync.ts, with the operator
 * serving its event receiver and the WeComSyncer's users stored): spec.callback is turned on, the
 * 10-second spacing after that sync is waited out, and a member is deleted in the simulator, which
 * sends WeCom's encrypted event to the receiver. `eventToUserSeconds`: from the event's POST to the
 * CasdoorUser forbidden (removedUsers: Forbid), with a 1h interval and no sync request.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { CASDOOR_USER_PLURAL } from '../src/api/casdoor-user.ts';
import { GROUP, VERSION } from '../src/api/group.ts';
import { WECOM_SYNCER_PLURAL, type WeComSyncer } from '../src/api/wecom-syncer.ts';
import { EVENT_SYNC_MIN_MS } from '../src/shared/schedule.ts';
import { casdoorUserName } from '../src/syncer/mapping.ts';
import type { Simulator } from '../test/support/simulator/server.ts';
import { waitFor } from '../test/support/wait.ts';

/** What the event step runs against. */
export interface EventBenchmarkContext {
  kc: KubeConfig;
  namespace: string;
  /** The WeComSyncer's name. */
  syncer: string;
  sim: Simulator;
  /** Where the operator serves its receiver, on loopback. */
  webhookPort: number;
  log: (line: string) => void;
}

const POLL_MS = 50;
const TOKEN = 'bench-event-receiver-token';
const AES_KEY = 'YmVuY2htYXJrIGV2ZW50IHJlY2VpdmVyIGFlcyBrZXk';

/** Runs the step; returns eventToUserSeconds. */
export async function measureEvent(context: EventBenchmarkContext): Promise<number> {
  const { kc, namespace, syncer: name, sim, log } = context;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const target = { group: GROUP, version: VERSION, namespace, plural: WECOM_SYNCER_PLURAL, name };
  const get = async (): Promise<WeComSyncer> => (await custom.getNamespacedCustomObject(target)) as WeComSyncer;
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace, body: { metadata: { name: 'wecom-callback' }, stringData: { callbackToken: TOKEN, encodingAESKey: AES_KEY } } });
  const generation = (await get()).metadata.generation;
  await custom.patchNamespacedCustomObject(
    { ...target, body: { spec: { interval: '1h', removedUsers: 'Forbid', callback: { tokenRef: { name: 'wecom-callback' }, encodingAESKeyRef: { name: 'wecom-callback' } } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const synced = await waitFor('the sync of the new spec', async () => {
    const syncer = await get();
    const ready = syncer.status?.conditions?.find((c) => c.type === 'Ready');
    return syncer.metadata.generation !== generation && ready?.status === 'True' && ready.observedGeneration === syncer.metadata.generation && syncer.status?.callback?.path ? syncer : undefined;
  }, 600_000, POLL_MS);
  const path = synced.status!.callback!.path!;
  // An event within 10 s of a sync waits for the spacing: this measures a lone event.
  const spacing = Date.parse(synced.status!.lastSyncTime!) + EVENT_SYNC_MIN_MS - Date.now();
  if (spacing > 0) await new Promise((resolve) => setTimeout(resolve, spacing + 1000));

  sim.setEventReceiver({ url: `http://127.0.0.1:${context.webhookPort}${path}`, token: TOKEN, encodingAESKey: AES_KEY });
  const leaver = sim.org.members[0]!;
  const user = casdoorUserName(name, leaver.userid);
  const started = performance.now();
  sim.patchOrg({ removeUserIds: [leaver.userid] });
  await waitFor(`${user} forbidden`, async () => {
    const object = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: CASDOOR_USER_PLURAL, name: user })) as { spec: { isForbidden?: boolean } };
    return object.spec.isForbidden === true || undefined;
  }, 120_000, POLL_MS);
  const eventToUserSeconds = Math.round((performance.now() - started) / 10) / 100;
  const deliveries = await sim.eventsDelivered();
  sim.setEventReceiver(undefined);
  log(`event: ${user} forbidden ${eventToUserSeconds} s after WeCom's event (deliveries: ${JSON.stringify(deliveries.map((d) => d.statuses))})`);
  return eventToUserSeconds;
}
