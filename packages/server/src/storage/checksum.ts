/**
 * Streaming checksums for object bodies.
 *
 * Every PUT computes MD5 (for the ETag) and at most one of the S3 flexible checksums in the
 * same pass over the bytes, so a body is read once whatever the client asked for. Values are
 * the big-endian digest bytes, base64-encoded, which is what S3 sends in `x-amz-checksum-*`.
 *
 * CRC32 uses `zlib.crc32` (native, Node >= 20.15 / 22.2) when present. CRC32C and CRC64NVME
 * have no native implementation in Node, so they are slice-by-8 table CRCs here: the
 * `@aws-crypto` / `@aws-sdk` packages are byte-at-a-time or promise-returning, and the data
 * path wants a synchronous `update` that runs at hundreds of MB/s.
 */
import { createHash, type Hash } from 'node:crypto';
import { endianness } from 'node:os';
import * as zlib from 'node:zlib';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'SHA1' | 'SHA256' | 'CRC64NVME';

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = Object.freeze([
  'CRC32',
  'CRC32C',
  'SHA1',
  'SHA256',
  'CRC64NVME',
]);

const DIGEST_LENGTH: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4,
  CRC32C: 4,
  SHA1: 20,
  SHA256: 32,
  CRC64NVME: 8,
};

/** Length in bytes of the raw digest, e.g. 4 for CRC32. */
export function checksumDigestLength(a: ChecksumAlgorithm): number {
  return DIGEST_LENGTH[a];
}

/** The header that carries the value, e.g. `x-amz-checksum-crc32c` for `CRC32C`. */
export function checksumHeaderName(a: ChecksumAlgorithm): string {
  return `x-amz-checksum-${a.toLowerCase()}`;
}

/** `'crc32c'` → `'CRC32C'`; anything that is not an algorithm name → `undefined`. */
export function parseChecksumAlgorithm(value: string): ChecksumAlgorithm | undefined {
  const upper = value.toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper) ? (upper as ChecksumAlgorithm) : undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Whether `base64` is canonical padded base64 of exactly the digest length of `a`. Node's
 * decoder skips invalid characters, so the string is checked before it is decoded.
 */
export function isValidChecksumValue(a: ChecksumAlgorithm, base64: string): boolean {
  if (!BASE64.test(base64)) return false;
  const bytes = Buffer.from(base64, 'base64');
  // Rejects non-zero trailing bits, which would make two strings name one digest.
  return bytes.length === DIGEST_LENGTH[a] && bytes.toString('base64') === base64;
}

/** An incremental digest. `digest()` ends it: call it once. */
export interface Hasher {
  update(chunk: Uint8Array): void;
  digest(): Buffer;
}

export function createHasher(a: ChecksumAlgorithm): Hasher {
  switch (a) {
    case 'CRC32':
      return typeof zlib.crc32 === 'function' ? new ZlibCrc32() : new TableCrc32(CRC32_TABLES());
    case 'CRC32C':
      return new TableCrc32(CRC32C_TABLES());
    case 'CRC64NVME':
      return new TableCrc64(CRC64NVME_TABLES());
    case 'SHA1':
      return new NodeHash(createHash('sha1'));
    case 'SHA256':
      return new NodeHash(createHash('sha256'));
  }
}

/**
 * The portable CRC32 used when `zlib.crc32` is missing. Exported so tests can check it
 * against the native one on runtimes that have both.
 */
export function createSoftwareCrc32(): Hasher {
  return new TableCrc32(CRC32_TABLES());
}

export interface BodyDigestResult {
  md5Hex: string;
  md5Base64: string;
  size: number;
  checksum?: { algorithm: ChecksumAlgorithm; base64: string };
}

/** MD5, byte count and an optional flexible checksum of one body, in one pass. */
export class BodyDigest {
  readonly algorithm: ChecksumAlgorithm | undefined;
  private readonly md5: Hash = createHash('md5');
  private readonly extra: Hasher | undefined;
  private size = 0;
  private finished = false;

