import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Logger } from 'pino';
import { type CallbackReceiver, mayBeEvent } from './receiver.ts';

/** The largest body read: WeCom's events are a few hundred bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Connections served at once; more are closed at once (WeCom retries). */
const MAX_CONNECTIONS = 64;
/** A request must arrive whole within this: WeCom gives up after 5 seconds anyway. */
const REQUEST_TIMEOUT_MS = 10_000;

/** The receiver on HTTP: reads at most {@link MAX_BODY_BYTES}, and never answers an error of its own with a retryable 5xx. */
export function callbackServer(receiver: CallbackReceiver, logger: Logger): Server {
  const server = createServer((request, response) => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://receiver');
    // Scanners and strangers get their 404 or 405 before a byte of their body is read.
    const refusedUnread = !mayBeEvent(method, url.pathname);
    const declared = Number(request.headers['content-length'] ?? 0);
    if (!refusedUnread && declared > MAX_BODY_BYTES) {
      response.writeHead(413, { connection: 'close' }).end('the body is over 1 MiB\n');
      request.destroy();
      return;
    }
    (refusedUnread ? Promise.resolve('') : readBody(request)).then(
      async (body) => {
        if (body === undefined) {
          response.writeHead(413, { connection: 'close' }).end('the body is over 1 MiB\n');
          return;
        }
        const answer = await receiver.answer(method, url, body);
        // The URL check's answer is the bare plaintext: no quotes, no newline, no BOM.
        response.writeHead(answer.status, { 'content-type': 'text/plain; charset=utf-8' }).end(answer.body);
        if (answer.status >= 400) logger.debug({ status: answer.status, path: url.pathname, why: answer.body.trim() }, 'event receiver refused a request');
      },
    ).catch((error: unknown) => {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'event receiver failed on a request');
      if (!response.headersSent) response.writeHead(400).end('the request could not be handled\n');
    });
  });
  // With the body limit, what requests in flight may hold at most: 64 MiB, however many arrive at once.
  server.maxConnections = MAX_CONNECTIONS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  return server;
}

/** The body as text, or undefined once it passes the limit (then the rest is not read). */
function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.removeAllListeners('data');
        request.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
