import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Error } from '../../core/errors.ts';
import { isVersionIdShaped } from '../../core/ids.ts';
import { checksumHeaderName, isValidChecksumValue, type ChecksumAlgorithm } from '../../storage/checksum.ts';
import type { ByteRange, ObjectVersion } from '../../storage/types.ts';
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

function versionIdParam(ctx: S3Context): string | undefined {
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

export const putObject: Handler = async (ctx) => {
  const { headers } = ctx.req;
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const userMetadata = userMetadataFrom(headers);
  const storageClass = storageClassFrom(headers);
  const contentMd5 = header(headers, 'content-md5');
  if (contentMd5 !== undefined && !/^[A-Za-z0-9+/]{22}==$/.test(contentMd5)) throw new S3Error('InvalidDigest');
  const requested = requestedChecksum(headers);
  if (requested?.headerValue !== undefined && !isValidChecksumValue(requested.algorithm, requested.headerValue)) {
    throw new S3Error('InvalidRequest', `Value for ${checksumHeaderName(requested.algorithm)} header is invalid.`);
  }
  const precondition = writePrecondition(headers);
  const body = ctx.body();
  if (body.length === undefined) throw new S3Error('MissingContentLength');
  if (body.length > MAX_PUT_SIZE) {
    throw new S3Error('EntityTooLarge', undefined, {
      fields: { ProposedSize: String(body.length), MaxSizeAllowed: String(MAX_PUT_SIZE) },
    });
  }
  const version = await ctx.engine.putObject({
    bucket,
    key,
    body: body.stream,
    contentLength: body.length,
    contentMd5,
    checksum: requested && {
      algorithm: requested.algorithm,
      expected: () => (requested.inTrailer ? trailerChecksum(body.trailers(), requested.algorithm) : requested.headerValue),
    },
    ...contentHeadersFrom(headers),
    userMetadata,
    storageClass,
    owner: ctx.accountId,
    precondition,
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

function readHeaders(ctx: S3Context, version: ObjectVersion, ranged: boolean): Record<string, string> {
  // A whole-object checksum would not match a range, so S3 sends none with one.
  const h = objectHeaders(version, {
    versioned: isVersioned(ctx),
    checksumMode: !ranged && header(ctx.req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED',
  });
  for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const v = ctx.query.get(param);
    if (v !== null) h[name] = v;
  }
  return h;
}

export const headObject: Handler = async (ctx) => {
  const version = ctx.engine.headObject({ bucket: bucketOf(ctx), key: keyOf(ctx), versionId: versionIdParam(ctx) });
  checkConditions(ctx.req.headers, version);
  const range = parseRange(header(ctx.req.headers, 'range'), version.size);
  const h = readHeaders(ctx, version, range !== undefined);
  if (range) {
    h['content-range'] = `bytes ${range.start}-${range.end}/${version.size}`;
    h['content-length'] = String(range.end - range.start + 1);
    ctx.res.writeHead(206, h);
  } else {
    h['content-length'] = String(version.size);
    ctx.res.writeHead(200, h);
  }
  ctx.res.end();
};

export const getObject: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const versionId = versionIdParam(ctx);
  for (let attempt = 1; ; attempt++) {
    const meta = ctx.engine.headObject({ bucket, key, versionId });
    checkConditions(ctx.req.headers, meta);
    const range = parseRange(header(ctx.req.headers, 'range'), meta.size);
    // Open exactly the version whose headers we send, even if a newer one lands meanwhile.
    const { version, body } = ctx.engine.getObject({ bucket, key, versionId: meta.versionId, range });
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
    sendObject(ctx, version, body, range);
    return;
  }
};

function opened(stream: Readable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
}

function sendObject(ctx: S3Context, version: ObjectVersion, body: Buffer | Readable, range: ByteRange | undefined): void {
  const h = readHeaders(ctx, version, range !== undefined);
  let status = 200;
  if (range) {
    status = 206;
    h['content-range'] = `bytes ${range.start}-${range.end}/${version.size}`;
    h['content-length'] = String(range.end - range.start + 1);
  } else {
    h['content-length'] = String(version.size);
  }
  ctx.res.writeHead(status, h);
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
