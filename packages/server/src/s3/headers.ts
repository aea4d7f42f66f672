import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../core/errors.ts';
import { CHECKSUM_ALGORITHMS, checksumHeaderName, parseChecksumAlgorithm, type ChecksumAlgorithm } from '../storage/checksum.ts';
import type { ContentHeaders, ObjectVersion, ReplicationStatus } from '../storage/types.ts';

/** S3 limits user-defined metadata to 2 KB: the UTF-8 bytes of every name and value. */
export const MAX_USER_METADATA = 2048;

export const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  'EXPRESS_ONEZONE',
]);

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function userMetadataFrom(headers: IncomingHttpHeaders): Record<string, string> {
  const meta: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const key = name.slice('x-amz-meta-'.length);
    const v = Array.isArray(value) ? value.join(',') : value;
    meta[key] = v;
    // Node reads header bytes as latin1, one character per byte: the UTF-8 bytes the client
    // sent are the string's latin1 length (UTF-8 of the latin1 string would count them twice).
    size += Buffer.byteLength(key, 'latin1') + Buffer.byteLength(v, 'latin1');
  }
  if (size > MAX_USER_METADATA) {
    throw new S3Error('MetadataTooLarge', undefined, {
      fields: { Size: String(size), MaxSizeAllowed: String(MAX_USER_METADATA) },
    });
  }
  return meta;
}

export function contentHeadersFrom(headers: IncomingHttpHeaders): ContentHeaders {
  // aws-chunked is transfer framing, not a property of the object.
  const encoding = header(headers, 'content-encoding')
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked')
    .join(',');
  return {
    contentType: header(headers, 'content-type'),
    contentEncoding: encoding === '' ? undefined : encoding,
    contentDisposition: header(headers, 'content-disposition'),
    contentLanguage: header(headers, 'content-language'),
    cacheControl: header(headers, 'cache-control'),
    expires: header(headers, 'expires'),
  };
}

export function storageClassFrom(headers: IncomingHttpHeaders): string | undefined {
  const sc = header(headers, 'x-amz-storage-class');
  if (sc === undefined) return undefined;
  if (!STORAGE_CLASSES.has(sc)) throw new S3Error('InvalidStorageClass', undefined, { fields: { StorageClassRequested: sc } });
  return sc;
}

/**
 * Which flexible checksum a PUT asks for and where its value is: a header (known now) or a
 * trailer (known when the body ends). SDKs name the algorithm in
 * `x-amz-sdk-checksum-algorithm`/`x-amz-checksum-algorithm`, or only send the value header.
 */
export function requestedChecksum(
  headers: IncomingHttpHeaders,
): { algorithm: ChecksumAlgorithm; headerValue?: string; inTrailer: boolean } | undefined {
  const trailer = header(headers, 'x-amz-trailer')?.trim().toLowerCase();
  if (trailer) {
    const algorithm = CHECKSUM_ALGORITHMS.find((a) => checksumHeaderName(a) === trailer);
    if (!algorithm) throw new S3Error('InvalidRequest', `The value specified in the x-amz-trailer header is not supported`);
    return { algorithm, inTrailer: true };
  }
  const present = CHECKSUM_ALGORITHMS.filter((a) => headers[checksumHeaderName(a)] !== undefined);
  if (present.length > 1) {
    throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  }
  const named = header(headers, 'x-amz-sdk-checksum-algorithm') ?? header(headers, 'x-amz-checksum-algorithm');
  if (present.length === 1) {
    const algorithm = present[0];
    if (named !== undefined && parseChecksumAlgorithm(named) !== algorithm) {
      throw new S3Error('InvalidRequest', `Value for x-amz-sdk-checksum-algorithm header is invalid.`);
    }
    return { algorithm, headerValue: header(headers, checksumHeaderName(algorithm)), inTrailer: false };
  }
  if (named !== undefined) {
    if (!parseChecksumAlgorithm(named)) {
      throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    }
    throw new S3Error(
      'InvalidRequest',
      'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.',
    );
  }
  return undefined;
}

export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

/** The headers GET and HEAD return for a version. */
export function objectHeaders(
  v: ObjectVersion,
  opts: { versioned: boolean; checksumMode: boolean },
): Record<string, string> {
  const h: Record<string, string> = {
    etag: quoteEtag(v.etag),
    'last-modified': new Date(v.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
    'content-type': v.contentType ?? 'binary/octet-stream',
  };
  if (v.contentEncoding) h['content-encoding'] = v.contentEncoding;
  if (v.contentDisposition) h['content-disposition'] = v.contentDisposition;
  if (v.contentLanguage) h['content-language'] = v.contentLanguage;
  if (v.cacheControl) h['cache-control'] = v.cacheControl;
  if (v.expires) h.expires = v.expires;
  if (v.storageClass !== 'STANDARD') h['x-amz-storage-class'] = v.storageClass;
  if (opts.versioned) h['x-amz-version-id'] = v.versionId;
  for (const [k, value] of Object.entries(v.userMetadata)) h[`x-amz-meta-${k}`] = value;
  if (v.tags?.length) h['x-amz-tagging-count'] = String(v.tags.length);
  const replication = replicationStatus(v);
  if (replication) h['x-amz-replication-status'] = replication;
  if (opts.checksumMode && v.checksum) {
    h[checksumHeaderName(v.checksum.algorithm)] = v.checksum.value;
    h['x-amz-checksum-type'] = v.checksum.type;
  }
  return h;
}

/**
 * `x-amz-replication-status` of a version: on a source, FAILED if any destination failed,
 * else PENDING while any is outstanding, else COMPLETED; REPLICA on a replica (PENDING or
 * FAILED while a change made to it syncs back). Versions no rule matched have none.
 */
export function replicationStatus(v: ObjectVersion): 'REPLICA' | ReplicationStatus | undefined {
  const states = Object.values(v.replication ?? {}).map((d) => d.status);
  if (states.includes('FAILED')) return 'FAILED';
  if (states.includes('PENDING')) return 'PENDING';
  // A replica whose own changes have gone back to its source is a replica again.
  if (v.replica) return 'REPLICA';
  return states.length > 0 ? 'COMPLETED' : undefined;
}
