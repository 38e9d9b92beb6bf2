import { ApiException, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { ANNOTATION_EVENT_RECEIVED_AT, GROUP, VERSION } from '../api/group.ts';
import { WECOM_SYNCER_PLURAL, type WeComSyncer } from '../api/wecom-syncer.ts';
import { parseKey } from '../runtime/index.ts';
import type { SecretReader } from '../secrets/reader.ts';
import { EventMarker } from './marker.ts';
import { CallbackReceiver } from './receiver.ts';
import { CallbackRoutes } from './routes.ts';
import { callbackServer } from './server.ts';

/** What the event receiver is built from. */
export interface CallbackWiring {
  kc: KubeConfig;
  logger: Logger;
  /** The cached WeComSyncers (every replica has them, leader or not). */
  syncers(): Iterable<WeComSyncer>;
  readSecret: SecretReader;
}

/** How often a mark is tried again when its resourceVersion was stale. */
const MARK_ATTEMPTS = 5;

/**
 * The event receiver of every syncer with spec.callback, served by every
 * replica: WeCom reaches whichever one the Service picks, and the mark it
 * leaves on the syncer reaches the leader through its watch.
 */
export function callbackReceiver(wiring: CallbackWiring): { server: Server; routes: CallbackRoutes; marker: EventMarker } {
  const logger = wiring.logger.child({ component: 'event-receiver' });
  const api = wiring.kc.makeApiClient(CustomObjectsApi);
  const routes = new CallbackRoutes({ syncers: wiring.syncers, readSecret: wiring.readSecret, logger });
  const marker = new EventMarker({ mark: (key, at, count) => markSyncer(api, key, at, count), logger });
  const receiver = new CallbackReceiver({
    target: (path) => routes.target(path),
    received: (target, event) => {
      logger.info({ syncer: target.key, changeType: event.changeType }, 'contact-change event received');
      marker.received(target.key);
    },
    logger,
  });
  return { server: callbackServer(receiver, logger), routes, marker };
}

/**
 * Sets the annotation that makes the leader sync, then counts `count` events
 * into the syncer's status (against the resourceVersion just read, so two
 * replicas marking at once both count). In this order, a failure of either is
 * retried whole without counting twice: a second annotation only asks for a
 * sync again (at most one per 10 s). A syncer gone meanwhile is no error.
 */
async function markSyncer(api: CustomObjectsApi, key: string, at: string, count: number): Promise<void> {
  const { namespace = 'default', name } = parseKey(key);
  const target = { group: GROUP, version: VERSION, namespace, plural: WECOM_SYNCER_PLURAL, name };
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  try {
    await api.patchNamespacedCustomObject({ ...target, body: { metadata: { annotations: { [ANNOTATION_EVENT_RECEIVED_AT]: at } } } }, mergePatch);
    for (let attempt = 1; ; attempt++) {
      const syncer = (await api.getNamespacedCustomObject(target)) as WeComSyncer;
      const received = (syncer.status?.callback?.eventsReceived ?? 0) + count;
      const body = { metadata: { resourceVersion: syncer.metadata.resourceVersion }, status: { callback: { eventsReceived: received, lastEventTime: at } } };
      try {
        await api.patchNamespacedCustomObjectStatus({ ...target, body }, mergePatch);
        break;
      } catch (error) {
        if (!(error instanceof ApiException && error.code === 409) || attempt >= MARK_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return;
    throw error;
  }
}
