/**
 * Get/PutBucketAcl and Get/PutObjectAcl. A bucket whose Object Ownership is
 * BucketOwnerEnforced has ACLs disabled: reads show only the bucket owner's full control,
 * and every ACL put is AccessControlListNotSupported. Block Public Access (the bucket's and
 * its owner's account's) refuses public ACLs with AccessDenied.
 */
import { S3Error } from '../../core/errors.ts';
import { accessControlPolicyXml, aclSourceFromRequest, privateGrants, resolveAcl, type AclSource } from '../acl.ts';
import { aclsEnabled, refusePublicAcl } from '../authorize.ts';
import { readSmallBody } from '../body.ts';
import { existingBucket, keyOf, type Handler, type S3Context } from '../context.ts';
import { sendEmpty, sendXmlDocument } from '../respond.ts';
import { canonicalUserId } from './bucket.ts';
import { versionIdParam } from './object.ts';
import { publicAccessBlockOf } from './policy.ts';

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
  const grants = aclsEnabled(bucket) ? (bucket.acl ?? privateGrants(owner.id)) : privateGrants(owner.id);
  sendXmlDocument(ctx.res, 'AccessControlPolicy', accessControlPolicyXml(owner, grants));
};

export const putBucketAcl: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  if (!aclsEnabled(bucket)) throw new S3Error('AccessControlListNotSupported');
  const source = await requestedAcl(ctx);
  const owner = canonicalUserId(bucket.owner);
  // The bucket-owner-* canned ACLs add nothing on a bucket: its owner is the bucket owner.
  const acl = resolveAcl(source, owner, owner);
  refusePublicAcl(acl, publicAccessBlockOf(ctx, bucket));
  await ctx.engine.updateBucket(bucket.name, { acl });
  sendEmpty(ctx.res, 200);
};

export const getObjectAcl: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const v = ctx.engine.headObject({ bucket: bucket.name, key: keyOf(ctx), versionId: versionIdParam(ctx) });
  if (!aclsEnabled(bucket)) {
    // Every object is the bucket owner's while ACLs are disabled, whoever wrote it.
    const owner = ownerOf(bucket.owner);
    sendXmlDocument(ctx.res, 'AccessControlPolicy', accessControlPolicyXml(owner, privateGrants(owner.id)));
    return;
  }
  const owner = ownerOf(v.owner);
  sendXmlDocument(ctx.res, 'AccessControlPolicy', accessControlPolicyXml(owner, v.acl ?? privateGrants(owner.id)));
};

export const putObjectAcl: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  if (!aclsEnabled(bucket)) throw new S3Error('AccessControlListNotSupported');
  const versionId = versionIdParam(ctx);
  const source = await requestedAcl(ctx);
  const bucketOwner = canonicalUserId(bucket.owner);
  const target = { bucket: bucket.name, key: keyOf(ctx), versionId };
  const current = ctx.engine.headObject(target);
  refusePublicAcl(resolveAcl(source, canonicalUserId(current.owner), bucketOwner), publicAccessBlockOf(ctx, bucket));
  await ctx.engine.updateObject(target, (v) => ({
    ...v,
    acl: resolveAcl(source, canonicalUserId(v.owner), bucketOwner),
  }));
  sendEmpty(ctx.res, 200);
};
