import type { KubernetesObject } from '@kubernetes/client-node';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CasdoorServerStatus, SelectionCounts } from '../api/casdoor-server.ts';
import { CASDOOR_GROUP_KIND } from '../api/casdoor-group.ts';
import { CASDOOR_USER_KIND } from '../api/casdoor-user.ts';
import type { EventHandlers } from '../runtime/index.ts';
import { parseKey } from '../runtime/index.ts';
import { ObservedObjects, SeriesPerObject } from '../shared/object-series.ts';
import { StatusGauges } from '../shared/status-gauges.ts';
import type { PushOutcome } from './status.ts';

/** Casdoor answers in milliseconds on loopback, a page of 500 users in a fraction of a second. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A comparison of a few users takes a second, 10,000 a minute or two. */
const COMPARISON_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

const OBJECT_STATES = ['selected', 'inSync', 'failed', 'skipped'] as const satisfies ReadonlyArray<keyof SelectionCounts>;
const COMPARISON_RESULTS: ReadonlyArray<PushOutcome['kind']> = ['compared', 'suspended', 'failed'];
const OBJECT_KINDS = [[CASDOOR_USER_KIND, 'users'], [CASDOOR_GROUP_KIND, 'groups']] as const;

/**
 * The CasdoorServer controller's own series: each server's Casdoor requests by
 * endpoint and outcome (`ok`, or the error's reason), and full comparisons by result. Per
 * server, read off its status as the informer holds it: the objects it selects
 * by state, its conditions, interval and suspension (see StatusGauges).
 */
export class CasdoorServerMetrics {
  readonly #requests: SeriesPerObject<'namespace' | 'name' | 'endpoint' | 'outcome'>;
  readonly #requestDuration: Histogram<'endpoint'>;
  readonly #comparisons: Counter<'namespace' | 'name' | 'result'>;
  readonly #comparisonDuration: Histogram<'namespace' | 'name'>;
  readonly #objects: Gauge<'namespace' | 'name' | 'kind' | 'state'>;
  readonly #status: StatusGauges;
  readonly #servers = new ObservedObjects((server, labels) => this.#observe(server, labels), (server, labels, key) => this.#forget(server, labels, key));

  constructor(registry: Registry) {
    const registers = [registry];
    this.#requests = new SeriesPerObject(new Counter({ name: 'casdoor_requests_total', help: 'Casdoor API requests of each server by endpoint and outcome (ok, or why it failed)', labelNames: ['namespace', 'name', 'endpoint', 'outcome'], registers }));
    this.#requestDuration = new Histogram({ name: 'casdoor_request_duration_seconds', help: 'How long Casdoor API requests take, failed ones included', labelNames: ['endpoint'], buckets: REQUEST_BUCKETS, registers });
    this.#comparisons = new Counter({ name: 'casdoor_server_comparisons_total', help: 'Full comparisons with Casdoor by result (compared, suspended, failed)', labelNames: ['namespace', 'name', 'result'], registers });
    this.#comparisonDuration = new Histogram({ name: 'casdoor_server_comparison_duration_seconds', help: 'How long full comparisons with Casdoor take', labelNames: ['namespace', 'name'], buckets: COMPARISON_BUCKETS, registers });
    this.#objects = new Gauge({ name: 'casdoor_server_objects', help: 'CasdoorUsers and CasdoorGroups a server selects, by state (selected, inSync, failed, skipped), as its status reports them', labelNames: ['namespace', 'name', 'kind', 'state'], registers });
    this.#status = new StatusGauges(registry, 'casdoor_server', 'CasdoorServer');
  }

  /** Handlers for the CasdoorServer informer. */
  readonly serverHandlers: EventHandlers<KubernetesObject> = this.#servers.handlers;

  #observe(server: KubernetesObject, labels: Record<'namespace' | 'name', string>): void {
    // The API server's JSON, as the CRD's schema shapes it.
    const status = (server as { status?: CasdoorServerStatus }).status;
    for (const [kind, field] of OBJECT_KINDS) {
      for (const state of OBJECT_STATES) {
        const count = status?.[field]?.[state];
        if (count === undefined) this.#objects.remove({ ...labels, kind, state });
        else this.#objects.set({ ...labels, kind, state }, count);
      }
    }
    this.#status.observe(server);
  }

  #forget(server: KubernetesObject, labels: Record<'namespace' | 'name', string>, key: string): void {
    this.#requests.forget(key);
    for (const [kind] of OBJECT_KINDS) for (const state of OBJECT_STATES) this.#objects.remove({ ...labels, kind, state });
    for (const result of COMPARISON_RESULTS) this.#comparisons.remove({ ...labels, result });
    this.#comparisonDuration.remove(labels);
    this.#status.forget(server);
  }

  /** For the onRequest of the server `key`'s Casdoor client. A call of a server already deleted is timed, not counted. */
  readonly request = (key: string, endpoint: string, outcome: string, seconds: number): void => {
    if (this.#servers.has(key)) {
      const { namespace = '', name } = parseKey(key);
      this.#requests.inc(key, { namespace, name, endpoint, outcome });
    }
    this.#requestDuration.observe({ endpoint }, seconds);
  };

  /** For the reconciler's onComparisonFinished. */
  readonly comparisonFinished = (key: string, outcome: PushOutcome, durationMs: number): void => {
    if (!this.#servers.has(key)) return;
    const { namespace, name } = parseKey(key);
    this.#comparisons.inc({ namespace: namespace ?? '', name, result: outcome.kind });
    this.#comparisonDuration.observe({ namespace: namespace ?? '', name }, durationMs / 1000);
  };
}
