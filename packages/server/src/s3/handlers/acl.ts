import { accessControlPolicyXml, aclSourceFromRequest, privateGrants, resolveAcl, type AclSource } from '../acl.ts';
import { readSmallBody } from '../body.ts';
import { existingBucket, keyOf, type Handler, type S3Context } from '../context.ts';
import { sendEmpty, sendXmlDocument } from '../respond.ts';
import { canonicalUserId } from './bucket.ts';
import { versionIdParam } from './object.ts';

/** An AccessControlPolicy of 100 grants with display names stays well under this. */
const MAX_ACL_BODY = 64 * 1024;

/** The owner element of an ACL: canonical id, and the account id as display name. */
function ownerOf(accountId: string): { id: string; displayName: string } {
  return { id: canonicalUserId(accountId), displayName: accountId };
}

/** The ACL a PutBucketAcl / PutObjectAcl asks for: headers or a body, exactly one. */
async function requestedAcl(ctx: S3Context): Promise<AclSource> {
  const body = await readSmallBody(ctx.body(), MAX_ACL_BODY);
  return aclSourceFromRequest(ctx.req.headers, body);
}

export const getBucketAcl: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const owner = ownerOf(bucket.owner);
  sendXmlDocument(ctx.res, 'AccessControlPolicy', accessControlPolicyXml(owner, bucket.acl ?? privateGrants(owner.id)));
};

export const putBucketAcl: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const source = await requestedAcl(ctx);
  const owner = canonicalUserId(bucket.owner);
  // The bucket-owner-* canned ACLs add nothing on a bucket: its owner is the bucket owner.
  await ctx.engine.updateBucket(bucket.name, { acl: resolveAcl(source, owner, owner) });
  sendEmpty(ctx.res, 200);
};

export const getObjectAcl: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const v = ctx.engine.headObject({ bucket: bucket.name, key: keyOf(ctx), versionId: versionIdParam(ctx) });
  const owner = ownerOf(v.owner);
  sendXmlDocument(ctx.res, 'AccessControlPolicy', accessControlPolicyXml(owner, v.acl ?? privateGrants(owner.id)));
};

export const putObjectAcl: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const versionId = versionIdParam(ctx);
  const source = await requestedAcl(ctx);
  const bucketOwner = canonicalUserId(bucket.owner);
  await ctx.engine.updateObject({ bucket: bucket.name, key: keyOf(ctx), versionId }, (v) => ({
    ...v,
    acl: resolveAcl(source, canonicalUserId(v.owner), bucketOwner),
  }));
  sendEmpty(ctx.res, 200);
};
