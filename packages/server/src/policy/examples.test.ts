/**
 * Scenarios after the bucket policy examples in the S3 User Guide, restated with our own
 * buckets, accounts and data: each policy is judged for the requests a user would try.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluate } from './evaluate.ts';
import { parsePolicy } from './parse.ts';
import { isPublicPolicy } from './public.ts';
import type { ContextValue, Policy, RequestPrincipal } from './types.ts';

const OWNER = '210987654321';
const PARTNER = '123456789012';
const BUCKET = 'harbor-logs';
const ARN = `arn:aws:s3:::${BUCKET}`;

const anonymous: RequestPrincipal = { type: 'anonymous' };
const partner: RequestPrincipal = { type: 'account', account: PARTNER };
const mira: RequestPrincipal = { type: 'account', account: OWNER, user: 'mira' };
const cdn: RequestPrincipal = { type: 'service', service: 'cloudfront.amazonaws.com' };

function bucketPolicy(...statements: Record<string, unknown>[]): Policy {
  return parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), {
    kind: 'bucket',
    resourceArns: [ARN],
  });
}

function decide(
  policy: Policy,
  principal: RequestPrincipal,
  action: string,
  key: string | undefined,
  keys: Record<string, ContextValue> = {},
): string {
  const resource = key === undefined ? ARN : `${ARN}/${key}`;
  return evaluate([policy], { principal, action, resource, keys });
}

describe('S3 User Guide bucket policy examples, restated', () => {
  test('public read of objects, nothing else', () => {
    const p = bucketPolicy({ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `${ARN}/*` });
    assert.equal(decide(p, anonymous, 's3:GetObject', 'a/b.txt'), 'Allow');
    assert.equal(decide(p, anonymous, 's3:PutObject', 'a/b.txt'), 'ImplicitDeny');
    assert.equal(decide(p, anonymous, 's3:ListBucket', undefined), 'ImplicitDeny');
    assert.equal(isPublicPolicy(p), true);
  });

  test('an address range with one address carved out', () => {
    const p = bucketPolicy({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:*',
      Resource: [ARN, `${ARN}/*`],
      Condition: { IpAddress: { 'aws:SourceIp': '198.51.100.0/24' }, NotIpAddress: { 'aws:SourceIp': '198.51.100.99/32' } },
    });
    assert.equal(decide(p, anonymous, 's3:GetObject', 'k', { 'aws:SourceIp': '198.51.100.7' }), 'Allow');
    assert.equal(decide(p, anonymous, 's3:GetObject', 'k', { 'aws:SourceIp': '198.51.100.99' }), 'ImplicitDeny');
    assert.equal(decide(p, anonymous, 's3:GetObject', 'k', { 'aws:SourceIp': '203.0.113.1' }), 'ImplicitDeny');
    assert.equal(isPublicPolicy(p), false);
  });

  test('IPv4 and IPv6 ranges together', () => {
    const p = bucketPolicy({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `${ARN}/*`,
      Condition: { IpAddress: { 'aws:SourceIp': ['198.51.100.0/24', '2001:db8:aaaa::/48'] } },
    });
    assert.equal(decide(p, anonymous, 's3:GetObject', 'k', { 'aws:SourceIp': '2001:db8:aaaa:1::5' }), 'Allow');
    assert.equal(decide(p, anonymous, 's3:GetObject', 'k', { 'aws:SourceIp': '2001:db8:bbbb::5' }), 'ImplicitDeny');
  });

  test('refuse anything not over TLS, whatever else allows it', () => {
    const p = bucketPolicy(
      { Effect: 'Allow', Principal: { AWS: PARTNER }, Action: 's3:GetObject', Resource: `${ARN}/*` },
      { Sid: 'TlsOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [ARN, `${ARN}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    );
    assert.equal(decide(p, partner, 's3:GetObject', 'k', { 'aws:SecureTransport': true }), 'Allow');
    assert.equal(decide(p, partner, 's3:GetObject', 'k', { 'aws:SecureTransport': false }), 'Deny');
    assert.equal(decide(p, mira, 's3:DeleteBucket', undefined, { 'aws:SecureTransport': false }), 'Deny');
  });

  test('cross-account uploads must hand the owner full control', () => {
    const p = bucketPolicy(
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PARTNER}:root` }, Action: 's3:PutObject', Resource: `${ARN}/*`, Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } },
    );
    assert.equal(decide(p, partner, 's3:PutObject', 'k', { 's3:x-amz-acl': 'bucket-owner-full-control' }), 'Allow');
    assert.equal(decide(p, partner, 's3:PutObject', 'k', { 's3:x-amz-acl': 'private' }), 'ImplicitDeny');
    assert.equal(decide(p, partner, 's3:PutObject', 'k'), 'ImplicitDeny');
    assert.equal(decide(p, { type: 'account', account: PARTNER, user: 'ci' }, 's3:PutObject', 'k', { 's3:x-amz-acl': 'bucket-owner-full-control' }), 'Allow');
  });

  test('a user may list and use only their own home folder', () => {
    const p = bucketPolicy(
      { Effect: 'Allow', Principal: { AWS: OWNER }, Action: 's3:ListBucket', Resource: ARN, Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/*'] } } },
      { Effect: 'Allow', Principal: { AWS: OWNER }, Action: ['s3:GetObject', 's3:PutObject'], Resource: `${ARN}/home/\${aws:username}/*` },
    );
    assert.equal(decide(p, mira, 's3:ListBucket', undefined, { 's3:prefix': '' }), 'Allow');
    assert.equal(decide(p, mira, 's3:ListBucket', undefined, { 's3:prefix': 'home/mira/2024/' }), 'Allow');
    assert.equal(decide(p, mira, 's3:ListBucket', undefined, { 's3:prefix': 'home/jon/' }), 'ImplicitDeny');
    assert.equal(decide(p, mira, 's3:PutObject', 'home/mira/notes.txt'), 'Allow');
    assert.equal(decide(p, mira, 's3:GetObject', 'home/jon/notes.txt'), 'ImplicitDeny');
  });

  test('listing at most 50 keys at a time', () => {
    const p = bucketPolicy({ Effect: 'Allow', Principal: { AWS: PARTNER }, Action: 's3:ListBucket', Resource: ARN, Condition: { NumericLessThanEquals: { 's3:max-keys': '50' } } });
    assert.equal(decide(p, partner, 's3:ListBucket', undefined, { 's3:max-keys': 50 }), 'Allow');
    assert.equal(decide(p, partner, 's3:ListBucket', undefined, { 's3:max-keys': 1000 }), 'ImplicitDeny');
  });

  test('a CDN service reads only for its own distribution', () => {
    const distribution = `arn:aws:cloudfront::${OWNER}:distribution/EDFDVBD6EXAMPLE`;
    const p = bucketPolicy({ Effect: 'Allow', Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject', Resource: `${ARN}/*`, Condition: { StringEquals: { 'aws:SourceArn': distribution } } });
    assert.equal(decide(p, cdn, 's3:GetObject', 'index.html', { 'aws:SourceArn': distribution }), 'Allow');
    assert.equal(decide(p, cdn, 's3:GetObject', 'index.html', { 'aws:SourceArn': `${distribution}X` }), 'ImplicitDeny');
    assert.equal(decide(p, anonymous, 's3:GetObject', 'index.html', { 'aws:SourceArn': distribution }), 'ImplicitDeny');
    assert.equal(isPublicPolicy(p), false);
  });

  test('reads of objects tagged for the partner only', () => {
    const p = bucketPolicy({ Effect: 'Allow', Principal: { AWS: PARTNER }, Action: 's3:GetObject', Resource: `${ARN}/*`, Condition: { StringEquals: { 's3:ExistingObjectTag/share': 'partner' } } });
    assert.equal(decide(p, partner, 's3:GetObject', 'k', { 's3:ExistingObjectTag/share': 'partner' }), 'Allow');
    assert.equal(decide(p, partner, 's3:GetObject', 'k', { 's3:ExistingObjectTag/share': 'internal' }), 'ImplicitDeny');
    assert.equal(decide(p, partner, 's3:GetObject', 'k'), 'ImplicitDeny');
  });

  test('uploads may carry only the allowed tag keys', () => {
    const p = bucketPolicy({
      Effect: 'Allow',
      Principal: { AWS: PARTNER },
      Action: ['s3:PutObject', 's3:PutObjectTagging'],
      Resource: `${ARN}/*`,
      Condition: { 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['project', 'owner'] } },
    });
    assert.equal(decide(p, partner, 's3:PutObject', 'k', { 's3:RequestObjectTagKeys': ['project'] }), 'Allow');
    assert.equal(decide(p, partner, 's3:PutObject', 'k', { 's3:RequestObjectTagKeys': ['project', 'secret'] }), 'ImplicitDeny');
    assert.equal(decide(p, partner, 's3:PutObject', 'k'), 'Allow');
  });

  test('deny everyone but one account, with NotPrincipal', () => {
    const p = bucketPolicy(
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${ARN}/*` },
      { Effect: 'Deny', NotPrincipal: { AWS: `arn:aws:iam::${PARTNER}:root` }, Action: 's3:GetObject', Resource: `${ARN}/restricted/*` },
    );
    assert.equal(decide(p, partner, 's3:GetObject', 'restricted/a'), 'Allow');
    assert.equal(decide(p, anonymous, 's3:GetObject', 'restricted/a'), 'Deny');
    assert.equal(decide(p, anonymous, 's3:GetObject', 'open/a'), 'Allow');
  });

  test('only through one access point account', () => {
    const p = bucketPolicy({ Effect: 'Allow', Principal: '*', Action: '*', Resource: [ARN, `${ARN}/*`], Condition: { StringEquals: { 's3:DataAccessPointAccount': OWNER } } });
    assert.equal(decide(p, partner, 's3:GetObject', 'k', { 's3:DataAccessPointAccount': OWNER }), 'Allow');
    assert.equal(decide(p, partner, 's3:GetObject', 'k'), 'ImplicitDeny');
    assert.equal(isPublicPolicy(p), false);
  });

  test('only within a time window', () => {
    const p = bucketPolicy({ Effect: 'Allow', Principal: { AWS: PARTNER }, Action: 's3:GetObject', Resource: `${ARN}/*`, Condition: { DateGreaterThan: { 'aws:CurrentTime': '2025-01-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2025-02-01T00:00:00Z' } } });
    const at = (iso: string) => evaluate([p], { principal: partner, action: 's3:GetObject', resource: `${ARN}/k`, now: new Date(iso) });
    assert.equal(at('2025-01-15T00:00:00Z'), 'Allow');
    assert.equal(at('2025-02-15T00:00:00Z'), 'ImplicitDeny');
  });

  test('require server-side encryption on every upload', () => {
    const p = bucketPolicy(
      { Effect: 'Allow', Principal: { AWS: PARTNER }, Action: 's3:PutObject', Resource: `${ARN}/*` },
      { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `${ARN}/*`, Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } } },
    );
    assert.equal(decide(p, partner, 's3:PutObject', 'k', { 's3:x-amz-server-side-encryption': 'AES256' }), 'Allow');
    assert.equal(decide(p, partner, 's3:PutObject', 'k'), 'Deny');
  });
});
