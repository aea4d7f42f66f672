/**
 * CopyObject and UploadPartCopy end to end through the stock SDK: the bytes, ETag, metadata
 * and checksums of the copy; the copy source (`bucket/key[?versionId=]`, URL-encoded) and its
 * conditions; metadata directives and copying an object onto itself; ranges copied into parts;
 * and the errors AWS answers, with the stored data left as it was after each rejection.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { crc32c } from '@aws-crypto/crc32c';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CopyObjectCommandInput,
  type MetadataDirective,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PseudoRandomBytes } from './helpers/raw-pseudorandom.ts';
import { assertS3Error, rawRequest } from './helpers/raw-request.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { startTestWorld, type TestWorld } from './helpers/world.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const SRC = 'copy-src';
const DST = 'copy-dst';
const VERSIONED = 'copy-versioned';
const ELSEWHERE = 'copy-in-ireland';

const SELF_COPY =
  "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.";
const BAD_SOURCE = 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('base64');
const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('base64');
function crc32cOf(b: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32c(b) >>> 0);
  return out.toString('base64');
}
function multipartEtag(parts: Buffer[]): string {
  const digests = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()));
  return `"${md5(digests)}-${parts.length}"`;
}
/** `x-amz-copy-source` for a key: the bucket, then the key URL-encoded. */
const source = (bucket: string, key: string, versionId?: string): string =>
  `${bucket}/${encodeURIComponent(key)}${versionId === undefined ? '' : `?versionId=${versionId}`}`;