  constructor(algorithm?: ChecksumAlgorithm) {
    this.algorithm = algorithm;
    this.extra = algorithm === undefined ? undefined : createHasher(algorithm);
  }

  update(chunk: Uint8Array): void {
    if (this.finished) throw new Error('BodyDigest.update after finish');
    this.size += chunk.byteLength;
    this.md5.update(chunk);
    this.extra?.update(chunk);
  }

  finish(): BodyDigestResult {
    if (this.finished) throw new Error('BodyDigest.finish called twice');
    this.finished = true;
    return digestResult(this.md5.digest(), this.size, this.algorithm, this.extra);
  }
}

/** An MD5 computed elsewhere (a worker thread): fed in order, read once at the end. */
export interface RemoteMd5 {
  /** A promise when the caller should wait before sending more. */
  update(chunk: Uint8Array): Promise<void> | undefined;
  digest(): Promise<Buffer>;
  abort(): void;
}

/** BodyDigest with the MD5 computed by `md5` (off this thread); the checksum stays here. */
export class SplitBodyDigest {
  readonly algorithm: ChecksumAlgorithm | undefined;
  private readonly extra: Hasher | undefined;
  private size = 0;

  constructor(
    private readonly md5: RemoteMd5,
    algorithm?: ChecksumAlgorithm,
  ) {
    this.algorithm = algorithm;
    this.extra = algorithm === undefined ? undefined : createHasher(algorithm);
  }

  update(chunk: Uint8Array): Promise<void> | undefined {
    this.size += chunk.byteLength;
    this.extra?.update(chunk);
    return this.md5.update(chunk);
  }

  async finish(): Promise<BodyDigestResult> {
    return digestResult(await this.md5.digest(), this.size, this.algorithm, this.extra);
  }

  abort(): void {
    this.md5.abort();
  }
}

function digestResult(
  md5: Buffer,
  size: number,
  algorithm: ChecksumAlgorithm | undefined,
  extra: Hasher | undefined,
): BodyDigestResult {
  const result: BodyDigestResult = { md5Hex: md5.toString('hex'), md5Base64: md5.toString('base64'), size };
  if (algorithm !== undefined && extra !== undefined) {
    result.checksum = { algorithm, base64: extra.digest().toString('base64') };
  }
  return result;
}

class NodeHash implements Hasher {
  constructor(private readonly hash: Hash) {}
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

class ZlibCrc32 implements Hasher {
  private crc = 0;
  update(chunk: Uint8Array): void {
    this.crc = zlib.crc32(chunk, this.crc);
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE(this.crc >>> 0, 0);
    return out;
  }
}

/*
 * Slice-by-8 for reflected CRCs: table k maps a byte to the CRC of that byte followed by k
 * zero bytes, so eight input bytes fold into the register with eight lookups. Tables are
 * Int32Array because V8 keeps int32 values unboxed; the sign is fixed with `>>> 0` at the end.
 * On little-endian hosts (all that Node ships for) the body is read as aligned 32-bit words.
 */

const LITTLE_ENDIAN = endianness() === 'LE';

function memo<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

/** 8 tables of 256 entries, flattened: entry i of table k is at k * 256 + i. */
function crc32Tables(reflectedPoly: number): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let j = 0; j < 8; j++) c = c & 1 ? (c >>> 1) ^ reflectedPoly : c >>> 1;
    t[i] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const prev = t[(k - 1) * 256 + i];
      t[k * 256 + i] = (prev >>> 8) ^ t[prev & 0xff];
    }
  }
  return t;
}

const CRC32_TABLES = memo(() => crc32Tables(0xedb88320));
const CRC32C_TABLES = memo(() => crc32Tables(0x82f63b78));

class TableCrc32 implements Hasher {
  private crc = -1;
  constructor(private readonly t: Int32Array) {}

