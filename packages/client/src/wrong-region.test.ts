import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyWrongRegion, regionOfEndpoint } from './wrong-region.ts';

function err(name: string, status: number, extra: Record<string, unknown> = {}): unknown {
  return { name, $metadata: { httpStatusCode: status }, ...extra };
}

test('classifyWrongRegion: every wrong-region shape, and nothing else', () => {
  const endpoints = { 'eu-west-1': 'http://127.0.0.1:9001' };
  const cases: [unknown, string, unknown][] = [
    [err('PermanentRedirect', 301, { $response: { headers: { 'x-amz-bucket-region': 'eu-west-1' } } }), 'GetObjectCommand', { kind: 'redirect', region: 'eu-west-1' }],
    [err('Unknown', 301), 'HeadObjectCommand', { kind: 'redirect' }],
    [err('TemporaryRedirect', 307, { Endpoint: 'b.s3-eu-west-2.amazonaws.com' }), 'GetObjectCommand', { kind: 'redirect', region: 'eu-west-2' }],
    [err('PermanentRedirect', 301, { Endpoint: '127.0.0.1:9001' }), 'GetObjectCommand', { kind: 'redirect', region: 'eu-west-1' }],
    [err('AuthorizationHeaderMalformed', 400, { Region: 'us-west-2' }), 'PutObjectCommand', { kind: 'signature', region: 'us-west-2' }],
    [err('AuthorizationQueryParametersError', 400, { Region: 'us-west-2' }), 'GetObjectCommand', { kind: 'signature', region: 'us-west-2' }],
    [err('IllegalLocationConstraintException', 400), 'PutObjectCommand', { kind: 'location' }],
    [err('IllegalLocationConstraintException', 400), 'CreateBucketCommand', undefined],
    [err('NoSuchKey', 404), 'GetObjectCommand', undefined],
    [err('AccessDenied', 403, { $response: { headers: { 'x-amz-bucket-region': 'eu-west-1' } } }), 'GetObjectCommand', undefined],
    [new TypeError('socket hang up'), 'GetObjectCommand', undefined],
  ];
  for (const [e, command, expected] of cases) assert.deepEqual(classifyWrongRegion(e, command, endpoints), expected, JSON.stringify(e));
});

test('regionOfEndpoint reads configured endpoints and AWS hosts, and ignores junk', () => {
  const endpoints = { 'us-east-1': 'http://127.0.0.1:9000', 'eu-west-1': 'https://eu.example.com' };
  assert.equal(regionOfEndpoint('127.0.0.1:9000', endpoints), 'us-east-1');
  assert.equal(regionOfEndpoint('bucket.eu.example.com', endpoints), 'eu-west-1');
  assert.equal(regionOfEndpoint('bucket.s3.ap-south-1.amazonaws.com', endpoints), 'ap-south-1');
  assert.equal(regionOfEndpoint('s3.amazonaws.com', endpoints), undefined);
  assert.equal(regionOfEndpoint('', endpoints), undefined);
});
