import { randomBytes } from 'node:crypto';

/**
 * Identifiers. Version ids are opaque to clients but sort by creation time: 9 characters of
 * milliseconds and 4 of a per-generator sequence (both in an order-preserving base-62 alphabet),
 * then 19 random characters. The sequence keeps ids created in the same millisecond in order.
 */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62(value: number, width: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out;
}

function randomChars(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHABET[bytes[i] % 62];
  return out;
}

export const VERSION_ID_LENGTH = 32;
export const NULL_VERSION_ID = 'null';

/** Whether a client-supplied version id has the shape of one (`null` or 32 base-62 characters). */
export function isVersionIdShaped(id: string): boolean {
  return id === NULL_VERSION_ID || /^[0-9A-Za-z]{32}$/.test(id);
}

export class VersionIdGenerator {
  #lastMs = 0;
  #seq = 0;

  next(nowMs: number): string {
    if (nowMs <= this.#lastMs) {
      this.#seq++;
      if (this.#seq >= 62 ** 4) {
        // More than 14.7 million ids in one millisecond: borrow the next millisecond.
        this.#lastMs++;
        this.#seq = 0;
      }
    } else {
      this.#lastMs = nowMs;
      this.#seq = 0;
    }
    return base62(this.#lastMs, 9) + base62(this.#seq, 4) + randomChars(19);
  }
}

/**
 * Request ids look like AWS's: 16 upper-case hex characters. A random per-process prefix and
 * a counter keep them unique without a random draw per request.
 */
const REQUEST_PREFIX = randomBytes(3).toString('hex').toUpperCase();
let requestCounter = 0;
export function newRequestId(): string {
  requestCounter = (requestCounter + 1) % 0x10000000000;
  return REQUEST_PREFIX + requestCounter.toString(16).toUpperCase().padStart(10, '0');
}

/** A host id for `x-amz-id-2`: opaque base64, one per process as it names the host. */
const HOST_ID = randomBytes(24).toString('base64');
export function newHostId(): string {
  return HOST_ID;
}

/**
 * Blob ids name files and inline records: 32 hex digits, a random per-process prefix and a
 * counter, so they never repeat across restarts and are path-safe.
 */
const BLOB_PREFIX = randomBytes(8).toString('hex');
let blobCounter = 0;
export function newBlobId(): string {
  blobCounter++;
  return BLOB_PREFIX + blobCounter.toString(16).padStart(16, '0');
}
