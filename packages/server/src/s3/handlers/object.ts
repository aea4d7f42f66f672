import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Error } from '../../core/errors.ts';
import { isVersionIdShaped } from '../../core/ids.ts';
import { checksumHeaderName, isValidChecksumValue, type ChecksumAlgorithm } from '../../storage/checksum.ts';
import { MAX_PART_NUMBER } from '../../storage/multipart.ts';
import type { ByteRange, Grant, ObjectVersion, PartRecord, PutObjectInput, Tag } from '../../storage/types.ts';
import { aclSourceFromHeaders, resolveAcl } from '../acl.ts';
import { objectWrite } from '../ownership.ts';
import { isReplicaRequest, parseReplicaWrite, readPartManifest } from '../replica-protocol.ts';
import { parseTaggingHeader } from '../tagging.ts';
import { canonicalUserId } from './bucket.ts';
import { publicAccessBlockOf } from './policy.ts';
import { checkConditions, parseRange, writePrecondition } from '../conditions.ts';
import { bucketOf, keyOf, type Handler, type S3Context } from '../context.ts';
import {
  contentHeadersFrom,
  header,
  objectHeaders,
  quoteEtag,
  requestedChecksum,
  storageClassFrom,
  userMetadataFrom,
} from '../headers.ts';
import { sendEmpty } from '../respond.ts';

const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/** A single PUT carries at most 5 GiB; larger objects need a multipart upload. */
const MAX_PUT_SIZE = 5 * 1024 ** 3;

export function versionIdParam(ctx: S3Context): string | undefined {
  const v = ctx.query.get('versionId');
  if (v === null) return undefined;
  if (v === '') throw new S3Error('InvalidArgument', 'Version id cannot be the empty string', { fields: { ArgumentName: 'versionId', ArgumentValue: '' } });
  if (!isVersionIdShaped(v)) {
    throw new S3Error('InvalidArgument', 'Invalid version id specified', { fields: { ArgumentName: 'versionId', ArgumentValue: v } });
  }
  return v;
}

function isVersioned(ctx: S3Context): boolean {
  return ctx.engine.getBucket(bucketOf(ctx))?.versioning !== 'Unversioned';
}

/**
 * The payload of a PUT that carries object bytes (PutObject, UploadPart), with its length,
 * Content-MD5 and flexible checksum checked for form before a byte is read.
 */
export function objectBody(ctx: S3Context): Pick<PutObjectInput, 'body' | 'contentLength' | 'contentMd5' | 'checksum'> {
  const { headers } = ctx.req;
  const contentMd5 = header(headers, 'content-md5');
  if (contentMd5 !== undefined && !/^[A-Za-z0-9+/]{22}==$/.test(contentMd5)) throw new S3Error('InvalidDigest');
  const requested = requestedChecksum(headers);
  if (requested?.headerValue !== undefined && !isValidChecksumValue(requested.algorithm, requested.headerValue)) {
    throw new S3Error('InvalidRequest', `Value for ${checksumHeaderName(requested.algorithm)} header is invalid.`);
  }
  const body = ctx.body();
  if (body.length === undefined) throw new S3Error('MissingContentLength');
  if (body.length > MAX_PUT_SIZE) {
    throw new S3Error('EntityTooLarge', undefined, {
      fields: { ProposedSize: String(body.length), MaxSizeAllowed: String(MAX_PUT_SIZE) },
    });
  }
  return {
    body: body.stream,
    contentLength: body.length,
    contentMd5,
    checksum: requested && {
      algorithm: requested.algorithm,
      expected: () => (requested.inTrailer ? trailerChecksum(body.trailers(), requested.algorithm) : requested.headerValue),
    },
  };
}

/**
 * The tags, ACL and owner of what a write creates, from `x-amz-tagging`, `x-amz-acl` and
 * `x-amz-grant-*` (PutObject, CreateMultipartUpload, CopyObject), validated before any byte
 * is read. The owner follows the bucket's Object Ownership (see ownership.ts).
 */
