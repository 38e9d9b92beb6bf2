import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type ControllerListener, ReconcileOutcome } from './controller.ts';
import type { WorkQueueListener } from './workqueue.ts';

/** controller-runtime's buckets for `controller_runtime_reconcile_time_seconds`, so dashboards line up. */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75,
  2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go's workqueue buckets: 10 ns to 10 s by factors of ten. */
const WORKQUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10];

/**
 * The controller and work-queue series of controller-runtime and client-go, under their names and labels, so
 * the dashboards and alerts written for Go operators work unchanged. Feeds on the listeners the runtime exposes.
 */
export class RuntimeMetrics {
  readonly #reconcileTotal: Counter<'controller' | 'result'>;
  readonly #reconcileErrors: Counter<'controller'>;
  readonly #terminalErrors: Counter<'controller'>;
  readonly #reconcileTime: Histogram<'controller'>;
  readonly #depth: Gauge<'name'>;
  readonly #adds: Counter<'name'>;
  readonly #retries: Counter<'name'>;
  readonly #queueDuration: Histogram<'name'>;
  readonly #workDuration: Histogram<'name'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.#reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.#terminalErrors = new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.#reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.#depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers });
    this.#adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers });
    this.#retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registers });
    this.#queueDuration = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name'],
      buckets: WORKQUEUE_BUCKETS,
      registers,
    });
    this.#workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name'],
      buckets: WORKQUEUE_BUCKETS,
      registers,
    });
  }

  /** A listener for the controller `controller`; its series start at zero, as controller-runtime's do. */
  controllerListener(controller: string): ControllerListener {
    // Zero series up front: `rate()` and "no errors" alerts need the series to exist before the first event.
    for (const result of Object.values(ReconcileOutcome)) this.#reconcileTotal.inc({ controller, result }, 0);
    this.#reconcileErrors.inc({ controller }, 0);
    this.#terminalErrors.inc({ controller }, 0);
    return {
      reconciled: (outcome, durationMs) => {
        this.#reconcileTotal.inc({ controller, result: outcome });
        if (outcome === ReconcileOutcome.Error || outcome === ReconcileOutcome.TerminalError) this.#reconcileErrors.inc({ controller });
        if (outcome === ReconcileOutcome.TerminalError) this.#terminalErrors.inc({ controller });
        this.#reconcileTime.observe({ controller }, durationMs / 1000);
      },
    };
  }

  /** A listener for the work queue `name` (controller-runtime names a controller's queue after the controller). */
  workQueueListener(name: string): WorkQueueListener {
    this.#depth.set({ name }, 0);
    this.#adds.inc({ name }, 0);
    this.#retries.inc({ name }, 0);
    return {
      depth: (depth) => this.#depth.set({ name }, depth),
      add: () => this.#adds.inc({ name }),
      retry: () => this.#retries.inc({ name }),
      queueLatency: (ms) => this.#queueDuration.observe({ name }, ms / 1000),
      workDuration: (ms) => this.#workDuration.observe({ name }, ms / 1000),
    };
  }
}

/**
 * client-go's `leader_election_master_status` for the Lease `name`: 0 until this process is elected, then 1
 * (a leader that loses its Lease exits). Summed over the replicas it says whether any leads.
 */
export function leaderElectionMetric(registry: Registry, name: string, elected: Promise<void>): void {
  const gauge = new Gauge({ name: 'leader_election_master_status', help: 'Whether this process leads the Lease (1) or not (0)', labelNames: ['name'], registers: [registry] });
  gauge.set({ name }, 0);
  void elected.then(() => gauge.set({ name }, 1));
}

/**
 * A `<name>` gauge of 1 with the build's labels (version, runtime), as `prometheus_build_info` is: it says which
 * version each replica runs, and selecting on it picks this operator's targets out of everything scraped.
 */
export function buildInfoMetric(registry: Registry, name: string, labels: Record<string, string>): void {
  new Gauge({ name, help: 'Always 1; the labels say which build this process runs', labelNames: Object.keys(labels), registers: [registry] }).set(labels, 1);
}
