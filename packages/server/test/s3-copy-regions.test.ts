/**
 * Copies whose source is read with the copier's rights: from a bucket in another region of
 * the world (CopyObject and UploadPartCopy stream it from there), and never from a bucket the
 * copier may not read, in this region or another.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { FaultStore } from '../src/core/faults.ts';
import { faultsPath } from '../src/cli/fault.ts';
import { eventually } from './helpers/eventually.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { startTestWorld, type TestWorld } from './helpers/world.ts';

const OTHER = { accessKeyId: 'AKIACOPYOTHER', secretAccessKey: 'copy-other-secret', accountId: '555566667777' };
const US = 'us-east-1';
const EU = 'eu-west-1';

async function bytesOf(body: unknown): Promise<Buffer> {
  return Buffer.from(await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

describe('copies across regions and with the copier rights', () => {
  let w: TestWorld;
  let us: S3Client;
  let eu: S3Client;
  let otherUs: S3Client;

  before(async () => {
    w = await startTestWorld({ keys: [OTHER] });
    us = w.client(US);
    eu = w.client(EU);
    otherUs = w.client(US, { credentials: OTHER });
    await us.send(new CreateBucketCommand({ Bucket: 'copy-dst-us' }));
    await eu.send(new CreateBucketCommand({ Bucket: 'copy-src-eu', CreateBucketConfiguration: { LocationConstraint: EU } }));
    await eu.send(new PutBucketVersioningCommand({ Bucket: 'copy-src-eu', VersioningConfiguration: { Status: 'Enabled' } }));
    await us.send(new CreateBucketCommand({ Bucket: 'copy-private-us' }));
    await us.send(new PutObjectCommand({ Bucket: 'copy-private-us', Key: 'secret', Body: 'owner only' }));
    await otherUs.send(new CreateBucketCommand({ Bucket: 'copy-other-us' }));
  });
  after(() => w.close());

  test('CopyObject from a bucket in another region keeps bytes, metadata, tags and checksum', async () => {
    const body = Buffer.from('copied across the ocean');
    const put = await eu.send(
      new PutObjectCommand({
        Bucket: 'copy-src-eu',
        Key: 'dir/obj one.txt',
        Body: body,
        ContentType: 'text/plain',
        CacheControl: 'max-age=60',
        Metadata: { colour: 'blue' },
        Tagging: 'project=atlas&tier=gold',
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    const copy = await us.send(
      new CopyObjectCommand({ Bucket: 'copy-dst-us', Key: 'here.txt', CopySource: 'copy-src-eu/dir/obj%20one.txt' }),
    );
    assert.equal(copy.CopySourceVersionId, put.VersionId);
    assert.equal(copy.CopyObjectResult?.ETag, put.ETag);
    assert.equal(copy.CopyObjectResult?.ChecksumSHA256, put.ChecksumSHA256);
    const got = await us.send(new GetObjectCommand({ Bucket: 'copy-dst-us', Key: 'here.txt', ChecksumMode: 'ENABLED' }));
    assert.deepEqual(await bytesOf(got.Body), body);
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(got.CacheControl, 'max-age=60');
    assert.deepEqual(got.Metadata, { colour: 'blue' });
    assert.equal(got.ChecksumSHA256, put.ChecksumSHA256);
    const tags = await us.send(new GetObjectTaggingCommand({ Bucket: 'copy-dst-us', Key: 'here.txt' }));
    assert.deepEqual(
      tags.TagSet?.map((t) => `${t.Key}=${t.Value}`).sort(),
      ['project=atlas', 'tier=gold'],
    );
  });

  test('a named older version is copied, and REPLACE directives apply', async () => {
    const v1 = await eu.send(new PutObjectCommand({ Bucket: 'copy-src-eu', Key: 'versions', Body: 'first', Tagging: 'a=1' }));
    await eu.send(new PutObjectCommand({ Bucket: 'copy-src-eu', Key: 'versions', Body: 'second' }));
    const copy = await us.send(
      new CopyObjectCommand({
        Bucket: 'copy-dst-us',
        Key: 'old',
        CopySource: `copy-src-eu/versions?versionId=${v1.VersionId}`,
        MetadataDirective: 'REPLACE',
        Metadata: { fresh: 'yes' },
        ContentType: 'text/x-old',
        TaggingDirective: 'REPLACE',
        Tagging: 'b=2',
      }),
    );
    assert.equal(copy.CopySourceVersionId, v1.VersionId);
    const got = await us.send(new GetObjectCommand({ Bucket: 'copy-dst-us', Key: 'old' }));
    assert.equal(await got.Body?.transformToString(), 'first');
    assert.deepEqual(got.Metadata, { fresh: 'yes' });
    assert.equal(got.ContentType, 'text/x-old');
    const tags = await us.send(new GetObjectTaggingCommand({ Bucket: 'copy-dst-us', Key: 'old' }));
    assert.deepEqual(tags.TagSet, [{ Key: 'b', Value: '2' }]);
  });

  test('a large source streams across regions byte for byte; UploadPartCopy ranges it', async () => {
    const size = 12 * 1024 * 1024 + 5;
    const big = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4096) big.writeUInt32BE(i, i);
    await eu.send(new PutObjectCommand({ Bucket: 'copy-src-eu', Key: 'big', Body: big }));
    await us.send(new CopyObjectCommand({ Bucket: 'copy-dst-us', Key: 'big', CopySource: 'copy-src-eu/big' }));
    const whole = await bytesOf((await us.send(new GetObjectCommand({ Bucket: 'copy-dst-us', Key: 'big' }))).Body);
    assert.equal(createHash('sha256').update(whole).digest('hex'), createHash('sha256').update(big).digest('hex'));

    const { UploadId } = await us.send(new CreateMultipartUploadCommand({ Bucket: 'copy-dst-us', Key: 'parts' }));
    const half = 6 * 1024 * 1024;
    const parts = [];
    for (const [n, range] of [
      [1, `bytes=0-${half - 1}`],
      [2, `bytes=${half}-${size - 1}`],
    ] as const) {
      const r = await us.send(
        new UploadPartCopyCommand({ Bucket: 'copy-dst-us', Key: 'parts', UploadId, PartNumber: n, CopySource: 'copy-src-eu/big', CopySourceRange: range }),
      );
      assert.ok(r.CopySourceVersionId, 'the source version is named');
      parts.push({ PartNumber: n, ETag: r.CopyPartResult?.ETag });
    }
    await us.send(new CompleteMultipartUploadCommand({ Bucket: 'copy-dst-us', Key: 'parts', UploadId, MultipartUpload: { Parts: parts } }));
    const joined = await bytesOf((await us.send(new GetObjectCommand({ Bucket: 'copy-dst-us', Key: 'parts' }))).Body);
    assert.ok(joined.equals(big));

    const { UploadId: second } = await us.send(new CreateMultipartUploadCommand({ Bucket: 'copy-dst-us', Key: 'bad-range' }));
    await rejectsWith(
      us.send(
        new UploadPartCopyCommand({
          Bucket: 'copy-dst-us',
          Key: 'bad-range',
          UploadId: second,
          PartNumber: 1,
          CopySource: 'copy-src-eu/big',
          CopySourceRange: `bytes=0-${size}`,
        }),
      ),
      'InvalidArgument',
      400,
    );
  });

  test('copy-source conditions, missing keys and versions are answered as for a local source', async () => {
    await eu.send(new PutObjectCommand({ Bucket: 'copy-src-eu', Key: 'cond', Body: 'c' }));
    await rejectsWith(
      us.send(new CopyObjectCommand({ Bucket: 'copy-dst-us', Key: 'x', CopySource: 'copy-src-eu/cond', CopySourceIfMatch: '"nope"' })),
      'PreconditionFailed',
      412,
    );
    await rejectsWith(us.send(new CopyObjectCommand({ Bucket: 'copy-dst-us', Key: 'x', CopySource: 'copy-src-eu/absent' })), 'NoSuchKey', 404);
    await rejectsWith(
      us.send(
        new CopyObjectCommand({ Bucket: 'copy-dst-us', Key: 'x', CopySource: 'copy-src-eu/cond?versionId=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
      ),
      'NoSuchVersion',
      404,
    );
    await rejectsWith(us.send(new HeadObjectCommand({ Bucket: 'copy-dst-us', Key: 'x' })), 'NotFound', 404);
  });

  test('another account cannot copy what it cannot read, here or in another region', async () => {
    await rejectsWith(
      otherUs.send(new CopyObjectCommand({ Bucket: 'copy-other-us', Key: 'stolen', CopySource: 'copy-private-us/secret' })),
      'AccessDenied',
      403,
    );
    await rejectsWith(
      otherUs.send(new CopyObjectCommand({ Bucket: 'copy-other-us', Key: 'stolen', CopySource: 'copy-src-eu/cond' })),
      'AccessDenied',
      403,
    );
    await rejectsWith(otherUs.send(new HeadObjectCommand({ Bucket: 'copy-other-us', Key: 'stolen' })), 'NotFound', 404);
    const { UploadId } = await otherUs.send(new CreateMultipartUploadCommand({ Bucket: 'copy-other-us', Key: 'stolen-part' }));
    await rejectsWith(
      otherUs.send(
        new UploadPartCopyCommand({ Bucket: 'copy-other-us', Key: 'stolen-part', UploadId, PartNumber: 1, CopySource: 'copy-private-us/secret' }),
      ),
      'AccessDenied',
      403,
    );
  });

  test('a bucket policy that lets the other account read makes the copy work, across regions too', async () => {
    await eu.send(
      new PutBucketPolicyCommand({
        Bucket: 'copy-src-eu',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${OTHER.accountId}:root` },
              Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging'],
              Resource: 'arn:aws:s3:::copy-src-eu/*',
            },
          ],
        }),
      }),
    );
    await otherUs.send(new CopyObjectCommand({ Bucket: 'copy-other-us', Key: 'granted', CopySource: 'copy-src-eu/cond' }));
    const got = await otherUs.send(new GetObjectCommand({ Bucket: 'copy-other-us', Key: 'granted' }));
    assert.equal(await got.Body?.transformToString(), 'c');
    // The owner's own bucket in us-east-1 still refuses.
    await rejectsWith(
      otherUs.send(new CopyObjectCommand({ Bucket: 'copy-other-us', Key: 'stolen', CopySource: 'copy-private-us/secret' })),
      'AccessDenied',
      403,
    );
  });

  test('a source region that is down answers 503 and writes nothing', async () => {
    await eu.send(new PutObjectCommand({ Bucket: 'copy-src-eu', Key: 'down', Body: 'd' }));
    const faults = new FaultStore(faultsPath(w.dataDir));
    await faults.regionDown(EU);
    try {
      await eventually(async () => {
        await rejectsWith(
          us.send(new CopyObjectCommand({ Bucket: 'copy-dst-us', Key: 'during-outage', CopySource: 'copy-src-eu/down' })),
          'ServiceUnavailable',
          503,
        );
      });
      await rejectsWith(us.send(new HeadObjectCommand({ Bucket: 'copy-dst-us', Key: 'during-outage' })), 'NotFound', 404);
    } finally {
      await faults.clear();
      await faults.close();
    }
    await eventually(async () => {
      await us.send(new CopyObjectCommand({ Bucket: 'copy-dst-us', Key: 'after-outage', CopySource: 'copy-src-eu/down' }));
    });
  });

  test('the owner copies within its own region as before', async () => {
    await us.send(new CopyObjectCommand({ Bucket: 'copy-dst-us', Key: 'local', CopySource: 'copy-private-us/secret' }));
    const got = await us.send(new GetObjectCommand({ Bucket: 'copy-dst-us', Key: 'local' }));
    assert.equal(await got.Body?.transformToString(), 'owner only');
  });
});
