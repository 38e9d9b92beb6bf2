// Builders for the syncer's pure modules: a WeComSyncer as the API server
// defaults it, and desired and stored objects for plans, without a cluster.
import { CASDOOR_USER_KIND, type CasdoorUserSpec } from '../../src/api/casdoor-user.ts';
import { LABEL_SYNCER } from '../../src/api/group.ts';
import type { WeComSyncer, WeComSyncerSpec, WeComSyncerStatus } from '../../src/api/wecom-syncer.ts';
import type { DesiredObject } from '../../src/syncer/desired.ts';
import type { StoredObject } from '../../src/syncer/stored.ts';

/** A WeComSyncer `acme` with every defaulted field present; `spec` and `status` are merged over the defaults. */
export function makeSyncer(
  options: { spec?: Partial<WeComSyncerSpec>; status?: WeComSyncerStatus; generation?: number; uid?: string; annotations?: Record<string, string> } = {},
): WeComSyncer {
  return {
    apiVersion: 'casdoor.org/v1alpha1',
    kind: 'WeComSyncer',
    metadata: {
      name: 'acme',
      namespace: 'casdoor',
      uid: options.uid ?? 'uid-acme',
      generation: options.generation ?? 1,
      ...(options.annotations && { annotations: options.annotations }),
    },
    spec: {
      organization: 'acme',
      corpId: 'ww0123456789abcdef',
      corpSecretRef: { name: 'acme-wecom', key: 'corpSecret' },
      interval: '1h',
      suspend: false,
      apiURL: 'https://qyapi.weixin.qq.com',
      removedUsers: 'Forbid',
      syncGroups: true,
      maxRemovals: '10%',
      ...options.spec,
    },
    ...(options.status && { status: options.status }),
  };
}

/** A desired CasdoorUser named `name`; only name, kind, spec and fingerprint matter to a plan. */
export function desiredUser(name: string, fingerprint = `fp-${name}`, spec: Partial<CasdoorUserSpec> = {}): DesiredObject {
  return {
    kind: CASDOOR_USER_KIND,
    name,
    labels: { [LABEL_SYNCER]: 'acme' },
    ownerReference: { apiVersion: 'casdoor.org/v1alpha1', kind: 'WeComSyncer', name: 'acme', uid: 'uid-acme', controller: true },
    spec: { owner: 'acme', name, id: name, wecom: name, isForbidden: false, ...spec },
    fingerprint,
    isForbidden: spec.isForbidden ?? false,
  };
}

/** A stored CasdoorUser digest named `name`. */
export function storedUser(name: string, options: { fingerprint?: string; isForbidden?: boolean; removed?: boolean } = {}): StoredObject {
  return {
    metadata: { name, namespace: 'casdoor', resourceVersion: '1', labels: { [LABEL_SYNCER]: 'acme' } },
    spec: {},
    fingerprint: options.fingerprint ?? `fp-${name}`,
    isForbidden: options.isForbidden ?? false,
    removed: options.removed ?? false,
  };
}

/** A map by name, the shape plans take. */
export function byName<T extends DesiredObject | StoredObject>(objects: readonly T[]): Map<string, T> {
  return new Map(objects.map((o): [string, T] => ['metadata' in o ? o.metadata.name : o.name, o]));
}
