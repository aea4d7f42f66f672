import { S3Error } from '../../core/errors.ts';
import { isVersionIdShaped } from '../../core/ids.ts';
import { readSmallBody } from '../body.ts';
import { bucketOf, type Handler } from '../context.ts';
import { quoteEtag } from '../headers.ts';
import { sendEmpty, sendXmlDocument } from '../respond.ts';
import { ORDERED, parseXml, xmlDate, xmlText, type XmlElement, type XmlObject } from '../xml.ts';
import { ownerXml } from './bucket.ts';
import { encoderFor, maxKeysParam } from './list.ts';

export const getBucketVersioning: Handler = async (ctx) => {
  const bucket = ctx.engine.getBucket(bucketOf(ctx));
  if (!bucket) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: bucketOf(ctx) } });
  // A bucket that was never versioned answers an empty document.
  const doc: XmlObject = bucket.versioning === 'Unversioned' ? {} : { Status: bucket.versioning };
  sendXmlDocument(ctx.res, 'VersioningConfiguration', doc);
};

/**
 * Unversioned -> Enabled <-> Suspended; a bucket never returns to unversioned. Any other
 * Status is MalformedXML, as S3 answers.
 */
export const putBucketVersioning: Handler = async (ctx) => {
  const name = bucketOf(ctx);
  const doc = parseXml(await readSmallBody(ctx.body(), 64 * 1024), 'VersioningConfiguration');
  const status = xmlText(doc, 'Status');
  const mfaDelete = xmlText(doc, 'MfaDelete');
  if (status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML');
  if (mfaDelete !== undefined && mfaDelete !== 'Enabled' && mfaDelete !== 'Disabled') throw new S3Error('MalformedXML');
  if (mfaDelete === 'Enabled') {
    throw new S3Error('InvalidRequest', 'DevPay and Mfa are mutually exclusive authorization methods.');
  }
  if (status === 'Suspended' && ctx.engine.getBucket(name)?.replication) {
    throw new S3Error(
      'InvalidBucketState',
      'A replication configuration is present on this bucket, so you cannot change the versioning state. To change the versioning state, first delete the replication configuration.',
    );
  }
  const updated = await ctx.engine.setVersioning(name, status);
  if (!updated) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: name } });
  sendEmpty(ctx.res, 200);
};

export const listObjectVersions: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const { type, encode } = encoderFor(ctx.query);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiterParam = ctx.query.get('delimiter') ?? '';
  const delimiter = delimiterParam === '' ? undefined : delimiterParam;
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const versionIdMarker = ctx.query.get('version-id-marker') ?? '';
  if (versionIdMarker !== '' && keyMarker === '') {
    throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', {
      fields: { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker },
    });
  }
  if (versionIdMarker !== '' && !isVersionIdShaped(versionIdMarker)) {
    throw new S3Error('InvalidArgument', 'Invalid version id specified', {
      fields: { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker },
    });
  }
  const maxKeys = maxKeysParam(ctx.query);
  const result = ctx.engine.listVersions({
    bucket,
    prefix,
    delimiter,
    keyMarker: keyMarker === '' ? undefined : keyMarker,
    versionIdMarker: versionIdMarker === '' ? undefined : versionIdMarker,
    maxKeys,
  });
  const doc: XmlObject = {
    Name: bucket,
    Prefix: encode(prefix),
    KeyMarker: encode(keyMarker),
    VersionIdMarker: versionIdMarker,
  };
  if (result.isTruncated) {
    if (result.nextKeyMarker !== undefined) doc.NextKeyMarker = encode(result.nextKeyMarker);
    if (result.nextVersionIdMarker !== undefined) doc.NextVersionIdMarker = result.nextVersionIdMarker;
  }
  doc.MaxKeys = maxKeys;
  if (delimiter !== undefined) doc.Delimiter = encode(delimiter);
  doc.IsTruncated = result.isTruncated;
  if (type) doc.EncodingType = type;
  // Versions and delete markers are interleaved in listing order, as S3 sends them.
  const entries: XmlElement[] = result.entries.map(({ version: v, isLatest }) => {
    if (v.isDeleteMarker) {
      return {
        name: 'DeleteMarker',
        body: {
          Key: encode(v.key),
          VersionId: v.versionId,
          IsLatest: isLatest,
          LastModified: xmlDate(v.lastModified),
          Owner: ownerXml(v.owner),
        },
      };
    }
    const entry: XmlObject = {
      Key: encode(v.key),
      VersionId: v.versionId,
      IsLatest: isLatest,
      LastModified: xmlDate(v.lastModified),
      ETag: quoteEtag(v.etag),
      Size: v.size,
      StorageClass: v.storageClass,
      Owner: ownerXml(v.owner),
    };
    if (v.checksum) {
      entry.ChecksumAlgorithm = v.checksum.algorithm;
      entry.ChecksumType = v.checksum.type;
    }
    return { name: 'Version', body: entry };
  });
  doc[ORDERED] = entries;
  doc.CommonPrefixes = result.commonPrefixes.map((p) => ({ Prefix: encode(p) }));
  sendXmlDocument(ctx.res, 'ListVersionsResult', doc);
};
