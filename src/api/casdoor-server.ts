import type { ObjectMeta } from './group.ts';
import type { ReconciledStatus } from './wecom-syncer.ts';

export const CASDOOR_SERVER_KIND = 'CasdoorServer';
export const CASDOOR_SERVER_PLURAL = 'casdoorservers';

/** What happens to a user or group already in Casdoor that this server did not create. */
export const ExistingPolicy = {
  Skip: 'Skip',
  Adopt: 'Adopt',
} as const;
export type ExistingPolicy = (typeof ExistingPolicy)[keyof typeof ExistingPolicy];

/** A Kubernetes label selector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

/** The spec after API-server defaulting. */
export interface CasdoorServerSpec {
  endpoint: string;
  credentialsRef: { name: string; clientIdKey: string; clientSecretKey: string };
  organizations: string[];
  selector?: LabelSelector;
  interval: string;
  existingUsers: ExistingPolicy;
  prune: boolean;
  maxDeletions: number | string;
  suspend: boolean;
}

/** Per kind: the selected objects after the latest writes. */
export interface SelectionCounts {
  selected: number;
  inSync: number;
  failed: number;
  skipped: number;
}

/** What a full comparison wrote. */
export interface PushCounts {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  adopted: number;
  skipped: number;
  failed: number;
  groupsCreated: number;
  groupsUpdated: number;
  groupsDeleted: number;
  groupsFailed: number;
}

/** An object not written, and why. */
export interface PushFailure {
  kind: string;
  name: string;
  reason: string;
}

export interface CasdoorServerStatus extends ReconciledStatus {
  /** "inSync/selected" users, for the printer column. */
  usersInSync?: string;
  users?: SelectionCounts;
  groups?: SelectionCounts;
  lastSync?: PushCounts;
  failures?: PushFailure[];
}

export interface CasdoorServer {
  apiVersion: string;
  kind: typeof CASDOOR_SERVER_KIND;
  metadata: ObjectMeta;
  spec: CasdoorServerSpec;
  status?: CasdoorServerStatus;
}