export function writeAttributes(
  ctx: S3Context,
  opts: { tags: boolean } = { tags: true },
): { tags?: Tag[]; acl?: Grant[]; owner: string } {
  const { headers } = ctx.req;
  const tagging = opts.tags ? header(headers, 'x-amz-tagging') : undefined;
  const tags = tagging === undefined ? undefined : parseTaggingHeader(tagging);
  const bucket = ctx.engine.getBucket(bucketOf(ctx));
  const source = aclSourceFromHeaders(headers);
  // Without the bucket the write fails with NoSuchBucket further on.
  const { owner, acl } = bucket
    ? objectWrite({ bucket, writer: ctx.accountId, acl: source, block: publicAccessBlockOf(ctx, bucket), canonicalId: canonicalUserId })
    : { owner: ctx.accountId, acl: source && resolveAcl(source, canonicalUserId(ctx.accountId), canonicalUserId(ctx.accountId)) };
  return { tags: tags?.length ? tags : undefined, acl, owner };
}

/**
 * A version replicated from another region (see replica-protocol.ts): stored under its
 * source's id and time. Only the world's service identity may write one.
 */
async function putReplica(ctx: S3Context): Promise<void> {
  if (ctx.auth.credential.service !== true) throw new S3Error('AccessDenied');
  const w = parseReplicaWrite(ctx.req.headers, { bucket: bucketOf(ctx), key: keyOf(ctx) });
  const body = w.deleteMarker || w.metadataOnly ? undefined : ctx.body();
  if (!body) {
    const version = await ctx.engine.putReplica(w);
    sendEmpty(ctx.res, 200, { 'x-amz-version-id': version.versionId });
    return;
  }
  const { parts, rest } = await readPartManifest(ctx.req.headers, body.stream);
  const version = await ctx.engine.putReplica({
    ...w,
    parts,
    body: rest,
    contentLength: parts ? undefined : body.length,
  });
  sendEmpty(ctx.res, 200, { 'x-amz-version-id': version.versionId });
}

export const putObject: Handler = async (ctx) => {
  if (isReplicaRequest(ctx.req.headers)) return putReplica(ctx);
  const { headers } = ctx.req;
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const userMetadata = userMetadataFrom(headers);
  const storageClass = storageClassFrom(headers);
  const precondition = writePrecondition(headers);
  const { tags, acl, owner } = writeAttributes(ctx);
  const version = await ctx.engine.putObject({
    bucket,
    key,
    ...objectBody(ctx),
    ...contentHeadersFrom(headers),
    userMetadata,
    storageClass,
    owner,
    precondition,
    tags,
    acl,
  });
  const out: Record<string, string> = { etag: quoteEtag(version.etag) };
  if (version.versionId !== 'null') out['x-amz-version-id'] = version.versionId;
  if (version.checksum) {
    out[checksumHeaderName(version.checksum.algorithm)] = version.checksum.value;
    out['x-amz-checksum-type'] = version.checksum.type;
  }
  sendEmpty(ctx.res, 200, out);
};

/** The checksum a client announced in `x-amz-trailer` must arrive, well-formed, in the trailer. */
function trailerChecksum(trailers: Record<string, string>, algorithm: ChecksumAlgorithm): string {
  const name = checksumHeaderName(algorithm);
  const value = trailers[name];
  if (value === undefined) throw new S3Error('MalformedTrailerError');
  if (!isValidChecksumValue(algorithm, value)) {
    throw new S3Error('InvalidRequest', `Value for ${name} trailing header is invalid.`);
  }
  return value;
}

/** Which bytes of a version a GET or HEAD asks for: a Range, a part (`?partNumber=`), or all. */
interface Selection {
  range?: ByteRange;
  /** the part asked for by number, and how many the object has */
  part?: { record?: PartRecord; count?: number };
}

export const PART_NUMBER_RANGE = 'Part number must be an integer between 1 and 10000, inclusive';

/** A `partNumber` query value: an integer in 1..10000, else InvalidArgument. */
export function parsePartNumber(value: string): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new S3Error('InvalidArgument', PART_NUMBER_RANGE, { fields: { ArgumentName: 'partNumber', ArgumentValue: value } });
  }
  return n;
}

