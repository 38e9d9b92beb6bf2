import { CasdoorError, CasdoorErrorReason, isCasdoorError } from './errors.ts';
import { CasdoorHttp, type CasdoorCall, type CasdoorEnvelope, type CasdoorHttpOptions } from './http.ts';

/** A user as Casdoor holds it: its JSON field names; only the fields a caller reads are typed. */
export interface RemoteUser {
  owner: string;
  name: string;
  properties?: Record<string, string> | null;
  [field: string]: unknown;
}

/** A group as Casdoor holds it. */
export interface RemoteGroup {
  owner: string;
  name: string;
  parentId?: string;
  properties?: Record<string, string> | null;
  [field: string]: unknown;
}

/** How calls are retried. */
export interface CasdoorRetry {
  /** Attempts in all, the first included. Default 5. */
  maxAttempts: number;
  /** The backoff ceiling of the first retry, doubled for each further one. Default 250 ms. */
  baseDelayMs: number;
  /** The highest backoff ceiling. Default 5 s. */
  maxDelayMs: number;
}

/** Options of a {@link CasdoorClient}. */
export interface CasdoorClientOptions extends CasdoorHttpOptions {
  retry?: Partial<CasdoorRetry>;
  /** Told after each HTTP attempt: the endpoint, and `ok` or the error's reason. For metrics. */
  onRequest?: (endpoint: string, outcome: string, seconds: number) => void;
  /** Users per page when listing. Default 500. */
  pageSize?: number;
}

/** Options of {@link CasdoorClient.listUsers}. */
export interface ListOptions {
  signal?: AbortSignal;
  /**
   * The fields to keep of each user (owner and name always), page by page: a
   * real Casdoor user has some 200 fields, and 10,000 of them whole would
   * weigh on the caller's memory. Absent: every field.
   */
  fields?: readonly string[];
  /** With `fields` holding properties: the property keys to keep of it. Absent: all. */
  properties?: readonly string[];
  /**
   * What to keep of each user (after `fields`), as its page arrives: a caller
   * that needs little of most users lets the rest go page by page. Undefined:
   * nothing, and the user is left out of the list.
   */
  reduce?: (user: RemoteUser) => RemoteUser | undefined;
}

/** A user with only the fields (and property keys) asked for. */
function project(user: RemoteUser, keep: ReadonlySet<string>, properties: readonly string[] | undefined): RemoteUser {
  const slim = Object.fromEntries(Object.entries(user).filter(([field]) => keep.has(field))) as RemoteUser;
  if (properties && slim.properties) slim.properties = Object.fromEntries(properties.filter((key) => key in slim.properties!).map((key) => [key, slim.properties![key]!]));
  return slim;
}

/**
 * A client of Casdoor's REST API for one endpoint and one application's
 * client credentials. Knows nothing of Kubernetes. Retries what is transient
 * with backoff (network, 5xx, HTML pages, `database is locked`); throws a
 * {@link CasdoorError} with a reason otherwise. Updates of users always name
 * their columns, so every field not named survives in Casdoor.
 */
export class CasdoorClient {
  readonly #http: CasdoorHttp;
  readonly #retry: CasdoorRetry;
  readonly #onRequest: CasdoorClientOptions['onRequest'];
  readonly #pageSize: number;

  constructor(options: CasdoorClientOptions) {
    this.#http = new CasdoorHttp(options);
    this.#retry = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 5_000, ...options.retry };
    this.#onRequest = options.onRequest;
    this.#pageSize = options.pageSize ?? 500;
  }

  /** The session cookie in use, once Casdoor set one. */
  get session(): string | undefined {
    return this.#http.session;
  }

  /** Whether the organization exists. Needs no credentials in Casdoor; see {@link checkAccess}. */
  async organizationExists(organization: string, signal?: AbortSignal): Promise<boolean> {
    const { data } = await this.#call({ method: 'GET', endpoint: 'get-organization', query: { id: `admin/${organization}` }, ...(signal && { signal }) });
    return isRecord(data) && data['name'] === organization;
  }

  /**
   * Proves the credentials by a read that anonymous callers are refused
   * (the first user of `organization`): throws InvalidCredentials when wrong.
   */
  async checkAccess(organization: string, signal?: AbortSignal): Promise<void> {
    await this.#call({ method: 'GET', endpoint: 'get-users', query: { owner: organization, p: '1', pageSize: '1' }, ...(signal && { signal }) });
  }

  /**
   * Every user of an organization, paged. Casdoor pages only when both `p`
   * and `pageSize` are sent, gives the total in `data2`, and answers a page past
   * the end with the last page again: the pages are counted from the total.
   */
  async listUsers(organization: string, options: ListOptions = {}): Promise<RemoteUser[]> {
    const { signal, fields } = options;
    const keep = fields ? new Set(['owner', 'name', ...fields]) : undefined;
    // By name: a user added while the pages are read shifts the rest, and one may come twice: its last
    // reading counts. Only users kept are held: one that `reduce` drops takes nothing, not even its name.
    const byName = new Map<string, RemoteUser>();
    let total = Number.POSITIVE_INFINITY;
    for (let page = 1; (page - 1) * this.#pageSize < total; page++) {
      const { data, data2 } = await this.#call({
        method: 'GET', endpoint: 'get-users', query: { owner: organization, p: String(page), pageSize: String(this.#pageSize) }, ...(signal && { signal }),
      });
      if (!Array.isArray(data) || typeof data2 !== 'number') throw badShape('get-users', 'a list of users and a total');
      total = data2;
      for (const user of data) {
        if (!isRemoteObject(user)) throw badShape('get-users', 'users with an owner and a name');
        const kept = keep ? project(user, keep, options.properties) : user;
        const reduced = options.reduce ? options.reduce(kept) : kept;
        if (reduced === undefined) byName.delete(user.name);
        else byName.set(user.name, reduced);
      }
      if (data.length === 0) break;
    }
    return [...byName.values()];
  }

