import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { rejectsWith as rejects } from './helpers/s3-errors.ts';
import { bodyText, localhostResolvingHandler, startTestWorld, type TestWorld } from './helpers/world.ts';

for (const style of ['path', 'virtual'] as const) {
  describe(`objects in one region (${style}-style addressing)`, () => {
    let w: TestWorld;
    let s3: S3Client;
    const bucket = `objects-${style}`;

    before(async () => {
      w = await startTestWorld();
      const endpoint = w.endpoint('us-east-1');
      s3 = w.client('us-east-1', {
        forcePathStyle: style === 'path',
        // bucket.localhost resolves to loopback, which is what virtual-hosted style needs.
        endpoint: style === 'path' ? endpoint : endpoint.replace('127.0.0.1', 'localhost'),
        ...(style === 'virtual' ? { requestHandler: localhostResolvingHandler() } : {}),
      });
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    });
    after(() => w.close());

    test('PutObject then GetObject returns the bytes, metadata and content headers', async () => {
      const body = 'hello, meridian';
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'docs/hello.txt',
          Body: body,
          ContentType: 'text/plain',
          CacheControl: 'max-age=60',
          ContentDisposition: 'inline',
          ContentLanguage: 'en',
          Metadata: { colour: 'blue', 'two-words': 'a b' },
        }),
      );
      const md5 = createHash('md5').update(body).digest('hex');
      assert.equal(put.ETag, `"${md5}"`);
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/hello.txt' }));
      assert.equal(await bodyText(got.Body), body);
      assert.equal(got.ETag, `"${md5}"`);
      assert.equal(got.ContentType, 'text/plain');
      assert.equal(got.CacheControl, 'max-age=60');
      assert.equal(got.ContentDisposition, 'inline');
      assert.equal(got.ContentLanguage, 'en');
      assert.equal(got.ContentLength, body.length);
      assert.deepEqual(got.Metadata, { colour: 'blue', 'two-words': 'a b' });
      assert.equal(got.VersionId, undefined);
      assert.ok(got.LastModified instanceof Date);
    });

    test('keys are data: odd characters round-trip and never escape the bucket', async () => {
      const keys = [
        'a b+c=d&e',
        'ünïcødé/ключ/键',
        '../../etc/passwd',
        'x/./y/../z',
        '%2F%2e%2e',
        "!'()*~",
        'tab\there',
      ];
      for (const Key of keys) {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: `value of ${Key}` }));
      }
      for (const Key of keys) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
        assert.equal(await bodyText(got.Body), `value of ${Key}`);
      }
    });

    test('HeadObject, ranges and conditional requests', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range', Body: '0123456789' }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'range' }));
      assert.equal(head.ContentLength, 10);
      assert.equal(head.AcceptRanges, 'bytes');
      const part = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=2-5' }));
      assert.equal(await bodyText(part.Body), '2345');
      assert.equal(part.ContentRange, 'bytes 2-5/10');
      assert.equal(part.$metadata.httpStatusCode, 206);
      const suffix = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=-3' }));
      assert.equal(await bodyText(suffix.Body), '789');
      const open = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=7-' }));
      assert.equal(await bodyText(open.Body), '789');
      await rejects(
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=10-20' })),
        'InvalidRange',
        416,
      );

      await rejects(
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', IfMatch: '"nope"' })),
        'PreconditionFailed',
        412,
      );
      const notModified = await rejects(
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', IfNoneMatch: head.ETag })),
        undefined,
        304,
      );
      assert.equal(notModified.$metadata.httpStatusCode, 304);
      const ok = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', IfMatch: head.ETag }));
      assert.equal(await bodyText(ok.Body), '0123456789');
      await rejects(
        s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: 'range', IfUnmodifiedSince: new Date(Date.now() - 86_400_000) }),
        ),
        'PreconditionFailed',
        412,
      );
      await rejects(
        s3.send(
          new HeadObjectCommand({ Bucket: bucket, Key: 'range', IfModifiedSince: new Date(Date.now() + 60_000) }),
        ),
        undefined,
        304,
      );
    });

    test('response-* parameters override the stored headers', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'override', Body: 'x', ContentType: 'text/plain' }));
      const got = await s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: 'override',
          ResponseContentType: 'application/json',
          ResponseContentDisposition: 'attachment; filename="x.json"',
        }),
      );
      assert.equal(got.ContentType, 'application/json');
      assert.equal(got.ContentDisposition, 'attachment; filename="x.json"');
    });

    test('missing keys and buckets get the S3 errors', async () => {
      const e = await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'absent' })), 'NoSuchKey', 404);
      assert.ok(e.$metadata.requestId, 'every error carries a request id');
      await rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'absent' })), 'NotFound', 404);
      await rejects(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket-here', Key: 'k' })), 'NoSuchBucket', 404);
      await rejects(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket-here' })), 'NotFound', 404);
    });

    test('DeleteObject removes the object and is idempotent', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: 'x' }));
      const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
      assert.equal(del.$metadata.httpStatusCode, 204);
      await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'gone' })), 'NoSuchKey', 404);
      const again = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
      assert.equal(again.$metadata.httpStatusCode, 204);
    });

    test('an empty object', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: '' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'empty' }));
      assert.equal(await bodyText(got.Body), '');
      assert.equal(got.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
    });

    test('overwriting an unversioned key replaces it', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'over', Body: 'one' }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'over', Body: 'two'.repeat(100_000) }));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'over' }));
      assert.equal(await bodyText(got.Body), 'two'.repeat(100_000));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'over', Body: 'three' }));
      const again = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'over' }));
      assert.equal(await bodyText(again.Body), 'three');
    });
  });
}

