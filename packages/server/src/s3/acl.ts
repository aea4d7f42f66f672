/**
 * Access control lists: canned ACL names expanded into grants, the `x-amz-grant-*` headers
 * and the AccessControlPolicy XML. Pure functions; storage keeps `Grant[]`.
 */
import type { Grant } from '../storage/types.ts';

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';

export const CANNED_ACLS = new Set([
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
]);

const group = (uri: string, permission: Grant['permission']): Grant => ({ grantee: { type: 'Group', uri }, permission });
const user = (id: string, permission: Grant['permission']): Grant => ({ grantee: { type: 'CanonicalUser', id }, permission });

/**
 * The grants a canned ACL stands for. `owner` is the canonical id of the resource's owner,
 * `bucketOwner` that of the bucket's owner (for the bucket-owner-* ACLs of objects).
 */
export function cannedGrants(name: string, owner: string, bucketOwner = owner): Grant[] {
  const grants = [user(owner, 'FULL_CONTROL')];
  switch (name) {
    case 'public-read':
      grants.push(group(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      grants.push(group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(group(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'bucket-owner-read':
      if (bucketOwner !== owner) grants.push(user(bucketOwner, 'READ'));
      break;
    case 'bucket-owner-full-control':
      if (bucketOwner !== owner) grants.push(user(bucketOwner, 'FULL_CONTROL'));
      break;
    case 'log-delivery-write':
      grants.push(group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP'));
      break;
  }
  return grants;
}
