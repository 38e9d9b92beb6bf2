// Secrets as the tests create them: annotated with the origins their values may
// go to (casdoor.org/allowed-urls), as a user must for a proxy, a simulator or Casdoor.
import type { TestCluster } from './cluster.ts';

/** The manifest of a Secret with `data` as stringData, allowed to go to `allowedURLs` (none when empty). */
export function secretManifest(namespace: string, name: string, data: Record<string, string>, allowedURLs: readonly string[]): string {
  const annotations = allowedURLs.length > 0 ? { 'casdoor.org/allowed-urls': allowedURLs.join(', ') } : undefined;
  return JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, ...(annotations && { annotations }) }, stringData: data });
}

/** Creates (or replaces) the Secret in one write, so the operator never sees it without its annotation. */
export async function applySecret(cluster: TestCluster, namespace: string, name: string, data: Record<string, string>, allowedURLs: readonly string[]): Promise<void> {
  await cluster.kubectlOk(['apply', '-f', '-'], { input: secretManifest(namespace, name, data, allowedURLs) });
}
