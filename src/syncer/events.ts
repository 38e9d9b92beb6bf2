import { ApiException, CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { WeComSyncer } from '../api/wecom-syncer.ts';
import { API_VERSION } from '../api/group.ts';

/** Records Events on a WeComSyncer for `kubectl describe wcs`. */
export interface EventRecorder {
  record(syncer: WeComSyncer, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

interface Recorded {
  name: string;
  count: number;
  firstSeen: number;
}

/** Repeats within this time bump the first Event's count; later ones start a new Event. */
const EVENT_REUSE_MS = 50 * 60_000;

/** Events kept in memory for deduplication; older ones are forgotten (and then recreated). */
const MAX_REMEMBERED = 1000;

/**
 * Records core/v1 Events. The same (object, type, reason, message) again bumps
 * `count` and `lastTimestamp` of the existing Event instead of creating a new
 * one, as client-go's correlator does, so repeats never flood the namespace.
 * Recording never fails a reconcile: errors are logged.
 */
export class KubeEventRecorder implements EventRecorder {
  readonly #api: CoreV1Api;
  readonly #logger: Logger;
  readonly #seen = new Map<string, Recorded>();

  constructor(kc: KubeConfig, logger: Logger) {
    this.#api = kc.makeApiClient(CoreV1Api);
    this.#logger = logger;
  }

  async record(syncer: WeComSyncer, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const namespace = syncer.metadata.namespace ?? 'default';
    const key = `${syncer.metadata.uid}\n${type}\n${reason}\n${message}`;
    const now = new Date();
    try {
      const seen = this.#seen.get(key);
      // Events expire (an hour by default): an old one is recreated, not patched.
      if (seen && now.getTime() - seen.firstSeen < EVENT_REUSE_MS) {
        seen.count++;
        try {
          await this.#api.patchNamespacedEvent(
            { name: seen.name, namespace, body: { count: seen.count, lastTimestamp: now } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          );
          return;
        } catch (error) {
          if (!(error instanceof ApiException && error.code === 404)) throw error;
        }
      }
      const name = `${syncer.metadata.name}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
      await this.#api.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name, namespace },
          involvedObject: {
            apiVersion: API_VERSION,
            kind: 'WeComSyncer',
            name: syncer.metadata.name,
            namespace,
            uid: syncer.metadata.uid,
            resourceVersion: syncer.metadata.resourceVersion,
          },
          type,
          reason,
          message,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: 'wecom-syncer' },
          reportingComponent: 'wecom-syncer',
        },
      });
      if (this.#seen.size >= MAX_REMEMBERED) this.#seen.delete(this.#seen.keys().next().value!);
      this.#seen.set(key, { name, count: 1, firstSeen: now.getTime() });
    } catch (error) {
      this.#seen.delete(key);
      this.#logger.warn({ err: error instanceof Error ? error.message : String(error), reason }, 'could not record an Event');
    }
  }
}
