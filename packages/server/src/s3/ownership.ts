/**
 * S3 Object Ownership: who owns what a request writes, and which ACLs a bucket still takes.
 * Pure functions of the bucket record and the request's ACL; handlers call them before a
 * byte is stored.
 *
 * - BucketOwnerEnforced (the default for new buckets): ACLs are disabled. Uploads may name no
 *   ACL or a "bucket owner full control" one (`bucket-owner-full-control`, or the same as
 *   grants; `private` from the bucket owner); anything else is AccessControlListNotSupported.
 *   The bucket owner owns every object written.
 * - BucketOwnerPreferred: an object written with the `bucket-owner-full-control` canned ACL
 *   is owned by the bucket owner; otherwise by its writer.
 * - ObjectWriter, or no ownership controls at all: the writer owns what it writes.
 */
import { S3Error } from '../core/errors.ts';
import type { BucketRecord, Grant, ObjectOwnership, PublicAccessBlock } from '../storage/types.ts';
import { resolveAcl, type AclSource } from './acl.ts';
import { aclsEnabled, refusePublicAcl } from './authorize.ts';

export const OBJECT_OWNERSHIPS: ReadonlySet<string> = new Set<ObjectOwnership>([
  'BucketOwnerEnforced',
  'BucketOwnerPreferred',
  'ObjectWriter',
]);

/** What S3 gives a bucket created without `x-amz-object-ownership` (since April 2023). */
export const DEFAULT_OBJECT_OWNERSHIP: ObjectOwnership = 'BucketOwnerEnforced';

export function isObjectOwnership(value: string): value is ObjectOwnership {
  return OBJECT_OWNERSHIPS.has(value);
}

/** Whether an ACL gives nobody but `ownerId` anything (a bucket ACL ACLs can be disabled over). */
export function grantsOnlyTo(grants: readonly Grant[], ownerId: string): boolean {
  return grants.every((g) => g.grantee.type === 'CanonicalUser' && g.grantee.id === ownerId);
}

/**
 * Whether an object ACL, as its writer asked for it, is "bucket owner full control": the
 * bucket owner has FULL_CONTROL and nobody but the writer has anything else. That is
 * `bucket-owner-full-control` from any writer, and `private` only from the bucket owner
 * itself (from another account it would keep the bucket owner out).
 */
export function isBucketOwnerFullControl(grants: readonly Grant[], writerId: string, bucketOwnerId: string): boolean {
  const user = (g: Grant) => (g.grantee.type === 'CanonicalUser' ? g.grantee.id : undefined);
  return (
    grants.some((g) => user(g) === bucketOwnerId && g.permission === 'FULL_CONTROL') &&
    grants.every((g) => (user(g) === bucketOwnerId || user(g) === writerId) && g.permission === 'FULL_CONTROL')
  );
}

export interface ObjectWriteInput {
  bucket: BucketRecord;
  /** the account writing the object */
  writer: string;
  /** the ACL the request names (`x-amz-acl` or `x-amz-grant-*`), if any */
  acl?: AclSource;
  /** the Block Public Access in force for the bucket */
  block: PublicAccessBlock;
  /** an account's canonical user id */
  canonicalId: (account: string) => string;
}

/**
 * The owner and stored ACL of an object that PutObject, CopyObject or CreateMultipartUpload
 * writes. Throws AccessControlListNotSupported for an ACL a bucket without ACLs refuses, and
 * AccessDenied for a public ACL while BlockPublicAcls is on.
 *
 * @example
 * const { owner, acl } = objectWrite({ bucket, writer: ctx.accountId, acl: aclSourceFromHeaders(headers), block, canonicalId });
 */
export function objectWrite(input: ObjectWriteInput): { owner: string; acl?: Grant[] } {
  const { bucket, writer, acl: source } = input;
  const bucketOwnerId = input.canonicalId(bucket.owner);
  if (!aclsEnabled(bucket)) {
    const writerId = input.canonicalId(writer);
    if (source && !isBucketOwnerFullControl(resolveAcl(source, writerId, bucketOwnerId), writerId, bucketOwnerId)) {
      throw new S3Error('AccessControlListNotSupported');
    }
    // The object is the bucket owner's, with the default ACL (its full control), should ACLs
    // be enabled again later.
    return { owner: bucket.owner };
  }
  const preferred =
    bucket.objectOwnership === 'BucketOwnerPreferred' &&
    source?.kind === 'canned' &&
    source.name === 'bucket-owner-full-control';
  const owner = preferred ? bucket.owner : writer;
  const acl = source && resolveAcl(source, input.canonicalId(owner), bucketOwnerId);
  refusePublicAcl(acl, input.block);
  return { owner, acl };
}
