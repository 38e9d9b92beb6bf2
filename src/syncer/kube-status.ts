import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/group.ts';
import { WECOM_SYNCER_PLURAL, type WeComSyncer, type WeComSyncerStatus } from '../api/wecom-syncer.ts';

/**
 * Writes a WeComSyncer's status with a merge patch of the status subresource.
 * The whole status is sent, computed in one place, so no read is needed first.
 */
export function kubeStatusWriter(kc: KubeConfig): (syncer: WeComSyncer, status: WeComSyncerStatus) => Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return async (syncer, status) => {
    await api.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: syncer.metadata.namespace ?? 'default',
        plural: WECOM_SYNCER_PLURAL,
        name: syncer.metadata.name,
        body: { status },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  };
}