describe('listing', () => {
  let w: TestWorld;
  let s3: S3Client;
  const bucket = 'listing';
  const keys = ['a', 'a/b', 'a/c/d', 'a/c/e', 'b', 'b/x', 'c d', 'z/1', 'z/2', 'z/3'];

  before(async () => {
    w = await startTestWorld();
    s3 = w.client('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }))));
  });
  after(() => w.close());

  test('ListObjectsV2 lists every key in order', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(
      out.Contents?.map((c) => c.Key),
      keys,
    );
    assert.equal(out.KeyCount, keys.length);
    assert.equal(out.IsTruncated, false);
    assert.equal(out.Contents?.[0].Size, 1);
    assert.equal(out.Contents?.[0].StorageClass, 'STANDARD');
    assert.equal(out.Contents?.[0].Owner, undefined);
  });

  test('prefix, delimiter and common prefixes', async () => {
    const top = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
    assert.deepEqual(
      top.Contents?.map((c) => c.Key),
      ['a', 'b', 'c d'],
    );
    assert.deepEqual(
      top.CommonPrefixes?.map((p) => p.Prefix),
      ['a/', 'b/', 'z/'],
    );
    const inA = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'a/', Delimiter: '/' }));
    assert.deepEqual(
      inA.Contents?.map((c) => c.Key),
      ['a/b'],
    );
    assert.deepEqual(
      inA.CommonPrefixes?.map((p) => p.Prefix),
      ['a/c/'],
    );
  });

  test('pagination with max-keys and continuation tokens, including across common prefixes', async () => {
    const pages: string[][] = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: bucket, Delimiter: '/' })) {
      pages.push([...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!)]);
    }
    assert.deepEqual(pages.flat().sort(), ['a', 'a/', 'b', 'b/', 'c d', 'z/']);
    assert.equal(pages.length, 3);
    const all: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 3 }, { Bucket: bucket })) {
      all.push(...(page.Contents ?? []).map((c) => c.Key!));
    }
    assert.deepEqual(all, keys);
  });

  test('start-after, fetch-owner and encoding-type=url', async () => {
    const out = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'b/x', FetchOwner: true, EncodingType: 'url' }),
    );
    assert.deepEqual(
      out.Contents?.map((c) => c.Key),
      ['c+d', 'z/1', 'z/2', 'z/3'],
    );
    assert.ok(out.Contents?.[0].Owner?.ID);
    assert.equal(out.EncodingType, 'url');
  });

  test('ListObjects (V1) with marker and NextMarker', async () => {
    const first = await s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 4, Delimiter: '/' }));
    assert.equal(first.IsTruncated, true);
    assert.deepEqual(
      first.Contents?.map((c) => c.Key),
      ['a', 'b'],
    );
    assert.deepEqual(
      first.CommonPrefixes?.map((p) => p.Prefix),
      ['a/', 'b/'],
    );
    assert.equal(first.NextMarker, 'b/');
    const second = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: first.NextMarker, Delimiter: '/' }));
    assert.deepEqual(
      second.Contents?.map((c) => c.Key),
      ['c d'],
    );
    assert.deepEqual(
      second.CommonPrefixes?.map((p) => p.Prefix),
      ['z/'],
    );
    assert.ok(second.Contents?.[0].Owner?.ID, 'V1 always returns the owner');
  });

  test('max-keys must be a non-negative integer', async () => {
    await rejects(s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: -1 })), 'InvalidArgument', 400);
    const none = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 0 }));
    assert.equal(none.KeyCount, 0);
    assert.equal(none.IsTruncated, false);
  });
});

