import { Agent, request } from 'undici';
import { CasdoorError, CasdoorErrorReason, errorFromEnvelope } from './errors.ts';

/** Options of a {@link CasdoorHttp}. */
export interface CasdoorHttpOptions {
  /** Casdoor's base URL, e.g. `https://door.example.com`; a path prefix is kept. */
  endpoint: string;
  clientId: string;
  clientSecret: string;
  /** Connections kept open to Casdoor. Default 16. */
  connections?: number;
  /** The longest one request may take. Default 30 s. */
  timeoutMs?: number;
  /** The largest body accepted. Default 64 MiB (a page of users is a few hundred KB). */
  maxBodyBytes?: number;
}

/** One call: `GET /api/<endpoint>?query` or `POST /api/<endpoint>?query` with a JSON body. */
export interface CasdoorCall {
  method: 'GET' | 'POST';
  endpoint: string;
  query?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
}

/** Casdoor's answer envelope, `status: "ok"`. */
export interface CasdoorEnvelope {
  data: unknown;
  data2: unknown;
}

const SESSION_COOKIE = 'casdoor_session_id';

/**
 * One HTTP attempt against Casdoor's API, without retries. Sends the client
 * credentials as HTTP Basic (never in a URL), asks for English messages,
 * keeps the session cookie Casdoor sets and sends it back (without it Casdoor
 * creates a session per request), reads a bounded body, and judges the
 * envelope: Casdoor answers errors with HTTP 200 and `status: "error"`.
 * Nothing it throws holds the secret.
 */
export class CasdoorHttp {
  readonly #base: URL;
  readonly #authorization: string;
  readonly #secret: string;
  readonly #agent: Agent;
  readonly #timeoutMs: number;
  readonly #maxBodyBytes: number;
  #session: string | undefined;

  constructor(options: CasdoorHttpOptions) {
    this.#base = new URL(options.endpoint.endsWith('/') ? options.endpoint : `${options.endpoint}/`);
    this.#authorization = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`;
    this.#secret = options.clientSecret;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
    this.#agent = new Agent({ connections: options.connections ?? 16, headersTimeout: this.#timeoutMs, bodyTimeout: this.#timeoutMs });
  }

  /** The session cookie's value, once Casdoor set one: kept for the client's life. */
  get session(): string | undefined {
    return this.#session;
  }

  /** Performs the call once: the envelope's data on `ok`, a {@link CasdoorError} otherwise. */
  async call(call: CasdoorCall): Promise<CasdoorEnvelope> {
    const url = new URL(`api/${call.endpoint}`, this.#base);
    for (const [key, value] of Object.entries(call.query ?? {})) url.searchParams.set(key, value);
    const headers: Record<string, string> = { authorization: this.#authorization, accept: 'application/json', 'accept-language': 'en' };
    if (this.#session) headers['cookie'] = `${SESSION_COOKIE}=${this.#session}`;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    let answer: Awaited<ReturnType<typeof request>>;
    try {
      answer = await request(url, {
        method: call.method,
        headers,
        ...(call.body !== undefined && { body: JSON.stringify(call.body) }),
        // undici's request follows no redirect: the credentials go to this origin only.
        dispatcher: this.#agent,
        ...(call.signal && { signal: call.signal }),
      });
    } catch (error) {
      if (call.signal?.aborted) throw call.signal.reason;
      throw new CasdoorError(CasdoorErrorReason.Unreachable, call.endpoint, `Casdoor is unreachable (${call.endpoint}): ${this.#scrub(describe(error))}`, { transient: true });
    }
    this.#keepSession(answer.headers['set-cookie']);
    const text = await this.#readBounded(answer.body, call.endpoint);
    const status = answer.statusCode;
    if (status >= 500) {
      throw new CasdoorError(CasdoorErrorReason.Unreachable, call.endpoint, `Casdoor answered HTTP ${status} (${call.endpoint})`, { transient: true });
    }
    let envelope: unknown;
    try {
      envelope = JSON.parse(text);
    } catch {
      // An HTML page: a proxy's error, a login page, an unknown path (Casdoor's own 404 is HTML).
      const html = /^\s*</.test(text);
      throw new CasdoorError(CasdoorErrorReason.BadResponse, call.endpoint,
        `Casdoor answered ${call.endpoint} with HTTP ${status} and ${html ? 'an HTML page' : 'a body that is not JSON'}: is the endpoint Casdoor's base URL?`,
        { transient: status === 200 || status === 429 });
    }
    if (typeof envelope !== 'object' || envelope === null || !('status' in envelope)) {
      throw new CasdoorError(CasdoorErrorReason.BadResponse, call.endpoint, `Casdoor answered ${call.endpoint} with JSON that is not its envelope (HTTP ${status})`);
    }
    const { status: outcome, msg, data, data2 } = envelope as { status: unknown; msg?: unknown; data?: unknown; data2?: unknown };
    if (outcome === 'ok') return { data, data2 };
    if (outcome === 'error') throw errorFromEnvelope(call.endpoint, this.#scrub(typeof msg === 'string' ? msg : 'no message'));
    throw new CasdoorError(CasdoorErrorReason.BadResponse, call.endpoint, `Casdoor answered ${call.endpoint} with status ${JSON.stringify(outcome)?.slice(0, 40)}`);
  }

  /** Closes the connections. */
  close(): Promise<void> {
    return this.#agent.close();
  }

  #keepSession(setCookie: string | string[] | undefined): void {
    for (const cookie of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const match = new RegExp(`^\\s*${SESSION_COOKIE}=([^;]*)`).exec(cookie);
      if (match?.[1]) this.#session = match[1];
    }
  }

  async #readBounded(body: AsyncIterable<Uint8Array> & { destroy(): void }, endpoint: string): Promise<string> {
    // undici's own chunks: a copy of each would be one more megabyte per page of 500 users.
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (size > this.#maxBodyBytes) {
          body.destroy();
          throw new CasdoorError(CasdoorErrorReason.BadResponse, endpoint, `Casdoor's answer to ${endpoint} is larger than ${this.#maxBodyBytes} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof CasdoorError) throw error;
      throw new CasdoorError(CasdoorErrorReason.Unreachable, endpoint, `Casdoor's answer to ${endpoint} broke off: ${this.#scrub(describe(error))}`, { transient: true });
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Removes the secret from text that came from elsewhere (an error, Casdoor's message). */
  #scrub(text: string): string {
    return this.#secret ? text.replaceAll(this.#secret, '<redacted>') : text;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error as { code?: string }).code ? `${(error as { code?: string }).code}: ${error.message}` : error.message;
  return String(error);
}
