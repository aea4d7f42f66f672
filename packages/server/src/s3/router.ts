/**
 * The S3 operation table. Every S3 operation is one row: HTTP method, what the path names
 * (the service, a bucket or an object), the query subresource or header that selects it,
 * and the IAM action it needs. Operations without a handler answer `NotImplemented` with
 * their name, so a client always learns exactly what is missing.
 */

export type Target = 'service' | 'bucket' | 'object';

export interface Route {
  op: string;
  method: string;
  target: Target;
  /** A query parameter that must be present (e.g. `versioning`). */
  sub?: string;
  /** Query parameters that must have these values (e.g. `list-type=2`). */
  params?: Record<string, string>;
  /** A header that must be present (e.g. `x-amz-copy-source` for CopyObject). */
  header?: string;
  action: string;
}

const r = (
  method: string,
  target: Target,
  op: string,
  action: string,
  select: Pick<Route, 'sub' | 'params' | 'header'> = {},
): Route => ({ op, method, target, action, ...select });

export const ROUTES: readonly Route[] = [
  r('GET', 'service', 'ListBuckets', 's3:ListAllMyBuckets'),

  // Buckets
  r('PUT', 'bucket', 'CreateBucket', 's3:CreateBucket'),
  r('HEAD', 'bucket', 'HeadBucket', 's3:ListBucket'),
  r('DELETE', 'bucket', 'DeleteBucket', 's3:DeleteBucket'),
  r('GET', 'bucket', 'ListObjects', 's3:ListBucket'),
  r('GET', 'bucket', 'ListObjectsV2', 's3:ListBucket', { params: { 'list-type': '2' } }),
  r('GET', 'bucket', 'ListObjectVersions', 's3:ListBucketVersions', { sub: 'versions' }),
  r('GET', 'bucket', 'ListMultipartUploads', 's3:ListBucketMultipartUploads', { sub: 'uploads' }),
  r('GET', 'bucket', 'GetBucketLocation', 's3:GetBucketLocation', { sub: 'location' }),
  r('POST', 'bucket', 'DeleteObjects', 's3:DeleteObject', { sub: 'delete' }),
  r('POST', 'bucket', 'PostObject', 's3:PutObject'),
  ...bucketConfig('versioning', 'BucketVersioning', 's3:GetBucketVersioning', 's3:PutBucketVersioning', false),
  ...bucketConfig('acl', 'BucketAcl', 's3:GetBucketAcl', 's3:PutBucketAcl', false),
  ...bucketConfig('tagging', 'BucketTagging', 's3:GetBucketTagging', 's3:PutBucketTagging', true),
  ...bucketConfig('policy', 'BucketPolicy', 's3:GetBucketPolicy', 's3:PutBucketPolicy', true, 's3:DeleteBucketPolicy'),
  ...bucketConfig('replication', 'BucketReplication', 's3:GetReplicationConfiguration', 's3:PutReplicationConfiguration', true),
  ...bucketConfig('cors', 'BucketCors', 's3:GetBucketCORS', 's3:PutBucketCORS', true),
  ...bucketConfig('encryption', 'BucketEncryption', 's3:GetEncryptionConfiguration', 's3:PutEncryptionConfiguration', true),
  ...bucketConfig('lifecycle', 'BucketLifecycleConfiguration', 's3:GetLifecycleConfiguration', 's3:PutLifecycleConfiguration', false),
  r('DELETE', 'bucket', 'DeleteBucketLifecycle', 's3:PutLifecycleConfiguration', { sub: 'lifecycle' }),
  ...bucketConfig('website', 'BucketWebsite', 's3:GetBucketWebsite', 's3:PutBucketWebsite', true, 's3:DeleteBucketWebsite'),
  ...bucketConfig('publicAccessBlock', 'PublicAccessBlock', 's3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock', true),
  ...bucketConfig('ownershipControls', 'BucketOwnershipControls', 's3:GetBucketOwnershipControls', 's3:PutBucketOwnershipControls', true),
  ...bucketConfig('object-lock', 'ObjectLockConfiguration', 's3:GetBucketObjectLockConfiguration', 's3:PutBucketObjectLockConfiguration', false),
  ...bucketConfig('notification', 'BucketNotificationConfiguration', 's3:GetBucketNotification', 's3:PutBucketNotification', false),
  ...bucketConfig('logging', 'BucketLogging', 's3:GetBucketLogging', 's3:PutBucketLogging', false),
  ...bucketConfig('requestPayment', 'BucketRequestPayment', 's3:GetBucketRequestPayment', 's3:PutBucketRequestPayment', false),
  ...bucketConfig('accelerate', 'BucketAccelerateConfiguration', 's3:GetAccelerateConfiguration', 's3:PutAccelerateConfiguration', false),
  ...bucketConfig('analytics', 'BucketAnalyticsConfiguration', 's3:GetAnalyticsConfiguration', 's3:PutAnalyticsConfiguration', true),
  ...bucketConfig('metrics', 'BucketMetricsConfiguration', 's3:GetMetricsConfiguration', 's3:PutMetricsConfiguration', true),
  ...bucketConfig('inventory', 'BucketInventoryConfiguration', 's3:GetInventoryConfiguration', 's3:PutInventoryConfiguration', true),
  ...bucketConfig('intelligent-tiering', 'BucketIntelligentTieringConfiguration', 's3:GetIntelligentTieringConfiguration', 's3:PutIntelligentTieringConfiguration', true),
  r('GET', 'bucket', 'GetBucketPolicyStatus', 's3:GetBucketPolicyStatus', { sub: 'policyStatus' }),

  // Objects
  r('PUT', 'object', 'PutObject', 's3:PutObject'),
  r('PUT', 'object', 'CopyObject', 's3:PutObject', { header: 'x-amz-copy-source' }),
  r('PUT', 'object', 'UploadPart', 's3:PutObject', { sub: 'uploadId' }),
  r('PUT', 'object', 'UploadPartCopy', 's3:PutObject', { sub: 'uploadId', header: 'x-amz-copy-source' }),
  r('GET', 'object', 'GetObject', 's3:GetObject'),
  r('HEAD', 'object', 'HeadObject', 's3:GetObject'),
  r('DELETE', 'object', 'DeleteObject', 's3:DeleteObject'),
  r('POST', 'object', 'CreateMultipartUpload', 's3:PutObject', { sub: 'uploads' }),
  r('POST', 'object', 'CompleteMultipartUpload', 's3:PutObject', { sub: 'uploadId' }),
  r('DELETE', 'object', 'AbortMultipartUpload', 's3:AbortMultipartUpload', { sub: 'uploadId' }),
  r('GET', 'object', 'ListParts', 's3:ListMultipartUploadParts', { sub: 'uploadId' }),
  r('GET', 'object', 'GetObjectAcl', 's3:GetObjectAcl', { sub: 'acl' }),
  r('PUT', 'object', 'PutObjectAcl', 's3:PutObjectAcl', { sub: 'acl' }),
  r('GET', 'object', 'GetObjectTagging', 's3:GetObjectTagging', { sub: 'tagging' }),
  r('PUT', 'object', 'PutObjectTagging', 's3:PutObjectTagging', { sub: 'tagging' }),
  r('DELETE', 'object', 'DeleteObjectTagging', 's3:DeleteObjectTagging', { sub: 'tagging' }),
  r('GET', 'object', 'GetObjectAttributes', 's3:GetObjectAttributes', { sub: 'attributes' }),
  r('GET', 'object', 'GetObjectLegalHold', 's3:GetObjectLegalHold', { sub: 'legal-hold' }),
  r('PUT', 'object', 'PutObjectLegalHold', 's3:PutObjectLegalHold', { sub: 'legal-hold' }),
  r('GET', 'object', 'GetObjectRetention', 's3:GetObjectRetention', { sub: 'retention' }),
  r('PUT', 'object', 'PutObjectRetention', 's3:PutObjectRetention', { sub: 'retention' }),
  r('GET', 'object', 'GetObjectTorrent', 's3:GetObjectTorrent', { sub: 'torrent' }),
  r('POST', 'object', 'RestoreObject', 's3:RestoreObject', { sub: 'restore' }),
  r('POST', 'object', 'SelectObjectContent', 's3:GetObject', { sub: 'select' }),
];

