// The runtime's public API, for main.ts and the syncer; the modules behind it know nothing of WeCom.
export { type CancelTimer, type Clock, systemClock } from './clock.ts';
export { Controller, type ControllerListener, type ControllerOptions, DEFAULT_STOP_GRACE_MS, ReconcileOutcome } from './controller.ts';
export { changedForReconcile, enqueueForReconcile, enqueueMapped, enqueueObject } from './enqueue.ts';
export { type EventRecorder, type EventSubject, KubeEventRecorder } from './events.ts';
export { type EventHandlers, Informer, type InformerOptions, InformerState, type InformerStatus } from './informer.ts';
export { keyOf, type Named, objectKey, parseKey } from './key.ts';
export { type CustomResource, type KubeListWatchOptions, kubeListWatch, resourcePath } from './kube-listwatch.ts';
export { kubeLeaseStore, leaseNamespace } from './kube-lease.ts';
export { defaultIdentity, LEADER_ELECTION_DEFAULTS, LeaderElector, type LeaderElectorOptions, LeaseConflictError, type LeaseRecord, type LeaseStore, type StoredLease } from './leader-election.ts';
export { type ListOptions, type ListPage, type ListWatch, ResourceExpiredError, type WatchEvent, type WatchHandle } from './listwatch.ts';
export { type CacheSource, Manager, type ManagerOptions, ManagerPhase, type Runnable } from './manager.ts';
export { type Reconciler, type Request, type Result, TerminalError } from './reconcile.ts';
export { WorkQueue, type WorkQueueListener, type WorkQueueOptions } from './workqueue.ts';
