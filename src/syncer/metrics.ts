import type { KubernetesObject } from '@kubernetes/client-node';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WeComSyncerStatus } from '../api/wecom-syncer.ts';
import type { EventHandlers } from '../runtime/index.ts';
import { parseKey } from '../runtime/index.ts';
import { ObservedObjects, SeriesPerObject } from '../shared/object-series.ts';
import { StatusGauges } from '../shared/status-gauges.ts';
import type { WeComRequestInfo } from '../wecom/client.ts';
import type { SyncOutcome } from './status.ts';

/** WeCom answers in tens of milliseconds; a big department's user/list takes seconds; 15 s is the timeout. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];
/** A small corp syncs in a second, 50,000 members in minutes. */
const SYNC_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

const USER_STATES = ['active', 'forbidden'] as const;
const SYNC_RESULTS: ReadonlyArray<SyncOutcome['kind']> = ['synced', 'suspended', 'failed'];

type SyncerLabels = 'namespace' | 'name';

/**
 * The operator's own series: WeCom requests (per syncer), and per syncer its users, its last sync and how long syncs take.
 * Users, times, conditions, interval and suspension (StatusGauges) are read from each syncer as the informer
 * sees it, so they are right after a restart and on every replica; durations and outcomes come from the syncs
 * this process ran. A deleted syncer's series are removed.
 */
export class SyncerMetrics {
  readonly #requests: SeriesPerObject<SyncerLabels | 'endpoint' | 'errcode'>;
  readonly #requestDuration: Histogram<'endpoint'>;
  readonly #users: Gauge<SyncerLabels | 'state'>;
  readonly #lastSync: Gauge<SyncerLabels>;
  readonly #lastSuccess: Gauge<SyncerLabels>;
  readonly #syncDuration: Histogram<SyncerLabels>;
  readonly #syncs: Counter<SyncerLabels | 'result'>;
  readonly #status: StatusGauges;
  readonly #syncers = new ObservedObjects((syncer, labels) => this.#observe(syncer, labels), (syncer, labels, key) => this.#forget(syncer, labels, key));

  constructor(registry: Registry) {
    const registers = [registry];
    this.#requests = new SeriesPerObject(new Counter({
      name: 'wecom_requests_total',
      help: 'WeCom API requests of each syncer by endpoint and errcode (0 = success; http_<status> or none when WeCom gave no errcode)',
      labelNames: ['namespace', 'name', 'endpoint', 'errcode'],
      registers,
    }));
    this.#requestDuration = new Histogram({
      name: 'wecom_request_duration_seconds',
      help: 'How long WeCom API requests take, failed ones included',
      labelNames: ['endpoint'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.#users = new Gauge({
      name: 'wecom_syncer_users',
      help: 'CasdoorUsers a syncer keeps, by state, as its status reports them',
      labelNames: ['namespace', 'name', 'state'],
      registers,
    });
    this.#lastSync = new Gauge({
      name: 'wecom_syncer_last_sync_timestamp_seconds',
      help: 'When a syncer last finished a sync, successful or not (status.lastSyncTime)',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: 'wecom_syncer_last_success_timestamp_seconds',
      help: 'When a syncer last finished a successful sync (status.lastSuccessfulSyncTime)',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.#syncDuration = new Histogram({
      name: 'wecom_syncer_sync_duration_seconds',
      help: 'How long the syncs this process ran took, from start to outcome',
      labelNames: ['namespace', 'name'],
      buckets: SYNC_BUCKETS,
      registers,
    });
    this.#syncs = new Counter({
      name: 'wecom_syncer_syncs_total',
      help: 'Syncs this process ran, by result: synced, suspended (connection test only) or failed',
      labelNames: ['namespace', 'name', 'result'],
      registers,
    });
    this.#status = new StatusGauges(registry, 'wecom_syncer', 'WeComSyncer');
  }

  /**
   * For `WeComClientOptions.onRequest` of the syncer `key`'s client. Labels hold the syncer, the endpoint and
   * the errcode only: never a URL or credential. A call of a syncer already deleted is timed, not counted.
   */
  readonly wecomRequest = (key: string, info: WeComRequestInfo): void => {
    const errcode = info.errcode !== undefined ? String(info.errcode) : info.httpStatus !== undefined ? `http_${info.httpStatus}` : 'none';
    if (this.#syncers.has(key)) this.#requests.inc(key, { ...syncerLabels(key), endpoint: info.endpoint, errcode });
    this.#requestDuration.observe({ endpoint: info.endpoint }, info.durationMs / 1000);
  };

  /** For `SyncerDeps.onSyncFinished`. */
  readonly syncFinished = (key: string, outcome: SyncOutcome, durationMs: number): void => {
    if (!this.#syncers.has(key)) return;
    const labels = syncerLabels(key);
    this.#syncs.inc({ ...labels, result: outcome.kind });
    this.#syncDuration.observe(labels, durationMs / 1000);
  };

  /** Handlers for a WeComSyncer informer: each event sets the syncer's gauges from its status. */
  readonly syncerHandlers: EventHandlers<KubernetesObject> = this.#syncers.handlers;

  #observe(syncer: KubernetesObject, labels: Record<SyncerLabels, string>): void {
    // The API server's JSON, as the CRD's schema shapes it.
    const status = (syncer as { status?: WeComSyncerStatus }).status;
    for (const state of USER_STATES) {
      const count = status?.users?.[state];
      if (count === undefined) this.#users.remove({ ...labels, state });
      else this.#users.set({ ...labels, state }, count);
    }
    setTimestamp(this.#lastSync, labels, status?.lastSyncTime);
    setTimestamp(this.#lastSuccess, labels, status?.lastSuccessfulSyncTime);
    this.#status.observe(syncer);
  }

  #forget(syncer: KubernetesObject, labels: Record<SyncerLabels, string>, key: string): void {
    this.#requests.forget(key);
    for (const state of USER_STATES) this.#users.remove({ ...labels, state });
    for (const result of SYNC_RESULTS) this.#syncs.remove({ ...labels, result });
    this.#lastSync.remove(labels);
    this.#lastSuccess.remove(labels);
    this.#syncDuration.remove(labels);
    this.#status.forget(syncer);
  }
}

function syncerLabels(key: string): Record<SyncerLabels, string> {
  const { namespace = '', name } = parseKey(key);
  return { namespace, name };
}

function setTimestamp(gauge: Gauge<SyncerLabels>, labels: Record<SyncerLabels, string>, time: string | undefined): void {
  const ms = time === undefined ? Number.NaN : Date.parse(time);
  if (Number.isNaN(ms)) gauge.remove(labels);
  else gauge.set(labels, ms / 1000);
}
