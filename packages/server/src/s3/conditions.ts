import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../core/errors.ts';
import type { ByteRange, ObjectVersion } from '../storage/types.ts';
import { header, quoteEtag } from './headers.ts';

/**
 * Conditional GET/HEAD (RFC 7232 as S3 applies it): If-Match and If-Unmodified-Since fail
 * with 412, If-None-Match and If-Modified-Since with 304. If-Match that holds overrides a
 * failing If-Unmodified-Since; If-None-Match that fails overrides a passing If-Modified-Since.
 */
export function checkConditions(headers: IncomingHttpHeaders, v: ObjectVersion): void {
  const ifMatch = header(headers, 'if-match');
  const ifNoneMatch = header(headers, 'if-none-match');
  const ifModifiedSince = parseHttpDate(header(headers, 'if-modified-since'));
  const ifUnmodifiedSince = parseHttpDate(header(headers, 'if-unmodified-since'));
  // HTTP dates have whole seconds.
  const modified = Math.floor(v.lastModified / 1000) * 1000;
  const notModifiedHeaders = { etag: quoteEtag(v.etag), 'last-modified': new Date(v.lastModified).toUTCString() };

  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, v.etag)) throw preconditionFailed('If-Match');
  } else if (ifUnmodifiedSince !== undefined && modified > ifUnmodifiedSince) {
    throw preconditionFailed('If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, v.etag)) throw new S3Error('NotModified', undefined, { headers: notModifiedHeaders });
  } else if (ifModifiedSince !== undefined && modified <= ifModifiedSince) {
    throw new S3Error('NotModified', undefined, { headers: notModifiedHeaders });
  }
}

function preconditionFailed(condition: string): S3Error {
  return new S3Error('PreconditionFailed', undefined, { fields: { Condition: condition } });
}

export function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((candidate) => {
    const c = candidate.trim();
    return c === '*' || c === quoteEtag(etag) || c === etag || c === `W/${quoteEtag(etag)}`;
  });
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Parses a Range header against an object size. S3 serves one range; anything it cannot
 * parse (or several ranges) is ignored and the whole object returned. A range that starts
 * past the end is 416 InvalidRange.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw invalidRange(size, value);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size || size === 0) throw invalidRange(size, value);
  return { start, end };
}

function invalidRange(size: number, requested: string): S3Error {
  return new S3Error('InvalidRange', undefined, {
    fields: { RangeRequested: requested, ActualObjectSize: String(size) },
    headers: { 'content-range': `bytes */${size}` },
  });
}

/**
 * Conditional writes (PutObject): `If-None-Match: *` succeeds only if the key has no current
 * object, `If-Match: <etag>` only if the current object has that ETag (404 NoSuchKey when
 * there is none). The returned check runs again atomically with the commit.
 */
export function writePrecondition(
  headers: IncomingHttpHeaders,
): ((current: ObjectVersion | undefined) => void) | undefined {
  const ifNoneMatch = header(headers, 'if-none-match');
  const ifMatch = header(headers, 'if-match');
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', {
      fields: { Header: 'If-None-Match' },
    });
  }
  return (current) => {
    if (ifNoneMatch !== undefined && current) throw preconditionFailed('If-None-Match');
    if (ifMatch !== undefined) {
      if (!current) throw new S3Error('NoSuchKey', undefined, {});
      if (!etagMatches(ifMatch, current.etag)) throw preconditionFailed('If-Match');
    }
  };
}
