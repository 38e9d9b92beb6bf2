/** API group and version of every kind this operator serves. */
export const GROUP = 'casdoor.org';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Labels and annotations the operator reads or writes. */
export const LABEL_SYNCER = 'casdoor.org/syncer';
export const LABEL_ORGANIZATION = 'casdoor.org/organization';
export const ANNOTATION_SYNC_REQUESTED_AT = 'casdoor.org/sync-requested-at';
/** Set by the event receiver when WeCom sent a verified contact-change event: the time it came. */
export const ANNOTATION_EVENT_RECEIVED_AT = 'casdoor.org/event-received-at';
export const ANNOTATION_REMOVED_FROM_SOURCE = 'casdoor.org/removed-from-source';
/** On a Secret: the origins its owner allows its values to be sent to (comma-separated). */
export const ANNOTATION_ALLOWED_URLS = 'casdoor.org/allowed-urls';

/** The kind name in ownerReferences to a WeComSyncer. */
export const WECOM_SYNCER_KIND_REF = 'WeComSyncer';

/** The field manager of every write the operator makes. */
export const FIELD_MANAGER = 'wecom-syncer';

/** The subset of ObjectMeta the operator reads and writes. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}
