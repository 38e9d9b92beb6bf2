import { createHmac } from 'node:crypto';
import type { WeComSyncer } from '../api/wecom-syncer.ts';
import { SecretProblem, type SecretReader } from '../secrets/reader.ts';
import { type CallbackKey, CallbackCryptoError, parseEncodingAESKey } from '../wecom/callback-crypto.ts';

/** Where the receiver serves the syncers' event paths. */
const CALLBACK_PATH_PREFIX = '/wecom/callback/';

/** What verifying a syncer's events takes: its receiver's Token and key, and where WeCom sends them. */
export interface CallbackSecrets {
  token: string;
  aesKey: CallbackKey;
  path: string;
}

/**
 * The event path of a syncer: an HMAC of its namespace and name keyed by the
 * Token, so the path gives neither the Token nor the syncer away, guessing one
 * is hopeless, and a new Token moves it.
 */
export function callbackPath(token: string, namespace: string, name: string): string {
  return CALLBACK_PATH_PREFIX + createHmac('sha256', token).update(`${namespace}/${name}`).digest('hex').slice(0, 32);
}

/** Reads the Secrets of a syncer's spec.callback; undefined without one. Throws SecretProblem for a missing or unusable key. */
export async function readCallbackSecrets(read: SecretReader, syncer: WeComSyncer): Promise<CallbackSecrets | undefined> {
  const callback = syncer.spec.callback;
  if (!callback) return undefined;
  const namespace = syncer.metadata.namespace ?? 'default';
  const token = (await read(namespace, callback.tokenRef)).value;
  const encoded = (await read(namespace, callback.encodingAESKeyRef)).value;
  let aesKey: CallbackKey;
  try {
    aesKey = parseEncodingAESKey(encoded);
  } catch (error) {
    if (!(error instanceof CallbackCryptoError)) throw error;
    const ref = callback.encodingAESKeyRef;
    throw new SecretProblem('SecretInvalid', `key "${ref.key}" of Secret ${namespace}/${ref.name} is not an EncodingAESKey: ${error.message}`);
  }
  return { token, aesKey, path: callbackPath(token, namespace, syncer.metadata.name) };
}
