import { ApiException, CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Logger } from 'pino';

/** The object an Event is about: any namespaced object with its apiVersion and kind. */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/** Records Events on objects, for `kubectl describe`. */
export interface EventRecorder {
  record(object: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
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
  readonly #component: string;
  readonly #seen = new Map<string, Recorded>();

  /** `component` names the reporter in each Event's source. */
  constructor(kc: KubeConfig, logger: Logger, component: string) {
    this.#api = kc.makeApiClient(CoreV1Api);
    this.#logger = logger;
    this.#component = component;
  }

  async record(object: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const namespace = object.metadata.namespace ?? 'default';
    const key = `${object.metadata.uid}\n${type}\n${reason}\n${message}`;
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
      const name = `${object.metadata.name}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
      await this.#api.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name, namespace },
          involvedObject: {
            apiVersion: object.apiVersion,
            kind: object.kind,
            name: object.metadata.name,
            namespace,
            uid: object.metadata.uid,
            resourceVersion: object.metadata.resourceVersion,
          },
          type,
          reason,
          message,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: this.#component },
          reportingComponent: this.#component,
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
