import {
  type ApiConstructor,
  type ApiType,
  createConfiguration,
  KubeConfig,
  type RequestContext,
  ServerConfiguration,
} from '@kubernetes/client-node';
import { UndiciRequestHttpLibrary } from './kube-http.ts';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** How the operator names itself to kube-apiserver (its audit log and request metrics). */
const USER_AGENT = 'wecom-syncer';

/**
 * A KubeConfig whose API calls share one connection pool per (cluster, user)
 * and go through {@link UndiciRequestHttpLibrary} instead of client-node's fetch.
 *
 * client-node 2.0 builds a new undici Agent for every request, so each call
 * opens its own TLS connection and leaves it idle until it times out: at
 * thousands of writes that costs a handshake per write on both ends and
 * megabytes of idle sockets. client-node already caches its https.Agent per
 * (cluster, user) the same way; this does it for the dispatcher.
 */
export class SharedConnectionsKubeConfig extends KubeConfig {
  readonly #dispatchers = new Map<string, Dispatcher>();
  readonly #http = new UndiciRequestHttpLibrary();

  /** client-node's own makeApiClient, with our transport. */
  override makeApiClient<T extends ApiType>(apiClientType: ApiConstructor<T>): T {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    return new apiClientType(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: this },
        httpApi: this.#http,
      }),
    );
  }

  /** Every call and every watch comes here: credentials, our user agent, and the shared pool. */
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setHeaderParam('User-Agent', USER_AGENT);
    const fresh = context.getDispatcher();
    if (fresh === undefined) return;
    const key = JSON.stringify([this.getCurrentCluster()?.name ?? '', this.getCurrentUser()?.name ?? '']);
    const shared = this.#dispatchers.get(key);
    if (shared === undefined) this.#dispatchers.set(key, fresh);
    // The fresh agent never connected and holds no socket or timer: it is left to the garbage collector.
    // Closing it would cost more than making it (undici builds an error with a stack trace per close).
    else context.setDispatcher(shared);
  }
}
