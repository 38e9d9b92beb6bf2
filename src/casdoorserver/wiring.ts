import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { CASDOOR_SERVER_PLURAL, type CasdoorServer, type CasdoorServerStatus } from '../api/casdoor-server.ts';
import { CASDOOR_USER_KIND } from '../api/casdoor-user.ts';
import { GROUP, VERSION } from '../api/group.ts';
import { CasdoorClient } from '../casdoor/client.ts';
import { Controller, enqueueForReconcile, type EventRecorder, Informer, kubeListWatch, objectKey, WorkQueue } from '../runtime/index.ts';
import type { RuntimeMetrics } from '../runtime/metrics.ts';
import { kubeSecretReader } from '../secrets/reader.ts';
import { kubeStatusWriter } from '../shared/kube-status.ts';
import { CasdoorServerMetrics } from './metrics.ts';
import type { PushKind } from './objects.ts';
import { type CachedObject, CasdoorServerReconciler } from './reconciler.ts';
import { selects } from './selector.ts';

/** What the CasdoorServer controller is built from. */
export interface CasdoorServerWiring {
  kc: KubeConfig;
  logger: Logger;
  registry: Registry;
  runtimeMetrics: RuntimeMetrics;
  /** Namespaces watched; `undefined` = all. */
  scopes: ReadonlyArray<string | undefined>;
  events: EventRecorder;
  concurrency: number;
  /** The caches of CasdoorUsers and CasdoorGroups, one per scope; the WeComSyncer controller reads them too. */
  users: ReadonlyArray<Informer<CachedObject & KubernetesObject>>;
  groups: ReadonlyArray<Informer<CachedObject & KubernetesObject>>;
}

/** The first retry of a failing server; it doubles up to a minute. */
const BASE_BACKOFF_MS = 2000;
const MAX_BACKOFF_MS = 60_000;

/**
 * The CasdoorServer controller and the informers it reads: CasdoorServers,
 * and every CasdoorUser and CasdoorGroup of the watched namespaces (a server
 * carries hand-written ones too, not only a syncer's). Changes to those objects
 * queue the servers of their namespace that select them, or pushed them.
 */
export function casdoorServerController(wiring: CasdoorServerWiring): { controller: Controller; informers: Informer<KubernetesObject>[]; reconciler: CasdoorServerReconciler } {
  const { kc, logger, scopes } = wiring;
  const resource = (plural: string) => ({ group: GROUP, version: VERSION, plural });
  const named = (plural: string, namespace: string | undefined) => `${plural}${namespace ? `/${namespace}` : ''}`;
  const serverInformers = scopes.map((namespace) => new Informer<KubernetesObject>({
    name: named(CASDOOR_SERVER_PLURAL, namespace),
    listWatch: kubeListWatch(kc, resource(CASDOOR_SERVER_PLURAL), namespace ? { namespace } : {}),
    transform: (object) => object,
    logger,
  }));
  const { users, groups } = wiring;
  const informersOf = (kind: PushKind) => (kind === CASDOOR_USER_KIND ? users : groups);

  const metrics = new CasdoorServerMetrics(wiring.registry);
  const reconciler = new CasdoorServerReconciler({
    getServer: (key) => {
      for (const informer of serverInformers) {
        const server = informer.get(key);
        if (server) return server as unknown as CasdoorServer;
      }
      return undefined;
    },
    objects: (namespace, kind) => {
      const found: CachedObject[] = [];
      for (const informer of informersOf(kind)) for (const object of informer.list()) if (object.metadata?.namespace === namespace) found.push(object);
      return found;
    },
    object: (namespace, kind, name) => {
      for (const informer of informersOf(kind)) {
        const object = informer.get(`${namespace}/${name}`);
        if (object) return object;
      }
      return undefined;
    },
    readSecret: kubeSecretReader(kc),
    casdoorClient: (endpoint, clientId, clientSecret, key) => new CasdoorClient({
      endpoint, clientId, clientSecret, onRequest: (endpointName, outcome, seconds) => metrics.request(key, endpointName, outcome, seconds),
    }),
    writeStatus: kubeStatusWriter<CasdoorServerStatus>(kc, CASDOOR_SERVER_PLURAL),
    events: wiring.events,
    logger: logger.child({ controller: 'casdoorserver' }),
    onComparisonFinished: metrics.comparisonFinished,
  });
  const queue = new WorkQueue({ baseBackoffMs: BASE_BACKOFF_MS, maxBackoffMs: MAX_BACKOFF_MS, listener: wiring.runtimeMetrics.workQueueListener('casdoorserver') });
  const controller = new Controller({
    name: 'casdoorserver', reconciler, logger, concurrency: wiring.concurrency, queue,
    listener: wiring.runtimeMetrics.controllerListener('casdoorserver'),
  });

  for (const informer of serverInformers) {
    informer.addHandlers(metrics.serverHandlers);
    // Its own status writes change neither generation nor annotations.
    informer.addHandlers(enqueueForReconcile(queue));
  }

  // A changed object queues each server of its namespace that selects it, or pushed it before.
  const changed = (object: CachedObject & KubernetesObject): void => {
    const namespace = object.metadata?.namespace;
    for (const informer of serverInformers) {
      for (const raw of informer.list()) {
        const server = raw as unknown as CasdoorServer;
        if (server.metadata.namespace !== namespace) continue;
        const key = objectKey(raw);
        if (!key) continue;
        if (selects(server.spec.selector, object.labels) || reconciler.hasWritten(key, object.kind, object.name)) {
          reconciler.objectChanged(key, object.kind, object.name);
          queue.add(key);
        }
      }
    }
  };
  for (const informer of [...users, ...groups]) {
    informer.addHandlers({
      // The first list is no change: every server's first comparison covers it.
      add: (object) => {
        if (informer.hasSynced()) changed(object);
      },
      update: (before, after) => {
        if (before.specFingerprint !== after.specFingerprint || JSON.stringify(before.labels ?? {}) !== JSON.stringify(after.labels ?? {})) changed(after);
      },
      delete: changed,
    });
  }
  return { controller, informers: serverInformers, reconciler };
}
