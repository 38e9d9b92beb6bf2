import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/group.ts';

/**
 * Writes the status of a casdoor.org object (a WeComSyncer, a CasdoorServer) of
 * `plural` with a merge patch of the status subresource. The whole status is
 * sent, computed in one place, so no read is needed first; null removes a field.
 */
export function kubeStatusWriter<S extends object>(kc: KubeConfig, plural: string): (object: { metadata: { name: string; namespace?: string } }, status: S) => Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return async (syncer, status) => {
    await api.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: syncer.metadata.namespace ?? 'default',
        plural,
        name: syncer.metadata.name,
        body: { status },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  };
}