describe('buckets', () => {
  let w: TestWorld;
  let s3: S3Client;

  before(async () => {
    w = await startTestWorld();
    s3 = w.client('us-east-1');
  });
  after(() => w.close());

  test('create, head, list, locate and delete', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'life-cycle' }));
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'life-cycle' }));
    assert.equal(head.BucketRegion, 'us-east-1');
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((b) => b.Name === 'life-cycle' && b.BucketRegion === 'us-east-1'));
    assert.ok(list.Owner?.ID);
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: 'life-cycle' }));
    assert.equal(loc.LocationConstraint, undefined);
    await s3.send(new PutObjectCommand({ Bucket: 'life-cycle', Key: 'k', Body: 'v' }));
    await rejects(s3.send(new DeleteBucketCommand({ Bucket: 'life-cycle' })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: 'life-cycle', Key: 'k' }));
    const del = await s3.send(new DeleteBucketCommand({ Bucket: 'life-cycle' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await rejects(s3.send(new HeadBucketCommand({ Bucket: 'life-cycle' })), 'NotFound', 404);
    await rejects(s3.send(new DeleteBucketCommand({ Bucket: 'life-cycle' })), 'NoSuchBucket', 404);
  });

  test('bucket names are validated as S3 does', async () => {
    for (const Bucket of [
      'ab',
      'UPPER',
      'has_underscore',
      '-leading',
      'trailing-',
      'two..dots',
      '192.168.1.1',
      'xn--punycode',
      'x'.repeat(64),
      'name.mrap',
    ]) {
      await rejects(s3.send(new CreateBucketCommand({ Bucket })), 'InvalidBucketName', 400);
    }
  });

  test('re-creating your own bucket in us-east-1 succeeds, as S3 does for legacy reasons', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'twice' }));
    const again = await s3.send(new CreateBucketCommand({ Bucket: 'twice' }));
    assert.equal(again.$metadata.httpStatusCode, 200);
  });

  test('ListBuckets pagination and prefix', async () => {
    for (const b of ['page-a', 'page-b', 'page-c']) await s3.send(new CreateBucketCommand({ Bucket: b }));
    const first = await s3.send(new ListBucketsCommand({ Prefix: 'page-', MaxBuckets: 2 }));
    assert.deepEqual(
      first.Buckets?.map((b) => b.Name),
      ['page-a', 'page-b'],
    );
    assert.ok(first.ContinuationToken);
    const second = await s3.send(
      new ListBucketsCommand({ Prefix: 'page-', MaxBuckets: 2, ContinuationToken: first.ContinuationToken }),
    );
    assert.deepEqual(
      second.Buckets?.map((b) => b.Name),
      ['page-c'],
    );
    assert.equal(second.ContinuationToken, undefined);
  });
});
