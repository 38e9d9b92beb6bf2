import type { Logger } from 'pino';
import { WeComError, WeComErrorReason, isWeComError } from './errors.ts';
import { WeComHttp, type WeComBody, type WeComRequest } from './http.ts';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from './retry.ts';
import { TokenCache, type IssuedToken, type TokenSource } from './token-cache.ts';
import {
  parseDepartment, parseMember, useridOf, isUserid,
  type Department, type DepartmentUser, type Member, type RejectedMember,
} from './types.ts';

/** Options of a {@link WeComClient}. */
export interface WeComClientOptions {
  /** Base URL of the WeCom API (or a proxy, or the simulator). */
  apiURL: string;
  corpId: string;
  /** The app secret or the Sync of Contacts secret. Never logged, never in an error. */
  secret: string;
  /** Share one cache between clients so a token outlives a sync. Default: a cache of this client's own. */
  tokenCache?: TokenCache;
  /** Overrides of the retry policy (attempts, delays, injectable sleep and random). */
  retry?: Partial<RetryPolicy>;
  /** Per-request timeout. Default 15 s. */
  timeoutMs?: number;
  /** Largest accepted response body. */
  maxBodyBytes?: number;
  logger?: Logger;
  /** Told after every HTTP attempt (retries and token renewals each count), for metrics. */
  onRequest?(info: WeComRequestInfo): void;
}

/** One finished attempt, as {@link WeComClientOptions.onRequest} sees it: no URL, query or credential. */
export interface WeComRequestInfo {
  /** The endpoint below `/cgi-bin/`, e.g. `gettoken`, `user/list`. */
  endpoint: string;
  /** WeCom's errcode: 0 on success; absent when the answer carried none (or none came). */
  errcode?: number;
  /** The HTTP status, when an answer came. */
  httpStatus?: number;
  durationMs: number;
}

/** Departments as listed, and which endpoint listed them. */
export interface DepartmentListing {
  departments: Department[];
  /** True when department/list answered 48009 and department/simplelist stood in (no names, no leaders). */
  simple: boolean;
}

/** The members of one department: valid ones, and records that failed validation. */
export interface MemberListing {
  members: Member[];
  rejected: RejectedMember[];
}

/** The most user/list_id pages followed: 1,000 pages of 10,000 rows is far beyond any corp. */
const MAX_LIST_ID_PAGES = 1000;
const MAX_TOKEN_CHARS = 512;

/**
 * A client of WeCom's contacts API for one (API URL, corp ID, secret). Tokens are
 * cached and renewed once when WeCom rejects them; transient failures are retried
 * with backoff; every failure is a {@link WeComError} free of credentials.
 */
export class WeComClient {
  readonly #http: WeComHttp;
  readonly #source: TokenSource;
  readonly #tokens: TokenCache;
  readonly #retry: RetryPolicy;
  readonly #logger: Logger | undefined;
  readonly #onRequest: ((info: WeComRequestInfo) => void) | undefined;

