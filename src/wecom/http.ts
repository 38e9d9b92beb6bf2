import axios, { type AxiosInstance } from 'axios';
import { WeComError, WeComErrorReason, errorFromErrcode } from './errors.ts';
import { redactURL, scrub } from './redact.ts';

/** Options of a {@link WeComHttp}. */
export interface WeComHttpOptions {
  /** Base URL of the WeCom API, e.g. `https://qyapi.weixin.qq.com`; a path prefix is kept. */
  apiURL: string;
  /** The longest one request may take, headers and body. Default 15 s. */
  timeoutMs?: number;
  /** The largest body accepted. Default 64 MiB (a department of 50,000 members). */
  maxBodyBytes?: number;
}

/** One call to WeCom. */
export interface WeComRequest {
  method: 'GET' | 'POST';
  /** The endpoint below the API URL, e.g. `/cgi-bin/user/list`. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Values that must never leave the client (secret, token): scrubbed from any text produced. */
  secrets: readonly string[];
  signal?: AbortSignal;
}

/** A JSON object WeCom answered with errcode 0. */
export type WeComBody = Record<string, unknown>;

/**
 * One HTTP attempt against WeCom, without retries: the JSON body on errcode 0, a
 * {@link WeComError} otherwise. Redirects are never followed (the query carries the
 * secret or the token), bodies are bounded, and nothing it throws holds a credential.
 */
export class WeComHttp {
  readonly #axios: AxiosInstance;
  readonly #baseURL: string;
  readonly #timeoutMs: number;

  constructor(options: WeComHttpOptions) {
    this.#baseURL = options.apiURL.endsWith('/') ? options.apiURL : `${options.apiURL}/`;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
    this.#axios = axios.create({
      maxRedirects: 0,
      // Plain http is allowed only to loopback, where the secret stays on this host: an
      // HTTP_PROXY from the environment would carry the URL, secret included, in clear
      // text to the proxy. (https through a proxy is a CONNECT tunnel, TLS end to end.)
      ...(new URL(this.#baseURL).protocol === 'http:' && { proxy: false as const }),
      maxContentLength: maxBodyBytes,
      maxBodyLength: maxBodyBytes,
      responseType: 'text',
      // Keep the raw text: parsing is ours, so a broken body gives our error, not axios's.
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      timeout: this.#timeoutMs,
    });
  }

  /** Performs the request once. */
  async request(req: WeComRequest): Promise<WeComBody> {
    const url = new URL(req.path.replace(/^\//, ''), this.#baseURL).toString();
    const api = req.path;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let status: number;
    let text: string;
    try {
      const response = await this.#axios.request<unknown>({
        method: req.method,
        url,
        params: req.query,
        data: req.body,
        signal,
      });
      status = response.status;
      text = typeof response.data === 'string' ? response.data : '';
    } catch (error) {
      req.signal?.throwIfAborted();
      throw transportError(error, api, req.secrets, timeout.aborted);
    }
    return parseAnswer(status, text, api, req.secrets);
  }
}

function transportError(error: unknown, api: string, secrets: readonly string[], timedOut: boolean): WeComError {
  const raw = error instanceof Error ? error.message : String(error);
  if (/maxContentLength/i.test(raw)) {
    return new WeComError(WeComErrorReason.BadResponse, `WeCom's answer for ${api} exceeds the size limit`, {
      retryable: false,
    });
  }
  const code = axios.isAxiosError(error) && error.code ? `${error.code}: ` : '';
  // A fresh Error as cause: the axios error carries the request URL, token included.
  const cause = new Error(scrub(`${code}${raw}`, secrets));
  const what = timedOut ? 'timed out' : 'could not be reached';
  return new WeComError(WeComErrorReason.Unreachable,
    `WeCom ${what} on ${api} (${scrub(raw, secrets)}): check the API URL and this network's route to it`, { cause });
}

function parseAnswer(status: number, text: string, api: string, secrets: readonly string[]): WeComBody {
  if (status >= 300 && status < 400) {
    return fail(`WeCom answered ${api} with a redirect (HTTP ${status}), which is never followed because the query carries credentials: set the API URL to the final address`, status, false);
  }
  if (status >= 500) {
    return fail(`WeCom answered ${api} with HTTP ${status}`, status, true, WeComErrorReason.Unreachable);
  }
  if (status !== 200) {
    return fail(`WeCom answered ${api} with HTTP ${status}: check the API URL`, status, false);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    // Gateways answer with HTML and connections break mid-body: both pass, so retry.
    const cause = new Error(scrub(error instanceof Error ? error.message : String(error), secrets));
    throw new WeComError(WeComErrorReason.BadResponse,
      `WeCom's answer for ${api} is not JSON (${describeBody(text)})`, { retryable: true, httpStatus: status, cause });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail(`WeCom's answer for ${api} is not a JSON object`, status, true);
  }
  const record = body as WeComBody;
  const errcode = record['errcode'] ?? 0;
  if (typeof errcode !== 'number' || !Number.isInteger(errcode)) {
    return fail(`WeCom's answer for ${api} has an errcode that is not an integer`, status, false);
  }
  if (errcode !== 0) {
    const errmsg = typeof record['errmsg'] === 'string' ? scrub(record['errmsg'], secrets) : '';
    throw errorFromErrcode(errcode, errmsg, api);
  }
  return record;
}

function fail(
  message: string,
  httpStatus: number,
  retryable: boolean,
  reason: WeComErrorReason = WeComErrorReason.BadResponse,
): never {
  throw new WeComError(reason, message, { httpStatus, retryable });
}

function describeBody(text: string): string {
  if (text.length === 0) return 'empty body';
  if (/^\s*</.test(text)) return 'an HTML or XML page';
  return `${text.length} bytes`;
}