  update(d: Uint8Array): void {
    const t = this.t;
    const len = d.length;
    let crc = this.crc;
    let i = 0;
    if (LITTLE_ENDIAN && len >= 16) {
      // Align, then read 32-bit words through a view: cheaper than assembling four bytes.
      for (const head = (4 - (d.byteOffset & 3)) & 3; i < head; i++) {
        crc = (crc >>> 8) ^ t[(crc ^ d[i]) & 0xff];
      }
      const w = new Int32Array(d.buffer, d.byteOffset + i, ((len - i) >>> 3) << 1);
      for (let k = 0; k < w.length; k += 2) {
        const a = crc ^ w[k];
        const b = w[k + 1];
        crc =
          t[1792 + (a & 0xff)] ^
          t[1536 + ((a >>> 8) & 0xff)] ^
          t[1280 + ((a >>> 16) & 0xff)] ^
          t[1024 + (a >>> 24)] ^
          t[768 + (b & 0xff)] ^
          t[512 + ((b >>> 8) & 0xff)] ^
          t[256 + ((b >>> 16) & 0xff)] ^
          t[b >>> 24];
      }
      i += w.length << 2;
    }
    for (; i < len; i++) crc = (crc >>> 8) ^ t[(crc ^ d[i]) & 0xff];
    this.crc = crc;
  }

  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE(~this.crc >>> 0, 0);
    return out;
  }
}

/**
 * CRC64 tables as two Int32Arrays (high and low 32 bits of each entry), same layout as
 * `crc32Tables`. BigInt only runs here, once.
 */
function crc64Tables(reflectedPoly: bigint): { hi: Int32Array; lo: Int32Array } {
  const mask = (1n << 64n) - 1n;
  const big = new Array<bigint>(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let j = 0; j < 8; j++) c = c & 1n ? (c >> 1n) ^ reflectedPoly : c >> 1n;
    big[i] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const prev = big[(k - 1) * 256 + i];
      big[k * 256 + i] = ((prev >> 8n) ^ big[Number(prev & 0xffn)]) & mask;
    }
  }
  const hi = new Int32Array(8 * 256);
  const lo = new Int32Array(8 * 256);
  for (let n = 0; n < big.length; n++) {
    hi[n] = Number(big[n] >> 32n) | 0;
    lo[n] = Number(big[n] & 0xffffffffn) | 0;
  }
  return { hi, lo };
}

const CRC64NVME_TABLES = memo(() => crc64Tables(0x9a6c9329ac4bc9b5n));

class TableCrc64 implements Hasher {
  private hi = -1;
  private lo = -1;
  private readonly th: Int32Array;
  private readonly tl: Int32Array;

  constructor(tables: { hi: Int32Array; lo: Int32Array }) {
    this.th = tables.hi;
    this.tl = tables.lo;
  }

