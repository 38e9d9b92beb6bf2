import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ANNOTATION_ALLOWED_URLS } from '../api/group.ts';
import type { SecretKeyRef } from '../api/wecom-syncer.ts';

/** Why a Secret key cannot be used. Never says anything of the value itself. */
export class SecretProblem extends Error {
  /** `SecretNotFound` for a missing Secret or key, `SecretInvalid` for an unusable value. */
  readonly reason: 'SecretNotFound' | 'SecretInvalid';

  constructor(reason: 'SecretNotFound' | 'SecretInvalid', message: string) {
    super(message);
    this.name = 'SecretProblem';
    this.reason = reason;
  }
}

/** One key of a Secret, with what its owner says of where it may go. */
export interface SecretKey {
  value: string;
  /** The Secret's casdoor.org/allowed-urls annotation, as stored. */
  allowedURLs: string | undefined;
}

/** Reads one key of a Secret in a namespace. */
export type SecretReader = (namespace: string, ref: SecretKeyRef) => Promise<SecretKey>;

/** The longest secret accepted; WeCom's are 43 characters. */
const MAX_SECRET_CHARS = 1024;

/**
 * Reads a Secret key with a `get` (the only verb the operator holds on
 * Secrets) and checks that it can be a WeCom secret: present, non-empty, text.
 */
export function kubeSecretReader(kc: KubeConfig): SecretReader {
  const api = kc.makeApiClient(CoreV1Api);
  return async (namespace, ref) => {
    let secret: Awaited<ReturnType<CoreV1Api['readNamespacedSecret']>>;
    try {
      secret = await api.readNamespacedSecret({ name: ref.name, namespace });
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) {
        throw new SecretProblem('SecretNotFound', `Secret ${namespace}/${ref.name} (key "${ref.key}") not found; waiting for it to be created`);
      }
      throw error;
    }
    return { value: decodeSecretValue(secret.data?.[ref.key], namespace, ref), allowedURLs: secret.metadata?.annotations?.[ANNOTATION_ALLOWED_URLS] };
  };
}

/** Validates one base64 Secret value as a WeCom secret; the errors name the Secret and key, never the value. */
export function decodeSecretValue(encoded: string | undefined, namespace: string, ref: SecretKeyRef): string {
  const where = `key "${ref.key}" of Secret ${namespace}/${ref.name}`;
  if (encoded === undefined) throw new SecretProblem('SecretNotFound', `${where} not found; waiting for it to be added`);
  const bytes = Buffer.from(encoded, 'base64');
  const text = bytes.toString('utf8').trim();
  if (text === '') throw new SecretProblem('SecretInvalid', `${where} is empty`);
  if (!Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes) || /[\u0000-\u001f\u007f]/.test(text)) {
    throw new SecretProblem('SecretInvalid', `${where} holds binary data, not a WeCom secret`);
  }
  if (text.length > MAX_SECRET_CHARS) throw new SecretProblem('SecretInvalid', `${where} is longer than ${MAX_SECRET_CHARS} characters`);
  return text;
}

/**
 * scrypt's cost: about 50 ms and 16 MiB per digest here, so that a guess at a
 * weak secret from the digest in status (readable by people who may not read
 * Secrets) costs as much; a digest is made once per stall and once per re-read.
 */
const SCRYPT = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const DIGEST_FORMAT = /^scrypt\.([0-9a-f]{32})\.([0-9a-f]{64})$/;

function scryptHex(values: readonly (string | undefined)[], salt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    scrypt(JSON.stringify(values), salt, 32, SCRYPT, (error, key) => (error ? reject(error) : resolve(key.toString('hex'))));
  });
}

/**
 * A salted, deliberately slow digest of inputs that hold secret values,
 * `scrypt.<salt>.<hash>` in hex, to notice a changed Secret without keeping
 * the values. Salted, so two syncers with one secret show different digests;
 * slow, so the digest is no cheap oracle for guessing a weak secret.
 */
export async function inputsDigest(values: readonly (string | undefined)[], salt = randomBytes(16).toString('hex')): Promise<string> {
  return `scrypt.${salt}.${await scryptHex(values, salt)}`;
}

/** Whether `values` are the inputs `digest` (from {@link inputsDigest}) was made of. */
export async function matchesDigest(digest: string, values: readonly (string | undefined)[]): Promise<boolean> {
  const parts = DIGEST_FORMAT.exec(digest);
  if (!parts) return false;
  const expected = Buffer.from(await scryptHex(values, parts[1]!), 'hex');
  return timingSafeEqual(expected, Buffer.from(parts[2]!, 'hex'));
}
