import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matchControlRoute } from './table.ts';

describe('the S3 Control route table', () => {
  const cases: Array<[string, string, string, string | undefined]> = [
    ['POST', '/v20180820/async-requests/mrap/create', 'CreateMultiRegionAccessPoint', undefined],
    ['POST', '/v20180820/async-requests/mrap/delete', 'DeleteMultiRegionAccessPoint', undefined],
    ['POST', '/v20180820/async-requests/mrap/put-policy', 'PutMultiRegionAccessPointPolicy', undefined],
    [
      'GET',
      '/v20180820/async-requests/mrap/arn%3Aaws%3As3%3Aus-west-2%3A111122223333%3Aasync-request/mrap/create/abc',
      'DescribeMultiRegionAccessPointOperation',
      'arn%3Aaws%3As3%3Aus-west-2%3A111122223333%3Aasync-request/mrap/create/abc',
    ],
    ['GET', '/v20180820/mrap/instances', 'ListMultiRegionAccessPoints', undefined],
    ['GET', '/v20180820/mrap/instances/my-mrap', 'GetMultiRegionAccessPoint', 'my-mrap'],
    ['GET', '/v20180820/mrap/instances/routes', 'GetMultiRegionAccessPoint', 'routes'],
    ['GET', '/v20180820/mrap/instances/my-mrap/policy', 'GetMultiRegionAccessPointPolicy', 'my-mrap'],
    ['GET', '/v20180820/mrap/instances/my-mrap/policystatus', 'GetMultiRegionAccessPointPolicyStatus', 'my-mrap'],
    [
      'GET',
      '/v20180820/mrap/instances/arn:aws:s3::111122223333:accesspoint/abc.mrap/routes',
      'GetMultiRegionAccessPointRoutes',
      'arn:aws:s3::111122223333:accesspoint/abc.mrap',
    ],
    [
      'PATCH',
      '/v20180820/mrap/instances/arn%3Aaws%3As3%3A%3A111122223333%3Aaccesspoint/abc.mrap/routes',
      'SubmitMultiRegionAccessPointRoutes',
      'arn%3Aaws%3As3%3A%3A111122223333%3Aaccesspoint/abc.mrap',
    ],
    ['GET', '/v20180820/configuration/publicAccessBlock', 'GetPublicAccessBlock', undefined],
    ['PUT', '/v20180820/configuration/publicAccessBlock', 'PutPublicAccessBlock', undefined],
    ['DELETE', '/v20180820/configuration/publicAccessBlock', 'DeletePublicAccessBlock', undefined],
  ];
  for (const [method, path, op, label] of cases) {
    test(`${method} ${path} → ${op}`, () => {
      assert.deepEqual(matchControlRoute(method, path), { kind: 'operation', op, label });
    });
  }

  test('a known path with another method is method-not-allowed; other paths are unknown', () => {
    assert.deepEqual(matchControlRoute('DELETE', '/v20180820/mrap/instances/my-mrap'), { kind: 'method-not-allowed' });
    assert.deepEqual(matchControlRoute('PUT', '/v20180820/async-requests/mrap/create'), { kind: 'method-not-allowed' });
    assert.deepEqual(matchControlRoute('PATCH', '/v20180820/mrap/instances/my-mrap/policy'), { kind: 'method-not-allowed' });
    assert.deepEqual(matchControlRoute('GET', '/v20180820/accesspoint/ap'), { kind: 'unknown' });
    assert.deepEqual(matchControlRoute('GET', '/v20180820/mrap'), { kind: 'unknown' });
    assert.deepEqual(matchControlRoute('POST', '/v20180820/configuration/publicAccessBlock'), { kind: 'method-not-allowed' });
  });
});
