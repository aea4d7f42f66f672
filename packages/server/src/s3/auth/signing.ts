/**
 * SigV4 cryptographic primitives shared by request authentication (`sigv4.ts`) and the
 * aws-chunked body decoder (`chunked.ts`). Only node:crypto is used.
 */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const SCOPE_TERMINATOR = 'aws4_request';

/** SHA-256 of the empty string, hex: the "hash of the chunk headers" in chunk signatures. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function hmacHex(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

/**
 * Compares a computed signature with the one a client sent without leaking, through timing,
 * how many leading characters matched. Length is not secret (always 64 hex characters).
 */
export function signaturesEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(provided, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret}`, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, SCOPE_TERMINATOR);
}

/**
 * Derived signing keys, least recently used evicted first. A key is valid for one day, one
 * region and one service, so a busy server derives each key once a day instead of four HMACs
 * per request. One cache per authenticator: no module-level state.
 */
export class SigningKeyCache {
  readonly #max: number;
  readonly #keys = new Map<string, Buffer>();

  constructor(maxEntries = 256) {
    this.#max = Math.max(1, maxEntries);
  }

  get size(): number {
    return this.#keys.size;
  }

  get(secret: string, date: string, region: string, service: string): Buffer {
    // JSON keeps the four parts apart whatever characters a (query-decoded) region contains.
    const id = JSON.stringify([date, region, service, secret]);
    const hit = this.#keys.get(id);
    if (hit !== undefined) {
      // Re-insert so Map iteration order doubles as recency order.
      this.#keys.delete(id);
      this.#keys.set(id, hit);
      return hit;
    }
    const key = deriveSigningKey(secret, date, region, service);
    this.#keys.set(id, key);
    if (this.#keys.size > this.#max) {
      const oldest = this.#keys.keys().next();
      if (!oldest.done) this.#keys.delete(oldest.value);
    }
    return key;
  }
}

/** `41 57 53 34 ...`: how AWS spells bytes in StringToSignBytes / CanonicalRequestBytes. */
export function spacedHex(bytes: Uint8Array): string {
  const out: string[] = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i].toString(16).padStart(2, '0');
  return out.join(' ');
}