  /** Every group of an organization. */
  async listGroups(organization: string, signal?: AbortSignal): Promise<RemoteGroup[]> {
    const { data } = await this.#call({ method: 'GET', endpoint: 'get-groups', query: { owner: organization }, ...(signal && { signal }) });
    if (data === null) return [];
    if (!Array.isArray(data) || !data.every(isRemoteObject)) throw badShape('get-groups', 'a list of groups');
    return data as RemoteGroup[];
  }

  /** One user, or undefined when Casdoor has none of that name. */
  async getUser(owner: string, name: string, signal?: AbortSignal): Promise<RemoteUser | undefined> {
    const { data } = await this.#call({ method: 'GET', endpoint: 'get-user', query: { id: `${owner}/${name}` }, ...(signal && { signal }) });
    if (data === null || data === undefined) return undefined;
    if (!isRemoteObject(data)) throw badShape('get-user', 'a user');
    return data;
  }

  /** One group, or undefined. */
  async getGroup(owner: string, name: string, signal?: AbortSignal): Promise<RemoteGroup | undefined> {
    const { data } = await this.#call({ method: 'GET', endpoint: 'get-group', query: { id: `${owner}/${name}` }, ...(signal && { signal }) });
    if (data === null || data === undefined) return undefined;
    if (!isRemoteObject(data)) throw badShape('get-group', 'a group');
    return data;
  }

  /** Creates a user; a refusal (name, phone, duplicate) is a `Refused` error with Casdoor's message. */
  async addUser(user: RemoteUser, signal?: AbortSignal): Promise<void> {
    await this.#write({ method: 'POST', endpoint: 'add-user', body: user, ...(signal && { signal }) });
  }

  /**
   * Writes the named columns of a user, and nothing else: Casdoor merges the
   * body onto the stored user. (Without `columns` it would empty every field
   * not sent.) `properties` keys are added or changed, never removed.
   */
  async updateUser(owner: string, name: string, fields: Record<string, unknown>, columns: readonly string[], signal?: AbortSignal): Promise<void> {
    if (columns.length === 0) throw new Error('updateUser needs at least one column');
    await this.#write({ method: 'POST', endpoint: 'update-user', query: { id: `${owner}/${name}`, columns: columns.join(',') }, body: fields, ...(signal && { signal }) });
  }

  /** Deletes a user; a user already gone is no error. */
  async deleteUser(owner: string, name: string, signal?: AbortSignal): Promise<void> {
    await this.#write({ method: 'POST', endpoint: 'delete-user', body: { owner, name }, ...(signal && { signal }) });
  }

  /** Creates a group. */
  async addGroup(group: RemoteGroup, signal?: AbortSignal): Promise<void> {
    await this.#write({ method: 'POST', endpoint: 'add-group', body: group, ...(signal && { signal }) });
  }

  /** Overwrites a group with `group`, whole: Casdoor's update-group has no columns. */
  async updateGroup(group: RemoteGroup, signal?: AbortSignal): Promise<void> {
    await this.#write({ method: 'POST', endpoint: 'update-group', query: { id: `${group.owner}/${group.name}` }, body: group, ...(signal && { signal }) });
  }

  /** Deletes a group (refused while it has members or children). */
  async deleteGroup(owner: string, name: string, signal?: AbortSignal): Promise<void> {
    await this.#write({ method: 'POST', endpoint: 'delete-group', body: { owner, name }, ...(signal && { signal }) });
  }

  /** Closes the connections. */
  close(): Promise<void> {
    return this.#http.close();
  }

  /** A write: Casdoor answers `data: "Affected"` or `"Unaffected"`. */
  async #write(call: CasdoorCall): Promise<void> {
    const { data } = await this.#call(call);
    if (data !== 'Affected' && data !== 'Unaffected') throw badShape(call.endpoint, '"Affected" or "Unaffected"');
  }

  async #call(call: CasdoorCall): Promise<CasdoorEnvelope> {
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        const envelope = await this.#http.call(call);
        this.#onRequest?.(call.endpoint, 'ok', (performance.now() - started) / 1000);
        return envelope;
      } catch (error) {
        this.#onRequest?.(call.endpoint, isCasdoorError(error) ? error.reason : 'Aborted', (performance.now() - started) / 1000);
        if (!isCasdoorError(error) || !error.transient || attempt >= this.#retry.maxAttempts) throw error;
        const ceiling = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
        await sleep(ceiling * (0.5 + Math.random() / 2), call.signal);
      }
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRemoteObject(value: unknown): value is RemoteUser {
  return isRecord(value) && typeof value['owner'] === 'string' && typeof value['name'] === 'string';
}

function badShape(endpoint: string, expected: string): CasdoorError {
  return new CasdoorError(CasdoorErrorReason.BadResponse, endpoint, `Casdoor's answer to ${endpoint} is not ${expected}`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
