/**
 * GetObjectAttributes (`GET /bucket/key?attributes`): a HEAD that answers in XML, with only
 * the attributes named in `x-amz-object-attributes`, and the part list of a multipart object.
 */
import { S3Error } from '../../core/errors.ts';
import type { ObjectVersion, PartRecord } from '../../storage/types.ts';
import { bucketOf, keyOf, type Handler, type S3Context } from '../context.ts';
import { header } from '../headers.ts';
import { sendXmlDocument } from '../respond.ts';
import type { XmlObject } from '../xml.ts';
import { versionIdParam } from './object.ts';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

/** The attributes asked for; every name must be known and at least one given. */
function requestedAttributes(ctx: S3Context): Set<Attribute> {
  const raw = header(ctx.req.headers, 'x-amz-object-attributes') ?? '';
  const names = raw.split(',').map((s) => s.trim());
  if (names.some((n) => !(ATTRIBUTES as readonly string[]).includes(n))) {
    throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', {
      fields: { ArgumentName: 'x-amz-object-attributes', ArgumentValue: raw },
    });
  }
  return new Set(names as Attribute[]);
}

/** A non-negative integer header (`x-amz-max-parts`, `x-amz-part-number-marker`). */
function integerHeader(ctx: S3Context, name: string, fallback: number): number {
  const raw = header(ctx.req.headers, name);
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      fields: { ArgumentName: name, ArgumentValue: raw },
    });
  }
  return Number(raw);
}

interface Paging {
  maxParts: number;
  marker: number;
}

function pagingOf(ctx: S3Context): Paging {
  return {
    maxParts: Math.min(integerHeader(ctx, 'x-amz-max-parts', 1000), 1000),
    marker: Math.min(integerHeader(ctx, 'x-amz-part-number-marker', 0), 10_000),
  };
}

/** A composite checksum's value is stored as `<base64>-<parts>`; this operation omits the count. */
function bareChecksum(value: string): string {
  return value.replace(/-\d+$/, '');
}

/**
 * The part count and a page of parts, like ListParts over the completed object. Parts are
 * listed only when the object has a flexible checksum (as S3 does for general-purpose buckets);
 * the paging fields describe the same page either way.
 */
function objectParts(version: ObjectVersion, parts: PartRecord[], paging: Paging): XmlObject {
  const { maxParts, marker } = paging;
  const after = parts.filter((p) => p.partNumber > marker);
  const page = after.slice(0, maxParts);
  const doc: XmlObject = {
    PartsCount: version.partsCount ?? parts.length,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.length > 0 ? page[page.length - 1].partNumber : marker,
    MaxParts: maxParts,
    IsTruncated: after.length > page.length,
  };
  if (version.checksum) {
    doc.Part = page.map((p) => {
      const el: XmlObject = { PartNumber: p.partNumber, Size: p.size };
      if (p.checksum) el[`Checksum${p.checksum.algorithm}`] = bareChecksum(p.checksum.value);
      return el;
    });
  }
  return doc;
}

export const getObjectAttributes: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const versionId = versionIdParam(ctx);
  const wanted = requestedAttributes(ctx);
  const paging = pagingOf(ctx);
  const version = ctx.engine.headObject({ bucket, key, versionId });
  const doc: XmlObject = {};
  if (wanted.has('ETag')) doc.ETag = version.etag;
  if (wanted.has('Checksum') && version.checksum) {
    doc.Checksum = {
      [`Checksum${version.checksum.algorithm}`]: bareChecksum(version.checksum.value),
      ChecksumType: version.checksum.type,
    };
  }
  if (wanted.has('ObjectParts')) {
    const parts = ctx.engine.partsOf(version);
    if (parts) doc.ObjectParts = objectParts(version, parts, paging);
  }
  if (wanted.has('StorageClass')) doc.StorageClass = version.storageClass;
  if (wanted.has('ObjectSize')) doc.ObjectSize = version.size;
  const h: Record<string, string> = { 'last-modified': new Date(version.lastModified).toUTCString() };
  if (ctx.engine.getBucket(bucket)?.versioning !== 'Unversioned') h['x-amz-version-id'] = version.versionId;
  sendXmlDocument(ctx.res, 'GetObjectAttributesResponse', doc, h);
};
