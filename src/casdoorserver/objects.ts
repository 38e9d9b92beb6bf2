import type { RemoteGroup, RemoteUser } from '../casdoor/client.ts';
import { shortDigest } from '../shared/digest.ts';

/** The property that marks what a CasdoorServer manages in Casdoor: its value names the namespace and server. */
export const MANAGED_BY_PROPERTY = 'casdoor.org/managed-by';

/**
 * The fields of a Casdoor user a comparison reads: every field a CasdoorUser's
 * spec may hold (the CRD admits no other), and the properties that carry the mark.
 */
export const USER_FIELDS: readonly string[] = ['id', 'wecom', 'displayName', 'email', 'phone', 'countryCode', 'avatar', 'title', 'gender', 'isForbidden', 'groups', 'properties'];

/** Which kind of Casdoor object. */
export type PushKind = 'CasdoorUser' | 'CasdoorGroup';

/** A selected CasdoorUser or CasdoorGroup, as the push needs it. */
export interface SelectedObject {
  kind: PushKind;
  /** The object's name in Kubernetes. */
  name: string;
  uid?: string;
  resourceVersion?: string;
  /** Casdoor's field names; `owner` and `name` identify the object in Casdoor. */
  spec: Record<string, unknown>;
  /** {@link specFingerprint} of the spec, when the cache computed it once for this version. */
  specFingerprint?: string;
}

/** The mark of the server `namespace/name`. */
export function markOf(namespace: string, server: string): string {
  return `${namespace}/${server}`;
}

/** `owner/name`: how Casdoor identifies a user or group. */
export function remoteKey(spec: { owner?: unknown; name?: unknown }): string {
  return `${String(spec.owner)}/${String(spec.name)}`;
}

/** Who manages a Casdoor object: this server, another one (its mark), or nobody. */
export function managerOf(remote: RemoteUser | RemoteGroup): string | undefined {
  const value = remote.properties?.[MANAGED_BY_PROPERTY];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The columns an update of a user writes: every field of the spec but its identity. */
export function userColumns(spec: Record<string, unknown>): string[] {
  return Object.keys(spec).filter((field) => field !== 'owner' && field !== 'name');
}

/** A new user: the spec's fields, and the mark. */
export function newUser(spec: Record<string, unknown>, mark: string): RemoteUser {
  return { ...spec, owner: String(spec['owner']), name: String(spec['name']), properties: { [MANAGED_BY_PROPERTY]: mark } };
}

/**
 * A group as update-group must receive it, whole (it overwrites every column):
 * what Casdoor holds, the spec's fields over it, and the mark among its properties.
 */
export function groupToWrite(spec: Record<string, unknown>, mark: string, remote?: RemoteGroup): RemoteGroup {
  return { ...remote, ...spec, owner: String(spec['owner']), name: String(spec['name']), properties: { ...remote?.properties, [MANAGED_BY_PROPERTY]: mark } };
}

/**
 * Whether Casdoor holds every field the spec holds, as the spec holds it.
 * Fields absent from the spec are not compared: they are Casdoor's (a
 * password, MFA, roles) or stripped by WeCom's privacy rules, never blanked.
 */
export function fieldsInSync(spec: Record<string, unknown>, remote: Record<string, unknown>): boolean {
  for (const [field, wanted] of Object.entries(spec)) {
    if (!sameValue(wanted, remote[field])) return false;
  }
  return true;
}

function sameValue(wanted: unknown, held: unknown): boolean {
  if (Array.isArray(wanted)) {
    const list = Array.isArray(held) ? held : [];
    return wanted.length === list.length && wanted.every((item, i) => item === list[i]);
  }
  if (typeof wanted === 'boolean') return wanted === (held ?? false);
  if (typeof wanted === 'string') return wanted === (held ?? '');
  return wanted === held;
}

/** The fingerprint of an object's spec: the cached one, or computed now. */
export function fingerprintOf(object: Pick<SelectedObject, 'spec' | 'specFingerprint'>): string {
  return object.specFingerprint ?? specFingerprint(object.spec);
}

/** A digest of a spec: whether an object changed since it was last written. */
export function specFingerprint(spec: Record<string, unknown>): string {
  const fields = Object.keys(spec).sort().map((field) => [field, spec[field]]);
  return shortDigest(JSON.stringify(fields));
}
