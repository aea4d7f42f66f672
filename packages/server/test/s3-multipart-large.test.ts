/**
 * Multipart uploads at scale and across restarts: an object over 1 GiB streamed up in parts
 * and verified end to end by checksums, and an upload that outlives its server.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { after, describe, test } from 'node:test';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { PseudoRandomBytes } from './helpers/raw-pseudorandom.ts';
import { startTestWorld } from './helpers/world.ts';

const MiB = 1024 * 1024;

/** Hashes what passes through: SHA-256 and CRC64NVME. */
function digesting(): { tap: Transform; sha256: () => string; crc64: () => Promise<string> } {
  const sha = createHash('sha256');
  const crc = new Crc64Nvme();
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sha.update(chunk);
      crc.update(chunk);
      cb(null, chunk);
    },
  });
  return {
    tap,
    sha256: () => sha.digest('hex'),
    crc64: async () => Buffer.from(await crc.digest()).toString('base64'),
  };
}

describe('multipart uploads at scale', { concurrency: true }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups) await c();
  });

  test('an object over 1 GiB, uploaded in streamed parts, reads back identical', { timeout: 300_000 }, async () => {
    const w = await startTestWorld();
    cleanups.push(() => w.close());
    const s3 = w.client('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: 'huge' }));
    const PART = 96 * MiB;
    const COUNT = 11; // 1056 MiB, plus a short tail part below
    const TAIL = 4321;
    const size = PART * COUNT + TAIL;
    const random = new PseudoRandomBytes('over-a-gibibyte');
    const Key = 'huge/object.bin';
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'huge', Key, ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'FULL_OBJECT' }),
    );

    // Whole-object digests of what is sent, in order, computed from the generator itself.
    const sent = digesting();
    await new Promise<void>((resolve, reject) => {
      random.stream(size, 1024 * 1024).pipe(sent.tap).on('data', () => undefined).on('end', resolve).on('error', reject);
    });
    const sentSha = sent.sha256();
    const sentCrc = await sent.crc64();

    const completed: CompletedPart[] = [];
    const numbers = Array.from({ length: COUNT + 1 }, (_, i) => i + 1);
    const worker = async () => {
      for (let n = numbers.shift(); n !== undefined; n = numbers.shift()) {
        const start = (n - 1) * PART;
        const length = n <= COUNT ? PART : TAIL;
        const out = await s3.send(
          new UploadPartCommand({
            Bucket: 'huge',
            Key,
            UploadId,
            PartNumber: n,
            Body: streamRange(random, start, length),
            ContentLength: length,
            ChecksumAlgorithm: 'CRC64NVME',
          }),
        );
        completed.push({ PartNumber: n, ETag: out.ETag, ChecksumCRC64NVME: out.ChecksumCRC64NVME });
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    completed.sort((a, b) => a.PartNumber! - b.PartNumber!);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'huge',
        Key,
        UploadId,
        MultipartUpload: { Parts: completed },
        ChecksumCRC64NVME: sentCrc,
        ChecksumType: 'FULL_OBJECT',
      }),
    );
    assert.equal(done.ChecksumCRC64NVME, sentCrc, 'the server combined the part CRCs into the CRC of what was sent');
    assert.match(done.ETag ?? '', /-12"$/);

    const got = await s3.send(new GetObjectCommand({ Bucket: 'huge', Key }));
    assert.equal(got.ContentLength, size);
    const received = digesting();
    await new Promise<void>((resolve, reject) => {
      (got.Body as NodeJS.ReadableStream)
        .pipe(received.tap)
        .on('data', () => undefined)
        .on('end', resolve)
        .on('error', reject);
    });
    assert.equal(received.sha256(), sentSha, 'the bytes read back are the bytes sent');
    assert.equal(await received.crc64(), sentCrc);
  });

  test('an upload outlives a restart of its region and completes afterwards', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'meridian-mpu-restart-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const random = new PseudoRandomBytes('restart');
    const first = random.slice(0, 5 * MiB);
    const second = random.slice(5 * MiB, 5 * MiB + 1000);
    const Key = 'restart/object.bin';

    const before = await startTestWorld({ dataDir });
    let s3 = before.client('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: 'durable' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'durable', Key }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'durable', Key, UploadId, PartNumber: 1, Body: first }));
    await before.close();

    const again = await startTestWorld({ dataDir });
    cleanups.push(() => again.close());
    s3 = again.client('us-east-1');
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'durable' }));
    assert.deepEqual(uploads.Uploads?.map((u) => [u.Key, u.UploadId]), [[Key, UploadId]]);
    const listed = await s3.send(new ListPartsCommand({ Bucket: 'durable', Key, UploadId }));
    assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]), [[1, p1.ETag, first.length]]);
    const p2 = await s3.send(new UploadPartCommand({ Bucket: 'durable', Key, UploadId, PartNumber: 2, Body: second }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'durable',
        Key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: 'durable', Key }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([first, second])));
  });
});

/** `length` generated bytes starting at `start`, as a stream. */
function streamRange(random: PseudoRandomBytes, start: number, length: number): Readable {
  const CHUNK = 1024 * 1024;
  let offset = start;
  const end = start + length;
  return new Readable({
    read() {
      if (offset >= end) {
        this.push(null);
        return;
      }
      const next = Math.min(end, offset + CHUNK);
      this.push(random.slice(offset, next));
      offset = next;
    },
  });
}
