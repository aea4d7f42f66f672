/**
 * Object and bucket tagging end to end through the stock SDK: tag sets on current and older
 * versions, delete markers, S3's limits and their exact errors, bucket tag sets, and the
 * `x-amz-tagging` header of uploads. Expectations are AWS S3's (see .tmp/s3-facts.md §6).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type Tag,
} from '@aws-sdk/client-s3';
import { assertS3Error, rawRequest } from './helpers/raw-request.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { bodyText, startTestWorld, type TestWorld } from './helpers/world.ts';

/** An extra child element of the SDK error's `<Error>` document. */
function field(err: S3ServiceException, name: string): string | undefined {
  return (err as unknown as Record<string, string | undefined>)[name];
}

const md5 = (body: string): string => createHash('md5').update(body).digest('base64');

const tags = (n: number, prefix = 'k'): Tag[] => Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${i}`, Value: `v${i}` }));

function taggingXml(inner: string): string {
  return `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>${inner}</TagSet></Tagging>`;
}

describe('tagging', () => {
  let w: TestWorld;
  let s3: S3Client;
  let endpoint: string;

  before(async () => {
    w = await startTestWorld();
    s3 = w.client('us-east-1');
    endpoint = w.endpoint('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'versioned' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }));
  });
  after(() => w.close());

  async function put(bucket: string, key: string, body = 'hello', extra: { Tagging?: string } = {}): Promise<string | undefined> {
    return (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...extra }))).VersionId;
  }
  async function tagSet(bucket: string, key: string, versionId?: string): Promise<Tag[]> {
    return (await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).TagSet ?? [];
  }
  function putTags(bucket: string, key: string, TagSet: Tag[], VersionId?: string) {
    return s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId, Tagging: { TagSet } }));
  }
  async function bucketTags(bucket: string): Promise<Tag[] | 'none'> {
    try {
      return (await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet ?? [];
    } catch (err) {
      if (err instanceof S3ServiceException && err.name === 'NoSuchTagSet') return 'none';
      throw err;
    }
  }

  describe('object tags', () => {
    test('an untagged object has an empty tag set; tags round-trip in order, are replaced whole, and are deleted', async () => {
      await put('plain', 'obj');
      const empty = await s3.send(new GetObjectTaggingCommand({ Bucket: 'plain', Key: 'obj' }));
      assert.deepEqual(empty.TagSet ?? [], []);
      assert.equal(empty.VersionId, undefined, 'an unversioned bucket names no version');

      const set = [
        { Key: 'project', Value: 'blue' },
        { Key: 'a b', Value: ' spaced value ' },
        { Key: 'ünï/文字:=+-.@_', Value: '' },
      ];
      const out = await putTags('plain', 'obj', set);
      assert.equal(out.$metadata.httpStatusCode, 200);
      assert.equal(out.VersionId, undefined);
      assert.deepEqual(await tagSet('plain', 'obj'), set);

      await putTags('plain', 'obj', [{ Key: 'only', Value: '1' }]);
      assert.deepEqual(await tagSet('plain', 'obj'), [{ Key: 'only', Value: '1' }], 'a put replaces the whole set');

      const del = await s3.send(new DeleteObjectTaggingCommand({ Bucket: 'plain', Key: 'obj' }));
      assert.equal(del.$metadata.httpStatusCode, 204);
      assert.deepEqual(await tagSet('plain', 'obj'), []);
      // Deleting the tags of an untagged object is fine too.
      await s3.send(new DeleteObjectTaggingCommand({ Bucket: 'plain', Key: 'obj' }));

      await putTags('plain', 'obj', [{ Key: 'x', Value: 'y' }]);
      await putTags('plain', 'obj', []);
      assert.deepEqual(await tagSet('plain', 'obj'), [], 'an empty tag set removes the tags');
      assert.equal(await bodyText((await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'obj' }))).Body), 'hello');
    });

    test('tagging leaves the object itself alone: same ETag, Last-Modified and body', async () => {
      await put('plain', 'steady', 'steady body');
      const before = await s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'steady' }));
      await putTags('plain', 'steady', [{ Key: 'a', Value: '1' }]);
      const after = await s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'steady' }));
      assert.equal(after.ETag, before.ETag);
      assert.equal(after.LastModified?.getTime(), before.LastModified?.getTime());
      assert.equal(after.ContentLength, before.ContentLength);
    });

    test('each version of a versioned object has its own tags; responses name the version', async () => {
      const v1 = await put('versioned', 'doc', 'one');
      const v2 = await put('versioned', 'doc', 'two');
      assert.ok(v1 && v2 && v1 !== v2);

      const onOld = await putTags('versioned', 'doc', [{ Key: 'gen', Value: 'first' }], v1);
      assert.equal(onOld.VersionId, v1);
      const onCurrent = await putTags('versioned', 'doc', [{ Key: 'gen', Value: 'second' }]);
      assert.equal(onCurrent.VersionId, v2, 'without a version id the current version is tagged');

      const got1 = await s3.send(new GetObjectTaggingCommand({ Bucket: 'versioned', Key: 'doc', VersionId: v1 }));
      assert.equal(got1.VersionId, v1);
      assert.deepEqual(got1.TagSet, [{ Key: 'gen', Value: 'first' }]);
      const current = await s3.send(new GetObjectTaggingCommand({ Bucket: 'versioned', Key: 'doc' }));
      assert.equal(current.VersionId, v2);
      assert.deepEqual(current.TagSet, [{ Key: 'gen', Value: 'second' }]);

      const del = await s3.send(new DeleteObjectTaggingCommand({ Bucket: 'versioned', Key: 'doc', VersionId: v1 }));
      assert.equal(del.VersionId, v1);
      assert.deepEqual(await tagSet('versioned', 'doc', v1), []);
      assert.deepEqual(await tagSet('versioned', 'doc', v2), [{ Key: 'gen', Value: 'second' }], 'only that version lost its tags');

      // A newer write starts untagged; the older versions keep theirs.
      const v3 = await put('versioned', 'doc', 'three');
      assert.deepEqual(await tagSet('versioned', 'doc'), []);
      assert.deepEqual(await tagSet('versioned', 'doc', v2), [{ Key: 'gen', Value: 'second' }]);
      assert.ok(v3);
    });

    test('a delete marker cannot be tagged: 404 NoSuchKey as the current version, 405 MethodNotAllowed by id', async () => {
      const v1 = await put('versioned', 'gone', 'x');
      await putTags('versioned', 'gone', [{ Key: 'keep', Value: 'me' }]);
      const marker = (await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'gone' }))).VersionId;
      assert.ok(marker);

      await rejectsWith(putTags('versioned', 'gone', [{ Key: 'a', Value: '1' }]), 'NoSuchKey', 404);
      await rejectsWith(s3.send(new GetObjectTaggingCommand({ Bucket: 'versioned', Key: 'gone' })), 'NoSuchKey', 404);
      await rejectsWith(s3.send(new DeleteObjectTaggingCommand({ Bucket: 'versioned', Key: 'gone' })), 'NoSuchKey', 404);
      await rejectsWith(putTags('versioned', 'gone', [{ Key: 'a', Value: '1' }], marker), 'MethodNotAllowed', 405);
      await rejectsWith(
        s3.send(new GetObjectTaggingCommand({ Bucket: 'versioned', Key: 'gone', VersionId: marker })),
        'MethodNotAllowed',
        405,
      );
      await rejectsWith(
        s3.send(new DeleteObjectTaggingCommand({ Bucket: 'versioned', Key: 'gone', VersionId: marker })),
        'MethodNotAllowed',
        405,
      );
      assert.deepEqual(await tagSet('versioned', 'gone', v1), [{ Key: 'keep', Value: 'me' }], 'the hidden version keeps its tags');
    });

    test('missing keys, versions and buckets', async () => {
      await rejectsWith(putTags('plain', 'missing', [{ Key: 'a', Value: '1' }]), 'NoSuchKey', 404);
      await rejectsWith(s3.send(new GetObjectTaggingCommand({ Bucket: 'plain', Key: 'missing' })), 'NoSuchKey', 404);
      await rejectsWith(s3.send(new DeleteObjectTaggingCommand({ Bucket: 'plain', Key: 'missing' })), 'NoSuchKey', 404);
      await rejectsWith(s3.send(new GetObjectTaggingCommand({ Bucket: 'no-such-bucket', Key: 'k' })), 'NoSuchBucket', 404);
      await rejectsWith(putTags('no-such-bucket', 'k', [{ Key: 'a', Value: '1' }]), 'NoSuchBucket', 404);
      await put('versioned', 'one-version');
      const missing = 'A'.repeat(32);
      await rejectsWith(
        s3.send(new GetObjectTaggingCommand({ Bucket: 'versioned', Key: 'one-version', VersionId: missing })),
        'NoSuchVersion',
        404,
      );
      await rejectsWith(putTags('versioned', 'one-version', [{ Key: 'a', Value: '1' }], 'not-a-version'), 'InvalidArgument', 400);
    });

    test('10 tags, 128-character keys and 256-character values are allowed', async () => {
      await put('plain', 'limits');
      await putTags('plain', 'limits', tags(10));
      assert.equal((await tagSet('plain', 'limits')).length, 10);
      const long = [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }];
      await putTags('plain', 'limits', long);
      assert.deepEqual(await tagSet('plain', 'limits'), long);
      // Lengths count UTF-16 units: 64 astral letters make a 128-unit key.
      const astral = [{ Key: '𝐀'.repeat(64), Value: '𝐁'.repeat(128) }];
      await putTags('plain', 'limits', astral);
      assert.deepEqual(await tagSet('plain', 'limits'), astral);
    });

    test('tag sets S3 refuses, with its error, and the stored tags unchanged', async () => {
      await put('plain', 'strict');
      const stored = [{ Key: 'stored', Value: 'yes' }];
      await putTags('plain', 'strict', stored);
      const cases: [string, Tag[], string, string, Record<string, string>][] = [
        ['11 tags', tags(11), 'BadRequest', 'Object tags cannot be greater than 10', {}],
        ['a 129-character key', [{ Key: 'k'.repeat(129), Value: '' }], 'InvalidTag', 'The TagKey you have provided is invalid', {
          TagKey: 'k'.repeat(129),
        }],
        ['a 257-character value', [{ Key: 'k', Value: 'v'.repeat(257) }], 'InvalidTag', 'The TagValue you have provided is invalid', {
          TagKey: 'k',
          TagValue: 'v'.repeat(257),
        }],
        ['an empty key', [{ Key: '', Value: 'v' }], 'InvalidTag', 'The TagKey you have provided is invalid', {}],
        ['a key with a comma', [{ Key: 'a,b', Value: 'v' }], 'InvalidTag', 'The TagKey you have provided is invalid', { TagKey: 'a,b' }],
        ['a value with an asterisk', [{ Key: 'k', Value: 'a*b' }], 'InvalidTag', 'The TagValue you have provided is invalid', {}],
        ['an emoji key', [{ Key: '😀', Value: '' }], 'InvalidTag', 'The TagKey you have provided is invalid', {}],
        ['two tags with the same key', [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }], 'InvalidTag',
          'Cannot provide multiple Tags with the same key', { TagKey: 'a' }],
        ['the aws: prefix', [{ Key: 'aws:cost', Value: '1' }], 'InvalidTag', 'Your TagKey cannot be prefixed with aws:', {
          TagKey: 'aws:cost',
        }],
        ['the AWS: prefix', [{ Key: 'AWS:cost', Value: '1' }], 'InvalidTag', 'Your TagKey cannot be prefixed with aws:', {}],
      ];
      for (const [name, set, code, message, fields] of cases) {
        const err = await rejectsWith(putTags('plain', 'strict', set), code, 400);
        assert.equal(err.message, message, name);
        for (const [k, v] of Object.entries(fields)) assert.equal(field(err, k), v, `${name}: ${k}`);
        assert.deepEqual(await tagSet('plain', 'strict'), stored, `${name} changed nothing`);
      }
    });

    test('bodies the SDK would not send: malformed XML, no body, no integrity header, a wrong Content-MD5', async () => {
      await put('plain', 'raw');
      const stored = [{ Key: 'stored', Value: 'yes' }];
      await putTags('plain', 'raw', stored);
      const send = (body: string, headers: Record<string, string> = { 'content-md5': md5(body) }) =>
        rawRequest(endpoint, { method: 'PUT', path: '/plain/raw', query: { tagging: '' }, headers, body });

      for (const bad of [
        '<Tagging><TagSet>',
        '<Tagging></Tagging>',
        taggingXml('<Tag><Key>a</Key></Tag>'),
        taggingXml('<Tag><Value>a</Value></Tag>'),
        '<Tags><TagSet></TagSet></Tags>',
        'a=1',
      ]) {
        assertS3Error(await send(bad), 'MalformedXML', 400);
      }
      const empty = assertS3Error(await send(''), 'MissingRequestBodyError', 400);
      assert.equal(empty.message, 'Request Body is empty');
      const good = taggingXml('<Tag><Key>new</Key><Value>1</Value></Tag>');
      const noDigest = assertS3Error(await send(good, {}), 'InvalidRequest', 400);
      assert.equal(noDigest.message, 'Missing required header for this request: Content-MD5');
      assertS3Error(await send(good, { 'content-md5': md5('other') }), 'BadDigest', 400);
      assert.deepEqual(await tagSet('plain', 'raw'), stored);

      // The same document with the right Content-MD5 goes through, entities decoded.
      const res = await send(taggingXml('<Tag><Key>a&#32;b</Key><Value>x&amp;#64;</Value></Tag>').replace('x&amp;#64;', '&#64;x'));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(await tagSet('plain', 'raw'), [{ Key: 'a b', Value: '@x' }]);
    });
  });

  describe('bucket tags', () => {
    test('a bucket without tags answers 404 NoSuchTagSet; tags round-trip, are replaced whole and deleted', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'tagged' }));
      const err = await rejectsWith(s3.send(new GetBucketTaggingCommand({ Bucket: 'tagged' })), 'NoSuchTagSet', 404);
      assert.equal(err.message, 'The TagSet does not exist');
      assert.equal(field(err, 'BucketName'), 'tagged');

      const set = [{ Key: 'team', Value: 'storage' }, { Key: 'cost center', Value: '42' }];
      const out = await s3.send(new PutBucketTaggingCommand({ Bucket: 'tagged', Tagging: { TagSet: set } }));
      assert.equal(out.$metadata.httpStatusCode, 204);
      assert.deepEqual(await bucketTags('tagged'), set);

      await s3.send(new PutBucketTaggingCommand({ Bucket: 'tagged', Tagging: { TagSet: [{ Key: 'only', Value: '' }] } }));
      assert.deepEqual(await bucketTags('tagged'), [{ Key: 'only', Value: '' }]);

      const del = await s3.send(new DeleteBucketTaggingCommand({ Bucket: 'tagged' }));
      assert.equal(del.$metadata.httpStatusCode, 204);
      assert.equal(await bucketTags('tagged'), 'none');
      await s3.send(new DeleteBucketTaggingCommand({ Bucket: 'tagged' }));
      assert.equal(await bucketTags('tagged'), 'none');
    });

    test('bucket tags and object tags are separate', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'separate' }));
      await put('separate', 'obj');
      await s3.send(new PutBucketTaggingCommand({ Bucket: 'separate', Tagging: { TagSet: [{ Key: 'b', Value: '1' }] } }));
      assert.deepEqual(await tagSet('separate', 'obj'), []);
      await putTags('separate', 'obj', [{ Key: 'o', Value: '2' }]);
      assert.deepEqual(await bucketTags('separate'), [{ Key: 'b', Value: '1' }]);
    });

    test('50 tags are allowed; 51, duplicates, bad keys and aws: are refused and change nothing', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'bucket-limits' }));
      await s3.send(new PutBucketTaggingCommand({ Bucket: 'bucket-limits', Tagging: { TagSet: tags(50) } }));
      assert.deepEqual(await bucketTags('bucket-limits'), tags(50));

      const cases: [Tag[], string, string][] = [
        [tags(51), 'BadRequest', 'Bucket tag count cannot be greater than 50'],
        [[{ Key: 'a', Value: '1' }, { Key: 'a', Value: '1' }], 'InvalidTag', 'Cannot provide multiple Tags with the same key'],
        [[{ Key: 'k'.repeat(129), Value: '' }], 'InvalidTag', 'The TagKey you have provided is invalid'],
        [[{ Key: 'k', Value: 'v'.repeat(257) }], 'InvalidTag', 'The TagValue you have provided is invalid'],
        [[{ Key: 'aws:createdBy', Value: 'me' }], 'InvalidTag', 'System tags cannot be added/updated by requester'],
      ];
      for (const [TagSet, code, message] of cases) {
        const err = await rejectsWith(s3.send(new PutBucketTaggingCommand({ Bucket: 'bucket-limits', Tagging: { TagSet } })), code, 400);
        assert.equal(err.message, message);
        assert.deepEqual(await bucketTags('bucket-limits'), tags(50), `${message}: nothing changed`);
      }
    });

    test('a missing bucket is NoSuchBucket for every bucket tagging operation', async () => {
      await rejectsWith(s3.send(new GetBucketTaggingCommand({ Bucket: 'no-such-bucket' })), 'NoSuchBucket', 404);
      await rejectsWith(
        s3.send(new PutBucketTaggingCommand({ Bucket: 'no-such-bucket', Tagging: { TagSet: [{ Key: 'a', Value: '1' }] } })),
        'NoSuchBucket',
        404,
      );
      await rejectsWith(s3.send(new DeleteBucketTaggingCommand({ Bucket: 'no-such-bucket' })), 'NoSuchBucket', 404);
    });
  });

  // These go through PutObject, CreateMultipartUpload, CopyObject, GetObject and HeadObject,
  // which read `x-amz-tagging` with parseTaggingHeader and answer `x-amz-tagging-count`.
  describe('the x-amz-tagging header of uploads', () => {
    test('PutObject stores the header tags; GetObject and HeadObject count them', async () => {
      await put('plain', 'with-header', 'hi', { Tagging: 'project=blue&team=data%20eng&draft' });
      assert.deepEqual(await tagSet('plain', 'with-header'), [
        { Key: 'project', Value: 'blue' },
        { Key: 'team', Value: 'data eng' },
        { Key: 'draft', Value: '' },
      ]);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'with-header' }));
      await bodyText(got.Body);
      assert.equal(got.TagCount, 3);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'with-header' }));
      assert.equal(head.TagCount, 3);

      await put('plain', 'no-header');
      const untagged = await s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'no-header' }));
      assert.equal(untagged.TagCount, undefined, 'no x-amz-tagging-count without tags');
    });

    test('PutObject refuses a bad header and stores nothing', async () => {
      const cases: [string, string][] = [
        ['a=1&a=2', 'InvalidArgument'],
        ['=1', 'InvalidArgument'],
        ['a=%FF', 'InvalidArgument'],
        [tags(11).map((t) => `${t.Key}=${t.Value}`).join('&'), 'BadRequest'],
        ['a,b=1', 'InvalidTag'],
        ['aws:cost=1', 'InvalidTag'],
      ];
      for (const [Tagging, code] of cases) {
        const err = await rejectsWith(put('plain', 'refused-header', 'x', { Tagging }), code, 400);
        if (code === 'InvalidArgument') {
          assert.equal(field(err, 'ArgumentName'), 'x-amz-tagging');
          assert.equal(field(err, 'ArgumentValue'), Tagging);
        }
        await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'refused-header' })), undefined, 404);
      }
    });

    test('a multipart upload carries the tags of CreateMultipartUpload to the object', async () => {
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: 'plain', Key: 'mpu-tagged', Tagging: 'stage=upload' }),
      );
      const part = await s3.send(new UploadPartCommand({ Bucket: 'plain', Key: 'mpu-tagged', UploadId, PartNumber: 1, Body: 'only part' }));
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'plain',
          Key: 'mpu-tagged',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
      assert.deepEqual(await tagSet('plain', 'mpu-tagged'), [{ Key: 'stage', Value: 'upload' }]);
    });

    test('CopyObject copies the tags, or replaces them with TaggingDirective REPLACE', async () => {
      await put('plain', 'copy-source', 'src', { Tagging: 'origin=source' });
      await s3.send(new CopyObjectCommand({ Bucket: 'plain', Key: 'copied', CopySource: 'plain/copy-source' }));
      assert.deepEqual(await tagSet('plain', 'copied'), [{ Key: 'origin', Value: 'source' }]);
      await s3.send(
        new CopyObjectCommand({
          Bucket: 'plain',
          Key: 'retagged',
          CopySource: 'plain/copy-source',
          TaggingDirective: 'REPLACE',
          Tagging: 'origin=copy',
        }),
      );
      assert.deepEqual(await tagSet('plain', 'retagged'), [{ Key: 'origin', Value: 'copy' }]);
    });
  });
});
