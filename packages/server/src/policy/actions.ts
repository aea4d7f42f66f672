/**
 * The S3 actions a policy can name, with the kind of resource each applies to, after the
 * Service Authorization Reference for Amazon S3. A bucket or access point policy may only name
 * actions that exist ("Policy has invalid action") and each must apply to one of the
 * statement's resources ("Action does not apply to any resource(s) in statement").
 */
import { wildcardMatch } from './wildcard.ts';

/**
 * `bucket`: on `arn:aws:s3:::bucket`; `object`: on `arn:aws:s3:::bucket/key`; `mrap`: on a
 * Multi-Region Access Point; `account`: on no resource a bucket policy can name.
 */
export type ActionKind = 'bucket' | 'object' | 'mrap' | 'account';

const OBJECT = [
  'AbortMultipartUpload',
  'BypassGovernanceRetention',
  'DeleteObject',
  'DeleteObjectTagging',
  'DeleteObjectVersion',
  'DeleteObjectVersionTagging',
  'GetObject',
  'GetObjectAcl',
  'GetObjectAttributes',
  'GetObjectLegalHold',
  'GetObjectRetention',
  'GetObjectTagging',
  'GetObjectTorrent',
  'GetObjectVersion',
  'GetObjectVersionAcl',
  'GetObjectVersionAttributes',
  'GetObjectVersionForReplication',
  'GetObjectVersionTagging',
  'GetObjectVersionTorrent',
  'InitiateReplication',
  'ListMultipartUploadParts',
  'ObjectOwnerOverrideToBucketOwner',
  'PutObject',
  'PutObjectAcl',
  'PutObjectLegalHold',
  'PutObjectRetention',
  'PutObjectTagging',
  'PutObjectVersionAcl',
  'PutObjectVersionTagging',
  'ReplicateDelete',
  'ReplicateObject',
  'ReplicateTags',
  'RestoreObject',
];

const BUCKET = [
  'CreateBucket',
  'CreateBucketMetadataTableConfiguration',
  'DeleteBucket',
  'DeleteBucketMetadataTableConfiguration',
  'DeleteBucketOwnershipControls',
  'DeleteBucketPolicy',
  'DeleteBucketWebsite',
  'GetAccelerateConfiguration',
  'GetAnalyticsConfiguration',
  'GetBucketAcl',
  'GetBucketCORS',
  'GetBucketLocation',
  'GetBucketLogging',
  'GetBucketMetadataTableConfiguration',
  'GetBucketNotification',
  'GetBucketObjectLockConfiguration',
  'GetBucketOwnershipControls',
  'GetBucketPolicy',
  'GetBucketPolicyStatus',
  'GetBucketPublicAccessBlock',
  'GetBucketRequestPayment',
  'GetBucketTagging',
  'GetBucketVersioning',
  'GetBucketWebsite',
  'GetEncryptionConfiguration',
  'GetIntelligentTieringConfiguration',
  'GetInventoryConfiguration',
  'GetLifecycleConfiguration',
  'GetMetricsConfiguration',
  'GetReplicationConfiguration',
  'ListBucket',
  'ListBucketMultipartUploads',
  'ListBucketVersions',
  'PutAccelerateConfiguration',
  'PutAnalyticsConfiguration',
  'PutBucketAcl',
  'PutBucketCORS',
  'PutBucketLogging',
  'PutBucketNotification',
  'PutBucketObjectLockConfiguration',
  'PutBucketOwnershipControls',
  'PutBucketPolicy',
  'PutBucketPublicAccessBlock',
  'PutBucketRequestPayment',
  'PutBucketTagging',
  'PutBucketVersioning',
  'PutBucketWebsite',
  'PutEncryptionConfiguration',
  'PutIntelligentTieringConfiguration',
  'PutInventoryConfiguration',
  'PutLifecycleConfiguration',
  'PutMetricsConfiguration',
  'PutReplicationConfiguration',
];

const MRAP = [
  'CreateMultiRegionAccessPoint',
  'DeleteMultiRegionAccessPoint',
  'GetMultiRegionAccessPoint',
  'GetMultiRegionAccessPointPolicy',
  'GetMultiRegionAccessPointPolicyStatus',
  'GetMultiRegionAccessPointRoutes',
  'PutMultiRegionAccessPointPolicy',
  'SubmitMultiRegionAccessPointRoutes',
];

const ACCOUNT = [
  'CreateJob',
  'DescribeMultiRegionAccessPointOperation',
  'GetAccountPublicAccessBlock',
  'ListAccessPoints',
  'ListAllMyBuckets',
  'ListJobs',
  'ListMultiRegionAccessPoints',
  'ListStorageLensConfigurations',
  'PutAccountPublicAccessBlock',
];

export interface S3Action {
  /** e.g. `s3:GetObject`. */
  name: string;
  kind: ActionKind;
}

export const S3_ACTIONS: readonly S3Action[] = [
  ...OBJECT.map((n) => ({ name: `s3:${n}`, kind: 'object' as const })),
  ...BUCKET.map((n) => ({ name: `s3:${n}`, kind: 'bucket' as const })),
  ...MRAP.map((n) => ({ name: `s3:${n}`, kind: 'mrap' as const })),
  ...ACCOUNT.map((n) => ({ name: `s3:${n}`, kind: 'account' as const })),
];

/**
 * The catalogue actions an action pattern names (`*`, `s3:*`, `s3:Get*`, case-insensitive).
 *
 * @example
 * actionsNamedBy('s3:getobject*').map((a) => a.name);
 * // ['s3:GetObject', 's3:GetObjectAcl', ...]
 */
export function actionsNamedBy(pattern: string): S3Action[] {
  if (pattern === '*') return [...S3_ACTIONS];
  return S3_ACTIONS.filter((a) => wildcardMatch(pattern, a.name, true));
}
