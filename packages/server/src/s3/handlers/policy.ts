/**
 * Bucket policies (Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus) and a bucket's Block
 * Public Access settings (Put/Get/DeletePublicAccessBlock). The policy is kept as the JSON
 * text the client sent, checked by the policy engine when it is put.
 */
import { S3Error } from '../../core/errors.ts';
import { isPublicPolicy, parsePolicy, requestPrincipalArn } from '../../policy/index.ts';
import type { BucketRecord, PublicAccessBlock } from '../../storage/types.ts';
import { effectivePublicAccessBlock } from '../authorize.ts';
import { readSmallBody } from '../body.ts';
import { existingBucket, type Handler, type S3Context } from '../context.ts';
import { verifyIntegrity } from '../integrity.ts';
import { sendEmpty, sendXmlDocument } from '../respond.ts';
import { parseXml, xmlText } from '../xml.ts';

/**
 * The Block Public Access a new bucket starts with: all four settings on, as S3 gives every
 * bucket created since April 2023, until its owner changes them (PutPublicAccessBlock) or
 * removes them (DeletePublicAccessBlock). A bucket created before has no settings of its own.
 */
export const NEW_BUCKET_PUBLIC_ACCESS_BLOCK: Readonly<PublicAccessBlock> = Object.freeze({
  blockPublicAcls: true,
  ignorePublicAcls: true,
  blockPublicPolicy: true,
  restrictPublicBuckets: true,
});

/** A policy document is at most 20 KB; the body gets a little room beyond. */
const MAX_POLICY_BODY = 64 * 1024;

function bucketArns(bucket: string): string[] {
  return [`arn:aws:s3:::${bucket}`];
}

/**
 * The Block Public Access in force for a request on a bucket: the bucket's own settings, its
 * owner's account's, and those of the access point the MRAP router forwarded it from.
 */
export function publicAccessBlockOf(ctx: S3Context, bucket: BucketRecord): PublicAccessBlock {
  return effectivePublicAccessBlock(
    bucket.publicAccessBlock,
    ctx.catalog.accountPublicAccessBlock(bucket.owner),
    ctx.accessPointBlock,
  );
}

export const putBucketPolicy: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const text = await readSmallBody(ctx.body(), MAX_POLICY_BODY);
  const policy = parsePolicy(text, { kind: 'bucket', resourceArns: bucketArns(bucket.name) });
  // Block Public Access: a public policy cannot be put while BlockPublicPolicy is on (for the
  // bucket or for its owner's account).
  if (publicAccessBlockOf(ctx, bucket).blockPublicPolicy && isPublicPolicy(policy)) {
    throw new S3Error('AccessDenied', publicPolicyBlocked(ctx, bucket.name));
  }
  await ctx.engine.updateBucket(bucket.name, { policy: text });
  sendEmpty(ctx.res, 204);
};

/** S3's words for a public policy refused by BlockPublicPolicy. */
function publicPolicyBlocked(ctx: S3Context, bucket: string): string {
  const who = ctx.principal === 'service' ? undefined : ctx.principal;
  const arn = who?.type === 'account' ? requestPrincipalArn({ type: 'account', account: who.account, user: who.user }) : undefined;
  return (
    `User: ${arn ?? 'anonymous'} is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::${bucket}" ` +
    'because public policies are blocked by the BlockPublicPolicy block public access setting.'
  );
}

export const getBucketPolicy: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  if (bucket.policy === undefined) {
    throw new S3Error('NoSuchBucketPolicy', undefined, { fields: { BucketName: bucket.name } });
  }
  ctx.res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(bucket.policy)),
  });
  ctx.res.end(bucket.policy);
};

export const deleteBucketPolicy: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  await ctx.engine.updateBucket(bucket.name, { policy: undefined });
  sendEmpty(ctx.res, 204);
};

export const getBucketPolicyStatus: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  if (bucket.policy === undefined) {
    throw new S3Error('NoSuchBucketPolicy', undefined, { fields: { BucketName: bucket.name } });
  }
  const policy = parsePolicy(bucket.policy, { kind: 'bucket', resourceArns: bucketArns(bucket.name) });
  sendXmlDocument(ctx.res, 'PolicyStatus', { IsPublic: isPublicPolicy(policy) });
};

const SETTINGS = [
  ['BlockPublicAcls', 'blockPublicAcls'],
  ['IgnorePublicAcls', 'ignorePublicAcls'],
  ['BlockPublicPolicy', 'blockPublicPolicy'],
  ['RestrictPublicBuckets', 'restrictPublicBuckets'],
] as const;

export const putPublicAccessBlock: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const text = await readSmallBody(ctx.body(), 16 * 1024);
  verifyIntegrity(ctx, text);
  const doc = parseXml(text, 'PublicAccessBlockConfiguration');
  const settings = {} as PublicAccessBlock;
  for (const [element, field] of SETTINGS) {
    const v = xmlText(doc, element);
    if (v !== undefined && v !== 'true' && v !== 'false') throw new S3Error('MalformedXML');
    // An element left out is false, as in S3.
    settings[field] = v === 'true';
  }
  await ctx.engine.updateBucket(bucket.name, { publicAccessBlock: settings });
  sendEmpty(ctx.res, 200);
};

export const getPublicAccessBlock: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const settings = bucket.publicAccessBlock;
  if (!settings) {
    throw new S3Error('NoSuchPublicAccessBlockConfiguration', undefined, { fields: { BucketName: bucket.name } });
  }
  sendXmlDocument(
    ctx.res,
    'PublicAccessBlockConfiguration',
    Object.fromEntries(SETTINGS.map(([element, field]) => [element, settings[field]])),
  );
};

export const deletePublicAccessBlock: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  await ctx.engine.updateBucket(bucket.name, { publicAccessBlock: undefined });
  sendEmpty(ctx.res, 204);
};
