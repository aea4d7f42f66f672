import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { assertS3Error, rawRequest } from './helpers/raw-request.ts';
import { startTestWorld, type TestWorld } from './helpers/world.ts';

describe('DeleteObjects', () => {
  let w: TestWorld;
  let s3: S3Client;

  before(async () => {
    w = await startTestWorld();
    s3 = w.client('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'versioned' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }),
    );
  });
  after(() => w.close());

  async function keys(Bucket: string): Promise<string[]> {
    const out = await s3.send(new ListObjectsV2Command({ Bucket }));
    return (out.Contents ?? []).map((c) => c.Key!);
  }

  test('deletes many keys in one request and reports each, including keys that did not exist', async () => {
    for (const Key of ['a', 'b', 'c', 'keep']) await s3.send(new PutObjectCommand({ Bucket: 'plain', Key, Body: Key }));
    const out = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'plain',
        Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }, { Key: 'c' }, { Key: 'never-was' }] },
      }),
    );
    assert.deepEqual(out.Deleted?.map((d) => d.Key).sort(), ['a', 'b', 'c', 'never-was']);
    assert.equal(out.Errors, undefined);
    assert.deepEqual(await keys('plain'), ['keep']);
  });

  test('quiet mode reports only errors', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'q', Body: 'q' }));
    const out = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'plain',
        Delete: { Quiet: true, Objects: [{ Key: 'q' }, { Key: 'x'.repeat(1025) }] },
      }),
    );
    assert.equal(out.Deleted, undefined);
    assert.equal(out.Errors?.length, 1);
    assert.equal(out.Errors?.[0].Code, 'KeyTooLongError');
    assert.ok(!(await keys('plain')).includes('q'));
  });

  test('in a versioned bucket: markers for plain keys, permanent deletes by version id', async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'k', Body: 'one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'k', Body: 'two' }));
    await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'm', Body: 'm' }));
    const out = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'versioned',
        Delete: {
          Objects: [
            { Key: 'k', VersionId: v1.VersionId },
            { Key: 'm' },
            { Key: 'k', VersionId: '00000000000000000000000000000000' },
          ],
        },
      }),
    );
    const byKey = new Map(out.Deleted?.map((d) => [`${d.Key}@${d.VersionId ?? ''}`, d]));
    assert.equal(byKey.get(`k@${v1.VersionId}`)?.DeleteMarker, undefined);
    const marker = byKey.get('m@');
    assert.equal(marker?.DeleteMarker, true);
    assert.ok(marker?.DeleteMarkerVersionId);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned' }));
    assert.deepEqual(
      versions.Versions?.filter((v) => v.Key === 'k').map((v) => v.VersionId),
      [v2.VersionId],
    );
    assert.deepEqual(
      versions.DeleteMarkers?.map((m) => m.VersionId),
      [marker?.DeleteMarkerVersionId],
    );
    // Deleting the marker by its id brings the key back.
    const undo = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'versioned',
        Delete: { Objects: [{ Key: 'm', VersionId: marker!.DeleteMarkerVersionId }] },
      }),
    );
    assert.equal(undo.Deleted?.[0].DeleteMarker, true);
    assert.equal(undo.Deleted?.[0].DeleteMarkerVersionId, marker!.DeleteMarkerVersionId);
    assert.deepEqual(await keys('versioned'), ['k', 'm']);
  });

  test('the body needs Content-MD5 or a checksum, and it must match; bad XML and too many keys are MalformedXML', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'safe', Body: 'safe' }));
    const xml = '<Delete><Object><Key>safe</Key></Object></Delete>';
    const md5 = (s: string) => createHash('md5').update(s).digest('base64');
    const send = (body: string, headers: Record<string, string>) =>
      rawRequest(w.endpoint('us-east-1'), { method: 'POST', path: '/plain', query: { delete: '' }, headers, body });
    assertS3Error(await send(xml, {}), 'InvalidRequest', 400);
    assertS3Error(await send(xml, { 'content-md5': md5('something else') }), 'BadDigest', 400);
    assertS3Error(await send('<Delete><Object>', { 'content-md5': md5('<Delete><Object>') }), 'MalformedXML', 400);
    const many = `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`;
    assertS3Error(await send(many, { 'content-md5': md5(many) }), 'MalformedXML', 400);
    assert.ok((await keys('plain')).includes('safe'), 'a rejected request deletes nothing');
    const ok = await send(xml, { 'content-md5': md5(xml) });
    assert.equal(ok.status, 200);
    assert.ok(!(await keys('plain')).includes('safe'));
  });

  test('a bucket that does not exist is NoSuchBucket', async () => {
    await assert.rejects(
      s3.send(new DeleteObjectsCommand({ Bucket: 'no-such-bucket-here', Delete: { Objects: [{ Key: 'a' }] } })),
      (err: Error) => err.name === 'NoSuchBucket',
    );
  });
});
