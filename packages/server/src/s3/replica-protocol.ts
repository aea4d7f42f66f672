/**
 * How one region hands a replicated version to another: an ordinary S3 PUT (or, for a
 * delete marker, DELETE) of the key, signed by the world's service identity, carrying the
 * source version's identity and digests in `x-meridian-*` headers. Only the service identity
 * may send them; the receiving region stores the version under the same id and time.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../core/errors.ts';
import { parseChecksumAlgorithm } from '../storage/checksum.ts';
import type { Readable } from 'node:stream';
import { ByteReader } from '../core/streams.ts';
import type { Grant, ObjectVersion, PartRecord, ReplicaWrite, StoredChecksum } from '../storage/types.ts';
import { contentHeadersFrom, header, userMetadataFrom } from './headers.ts';
import { parseTaggingHeader, taggingHeader } from './tagging.ts';

export const REPLICA_HEADER = 'x-meridian-replica';

/** The headers that describe `v` to the destination (besides its bytes). */
export function replicaHeaders(
  v: ObjectVersion,
  opts: { storageClass?: string; metadataOnly?: boolean; manifestLength?: number; owner?: string } = {},
): Record<string, string> {
  const h: Record<string, string> = {
    [REPLICA_HEADER]: '1',
    'x-meridian-version-id': v.versionId,
    'x-meridian-last-modified': String(v.lastModified),
    'x-meridian-owner': opts.owner ?? v.owner,
  };
  // AccessControlTranslation: the destination's account owns the replica and its ACL.
  const acl = opts.owner === undefined ? v.acl : undefined;
  if (opts.owner !== undefined) h['x-meridian-acl-translated'] = '1';
  if (v.metadataModified !== undefined) h['x-meridian-metadata-modified'] = String(v.metadataModified);
  if (opts.metadataOnly) {
    h['x-meridian-operation'] = 'metadata';
    if (acl) h['x-meridian-acl'] = encodeAcl(acl);
    if (v.tags?.length) h['x-amz-tagging'] = taggingHeader(v.tags);
    return h;
  }
  if (v.isDeleteMarker) {
    h['x-meridian-delete-marker'] = 'true';
    return h;
  }
  h['x-meridian-etag'] = v.etag;
  if (opts.manifestLength !== undefined) h['x-meridian-manifest-length'] = String(opts.manifestLength);
  if (v.partsCount !== undefined) h['x-meridian-parts-count'] = String(v.partsCount);
  if (v.checksum) h['x-meridian-checksum'] = `${v.checksum.algorithm}:${v.checksum.type}:${v.checksum.value}`;
  if (acl) h['x-meridian-acl'] = encodeAcl(acl);
  if (v.tags?.length) h['x-amz-tagging'] = taggingHeader(v.tags);
  h['x-amz-storage-class'] = opts.storageClass ?? v.storageClass;
  if (v.contentType) h['content-type'] = v.contentType;
  if (v.contentEncoding) h['content-encoding'] = v.contentEncoding;
  if (v.contentDisposition) h['content-disposition'] = v.contentDisposition;
  if (v.contentLanguage) h['content-language'] = v.contentLanguage;
  if (v.cacheControl) h['cache-control'] = v.cacheControl;
  if (v.expires) h.expires = v.expires;
  for (const [k, value] of Object.entries(v.userMetadata)) h[`x-amz-meta-${k}`] = value;
  return h;
}

/**
 * A multipart version travels with its part list, so the replica keeps the source's parts:
 * the body starts with this JSON document (`x-meridian-manifest-length` bytes), then the bytes.
 */
export function partManifest(parts: readonly PartRecord[]): Buffer {
  return Buffer.from(
    JSON.stringify(parts.map((p) => ({ partNumber: p.partNumber, size: p.size, etag: p.etag, checksum: p.checksum }))),
  );
}

