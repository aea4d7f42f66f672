/**
 * Who may do what to a bucket, as S3 decides it: an explicit Deny in the bucket policy always
 * refuses; the bucket owner's own identities are allowed by ownership; anyone else (another
 * account, or an anonymous request) needs an Allow from the bucket policy or a grant in an
 * ACL, and Block Public Access can take public policies and public grants away.
 *
 * ACL grants follow S3's mapping: on a bucket, READ lists it, WRITE writes and deletes its
 * objects, READ_ACP/WRITE_ACP read and write its ACL; on an object, READ reads it and
 * READ_ACP/WRITE_ACP its ACL; FULL_CONTROL is all of them. A bucket whose Object Ownership is
 * BucketOwnerEnforced has ACLs disabled: they grant nothing there, only policies do.
 *
 * Block Public Access is the bucket's settings, its owner's account settings (S3 Control) and,
 * for a request through a Multi-Region Access Point, the access point's, together: a flag on at
 * any level is on.
 */
import { S3Error } from '../core/errors.ts';
import { evaluate, isPublicPolicy, parsePolicy, type Policy, type RequestContext } from '../policy/index.ts';
import type { BucketRecord, Grant, Permission, PublicAccessBlock } from '../storage/types.ts';
import { ALL_USERS, AUTHENTICATED_USERS } from './acl.ts';

export type Principal = { type: 'anonymous' } | { type: 'account'; account: string; user?: string; canonicalId: string };

export interface AuthorizeInput {
  /** the S3 operation, e.g. `GetObject` */
  op: string;
  /** its IAM action, e.g. `s3:GetObject` */
  action: string;
  bucket: BucketRecord;
  key?: string;
  principal: Principal;
  /** the bucket owner's canonical id (ACL grants name canonical ids) */
  ownerCanonicalId: string;
  /** condition keys of the request (aws:SourceIp, s3:prefix, ...) */
  keys: RequestContext['keys'];
  /** the grants of the object a read acts on, looked up only when needed */
  objectAcl?: () => Grant[] | undefined;
  /** the account that owns that object (undefined when there is none), looked up only when needed */
  objectOwner?: () => string | undefined;
  /** the Block Public Access settings of the bucket owner's account, if it has any */
  accountBlock?: PublicAccessBlock;
  /** those of the access point the request came through, if any */
  accessPointBlock?: PublicAccessBlock;
}

const NO_BLOCK: PublicAccessBlock = {
  blockPublicAcls: false,
  ignorePublicAcls: false,
  blockPublicPolicy: false,
  restrictPublicBuckets: false,
};

/**
 * The Block Public Access in force: each flag is on if it is on at any level given (the
 * bucket, its owner's account, the access point a request came through).
 *
 * @example
 * effectivePublicAccessBlock(bucket.publicAccessBlock, catalog.accountPublicAccessBlock(bucket.owner)).blockPublicPolicy
 */
export function effectivePublicAccessBlock(...levels: (PublicAccessBlock | undefined)[]): PublicAccessBlock {
  const on = (field: keyof PublicAccessBlock) => levels.some((level) => level?.[field] === true);
  return {
    blockPublicAcls: on('blockPublicAcls'),
    ignorePublicAcls: on('ignorePublicAcls'),
    blockPublicPolicy: on('blockPublicPolicy'),
    restrictPublicBuckets: on('restrictPublicBuckets'),
  };
}

/**
 * The Block Public Access of the access point a request came through (a Multi-Region Access
 * Point), as the router tells the region, which applies it with the bucket's and the
 * account's: S3 refuses a request that any of the three forbids. The value lists the flags
 * that are on (`BlockPublicAcls,IgnorePublicAcls,...`); the region trusts it only from the
 * world's service identity, and it can only add restrictions.
 */
export const ACCESS_POINT_BLOCK_HEADER = 'x-meridian-access-point-block';

const BLOCK_FLAGS = [
  ['BlockPublicAcls', 'blockPublicAcls'],
  ['IgnorePublicAcls', 'ignorePublicAcls'],
  ['BlockPublicPolicy', 'blockPublicPolicy'],
  ['RestrictPublicBuckets', 'restrictPublicBuckets'],
] as const;

export function encodeAccessPointBlock(block: PublicAccessBlock): string {
  return BLOCK_FLAGS.filter(([, field]) => block[field])
    .map(([name]) => name)
    .join(',');
}

export function decodeAccessPointBlock(value: string | string[] | undefined): PublicAccessBlock | undefined {
  if (typeof value !== 'string') return undefined;
  const on = new Set(value.split(',').map((v) => v.trim()));
  const block = { ...NO_BLOCK };
  for (const [name, field] of BLOCK_FLAGS) block[field] = on.has(name);
  return block;
}

/** Whether a bucket takes ACLs: not under BucketOwnerEnforced, where they are disabled. */
export function aclsEnabled(bucket: Pick<BucketRecord, 'objectOwnership'>): boolean {
  return bucket.objectOwnership !== 'BucketOwnerEnforced';
}

/** Operations governed by the bucket ACL's READ: listings. */
const BUCKET_READ = new Set(['ListObjects', 'ListObjectsV2', 'ListObjectVersions', 'ListMultipartUploads', 'HeadBucket', 'GetBucketLocation']);
/** Object writes, governed by the bucket ACL's WRITE. */
const BUCKET_WRITE = new Set([
  'PutObject',
  'CopyObject',
  'DeleteObject',
  'DeleteObjects',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'ListParts',
]);
/** Object reads, governed by the object ACL's READ. */
const OBJECT_READ = new Set(['GetObject', 'HeadObject', 'GetObjectAttributes', 'GetObjectTagging']);

