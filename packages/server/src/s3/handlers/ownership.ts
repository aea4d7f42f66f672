/**
 * Put/Get/DeleteBucketOwnershipControls: a bucket's S3 Object Ownership setting, as the
 * document `<OwnershipControls><Rule><ObjectOwnership>…</ObjectOwnership></Rule></OwnershipControls>`.
 * A bucket without one (its controls were deleted) behaves as ObjectWriter.
 */
import { S3Error } from '../../core/errors.ts';
import { readSmallBody } from '../body.ts';
import { existingBucket, type Handler } from '../context.ts';
import { verifyIntegrity } from '../integrity.ts';
import { grantsOnlyTo, isObjectOwnership } from '../ownership.ts';
import { sendEmpty, sendXmlDocument } from '../respond.ts';
import { parseXml, xmlText } from '../xml.ts';
import { canonicalUserId } from './bucket.ts';

export const putBucketOwnershipControls: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const text = await readSmallBody(ctx.body(), 16 * 1024);
  verifyIntegrity(ctx, text);
  const doc = parseXml(text, 'OwnershipControls');
  // Exactly one Rule with a known ObjectOwnership; anything else does not match the schema.
  const rule = doc === '' ? undefined : doc.Rule;
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) throw new S3Error('MalformedXML');
  const value = xmlText(rule, 'ObjectOwnership');
  if (value === undefined || !isObjectOwnership(value)) throw new S3Error('MalformedXML');
  // ACLs cannot be disabled while the bucket's ACL still grants someone else access.
  if (value === 'BucketOwnerEnforced' && bucket.acl && !grantsOnlyTo(bucket.acl, canonicalUserId(bucket.owner))) {
    throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
  await ctx.engine.updateBucket(bucket.name, { objectOwnership: value });
  sendEmpty(ctx.res, 200);
};

export const getBucketOwnershipControls: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  if (bucket.objectOwnership === undefined) {
    throw new S3Error('OwnershipControlsNotFoundError', undefined, { fields: { BucketName: bucket.name } });
  }
  sendXmlDocument(ctx.res, 'OwnershipControls', { Rule: { ObjectOwnership: bucket.objectOwnership } });
};

export const deleteBucketOwnershipControls: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  await ctx.engine.updateBucket(bucket.name, { objectOwnership: undefined });
  sendEmpty(ctx.res, 204);
};
