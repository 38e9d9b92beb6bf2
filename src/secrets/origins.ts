import { ANNOTATION_ALLOWED_URLS } from '../api/group.ts';

/** WeCom's own API: a WeComSyncer's corp and contacts secrets may go there without the annotation. */
export const WECOM_API_ORIGIN = 'https://qyapi.weixin.qq.com';

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };
/**
 * The hosts an origin may have: a DNS name (IDNs arrive as punycode), an IPv4
 * address or a bracketed IPv6 one. WHATWG URLs admit far more (`'`, `$`, `,`,
 * `*`), which would break the comma-separated annotation and the shell command
 * a refusal prints; such a host is refused outright.
 */
const PLAIN_HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?|\[[0-9a-f:.]+\])$/;

/**
 * The origin `scheme://host[:port]` of a URL, the way two origins are compared:
 * scheme and host lowercased (WHATWG URL parsing does both, and turns an IDN
 * into punycode), the default port dropped, userinfo, path and query ignored.
 * `https://qyapi.weixin.qq.com@evil.example` is `https://evil.example`: the
 * host is what a connection goes to. Undefined for anything but http(s) to a
 * plain host name or address.
 */
export function originOf(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!(parsed.protocol in DEFAULT_PORTS) || !PLAIN_HOST.test(parsed.hostname)) return undefined;
  const port = parsed.port === '' || parsed.port === DEFAULT_PORTS[parsed.protocol] ? '' : `:${parsed.port}`;
  return `${parsed.protocol}//${parsed.hostname}${port}`;
}

/** A Secret's casdoor.org/allowed-urls, parsed: the origins listed, or why it is not a list of origins. */
export type AllowedOrigins = { origins: ReadonlySet<string> } | { malformed: string };

/**
 * Parses the annotation: comma-separated origins, blanks ignored. An entry
 * with a path, a query, a fragment or userinfo is refused rather than cut to
 * its origin, so nobody believes a path-scoped entry limits anything.
 */
export function parseAllowedOrigins(annotation: string | undefined): AllowedOrigins {
  const origins = new Set<string>();
  for (const raw of (annotation ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const origin = originOf(entry);
    const parsed = origin === undefined ? undefined : new URL(entry);
    if (!parsed || parsed.username !== '' || parsed.password !== '' || parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== '' || /[?#]/.test(entry)) {
      return { malformed: `"${entry.slice(0, 200)}" is not an origin (scheme://host[:port], http or https)` };
    }
    origins.add(origin!);
  }
  return { origins };
}

/** Where one Secret's value is about to be sent, and what allows it. */
export interface SecretDestination {
  namespace: string;
  /** The Secret's name. */
  secret: string;
  /** The Secret's casdoor.org/allowed-urls annotation, as stored. */
  annotation: string | undefined;
  /** The URL the value goes to. */
  url: string;
  /** Origins allowed without the annotation (WeCom's API for WeCom secrets). */
  builtIn: readonly string[];
}

/** A Secret's value may not go where the spec points: nothing was sent. Stalled until a human acts. */
export class OriginNotAllowed extends Error {
  readonly reason = 'URLNotAllowed';

  constructor(message: string) {
    super(message);
    this.name = 'OriginNotAllowed';
  }
}

/**
 * Throws {@link OriginNotAllowed} unless the Secret's owner allowed its value
 * to go to `url`'s origin: listed in the annotation, or built in. Called
 * before any connection is opened, so a refused origin receives nothing.
 * The message names the Secret and the origin and gives the command to allow
 * it, never the value.
 */
export function assertSecretMayGo(destination: SecretDestination): void {
  const { namespace, secret, annotation } = destination;
  const origin = originOf(destination.url);
  if (origin === undefined) {
    throw new OriginNotAllowed(`The URL is not http(s) to a plain host name or address, so Secret ${namespace}/${secret} was sent nowhere: fix the URL in the spec`);
  }
  const allowed = parseAllowedOrigins(annotation);
  if ('malformed' in allowed) {
    throw new OriginNotAllowed(`The annotation ${ANNOTATION_ALLOWED_URLS} of Secret ${namespace}/${secret} is malformed, so nothing was sent: ` +
      `${allowed.malformed}. List origins separated by commas, e.g. https://wecom-proxy.corp.example, http://127.0.0.1:8099; ` +
      'the Secret is re-read within a minute.');
  }
  if (allowed.origins.has(origin) || destination.builtIn.some((b) => originOf(b) === origin)) return;
  const listed = [...allowed.origins, origin].join(',');
  // Every part of the command is a Kubernetes name or a plain origin: nothing a shell would read as more than a word.
  throw new OriginNotAllowed(`Secret ${namespace}/${secret} may not be sent to ${origin}: its annotation ${ANNOTATION_ALLOWED_URLS} ` +
    `does not list that origin, so nothing was sent; the Secret is re-read within a minute. If ${origin} is where this Secret ` +
    `belongs, allow it: kubectl annotate secret ${secret} -n ${namespace} ${ANNOTATION_ALLOWED_URLS}='${listed}' --overwrite`);
}
