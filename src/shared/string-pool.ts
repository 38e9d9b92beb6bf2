import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * One copy of each string that many objects repeat. JSON.parse gives every
 * object its own copies of its namespace, its labels, its organization, its
 * groups and its title: together about 250 bytes per cached CasdoorUser, 25 MB
 * at 100,000. Bounded: past `limit` distinct strings, new ones stay as they came.
 */
export class StringPool {
  readonly #strings = new Map<string, string>();
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
}

const MAX_POOLED_CHARS = 128;

/** Spec fields whose values many objects share: an organization, a country, a gender, a title, groups, a type. */
const SHARED_SPEC_FIELDS: readonly string[] = ['owner', 'countryCode', 'gender', 'title', 'groups', 'type', 'parentId'];
/** Spec fields that usually hold one value: a WeCom userid is its id and its Casdoor name. */
const SAME_VALUE_FIELDS: readonly string[] = ['id', 'wecom'];

/**
 * Makes a freshly parsed CasdoorUser or CasdoorGroup share its repeated
 * strings with the pool (values are equal, only copies go), before a cache
 * keeps it. The object must be the caller's own: it is changed in place.
 */
export function shareStrings(object: KubernetesObject, pool: StringPool): void {
  const metadata = object.metadata;
  if (metadata?.namespace) metadata.namespace = pool.get(metadata.namespace);
  const labels = metadata?.labels;
  if (labels) for (const key of Object.keys(labels)) labels[key] = pool.get(labels[key]!);
  const spec = (object as { spec?: Record<string, unknown> }).spec;
  if (!spec || typeof spec !== 'object') return;
  for (const field of SHARED_SPEC_FIELDS) {
    const value = spec[field];
    if (typeof value === 'string') spec[field] = pool.get(value);
    else if (Array.isArray(value)) spec[field] = value.map((item: unknown) => (typeof item === 'string' ? pool.get(item) : item));
  }
  for (const field of SAME_VALUE_FIELDS) if (spec[field] === spec['name']) spec[field] = spec['name'];
}
