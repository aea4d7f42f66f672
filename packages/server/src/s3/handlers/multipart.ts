import { S3Error } from '../../core/errors.ts';
import {
  CHECKSUM_ALGORITHMS,
  checksumHeaderName,
  isValidChecksumValue,
  parseChecksumAlgorithm,
  supportsComposite,
  supportsFullObject,
  type ChecksumAlgorithm,
} from '../../storage/checksum.ts';
import type { CompletedPart, PartRecord, UploadChecksum, UploadRecord } from '../../storage/types.ts';
import { readSmallBody } from '../body.ts';
import { writePrecondition } from '../conditions.ts';
import { bucketOf, keyOf, type Handler, type S3Context } from '../context.ts';
import { openCopySource, parseCopyRange } from '../copy-source.ts';
import { contentHeadersFrom, header, quoteEtag, storageClassFrom, userMetadataFrom } from '../headers.ts';
import { sendEmpty, sendXmlDocument } from '../respond.ts';
import { parseXml, xmlDate, xmlText, type XmlObject } from '../xml.ts';
import { ownerXml } from './bucket.ts';
import { encoderFor, maxKeysParam } from './list.ts';
import { objectBody, parsePartNumber, writeAttributes } from './object.ts';

/** `x-amz-checksum-algorithm` and `x-amz-checksum-type` of CreateMultipartUpload. */
function uploadChecksum(ctx: S3Context): UploadChecksum | undefined {
  const rawAlgorithm = header(ctx.req.headers, 'x-amz-checksum-algorithm');
  const rawType = header(ctx.req.headers, 'x-amz-checksum-type');
  if (rawAlgorithm === undefined) {
    if (rawType !== undefined) {
      throw new S3Error(
        'InvalidRequest',
        'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
      );
    }
    return undefined;
  }
  const algorithm = parseChecksumAlgorithm(rawAlgorithm);
  if (!algorithm) {
    throw new S3Error(
      'InvalidRequest',
      rawAlgorithm.includes(',')
        ? 'Invalid types are specified in x-amz-checksum-algorithm header.'
        : 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, SHA1, SHA256]',
    );
  }
  const type = rawType?.toUpperCase() ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');
  if (type !== 'FULL_OBJECT' && type !== 'COMPOSITE') {
    throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  }
  if ((type === 'FULL_OBJECT' && !supportsFullObject(algorithm)) || (type === 'COMPOSITE' && !supportsComposite(algorithm))) {
    throw new S3Error(
      'InvalidRequest',
      `The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    );
  }
  return { algorithm, type };
}

function checksumHeaders(checksum: UploadChecksum | undefined): Record<string, string> {
  return checksum ? { 'x-amz-checksum-algorithm': checksum.algorithm, 'x-amz-checksum-type': checksum.type } : {};
}

export const createMultipartUpload: Handler = async (ctx) => {
  const { headers } = ctx.req;
  const checksum = uploadChecksum(ctx);
  const { tags, acl, owner } = writeAttributes(ctx);
  const upload = await ctx.engine.createMultipartUpload({
    tags,
    acl,
    bucket: bucketOf(ctx),
    key: keyOf(ctx),
    owner,
    storageClass: storageClassFrom(headers),
    userMetadata: userMetadataFrom(headers),
    ...contentHeadersFrom(headers),
    checksum,
  });
  sendXmlDocument(
    ctx.res,
    'InitiateMultipartUploadResult',
    { Bucket: upload.bucket, Key: upload.key, UploadId: upload.uploadId },
    checksumHeaders(checksum),
  );
};

function uploadIdOf(ctx: S3Context): string {
  return ctx.query.get('uploadId') ?? '';
}

function partNumberOf(ctx: S3Context): number {
  return parsePartNumber(ctx.query.get('partNumber') ?? '');
}

function partHeaders(part: PartRecord): Record<string, string> {
  const h: Record<string, string> = { etag: quoteEtag(part.etag) };
  if (part.checksum) h[checksumHeaderName(part.checksum.algorithm)] = part.checksum.value;
  return h;
}

export const uploadPart: Handler = async (ctx) => {
  const partNumber = partNumberOf(ctx);
  const part = await ctx.engine.uploadPart({
    bucket: bucketOf(ctx),
    key: keyOf(ctx),
    uploadId: uploadIdOf(ctx),
    partNumber,
    ...objectBody(ctx),
  });
  sendEmpty(ctx.res, 200, partHeaders(part));
};

export const uploadPartCopy: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const uploadId = uploadIdOf(ctx);
  const partNumber = partNumberOf(ctx);
  ctx.engine.getUpload(bucket, key, uploadId);
  const rangeHeader = header(ctx.req.headers, 'x-amz-copy-source-range');
  const source = await openCopySource(ctx, {
    range: rangeHeader === undefined ? undefined : (size) => parseCopyRange(rangeHeader, size),
  });
  let part: PartRecord;
  try {
    part = await ctx.engine.uploadPart({ bucket, key, uploadId, partNumber, body: source.body, contentLength: source.length });
  } finally {
    source.body.destroy();
  }
  const result: XmlObject = { ETag: quoteEtag(part.etag), LastModified: xmlDate(part.lastModified) };
  if (part.checksum) result[`Checksum${part.checksum.algorithm}`] = part.checksum.value;
  sendXmlDocument(ctx.res, 'CopyPartResult', result, source.versionHeader);
};

/** The part list of a CompleteMultipartUpload body. */
function completedParts(doc: XmlObject | ''): CompletedPart[] {
  if (doc === '') return [];
  const raw = doc.Part;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.map((p) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new S3Error('MalformedXML');
    const el = p as XmlObject;
    const number = xmlText(el, 'PartNumber');
    if (number === undefined || !/^\d{1,5}$/.test(number)) throw new S3Error('MalformedXML');
    const etag = (xmlText(el, 'ETag') ?? '').replace(/^"(.*)"$/, '$1');
    const sent = CHECKSUM_ALGORITHMS.flatMap((a) => {
      const v = xmlText(el, `Checksum${a}`);
      return v === undefined ? [] : [{ algorithm: a, value: v }];
    });
    if (sent.length > 1 || (sent.length === 1 && !isValidChecksumValue(sent[0].algorithm, sent[0].value))) {
      throw new S3Error('InvalidArgument', 'Invalid Base64 or multiple checksums present in request', {
        fields: {
          ArgumentName: 'Checksum',
          ArgumentValue: [...sent]
            .sort((a, b) => a.algorithm.localeCompare(b.algorithm))
            .map((c) => `${c.algorithm}:${c.value};`)
            .join(''),
        },
      });
    }
    return { partNumber: Number(number), etag, checksum: sent[0] };
  });
}

/** A whole-object checksum sent as a header with CompleteMultipartUpload. */
function expectedObjectChecksum(
  ctx: S3Context,
): { algorithm: ChecksumAlgorithm; value: string; type?: UploadChecksum['type'] } | undefined {
  const rawType = header(ctx.req.headers, 'x-amz-checksum-type')?.toUpperCase();
  if (rawType !== undefined && rawType !== 'COMPOSITE' && rawType !== 'FULL_OBJECT') {
    throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  }
  const type = rawType as UploadChecksum['type'] | undefined;
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const name = checksumHeaderName(algorithm);
    const value = header(ctx.req.headers, name);
    if (value === undefined) continue;
    const [bare, count] = value.split('-');
    if (!isValidChecksumValue(algorithm, bare) || (count !== undefined && !/^\d+$/.test(count))) {
      throw new S3Error('InvalidRequest', `Value for ${name} header is invalid.`);
    }
    return { algorithm, value, type };
  }
  return undefined;
}

export const completeMultipartUpload: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const uploadId = uploadIdOf(ctx);
  const precondition = writePrecondition(ctx.req.headers);
  const expectedChecksum = expectedObjectChecksum(ctx);
  ctx.engine.getUpload(bucket, key, uploadId);
  const parts = completedParts(parseXml(await readSmallBody(ctx.body(), 4 * 1024 * 1024), 'CompleteMultipartUpload'));
  const version = await ctx.engine.completeMultipartUpload({
    bucket,
    key,
    uploadId,
    parts,
    expectedChecksum,
    precondition,
  });
  const result: XmlObject = {
    Location: locationOf(ctx, bucket, key),
    Bucket: bucket,
    Key: key,
    ETag: quoteEtag(version.etag),
  };
  if (version.checksum) {
    result[`Checksum${version.checksum.algorithm}`] = version.checksum.value;
    result.ChecksumType = version.checksum.type;
  }
  const h: Record<string, string> = {};
  if (version.versionId !== 'null') h['x-amz-version-id'] = version.versionId;
  sendXmlDocument(ctx.res, 'CompleteMultipartUploadResult', result, h);
};

/** The object's URL on the endpoint the request came to, path-style. */
function locationOf(ctx: S3Context, bucket: string, key: string): string {
  const host = ctx.req.headers.host ?? 'localhost';
  const path = key.split('/').map(encodeURIComponent).join('/');
  return `http://${host}/${bucket}/${path}`;
}

export const abortMultipartUpload: Handler = async (ctx) => {
  await ctx.engine.abortMultipartUpload(bucketOf(ctx), keyOf(ctx), uploadIdOf(ctx));
  sendEmpty(ctx.res, 204);
};

function initiatorXml(upload: UploadRecord): XmlObject {
  return ownerXml(upload.owner);
}

export const listParts: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const uploadId = uploadIdOf(ctx);
  const maxParts = maxKeysParam(ctx.query, 'max-parts');
  const markerRaw = ctx.query.get('part-number-marker') ?? '';
  if (markerRaw !== '' && !/^\d+$/.test(markerRaw)) {
    throw new S3Error('InvalidArgument', 'Provided part-number-marker not an integer or within integer range', {
      fields: { ArgumentName: 'part-number-marker', ArgumentValue: markerRaw },
    });
  }
  const marker = markerRaw === '' ? 0 : Math.min(Number(markerRaw), 10_000);
  const { upload, parts, isTruncated } = ctx.engine.listParts(bucket, key, uploadId, marker, maxParts);
  const doc: XmlObject = {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    Initiator: initiatorXml(upload),
    Owner: ownerXml(upload.owner),
    StorageClass: upload.storageClass,
    PartNumberMarker: marker,
    NextPartNumberMarker: parts.length > 0 ? parts[parts.length - 1].partNumber : 0,
    MaxParts: maxParts,
    IsTruncated: isTruncated,
    Part: parts.map((p) => {
      const el: XmlObject = {
        PartNumber: p.partNumber,
        LastModified: xmlDate(p.lastModified),
        ETag: quoteEtag(p.etag),
        Size: p.size,
      };
      if (p.checksum) el[`Checksum${p.checksum.algorithm}`] = p.checksum.value;
      return el;
    }),
  };
  if (upload.checksum) {
    doc.ChecksumAlgorithm = upload.checksum.algorithm;
    doc.ChecksumType = upload.checksum.type;
  }
  sendXmlDocument(ctx.res, 'ListPartsResult', doc);
};

