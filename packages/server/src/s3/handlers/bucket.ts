import { createHash } from 'node:crypto';
import { S3Error } from '../../core/errors.ts';
import type { ObjectOwnership } from '../../storage/types.ts';
import { aclFromHeaders } from '../acl.ts';
import { isValidBucketName } from '../address.ts';
import { hasPublicGrant } from '../authorize.ts';
import { DEFAULT_OBJECT_OWNERSHIP, grantsOnlyTo, isObjectOwnership } from '../ownership.ts';
import { readSmallBody } from '../body.ts';
import { bucketOf, type Handler, type S3Context } from '../context.ts';
import { sendEmpty, sendXmlDocument } from '../respond.ts';
import { parseXml, xmlDate, xmlText, type XmlObject } from '../xml.ts';
import { NEW_BUCKET_PUBLIC_ACCESS_BLOCK } from './policy.ts';

/** S3 owners are canonical user ids (64 hex digits); ours derive from the account id. */
export function canonicalUserId(accountId: string): string {
  return createHash('sha256').update(`meridian-account:${accountId}`).digest('hex');
}

export function ownerXml(accountId: string): XmlObject {
  return { ID: canonicalUserId(accountId), DisplayName: accountId };
}

function token(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

function untoken(value: string, name: string): string {
  const decoded = Buffer.from(value, 'base64url').toString('utf8');
  if (value === '' || token(decoded) !== value) {
    throw new S3Error('InvalidArgument', `The ${name} provided is not valid.`, { fields: { ArgumentName: name, ArgumentValue: value } });
  }
  return decoded;
}

export const listBuckets: Handler = async (ctx) => {
  const prefix = ctx.query.get('prefix') ?? '';
  const regionFilter = ctx.query.get('bucket-region');
  const maxParam = ctx.query.get('max-buckets');
  let max = 10000;
  if (maxParam !== null) {
    max = Number(maxParam);
    if (!/^\d+$/.test(maxParam) || max < 1 || max > 10000) {
      throw new S3Error('InvalidArgument', 'Argument max-buckets must be an integer between 1 and 10000.', {
        fields: { ArgumentName: 'max-buckets', ArgumentValue: maxParam },
      });
    }
  }
  const tokenParam = ctx.query.get('continuation-token');
  const after = tokenParam !== null ? untoken(tokenParam, 'continuation-token') : undefined;
  const owned = ctx.catalog
    .listBuckets()
    .filter((b) => b.owner === ctx.accountId && b.name.startsWith(prefix))
    .filter((b) => regionFilter === null || b.region === regionFilter)
    .filter((b) => after === undefined || b.name > after)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const page = owned.slice(0, max);
  const doc: XmlObject = {
    Owner: ownerXml(ctx.accountId),
    Buckets: { Bucket: page.map((b) => ({ Name: b.name, CreationDate: xmlDate(b.createdAt), BucketRegion: b.region })) },
  };
  if (owned.length > max) doc.ContinuationToken = token(page[page.length - 1].name);
  if (prefix !== '') doc.Prefix = prefix;
  sendXmlDocument(ctx.res, 'ListAllMyBucketsResult', doc);
};

/** The region a CreateBucket asks for, checked against this endpoint's region as S3 does. */
async function requestedLocation(ctx: S3Context): Promise<string> {
  const text = await readSmallBody(ctx.body(), 64 * 1024);
  let constraint: string | undefined;
  if (text.trim() !== '') {
    const doc = parseXml(text, 'CreateBucketConfiguration');
    constraint = xmlText(doc, 'LocationConstraint');
  }
  if (constraint === undefined || constraint === '') {
    if (ctx.region === 'us-east-1') return ctx.region;
    throw new S3Error(
      'IllegalLocationConstraintException',
      'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
    );
  }
  const location = constraint === 'EU' ? 'eu-west-1' : constraint;
  if (location === 'us-east-1' || !ctx.catalog.region(location)) {
    throw new S3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid', {
      fields: { LocationConstraint: constraint },
    });
  }
  if (location !== ctx.region) {
    throw new S3Error(
      'IllegalLocationConstraintException',
      `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    );
  }
  return location;
}

/** `x-amz-object-ownership`, or S3's default for a new bucket. */
function requestedOwnership(ctx: S3Context): ObjectOwnership {
  const value = ctx.req.headers['x-amz-object-ownership'];
  if (value === undefined) return DEFAULT_OBJECT_OWNERSHIP;
  const text = Array.isArray(value) ? value.join(',') : value;
  if (!isObjectOwnership(text)) {
    throw new S3Error('InvalidArgument', `Invalid x-amz-object-ownership header: ${text}`, {
      fields: { ArgumentName: 'x-amz-object-ownership' },
    });
  }
  return text;
}

export const createBucket: Handler = async (ctx) => {
  const name = bucketOf(ctx);
  if (!isValidBucketName(name)) throw new S3Error('InvalidBucketName', undefined, { fields: { BucketName: name } });
  const objectOwnership = requestedOwnership(ctx);
  const me = canonicalUserId(ctx.accountId);
  const acl = aclFromHeaders(ctx.req.headers, me, me);
  // With ACLs disabled (the default), only an ACL that gives the owner alone control is taken.
  if (acl && objectOwnership === 'BucketOwnerEnforced' && !grantsOnlyTo(acl, me)) {
    throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
  // The new bucket's own Block Public Access (BlockPublicAcls on) refuses a public ACL; the
  // owner can make the bucket public once it exists.
  if (NEW_BUCKET_PUBLIC_ACCESS_BLOCK.blockPublicAcls && hasPublicGrant(acl)) {
    throw new S3Error('InvalidBucketAclWithBlockPublicAccessError');
  }
  await requestedLocation(ctx);
  const claim = await ctx.catalog.claimBucket({ name, region: ctx.region, owner: ctx.accountId, createdAt: Date.now() });
  if (!claim.claimed) {
    const existing = claim.existing;
    if (existing.owner !== ctx.accountId) throw new S3Error('BucketAlreadyExists', undefined, { fields: { BucketName: name } });
    // For legacy compatibility, us-east-1 answers 200 to re-creating a bucket you own there.
    if (existing.region === 'us-east-1' && ctx.region === 'us-east-1' && ctx.engine.getBucket(name)) {
      sendEmpty(ctx.res, 200, { location: `/${name}` });
      return;
    }
    throw new S3Error('BucketAlreadyOwnedByYou', undefined, { fields: { BucketName: name } });
  }
  try {
    await ctx.engine.createBucket({
      name,
      owner: ctx.accountId,
      acl: acl?.length === 1 && acl[0].permission === 'FULL_CONTROL' && acl[0].grantee.type === 'CanonicalUser' && acl[0].grantee.id === me ? undefined : acl,
      objectOwnership,
      publicAccessBlock: NEW_BUCKET_PUBLIC_ACCESS_BLOCK,
    });
  } catch (err) {
    await ctx.catalog.releaseBucket(name, ctx.region);
    throw err;
  }
  sendEmpty(ctx.res, 200, { location: `/${name}` });
};

export const headBucket: Handler = async (ctx) => {
  const name = bucketOf(ctx);
  if (!ctx.engine.getBucket(name)) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: name } });
  sendEmpty(ctx.res, 200, { 'x-amz-bucket-region': ctx.region, 'x-amz-access-point-alias': 'false' });
};

export const deleteBucket: Handler = async (ctx) => {
  const name = bucketOf(ctx);
  await ctx.engine.deleteBucket(name);
  await ctx.catalog.releaseBucket(name, ctx.region);
  sendEmpty(ctx.res, 204);
};

export const getBucketLocation: Handler = async (ctx) => {
  const name = bucketOf(ctx);
  const location = ctx.catalog.lookupBucket(name);
  if (!location) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: name } });
  if (location.owner !== ctx.accountId) throw new S3Error('AccessDenied');
  // us-east-1 is reported as an empty constraint, as S3 does.
  const body = location.region === 'us-east-1' ? '' : location.region;
  sendXmlDocument(ctx.res, 'LocationConstraint', { '#text': body });
};
