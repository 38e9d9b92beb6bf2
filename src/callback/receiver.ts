import type { Logger } from 'pino';
import { CallbackCryptoError, decryptMessage, signatureMatches } from '../wecom/callback-crypto.ts';
import { CallbackXmlError, parseCallbackXml } from '../wecom/callback-xml.ts';
import type { CallbackSecrets } from './secrets.ts';

/** A syncer whose events a path receives. */
export interface CallbackTarget extends CallbackSecrets {
  /** The syncer's `namespace/name`. */
  key: string;
  /** Events must be encrypted for this receive id. */
  corpId: string;
}

/** A verified contact-change event: what changed, by id only (WeCom sends no more since 2022). */
export interface ContactEvent {
  changeType: string;
}

/** What the receiver needs from the rest of the operator; injected. */
export interface ReceiverDeps {
  /** The syncer of an event path, if any; may read Secrets, so it may throw (a 503: worth a retry). */
  target(path: string): Promise<CallbackTarget | undefined>;
  /** Told of each verified contact-change event. */
  received(target: CallbackTarget, event: ContactEvent): void;
  logger: Logger;
  now?: () => number;
}

/** An HTTP answer. */
export interface Answer {
  status: number;
  body: string;
}

/** A timestamp further than this from now is refused: WeCom stamps each request when it sends it. */
const MAX_CLOCK_SKEW_S = 300;
/** Nonces remembered per syncer, at most; each for {@link MAX_CLOCK_SKEW_S} on both sides of its timestamp. */
const MAX_NONCES = 100_000;
const PATH = /^\/wecom\/callback\/[0-9a-f]{32}$/;

/** Whether a request may be for a receiver at all (its method and the shape of its path): the others are refused unread. */
export function mayBeEvent(method: string, pathname: string): boolean {
  return (method === 'GET' || method === 'POST') && PATH.test(pathname);
}

/**
 * WeCom's side of the receiver, without HTTP: the URL check (GET with
 * `echostr`) and event delivery (POST). Answers 200 only for a request whose
 * signature (compared in constant time), timestamp, nonce, decryption and
 * receive id all hold; 4xx for anything else, so WeCom does not retry what can
 * never succeed; 503 only when the operator itself failed (a Secret it could
 * not read), which a retry may fix.
 */
export class CallbackReceiver {
  readonly #deps: ReceiverDeps;
  readonly #now: () => number;
  /** Per syncer: nonce and timestamp -> when it may be forgotten (ms). */
  readonly #seen = new Map<string, Map<string, number>>();

  constructor(deps: ReceiverDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  async answer(method: string, url: URL, body: string): Promise<Answer> {
    if (method !== 'GET' && method !== 'POST') return refuse(405, 'only GET (the URL check) and POST (events)');
    if (!PATH.test(url.pathname)) return refuse(404, 'no such receiver');
    let target: CallbackTarget | undefined;
    try {
      target = await this.#deps.target(url.pathname);
    } catch (error) {
      this.#deps.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'event receiver: could not read a syncer\'s callback Secrets');
      return { status: 503, body: 'the receiver cannot verify events right now\n' };
    }
    if (!target) return refuse(404, 'no such receiver');
    const signature = url.searchParams.get('msg_signature') ?? '';
    const timestamp = url.searchParams.get('timestamp') ?? '';
    const nonce = url.searchParams.get('nonce') ?? '';
    if (!/^[0-9a-fA-F]{40}$/.test(signature) || !/^\d{1,12}$/.test(timestamp) || !/^[\w-]{1,64}$/.test(nonce)) {
      return refuse(400, 'msg_signature, timestamp and nonce are required');
    }
    if (Math.abs(this.#now() / 1000 - Number(timestamp)) > MAX_CLOCK_SKEW_S) return refuse(400, 'the timestamp is more than 5 minutes off');
    try {
      return method === 'GET'
        ? this.#urlCheck(target, url, signature, timestamp, nonce)
        : this.#event(target, body, signature, timestamp, nonce);
    } catch (error) {
      if (error instanceof CallbackCryptoError || error instanceof CallbackXmlError) return refuse(400, error.message);
      throw error;
    }
  }

  /** The URL check: the decrypted echostr, as the bare body. */
  #urlCheck(target: CallbackTarget, url: URL, signature: string, timestamp: string, nonce: string): Answer {
    // Base64 holds no space: one here is a `+` that was not percent-encoded, read as form encoding reads it.
    const echo = (url.searchParams.get('echostr') ?? '').replaceAll(' ', '+');
    if (echo === '') return refuse(400, 'echostr is required');
    const refused = this.#verify(target, signature, timestamp, nonce, echo);
    if (refused) return refused;
    const { message, receiveId } = decryptMessage(target.aesKey, echo);
    if (receiveId !== target.corpId) return refuse(403, 'encrypted for another corp');
    this.#deps.logger.info({ syncer: target.key }, 'event receiver: WeCom checked the URL');
    return { status: 200, body: message };
  }

  #event(target: CallbackTarget, body: string, signature: string, timestamp: string, nonce: string): Answer {
    const envelope = parseCallbackXml(body);
    const encrypted = envelope.get('Encrypt')?.trim() ?? '';
    if (encrypted === '') return refuse(400, 'no Encrypt element');
    const refused = this.#verify(target, signature, timestamp, nonce, encrypted);
    if (refused) return refused;
    const { message, receiveId } = decryptMessage(target.aesKey, encrypted);
    if (receiveId !== target.corpId) return refuse(403, 'encrypted for another corp');
    const fields = parseCallbackXml(message);
    if (fields.get('MsgType') === 'event' && fields.get('Event') === 'change_contact') {
      this.#deps.received(target, { changeType: fields.get('ChangeType') ?? '' });
    }
    // Another verified event (an app's, a batch job's) is no change of contacts: acknowledged, nothing more.
    return { status: 200, body: '' };
  }

  /** Checks the signature, then the nonce: only a signed request may use a nonce up. */
  #verify(target: CallbackTarget, signature: string, timestamp: string, nonce: string, encrypted: string): Answer | undefined {
    if (!signatureMatches(signature, target.token, timestamp, nonce, encrypted)) return refuse(403, 'bad signature');
    let seen = this.#seen.get(target.key);
    if (!seen) this.#seen.set(target.key, (seen = new Map()));
    const now = this.#now();
    // Oldest first (a Map keeps insertion order): expired nonces go as new ones come, so the map stays small.
    for (const [used, until] of seen) {
      if (until >= now) break;
      seen.delete(used);
    }
    if (seen.size >= MAX_NONCES) return refuse(429, 'too many requests in five minutes');
    const used = `${timestamp}:${nonce}`;
    if (seen.has(used)) return refuse(409, 'this nonce was used already');
    seen.set(used, (Number(timestamp) + MAX_CLOCK_SKEW_S) * 1000);
    return undefined;
  }
}

function refuse(status: number, why: string): Answer {
  return { status, body: `${why}\n` };
}
