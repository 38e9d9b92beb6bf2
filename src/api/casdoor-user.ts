import type { ObjectMeta } from './group.ts';

export const CASDOOR_USER_KIND = 'CasdoorUser';
export const CASDOOR_USER_PLURAL = 'casdoorusers';

/**
 * The spec of a CasdoorUser. Field names are those of Casdoor's own user
 * object, so a spec can be posted to Casdoor as is. Optional fields are
 * omitted, never empty strings, when WeCom does not return them.
 */
export interface CasdoorUserSpec {
  /** The Casdoor organization. */
  owner: string;
  /** The user name in Casdoor: the WeCom userid when Casdoor accepts it, else derived from it. */
  name: string;
  /** The WeCom userid. */
  id: string;
  /** The WeCom provider binding: the userid. */
  wecom: string;
  displayName?: string;
  email?: string;
  /** National digits, as Casdoor stores them. */
  phone?: string;
  /** The phone's region (ISO 3166), with `phone` when the number is valid. */
  countryCode?: string;
  avatar?: string;
  title?: string;
  gender?: 'Male' | 'Female';
  isForbidden: boolean;
  /** Casdoor group ids `<organization>/<department id>`, in WeCom's order. */
  groups?: string[];
}

export interface CasdoorUser {
  apiVersion: string;
  kind: typeof CASDOOR_USER_KIND;
  metadata: ObjectMeta;
  spec: CasdoorUserSpec;
}
