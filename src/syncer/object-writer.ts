import { ApiException, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { CASDOOR_GROUP_PLURAL } from '../api/casdoor-group.ts';
import { CASDOOR_USER_KIND, CASDOOR_USER_PLURAL } from '../api/casdoor-user.ts';
import { ANNOTATION_REMOVED_FROM_SOURCE, API_VERSION, FIELD_MANAGER, GROUP, LABEL_ORGANIZATION, VERSION } from '../api/group.ts';
import type { DesiredObject, ManagedKind } from './desired.ts';

/** Writes the objects a sync plans. Each method is idempotent and retries what a retry can fix. */
export interface ObjectWriter {
  create(namespace: string, object: DesiredObject): Promise<void>;
  /** Creates the object unless one of its name exists; then returns false and leaves that one as it is. */
  createNew(namespace: string, object: DesiredObject): Promise<boolean>;
  update(namespace: string, object: DesiredObject): Promise<void>;
  /** Marks an object whose source is gone: isForbidden and the removed-from-source annotation. */
  forbid(namespace: string, kind: ManagedKind, name: string, at: string): Promise<void>;
  delete(namespace: string, kind: ManagedKind, name: string): Promise<void>;
}

/** Optional spec fields per kind: when the desired spec lacks one, the update removes it (merge-patch null). */
const OPTIONAL_FIELDS: Readonly<Record<ManagedKind, readonly string[]>> = {
  CasdoorUser: ['displayName', 'email', 'phone', 'countryCode', 'avatar', 'title', 'gender', 'groups'],
  CasdoorGroup: ['displayName', 'manager'],
};

/** How many times a write is tried when the API server answers 5xx or not at all. */
const MAX_ATTEMPTS = 5;
/**
 * How many times a write is tried while the API server answers 429: it asks to
 * slow down, which is no failure, so a sync waits it out rather than give up.
 */
const MAX_THROTTLED_ATTEMPTS = 30;
const BASE_RETRY_MS = 200;
const MAX_RETRY_MS = 10_000;

function pluralOf(kind: ManagedKind): string {
  return kind === CASDOOR_USER_KIND ? CASDOOR_USER_PLURAL : CASDOOR_GROUP_PLURAL;
}

/** The HTTP status of a client-node error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/**
 * An {@link ObjectWriter} on the Kubernetes API. Creates POST the whole
 * object; updates merge-patch everything the operator owns (optional fields it
 * no longer wants are set to null, so hand-added ones go too). 409 on create
 * becomes an update and 404 on update a create; 429 waits for Retry-After.
 */
export class KubeObjectWriter implements ObjectWriter {
  readonly #api: CustomObjectsApi;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(kc: KubeConfig, sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))) {
    this.#api = kc.makeApiClient(CustomObjectsApi);
    this.#sleep = sleep;
  }

  async create(namespace: string, object: DesiredObject): Promise<void> {
    if (!(await this.createNew(namespace, object))) await this.update(namespace, object);
  }

  async createNew(namespace: string, object: DesiredObject): Promise<boolean> {
    const body = {
      apiVersion: API_VERSION,
      kind: object.kind,
      metadata: { name: object.name, namespace, labels: object.labels, ownerReferences: [object.ownerReference] },
      spec: object.spec,
    };
    try {
      await this.#retrying(() =>
        this.#api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: pluralOf(object.kind), body, fieldManager: FIELD_MANAGER }),
      );
      return true;
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      return false;
    }
  }

  async update(namespace: string, object: DesiredObject): Promise<void> {
    const spec: Record<string, unknown> = { ...object.spec };
    for (const field of OPTIONAL_FIELDS[object.kind]) if (!(field in spec)) spec[field] = null;
    const body = {
      metadata: {
        // The organization label goes when the organization is no longer a valid label value.
        labels: { [LABEL_ORGANIZATION]: null, ...object.labels },
        annotations: { [ANNOTATION_REMOVED_FROM_SOURCE]: null },
        ownerReferences: [object.ownerReference],
      },
      spec,
    };
    try {
      await this.#patch(namespace, object.kind, object.name, body);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      await this.create(namespace, object);
    }
  }

  async forbid(namespace: string, kind: ManagedKind, name: string, at: string): Promise<void> {
    const body = { metadata: { annotations: { [ANNOTATION_REMOVED_FROM_SOURCE]: at } }, spec: { isForbidden: true } };
    try {
      await this.#patch(namespace, kind, name, body);
    } catch (error) {
      if (statusOf(error) !== 404) throw error; // already gone: nothing left to forbid
    }
  }

  async delete(namespace: string, kind: ManagedKind, name: string): Promise<void> {
    try {
      await this.#retrying(() =>
        this.#api.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: pluralOf(kind), name }),
      );
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  #patch(namespace: string, kind: ManagedKind, name: string, body: object): Promise<unknown> {
    return this.#retrying(() =>
      this.#api.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace, plural: pluralOf(kind), name, body, fieldManager: FIELD_MANAGER },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  /**
   * Retries 429 (after Retry-After plus jitter, so the writers of a sync do not
   * come back in step and get refused together again), 5xx and network errors
   * with backoff; anything else throws at once.
   */
  async #retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const status = statusOf(error);
        const retryable = status === undefined || status === 429 || status >= 500;
        if (!retryable || attempt >= (status === 429 ? MAX_THROTTLED_ATTEMPTS : MAX_ATTEMPTS)) throw error;
        const retryAfter = error instanceof ApiException ? Number(error.headers['retry-after']) : Number.NaN;
        const backoff = Math.min(MAX_RETRY_MS, BASE_RETRY_MS * 2 ** (attempt - 1));
        await this.#sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 + Math.random() * backoff : backoff * (0.5 + Math.random() / 2));
      }
    }
  }
}
