import { Counter, Histogram, type Registry } from 'prom-client';
import { parseKey } from '../runtime/index.ts';
import type { PushOutcome } from './status.ts';

/** Casdoor answers in milliseconds on loopback, a page of 500 users in a fraction of a second. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A comparison of a few users takes a second, 10,000 a minute or two. */
const COMPARISON_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * The CasdoorServer controller's own series: Casdoor requests by endpoint and
 * outcome (`ok`, or the error's reason), and full comparisons by result.
 */
export class CasdoorServerMetrics {
  readonly #requests: Counter<'endpoint' | 'outcome'>;
  readonly #requestDuration: Histogram<'endpoint'>;
  readonly #comparisons: Counter<'namespace' | 'name' | 'result'>;
  readonly #comparisonDuration: Histogram<'namespace' | 'name'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#requests = new Counter({ name: 'casdoor_requests_total', help: 'Casdoor API requests by endpoint and outcome (ok, or why it failed)', labelNames: ['endpoint', 'outcome'], registers });
    this.#requestDuration = new Histogram({ name: 'casdoor_request_duration_seconds', help: 'How long Casdoor API requests take, failed ones included', labelNames: ['endpoint'], buckets: REQUEST_BUCKETS, registers });
    this.#comparisons = new Counter({ name: 'casdoor_server_comparisons_total', help: 'Full comparisons with Casdoor by result (compared, suspended, failed)', labelNames: ['namespace', 'name', 'result'], registers });
    this.#comparisonDuration = new Histogram({ name: 'casdoor_server_comparison_duration_seconds', help: 'How long full comparisons with Casdoor take', labelNames: ['namespace', 'name'], buckets: COMPARISON_BUCKETS, registers });
  }

  /** For the Casdoor client's onRequest. */
  readonly request = (endpoint: string, outcome: string, seconds: number): void => {
    this.#requests.inc({ endpoint, outcome });
    this.#requestDuration.observe({ endpoint }, seconds);
  };

  /** For the reconciler's onComparisonFinished. */
  readonly comparisonFinished = (key: string, outcome: PushOutcome, durationMs: number): void => {
    const { namespace, name } = parseKey(key);
    this.#comparisons.inc({ namespace: namespace ?? '', name, result: outcome.kind });
    this.#comparisonDuration.observe({ namespace: namespace ?? '', name }, durationMs / 1000);
  };
}
