/** A seeded pseudo-random generator: the same seed gives the same sequence. */
export interface Prng {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T;
}

/**
 * A small xorshift generator (32-bit state, scrambled output). Not for cryptography;
 * only so generated organizations repeat from run to run.
 */
export function createPrng(seed: number): Prng {
  // A zero state would stay zero forever.
  let state = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x6d2b79f5) >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return Math.imul(state, 0x2545f491) >>> 0;
  };
  const prng: Prng = {
    next: () => next() / 2 ** 32,
    int: (n) => Math.floor(prng.next() * n),
    pick: <T>(list: readonly T[]): T => {
      const item = list[prng.int(list.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
  };
  return prng;
}
