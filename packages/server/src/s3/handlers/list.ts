import { S3Error } from '../../core/errors.ts';
import type { ObjectVersion } from '../../storage/types.ts';
import { bucketOf, type Handler, type S3Context } from '../context.ts';
import { quoteEtag } from '../headers.ts';
import { sendXmlDocument } from '../respond.ts';
import { xmlDate, type XmlObject } from '../xml.ts';
import { ownerXml } from './bucket.ts';

/** `max-keys`: default and ceiling 1000; anything but a non-negative integer is InvalidArgument. */
export function maxKeysParam(query: URLSearchParams, name = 'max-keys'): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return 1000;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      fields: { ArgumentName: name, ArgumentValue: raw },
    });
  }
  return Math.min(Number(raw), 1000);
}

/** `encoding-type=url` asks for keys URL-encoded as S3 does it (space as '+', '/' kept). */
export function encoderFor(query: URLSearchParams): { type?: 'url'; encode: (s: string) => string } {
  const type = query.get('encoding-type');
  if (type === null) return { encode: (s) => s };
  if (type.toLowerCase() !== 'url') {
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', {
      fields: { ArgumentName: 'encoding-type', ArgumentValue: type },
    });
  }
  return {
    type: 'url',
    encode: (s) =>
      encodeURIComponent(s)
        .replace(/%2F/g, '/')
        .replace(/%20/g, '+')
        .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()),
  };
}

function contents(v: ObjectVersion, encode: (s: string) => string, withOwner: boolean): XmlObject {
  const c: XmlObject = {
    Key: encode(v.key),
    LastModified: xmlDate(v.lastModified),
    ETag: quoteEtag(v.etag),
  };
  if (v.checksum) {
    c.ChecksumAlgorithm = v.checksum.algorithm;
    c.ChecksumType = v.checksum.type;
  }
  c.Size = v.size;
  c.StorageClass = v.storageClass;
  if (withOwner) c.Owner = ownerXml(v.owner);
  return c;
}

function listInput(ctx: S3Context) {
  const delimiter = ctx.query.get('delimiter') ?? '';
  return {
    bucket: bucketOf(ctx),
    prefix: ctx.query.get('prefix') ?? '',
    delimiter: delimiter === '' ? undefined : delimiter,
    maxKeys: maxKeysParam(ctx.query),
  };
}

export const listObjectsV2: Handler = async (ctx) => {
  const input = listInput(ctx);
  const { type, encode } = encoderFor(ctx.query);
  const token = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after') ?? '';
  let after: string | undefined = startAfter === '' ? undefined : startAfter;
  if (token !== null) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (token === '' || Buffer.from(decoded, 'utf8').toString('base64url') !== token) {
      throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
        fields: { ArgumentName: 'continuation-token', ArgumentValue: token },
      });
    }
    after = decoded;
  }
  const fetchOwner = ctx.query.get('fetch-owner') === 'true';
  const result = ctx.engine.listObjects({ ...input, after });
  const doc: XmlObject = {
    Name: input.bucket,
    Prefix: encode(input.prefix),
    KeyCount: result.objects.length + result.commonPrefixes.length,
    MaxKeys: input.maxKeys,
  };
  if (input.delimiter !== undefined) doc.Delimiter = encode(input.delimiter);
  doc.IsTruncated = result.isTruncated;
  if (token !== null) doc.ContinuationToken = token;
  if (result.isTruncated && result.lastReturned !== undefined) {
    doc.NextContinuationToken = Buffer.from(result.lastReturned, 'utf8').toString('base64url');
  }
  if (startAfter !== '') doc.StartAfter = encode(startAfter);
  if (type) doc.EncodingType = type;
  doc.Contents = result.objects.map((v) => contents(v, encode, fetchOwner));
  doc.CommonPrefixes = result.commonPrefixes.map((p) => ({ Prefix: encode(p) }));
  sendXmlDocument(ctx.res, 'ListBucketResult', doc);
};

export const listObjects: Handler = async (ctx) => {
  const input = listInput(ctx);
  const { type, encode } = encoderFor(ctx.query);
  const marker = ctx.query.get('marker') ?? '';
  const result = ctx.engine.listObjects({ ...input, after: marker === '' ? undefined : marker });
  const doc: XmlObject = {
    Name: input.bucket,
    Prefix: encode(input.prefix),
    Marker: encode(marker),
    MaxKeys: input.maxKeys,
  };
  if (input.delimiter !== undefined) doc.Delimiter = encode(input.delimiter);
  doc.IsTruncated = result.isTruncated;
  // S3 returns NextMarker only when a delimiter was given; clients otherwise use the last key.
  if (result.isTruncated && input.delimiter !== undefined && result.lastReturned !== undefined) {
    doc.NextMarker = encode(result.lastReturned);
  }
  if (type) doc.EncodingType = type;
  doc.Contents = result.objects.map((v) => contents(v, encode, true));
  doc.CommonPrefixes = result.commonPrefixes.map((p) => ({ Prefix: encode(p) }));
  sendXmlDocument(ctx.res, 'ListBucketResult', doc);
};
