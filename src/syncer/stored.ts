import type { KubernetesObject } from '@kubernetes/client-node';
import { ANNOTATION_REMOVED_FROM_SOURCE, LABEL_ORGANIZATION, LABEL_SYNCER } from '../api/group.ts';
import { fingerprint } from './desired.ts';

/**
 * What the operator keeps in memory of each CasdoorUser or CasdoorGroup it
 * owns: a digest instead of the object, so 50,000 users cost a few MB.
 */
export interface StoredObject extends KubernetesObject {
  metadata: {
    name: string;
    namespace: string;
    resourceVersion: string;
    uid?: string | undefined;
    /** The object's own labels (shared by the cache's objects); a syncer's carry {@link LABEL_SYNCER}. */
    labels: Readonly<Record<string, string>>;
  };
  /**
   * The spec as stored. An object edited by hand is put back from its last
   * version that matched its sync; the cache holds the spec anyway (the
   * CasdoorServer pushes it), so keeping a reference costs nothing.
   */
  spec: Record<string, unknown>;
  /** {@link fingerprint} of the stored content. */
  fingerprint: string;
  isForbidden: boolean;
  /** The object carries the removed-from-source annotation. */
  removed: boolean;
}

/** The labels of an object without any: one frozen object, not one each. */
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** Reduces a stored CasdoorUser or CasdoorGroup to a {@link StoredObject}; the informer's transform. */
export function toStoredObject(object: KubernetesObject): StoredObject {
  const metadata = object.metadata ?? {};
  const labels = metadata.labels ?? NO_LABELS;
  const spec = (object as { spec?: Record<string, unknown> }).spec ?? {};
  const ownLabels: Record<string, string> = {};
  for (const key of [LABEL_ORGANIZATION, LABEL_SYNCER]) if (labels[key] !== undefined) ownLabels[key] = labels[key];
  const removed = metadata.annotations?.[ANNOTATION_REMOVED_FROM_SOURCE] !== undefined;
  const owner = metadata.ownerReferences?.find((reference) => reference.controller);
  return {
    metadata: {
      name: metadata.name ?? '',
      namespace: metadata.namespace ?? '',
      resourceVersion: metadata.resourceVersion ?? '',
      uid: metadata.uid,
      // The object's own labels: the cache shares them among its users.
      labels,
    },
    spec,
    fingerprint: fingerprint({ spec, labels: ownLabels, removed, ownerUid: owner?.uid }),
    isForbidden: spec.isForbidden === true,
    removed,
  };
}
