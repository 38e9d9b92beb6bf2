/** The parts of an object that name it; every Kubernetes object has them. */
export interface Named {
  metadata?: { name?: string; namespace?: string };
}

/** The queue and cache key of an object: `namespace/name`, or `name` when it has no namespace. */
export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** The key of `obj`, or undefined when it has no name (the API server never sends such an object). */
export function objectKey(obj: Named): string | undefined {
  const name = obj.metadata?.name;
  return name ? keyOf(obj.metadata?.namespace, name) : undefined;
}

/** Splits a key built by {@link keyOf}; a key without a slash names a cluster-scoped object. */
export function parseKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
