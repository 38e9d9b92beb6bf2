import type { KubernetesObject } from '@kubernetes/client-node';
import { Gauge, type Registry } from 'prom-client';
import type { Condition } from '../api/wecom-syncer.ts';
import { parseGoDuration } from './duration.ts';

type ObjectLabels = 'namespace' | 'name';
type ConditionLabels = ObjectLabels | 'type' | 'status' | 'reason';

/** What the gauges read off a WeComSyncer or a CasdoorServer, as its informer holds it. */
interface ReportingObject extends KubernetesObject {
  spec?: { interval?: string; suspend?: boolean };
  status?: { conditions?: Condition[] };
}

/**
 * Gauges read off a kind's objects, the way kube-state-metrics reads a CRD's: `<prefix>_status_condition` is 1
 * for each condition an object has (its type, status and reason as labels; a condition that goes away takes its
 * series with it), `<prefix>_interval_seconds` and `<prefix>_suspended` are its spec. They are what the alerts
 * need: "not Ready for 15 minutes", "no success for three intervals unless suspended". Read from the informer,
 * so they are right after a restart and on every replica.
 */
export class StatusGauges {
  readonly #conditions: Gauge<ConditionLabels>;
  readonly #interval: Gauge<ObjectLabels>;
  readonly #suspended: Gauge<ObjectLabels>;
  /** The condition series each object has now, by namespace/name: the ones to remove when they change. */
  readonly #series = new Map<string, Array<Record<ConditionLabels, string>>>();

  constructor(registry: Registry, prefix: string, kind: string) {
    const registers = [registry];
    this.#conditions = new Gauge({
      name: `${prefix}_status_condition`,
      help: `1 for each condition a ${kind} has, by type, status and reason`,
      labelNames: ['namespace', 'name', 'type', 'status', 'reason'],
      registers,
    });
    this.#interval = new Gauge({ name: `${prefix}_interval_seconds`, help: `A ${kind}'s spec.interval`, labelNames: ['namespace', 'name'], registers });
    this.#suspended = new Gauge({ name: `${prefix}_suspended`, help: `1 when a ${kind}'s spec.suspend is true, else 0`, labelNames: ['namespace', 'name'], registers });
  }

  /** Sets the object's series from what it is now; a deleted object (or one being deleted) loses them. */
  observe(object: KubernetesObject): void {
    const labels = objectLabels(object);
    if (!labels) return;
    if (object.metadata?.deletionTimestamp) return this.forget(object);
    const { spec, status } = object as ReportingObject;
    const key = `${labels.namespace}/${labels.name}`;
    const now = (status?.conditions ?? []).map((condition) => ({ ...labels, type: condition.type, status: condition.status, reason: condition.reason ?? '' }));
    for (const old of this.#series.get(key) ?? []) {
      if (!now.some((series) => sameSeries(series, old))) this.#conditions.remove(old);
    }
    for (const series of now) this.#conditions.set(series, 1);
    this.#series.set(key, now);
    const intervalMs = intervalOf(spec?.interval);
    if (intervalMs === undefined) this.#interval.remove(labels);
    else this.#interval.set(labels, intervalMs / 1000);
    this.#suspended.set(labels, spec?.suspend === true ? 1 : 0);
  }

  forget(object: KubernetesObject): void {
    const labels = objectLabels(object);
    if (!labels) return;
    const key = `${labels.namespace}/${labels.name}`;
    for (const old of this.#series.get(key) ?? []) this.#conditions.remove(old);
    this.#series.delete(key);
    this.#interval.remove(labels);
    this.#suspended.remove(labels);
  }
}

export function objectLabels(object: KubernetesObject): Record<ObjectLabels, string> | undefined {
  const name = object.metadata?.name;
  return name ? { namespace: object.metadata?.namespace ?? '', name } : undefined;
}

function sameSeries(a: Record<ConditionLabels, string>, b: Record<ConditionLabels, string>): boolean {
  return a.type === b.type && a.status === b.status && a.reason === b.reason;
}

/** The interval as stored; the CRD's schema defaults and validates it, so a bad one is only an old object's. */
function intervalOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseGoDuration(text);
  } catch {
    return undefined;
  }
}
