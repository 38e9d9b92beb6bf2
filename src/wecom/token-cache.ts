import { createHash } from 'node:crypto';

/** A token as gettoken issued it. */
export interface IssuedToken {
  accessToken: string;
  /** Lifetime in seconds, as WeCom's `expires_in` says. */
  expiresInSeconds: number;
}

/** Where a token comes from: identifies one cache entry. */
export interface TokenSource {
  apiURL: string;
  corpId: string;
  secret: string;
}

/** Options of a {@link TokenCache}. */
export interface TokenCacheOptions {
  /** Renew this long before expiry; capped at half the lifetime. Default 5 minutes. */
  marginMs?: number;
  /** The clock, injectable for tests. */
  now?: () => number;
}

interface Entry {
  accessToken: string;
  renewAt: number;
}

/**
 * Access tokens per (API URL, corp ID, secret), kept until shortly before they expire.
 * Concurrent callers of the same source share one in-flight gettoken. Keys hold a hash
 * of the secret, never the secret itself.
 */
export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<string>>();
  readonly #marginMs: number;
  readonly #now: () => number;

  constructor(options: TokenCacheOptions = {}) {
    this.#marginMs = options.marginMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** A valid token for the source: the cached one, or the result of `issue` (shared by concurrent callers). */
  async get(source: TokenSource, issue: () => Promise<IssuedToken>): Promise<string> {
    const key = cacheKey(source);
    const entry = this.#entries.get(key);
    if (entry && this.#now() < entry.renewAt) return entry.accessToken;
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const started = this.#now();
    const request = issue()
      .then((issued) => {
        const lifetimeMs = issued.expiresInSeconds * 1000;
        const margin = Math.min(this.#marginMs, lifetimeMs / 2);
        this.#entries.set(key, { accessToken: issued.accessToken, renewAt: started + lifetimeMs - margin });
        return issued.accessToken;
      })
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, request);
    this.#sweep();
    return request;
  }

  /**
   * Forgets the token WeCom rejected (40014, 42001). Only that exact token: when several
   * callers see the same rejection, the first renewal is kept, not thrown away again.
   */
  drop(source: TokenSource, accessToken: string): void {
    const key = cacheKey(source);
    if (this.#entries.get(key)?.accessToken === accessToken) this.#entries.delete(key);
  }

  /** How many tokens are cached, for tests. */
  get size(): number {
    return this.#entries.size;
  }

  /** Removes entries that are due for renewal, so a long-lived cache does not grow. */
  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (now >= entry.renewAt) this.#entries.delete(key);
    }
  }
}

function cacheKey(source: TokenSource): string {
  const secretHash = createHash('sha256').update(source.secret).digest('hex');
  return `${source.apiURL}\u0000${source.corpId}\u0000${secretHash}`;
}
