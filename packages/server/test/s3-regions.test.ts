import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { bodyText, CREDENTIALS, startTestWorld, type TestWorld } from './helpers/world.ts';

async function failure(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof S3ServiceException, `expected an S3 error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the request to fail');
}

function header(err: S3ServiceException, name: string): string | undefined {
  const headers = (err.$response as { headers?: Record<string, string> } | undefined)?.headers ?? {};
  return headers[name];
}

describe('one global bucket namespace across regions', () => {
  let w: TestWorld;
  let use1: S3Client;
  let euw1: S3Client;
  let apse1: S3Client;

  before(async () => {
    w = await startTestWorld();
    use1 = w.client('us-east-1');
    euw1 = w.client('eu-west-1');
    apse1 = w.client('ap-southeast-1');
    await use1.send(new CreateBucketCommand({ Bucket: 'in-virginia' }));
    await euw1.send(new CreateBucketCommand({ Bucket: 'in-ireland', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    await euw1.send(new PutObjectCommand({ Bucket: 'in-ireland', Key: 'hello', Body: 'from ireland' }));
  });
  after(() => w.close());

  test('a bucket lives in the region that created it', async () => {
    const head = await euw1.send(new HeadBucketCommand({ Bucket: 'in-ireland' }));
    assert.equal(head.BucketRegion, 'eu-west-1');
    const loc = await use1.send(new GetBucketLocationCommand({ Bucket: 'in-ireland' }));
    assert.equal(loc.LocationConstraint, 'eu-west-1');
  });

  test('bucket names are global: a name taken in one region cannot be created in another', async () => {
    const err = await failure(
      apse1.send(new CreateBucketCommand({ Bucket: 'in-ireland', CreateBucketConfiguration: { LocationConstraint: 'ap-southeast-1' } })),
    );
    assert.equal(err.name, 'BucketAlreadyOwnedByYou');
    assert.equal(err.$metadata.httpStatusCode, 409);
    const other = new S3Client({
      region: 'ap-southeast-1',
      endpoint: w.endpoint('ap-southeast-1'),
      forcePathStyle: true,
      credentials: { accessKeyId: 'unknown', secretAccessKey: 'x' },
    });
    const denied = await failure(other.send(new ListBucketsCommand({})));
    assert.equal(denied.name, 'InvalidAccessKeyId');
    other.destroy();
  });

  test('CreateBucket checks the location constraint against the endpoint', async () => {
    const mismatch = await failure(
      euw1.send(new CreateBucketCommand({ Bucket: 'wrong-place', CreateBucketConfiguration: { LocationConstraint: 'ap-southeast-1' } })),
    );
    assert.equal(mismatch.name, 'IllegalLocationConstraintException');
    assert.equal(mismatch.$metadata.httpStatusCode, 400);
    const unknown = await failure(
      use1.send(new CreateBucketCommand({ Bucket: 'wrong-place', CreateBucketConfiguration: { LocationConstraint: 'mars-north-1' as never } })),
    );
    assert.equal(unknown.name, 'InvalidLocationConstraint');
  });

  test('ListBuckets shows the buckets of every region with their region', async () => {
    const out = await apse1.send(new ListBucketsCommand({}));
    const byName = new Map(out.Buckets?.map((b) => [b.Name, b.BucketRegion]));
    assert.equal(byName.get('in-virginia'), 'us-east-1');
    assert.equal(byName.get('in-ireland'), 'eu-west-1');
  });

  test('a request to the wrong region gets 301 PermanentRedirect with x-amz-bucket-region', async () => {
    const err = await failure(use1.send(new GetObjectCommand({ Bucket: 'in-ireland', Key: 'hello' })));
    assert.equal(err.$metadata.httpStatusCode, 301);
    assert.equal(err.name, 'PermanentRedirect');
    assert.equal(header(err, 'x-amz-bucket-region'), 'eu-west-1');
    assert.match(String((err as unknown as { Endpoint?: string }).Endpoint), /127\.0\.0\.1:\d+/);

    const head = await failure(use1.send(new HeadObjectCommand({ Bucket: 'in-ireland', Key: 'hello' })));
    assert.equal(head.$metadata.httpStatusCode, 301);
    assert.equal(header(head, 'x-amz-bucket-region'), 'eu-west-1');

    const headBucket = await failure(use1.send(new HeadBucketCommand({ Bucket: 'in-ireland' })));
    assert.equal(headBucket.$metadata.httpStatusCode, 301);
    assert.equal(header(headBucket, 'x-amz-bucket-region'), 'eu-west-1');
  });

  test('a request signed for the wrong region gets AuthorizationHeaderMalformed naming the right one', async () => {
    const misconfigured = w.client('ap-southeast-1', { endpoint: w.endpoint('us-east-1') });
    const err = await failure(misconfigured.send(new ListObjectsV2Command({ Bucket: 'in-virginia' })));
    assert.equal(err.name, 'AuthorizationHeaderMalformed');
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.equal((err as unknown as { Region?: string }).Region, 'us-east-1');
    assert.match(err.message, /the region 'ap-southeast-1' is wrong; expecting 'us-east-1'/);
    const forIreland = await failure(misconfigured.send(new ListObjectsV2Command({ Bucket: 'in-ireland' })));
    assert.equal((forIreland as unknown as { Region?: string }).Region, 'eu-west-1');
    assert.equal(header(forIreland, 'x-amz-bucket-region'), 'eu-west-1');
  });

  test('a presigned URL signed for the wrong region gets AuthorizationQueryParametersError', async () => {
    const misconfigured = w.client('ap-southeast-1', { endpoint: w.endpoint('us-east-1') });
    const url = await getSignedUrl(misconfigured, new GetObjectCommand({ Bucket: 'in-virginia', Key: 'x' }), { expiresIn: 60 });
    const res = await fetch(url);
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.match(text, /<Code>AuthorizationQueryParametersError<\/Code>/);
    assert.match(text, /<Region>us-east-1<\/Region>/);
  });

  test('followRegionRedirects: the stock SDK recovers from a wrong-region endpoint', async () => {
    const follower = w.client('us-east-1', { followRegionRedirects: true });
    const got = await follower.send(new GetObjectCommand({ Bucket: 'in-ireland', Key: 'hello' }));
    assert.equal(await bodyText(got.Body), 'from ireland');
    await follower.send(new PutObjectCommand({ Bucket: 'in-ireland', Key: 'via-redirect', Body: 'written through us-east-1' }));
    const direct = await euw1.send(new GetObjectCommand({ Bucket: 'in-ireland', Key: 'via-redirect' }));
    assert.equal(await bodyText(direct.Body), 'written through us-east-1');
    const head = await follower.send(new HeadBucketCommand({ Bucket: 'in-ireland' }));
    assert.equal(head.BucketRegion, 'eu-west-1');
  });

  test('anonymous requests are denied but still learn the bucket region', async () => {
    const res = await fetch(`${w.endpoint('us-east-1')}/in-virginia`, { method: 'HEAD' });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-amz-bucket-region'), 'us-east-1');
    const moved = await fetch(`${w.endpoint('us-east-1')}/in-ireland`, { method: 'HEAD', redirect: 'manual' });
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.get('x-amz-bucket-region'), 'eu-west-1');
    assert.ok(moved.headers.get('x-amz-request-id'));
  });

  test('presigned GET and PUT work, and expire', async () => {
    const putUrl = await getSignedUrl(euw1, new PutObjectCommand({ Bucket: 'in-ireland', Key: 'presigned' }), { expiresIn: 60 });
    const put = await fetch(putUrl, { method: 'PUT', body: 'presigned body' });
    assert.equal(put.status, 200, await put.text());
    const getUrl = await getSignedUrl(euw1, new GetObjectCommand({ Bucket: 'in-ireland', Key: 'presigned' }), { expiresIn: 60 });
    const got = await fetch(getUrl);
    assert.equal(await got.text(), 'presigned body');
    const expired = await getSignedUrl(euw1, new GetObjectCommand({ Bucket: 'in-ireland', Key: 'presigned' }), {
      expiresIn: 1,
      signingDate: new Date(Date.now() - 60_000),
    });
    const res = await fetch(expired);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
  });

  test('the root credentials work in every region', async () => {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-1']) {
      const c = new S3Client({ region, endpoint: w.endpoint(region), forcePathStyle: true, credentials: CREDENTIALS });
      const out = await c.send(new ListBucketsCommand({}));
      assert.ok((out.Buckets?.length ?? 0) >= 2);
      c.destroy();
    }
  });
});
