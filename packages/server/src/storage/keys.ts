/**
 * Binary key layout of the metadata store, designed so that every listing is a range scan.
 *
 *   current:  <bucket> 00 <escaped key>
 *   versions: <bucket> 00 <escaped key> 00 <inverted lastModified, 8 bytes> <inverted version id> FF
 *
 * Object keys are arbitrary UTF-8 and may contain NUL, so key bytes are escaped
 * order-preservingly (00 -> 01 01, 01 -> 01 02) and 00 can serve as the separator: a key sorts
 * before every longer key it is a prefix of, exactly like S3's UTF-8 binary order.
 * Versions of a key sort newest first because their timestamp and id bytes are inverted;
 * the FF terminator puts a shorter id after any longer id it is a prefix of (ids only
 * contain printable ASCII, whose inverted bytes are below FF).
 */

/** LMDB's key limit in lmdb-js is 1978 bytes; stay clearly below it. */
export const MAX_ENCODED_KEY = 1900;

export function escapeKey(key: string): Buffer {
  const raw = Buffer.from(key, 'utf8');
  let extra = 0;
  for (const b of raw) if (b <= 1) extra++;
  if (extra === 0) return raw;
  const out = Buffer.allocUnsafe(raw.length + extra);
  let j = 0;
  for (const b of raw) {
    if (b <= 1) {
      out[j++] = 1;
      out[j++] = b + 1;
    } else {
      out[j++] = b;
    }
  }
  return out;
}

export function unescapeKey(buf: Buffer): string {
  if (!buf.includes(1)) return buf.toString('utf8');
  const out = Buffer.allocUnsafe(buf.length);
  let j = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 1) {
      out[j++] = buf[++i] - 1;
    } else {
      out[j++] = buf[i];
    }
  }
  return out.subarray(0, j).toString('utf8');
}

const SEP = Buffer.from([0]);

export function bucketPrefix(bucket: string): Buffer {
  return Buffer.concat([Buffer.from(bucket, 'utf8'), SEP]);
}

export function currentKey(bucket: string, key: string): Buffer {
  return Buffer.concat([Buffer.from(bucket, 'utf8'), SEP, escapeKey(key)]);
}

/** Prefix of every version entry of one object key. */
export function versionStackPrefix(bucket: string, key: string): Buffer {
  return Buffer.concat([Buffer.from(bucket, 'utf8'), SEP, escapeKey(key), SEP]);
}

export function versionSortSuffix(lastModified: number, versionId: string): Buffer {
  const out = Buffer.allocUnsafe(8 + Buffer.byteLength(versionId) + 1);
  out.writeBigUInt64BE(0xffffffffffffffffn - BigInt(lastModified), 0);
  const id = Buffer.from(versionId, 'utf8');
  for (let i = 0; i < id.length; i++) out[8 + i] = 255 - id[i];
  out[out.length - 1] = 0xff;
  return out;
}

export function versionKey(bucket: string, key: string, lastModified: number, versionId: string): Buffer {
  return Buffer.concat([versionStackPrefix(bucket, key), versionSortSuffix(lastModified, versionId)]);
}

/**
 * The smallest byte string greater than every string that starts with `prefix`
 * (undefined when there is none, i.e. the prefix is all FF bytes).
 */
export function prefixSuccessor(prefix: Buffer): Buffer | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const out = Buffer.from(prefix.subarray(0, i + 1));
      out[i]++;
      return out;
    }
  }
  return undefined;
}

/** The object key of a `current` entry, given the bucket prefix length. */
export function objectKeyOf(entryKey: Buffer, bucketPrefixLength: number): string {
  return unescapeKey(entryKey.subarray(bucketPrefixLength));
}

/**
 * Compares two keys in UTF-8 byte order (S3's order). UTF-8 orders by code point; UTF-16 code
 * units order the same way except that surrogates (D800-DFFF, which encode code points above
 * FFFF) must rank above E000-FFFF. Comparing code units with that one adjustment gives
 * code-point order without decoding.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

function utf8Rank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** An in-progress upload: `<bucket> 00 <escaped key> 00 <upload id>`; uploads sort by key, then age. */
export function uploadKey(bucket: string, key: string, uploadId: string): Buffer {
  return Buffer.concat([versionStackPrefix(bucket, key), Buffer.from(uploadId, 'latin1')]);
}

/** A part of an upload: `<upload id> 00 <part number, 2 bytes>`. */
export function partKey(uploadId: string, partNumber: number): Buffer {
  const out = Buffer.alloc(uploadId.length + 3);
  out.write(uploadId, 0, 'latin1');
  out.writeUInt16BE(partNumber, uploadId.length + 1);
  return out;
}

/** A queued replication: `<destination bucket> 00 <seq, 8 bytes>`, in order per destination. */
export function outboxKey(destination: string, seq: number): Buffer {
  const out = Buffer.alloc(Buffer.byteLength(destination) + 9);
  out.write(destination, 0, 'utf8');
  out.writeBigUInt64BE(BigInt(seq), out.length - 8);
  return out;
}
