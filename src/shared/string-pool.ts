import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * One copy of each string, and of each small label set or list of strings,
 * that many objects repeat. JSON.parse gives every object its own copies of
 * its namespace, its labels, its organization, its groups and its title:
 * together about 400 bytes per cached CasdoorUser, 40 MB at 100,000. Bounded:
 * past `limit` distinct values, new ones stay as they came.
 */
export class StringPool {
  readonly #strings = new Map<string, string>();
  /** Frozen label sets and string lists, by their JSON text. */
  readonly #records = new Map<string, Readonly<Record<string, string>> | readonly string[]>();
  readonly #limit: number;

  constructor(limit = 50_000) {
    this.#limit = limit;
  }

  /** The pool's copy of `value`, or `value` itself. */
  get(value: string): string {
    const known = this.#strings.get(value);
    if (known !== undefined) return known;
    if (this.#strings.size < this.#limit && value.length <= MAX_POOLED_CHARS) this.#strings.set(value, value);
    return value;
  }

  /**
   * The pool's frozen copy of a label set or a list of strings equal to `value` (same keys in the same
   * order, same strings), or `value` itself. Frozen because every object that repeats it shares it: a
   * write through one would change them all, so it throws instead.
   */
  shared<T extends Readonly<Record<string, string>> | readonly string[]>(value: T): T {
    const text = JSON.stringify(value);
    const known = this.#records.get(text);
    if (known !== undefined) return known as T;
    if (this.#records.size < this.#limit && text.length <= MAX_POOLED_CHARS) {
      Object.freeze(value);
      this.#records.set(text, value);
    }
    return value;
  }
}

const MAX_POOLED_CHARS = 128;

/** Spec fields whose values many objects share: an organization, a country, a gender, a title, groups, a type. */
const SHARED_SPEC_FIELDS: readonly string[] = ['owner', 'countryCode', 'gender', 'title', 'groups', 'type', 'parentId'];
/** Spec fields that usually hold one value: a WeCom userid is its id and its Casdoor name. */
const SAME_VALUE_FIELDS: readonly string[] = ['id', 'wecom'];

/**
 * Makes a freshly parsed CasdoorUser or CasdoorGroup share its repeated
 * strings, its labels and its list of groups with the pool (values are equal,
 * only copies go), before a cache keeps it. The object must be the caller's
 * own: it is changed in place, and its labels and groups may come back frozen.
 */
export function shareStrings(object: KubernetesObject, pool: StringPool): void {
  const metadata = object.metadata;
  if (metadata?.namespace) metadata.namespace = pool.get(metadata.namespace);
  const labels = metadata?.labels;
  if (labels) {
    for (const key of Object.keys(labels)) labels[key] = pool.get(labels[key]!);
    // All the users of one syncer carry the same labels.
    if (Object.values(labels).every((value) => typeof value === 'string')) metadata.labels = pool.shared(labels);
  }
  const spec = (object as { spec?: Record<string, unknown> }).spec;
  if (!spec || typeof spec !== 'object') return;
  for (const field of SHARED_SPEC_FIELDS) {
    const value = spec[field];
    if (typeof value === 'string') spec[field] = pool.get(value);
    else if (Array.isArray(value)) {
      const items = value.map((item: unknown) => (typeof item === 'string' ? pool.get(item) : item));
      // Most members are in one department or a few, so most lists of groups repeat.
      spec[field] = items.every((item) => typeof item === 'string') ? pool.shared(items as string[]) : items;
    }
  }
  for (const field of SAME_VALUE_FIELDS) if (spec[field] === spec['name']) spec[field] = spec['name'];
}