describe('CopyObject and UploadPartCopy', { concurrency: true }, () => {
  let w: TestWorld;
  let s3: S3Client;
  /** Sends checksums only when an operation requires one: objects without a flexible checksum. */
  let bare: S3Client;
  const random = new PseudoRandomBytes('copy');
  const small = random.slice(0, 10 * KiB);
  const large = random.slice(0, 3 * MiB);

  before(async () => {
    w = await startTestWorld();
    s3 = w.client('us-east-1');
    bare = w.client('us-east-1', { requestChecksumCalculation: 'WHEN_REQUIRED' });
    await s3.send(new CreateBucketCommand({ Bucket: SRC }));
    await s3.send(new CreateBucketCommand({ Bucket: DST }));
    await s3.send(new CreateBucketCommand({ Bucket: VERSIONED }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: VERSIONED, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    await w
      .client('eu-west-1')
      .send(
        new CreateBucketCommand({ Bucket: ELSEWHERE, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }),
      );
  });
  after(() => w.close());

  async function put(Bucket: string, Key: string, Body: Buffer | string, extra: Partial<PutObjectCommandInput> = {}) {
    return bare.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }));
  }
  async function read(Bucket: string, Key: string, VersionId?: string): Promise<Buffer> {
    const out = await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }
  function copy(input: Partial<CopyObjectCommandInput> & { CopySource: string; Key: string }) {
    return s3.send(new CopyObjectCommand({ Bucket: DST, ...input }));
  }
  /** Asserts `Key` still holds exactly `body`, as before a rejected request. */
  async function assertUnchanged(Bucket: string, Key: string, body: Buffer | string): Promise<void> {
    assert.ok((await read(Bucket, Key)).equals(Buffer.from(body)), `${Bucket}/${Key} is unchanged`);
  }

  describe('CopyObject', { concurrency: true }, () => {
    for (const [label, body] of [
      ['inline-sized (10 KiB)', small],
      ['file-sized (3 MiB)', large],
    ] as const) {
      test(`copies a ${label} object within a bucket and across buckets`, async () => {
        const Key = `sized/${body.length}`;
        await put(SRC, Key, body);
        for (const Bucket of [SRC, DST]) {
          const to = `${Key}-copy`;
          const out = await copy({ Bucket, Key: to, CopySource: source(SRC, Key) });
          assert.equal(out.CopyObjectResult?.ETag, `"${md5(body)}"`);
          assert.ok(out.CopyObjectResult?.LastModified instanceof Date);
          assert.equal(out.VersionId, undefined, 'no version id in an unversioned bucket');
          assert.equal(out.CopySourceVersionId, undefined, 'no source version id from an unversioned bucket');
          assert.ok((await read(Bucket, to)).equals(body), `the bytes in ${Bucket}`);
          const head = await s3.send(new HeadObjectCommand({ Bucket, Key: to }));
          assert.equal(head.ETag, `"${md5(body)}"`);
          assert.equal(head.ContentLength, body.length);
        }
        await assertUnchanged(SRC, Key, body);
      });
    }

    test('copying a multipart object gives a plain object with the same bytes', async () => {
      const Key = 'multipart/source';
      const parts = [random.slice(0, 5 * MiB), random.slice(5 * MiB, 5 * MiB + 1234)];
      const { UploadId } = await bare.send(new CreateMultipartUploadCommand({ Bucket: SRC, Key }));
      const done = await Promise.all(
        parts.map((Body, i) =>
          bare.send(new UploadPartCommand({ Bucket: SRC, Key, UploadId, PartNumber: i + 1, Body })),
        ),
      );
      const completed = await bare.send(
        new CompleteMultipartUploadCommand({
          Bucket: SRC,
          Key,
          UploadId,
          MultipartUpload: { Parts: done.map((d, i) => ({ PartNumber: i + 1, ETag: d.ETag })) },
        }),
      );
      assert.equal(completed.ETag, multipartEtag(parts));
      const whole = Buffer.concat(parts);
      const out = await copy({ Key: 'multipart/copy', CopySource: source(SRC, Key) });
      assert.equal(out.CopyObjectResult?.ETag, `"${md5(whole)}"`, 'a plain MD5 ETag, not a multipart one');
      assert.ok((await read(DST, 'multipart/copy')).equals(whole));
      const head = await s3.send(new HeadObjectCommand({ Bucket: DST, Key: 'multipart/copy', PartNumber: 1 }));
      assert.equal(head.PartsCount, undefined, 'the copy is not made of parts');
      assert.equal(head.ContentLength, whole.length, 'its only part is the whole object');
    });

    test('a versionId source copies that version and reports both version ids', async () => {
      const v1 = await put(VERSIONED, 'doc', 'version one');
      await put(VERSIONED, 'doc', 'version two');
      assert.ok(v1.VersionId);
      const out = await copy({
        Bucket: VERSIONED,
        Key: 'doc-restored',
        CopySource: source(VERSIONED, 'doc', v1.VersionId),
      });
      assert.equal(out.CopySourceVersionId, v1.VersionId);
      assert.ok(out.VersionId, 'the destination is versioned');
      assert.notEqual(out.VersionId, v1.VersionId);
      assert.equal((await read(VERSIONED, 'doc-restored', out.VersionId)).toString(), 'version one');
      // Without a versionId, the current version is copied, and named in the response.
      const current = await copy({ Key: 'doc-current', CopySource: source(VERSIONED, 'doc') });
      const head = await s3.send(new HeadObjectCommand({ Bucket: VERSIONED, Key: 'doc' }));
      assert.equal(current.CopySourceVersionId, head.VersionId);
      assert.equal(current.VersionId, undefined, 'the unversioned destination has no version id');
      assert.equal((await read(DST, 'doc-current')).toString(), 'version two');
    });

    test('keys with spaces, unicode, + and ? are URL-decoded from the copy source', async () => {
      const Key = 'odd keys/a b+c?d=1&e/été ünï 日本.txt';
      await put(VERSIONED, Key, 'odd');
      const out = await copy({ Key: `${Key} (copy)`, CopySource: source(VERSIONED, Key) });
      assert.ok(out.CopySourceVersionId);
      assert.equal((await read(DST, `${Key} (copy)`)).toString(), 'odd');
      // With a versionId after the encoded `?` of the key, and with a leading slash.
      const byId = await copy({
        Key: 'odd keys/by id',
        CopySource: `/${source(VERSIONED, Key, out.CopySourceVersionId)}`,
      });
      assert.equal(byId.CopySourceVersionId, out.CopySourceVersionId);
      assert.equal((await read(DST, 'odd keys/by id')).toString(), 'odd');
    });

    test('a literal + in the copy source is a space, as in a form-encoded path (AWS)', async () => {
      // AWS reads x-amz-copy-source like a form-encoded path: clients that send a key's '+'
      // unencoded get the key with a space (aws-cli#614, aws-sdk-php#236 saw NoSuchKey for it).
      await put(SRC, 'plus/a b', 'the key with a space');
      await put(SRC, 'plus/a+b', 'the key with a plus');
      await copy({ Key: 'plus/literal', CopySource: `${SRC}/plus/a+b` });
      assert.equal((await read(DST, 'plus/literal')).toString(), 'the key with a space');
      await copy({ Key: 'plus/encoded', CopySource: `${SRC}/plus/a%2Bb` });
      assert.equal((await read(DST, 'plus/encoded')).toString(), 'the key with a plus');
    });

    test('an empty object copies as an empty object', async () => {
      await put(SRC, 'empty/source', '');
      const out = await copy({ Key: 'empty/copy', CopySource: source(SRC, 'empty/source') });
      assert.equal(out.CopyObjectResult?.ETag, `"${md5(Buffer.alloc(0))}"`);
      assert.equal((await read(DST, 'empty/copy')).length, 0);
    });

    test('copying an older version onto its own key restores it as the current version', async () => {
      // The documented way to restore a previous version: a new version, not a copy to itself.
      const v1 = await put(VERSIONED, 'restore/me', 'good data');
      await put(VERSIONED, 'restore/me', 'bad data');
      const out = await copy({
        Bucket: VERSIONED,
        Key: 'restore/me',
        CopySource: source(VERSIONED, 'restore/me', v1.VersionId),
      });
      assert.equal(out.CopySourceVersionId, v1.VersionId);
      assert.ok(out.VersionId);
      assert.notEqual(out.VersionId, v1.VersionId);
      assert.equal((await read(VERSIONED, 'restore/me')).toString(), 'good data');
    });

    test('a source versionId that does not exist is 404 NoSuchVersion', async () => {
      const v = await put(VERSIONED, 'no-version/src', 'x');
      await s3.send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: 'no-version/src', VersionId: v.VersionId }));
      await rejectsWith(
        copy({ Key: 'no-version/dest', CopySource: source(VERSIONED, 'no-version/src', v.VersionId) }),
        'NoSuchVersion',
        404,
      );
    });

    test('MetadataDirective COPY keeps metadata and content headers; REPLACE takes the request', async () => {
      const Key = 'meta/source';
      await put(SRC, Key, small, {
        Metadata: { colour: 'blue', owner: 'ada' },
        ContentType: 'text/x-source',
        CacheControl: 'max-age=60',
        ContentDisposition: 'attachment; filename="s.txt"',
        ContentLanguage: 'fr',
        ContentEncoding: 'identity',
      });
      for (const MetadataDirective of [undefined, 'COPY'] as const) {
        const to = `meta/copy-${MetadataDirective ?? 'default'}`;
        await copy({ Key: to, CopySource: source(SRC, Key), MetadataDirective, Metadata: { ignored: 'yes' } });
        const head = await s3.send(new HeadObjectCommand({ Bucket: DST, Key: to }));
        assert.deepEqual(head.Metadata, { colour: 'blue', owner: 'ada' });
        assert.equal(head.ContentType, 'text/x-source');
        assert.equal(head.CacheControl, 'max-age=60');
        assert.equal(head.ContentDisposition, 'attachment; filename="s.txt"');
        assert.equal(head.ContentLanguage, 'fr');
        assert.equal(head.ContentEncoding, 'identity');
      }
      await copy({
        Key: 'meta/replaced',
        CopySource: source(SRC, Key),
        MetadataDirective: 'REPLACE',
        Metadata: { colour: 'red' },
        ContentType: 'application/x-replaced',
      });
      const head = await s3.send(new HeadObjectCommand({ Bucket: DST, Key: 'meta/replaced' }));
      assert.deepEqual(head.Metadata, { colour: 'red' });
      assert.equal(head.ContentType, 'application/x-replaced');
      assert.equal(head.CacheControl, undefined, 'REPLACE drops the source content headers');
      assert.equal(head.ContentLanguage, undefined);
      assert.ok((await read(DST, 'meta/replaced')).equals(small));
    });

    test('TaggingDirective COPY keeps the source tags; REPLACE takes the request x-amz-tagging', async () => {
      await put(SRC, 'tags/source', 'tagged');
      await s3.send(
        new PutObjectTaggingCommand({
          Bucket: SRC,
          Key: 'tags/source',
          Tagging: { TagSet: [{ Key: 'team', Value: 'old' }] },
        }),
      );
      const tagsOf = async (Key: string) => (await s3.send(new GetObjectTaggingCommand({ Bucket: DST, Key }))).TagSet;
      await copy({ Key: 'tags/copied', CopySource: source(SRC, 'tags/source') });
      assert.deepEqual(await tagsOf('tags/copied'), [{ Key: 'team', Value: 'old' }]);
      await copy({
        Key: 'tags/replaced',
        CopySource: source(SRC, 'tags/source'),
        TaggingDirective: 'REPLACE',
        Tagging: 'team=new&x=1',
      });
      assert.deepEqual(await tagsOf('tags/replaced'), [
        { Key: 'team', Value: 'new' },
        { Key: 'x', Value: '1' },
      ]);
      await copy({ Key: 'tags/dropped', CopySource: source(SRC, 'tags/source'), TaggingDirective: 'REPLACE' });
      assert.deepEqual(await tagsOf('tags/dropped'), []);
    });

    test('copying an object onto itself without changes is 400 InvalidRequest; with REPLACE it succeeds', async () => {
      const Key = 'self/object';
      const put1 = await put(SRC, Key, large, { Metadata: { stage: 'before' }, ContentType: 'text/plain' });
      const err = await rejectsWith(copy({ Bucket: SRC, Key, CopySource: source(SRC, Key) }), 'InvalidRequest', 400);
      assert.equal(err.message, SELF_COPY);
      await rejectsWith(
        copy({ Bucket: SRC, Key, CopySource: source(SRC, Key), MetadataDirective: 'COPY', Metadata: { stage: 'x' } }),
        'InvalidRequest',
        400,
      );
      const before = await s3.send(new HeadObjectCommand({ Bucket: SRC, Key }));
      assert.deepEqual(before.Metadata, { stage: 'before' });
      assert.equal(before.ETag, put1.ETag);

      const out = await copy({
        Bucket: SRC,
        Key,
        CopySource: source(SRC, Key),
        MetadataDirective: 'REPLACE',
        Metadata: { stage: 'after' },
        ContentType: 'text/x-after',
      });
      assert.equal(out.CopyObjectResult?.ETag, `"${md5(large)}"`);
      const head = await s3.send(new HeadObjectCommand({ Bucket: SRC, Key }));
      assert.deepEqual(head.Metadata, { stage: 'after' });
      assert.equal(head.ContentType, 'text/x-after');
      assert.ok((await read(SRC, Key)).equals(large), 'a file-sized object copied onto itself keeps its bytes');
    });

    test('an unknown metadata directive is 400 InvalidArgument', async () => {
      await put(SRC, 'directive/source', 'x');
      await put(DST, 'directive/dest', 'before');
      const err = await rejectsWith(
        copy({
          Key: 'directive/dest',
          CopySource: source(SRC, 'directive/source'),
          MetadataDirective: 'MOVE' as MetadataDirective,
        }),
        'InvalidArgument',
        400,
      );
      assert.equal(err.message, 'Unknown metadata directive.');
      await assertUnchanged(DST, 'directive/dest', 'before');
    });

    describe('copy-source conditions', { concurrency: true }, () => {
      const Key = 'conditions/source';
      let etag: string;
      before(async () => {
        const out = await put(SRC, Key, 'conditional source');
        etag = out.ETag!;
        await put(DST, 'conditions/dest', 'before');
      });
      const hour = 3600_000;
      const cases: { name: string; input: () => Partial<CopyObjectCommandInput>; holds: boolean }[] = [
        { name: 'If-Match with the ETag', input: () => ({ CopySourceIfMatch: etag }), holds: true },
        {
          name: 'If-Match with another ETag',
          input: () => ({ CopySourceIfMatch: '"0123456789abcdef0123456789abcdef"' }),
          holds: false,
        },
        {
          name: 'If-None-Match with another ETag',
          input: () => ({ CopySourceIfNoneMatch: '"0123456789abcdef0123456789abcdef"' }),
          holds: true,
        },
        { name: 'If-None-Match with the ETag', input: () => ({ CopySourceIfNoneMatch: etag }), holds: false },
        {
          name: 'If-Modified-Since an hour ago',
          input: () => ({ CopySourceIfModifiedSince: new Date(Date.now() - hour) }),
          holds: true,
        },
        { name: 'If-Modified-Since now', input: () => ({ CopySourceIfModifiedSince: new Date() }), holds: false },
        {
          name: 'If-Unmodified-Since in an hour',
          input: () => ({ CopySourceIfUnmodifiedSince: new Date(Date.now() + hour) }),
          holds: true,
        },
        {
          name: 'If-Unmodified-Since an hour ago',
          input: () => ({ CopySourceIfUnmodifiedSince: new Date(Date.now() - hour) }),
          holds: false,
        },
        {
          name: 'If-Match that holds with If-Unmodified-Since that fails',
          input: () => ({ CopySourceIfMatch: etag, CopySourceIfUnmodifiedSince: new Date(Date.now() - hour) }),
          holds: true,
        },
        {
          name: 'If-None-Match that fails with If-Modified-Since that holds',
          input: () => ({ CopySourceIfNoneMatch: etag, CopySourceIfModifiedSince: new Date(Date.now() - hour) }),
          holds: false,
        },
      ];
      for (const c of cases) {
        test(`${c.name}: ${c.holds ? 'copies' : '412 PreconditionFailed'}`, async () => {
          const to = c.holds ? `conditions/${c.name}` : 'conditions/dest';
          const p = copy({ Key: to, CopySource: source(SRC, Key), ...c.input() });
          if (c.holds) {
            await p;
            assert.equal((await read(DST, to)).toString(), 'conditional source');
          } else {
            const err = await rejectsWith(p, 'PreconditionFailed', 412);
            assert.equal(err.message, 'At least one of the pre-conditions you specified did not hold');
            await assertUnchanged(DST, 'conditions/dest', 'before');
          }
        });
      }

      test('a failing condition names its header in <Condition>', async () => {
        const res = await rawRequest(w.endpoint('us-east-1'), {
          method: 'PUT',
          path: `/${DST}/conditions/raw`,
          headers: { 'x-amz-copy-source': source(SRC, Key), 'x-amz-copy-source-if-match': '"nope"' },
        });
        const e = assertS3Error(res, 'PreconditionFailed', 412);
        assert.equal(e.fields.Condition, 'x-amz-copy-source-If-Match');
      });
    });

    test('destination If-None-Match: * fails with 412 when the destination exists', async () => {
      await put(SRC, 'dest-cond/source', 'new bytes');
      await put(DST, 'dest-cond/taken', 'old bytes');
      await rejectsWith(
        copy({ Key: 'dest-cond/taken', CopySource: source(SRC, 'dest-cond/source'), IfNoneMatch: '*' }),
        'PreconditionFailed',
        412,
      );
      await assertUnchanged(DST, 'dest-cond/taken', 'old bytes');
      await copy({ Key: 'dest-cond/free', CopySource: source(SRC, 'dest-cond/source'), IfNoneMatch: '*' });
      assert.equal((await read(DST, 'dest-cond/free')).toString(), 'new bytes');
    });

    test('a copy source without bucket and key is 400 InvalidArgument', async () => {
      await put(DST, 'malformed/dest', 'before');
      for (const CopySource of ['no-slash', `${SRC}/`, `/${SRC}`, '/%2Fkey']) {
        const err = await rejectsWith(copy({ Key: 'malformed/dest', CopySource }), 'InvalidArgument', 400);
        assert.equal(err.message, BAD_SOURCE, CopySource);
      }
      const res = await rawRequest(w.endpoint('us-east-1'), {
        method: 'PUT',
        path: `/${DST}/malformed/dest`,
        headers: { 'x-amz-copy-source': 'no-slash' },
      });
      const e = assertS3Error(res, 'InvalidArgument', 400);
      assert.equal(e.fields.ArgumentName, 'x-amz-copy-source');
      await assertUnchanged(DST, 'malformed/dest', 'before');
    });

    test('a missing source key is 404 NoSuchKey, a missing source bucket 404 NoSuchBucket', async () => {
      await put(DST, 'missing/dest', 'before');
      await rejectsWith(copy({ Key: 'missing/dest', CopySource: source(SRC, 'missing/never') }), 'NoSuchKey', 404);
      await rejectsWith(
        copy({ Key: 'missing/dest', CopySource: source('copy-no-such-bucket', 'k') }),
        'NoSuchBucket',
        404,
      );
      await rejectsWith(
        copy({ Bucket: 'copy-no-such-dest', Key: 'k', CopySource: source(DST, 'missing/dest') }),
        'NoSuchBucket',
        404,
      );
      await assertUnchanged(DST, 'missing/dest', 'before');
    });

    test('a source whose current version is a delete marker is 404 NoSuchKey', async () => {
      await put(VERSIONED, 'deleted', 'was here');
      const marker = await s3.send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: 'deleted' }));
      assert.equal(marker.DeleteMarker, true);
      const err = await rejectsWith(
        copy({ Key: 'deleted-copy', CopySource: source(VERSIONED, 'deleted') }),
        'NoSuchKey',
        404,
      );
      const headers = (err.$response as { headers: Record<string, string> }).headers;
      assert.equal(headers['x-amz-delete-marker'], 'true');
      const byId = await rejectsWith(
        copy({ Key: 'deleted-copy', CopySource: source(VERSIONED, 'deleted', marker.VersionId) }),
        'InvalidRequest',
        400,
      );
      assert.equal(
        byId.message,
        'The source of a copy request may not specifically refer to a delete marker by version id.',
      );
      await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: DST, Key: 'deleted-copy' })), undefined, 404);
    });

    test('ChecksumAlgorithm recomputes the checksum of the copy', async () => {
      await put(SRC, 'checksum/plain', large);
      const crc = await copy({
        Key: 'checksum/crc32c',
        CopySource: source(SRC, 'checksum/plain'),
        ChecksumAlgorithm: 'CRC32C',
      });
      assert.equal(crc.CopyObjectResult?.ChecksumCRC32C, crc32cOf(large));
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: DST, Key: 'checksum/crc32c', ChecksumMode: 'ENABLED' }),
      );
      assert.equal(head.ChecksumCRC32C, crc32cOf(large));
      assert.equal(head.ChecksumType, 'FULL_OBJECT');

      // A source with a CRC32C checksum, copied as SHA256.
      const sha = await copy({
        Key: 'checksum/sha256',
        CopySource: source(DST, 'checksum/crc32c'),
        ChecksumAlgorithm: 'SHA256',
      });
      assert.equal(sha.CopyObjectResult?.ChecksumSHA256, sha256(large));
      assert.equal(sha.CopyObjectResult?.ChecksumCRC32C, undefined);
      const shaHead = await s3.send(
        new HeadObjectCommand({ Bucket: DST, Key: 'checksum/sha256', ChecksumMode: 'ENABLED' }),
      );
      assert.equal(shaHead.ChecksumSHA256, sha256(large));
      assert.equal(shaHead.ChecksumCRC32C, undefined);
    });

    test('a source with a checksum keeps its algorithm in the copy', async () => {
      await s3.send(
        new PutObjectCommand({ Bucket: SRC, Key: 'checksum/sha1', Body: small, ChecksumAlgorithm: 'SHA1' }),
      );
      const out = await copy({ Key: 'checksum/sha1-copy', CopySource: source(SRC, 'checksum/sha1') });
      assert.equal(out.CopyObjectResult?.ChecksumSHA1, sha1(small));
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: DST, Key: 'checksum/sha1-copy', ChecksumMode: 'ENABLED' }),
      );
      assert.equal(head.ChecksumSHA1, sha1(small));
    });

    test('a source bucket in another region is read from there', async () => {
      await w.client('eu-west-1').send(new PutObjectCommand({ Bucket: ELSEWHERE, Key: 'far', Body: 'far away' }));
      await copy({ Key: 'from-ireland', CopySource: source(ELSEWHERE, 'far') });
      const got = await bare.send(new GetObjectCommand({ Bucket: DST, Key: 'from-ireland' }));
      assert.equal(await got.Body?.transformToString(), 'far away');
    });
  });

  describe('UploadPartCopy', { concurrency: true }, () => {
    const size = 11 * MiB + 4321;
    const sourceKey = 'parts/source';
    let whole: Buffer;

    before(async () => {
      whole = random.slice(0, size);
      await put(SRC, sourceKey, whole);
    });

    async function startUpload(Key: string, extra: { ChecksumAlgorithm?: 'CRC32C' } = {}): Promise<string> {
      const out = await bare.send(new CreateMultipartUploadCommand({ Bucket: DST, Key, ...extra }));
      assert.ok(out.UploadId);
      return out.UploadId;
    }
    function copyPart(
      Key: string,
      UploadId: string,
      PartNumber: number,
      CopySourceRange?: string,
      CopySource = source(SRC, sourceKey),
    ) {
      return s3.send(
        new UploadPartCopyCommand({ Bucket: DST, Key, UploadId, PartNumber, CopySource, CopySourceRange }),
      );
    }

    test('ranges of a source copied into parts complete into the same bytes', async () => {
      const Key = 'parts/assembled';
      const UploadId = await startUpload(Key);
      const ranges: [number, number][] = [
        [0, 5 * MiB - 1],
        [5 * MiB, 10 * MiB - 1],
        [10 * MiB, size - 1],
      ];
      const done = await Promise.all(ranges.map(([a, b], i) => copyPart(Key, UploadId, i + 1, `bytes=${a}-${b}`)));
      const slices = ranges.map(([a, b]) => whole.subarray(a, b + 1));
      for (const [i, d] of done.entries()) {
        assert.equal(d.CopyPartResult?.ETag, `"${md5(slices[i])}"`, `part ${i + 1}`);
        assert.ok(d.CopyPartResult?.LastModified instanceof Date);
        assert.ok(Math.abs(d.CopyPartResult.LastModified.getTime() - Date.now()) < 60_000);
      }
      const out = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: DST,
          Key,
          UploadId,
          MultipartUpload: { Parts: done.map((d, i) => ({ PartNumber: i + 1, ETag: d.CopyPartResult?.ETag })) },
        }),
      );
      assert.equal(out.ETag, multipartEtag(slices));
      assert.ok((await read(DST, Key)).equals(whole));
    });

    test('a part copied without a range is the whole source; a versioned source is named', async () => {
      const v = await put(VERSIONED, 'parts/tail', 'tail bytes');
      const Key = 'parts/whole';
      const UploadId = await startUpload(Key);
      const first = await copyPart(Key, UploadId, 1, `bytes=0-${5 * MiB - 1}`);
      const second = await copyPart(Key, UploadId, 2, undefined, source(VERSIONED, 'parts/tail'));
      assert.equal(second.CopySourceVersionId, v.VersionId);
      assert.equal(second.CopyPartResult?.ETag, `"${md5(Buffer.from('tail bytes'))}"`);
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: DST,
          Key,
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: first.CopyPartResult?.ETag },
              { PartNumber: 2, ETag: second.CopyPartResult?.ETag },
            ],
          },
        }),
      );
      assert.ok((await read(DST, Key)).equals(Buffer.concat([whole.subarray(0, 5 * MiB), Buffer.from('tail bytes')])));
    });

    test('a part copied into an upload with a checksum algorithm gets a checksum in it', async () => {
      const Key = 'parts/checksummed';
      const UploadId = await startUpload(Key, { ChecksumAlgorithm: 'CRC32C' });
      const out = await copyPart(Key, UploadId, 1, 'bytes=100-199');
      assert.equal(out.CopyPartResult?.ChecksumCRC32C, crc32cOf(whole.subarray(100, 200)));
    });

    test('an invalid range is 400 InvalidArgument', async () => {
      const Key = 'parts/bad-range';
      const UploadId = await startUpload(Key);
      for (const range of ['bytes=5-', 'bytes=-5', 'bytes=10-5', 'bytes 0-5', 'items=0-5', 'bytes=0-5,7-9']) {
        const err = await rejectsWith(copyPart(Key, UploadId, 1, range), 'InvalidArgument', 400);
        assert.equal(
          err.message,
          'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
          range,
        );
      }
    });

    test('a range ending beyond the source is InvalidArgument; one starting beyond it InvalidRequest', async () => {
      const Key = 'parts/out-of-range';
      const UploadId = await startUpload(Key);
      const end = await rejectsWith(copyPart(Key, UploadId, 1, `bytes=0-${size}`), 'InvalidArgument', 400);
      assert.equal(end.message, `Range specified is not valid for source object of size: ${size}`);
      const start = await rejectsWith(copyPart(Key, UploadId, 1, `bytes=${size}-${size + 10}`), 'InvalidRequest', 400);
      assert.equal(start.message, 'The specified copy range is invalid for the source object size');
    });

    test('an unknown upload id is 404 NoSuchUpload', async () => {
      await rejectsWith(copyPart('parts/nowhere', 'no-such-upload-id', 1, 'bytes=0-9'), 'NoSuchUpload', 404);
    });

    test('copy-source conditions apply: a failing If-Match is 412', async () => {
      const Key = 'parts/conditional';
      const UploadId = await startUpload(Key);
      await rejectsWith(
        s3.send(
          new UploadPartCopyCommand({
            Bucket: DST,
            Key,
            UploadId,
            PartNumber: 1,
            CopySource: source(SRC, sourceKey),
            CopySourceRange: 'bytes=0-9',
            CopySourceIfMatch: '"0123456789abcdef0123456789abcdef"',
          }),
        ),
        'PreconditionFailed',
        412,
      );
    });
  });
});
