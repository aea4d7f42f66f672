import { S3Error } from '../../core/errors.ts';
import type { BucketRecord, ObjectVersion } from '../../storage/types.ts';
import { readSmallBody } from '../body.ts';
import { verifyIntegrity } from '../integrity.ts';
import { existingBucket, keyOf, type Handler, type S3Context } from '../context.ts';
import { versionIdParam } from './object.ts';
import { sendEmpty, sendXmlDocument } from '../respond.ts';
import { parseTaggingXml, taggingXml, type TagTarget } from '../tagging.ts';

/** A tagging document is small: 50 tags of 128 + 256 characters and their markup. */
const MAX_TAGGING_BODY = 64 * 1024;

/** `x-amz-version-id` names the version acted on, once the bucket has had versioning. */
function versionHeaders(bucket: BucketRecord, v: ObjectVersion): Record<string, string> {
  return bucket.versioning === 'Unversioned' ? {} : { 'x-amz-version-id': v.versionId };
}

async function tagsFromBody(ctx: S3Context, target: TagTarget) {
  const text = await readSmallBody(ctx.body(), MAX_TAGGING_BODY);
  verifyIntegrity(ctx, text);
  const tags = parseTaggingXml(text, target);
  // An empty tag set is no tag set: the resource ends up untagged.
  return tags.length === 0 ? undefined : tags;
}

export const getObjectTagging: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const v = ctx.engine.headObject({ bucket: bucket.name, key: keyOf(ctx), versionId: versionIdParam(ctx) });
  sendXmlDocument(ctx.res, 'Tagging', taggingXml(v.tags ?? []), versionHeaders(bucket, v));
};

export const putObjectTagging: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const versionId = versionIdParam(ctx);
  const tags = await tagsFromBody(ctx, 'object');
  const v = await ctx.engine.updateObject({ bucket: bucket.name, key: keyOf(ctx), versionId }, (old) => ({ ...old, tags }));
  sendEmpty(ctx.res, 200, versionHeaders(bucket, v));
};

export const deleteObjectTagging: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const input = { bucket: bucket.name, key: keyOf(ctx), versionId: versionIdParam(ctx) };
  const v = await ctx.engine.updateObject(input, (old) => ({ ...old, tags: undefined }));
  sendEmpty(ctx.res, 204, versionHeaders(bucket, v));
};

export const getBucketTagging: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  if (!bucket.tags || bucket.tags.length === 0) {
    throw new S3Error('NoSuchTagSet', undefined, { fields: { BucketName: bucket.name } });
  }
  sendXmlDocument(ctx.res, 'Tagging', taggingXml(bucket.tags));
};

export const putBucketTagging: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const tags = await tagsFromBody(ctx, 'bucket');
  await ctx.engine.updateBucket(bucket.name, { tags });
  sendEmpty(ctx.res, 204);
};

export const deleteBucketTagging: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  await ctx.engine.updateBucket(bucket.name, { tags: undefined });
  sendEmpty(ctx.res, 204);
};
