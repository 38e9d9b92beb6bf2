import {
  type HttpLibrary,
  Observable,
  type RequestContext,
  ResponseContext,
  SelfDecodingBody,
} from '@kubernetes/client-node';
import { request } from 'undici';

/**
 * client-node's transport for API calls on undici's `request` instead of its
 * `fetch`. fetch implements the browser's model: WHATWG streams, a request
 * clone, header guards and teeing, about twenty objects per call that outlive
 * a young-generation collection when thousands of writes are in flight. Same
 * dispatcher, headers, body and abort signal; the response body is read whole,
 * as client-node reads every JSON answer anyway. Unlike fetch it asks for no
 * compression (kube-apiserver gzips only answers over 128 KB, and on the paths
 * we take that costs CPU on both ends for little) and follows no redirect
 * (kube-apiserver sends none; one would surface as an ApiException).
 */
export class UndiciRequestHttpLibrary implements HttpLibrary {
  send(context: RequestContext): Observable<ResponseContext> {
    return new Observable(this.#send(context));
  }

  async #send(context: RequestContext): Promise<ResponseContext> {
    const body = context.getBody();
    const response = await request(context.getUrl(), {
      method: context.getHttpMethod(),
      headers: context.getHeaders(),
      // JSON text from the generated clients; undici takes a FormData as it is, a URLSearchParams as its text.
      body: body instanceof URLSearchParams ? body.toString() : body,
      signal: context.getSignal(),
      dispatcher: context.getDispatcher(),
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const data = Buffer.from(await response.body.arrayBuffer());
    return new ResponseContext(response.statusCode, headers, new SelfDecodingBody(Promise.resolve(data)));
  }
}
