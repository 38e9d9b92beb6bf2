import type { KubernetesObject } from '@kubernetes/client-node';

/** Which page of a list to fetch. */
export interface ListOptions {
  /** The most items a page may hold. */
  readonly limit: number;
  /** The token of the previous page's `continue`, absent for the first page. */
  readonly continue?: string;
}

/** One page of a list. */
export interface ListPage {
  readonly items: readonly KubernetesObject[];
  /** The list's resourceVersion: a watch from it misses nothing that happened after the list. */
  readonly resourceVersion: string;
  /** Present when more pages follow. */
  readonly continue?: string;
}

/** A change seen by a watch, or a bookmark that only moves the resourceVersion forward. */
export type WatchEvent =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: KubernetesObject }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string };

/** Ends a watch; its `onDone` may still be called after this, and is then ignored by the informer. */
export interface WatchHandle {
  abort(): void;
}

/**
 * Lists and watches one kind of object, with its namespace and selectors already decided. An informer is built
 * on one of these; `kubeListWatch` makes one from a KubeConfig, tests make their own.
 */
export interface ListWatch {
  /** Fetches one page; rejects with {@link ResourceExpiredError} when the `continue` token has expired. */
  list(options: ListOptions): Promise<ListPage>;
  /**
   * Watches from `resourceVersion`. `onDone` is called once when the watch ends: with nothing when the server or
   * an idle timeout closed it, with {@link ResourceExpiredError} when that resourceVersion is too old (410 Gone),
   * or with any other error.
   */
  watch(resourceVersion: string, onEvent: (event: WatchEvent) => void, onDone: (err?: unknown) => void): WatchHandle;
}

/** The API server no longer has the history asked for (HTTP 410 Gone): only a fresh list can continue. */
export class ResourceExpiredError extends Error {
  override name = 'ResourceExpiredError';
}
