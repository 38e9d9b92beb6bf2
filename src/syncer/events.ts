import { CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
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
}

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
      if (seen) {
        seen.count++;
        await this.#api.patchNamespacedEvent(
          { name: seen.name, namespace, body: { count: seen.count, lastTimestamp: now } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return;
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
      this.#seen.set(key, { name, count: 1 });
    } catch (error) {
      this.#seen.delete(key);
      this.#logger.warn({ err: error instanceof Error ? error.message : String(error), reason }, 'could not record an Event');
    }
  }
}