/** What the bucket owner's root can always do, whatever the bucket policy says. */
const POLICY_OPERATIONS = new Set(['GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy']);

/** Parsed bucket policies, by their text. */
const parsed = new Map<string, Policy>();

function policyOf(bucket: BucketRecord): Policy | undefined {
  if (bucket.policy === undefined) return undefined;
  let p = parsed.get(bucket.policy);
  if (!p) {
    p = parsePolicy(bucket.policy, { kind: 'bucket', resourceArns: [`arn:aws:s3:::${bucket.name}`] });
    if (parsed.size > 1000) parsed.clear();
    parsed.set(bucket.policy, p);
  }
  return p;
}

/** The ACL permission an operation needs, and whose ACL (the bucket's or the object's). */
function aclNeed(op: string): { on: 'bucket' | 'object'; permission: Permission } | undefined {
  if (BUCKET_READ.has(op)) return { on: 'bucket', permission: 'READ' };
  if (BUCKET_WRITE.has(op)) return { on: 'bucket', permission: 'WRITE' };
  if (OBJECT_READ.has(op)) return { on: 'object', permission: 'READ' };
  if (op === 'GetBucketAcl') return { on: 'bucket', permission: 'READ_ACP' };
  if (op === 'PutBucketAcl') return { on: 'bucket', permission: 'WRITE_ACP' };
  if (op === 'GetObjectAcl') return { on: 'object', permission: 'READ_ACP' };
  if (op === 'PutObjectAcl') return { on: 'object', permission: 'WRITE_ACP' };
  return undefined;
}

function isPublicGrant(g: Grant): boolean {
  return g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS);
}

function grantMatches(g: Grant, principal: Principal, permission: Permission): boolean {
  if (g.permission !== permission && g.permission !== 'FULL_CONTROL') return false;
  switch (g.grantee.type) {
    case 'Group':
      return g.grantee.uri === ALL_USERS || (g.grantee.uri === AUTHENTICATED_USERS && principal.type === 'account');
    case 'CanonicalUser':
      return principal.type === 'account' && g.grantee.id === principal.canonicalId;
    default:
      return false;
  }
}

/** Throws AccessDenied unless the request is allowed. */
export function authorize(input: AuthorizeInput): void {
  const { bucket, principal } = input;
  // The owning account's root may always read, replace and delete the bucket policy, even one
  // that denies it: a bucket cannot lock its owner out for good.
  if (POLICY_OPERATIONS.has(input.op) && principal.type === 'account' && principal.account === bucket.owner && principal.user === undefined) {
    return;
  }
  const policy = policyOf(bucket);
  const resource = input.key !== undefined ? `arn:aws:s3:::${bucket.name}/${input.key}` : `arn:aws:s3:::${bucket.name}`;
  const decision = policy
    ? evaluate([policy], {
        principal:
          principal.type === 'anonymous'
            ? { type: 'anonymous' }
            : { type: 'account', account: principal.account, user: principal.user, canonicalId: principal.canonicalId },
        action: input.action,
        resource,
        keys: input.keys,
        now: new Date(),
      })
    : 'ImplicitDeny';
  if (decision === 'Deny') throw new S3Error('AccessDenied');
  const bpa = effectivePublicAccessBlock(bucket.publicAccessBlock, input.accountBlock, input.accessPointBlock);
  const need = aclsEnabled(bucket) ? aclNeed(input.op) : undefined;
  // An object another account wrote (ACLs enabled, ObjectWriter) belongs to that account: the
  // bucket policy's Allows do not reach it and the bucket owner has no rights of ownership over
  // it; only its owner and its ACL's grantees get in (the policy's explicit Deny still counts).
  const objectOwner = need?.on === 'object' ? input.objectOwner?.() : undefined;
  if (need && objectOwner !== undefined && objectOwner !== bucket.owner) {
    if (principal.type === 'account' && principal.account === objectOwner) return;
    if (granted(input.objectAcl?.(), principal, need.permission, bpa)) return;
    throw new S3Error('AccessDenied');
  }
  // The bucket owner's own identities are allowed by ownership.
  if (principal.type === 'account' && principal.account === bucket.owner) return;
  if (decision === 'Allow') {
    // RestrictPublicBuckets: a public policy grants only the owner's and AWS services' access.
    if (!(bpa.restrictPublicBuckets && policy && isPublicPolicy(policy))) return;
  }
  if (need && granted(need.on === 'bucket' ? bucket.acl : input.objectAcl?.(), principal, need.permission, bpa)) return;
  throw new S3Error('AccessDenied');
}

/** Whether an ACL grants `principal` the permission (IgnorePublicAcls taking public grants away). */
function granted(grants: readonly Grant[] | undefined, principal: Principal, permission: Permission, bpa: PublicAccessBlock): boolean {
  return (grants ?? []).some((g) => grantMatches(g, principal, permission) && !(bpa.ignorePublicAcls && isPublicGrant(g)));
}

/** Whether a set of grants would make a resource public (Block Public Access refuses them). */
export function hasPublicGrant(grants: readonly Grant[] | undefined): boolean {
  return (grants ?? []).some(isPublicGrant);
}

/**
 * BlockPublicAcls: an ACL that grants AllUsers or AuthenticatedUsers anything cannot be set
 * (PutBucketAcl, PutObjectAcl, and the ACL headers of uploads and CreateBucket): AccessDenied.
 */
export function refusePublicAcl(grants: readonly Grant[] | undefined, block: PublicAccessBlock): void {
  if (block.blockPublicAcls && hasPublicGrant(grants)) throw new S3Error('AccessDenied');
}
