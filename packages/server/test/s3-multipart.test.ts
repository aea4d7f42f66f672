/**
 * Multipart uploads through the stock SDK: the whole life cycle, every rule of
 * CompleteMultipartUpload, listings of uploads and parts, part reads, checksums of parts and
 * of the object, conditional completion and races.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { crc32c } from '@aws-crypto/crc32c';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PseudoRandomBytes } from './helpers/raw-pseudorandom.ts';
import { rawRequest } from './helpers/raw-request.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { startTestWorld, type TestWorld } from './helpers/world.ts';

const MiB = 1024 * 1024;
const BUCKET = 'mpu';
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe('multipart uploads', { concurrency: true }, () => {
  let w: TestWorld;
  let s3: S3Client;
  const random = new PseudoRandomBytes('multipart');
  /** Two full-size parts and a short last one, distinct bytes each. */
  const parts = [random.slice(0, 5 * MiB), random.slice(5 * MiB, 10 * MiB), random.slice(10 * MiB, 10 * MiB + 777)];
  const whole = Buffer.concat(parts);

  before(async () => {
    w = await startTestWorld();
    s3 = w.client('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new CreateBucketCommand({ Bucket: 'mpu-versioned' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'mpu-versioned', VersioningConfiguration: { Status: 'Enabled' } }),
    );
  });
  after(() => w.close());

  async function start(Key: string, extra: Partial<ConstructorParameters<typeof CreateMultipartUploadCommand>[0]> = {}) {
    const out = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ...extra }));
    assert.ok(out.UploadId);
    return out.UploadId;
  }

  async function uploadAll(Key: string, UploadId: string, bodies: Buffer[] = parts, Bucket = BUCKET) {
    // Out of order and concurrently, as parallel uploaders send them.
    const done = await Promise.all(
      bodies.map((Body, i) => s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }))),
    );
    return done.map((r, i): CompletedPart => ({ PartNumber: i + 1, ETag: r.ETag }));
  }

  async function read(Key: string, Bucket = BUCKET): Promise<Buffer> {
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    return Buffer.from(await got.Body!.transformToByteArray());
  }

  test('create, upload parts in parallel, list them, complete: the object is the parts in order', async () => {
    const Key = 'life/cycle.bin';
    const UploadId = await start(Key, { ContentType: 'video/mp4', Metadata: { origin: 'camera' } });
    const done = await uploadAll(Key, UploadId);
    for (const [i, p] of done.entries()) assert.equal(p.ETag, `"${md5(parts[i])}"`);

    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    assert.deepEqual(
      listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]),
      parts.map((b, i) => [i + 1, b.length, `"${md5(b)}"`]),
    );
    assert.equal(listed.IsTruncated, false);
    assert.equal(listed.StorageClass, 'STANDARD');

    const out = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts: done } }),
    );
    const expectedEtag = createHash('md5')
      .update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest())))
      .digest('hex');
    assert.equal(out.ETag, `"${expectedEtag}-3"`);
    assert.equal(out.Bucket, BUCKET);
    assert.equal(out.Key, Key);
    assert.equal(out.VersionId, undefined, 'unversioned bucket');

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
    assert.equal(head.ContentLength, whole.length);
    assert.equal(head.ETag, out.ETag);
    assert.equal(head.ContentType, 'video/mp4');
    assert.deepEqual(head.Metadata, { origin: 'camera' });
    assert.ok((await read(Key)).equals(whole));

    // The upload is gone once completed.
    await rejectsWith(s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId })), 'NoSuchUpload', 404);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: Key }));
    assert.equal(uploads.Uploads, undefined);
  });

  test('ranges and part numbers read across part boundaries', async () => {
    const Key = 'reads/parts.bin';
    const UploadId = await start(Key);
    const done = await uploadAll(Key, UploadId);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts: done } }));

    const span = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, Range: `bytes=${5 * MiB - 10}-${10 * MiB + 9}` }));
    const spanBytes = Buffer.from(await span.Body!.transformToByteArray());
    assert.ok(spanBytes.equals(whole.subarray(5 * MiB - 10, 10 * MiB + 10)));

    let offset = 0;
    for (const [i, p] of parts.entries()) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, PartNumber: i + 1 }));
      assert.equal(got.$metadata.httpStatusCode, 206);
      assert.equal(got.PartsCount, 3);
      assert.equal(got.ContentLength, p.length);
      assert.equal(got.ContentRange, `bytes ${offset}-${offset + p.length - 1}/${whole.length}`);
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(p), `part ${i + 1}`);
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, PartNumber: i + 1 }));
      assert.equal(head.ContentLength, p.length);
      assert.equal(head.PartsCount, 3);
      offset += p.length;
    }
    const beyond = await rejectsWith(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, PartNumber: 4 })), 'InvalidPartNumber', 416);
    assert.equal(beyond.message, 'The requested partnumber is not satisfiable');
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, PartNumber: 4 })), undefined, 416);
    const both = await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, PartNumber: 1, Range: 'bytes=0-1' })),
      'InvalidRequest',
      400,
    );
    assert.equal(both.message, 'Cannot specify both Range header and partNumber query parameter');
    const zero = await rawRequest(w.endpoint('us-east-1'), { method: 'GET', path: `/${BUCKET}/${Key}`, query: { partNumber: '0' } });
    assert.equal(zero.status, 400);
    assert.match(zero.text, /<Code>InvalidArgument<\/Code>/);
    assert.match(zero.text, /Part number must be an integer between 1 and 10000, inclusive/);
  });

  test('part 1 of an object stored in one piece is the whole object, as a 206', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'reads/single', Body: 'fourteen bytes' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'reads/single', PartNumber: 1 }));
    assert.equal(got.$metadata.httpStatusCode, 206);
    assert.equal(got.ContentRange, 'bytes 0-13/14');
    assert.equal(await got.Body!.transformToString(), 'fourteen bytes');
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'reads/single', PartNumber: 2 })), 'InvalidPartNumber', 416);
  });

  test('a part uploaded again replaces the earlier one', async () => {
    const Key = 'replace/part';
    const UploadId = await start(Key);
    await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: 'first try' }));
    const again = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: 'second' }));
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), [[1, 6, again.ETag]]);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: again.ETag }] },
      }),
    );
    assert.equal((await read(Key)).toString(), 'second');
  });

  test('a subset of the uploaded parts, with gaps, makes the object; the rest are dropped', async () => {
    const Key = 'subset/object';
    const UploadId = await start(Key);
    const done = await uploadAll(Key, UploadId);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: { Parts: [done[0], done[2]] },
      }),
    );
    assert.ok((await read(Key)).equals(Buffer.concat([parts[0], parts[2]])));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, PartNumber: 2 }));
    assert.equal(head.ContentLength, parts[2].length, 'parts are renumbered 1..N');
  });

  test('CompleteMultipartUpload rules: order, existence, ETags, minimum size, at least one part', async () => {
    const Key = 'rules/object';
    const UploadId = await start(Key);
    const done = await uploadAll(Key, UploadId);
    const complete = (Parts: CompletedPart[]) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts } }));

    const order = await rejectsWith(complete([done[1], done[0]]), 'InvalidPartOrder', 400);
    assert.equal(order.message, 'The list of parts was not in ascending order. Parts must be ordered by part number.');
    const missing = await rejectsWith(complete([done[0], { PartNumber: 7, ETag: done[1].ETag }]), 'InvalidPart', 400);
    assert.match(missing.message, /^One or more of the specified parts could not be found\./);
    await rejectsWith(complete([done[0], { PartNumber: 2, ETag: '"0123456789abcdef0123456789abcdef"' }]), 'InvalidPart', 400);
    await rejectsWith(complete([]), 'InvalidRequest', 400);

    // A short part that is not the last one.
    const small = await start('rules/small');
    const a = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'rules/small', UploadId: small, PartNumber: 1, Body: 'tiny' }));
    const b = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'rules/small', UploadId: small, PartNumber: 2, Body: 'end' }));
    const tooSmall = await rejectsWith(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'rules/small',
          UploadId: small,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: a.ETag }, { PartNumber: 2, ETag: b.ETag }] },
        }),
      ),
      'EntityTooSmall',
      400,
    );
    assert.equal(tooSmall.message, 'Your proposed upload is smaller than the minimum allowed object size.');
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'rules/small' })), undefined, 404);

    // Nothing was consumed by the rejected attempts: the right list still completes.
    const ok = await complete(done);
    assert.match(ok.ETag ?? '', /-3"$/);
    assert.ok((await read(Key)).equals(whole));
  });

  test('bad bodies and ids: malformed XML, unknown upload ids, part numbers out of range', async () => {
    const Key = 'bad/input';
    const UploadId = await start(Key);
    const endpoint = w.endpoint('us-east-1');
    const malformed = await rawRequest(endpoint, {
      method: 'POST',
      path: `/${BUCKET}/${Key}`,
      query: { uploadId: UploadId },
      body: '<CompleteMultipartUpload><Part>',
    });
    assert.equal(malformed.status, 400);
    assert.match(malformed.text, /<Code>MalformedXML<\/Code>/);

    const unknown = 'Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZg';
    for (const call of [
      () => s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId: unknown, PartNumber: 1, Body: 'x' })),
      () => s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId: unknown })),
      () => s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId: unknown })),
      () =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key,
            UploadId: unknown,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
          }),
        ),
      // An upload id is bound to its key.
      () => s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'bad/other-key', UploadId, PartNumber: 1, Body: 'x' })),
    ]) {
      const err = await rejectsWith(call(), 'NoSuchUpload', 404);
      assert.match(err.message, /^The specified upload does not exist/);
    }
    for (const n of ['0', '10001', 'one']) {
      const res = await rawRequest(endpoint, {
        method: 'PUT',
        path: `/${BUCKET}/${Key}`,
        query: { uploadId: UploadId, partNumber: n },
        body: 'x',
      });
      assert.equal(res.status, 400, n);
      assert.match(res.text, /Part number must be an integer between 1 and 10000, inclusive/);
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    assert.equal(listed.Parts, undefined, 'no part was stored by the rejected requests');
  });

  test('abort removes the upload and its parts; later calls on it are NoSuchUpload', async () => {
    const Key = 'abort/me';
    const UploadId = await start(Key);
    const done = await uploadAll(Key, UploadId);
    const res = await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId }));
    assert.equal(res.$metadata.httpStatusCode, 204);
    await rejectsWith(s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId })), 'NoSuchUpload', 404);
    await rejectsWith(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts: done } })),
      'NoSuchUpload',
      404,
    );
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key })), undefined, 404);
  });

  test('ListMultipartUploads: key order then age, prefix, delimiter, markers and paging', async () => {
    const Bucket = 'mpu-listing';
    await s3.send(new CreateBucketCommand({ Bucket }));
    const started: { Key: string; UploadId: string }[] = [];
    for (const Key of ['b/two', 'a/one', 'b/two', 'c', 'a/one', 'b/three']) {
      const out = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      started.push({ Key, UploadId: out.UploadId! });
    }
    const order = [...started].sort((x, y) => (x.Key < y.Key ? -1 : x.Key > y.Key ? 1 : 0));
    const all = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
    assert.deepEqual(
      all.Uploads?.map((u) => [u.Key, u.UploadId]),
      order.map((u) => [u.Key, u.UploadId]),
      'sorted by key, then by initiation (stable sort keeps creation order)',
    );
    assert.ok(all.Uploads?.every((u) => u.Initiated instanceof Date && u.StorageClass === 'STANDARD'));

    const b = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'b/' }));
    assert.deepEqual(b.Uploads?.map((u) => u.Key), ['b/three', 'b/two', 'b/two']);

    const rolled = await s3.send(new ListMultipartUploadsCommand({ Bucket, Delimiter: '/' }));
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'b/']);
    assert.deepEqual(rolled.Uploads?.map((u) => u.Key), ['c']);

    // Paging two at a time walks the same list.
    const paged: string[] = [];
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const out = await s3.send(new ListMultipartUploadsCommand({ Bucket, MaxUploads: 2, KeyMarker, UploadIdMarker }));
      paged.push(...(out.Uploads ?? []).map((u) => u.UploadId!));
      if (!out.IsTruncated) break;
      assert.ok((out.Uploads ?? []).length === 2);
      KeyMarker = out.NextKeyMarker;
      UploadIdMarker = out.NextUploadIdMarker;
    }
    assert.deepEqual(paged, order.map((u) => u.UploadId));

    // A key marker alone skips every upload of that key.
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket, KeyMarker: 'b/two' }));
    assert.deepEqual(after.Uploads?.map((u) => u.Key), ['c']);
  });

  test('ListParts pages with max-parts and part-number-marker', async () => {
    const Key = 'listparts/paged';
    const UploadId = await start(Key);
    for (let n = 1; n <= 5; n++) {
      await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: n * 2, Body: `part ${n}` }));
    }
    const first = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId, MaxParts: 2 }));
    assert.deepEqual(first.Parts?.map((p) => p.PartNumber), [2, 4]);
    assert.equal(first.IsTruncated, true);
    assert.equal(first.NextPartNumberMarker, '4');
    const rest = await s3.send(
      new ListPartsCommand({ Bucket: BUCKET, Key, UploadId, PartNumberMarker: first.NextPartNumberMarker }),
    );
    assert.deepEqual(rest.Parts?.map((p) => p.PartNumber), [6, 8, 10]);
    assert.equal(rest.IsTruncated, false);
  });

  test('composite CRC32C checksums: per part, of the object, and required on completion', async () => {
    const Key = 'checksums/composite';
    const UploadId = await start(Key, { ChecksumAlgorithm: 'CRC32C' });
    const partCrcs = parts.map((p) => Buffer.from(numberBytes(crc32c(p))).toString('base64'));
    const done = await Promise.all(
      parts.map((Body, i) =>
        s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'CRC32C' })),
      ),
    );
    assert.deepEqual(done.map((d) => d.ChecksumCRC32C), partCrcs);
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    assert.equal(listed.ChecksumAlgorithm, 'CRC32C');
    assert.deepEqual(listed.Parts?.map((p) => p.ChecksumCRC32C), partCrcs);

    const withoutChecksums = done.map((d, i): CompletedPart => ({ PartNumber: i + 1, ETag: d.ETag }));
    const missing = await rejectsWith(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts: withoutChecksums } })),
      'InvalidRequest',
      400,
    );
    assert.equal(
      missing.message,
      'The upload was created using a crc32c checksum. The complete request must include the checksum for each part. It was missing for part 1 in the request.',
    );
    const wrong = done.map((d, i): CompletedPart => ({ PartNumber: i + 1, ETag: d.ETag, ChecksumCRC32C: partCrcs[(i + 1) % 3] }));
    await rejectsWith(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts: wrong } })),
      'InvalidPart',
      400,
    );

    const withChecksums = done.map((d, i): CompletedPart => ({ PartNumber: i + 1, ETag: d.ETag, ChecksumCRC32C: d.ChecksumCRC32C }));
    const out = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts: withChecksums } }),
    );
    const composite = Buffer.from(numberBytes(crc32c(Buffer.concat(partCrcs.map((c) => Buffer.from(c, 'base64'))))));
    assert.equal(out.ChecksumCRC32C, `${composite.toString('base64')}-3`);
    assert.equal(out.ChecksumType, 'COMPOSITE');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumCRC32C, out.ChecksumCRC32C);
    assert.equal(head.ChecksumType, 'COMPOSITE');
    // A part read with checksum mode carries that part's checksum, which the SDK verifies.
    const part2 = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, PartNumber: 2, ChecksumMode: 'ENABLED' }));
    assert.equal(part2.ChecksumCRC32C, partCrcs[1]);
    assert.ok(Buffer.from(await part2.Body!.transformToByteArray()).equals(parts[1]));
  });

  test('a full-object CRC64NVME checksum is the CRC of the whole object', async () => {
    const Key = 'checksums/full-object';
    const UploadId = await start(Key, { ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'FULL_OBJECT' });
    const done = await Promise.all(
      parts.map((Body, i) =>
        s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'CRC64NVME' })),
      ),
    );
    const crc = new Crc64Nvme();
    crc.update(whole);
    const expected = Buffer.from(await crc.digest()).toString('base64');
    const out = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        // Part checksums may be left out of a full-object completion.
        MultipartUpload: { Parts: done.map((d, i) => ({ PartNumber: i + 1, ETag: d.ETag })) },
        ChecksumCRC64NVME: expected,
        ChecksumType: 'FULL_OBJECT',
      }),
    );
    assert.equal(out.ChecksumCRC64NVME, expected);
    assert.equal(out.ChecksumType, 'FULL_OBJECT');
    // The SDK validates a full-object checksum against the body it downloads.
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
    assert.equal(got.ChecksumCRC64NVME, expected);
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(whole));
  });

  test('a whole-object checksum that does not match the parts is BadDigest and leaves the upload open', async () => {
    const Key = 'checksums/mismatch';
    const UploadId = await start(Key, { ChecksumAlgorithm: 'CRC32C', ChecksumType: 'FULL_OBJECT' });
    const done = await Promise.all(
      parts.map((Body, i) =>
        s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'CRC32C' })),
      ),
    ).then((r) => r.map((d, i): CompletedPart => ({ PartNumber: i + 1, ETag: d.ETag })));
    const err = await rejectsWith(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key,
          UploadId,
          MultipartUpload: { Parts: done },
          ChecksumCRC32C: 'AAAAAA==',
          ChecksumType: 'FULL_OBJECT',
        }),
      ),
      'BadDigest',
      400,
    );
    assert.equal(err.message, 'The crc32c you specified did not match the calculated checksum.');
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    assert.equal(listed.Parts?.length, 3);
  });

  test('checksum settings of CreateMultipartUpload are validated', async () => {
    const sha = await rejectsWith(
      s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'c/x', ChecksumAlgorithm: 'SHA256', ChecksumType: 'FULL_OBJECT' })),
      'InvalidRequest',
      400,
    );
    assert.equal(sha.message, 'The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm.');
    const crc64 = await rejectsWith(
      s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'c/x', ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'COMPOSITE' })),
      'InvalidRequest',
      400,
    );
    assert.equal(crc64.message, 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.');
    const typeAlone = await rejectsWith(
      s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'c/x', ChecksumType: 'COMPOSITE' })),
      'InvalidRequest',
      400,
    );
    assert.equal(typeAlone.message, 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'c/' }));
    assert.equal(listed.Uploads, undefined, 'no upload was started');
  });

  test('a part checksum of another algorithm than the upload’s is refused', async () => {
    const Key = 'checksums/other-algorithm';
    const UploadId = await start(Key, { ChecksumAlgorithm: 'CRC32C' });
    const err = await rejectsWith(
      s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: 'x', ChecksumAlgorithm: 'SHA256' })),
      'InvalidRequest',
      400,
    );
    assert.equal(err.message, 'Checksum Type mismatch occurred, expected checksum Type: crc32c, actual checksum Type: sha256');
  });

  test('concurrent completions of one upload: one wins, the other is NoSuchUpload', async () => {
    const Key = 'race/complete';
    const UploadId = await start(Key);
    const done = await uploadAll(Key, UploadId);
    const complete = () =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts: done } }));
    const results = await Promise.allSettled([complete(), complete(), complete()]);
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, 'exactly one completion succeeds');
    for (const r of results) {
      if (r.status === 'rejected') await rejectsWith(Promise.reject(r.reason), 'NoSuchUpload', 404);
    }
    assert.ok((await read(Key)).equals(whole));
  });

  test('If-None-Match: * on completion refuses a key that exists meanwhile', async () => {
    const Key = 'conditional/complete';
    const UploadId = await start(Key);
    const done = await uploadAll(Key, UploadId);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'got here first' }));
    await rejectsWith(
      s3.send(
        new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts: done }, IfNoneMatch: '*' }),
      ),
      'PreconditionFailed',
      412,
    );
    assert.equal((await read(Key)).toString(), 'got here first');

    const fresh = 'conditional/fresh';
    const other = await start(fresh);
    const parts2 = await uploadAll(fresh, other);
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: fresh, UploadId: other, MultipartUpload: { Parts: parts2 }, IfNoneMatch: '*' }),
    );
    assert.ok((await read(fresh)).equals(whole));
  });

  test('in a versioned bucket a completion is a new version, dated by the upload’s start', async () => {
    const Bucket = 'mpu-versioned';
    const Key = 'versioned/object';
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'v1' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const done = await uploadAll(Key, UploadId!, parts, Bucket);
    const out = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } }));
    assert.ok(out.VersionId && out.VersionId !== 'null');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: Key }));
    assert.equal(versions.Versions?.length, 2);
    assert.equal(versions.Versions?.[0].VersionId, out.VersionId);
    assert.equal(versions.Versions?.[0].IsLatest, true);
    assert.equal(versions.Versions?.[0].ETag, out.ETag);

    // A PUT made while an older upload was open stays current: S3 dates the upload's object by its start.
    const { UploadId: slow } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const slowParts = await uploadAll(Key, slow!, [Buffer.from('late but old')], Bucket);
    await new Promise((r) => setTimeout(r, 5));
    const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'newer put' }));
    const late = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: slow, MultipartUpload: { Parts: slowParts } }));
    assert.equal((await read(Key, Bucket)).toString(), 'newer put');
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: Key }));
    assert.deepEqual(after.Versions?.map((v) => v.VersionId), [put.VersionId, late.VersionId, out.VersionId, versions.Versions?.[1].VersionId]);
  });

  test('@aws-sdk/lib-storage Upload streams a body in parts', async () => {
    const size = 23 * MiB + 5;
    const upload = new Upload({
      client: s3,
      params: { Bucket: BUCKET, Key: 'lib-storage/stream.bin', Body: random.stream(size) },
      partSize: 5 * MiB,
      queueSize: 4,
    });
    const out = await upload.done();
    assert.match(out.ETag ?? '', /-5"$/);
    const got = await read('lib-storage/stream.bin');
    assert.equal(got.length, size);
    assert.ok(got.equals(random.slice(0, size)));
  });
});

/** A CRC as its four big-endian bytes. */
function numberBytes(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
