import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddress } from './address.ts';
import { ROUTES, matchRoute, type RouteMatch, type Target } from './router.ts';

/** Builds the router's input from a request line and headers, addressing resolved as the server does. */
function request(method: string, url: string, headers: string[] = [], host = 'localhost:9001') {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const address = parseAddress(host, rawPath, ['localhost']);
  const target: Target = address.key !== undefined ? 'object' : address.bucket !== undefined ? 'bucket' : 'service';
  return {
    method,
    target,
    query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)),
    hasHeader: (name: string) => headers.includes(name),
  };
}

function op(m: RouteMatch): string {
  return m.kind === 'route' ? m.route.op : m.kind === 'unknown-subresource' ? `unknown:${m.sub}` : 'method-not-allowed';
}

function action(m: RouteMatch): string | undefined {
  return m.kind === 'route' ? m.route.action : undefined;
}

const COPY = ['x-amz-copy-source'];

/** [method, path-style url, headers, operation, IAM action] — the requests real SDKs send. */
const TABLE: [string, string, string[], string, string][] = [
  ['GET', '/', [], 'ListBuckets', 's3:ListAllMyBuckets'],
  ['GET', '/?x-id=ListBuckets', [], 'ListBuckets', 's3:ListAllMyBuckets'],

  ['PUT', '/bkt', [], 'CreateBucket', 's3:CreateBucket'],
  ['PUT', '/bkt/', [], 'CreateBucket', 's3:CreateBucket'],
  ['HEAD', '/bkt', [], 'HeadBucket', 's3:ListBucket'],
  ['DELETE', '/bkt', [], 'DeleteBucket', 's3:DeleteBucket'],
  ['GET', '/bkt', [], 'ListObjects', 's3:ListBucket'],
  ['GET', '/bkt?prefix=a%2F&delimiter=%2F&marker=m&max-keys=5', [], 'ListObjects', 's3:ListBucket'],
  ['GET', '/bkt?list-type=1', [], 'ListObjects', 's3:ListBucket'],
  ['GET', '/bkt?list-type=2', [], 'ListObjectsV2', 's3:ListBucket'],
  [
    'GET',
    '/bkt?list-type=2&continuation-token=abc&start-after=x&fetch-owner=true',
    [],
    'ListObjectsV2',
    's3:ListBucket',
  ],
  ['GET', '/bkt?versions', [], 'ListObjectVersions', 's3:ListBucketVersions'],
  [
    'GET',
    '/bkt?versions=&key-marker=a&version-id-marker=v&list-type=2',
    [],
    'ListObjectVersions',
    's3:ListBucketVersions',
  ],
  ['GET', '/bkt?uploads', [], 'ListMultipartUploads', 's3:ListBucketMultipartUploads'],
  ['GET', '/bkt?location', [], 'GetBucketLocation', 's3:GetBucketLocation'],
  ['POST', '/bkt?delete', [], 'DeleteObjects', 's3:DeleteObject'],
  ['POST', '/bkt?delete=', [], 'DeleteObjects', 's3:DeleteObject'],
  ['POST', '/bkt', [], 'PostObject', 's3:PutObject'],
  ['GET', '/bkt?versioning', [], 'GetBucketVersioning', 's3:GetBucketVersioning'],
  ['PUT', '/bkt?versioning', [], 'PutBucketVersioning', 's3:PutBucketVersioning'],
  ['GET', '/bkt?acl', [], 'GetBucketAcl', 's3:GetBucketAcl'],
  ['PUT', '/bkt?acl', [], 'PutBucketAcl', 's3:PutBucketAcl'],
  ['GET', '/bkt?tagging', [], 'GetBucketTagging', 's3:GetBucketTagging'],
  ['PUT', '/bkt?tagging', [], 'PutBucketTagging', 's3:PutBucketTagging'],
  ['DELETE', '/bkt?tagging', [], 'DeleteBucketTagging', 's3:PutBucketTagging'],
  ['GET', '/bkt?policy', [], 'GetBucketPolicy', 's3:GetBucketPolicy'],
  ['PUT', '/bkt?policy', [], 'PutBucketPolicy', 's3:PutBucketPolicy'],
  ['DELETE', '/bkt?policy', [], 'DeleteBucketPolicy', 's3:DeleteBucketPolicy'],
  ['GET', '/bkt?policyStatus', [], 'GetBucketPolicyStatus', 's3:GetBucketPolicyStatus'],
  ['GET', '/bkt?replication', [], 'GetBucketReplication', 's3:GetReplicationConfiguration'],
  ['PUT', '/bkt?replication', [], 'PutBucketReplication', 's3:PutReplicationConfiguration'],
  ['DELETE', '/bkt?replication', [], 'DeleteBucketReplication', 's3:PutReplicationConfiguration'],
  ['GET', '/bkt?cors', [], 'GetBucketCors', 's3:GetBucketCORS'],
  ['PUT', '/bkt?cors', [], 'PutBucketCors', 's3:PutBucketCORS'],
  ['DELETE', '/bkt?cors', [], 'DeleteBucketCors', 's3:PutBucketCORS'],
  ['GET', '/bkt?encryption', [], 'GetBucketEncryption', 's3:GetEncryptionConfiguration'],
  ['PUT', '/bkt?encryption', [], 'PutBucketEncryption', 's3:PutEncryptionConfiguration'],
  ['DELETE', '/bkt?encryption', [], 'DeleteBucketEncryption', 's3:PutEncryptionConfiguration'],
  ['GET', '/bkt?lifecycle', [], 'GetBucketLifecycleConfiguration', 's3:GetLifecycleConfiguration'],
  ['PUT', '/bkt?lifecycle', [], 'PutBucketLifecycleConfiguration', 's3:PutLifecycleConfiguration'],
  ['DELETE', '/bkt?lifecycle', [], 'DeleteBucketLifecycle', 's3:PutLifecycleConfiguration'],
  ['GET', '/bkt?website', [], 'GetBucketWebsite', 's3:GetBucketWebsite'],
  ['PUT', '/bkt?website', [], 'PutBucketWebsite', 's3:PutBucketWebsite'],
  ['DELETE', '/bkt?website', [], 'DeleteBucketWebsite', 's3:DeleteBucketWebsite'],
  ['GET', '/bkt?publicAccessBlock', [], 'GetPublicAccessBlock', 's3:GetBucketPublicAccessBlock'],
  ['PUT', '/bkt?publicAccessBlock', [], 'PutPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
  ['DELETE', '/bkt?publicAccessBlock', [], 'DeletePublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
  ['GET', '/bkt?ownershipControls', [], 'GetBucketOwnershipControls', 's3:GetBucketOwnershipControls'],
  ['PUT', '/bkt?ownershipControls', [], 'PutBucketOwnershipControls', 's3:PutBucketOwnershipControls'],
  ['DELETE', '/bkt?ownershipControls', [], 'DeleteBucketOwnershipControls', 's3:PutBucketOwnershipControls'],
  ['GET', '/bkt?object-lock', [], 'GetObjectLockConfiguration', 's3:GetBucketObjectLockConfiguration'],
  ['PUT', '/bkt?object-lock', [], 'PutObjectLockConfiguration', 's3:PutBucketObjectLockConfiguration'],
  ['GET', '/bkt?notification', [], 'GetBucketNotificationConfiguration', 's3:GetBucketNotification'],
  ['PUT', '/bkt?notification', [], 'PutBucketNotificationConfiguration', 's3:PutBucketNotification'],
  ['GET', '/bkt?logging', [], 'GetBucketLogging', 's3:GetBucketLogging'],
  ['PUT', '/bkt?logging', [], 'PutBucketLogging', 's3:PutBucketLogging'],
  ['GET', '/bkt?requestPayment', [], 'GetBucketRequestPayment', 's3:GetBucketRequestPayment'],
  ['PUT', '/bkt?requestPayment', [], 'PutBucketRequestPayment', 's3:PutBucketRequestPayment'],
  ['GET', '/bkt?accelerate', [], 'GetBucketAccelerateConfiguration', 's3:GetAccelerateConfiguration'],
  ['PUT', '/bkt?accelerate', [], 'PutBucketAccelerateConfiguration', 's3:PutAccelerateConfiguration'],
  ['GET', '/bkt?analytics&id=a1', [], 'GetBucketAnalyticsConfiguration', 's3:GetAnalyticsConfiguration'],
  ['PUT', '/bkt?analytics&id=a1', [], 'PutBucketAnalyticsConfiguration', 's3:PutAnalyticsConfiguration'],
  ['DELETE', '/bkt?analytics&id=a1', [], 'DeleteBucketAnalyticsConfiguration', 's3:PutAnalyticsConfiguration'],
  ['GET', '/bkt?metrics&id=m1', [], 'GetBucketMetricsConfiguration', 's3:GetMetricsConfiguration'],
  ['DELETE', '/bkt?metrics&id=m1', [], 'DeleteBucketMetricsConfiguration', 's3:PutMetricsConfiguration'],
  ['GET', '/bkt?inventory&id=i1', [], 'GetBucketInventoryConfiguration', 's3:GetInventoryConfiguration'],
  ['PUT', '/bkt?inventory&id=i1', [], 'PutBucketInventoryConfiguration', 's3:PutInventoryConfiguration'],
  [
    'GET',
    '/bkt?intelligent-tiering&id=t',
    [],
    'GetBucketIntelligentTieringConfiguration',
    's3:GetIntelligentTieringConfiguration',
  ],
  [
    'DELETE',
    '/bkt?intelligent-tiering&id=t',
    [],
    'DeleteBucketIntelligentTieringConfiguration',
    's3:PutIntelligentTieringConfiguration',
  ],

  ['PUT', '/bkt/key', [], 'PutObject', 's3:PutObject'],
  ['PUT', '/bkt/key?x-id=PutObject', [], 'PutObject', 's3:PutObject'],
  ['PUT', '/bkt/key', COPY, 'CopyObject', 's3:PutObject'],
  ['PUT', '/bkt/key?partNumber=3&uploadId=u-1', [], 'UploadPart', 's3:PutObject'],
  ['PUT', '/bkt/key?partNumber=3&uploadId=u-1', COPY, 'UploadPartCopy', 's3:PutObject'],
  ['GET', '/bkt/key', [], 'GetObject', 's3:GetObject'],
  ['GET', '/bkt/key?versionId=v1&partNumber=1&response-content-type=text%2Fplain', [], 'GetObject', 's3:GetObject'],
  ['HEAD', '/bkt/key', [], 'HeadObject', 's3:GetObject'],
  ['HEAD', '/bkt/key?versionId=v1', [], 'HeadObject', 's3:GetObject'],
  ['DELETE', '/bkt/key', [], 'DeleteObject', 's3:DeleteObject'],
  ['DELETE', '/bkt/key?versionId=v1', [], 'DeleteObject', 's3:DeleteObject'],
  ['POST', '/bkt/key?uploads', [], 'CreateMultipartUpload', 's3:PutObject'],
  ['POST', '/bkt/key?uploadId=u-1', [], 'CompleteMultipartUpload', 's3:PutObject'],
  ['DELETE', '/bkt/key?uploadId=u-1', [], 'AbortMultipartUpload', 's3:AbortMultipartUpload'],
  ['GET', '/bkt/key?uploadId=u-1&max-parts=10', [], 'ListParts', 's3:ListMultipartUploadParts'],
  ['GET', '/bkt/key?acl', [], 'GetObjectAcl', 's3:GetObjectAcl'],
  ['PUT', '/bkt/key?acl', [], 'PutObjectAcl', 's3:PutObjectAcl'],
  ['GET', '/bkt/key?tagging&versionId=v1', [], 'GetObjectTagging', 's3:GetObjectTagging'],
  ['PUT', '/bkt/key?tagging', [], 'PutObjectTagging', 's3:PutObjectTagging'],
  ['PUT', '/bkt/key?tagging', COPY, 'PutObjectTagging', 's3:PutObjectTagging'],
  ['DELETE', '/bkt/key?tagging', [], 'DeleteObjectTagging', 's3:DeleteObjectTagging'],
  ['GET', '/bkt/key?attributes', [], 'GetObjectAttributes', 's3:GetObjectAttributes'],
  ['GET', '/bkt/key?legal-hold', [], 'GetObjectLegalHold', 's3:GetObjectLegalHold'],
  ['PUT', '/bkt/key?legal-hold', [], 'PutObjectLegalHold', 's3:PutObjectLegalHold'],
  ['GET', '/bkt/key?retention', [], 'GetObjectRetention', 's3:GetObjectRetention'],
  ['PUT', '/bkt/key?retention', [], 'PutObjectRetention', 's3:PutObjectRetention'],
  ['GET', '/bkt/key?torrent', [], 'GetObjectTorrent', 's3:GetObjectTorrent'],
  ['POST', '/bkt/key?restore&versionId=v1', [], 'RestoreObject', 's3:RestoreObject'],
  ['POST', '/bkt/key?select&select-type=2', [], 'SelectObjectContent', 's3:GetObject'],
  // Keys that look like subresources or paths are still keys.
  ['GET', '/bkt/versioning', [], 'GetObject', 's3:GetObject'],
  ['GET', '/bkt/a/../b?x-id=GetObject', [], 'GetObject', 's3:GetObject'],
];

describe('matchRoute: path-style requests', () => {
  for (const [method, url, headers, expectedOp, expectedAction] of TABLE) {
    it(`${method} ${url}${headers.length ? ` [${headers.join(',')}]` : ''} → ${expectedOp}`, () => {
      const m = matchRoute(request(method, url, headers));
      assert.equal(op(m), expectedOp);
      assert.equal(action(m), expectedAction);
    });
  }
});

describe('matchRoute: virtual-hosted-style requests route like path-style ones', () => {
  for (const [method, url, headers, expectedOp] of TABLE) {
    if (!url.startsWith('/bkt')) continue;
    const virtualUrl = url.slice('/bkt'.length) || '/';
    it(`${method} bkt.localhost${virtualUrl} → ${expectedOp}`, () => {
      const m = matchRoute(
        request(method, virtualUrl.startsWith('/') ? virtualUrl : `/${virtualUrl}`, headers, 'bkt.localhost:9001'),
      );
      assert.equal(op(m), expectedOp);
    });
  }
});

describe('matchRoute: requests without a route', () => {
  const cases: [string, string, string[], string][] = [
    // A subresource the method has no route for must never fall through to the plain operation.
    ['DELETE', '/bkt?versioning', [], 'unknown:versioning'],
    ['DELETE', '/bkt?acl', [], 'unknown:acl'],
    ['DELETE', '/bkt?object-lock', [], 'unknown:object-lock'],
    ['DELETE', '/bkt/key?acl', [], 'unknown:acl'],
    ['DELETE', '/bkt/key?retention', [], 'unknown:retention'],
    ['PUT', '/bkt?location', [], 'unknown:location'],
    ['PUT', '/bkt/key?attributes', [], 'unknown:attributes'],
    ['PUT', '/bkt/key?torrent', COPY, 'unknown:torrent'],
    ['GET', '/bkt?session', [], 'unknown:session'],
    ['GET', '/bkt?metadataTable', [], 'unknown:metadataTable'],
    ['PUT', '/bkt/key?renameObject', [], 'unknown:renameObject'],
    ['GET', '/bkt?abac', [], 'unknown:abac'],
    ['POST', '/bkt/key?versioning', [], 'unknown:versioning'],
    // No operation has this method on this target.
    ['POST', '/', [], 'method-not-allowed'],
    ['PUT', '/', [], 'method-not-allowed'],
    ['DELETE', '/', [], 'method-not-allowed'],
    ['POST', '/bkt/key', [], 'method-not-allowed'],
    ['POST', '/bkt/key?x-id=Foo', [], 'method-not-allowed'],
    ['PATCH', '/bkt/key', [], 'method-not-allowed'],
    ['OPTIONS', '/bkt', [], 'method-not-allowed'],
  ];
  for (const [method, url, headers, expected] of cases) {
    it(`${method} ${url} → ${expected}`, () => {
      assert.equal(op(matchRoute(request(method, url, headers))), expected);
    });
  }

  it('a plain route wins when the query holds only ordinary parameters', () => {
    assert.equal(
      op(matchRoute(request('GET', '/bkt/key?response-cache-control=no-cache&X-Amz-Signature=abc'))),
      'GetObject',
    );
    assert.equal(op(matchRoute(request('GET', '/bkt?encoding-type=url&max-keys=0'))), 'ListObjects');
  });
});

describe('ROUTES', () => {
  it('names every operation once', () => {
    const ops = ROUTES.map((r) => r.op);
    assert.deepEqual(
      ops.filter((o, i) => ops.indexOf(o) !== i),
      [],
    );
  });

  it('gives every operation an s3: IAM action', () => {
    for (const r of ROUTES) assert.match(r.action, /^s3:[A-Za-z]+$/, r.op);
  });

  it('reaches every route from a request carrying exactly its selectors', () => {
    for (const route of ROUTES) {
      const query = new URLSearchParams();
      if (route.sub) query.set(route.sub, '');
      for (const [k, v] of Object.entries(route.params ?? {})) query.set(k, v);
      const m = matchRoute({
        method: route.method,
        target: route.target,
        query,
        hasHeader: (name) => name === route.header,
      });
      assert.equal(op(m), route.op);
    }
  });

  it('lists no two routes that one request could match equally well', () => {
    const key = (r: (typeof ROUTES)[number]) =>
      JSON.stringify([r.method, r.target, r.sub ?? null, r.header ?? null, r.params ?? null]);
    const keys = ROUTES.map(key);
    assert.equal(new Set(keys).size, keys.length);
  });
});