/** The part list at the head of a replicated multipart body, and the bytes after it. */
export async function readPartManifest(
  headers: IncomingHttpHeaders,
  body: Readable,
): Promise<{ parts?: ReplicaWrite['parts']; rest: Readable }> {
  const raw = header(headers, 'x-meridian-manifest-length');
  if (raw === undefined) return { rest: body };
  const length = Number(raw);
  if (!Number.isSafeInteger(length) || length <= 0 || length > 4 * 1024 * 1024) {
    throw new S3Error('InvalidRequest', 'Invalid x-meridian-manifest-length');
  }
  const reader = new ByteReader(body);
  const head = await reader.readExactly(length);
  let parts: ReplicaWrite['parts'];
  try {
    parts = JSON.parse(head.toString('utf8')) as ReplicaWrite['parts'];
  } catch {
    throw new S3Error('InvalidRequest', 'Invalid part manifest');
  }
  if (!Array.isArray(parts) || head.length !== length) throw new S3Error('InvalidRequest', 'Invalid part manifest');
  return { parts, rest: reader.rest() };
}

function encodeAcl(acl: readonly Grant[]): string {
  return Buffer.from(JSON.stringify(acl)).toString('base64url');
}

function decodeAcl(value: string | undefined): Grant[] | undefined {
  if (value === undefined) return undefined;
  try {
    const grants = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(grants)) return grants as Grant[];
  } catch {
    // fall through
  }
  throw new S3Error('InvalidRequest', 'Invalid x-meridian-acl');
}

export function isReplicaRequest(headers: IncomingHttpHeaders): boolean {
  return headers[REPLICA_HEADER] !== undefined;
}

/** Reads a replicated version's description from a request's headers. */
export function parseReplicaWrite(
  headers: IncomingHttpHeaders,
  target: { bucket: string; key: string },
): Omit<ReplicaWrite, 'body' | 'contentLength'> {
  const required = (name: string): string => {
    const v = header(headers, name);
    if (v === undefined || v === '') throw new S3Error('InvalidRequest', `Missing ${name} for a replicated write`);
    return v;
  };
  const lastModified = Number(required('x-meridian-last-modified'));
  if (!Number.isSafeInteger(lastModified) || lastModified < 0) throw new S3Error('InvalidRequest', 'Invalid x-meridian-last-modified');
  const metadataModifiedRaw = header(headers, 'x-meridian-metadata-modified');
  const metadataModified = metadataModifiedRaw === undefined ? undefined : Number(metadataModifiedRaw);
  if (metadataModified !== undefined && !Number.isSafeInteger(metadataModified)) {
    throw new S3Error('InvalidRequest', 'Invalid x-meridian-metadata-modified');
  }
  const base = {
    bucket: target.bucket,
    key: target.key,
    versionId: required('x-meridian-version-id'),
    lastModified,
    owner: required('x-meridian-owner'),
    metadataModified,
    aclTranslated: header(headers, 'x-meridian-acl-translated') === '1',
  };
  if (header(headers, 'x-meridian-delete-marker') === 'true') return { ...base, deleteMarker: true };
  const acl = header(headers, 'x-meridian-acl');
  const tagging = header(headers, 'x-amz-tagging');
  if (header(headers, 'x-meridian-operation') === 'metadata') {
    return {
      ...base,
      metadataOnly: true,
      acl: decodeAcl(acl),
      tags: tagging === undefined ? undefined : parseTaggingHeader(tagging),
    };
  }
  const parts = header(headers, 'x-meridian-parts-count');
  return {
    ...base,
    etag: required('x-meridian-etag'),
    partsCount: parts === undefined ? undefined : Number(parts),
    checksum: parseChecksum(header(headers, 'x-meridian-checksum')),
    acl: decodeAcl(acl),
    tags: tagging === undefined ? undefined : parseTaggingHeader(tagging),
    storageClass: header(headers, 'x-amz-storage-class'),
    userMetadata: userMetadataFrom(headers),
    ...contentHeadersFrom(headers),
  };
}

function parseChecksum(value: string | undefined): StoredChecksum | undefined {
  if (value === undefined) return undefined;
  const [algorithm, type, checksum] = value.split(':');
  const a = parseChecksumAlgorithm(algorithm ?? '');
  if (!a || (type !== 'FULL_OBJECT' && type !== 'COMPOSITE') || !checksum) {
    throw new S3Error('InvalidRequest', 'Invalid x-meridian-checksum');
  }
  return { algorithm: a, type, value: checksum };
}