  update(d: Uint8Array): void {
    const th = this.th;
    const tl = this.tl;
    const len = d.length;
    let hi = this.hi;
    let lo = this.lo;
    let i = 0;
    if (LITTLE_ENDIAN && len >= 16) {
      for (const head = (4 - (d.byteOffset & 3)) & 3; i < head; i++) {
        const idx = (lo ^ d[i]) & 0xff;
        lo = ((lo >>> 8) | (hi << 24)) ^ tl[idx];
        hi = (hi >>> 8) ^ th[idx];
      }
      const w = new Int32Array(d.buffer, d.byteOffset + i, ((len - i) >>> 3) << 1);
      for (let k = 0; k < w.length; k += 2) {
        // Reflected: the low register word meets the first four data bytes.
        const a = lo ^ w[k];
        const b = hi ^ w[k + 1];
        const i7 = 1792 + (a & 0xff);
        const i6 = 1536 + ((a >>> 8) & 0xff);
        const i5 = 1280 + ((a >>> 16) & 0xff);
        const i4 = 1024 + (a >>> 24);
        const i3 = 768 + (b & 0xff);
        const i2 = 512 + ((b >>> 8) & 0xff);
        const i1 = 256 + ((b >>> 16) & 0xff);
        const i0 = b >>> 24;
        hi = th[i7] ^ th[i6] ^ th[i5] ^ th[i4] ^ th[i3] ^ th[i2] ^ th[i1] ^ th[i0];
        lo = tl[i7] ^ tl[i6] ^ tl[i5] ^ tl[i4] ^ tl[i3] ^ tl[i2] ^ tl[i1] ^ tl[i0];
      }
      i += w.length << 2;
    }
    for (; i < len; i++) {
      const idx = (lo ^ d[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ tl[idx];
      hi = (hi >>> 8) ^ th[idx];
    }
    this.hi = hi;
    this.lo = lo;
  }

  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE(~this.hi >>> 0, 0);
    out.writeUInt32BE(~this.lo >>> 0, 4);
    return out;
  }
}

/** Whether S3 can combine part checksums of `a` into a full-object checksum (the CRCs only). */
export function supportsFullObject(a: ChecksumAlgorithm): boolean {
  return a === 'CRC32' || a === 'CRC32C' || a === 'CRC64NVME';
}

/** Whether `a` can form a composite (checksum-of-checksums) multipart checksum. */
export function supportsComposite(a: ChecksumAlgorithm): boolean {
  return a !== 'CRC64NVME';
}

/**
 * The composite checksum of a multipart object: the checksum of the concatenated binary part
 * checksums, base64, suffixed with `-<number of parts>`.
 */
export function compositeChecksum(a: ChecksumAlgorithm, partValues: readonly string[]): string {
  const h = createHasher(a);
  for (const v of partValues) h.update(Buffer.from(v, 'base64'));
  return `${h.digest().toString('base64')}-${partValues.length}`;
}

/** The ETag of a multipart object: MD5 of the concatenated binary part MD5s, `-<parts>`. */
export function multipartEtag(partEtags: readonly string[]): string {
  const md5 = createHash('md5');
  for (const e of partEtags) md5.update(Buffer.from(e, 'hex'));
  return `${md5.digest('hex')}-${partEtags.length}`;
}

/** Reflected polynomials and widths of the CRCs whose values can be combined. */
const CRC_PARAMS: Partial<Record<ChecksumAlgorithm, { poly: bigint; width: bigint }>> = {
  CRC32: { poly: 0xedb88320n, width: 32n },
  CRC32C: { poly: 0x82f63b78n, width: 32n },
  CRC64NVME: { poly: 0x9a6c9329ac4bc9b5n, width: 64n },
};

/**
 * The CRC of a whole object from the CRCs of its consecutive parts, without reading the
 * bytes again: crc(AB) = crc(A)·x^(8·|B|) mod P  xor  crc(B), for these CRCs whose initial
 * value and final xor are all ones (the method of zlib's crc32_combine). Values are base64.
 */
export function combineCrcs(a: ChecksumAlgorithm, parts: readonly { value: string; size: number }[]): string {
  const params = CRC_PARAMS[a];
  if (!params) throw new Error(`${a} checksums cannot be combined`);
  const { poly, width } = params;
  const bytes = Number(width / 8n);
  const top = 1n << (width - 1n);
  const mulmod = (x: bigint, y: bigint): bigint => {
    let m = top;
    let p = 0n;
    for (;;) {
      if (x & m) {
        p ^= y;
        if ((x & (m - 1n)) === 0n) break;
      }
      m >>= 1n;
      y = y & 1n ? (y >> 1n) ^ poly : y >> 1n;
    }
    return p;
  };
  // powers[k] = x^(2^k) mod P
  const powers: bigint[] = [top >> 1n];
  const xPow8n = (n: number): bigint => {
    let p = top;
    let k = 3;
    for (let rest = BigInt(n); rest > 0n; rest >>= 1n, k++) {
      while (powers.length <= k) powers.push(mulmod(powers[powers.length - 1], powers[powers.length - 1]));
      if (rest & 1n) p = mulmod(powers[k], p);
    }
    return p;
  };
  let crc = 0n;
  for (const part of parts) {
    const v = BigInt('0x' + Buffer.from(part.value, 'base64').toString('hex'));
    crc = mulmod(xPow8n(part.size), crc) ^ v;
  }
  return Buffer.from(crc.toString(16).padStart(bytes * 2, '0'), 'hex').toString('base64');
}