function bucketConfig(
  sub: string,
  name: string,
  getAction: string,
  putAction: string,
  deletable: boolean,
  deleteAction = putAction,
): Route[] {
  const routes = [
    r('GET', 'bucket', `Get${name}`, getAction, { sub }),
    r('PUT', 'bucket', `Put${name}`, putAction, { sub }),
  ];
  if (deletable) routes.push(r('DELETE', 'bucket', `Delete${name}`, deleteAction, { sub }));
  return routes;
}

/** Query parameters that select a subresource. One we have no route for is NotImplemented. */
const SUBRESOURCES = new Set(
  ROUTES.flatMap((route) => (route.sub ? [route.sub] : [])).concat([
    'website',
    'torrent',
    'session',
    'renameObject',
    'metadataTable',
    'metadataConfiguration',
    'inventory',
    'abac',
  ]),
);

export type RouteMatch =
  | { kind: 'route'; route: Route }
  | { kind: 'unknown-subresource'; sub: string }
  | { kind: 'method-not-allowed' };

export interface RouteRequest {
  method: string;
  target: Target;
  query: URLSearchParams;
  hasHeader(name: string): boolean;
}

/** Picks the most specific route: one selected by a subresource, parameter or header beats the plain one. */
export function matchRoute(req: RouteRequest): RouteMatch {
  let best: Route | undefined;
  let bestScore = -1;
  for (const route of ROUTES) {
    if (route.method !== req.method || route.target !== req.target) continue;
    if (route.sub !== undefined && !req.query.has(route.sub)) continue;
    if (route.header !== undefined && !req.hasHeader(route.header)) continue;
    if (route.params && !Object.entries(route.params).every(([k, v]) => req.query.get(k) === v)) continue;
    const score =
      (route.sub !== undefined ? 4 : 0) + (route.header !== undefined ? 2 : 0) + (route.params ? 1 : 0);
    if (score > bestScore) {
      best = route;
      bestScore = score;
    }
  }
  if (best && best.sub === undefined) {
    // A plain route was chosen: a subresource we do not know for this method is not silently ignored.
    for (const name of req.query.keys()) {
      if (SUBRESOURCES.has(name)) return { kind: 'unknown-subresource', sub: name };
    }
  }
  if (best) return { kind: 'route', route: best };
  for (const name of req.query.keys()) {
    if (SUBRESOURCES.has(name)) return { kind: 'unknown-subresource', sub: name };
  }
  return { kind: 'method-not-allowed' };
}
