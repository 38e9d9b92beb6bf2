import { STATUS_CODES } from 'node:http';
import { HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { request } from 'undici';

/** What a watch calls with each event: its type and object, as the API server sent them. */
export type WatchCallback = (phase: string, object: unknown) => void;

/** The watch transport {@link listWatchVia} needs: client-node's `Watch` has this shape, and so has {@link KubeWatch}. */
export interface Watcher {
  /**
   * Opens a watch of `path`; `done` is called once when it ends: with nothing when the server closed it or it
   * received nothing for the idle timeout (then with an error named `TimeoutError`), else with the error.
   * Resolves with the controller that aborts it.
   */
  watch(path: string, query: Record<string, unknown>, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController>;
}

/** An error that carries the HTTP status the API server refused a watch with. */
export class WatchRefusedError extends Error {
  override name = 'WatchRefusedError';
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

const NEWLINE = 10;
/** As client-node's: a watch that receives nothing for this long (bookmarks included) is closed and resumed. */
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/**
 * A watch on undici's `request`, reading the body's lines itself.
 *
 * client-node's `Watch` reads a watch through undici's `fetch`, turns the
 * WHATWG stream into a Node stream and splits it with `readline`: at 10,000
 * creates that is several objects and a string copy per event, besides the
 * event itself. Here each chunk of the body is scanned for newlines and each
 * line parsed where it lies; a line split over chunks is joined once. Unlike
 * client-node, a line that is not JSON ends the watch with an error (the
 * informer then relists) instead of being skipped, which would lose an event.
 * Same credentials, dispatcher and user agent as every call (the KubeConfig's
 * `applySecurityAuthentication`), no compression asked for.
 */
export class KubeWatch implements Watcher {
  readonly #kc: KubeConfig;
  readonly #idleTimeoutMs: number;

  constructor(kc: KubeConfig, options: { idleTimeoutMs?: number } = {}) {
    this.#kc = kc;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  async watch(path: string, query: Record<string, unknown>, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController> {
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster in the kubeconfig');
    const url = new URL(cluster.server + path);
    url.searchParams.set('watch', 'true');
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));

    const controller = new AbortController();
    let timedOut = false;
    let ended = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#idleTimeoutMs);
    timer.unref();
    const end = (err: unknown): void => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      controller.abort();
      done(timedOut ? timeoutError(this.#idleTimeoutMs) : err);
    };

    try {
      const context = new RequestContext(url.toString(), HttpMethod.GET);
      await this.#kc.applySecurityAuthentication(context);
      const response = await request(url, {
        method: 'GET',
        headers: context.getHeaders(),
        dispatcher: context.getDispatcher(),
        signal: controller.signal,
      });
      if (response.statusCode !== 200) {
        // The body is a Status; its message may repeat what the request named, so only the code is kept.
        response.body.resume();
        const text = STATUS_CODES[response.statusCode] ?? 'error';
        throw new WatchRefusedError(response.statusCode, `watch refused: HTTP ${response.statusCode} ${text}`);
      }
      timer.refresh();
      const lines = new LineReader((line) => {
        let event: { type?: unknown; object?: unknown };
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          throw new Error(`watch ${path}: the server sent a line that is not JSON (${line.length} characters)`);
        }
        callback(String(event?.type), event?.object);
      });
      const body = response.body;
      body.on('data', (chunk: Buffer) => {
        if (ended) return;
        timer.refresh();
        try {
          lines.push(chunk);
        } catch (err) {
          end(err);
        }
      });
      body.on('end', () => end(lines.rest() ? new Error(`watch ${path}: the stream ended inside an event`) : null));
      body.on('error', end);
    } catch (err) {
      end(err);
    }
    return controller;
  }
}

function timeoutError(ms: number): Error {
  const err = new Error(`watch received nothing for ${ms} ms`);
  err.name = 'TimeoutError';
  return err;
}

/**
 * Splits a byte stream into its newline-terminated lines, each decoded as UTF-8 once. Lines are cut at bytes,
 * not characters, so a character split over two chunks is joined before it is decoded.
 */
export class LineReader {
  readonly #onLine: (line: string) => void;
  /** The start of a line that has not ended yet: the chunks it came in. */
  #partial: Buffer[] = [];

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  push(chunk: Buffer): void {
    let start = 0;
    let newline = chunk.indexOf(NEWLINE);
    while (newline !== -1) {
      if (this.#partial.length > 0) {
        this.#partial.push(chunk.subarray(0, newline));
        const joined = Buffer.concat(this.#partial);
        this.#partial = [];
        this.#emit(joined, 0, joined.length);
      } else {
        this.#emit(chunk, start, newline);
      }
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) this.#partial.push(chunk.subarray(start));
  }

  /** Whether bytes of an unfinished line are left. */
  rest(): boolean {
    return this.#partial.some((part) => part.length > 0);
  }

  #emit(bytes: Buffer, start: number, end: number): void {
    // kube-apiserver ends each event with "\n"; a blank line (or a lone "\r") carries nothing.
    if (end > start && bytes[end - 1] === 13) end--;
    if (end > start) this.#onLine(bytes.toString('utf8', start, end));
  }
}
