/**
 * A guard's limit out of `count` objects: a count as is, a percentage of them
 * rounded up (like maxSurge), so at least 1 when any exist. For a WeComSyncer's
 * maxRemovals and a CasdoorServer's maxDeletions.
 */
export function removalLimit(limit: number | string, count: number): number {
  if (typeof limit === 'number') return limit;
  const percent = /^(\d+)%$/.exec(limit);
  if (percent) return Math.ceil((Number(percent[1]) * count) / 100);
  const plain = Number(limit);
  if (Number.isInteger(plain) && plain >= 0) return plain;
  throw new Error(`"${limit}" is neither a count nor a percentage`);
}