export const listMultipartUploads: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const { type, encode } = encoderFor(ctx.query);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') || undefined;
  const keyMarker = ctx.query.get('key-marker') || undefined;
  // An upload-id-marker means nothing without a key-marker; S3 ignores it then.
  const uploadIdMarker = keyMarker !== undefined ? ctx.query.get('upload-id-marker') || undefined : undefined;
  const maxUploads = maxKeysParam(ctx.query, 'max-uploads');
  const result = ctx.engine.listMultipartUploads({ bucket, prefix, delimiter, keyMarker, uploadIdMarker, maxUploads });
  const doc: XmlObject = {
    Bucket: bucket,
    KeyMarker: encode(keyMarker ?? ''),
    UploadIdMarker: uploadIdMarker ?? '',
  };
  if (result.nextKeyMarker !== undefined) doc.NextKeyMarker = encode(result.nextKeyMarker);
  if (prefix !== '') doc.Prefix = encode(prefix);
  if (delimiter !== undefined) doc.Delimiter = encode(delimiter);
  if (result.nextUploadIdMarker !== undefined) doc.NextUploadIdMarker = result.nextUploadIdMarker;
  doc.MaxUploads = maxUploads;
  doc.IsTruncated = result.isTruncated;
  doc.Upload = result.uploads.map((u) => {
    const el: XmlObject = {
      Key: encode(u.key),
      UploadId: u.uploadId,
      Initiator: initiatorXml(u),
      Owner: ownerXml(u.owner),
      StorageClass: u.storageClass,
      Initiated: xmlDate(u.initiated),
    };
    if (u.checksum) {
      el.ChecksumAlgorithm = u.checksum.algorithm;
      el.ChecksumType = u.checksum.type;
    }
    return el;
  });
  doc.CommonPrefixes = result.commonPrefixes.map((p) => ({ Prefix: encode(p) }));
  if (type) doc.EncodingType = type;
  sendXmlDocument(ctx.res, 'ListMultipartUploadsResult', doc);
};