  constructor(options: WeComClientOptions) {
    this.#http = new WeComHttp({
      apiURL: options.apiURL,
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      ...(options.maxBodyBytes !== undefined && { maxBodyBytes: options.maxBodyBytes }),
    });
    this.#source = { apiURL: options.apiURL, corpId: options.corpId, secret: options.secret };
    this.#tokens = options.tokenCache ?? new TokenCache();
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#logger = options.logger;
    this.#onRequest = options.onRequest;
  }

  /**
   * Every department the secret can see, each once (a department listed twice is kept
   * as first listed); falls back to department/simplelist on 48009.
   */
  async listDepartments(signal?: AbortSignal): Promise<DepartmentListing> {
    let listing: DepartmentListing;
    try {
      const body = await this.#call('GET', '/cgi-bin/department/list', {}, signal);
      listing = { departments: parseDepartments(body['department'], 'department/list'), simple: false };
    } catch (error) {
      if (!isWeComError(error) || error.reason !== WeComErrorReason.ContactsSecretRestricted) throw error;
      this.#logger?.info('department/list is restricted for this secret (48009); using department/simplelist');
      const body = await this.#call('GET', '/cgi-bin/department/simplelist', {}, signal);
      listing = { departments: parseDepartments(body['department_id'], 'department/simplelist'), simple: true };
    }
    const byId = new Map<number, Department>();
    for (const d of listing.departments) if (!byId.has(d.id)) byId.set(d.id, d);
    return { departments: [...byId.values()], simple: listing.simple };
  }

  /** The members of one department (not of its children). Malformed records are rejected, not fatal. */
  async listMembers(departmentId: number, signal?: AbortSignal): Promise<MemberListing> {
    const body = await this.#call('GET', '/cgi-bin/user/list', { department_id: String(departmentId) }, signal);
    const list = body['userlist'];
    if (!Array.isArray(list)) throw badShape(`user/list for department ${departmentId} has no userlist`);
    const listing: MemberListing = { members: [], rejected: [] };
    for (const raw of list) {
      const parsed = parseMember(raw, departmentId);
      if (parsed.ok) listing.members.push(parsed.value);
      else listing.rejected.push(rejection(raw, departmentId, parsed.reason));
    }
    return listing;
  }

  /** One member by userid. */
  async getMember(userid: string, signal?: AbortSignal): Promise<Member> {
    const body = await this.#call('GET', '/cgi-bin/user/get', { userid }, signal);
    const parsed = parseMember(body);
    if (!parsed.ok) throw badShape(`user/get for a member: ${parsed.reason}`);
    return parsed.value;
  }

  /**
   * Every member-department pair of the corp, following user/list_id's cursor.
   * Only the Sync of Contacts secret may call it (the app secret gets 48002).
   */
  async listUserIds(signal?: AbortSignal): Promise<DepartmentUser[]> {
    const rows: DepartmentUser[] = [];
    let cursor = '';
    for (let page = 0; page < MAX_LIST_ID_PAGES; page++) {
      const body = await this.#call('POST', '/cgi-bin/user/list_id', {}, signal, { cursor, limit: 10_000 });
      const list = body['dept_user'];
      if (!Array.isArray(list)) throw badShape('user/list_id has no dept_user list');
      for (const row of list) {
        if (typeof row !== 'object' || row === null) continue;
        const { userid, department } = row as Record<string, unknown>;
        if (isUserid(userid) && typeof department === 'number') rows.push({ userid, departmentId: department });
      }
      const next = body['next_cursor'];
      if (next === undefined || next === null || next === '') return rows;
      if (typeof next !== 'string' || next === cursor) throw badShape('user/list_id has an invalid next_cursor');
      cursor = next;
    }
    throw badShape(`user/list_id did not end within ${MAX_LIST_ID_PAGES} pages`);
  }

  /** Calls an endpoint with a token, renewing the token once if WeCom rejects it, with retries. */
  async #call(
    method: 'GET' | 'POST',
    path: string,
    query: Record<string, string>,
    signal: AbortSignal | undefined,
    body?: unknown,
  ): Promise<WeComBody> {
    const once = async (token: string) =>
      this.#request({
        method, path, body, signal,
        query: { ...query, access_token: token },
        secrets: [this.#source.secret, token],
      });
    return withRetry(this.#retry, async () => {
      const token = await this.#token(signal);
      try {
        return await once(token);
      } catch (error) {
        if (!isWeComError(error) || !error.tokenRejected) throw error;
        this.#logger?.info({ api: path, errcode: error.errcode }, 'WeCom rejected the access token; renewing it');
        this.#tokens.drop(this.#source, token);
        return await once(await this.#token(signal));
      }
    }, {
      ...(signal && { signal }),
      onRetry: ({ attempt, delayMs, error }) => this.#logger?.warn(
        { api: path, attempt, delayMs, reason: isWeComError(error) ? error.reason : undefined, err: error.message },
        'WeCom call failed; retrying'),
    });
  }

  /** One HTTP attempt, reported to `onRequest`; the hook sees the outcome but cannot change it. */
  async #request(req: WeComRequest): Promise<WeComBody> {
    if (!this.#onRequest) return this.#http.request(req);
    const started = performance.now();
    const endpoint = req.path.replace(/^\/?cgi-bin\//, '');
    try {
      const body = await this.#http.request(req);
      // The HTTP layer hands back only HTTP 200 answers whose errcode is 0 (or absent, which means 0).
      this.#report({ endpoint, errcode: 0, httpStatus: 200, durationMs: performance.now() - started });
      return body;
    } catch (error) {
      const info: WeComRequestInfo = { endpoint, durationMs: performance.now() - started };
      if (isWeComError(error)) {
        // An errcode is read only from an HTTP 200 answer.
        if (error.errcode !== undefined) info.errcode = error.errcode;
        const httpStatus = error.httpStatus ?? (error.errcode !== undefined ? 200 : undefined);
        if (httpStatus !== undefined) info.httpStatus = httpStatus;
      }
      this.#report(info);
      throw error;
    }
  }

  #report(info: WeComRequestInfo): void {
    try {
      this.#onRequest?.(info);
    } catch (error) {
      // Metrics must never fail a WeCom call.
      this.#logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'the WeCom request observer failed');
    }
  }

  #token(signal: AbortSignal | undefined): Promise<string> {
    return this.#tokens.get(this.#source, () => this.#issueToken(signal));
  }

  async #issueToken(signal: AbortSignal | undefined): Promise<IssuedToken> {
    const body = await this.#request({
      method: 'GET',
      path: '/cgi-bin/gettoken',
      query: { corpid: this.#source.corpId, corpsecret: this.#source.secret },
      secrets: [this.#source.secret],
      ...(signal && { signal }),
    });
    const accessToken = body['access_token'];
    const expiresIn = body['expires_in'];
    if (typeof accessToken !== 'string' || accessToken === '' || accessToken.length > MAX_TOKEN_CHARS) {
      throw badShape('gettoken answered without a usable access_token');
    }
    if (typeof expiresIn !== 'number' || !(expiresIn > 0)) throw badShape('gettoken answered without expires_in');
    this.#logger?.debug({ expiresIn }, 'issued a WeCom access token');
    return { accessToken, expiresInSeconds: expiresIn };
  }
}

function parseDepartments(list: unknown, api: string): Department[] {
  if (!Array.isArray(list)) throw badShape(`${api} has no department list`);
  const departments: Department[] = [];
  for (const raw of list) {
    const parsed = parseDepartment(raw);
    // A skipped department would silently drop its members: fail instead.
    if (!parsed.ok) throw badShape(`${api}: ${parsed.reason}`);
    departments.push(parsed.value);
  }
  return departments;
}

function rejection(raw: unknown, departmentId: number, reason: string): RejectedMember {
  const userid = useridOf(raw);
  return userid === undefined ? { departmentId, reason } : { userid, departmentId, reason };
}

function badShape(what: string): WeComError {
  return new WeComError(WeComErrorReason.BadResponse, `WeCom's answer is malformed: ${what}`, { retryable: false });
}
