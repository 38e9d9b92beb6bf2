import type { Counter } from 'prom-client';

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
