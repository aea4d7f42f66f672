import { S3Error } from '../../core/errors.ts';
import { parseChecksumAlgorithm, type ChecksumAlgorithm } from '../../storage/checksum.ts';
import type { ContentHeaders, ObjectVersion } from '../../storage/types.ts';
import { writePrecondition } from '../conditions.ts';
import { bucketOf, existingBucket, keyOf, type Handler, type S3Context } from '../context.ts';
import { openCopySource } from '../copy-source.ts';
import { contentHeadersFrom, header, quoteEtag, storageClassFrom, userMetadataFrom } from '../headers.ts';
import { sendXmlDocument } from '../respond.ts';
import { xmlDate, type XmlObject } from '../xml.ts';
import { writeAttributes } from './object.ts';

type Directive = 'COPY' | 'REPLACE';

function directive(ctx: S3Context, name: 'metadata' | 'tagging'): Directive {
  const value = header(ctx.req.headers, `x-amz-${name}-directive`);
  if (value === undefined || value === 'COPY') return 'COPY';
  if (value === 'REPLACE') return 'REPLACE';
  throw new S3Error('InvalidArgument', `Unknown ${name} directive.`, {
    fields: { ArgumentName: `x-amz-${name}-directive`, ArgumentValue: value },
  });
}

function contentHeadersOf(v: ObjectVersion): ContentHeaders {
  return {
    contentType: v.contentType,
    contentEncoding: v.contentEncoding,
    contentDisposition: v.contentDisposition,
    contentLanguage: v.contentLanguage,
    cacheControl: v.cacheControl,
    expires: v.expires,
  };
}

export const copyObject: Handler = async (ctx) => {
  const { headers } = ctx.req;
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const metadataDirective = directive(ctx, 'metadata');
  const taggingDirective = directive(ctx, 'tagging');
  // S3 never copies an ACL: the copy gets the one the request names, else private.
  const { tags: requestedTags, acl, owner } = writeAttributes(ctx, { tags: taggingDirective === 'REPLACE' });
  const storageClass = storageClassFrom(headers);
  const requestedAlgorithm = header(headers, 'x-amz-checksum-algorithm');
  let algorithm: ChecksumAlgorithm | undefined;
  if (requestedAlgorithm !== undefined) {
    algorithm = parseChecksumAlgorithm(requestedAlgorithm);
    if (!algorithm) throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-algorithm header is invalid.');
  }
  const replaced = metadataDirective === 'REPLACE' ? { userMetadata: userMetadataFrom(headers), ...contentHeadersFrom(headers) } : undefined;
  const precondition = writePrecondition(headers);
  existingBucket(ctx);

  const source = await openCopySource(ctx, { withTags: taggingDirective === 'COPY' });
  const src = source.version;
  try {
    // Copying a named older version onto its own key restores it; copying the current one
    // onto itself must change something.
    const sameObject = src.bucket === bucket && src.key === key && source.requestedVersionId === undefined;
    if (sameObject && !replaced && storageClass === undefined && algorithm === undefined) {
      throw new S3Error(
        'InvalidRequest',
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    // The copy keeps the source's checksum algorithm unless another is asked for; a source
    // checksum of the whole object in that algorithm also verifies the bytes copied.
    const keepAlgorithm = algorithm ?? src.checksum?.algorithm;
    const sourceValue =
      src.checksum?.type === 'FULL_OBJECT' && src.checksum.algorithm === keepAlgorithm ? src.checksum.value : undefined;
    const version = await ctx.engine.putObject({
      bucket,
      key,
      body: source.body,
      contentLength: source.length,
      checksum: keepAlgorithm && { algorithm: keepAlgorithm, expected: () => sourceValue },
      ...(replaced ?? { userMetadata: src.userMetadata, ...contentHeadersOf(src) }),
      storageClass: storageClass ?? 'STANDARD',
      owner,
      tags: taggingDirective === 'REPLACE' ? requestedTags : src.tags,
      acl,
      precondition,
    });
    const result: XmlObject = { ETag: quoteEtag(version.etag), LastModified: xmlDate(version.lastModified) };
    if (version.checksum) {
      result.ChecksumType = version.checksum.type;
      result[`Checksum${version.checksum.algorithm}`] = version.checksum.value;
    }
    const h: Record<string, string> = { ...source.versionHeader };
    if (version.versionId !== 'null') h['x-amz-version-id'] = version.versionId;
    sendXmlDocument(ctx.res, 'CopyObjectResult', result, h);
  } finally {
    source.body.destroy();
  }
};
