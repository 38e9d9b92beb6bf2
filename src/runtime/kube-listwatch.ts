import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { toError } from './errors.ts';
import { KubeWatch, type Watcher } from './kube-watch.ts';
import { type ListOptions, type ListPage, type ListWatch, ResourceExpiredError, type WatchEvent, type WatchHandle } from './listwatch.ts';

/** A custom resource type, named the way its REST path is built. */
export interface CustomResource {
  readonly group: string;
  readonly version: string;
  /** The lower-case plural, e.g. `casdoorusers`. */
  readonly plural: string;
}

/** Which objects of the resource to list and watch. */
export interface KubeListWatchOptions {
  /** Only this namespace; all namespaces when absent. */
  readonly namespace?: string;
  /** A label selector such as `app.kubernetes.io/managed-by=wecom-syncer`. */
  readonly labelSelector?: string;
  /** Asks the server to close each watch after this long, so connections are renewed. Default 300. */
  readonly watchTimeoutSeconds?: number;
}

/** The subset of client-node's `CustomObjectsApi` this module uses. */
export type CustomObjectsLister = Pick<CustomObjectsApi, 'listClusterCustomObject' | 'listNamespacedCustomObject'>;

const HTTP_GONE = 410;
const DEFAULT_WATCH_TIMEOUT_SECONDS = 300;

/** The REST path of a resource's collection: `/apis/{group}/{version}[/namespaces/{namespace}]/{plural}`. */
export function resourcePath(resource: CustomResource, namespace?: string): string {
  const scope = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `/apis/${resource.group}/${resource.version}${scope}/${resource.plural}`;
}

/**
 * Lists (paged, through client-node) and watches ({@link KubeWatch}) a custom resource, for an {@link Informer}.
 * Watches ask for bookmarks so that a resumed watch starts from a recent resourceVersion; a 410 Gone, as an
 * HTTP status or as a watch ERROR event, becomes a {@link ResourceExpiredError}; the watch's idle timeout
 * counts as a normal close.
 */
export function kubeListWatch(kc: KubeConfig, resource: CustomResource, options: KubeListWatchOptions = {}): ListWatch {
  return listWatchVia(kc.makeApiClient(CustomObjectsApi), new KubeWatch(kc), resource, options);
}

/** {@link kubeListWatch} with its list client and watch transport passed in. */
export function listWatchVia(
  api: CustomObjectsLister,
  watcher: Watcher,
  resource: CustomResource,
  options: KubeListWatchOptions = {},
): ListWatch {
  const path = resourcePath(resource, options.namespace);
  return {
    async list(page: ListOptions): Promise<ListPage> {
      const query = {
        group: resource.group,
        version: resource.version,
        plural: resource.plural,
        limit: page.limit,
        ...(page.continue ? { _continue: page.continue } : {}),
        ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      };
      let body: unknown;
      try {
        body = options.namespace
          ? await api.listNamespacedCustomObject({ ...query, namespace: options.namespace })
          : await api.listClusterCustomObject(query);
      } catch (err) {
        throw classify(err, `list ${path}`);
      }
      return parseListPage(body, path);
    },

    watch(resourceVersion, onEvent, onDone): WatchHandle {
      let ended = false;
      let connection: AbortController | undefined;
      const end = (err: unknown): void => {
        if (ended) return;
        ended = true;
        connection?.abort();
        onDone(err);
      };
      const query = {
        allowWatchBookmarks: true,
        resourceVersion,
        timeoutSeconds: options.watchTimeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_SECONDS,
        ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      };
      const onPhase = (phase: string, object: unknown): void => {
        if (ended) return;
        const event = toWatchEvent(phase, object, path);
        if (event instanceof Error) end(event);
        else if (event !== undefined) onEvent(event);
      };
      const onClosed = (err: unknown): void => end(closeReason(err, path));
      watcher.watch(path, query, onPhase, onClosed).then(
        (controller) => {
          connection = controller;
          if (ended) controller.abort();
        },
        (err: unknown) => end(classify(err, `watch ${path}`)),
      );
      return {
        abort(): void {
          ended = true;
          connection?.abort();
        },
      };
    },
  };
}

/** Turns one raw watch line into an event, an error to end the watch with, or undefined to skip it. */
function toWatchEvent(phase: string, object: unknown, path: string): WatchEvent | Error | undefined {
  switch (phase) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      return isKubernetesObject(object) ? { type: phase, object } : undefined;
    case 'BOOKMARK': {
      const resourceVersion = isKubernetesObject(object) ? object.metadata?.resourceVersion : undefined;
      return resourceVersion ? { type: 'BOOKMARK', resourceVersion } : undefined;
    }
    case 'ERROR': {
      const status = isRecord(object) ? object : {};
      const message = typeof status.message === 'string' ? status.message : 'unknown error';
      if (status.code === HTTP_GONE) return new ResourceExpiredError(`watch ${path}: ${message}`, { cause: object });
      return new Error(`watch ${path}: server sent an error: ${message}`, { cause: object });
    }
    default:
      return undefined;
  }
}

/** Why the transport ended a watch: undefined for a normal close or the idle timeout, else an error. */
function closeReason(err: unknown, path: string): Error | undefined {
  if (err === null || err === undefined) return undefined;
  // The transport aborts a watch that received nothing for 30 s; with bookmarks on, that is just a quiet resource.
  if (err instanceof Error && err.name === 'TimeoutError') return undefined;
  return classify(err, `watch ${path}`);
}

/** Wraps a list's or watch's error, keeping 410 Gone recognisable. */
function classify(err: unknown, what: string): Error {
  const message = `${what} failed: ${toError(err).message}`;
  return statusCodeOf(err) === HTTP_GONE ? new ResourceExpiredError(message, { cause: err }) : new Error(message, { cause: err });
}

/** The HTTP status of an error: `code` on client-node's ApiException, `statusCode` on a refused watch. */
function statusCodeOf(err: unknown): number | undefined {
  if (!isRecord(err)) return undefined;
  const code = err.code ?? err.statusCode;
  return typeof code === 'number' ? code : undefined;
}

function parseListPage(body: unknown, path: string): ListPage {
  if (!isRecord(body) || !Array.isArray(body.items)) throw new Error(`list ${path}: the response is not a list`);
  const metadata = isRecord(body.metadata) ? body.metadata : {};
  const items: unknown[] = body.items;
  return {
    items: items.filter(isKubernetesObject),
    resourceVersion: typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : '',
    ...(typeof metadata.continue === 'string' && metadata.continue !== '' ? { continue: metadata.continue } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isKubernetesObject(value: unknown): value is KubernetesObject {
  return isRecord(value) && (value.metadata === undefined || isRecord(value.metadata));
}