function select(ctx: S3Context, version: ObjectVersion): Selection {
  const rangeHeader = header(ctx.req.headers, 'range');
  const partNumber = ctx.query.get('partNumber');
  if (partNumber === null) return { range: parseRange(rangeHeader, version.size) };
  if (rangeHeader !== undefined) {
    throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  }
  const n = parsePartNumber(partNumber);
  const parts = ctx.engine.partsOf(version);
  const count = parts?.length ?? 1;
  if (n > count) {
    throw new S3Error('InvalidPartNumber', undefined, {
      fields: { PartNumberRequested: String(n), ActualPartCount: String(count) },
    });
  }
  if (!parts) return { range: version.size > 0 ? { start: 0, end: version.size - 1 } : undefined, part: {} };
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += parts[i].size;
  const record = parts[n - 1];
  return { range: { start, end: start + record.size - 1 }, part: { record, count } };
}

function readHeaders(ctx: S3Context, version: ObjectVersion, selection: Selection): Record<string, string> {
  const checksumMode = header(ctx.req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
  // A whole-object checksum would not match a range, so S3 sends none with one.
  const h = objectHeaders(version, {
    versioned: isVersioned(ctx),
    checksumMode: checksumMode && selection.range === undefined,
  });
  const { part, range } = selection;
  if (part?.count !== undefined) h['x-amz-mp-parts-count'] = String(part.count);
  if (checksumMode && part !== undefined) {
    // A part's own checksum, or the whole object's when the object is its only part.
    const checksum = part.record ? part.record.checksum : version.checksum;
    if (checksum) {
      h[checksumHeaderName(checksum.algorithm)] = checksum.value;
      h['x-amz-checksum-type'] = version.checksum?.type ?? 'FULL_OBJECT';
    }
  }
  if (range) {
    h['content-range'] = `bytes ${range.start}-${range.end}/${version.size}`;
    h['content-length'] = String(range.end - range.start + 1);
  } else {
    h['content-length'] = String(version.size);
  }
  for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const v = ctx.query.get(param);
    if (v !== null) h[name] = v;
  }
  return h;
}

/** 206 for a range or a part (even the single part of a plain object), else 200. */
function statusOf(selection: Selection): number {
  return selection.range || selection.part ? 206 : 200;
}

export const headObject: Handler = async (ctx) => {
  const version = ctx.engine.headObject({ bucket: bucketOf(ctx), key: keyOf(ctx), versionId: versionIdParam(ctx) });
  checkConditions(ctx.req.headers, version);
  const selection = select(ctx, version);
  ctx.res.writeHead(statusOf(selection), readHeaders(ctx, version, selection));
  ctx.res.end();
};

export const getObject: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const versionId = versionIdParam(ctx);
  for (let attempt = 1; ; attempt++) {
    const meta = ctx.engine.headObject({ bucket, key, versionId });
    checkConditions(ctx.req.headers, meta);
    const selection = select(ctx, meta);
    // Open exactly the version whose headers we send, even if a newer one lands meanwhile.
    const { version, body } = ctx.engine.getObject({ bucket, key, versionId: meta.versionId, range: selection.range });
    if (!Buffer.isBuffer(body)) {
      try {
        await opened(body);
      } catch (err) {
        // An overwrite removed these bytes between reading the metadata and opening them:
        // read the key again, which now names the new version.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3) continue;
        throw err;
      }
    }
    sendObject(ctx, version, body, selection);
    return;
  }
};

/** Waits until a file stream has its file open (other streams open lazily as they are read). */
function opened(stream: Readable): Promise<void> {
  if ((stream as Readable & { pending?: boolean }).pending !== true) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
}

function sendObject(ctx: S3Context, version: ObjectVersion, body: Buffer | Readable, selection: Selection): void {
  ctx.res.writeHead(statusOf(selection), readHeaders(ctx, version, selection));
  if (Buffer.isBuffer(body)) {
    ctx.res.end(body);
    return;
  }
  pipeline(body, ctx.res).catch((err: unknown) => {
    // The client went away or the disk failed mid-body; the status line is already sent.
    ctx.log.debug({ err, requestId: ctx.requestId }, 'object body not fully sent');
    ctx.res.destroy();
  });
}

export const deleteObject: Handler = async (ctx) => {
  const result = await ctx.engine.deleteObject({ bucket: bucketOf(ctx), key: keyOf(ctx), versionId: versionIdParam(ctx) });
  const h: Record<string, string> = {};
  if (result.versionId !== undefined) h['x-amz-version-id'] = result.versionId;
  if (result.deleteMarker) h['x-amz-delete-marker'] = 'true';
  sendEmpty(ctx.res, 204, h);
};
