import { type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { CASDOOR_GROUP_KIND, CASDOOR_GROUP_PLURAL } from './api/casdoor-group.ts';
import { CASDOOR_USER_KIND, CASDOOR_USER_PLURAL } from './api/casdoor-user.ts';
import { GROUP, LABEL_SYNCER, VERSION } from './api/group.ts';
import { WECOM_SYNCER_PLURAL, type WeComSyncer, type WeComSyncerStatus } from './api/wecom-syncer.ts';
import { callbackReceiver } from './callback/wiring.ts';
import { CasdoorObject } from './casdoor-object.ts';
import { casdoorServerController } from './casdoorserver/wiring.ts';
import { Controller, enqueueForReconcile, Informer, kubeListWatch, Manager, WorkQueue } from './runtime/index.ts';
import { KubeEventRecorder } from './runtime/events.ts';
import { RuntimeMetrics } from './runtime/metrics.ts';
import { kubeSecretReader } from './secrets/reader.ts';
import { kubeStatusWriter } from './shared/kube-status.ts';
import { shareStrings, StringPool } from './shared/string-pool.ts';
import type { ManagedKind } from './syncer/desired.ts';
import { SyncerMetrics } from './syncer/metrics.ts';
import { KubeObjectWriter } from './syncer/object-writer.ts';
import { OwnedIndex } from './syncer/owned-index.ts';
import { WeComSyncerReconciler } from './syncer/reconciler.ts';
import type { StoredObject } from './syncer/stored.ts';
import { WeComClient } from './wecom/client.ts';
import { TokenCache } from './wecom/token-cache.ts';

/** How the operator runs; main.ts fills it from flags. */
export interface OperatorOptions {
  kc: KubeConfig;
  logger: Logger;
  /** Namespaces to watch; all when empty. */
  namespaces: readonly string[];
  /** Syncers reconciled at once. */
  concurrency: number;
  elected?: Promise<void>;
  /** Where the metrics go; a registry of its own by default. */
  registry?: Registry;
  /** Build the receiver of WeCom's contact-change events (every replica serves it). */
  callback?: boolean;
}

/** The first retry of a failing syncer; it doubles from here. Each retry fetches WeCom again. */
const BASE_BACKOFF_MS = 2000;
/** The longest backoff between retries of a failing syncer (a missing Secret is picked up within it). */
const MAX_BACKOFF_MS = 60_000;

/**
 * Wires informers, the reconciler and its controller into a manager. The
 * caller starts and stops the manager.
 */
export function buildOperator(options: OperatorOptions): { manager: Manager; reconciler: WeComSyncerReconciler; registry: Registry; callback?: ReturnType<typeof callbackReceiver> } {
  const { kc, logger } = options;
  const registry = options.registry ?? new Registry();
  const runtimeMetrics = new RuntimeMetrics(registry);
  const syncerMetrics = new SyncerMetrics(registry);
  const scopes: Array<string | undefined> = options.namespaces.length > 0 ? [...options.namespaces] : [undefined];
  const resource = (plural: string) => ({ group: GROUP, version: VERSION, plural });

  const syncerInformers = scopes.map(
    (namespace) =>
      new Informer<KubernetesObject>({
        name: `wecomsyncers${namespace ? `/${namespace}` : ''}`,
        listWatch: kubeListWatch(kc, resource(WECOM_SYNCER_PLURAL), namespace ? { namespace } : {}),
        transform: (object) => object,
        logger,
      }),
  );
  // Every object, not only a syncer's: a CasdoorServer pushes hand-written ones too.
  const strings = new StringPool();
  const objectInformers = (kind: ManagedKind, plural: string) =>
    scopes.map(
      (namespace) =>
        new Informer<CasdoorObject>({
          name: `${plural}${namespace ? `/${namespace}` : ''}`,
          listWatch: kubeListWatch(kc, resource(plural), namespace ? { namespace } : {}),
          transform: (raw): CasdoorObject => {
            shareStrings(raw, strings);
            return new CasdoorObject(kind, raw);
          },
          logger,
        }),
    );
  const userInformers = objectInformers(CASDOOR_USER_KIND, CASDOOR_USER_PLURAL);
  const groupInformers = objectInformers(CASDOOR_GROUP_KIND, CASDOOR_GROUP_PLURAL);

  const users = new OwnedIndex();
  const groups = new OwnedIndex();
  const tokens = new TokenCache();
  const events = new KubeEventRecorder(kc, logger, 'wecom-syncer');
  const readSecret = kubeSecretReader(kc);
  const reconciler = new WeComSyncerReconciler({
    getSyncer: (key) => {
      for (const informer of syncerInformers) {
        // The API server's JSON, as the CRD's schema shapes it.
        const syncer = informer.get(key);
        if (syncer) return syncer as unknown as WeComSyncer;
      }
      return undefined;
    },
    users,
    groups,
    readSecret,
    writer: new KubeObjectWriter(kc),
    writeStatus: kubeStatusWriter<WeComSyncerStatus>(kc, WECOM_SYNCER_PLURAL),
    events,
    wecomClient: (apiURL, corpId, secret, key) => new WeComClient({ apiURL, corpId, secret, tokenCache: tokens, logger, onRequest: (info) => syncerMetrics.wecomRequest(key, info) }),
    logger,
    onSyncFinished: syncerMetrics.syncFinished,
  });
  const queue = new WorkQueue({ baseBackoffMs: BASE_BACKOFF_MS, maxBackoffMs: MAX_BACKOFF_MS, listener: runtimeMetrics.workQueueListener('wecomsyncer') });
  const controller = new Controller({
    name: 'wecomsyncer', reconciler, logger, concurrency: options.concurrency, queue,
    listener: runtimeMetrics.controllerListener('wecomsyncer'),
  });

  const callback = options.callback
    ? callbackReceiver({ kc, logger, readSecret, syncers: () => syncerInformers.flatMap((informer) => [...informer.list()] as unknown as WeComSyncer[]) })
    : undefined;
  for (const informer of syncerInformers) {
    if (callback) {
      // A spec change may name other Secrets; status writes (the receivers' own counts among them) change nothing.
      const { invalidate } = callback.routes;
      informer.addHandlers({
        add: invalidate,
        update: (before, after) => {
          if (before.metadata?.generation !== after.metadata?.generation || before.metadata?.deletionTimestamp !== after.metadata?.deletionTimestamp) invalidate();
        },
        delete: invalidate,
      });
    }
    informer.addHandlers(syncerMetrics.syncerHandlers);
    // Our own status writes change neither generation nor annotations: they must not queue a sync again.
    informer.addHandlers(enqueueForReconcile(queue));
  }
  // Objects a syncer owns: keep its index, and queue the syncer when one no
  // longer matches what its last sync wrote (edited or deleted by hand).
  const watchOwned = (informer: Informer<CasdoorObject>, index: OwnedIndex, kind: ManagedKind): void => {
    const owned = (object: CasdoorObject): boolean => (object.labels[LABEL_SYNCER] ?? '') !== '';
    const changed = (key: string, before: StoredObject | undefined, after: StoredObject | undefined, firstList = false): void => {
      if (reconciler.ownedObjectChanged(key, kind, before, after, firstList)) queue.add(key);
    };
    informer.addHandlers({
      add: (object) => {
        if (!owned(object)) return;
        index.upsert(object);
        changed(OwnedIndex.ownerKey(object), undefined, object, !informer.hasSynced());
      },
      update: (before, after) => {
        const was = owned(before) ? OwnedIndex.ownerKey(before) : undefined;
        const is = owned(after) ? OwnedIndex.ownerKey(after) : undefined;
        // Relabelled to another syncer (or none) by hand: it leaves the old syncer's index.
        if (was !== undefined && was !== is) {
          index.remove(before);
          changed(was, before, undefined);
        }
        if (is === undefined) return;
        index.upsert(after);
        changed(is, was === is ? before : undefined, after);
      },
      delete: (object) => {
        if (!owned(object)) return;
        index.remove(object);
        changed(OwnedIndex.ownerKey(object), object, undefined);
      },
    });
  };
  for (const informer of userInformers) watchOwned(informer, users, CASDOOR_USER_KIND);
  for (const informer of groupInformers) watchOwned(informer, groups, CASDOOR_GROUP_KIND);

  // The CasdoorServer controller: a second controller on the same runtime, reading the same caches.
  const servers = casdoorServerController({
    kc, logger, registry, runtimeMetrics, scopes, events, concurrency: options.concurrency, users: userInformers, groups: groupInformers,
  });

  const manager = new Manager({
    logger,
    informers: [...syncerInformers, ...userInformers, ...groupInformers, ...servers.informers],
    controllers: [controller, servers.controller],
    ...(options.elected && { elected: options.elected }),
  });
  return { manager, reconciler, registry, ...(callback && { callback }) };
}
