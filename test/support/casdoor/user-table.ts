// The stand-in Casdoor's users, indexed as Casdoor's database indexes them, so
// that a benchmark of 100,000 users costs the stand-in O(1) per write rather
// than a scan of every user (which made it the slowest part of a 100,000-user
// run: 100,000 adds, each checking every email and phone of the organization).
import type { Row } from './store.ts';

/** Users by `owner/name`, in creation order, with per-organization lookups by id, email and phone. */
export class UserTable {
  readonly #rows = new Map<string, Row>();
  readonly #byOwner = new Map<string, Map<string, Row>>();
  /** Per organization, built on first read after a change: get-users pages through it. */
  readonly #listed = new Map<string, Row[]>();
  readonly #unique = new Map<string, string>();

  get size(): number {
    return this.#rows.size;
  }

  get(key: string): Row | undefined {
    return this.#rows.get(key);
  }

  has(key: string): boolean {
    return this.#rows.has(key);
  }

  /** Adds or replaces the row of `key` (`owner/name`). */
  set(key: string, row: Row): void {
    const owner = String(row['owner']);
    const old = this.#rows.get(key);
    if (old) this.#unindex(key, old);
    this.#rows.set(key, row);
    let rows = this.#byOwner.get(owner);
    if (!rows) this.#byOwner.set(owner, (rows = new Map()));
    rows.set(key, row);
    for (const lookup of lookups(row)) this.#unique.set(lookup, key);
    this.#listed.delete(owner);
  }

  delete(key: string): boolean {
    const old = this.#rows.get(key);
    if (!old) return false;
    this.#unindex(key, old);
    this.#rows.delete(key);
    this.#byOwner.get(String(old['owner']))?.delete(key);
    this.#listed.delete(String(old['owner']));
    return true;
  }

  /** The users of an organization, in creation order. */
  ofOwner(owner: string): Row[] {
    let listed = this.#listed.get(owner);
    if (!listed) this.#listed.set(owner, (listed = [...(this.#byOwner.get(owner)?.values() ?? [])]));
    return listed;
  }

  /** The key of the user of `owner` whose `field` (id, email, phone) is `value`; a phone with its country code. */
  keyOf(owner: string, field: 'id' | 'email' | 'phone', value: string, countryCode = ''): string | undefined {
    return this.#unique.get(lookupKey(owner, field, field === 'phone' ? `${countryCode} ${value}` : value));
  }

  #unindex(key: string, row: Row): void {
    for (const lookup of lookups(row)) if (this.#unique.get(lookup) === key) this.#unique.delete(lookup);
  }
}

function lookupKey(owner: string, field: string, value: string): string {
  return `${owner}\u0000${field}\u0000${value}`;
}

/** The lookups a row answers: its id, email and phone within its organization, where set. */
function lookups(row: Row): string[] {
  const owner = String(row['owner']);
  const out: string[] = [];
  for (const field of ['id', 'email'] as const) if (row[field]) out.push(lookupKey(owner, field, String(row[field])));
  if (row['phone']) out.push(lookupKey(owner, 'phone', `${String(row['countryCode'] ?? '')} ${String(row['phone'])}`));
  return out;
}
