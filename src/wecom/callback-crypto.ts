import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The cipher of WeCom's event receiver (its "WXBizMsgCrypt" scheme), on
 * node:crypto. Tencent's `@wecom/crypto` does the same in 100 lines but
 * accepts what it should refuse: a pad byte outside 1-32 is left in the
 * message, the pad bytes and the length field are not checked, and the
 * receive id is returned unchecked. Every check here is one WeCom's messages
 * always pass, so a forged or corrupted one fails one of them; the tests
 * decrypt `@wecom/crypto`'s output and the reverse, and WeCom's published vectors.
 */

/** Why a message was refused. Never carries the key, the token or the plaintext. */
export class CallbackCryptoError extends Error {}

/** AES-256-CBC keys are 32 bytes; WeCom pads the plaintext to a multiple of 32, not of the 16-byte block. */
const KEY_BYTES = 32;
const PAD_BLOCK = 32;
/** 16 random bytes, then the message's length as a 4-byte big-endian integer. */
const HEADER_BYTES = 20;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** An EncodingAESKey made usable: the key, and the IV (the key's first 16 bytes). */
export interface CallbackKey {
  key: Buffer;
  iv: Buffer;
}

/** Parses the 43-character EncodingAESKey; throws for anything else. */
export function parseEncodingAESKey(encodingAESKey: string): CallbackKey {
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAESKey)) throw new CallbackCryptoError('the EncodingAESKey is not 43 letters, digits, + or /');
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  if (key.length !== KEY_BYTES) throw new CallbackCryptoError('the EncodingAESKey does not decode to 32 bytes');
  return { key, iv: key.subarray(0, 16) };
}

/** WeCom's signature: SHA-1, in lowercase hex, of the four values sorted and joined. */
export function callbackSignature(token: string, timestamp: string, nonce: string, encrypted: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypted].sort().join('')).digest('hex');
}

/** Whether `given` is the signature of the values, compared in constant time. */
export function signatureMatches(given: string, token: string, timestamp: string, nonce: string, encrypted: string): boolean {
  const expected = Buffer.from(callbackSignature(token, timestamp, nonce, encrypted), 'latin1');
  const actual = Buffer.from(given.toLowerCase(), 'latin1');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A decrypted message and the id it was encrypted for (the corp ID, for a corp's own receiver). */
export interface Decrypted {
  message: string;
  receiveId: string;
}

/** Decrypts a base64 `Encrypt` value or `echostr`. Throws {@link CallbackCryptoError} for anything WeCom would not send. */
export function decryptMessage(key: CallbackKey, encrypted: string): Decrypted {
  if (!BASE64.test(encrypted)) throw new CallbackCryptoError('the ciphertext is not base64');
  const cipherText = Buffer.from(encrypted, 'base64');
  if (cipherText.length === 0 || cipherText.length % PAD_BLOCK !== 0) throw new CallbackCryptoError('the ciphertext is not a whole number of 32-byte blocks');
  const decipher = createDecipheriv('aes-256-cbc', key.key, key.iv);
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(cipherText), decipher.final()]);
  const pad = plain[plain.length - 1]!;
  if (pad < 1 || pad > PAD_BLOCK || !plain.subarray(plain.length - pad).every((byte) => byte === pad)) throw new CallbackCryptoError('the padding is not PKCS#7 to 32 bytes');
  const body = plain.subarray(0, plain.length - pad);
  if (body.length < HEADER_BYTES) throw new CallbackCryptoError('the plaintext is shorter than its header');
  const length = body.readUInt32BE(16);
  if (HEADER_BYTES + length > body.length) throw new CallbackCryptoError('the message length runs past the plaintext');
  return {
    message: body.subarray(HEADER_BYTES, HEADER_BYTES + length).toString('utf8'),
    receiveId: body.subarray(HEADER_BYTES + length).toString('utf8'),
  };
}

/** Encrypts as WeCom does: what a reply to WeCom would carry; the tests check it against Tencent's library. */
export function encryptMessage(key: CallbackKey, message: string, receiveId: string, random: Buffer = randomBytes(16)): string {
  const text = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(text.length);
  const body = Buffer.concat([random, length, text, Buffer.from(receiveId, 'utf8')]);
  const pad = PAD_BLOCK - (body.length % PAD_BLOCK);
  const cipher = createCipheriv('aes-256-cbc', key.key, key.iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([body, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}
