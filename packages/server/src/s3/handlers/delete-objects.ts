import { S3Error, isS3Error } from '../../core/errors.ts';
import { isVersionIdShaped } from '../../core/ids.ts';
import { readSmallBody } from '../body.ts';
import { verifyIntegrity } from '../integrity.ts';
import { bucketOf, type Handler } from '../context.ts';
import { sendXmlDocument } from '../respond.ts';
import { parseXml, xmlText, type XmlObject, type XmlValue } from '../xml.ts';

/** S3 deletes at most 1000 keys per request. */
const MAX_KEYS = 1000;

interface Target {
  key: string;
  versionId?: string;
}

function targetsOf(doc: XmlObject | ''): { quiet: boolean; targets: Target[] } {
  if (doc === '') throw new S3Error('MalformedXML');
  const quiet = xmlText(doc, 'Quiet');
  if (quiet !== undefined && quiet !== 'true' && quiet !== 'false') throw new S3Error('MalformedXML');
  const raw: XmlValue = doc.Object;
  const objects = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (objects.length === 0 || objects.length > MAX_KEYS) throw new S3Error('MalformedXML');
  const targets = objects.map((o): Target => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new S3Error('MalformedXML');
    const key = xmlText(o as XmlObject, 'Key');
    if (key === undefined) throw new S3Error('MalformedXML');
    const versionId = xmlText(o as XmlObject, 'VersionId');
    return { key, versionId: versionId === '' ? undefined : versionId };
  });
  return { quiet: quiet === 'true', targets };
}

export const deleteObjects: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  if (!ctx.engine.getBucket(bucket)) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: bucket } });
  const text = await readSmallBody(ctx.body(), 2 * 1024 * 1024);
  verifyIntegrity(ctx, Buffer.from(text, 'utf8'));
  const { quiet, targets } = targetsOf(parseXml(text, 'Delete'));
  const deleted: XmlObject[] = [];
  const errors: XmlObject[] = [];
  // One key at a time keeps each key's deletes in request order; every one is its own
  // durable write, so a failure part-way leaves the earlier ones done, as in S3.
  for (const t of targets) {
    try {
      if (Buffer.byteLength(t.key) > 1024) throw new S3Error('KeyTooLongError');
      if (t.versionId !== undefined && !isVersionIdShaped(t.versionId)) {
        throw new S3Error('NoSuchVersion', 'The specified version does not exist.');
      }
      const result = await ctx.engine.deleteObject({ bucket, key: t.key, versionId: t.versionId });
      if (quiet) continue;
      const entry: XmlObject = { Key: t.key };
      if (t.versionId !== undefined) entry.VersionId = t.versionId;
      if (result.deleteMarker) {
        entry.DeleteMarker = true;
        if (result.versionId !== undefined) entry.DeleteMarkerVersionId = result.versionId;
      }
      deleted.push(entry);
    } catch (err) {
      if (!isS3Error(err)) throw err;
      const entry: XmlObject = { Key: t.key };
      if (t.versionId !== undefined) entry.VersionId = t.versionId;
      entry.Code = err.code;
      entry.Message = err.message;
      errors.push(entry);
    }
  }
  sendXmlDocument(ctx.res, 'DeleteResult', { Deleted: deleted, Error: errors });
};
