// The names a CasdoorServer's state gives the objects it tracks, in Kubernetes and in Casdoor.
import type { PushKind } from './objects.ts';

const GROUP_REF = 'CasdoorGroup/';
/** What starts the `remoteRef` of a group. */
export const GROUP_REMOTE_REF = 'CasdoorGroup:';

/**
 * How the state names a selected object: a user by its name alone, a group as `CasdoorGroup/name`.
 * Kubernetes names hold no slash, so the two never meet, and a user's ref is its cached name itself:
 * the state's maps hold no string of their own per user (each copy is about 5 MB at 100,000 users).
 */
export function objectRef(kind: PushKind, name: string): string {
  return kind === 'CasdoorUser' ? name : `${GROUP_REF}${name}`;
}

/** The kind and name of an `objectRef`. */
export function splitRef(ref: string): [PushKind, string] {
  return ref.startsWith(GROUP_REF) ? ['CasdoorGroup', ref.slice(GROUP_REF.length)] : ['CasdoorUser', ref];
}

/** The kind of an `objectRef`. */
export function refKind(ref: string): PushKind {
  return ref.startsWith(GROUP_REF) ? 'CasdoorGroup' : 'CasdoorUser';
}

/** `CasdoorUser name`: an `objectRef` for a message. */
export function describeRef(ref: string): string {
  return splitRef(ref).join(' ');
}

/**
 * How the state names an object in Casdoor: a user by its `owner/name` key alone, a group as
 * `CasdoorGroup:owner/name`. An owner is one of spec.organizations, which hold no colon, so no
 * user's key starts like a group's; and a user's ref is the key the caller passed, not a copy.
 */
export function remoteRef(kind: PushKind, key: string): string {
  return kind === 'CasdoorUser' ? key : `${GROUP_REMOTE_REF}${key}`;
}
