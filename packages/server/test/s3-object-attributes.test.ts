/**
 * GetObjectAttributes end to end through the stock SDK: the attributes asked for and no
 * others, flexible checksums (composite ones without their `-N` suffix), the part list of a
 * multipart object and its paging, versions and delete markers, and invalid requests.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { crc32c } from '@aws-crypto/crc32c';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type GetObjectAttributesCommandInput,
  type ObjectAttributes,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PseudoRandomBytes } from './helpers/raw-pseudorandom.ts';
import { assertS3Error, rawRequest } from './helpers/raw-request.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { startTestWorld, type TestWorld } from './helpers/world.ts';

const MiB = 1024 * 1024;
const BUCKET = 'attrs';
const VERSIONED = 'attrs-versioned';
const ALL: ObjectAttributes[] = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'];

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('base64');
function crc32cOf(b: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32c(b) >>> 0);
  return out.toString('base64');
}
/** The ETag S3 gives a multipart object: MD5 of the parts' binary MD5s, then the count. */
function multipartEtag(parts: Buffer[]): string {
  const digests = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()));
  return `${md5(digests)}-${parts.length}`;
}

describe('GetObjectAttributes', { concurrency: true }, () => {
  let w: TestWorld;
  /** The stock client: it adds a CRC32 checksum to every upload it can. */
  let s3: S3Client;
  /** A client that sends checksums only when an operation requires one, for plain objects. */
  let bare: S3Client;
  const random = new PseudoRandomBytes('object-attributes');
  const parts = [random.slice(0, 5 * MiB), random.slice(5 * MiB, 10 * MiB), random.slice(10 * MiB, 10 * MiB + 777)];

  before(async () => {
    w = await startTestWorld();
    s3 = w.client('us-east-1');
    bare = w.client('us-east-1', { requestChecksumCalculation: 'WHEN_REQUIRED' });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new CreateBucketCommand({ Bucket: VERSIONED }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: VERSIONED, VersioningConfiguration: { Status: 'Enabled' } }),
    );
  });
  after(() => w.close());

  const attributes = (input: Partial<GetObjectAttributesCommandInput> & { Key: string }) =>
    s3.send(new GetObjectAttributesCommand({ Bucket: BUCKET, ObjectAttributes: ALL, ...input }));

  /** A multipart object of `parts`, with per-part CRC32C checksums or none at all. */
  async function multipart(Key: string, checksum: 'CRC32C' | undefined): Promise<string | undefined> {
    const client = checksum ? s3 : bare;
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ChecksumAlgorithm: checksum }),
    );
    const done = await Promise.all(
      parts.map((Body, i) =>
        client.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key,
            UploadId,
            PartNumber: i + 1,
            Body,
            ChecksumAlgorithm: checksum,
          }),
        ),
      ),
    );
    const out = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: done.map((d, i) => ({ PartNumber: i + 1, ETag: d.ETag, ChecksumCRC32C: d.ChecksumCRC32C })),
        },
      }),
    );
    return out.ChecksumCRC32C;
  }

  test('a plain object: ETag unquoted, size, storage class, Last-Modified; no checksum or parts', async () => {
    const body = Buffer.from('plain object attributes');
    const put = await bare.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'plain', Body: body, StorageClass: 'STANDARD_IA' }),
    );
    const out = await attributes({ Key: 'plain' });
    assert.equal(out.ETag, md5(body), 'the ETag without quotes');
    assert.equal(put.ETag, `"${md5(body)}"`);
    assert.equal(out.ObjectSize, body.length);
    assert.equal(out.StorageClass, 'STANDARD_IA');
    assert.equal(out.Checksum, undefined);
    assert.equal(out.ObjectParts, undefined, 'ObjectParts is only for multipart objects');
    assert.equal(out.VersionId, undefined, 'no version id in an unversioned bucket');
    assert.ok(out.LastModified instanceof Date);
    assert.ok(Math.abs(out.LastModified.getTime() - Date.now()) < 60_000);
  });

  test('only the attributes asked for are returned', async () => {
    const body = Buffer.from('just the size');
    await bare.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'some', Body: body }));
    const out = await attributes({ Key: 'some', ObjectAttributes: ['ObjectSize', 'StorageClass'] });
    assert.equal(out.ObjectSize, body.length);
    assert.equal(out.StorageClass, 'STANDARD');
    assert.equal(out.ETag, undefined);
    assert.equal(out.Checksum, undefined);
  });

  test('the document is GetObjectAttributesResponse with the attributes in AWS order', async () => {
    const body = Buffer.from('raw document');
    await bare.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'raw doc', Body: body }));
    const res = await rawRequest(w.endpoint('us-east-1'), {
      method: 'GET',
      path: '/attrs/raw%20doc',
      query: { attributes: '' },
      headers: { 'x-amz-object-attributes': 'ObjectSize,StorageClass,ETag' },
    });
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<GetObjectAttributesResponse xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">/);
    const order = [...res.text.matchAll(/<(ETag|StorageClass|ObjectSize)>/g)].map((m) => m[1]);
    assert.deepEqual(order, ['ETag', 'StorageClass', 'ObjectSize']);
    assert.ok(res.text.includes(`<ETag>${md5(body)}</ETag>`), res.text);
    assert.ok(res.headers['last-modified']);
  });

  test('an object with a SHA256 checksum reports it with its type', async () => {
    const body = random.slice(0, 1000);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sha256', Body: body, ChecksumAlgorithm: 'SHA256' }));
    const out = await attributes({ Key: 'sha256' });
    assert.deepEqual(out.Checksum, { ChecksumSHA256: sha256(body), ChecksumType: 'FULL_OBJECT' });
    assert.equal(out.ObjectParts, undefined);
  });

  test('a composite CRC32C multipart object: checksum without -N, every part with its checksum', async () => {
    const completed = await multipart('mpu/crc32c', 'CRC32C');
    const composite = crc32cOf(Buffer.concat(parts.map((p) => Buffer.from(crc32cOf(p), 'base64'))));
    assert.equal(completed, `${composite}-3`);
    const out = await attributes({ Key: 'mpu/crc32c' });
    assert.equal(out.ETag, multipartEtag(parts));
    assert.equal(out.ObjectSize, 10 * MiB + 777);
    assert.deepEqual(out.Checksum, { ChecksumCRC32C: composite, ChecksumType: 'COMPOSITE' });
    const op = out.ObjectParts;
    assert.ok(op);
    assert.equal(op.TotalPartsCount, 3);
    assert.equal(op.IsTruncated, false);
    assert.equal(op.MaxParts, 1000);
    assert.deepEqual(
      op.Parts,
      parts.map((p, i) => ({ PartNumber: i + 1, Size: p.length, ChecksumCRC32C: crc32cOf(p) })),
    );
  });

  test('the part list pages with MaxParts and PartNumberMarker', async () => {
    await multipart('mpu/paged', 'CRC32C');
    const first = await attributes({ Key: 'mpu/paged', ObjectAttributes: ['ObjectParts'], MaxParts: 2 });
    assert.equal(first.ObjectParts?.TotalPartsCount, 3);
    assert.deepEqual(
      first.ObjectParts?.Parts?.map((p) => p.PartNumber),
      [1, 2],
    );
    assert.equal(first.ObjectParts?.IsTruncated, true);
    assert.equal(first.ObjectParts?.MaxParts, 2);
    assert.equal(first.ObjectParts?.NextPartNumberMarker, '2');
    const rest = await attributes({
      Key: 'mpu/paged',
      ObjectAttributes: ['ObjectParts'],
      MaxParts: 2,
      PartNumberMarker: first.ObjectParts?.NextPartNumberMarker,
    });
    assert.equal(rest.ObjectParts?.PartNumberMarker, '2');
    assert.deepEqual(
      rest.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size]),
      [[3, 777]],
    );
    assert.equal(rest.ObjectParts?.IsTruncated, false);
    assert.equal(rest.ObjectParts?.NextPartNumberMarker, '3');
  });

  test('a multipart object without a checksum has a part count but no part list', async () => {
    await multipart('mpu/plain', undefined);
    const out = await attributes({ Key: 'mpu/plain' });
    assert.equal(out.ETag, multipartEtag(parts));
    assert.equal(out.Checksum, undefined);
    assert.equal(out.ObjectParts?.TotalPartsCount, 3);
    assert.equal(out.ObjectParts?.Parts, undefined);
  });

  test('a version by versionId, and the current one without', async () => {
    const v1 = await bare.send(new PutObjectCommand({ Bucket: VERSIONED, Key: 'k', Body: 'first version' }));
    const v2 = await bare.send(new PutObjectCommand({ Bucket: VERSIONED, Key: 'k', Body: 'second, longer version' }));
    const old = await attributes({ Bucket: VERSIONED, Key: 'k', VersionId: v1.VersionId });
    assert.equal(old.VersionId, v1.VersionId);
    assert.equal(old.ETag, md5(Buffer.from('first version')));
    assert.equal(old.ObjectSize, 'first version'.length);
    const current = await attributes({ Bucket: VERSIONED, Key: 'k' });
    assert.equal(current.VersionId, v2.VersionId);
    assert.equal(current.ObjectSize, 'second, longer version'.length);
  });

  test('a delete marker: 404 NoSuchKey with x-amz-delete-marker, 405 by its version id', async () => {
    await bare.send(new PutObjectCommand({ Bucket: VERSIONED, Key: 'gone', Body: 'x' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: 'gone' }));
    assert.equal(marker.DeleteMarker, true);
    const err = await rejectsWith(attributes({ Bucket: VERSIONED, Key: 'gone' }), 'NoSuchKey', 404);
    const headers = (err.$response as { headers: Record<string, string> }).headers;
    assert.equal(headers['x-amz-delete-marker'], 'true');
    await rejectsWith(
      attributes({ Bucket: VERSIONED, Key: 'gone', VersionId: marker.VersionId }),
      'MethodNotAllowed',
      405,
    );
  });

  test('a missing key is 404 NoSuchKey, a missing bucket 404 NoSuchBucket', async () => {
    await rejectsWith(attributes({ Key: 'never-written' }), 'NoSuchKey', 404);
    await rejectsWith(attributes({ Bucket: 'attrs-no-such-bucket', Key: 'k' }), 'NoSuchBucket', 404);
  });

  test('an unknown, empty or missing attribute name is 400 InvalidArgument', async () => {
    await bare.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'named', Body: 'x' }));
    const err = await rejectsWith(
      attributes({ Key: 'named', ObjectAttributes: ['ETag', 'Colour' as ObjectAttributes] }),
      'InvalidArgument',
      400,
    );
    assert.equal(err.message, 'Invalid attribute name specified.');
    const endpoint = w.endpoint('us-east-1');
    const cases: Record<string, string>[] = [
      {},
      { 'x-amz-object-attributes': '' },
      { 'x-amz-object-attributes': 'etag' },
    ];
    for (const headers of cases) {
      const res = await rawRequest(endpoint, {
        method: 'GET',
        path: '/attrs/named',
        query: { attributes: '' },
        headers,
      });
      const e = assertS3Error(res, 'InvalidArgument', 400);
      assert.equal(e.message, 'Invalid attribute name specified.', JSON.stringify(headers));
    }
  });

  test('a malformed x-amz-max-parts is 400 InvalidArgument', async () => {
    await bare.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'paging', Body: 'x' }));
    const res = await rawRequest(w.endpoint('us-east-1'), {
      method: 'GET',
      path: '/attrs/paging',
      query: { attributes: '' },
      headers: { 'x-amz-object-attributes': 'ObjectParts', 'x-amz-max-parts': 'many' },
    });
    assertS3Error(res, 'InvalidArgument', 400);
  });
});
