/**
 * The source of CopyObject and UploadPartCopy: `x-amz-copy-source` (`[/]bucket/key[?versionId=id]`,
 * URL-encoded), its `x-amz-copy-source-if-*` conditions and `x-amz-copy-source-range`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { S3Error } from '../core/errors.ts';
import { isVersionIdShaped } from '../core/ids.ts';
import type { ByteRange, ObjectVersion } from '../storage/types.ts';
import { etagMatches } from './conditions.ts';
import type { S3Context } from './context.ts';
import { openRemoteCopySource } from './copy-source-remote.ts';
import { header } from './headers.ts';

export interface CopySource {
  bucket: string;
  key: string;
  versionId?: string;
}

/** A copy source larger than 5 GiB must be copied in parts (UploadPartCopy with ranges). */
export const MAX_COPY_SOURCE = 5 * 1024 ** 3;

export function parseCopySource(value: string): CopySource {
  const invalid = () =>
    new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', {
      fields: { ArgumentName: 'x-amz-copy-source', ArgumentValue: value },
    });
  let path = value.startsWith('/') ? value.slice(1) : value;
  let versionId: string | undefined;
  const q = path.indexOf('?');
  if (q !== -1) {
    const params = new URLSearchParams(path.slice(q + 1));
    path = path.slice(0, q);
    const v = params.get('versionId');
    if (v !== null) {
      if (!isVersionIdShaped(v)) {
        throw new S3Error('InvalidArgument', 'Invalid version id specified', {
          fields: { ArgumentName: 'x-amz-copy-source', ArgumentValue: value },
        });
      }
      versionId = v;
    }
  }
  let decoded: string;
  try {
    // As in a form-encoded path, a literal '+' is a space ('%2B' is a plus).
    decoded = decodeURIComponent(path.replace(/\+/g, ' '));
  } catch {
    throw invalid();
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw invalid();
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

/**
 * `x-amz-copy-source-if-*`: like GET's conditions, except that every failure is 412. If-Match
 * that holds overrides a failing If-Unmodified-Since; If-None-Match that fails overrides a
 * passing If-Modified-Since.
 */
export function checkCopySourceConditions(headers: IncomingHttpHeaders, v: ObjectVersion): void {
  const ifMatch = header(headers, 'x-amz-copy-source-if-match');
  const ifNoneMatch = header(headers, 'x-amz-copy-source-if-none-match');
  const ifModifiedSince = httpDate(header(headers, 'x-amz-copy-source-if-modified-since'));
  const ifUnmodifiedSince = httpDate(header(headers, 'x-amz-copy-source-if-unmodified-since'));
  const modified = Math.floor(v.lastModified / 1000) * 1000;
  const failed = (name: string) =>
    new S3Error('PreconditionFailed', undefined, { fields: { Condition: `x-amz-copy-source-${name}` } });
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, v.etag)) throw failed('If-Match');
  } else if (ifUnmodifiedSince !== undefined && modified > ifUnmodifiedSince) {
    throw failed('If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, v.etag)) throw failed('If-None-Match');
  } else if (ifModifiedSince !== undefined && ifModifiedSince <= Date.now() && modified <= ifModifiedSince) {
    throw failed('If-Modified-Since');
  }
}

function httpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** `x-amz-copy-source-range: bytes=first-last`, both offsets required and inside the source. */
export function parseCopyRange(value: string, size: number): ByteRange {
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  const fields = { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: value };
  if (!m || Number(m[1]) > Number(m[2])) {
    throw new S3Error(
      'InvalidArgument',
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      { fields },
    );
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start >= size) throw new S3Error('InvalidRequest', 'The specified copy range is invalid for the source object size');
  if (end >= size) {
    throw new S3Error('InvalidArgument', `Range specified is not valid for source object of size: ${size}`, { fields });
  }
  return { start, end };
}

/**
 * What of `version` a copy takes, once the copy-source conditions hold: all of it, or the
 * range a part copy names; at most 5 GiB.
 */
export function copyExtent(
  ctx: S3Context,
  version: ObjectVersion,
  rangeOf: ((size: number) => ByteRange | undefined) | undefined,
): { range: ByteRange | undefined; length: number } {
  checkCopySourceConditions(ctx.req.headers, version);
  const range = rangeOf?.(version.size);
  const length = range ? range.end - range.start + 1 : version.size;
  if (length > MAX_COPY_SOURCE) {
    throw new S3Error(
      'InvalidRequest',
      `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_COPY_SOURCE}`,
    );
  }
  return { range, length };
}

export interface OpenedSource {
  version: ObjectVersion;
  /** the version id the copy source named, if it named one */
  requestedVersionId?: string;
  body: Readable;
  /** bytes the body will deliver */
  length: number;
  /** `x-amz-copy-source-version-id` for the response, when the source bucket is versioned */
  versionHeader: Record<string, string>;
}

/**
 * Resolves and opens the copy source of a request, checking that the caller may read it
 * (s3:GetObject, or s3:GetObjectVersion for a named version) and its conditions: the
 * version, a stream of its bytes (or of `range`) and the response header naming the version.
 * A source bucket in another region is read from there (copy-source-remote.ts); `withTags`
 * says whether the copy needs the source's tags (CopyObject keeping them).
 */
export async function openCopySource(
  ctx: S3Context,
  opts: { range?: (size: number) => ByteRange | undefined; withTags?: boolean } = {},
): Promise<OpenedSource> {
  const src = parseCopySource(header(ctx.req.headers, 'x-amz-copy-source') ?? '');
  const bucket = ctx.engine.getBucket(src.bucket);
  if (!bucket) {
    const elsewhere = ctx.catalog.lookupBucket(src.bucket);
    if (elsewhere && elsewhere.region !== ctx.region) {
      return openRemoteCopySource(ctx, src, elsewhere.region, { range: opts.range, withTags: opts.withTags ?? false });
    }
    throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: src.bucket } });
  }
  ctx.authorizeRead(bucket, src.key, src.versionId);
  const version = (() => {
    try {
      return ctx.engine.headObject(src);
    } catch (err) {
      if (err instanceof S3Error && err.code === 'MethodNotAllowed') {
        throw new S3Error('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.');
      }
      throw err;
    }
  })();
  const { range, length } = copyExtent(ctx, version, opts.range);
  const { body } = ctx.engine.getObject({ ...src, versionId: version.versionId, range });
  const versionHeader: Record<string, string> =
    bucket.versioning !== 'Unversioned' ? { 'x-amz-copy-source-version-id': version.versionId } : {};
  return {
    version,
    requestedVersionId: src.versionId,
    body: Buffer.isBuffer(body) ? Readable.from([body]) : body,
    length,
    versionHeader,
  };
}
