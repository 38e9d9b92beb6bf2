import type { KubernetesObject } from '@kubernetes/client-node';
import type { Counter } from 'prom-client';
import { type EventHandlers, keyOf } from '../runtime/index.ts';
import { objectLabels } from './status-gauges.ts';

type Labels<L extends string> = Partial<Record<L, string | number>>;

/**
 * A counter's series per object: the label sets each object's increments made, so that an object that goes
 * takes all of its series with it, whatever values (an endpoint, an errcode) they came to carry.
 */
export class SeriesPerObject<L extends string> {
  readonly #counter: Counter<L>;
  readonly #series = new Map<string, Map<string, Labels<L>>>();

  constructor(counter: Counter<L>) {
    this.#counter = counter;
  }

  inc(key: string, labels: Labels<L>): void {
    this.#counter.inc(labels);
    let series = this.#series.get(key);
    if (!series) this.#series.set(key, (series = new Map()));
    const id = JSON.stringify(labels);
    if (!series.has(id)) series.set(id, labels);
  }

  forget(key: string): void {
    for (const labels of this.#series.get(key)?.values() ?? []) this.#counter.remove(labels);
    this.#series.delete(key);
  }
}

type ObjectLabels = Record<'namespace' | 'name', string>;

/**
 * Which objects of a kind the informer holds, and the handlers that keep their series: each version of an
 * object sets them (`observe`), and its deletion, or its deletionTimestamp, removes them (`forget`). `has` tells
 * a sync or comparison that ends after its object was deleted, which must then add no series.
 */
export class ObservedObjects {
  readonly #known = new Set<string>();
  readonly handlers: EventHandlers<KubernetesObject>;

  constructor(
    observe: (object: KubernetesObject, labels: ObjectLabels) => void,
    forget: (object: KubernetesObject, labels: ObjectLabels, key: string) => void,
  ) {
    const remove = (object: KubernetesObject): void => {
      const labels = objectLabels(object);
      if (!labels) return;
      const key = keyOf(labels.namespace || undefined, labels.name);
      this.#known.delete(key);
      forget(object, labels, key);
    };
    const update = (object: KubernetesObject): void => {
      const labels = objectLabels(object);
      if (!labels) return;
      if (object.metadata?.deletionTimestamp) return remove(object);
      this.#known.add(keyOf(labels.namespace || undefined, labels.name));
      observe(object, labels);
    };
    this.handlers = { add: update, update: (_before, after) => update(after), delete: remove };
  }

  has(key: string): boolean {
    return this.#known.has(key);
  }
}
