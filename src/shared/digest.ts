import { hash } from 'node:crypto';

/**
 * 128 bits of SHA-256 of `text`, as 22 base64url characters: the fingerprints
 * the caches keep per object. Encoded from a Buffer, not sliced from a longer
 * string: V8 keeps a slice as a view on its parent, which would double what
 * each of 100,000 cached fingerprints costs.
 */
export function shortDigest(text: string): string {
  return hash('sha256', text, 'buffer').toString('base64url', 0, 16);
}
