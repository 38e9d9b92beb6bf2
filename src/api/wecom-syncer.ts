import type { ObjectMeta } from './group.ts';

export const WECOM_SYNCER_KIND = 'WeComSyncer';
export const WECOM_SYNCER_PLURAL = 'wecomsyncers';

/** A key in a Secret of the syncer's own namespace. */
export interface SecretKeyRef {
  name: string;
  key: string;
}

/** What happens to a CasdoorUser whose member is no longer in WeCom. */
export const RemovedUsersPolicy = {
  Forbid: 'Forbid',
  Delete: 'Delete',
  Keep: 'Keep',
} as const;
export type RemovedUsersPolicy = (typeof RemovedUsersPolicy)[keyof typeof RemovedUsersPolicy];

/** The spec after API-server defaulting: every defaulted field is present. */
export interface WeComSyncerSpec {
  organization: string;
  corpId: string;
  corpSecretRef: SecretKeyRef;
  contactsSecretRef?: SecretKeyRef;
  interval: string;
  suspend: boolean;
  apiURL: string;
  removedUsers: RemovedUsersPolicy;
  syncGroups: boolean;
  maxRemovals: number | string;
  /** WeCom's contact-change events, received by the operator. */
  callback?: CallbackSpec;
}

/** The event receiver's Token and EncodingAESKey, as set in WeCom's admin console. */
export interface CallbackSpec {
  tokenRef: SecretKeyRef;
  encodingAESKeyRef: SecretKeyRef;
}

/** What the event receiver of a syncer has seen. */
export interface CallbackStatus {
  /** Where WeCom must send events: derived from the Token, the namespace and the name. */
  path?: string;
  eventsReceived?: number;
  lastEventTime?: string;
  /** The casdoor.org/event-received-at value that the last finished sync answered. */
  lastHandledEvent?: string;
}

/** A metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface SyncCounts {
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
  failed: number;
  groupsCreated?: number;
  groupsUpdated?: number;
  groupsRemoved?: number;
  groupsFailed?: number;
}

/** What the status of a WeComSyncer and of a CasdoorServer both hold. */
export interface ReconciledStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  lastSyncTime?: string;
  lastSuccessfulSyncTime?: string;
  nextSyncTime?: string;
  lastHandledSyncRequest?: string;
  /** While stalled on credentials: a salted digest of the inputs that failed, never a value. Null removes it. */
  failedInputsDigest?: string | null;
}

export interface WeComSyncerStatus extends ReconciledStatus {
  departments?: number;
  users?: { total: number; active: number; forbidden: number };
  lastSync?: SyncCounts;
  /** Null removes it (merge patch), once spec.callback is gone. */
  callback?: CallbackStatus | null;
}

export interface WeComSyncer {
  apiVersion: string;
  kind: typeof WECOM_SYNCER_KIND;
  metadata: ObjectMeta;
  spec: WeComSyncerSpec;
  status?: WeComSyncerStatus;
}
