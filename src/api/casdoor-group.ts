import type { ObjectMeta } from './group.ts';

export const CASDOOR_GROUP_KIND = 'CasdoorGroup';
export const CASDOOR_GROUP_PLURAL = 'casdoorgroups';

/** The spec of a CasdoorGroup: one WeCom department, in Casdoor's group field names. */
export interface CasdoorGroupSpec {
  /** The Casdoor organization. */
  owner: string;
  /** The WeCom department id, as a string. */
  name: string;
  displayName: string;
  /** The parent department's id; for a top group, the organization name. */
  parentId: string;
  isTopGroup: boolean;
  type: 'Physical';
  /** The first department leader's userid, when WeCom returns one. */
  manager?: string;
}

export interface CasdoorGroup {
  apiVersion: string;
  kind: typeof CASDOOR_GROUP_KIND;
  metadata: ObjectMeta;
  spec: CasdoorGroupSpec;
}
