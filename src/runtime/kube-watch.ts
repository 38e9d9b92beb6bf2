import { STATUS_CODES } from 'node:http';
import { HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { request } from 'undici';
import { LineReader } from './line-reader.ts';

/** What a watch calls with each event: its type and object, as the API server sent them. */
export type WatchCallback = (phase: string, object: unknown) => void;

/** The watch transport {@link listWatchVia} needs: client-node's `Watch` has this shape, and so has {@link KubeWatch}. */
export interface Watcher {
  /**
   * Opens a watch of `path` and resolves with the controller that aborts it. `done` is called once when the
   * watch ends: with null when the server closed it; with an error named `TimeoutError` when nothing (not even a
   * bookmark) came for the idle timeout; with an AbortError after the caller aborted; else with what went wrong.
   */
  watch(path: string, query: Record<string, unknown>, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController>;
}

/** A watch the API server answered with an HTTP error; `statusCode` is what the list-watch reads (410 Gone among them). */
export class WatchRefusedError extends Error {
  override name = 'WatchRefusedError';
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

/** As client-node's: a watch that receives nothing for this long is closed, and the informer resumes it. */
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** The most of a refusal's Status message an error carries: enough for RBAC's "cannot watch resource ...". */
const MAX_REFUSAL_MESSAGE = 300;

/**
 * A watch on undici's `request`, reading the body's lines itself.
 *
 * client-node's `Watch` reads a watch through undici's `fetch`, turns the
 * WHATWG stream into a Node stream and splits it with `readline`: several
 * objects and a string copy per event, besides the event itself. Here each
 * chunk is split by a {@link LineReader} and each line parsed once. Unlike
 * client-node, a line that is not JSON, or an exception from `callback`, ends
 * the watch with an error (the informer then relists) instead of being
 * skipped, which would lose an event without a word. Same credentials,
 * dispatcher and user agent as every call (the KubeConfig's
 * `applySecurityAuthentication`); no compression asked for.
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
    // Once: aborting the body below makes undici emit an error on it as well.
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
      if (response.statusCode !== 200) throw await refusal(response.statusCode, response.body);
      timer.refresh();
      const lines = new LineReader((line) => {
        let event: { type?: unknown; object?: unknown };
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          throw new Error(`the server sent a line that is not JSON (${line.length} characters)`);
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
      body.on('end', () => {
        try {
          lines.end();
          end(null);
        } catch (err) {
          end(err);
        }
      });
      body.on('error', end);
    } catch (err) {
      end(err);
    }
    return controller;
  }
}

/** The error for a watch answered `status`, with its Status's message (capped) when the body has one. */
async function refusal(status: number, body: { text(): Promise<string> }): Promise<WatchRefusedError> {
  let message = '';
  try {
    const parsed = JSON.parse(await body.text()) as { message?: unknown };
    if (typeof parsed?.message === 'string') message = parsed.message.slice(0, MAX_REFUSAL_MESSAGE);
  } catch {
    // Not a Status: the code says enough.
  }
  return new WatchRefusedError(status, `refused: HTTP ${status} ${STATUS_CODES[status] ?? ''}${message ? `: ${message}` : ''}`);
}

function timeoutError(ms: number): Error {
  const err = new Error(`received nothing for ${ms} ms`);
  err.name = 'TimeoutError';
  return err;
}
