/**
 * A large object through the stock SDK, streamed both ways: the body is generated while it
 * is sent and checked while it is received, so neither side of the test holds it, and the
 * server is watched for doing the same.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { PseudoRandomBytes } from './helpers/raw-pseudorandom.ts';
import { startTestWorld, type TestWorld } from './helpers/world.ts';

const BUCKET = 'large';
const KEY = 'big/object.bin';
/** Over 100 MiB and deliberately not a multiple of any chunk or block size. */
const SIZE = 100 * 1024 * 1024 + 12_345;
const MiB = 1024 * 1024;

/** Passes bytes through, hashing them on the way. */
function hashing(algorithm: string): { tap: Transform; digest: () => string } {
  const hash = createHash(algorithm);
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  return { tap, digest: () => hash.digest('hex') };
}

/**
 * Samples external (Buffer) memory while `work` runs. The world runs in this process, so a
 * server that buffered the object whole would show up here as >= SIZE bytes at once.
 */
async function peakBufferMemory<T>(work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = process.memoryUsage().arrayBuffers;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  }, 20);
  try {
    const result = await work();
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

describe(`a ${(SIZE / MiB).toFixed(1)} MiB object through the SDK`, () => {
  let w: TestWorld;
  let s3: S3Client;
  const bytes = new PseudoRandomBytes('s3-large');
  let sentSha256: string;
  let sentMd5: string;

  before(async () => {
    w = await startTestWorld();
    s3 = w.client('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(() => w.close());

  test('PutObject streams a generated body that is never held whole', async () => {
    const sha = hashing('sha256');
    const md5 = hashing('md5');
    const body = bytes.stream(SIZE).pipe(sha.tap).pipe(md5.tap);
    const baseline = process.memoryUsage().arrayBuffers;
    const { result: put, peak } = await peakBufferMemory(() =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: body, ContentLength: SIZE })),
    );
    sentSha256 = sha.digest();
    sentMd5 = md5.digest();
    assert.equal(put.ETag, `"${sentMd5}"`, 'the server hashed exactly the bytes that were sent');
    assert.ok(put.ChecksumCRC32, 'the SDK default CRC32 trailer was verified and kept');
    // Client and server share this process, and V8 frees dead buffers only when their external
    // memory has grown by tens of MiB, so garbage alone reaches ~75 MiB here. Holding the body
    // whole would add the full SIZE of live buffers on top of that.
    assert.ok(
      peak - baseline < SIZE,
      `buffer memory grew by ${((peak - baseline) / MiB).toFixed(1)} MiB during the upload`,
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEY }));
    assert.equal(head.ContentLength, SIZE);
  });

  test('GetObject streams back the same bytes, compared byte for byte and by SHA-256', async () => {
    assert.ok(sentSha256, 'the upload ran first');
    const baseline = process.memoryUsage().arrayBuffers;
    const { result, peak } = await peakBufferMemory(async () => {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
      assert.equal(got.ContentLength, SIZE);
      const hash = createHash('sha256');
      const verifier = bytes.verifier();
      let firstDifference = -1;
      for await (const chunk of got.Body as Readable) {
        hash.update(chunk as Buffer);
        const at = verifier.update(chunk as Buffer);
        if (firstDifference === -1 && at !== -1) firstDifference = at;
      }
      return { sha256: hash.digest('hex'), received: verifier.offset, firstDifference };
    });
    assert.equal(result.received, SIZE);
    assert.equal(result.firstDifference, -1, `first differing byte at offset ${result.firstDifference}`);
    assert.equal(result.sha256, sentSha256);
    // Client and server share this process, and V8 frees dead buffers only when their external
    // memory has grown by tens of MiB, so garbage alone reaches ~75 MiB here. Holding the body
    // whole would add the full SIZE of live buffers on top of that.
    assert.ok(
      peak - baseline < SIZE,
      `buffer memory grew by ${((peak - baseline) / MiB).toFixed(1)} MiB during the download`,
    );
  });

  test('a ranged read from the middle returns exactly those bytes', async () => {
    const start = 50 * MiB + 777;
    const end = start + MiB + 3; // inclusive
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: `bytes=${start}-${end}` }));
    assert.equal(got.$metadata.httpStatusCode, 206);
    assert.equal(got.ContentRange, `bytes ${start}-${end}/${SIZE}`);
    assert.equal(got.ContentLength, end - start + 1);
    const received = Buffer.from(await got.Body!.transformToByteArray());
    assert.ok(received.equals(bytes.slice(start, end + 1)), 'the range holds the generator bytes at that offset');

    const tail = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: 'bytes=-1000' }));
    const tailBytes = Buffer.from(await tail.Body!.transformToByteArray());
    assert.ok(tailBytes.equals(bytes.slice(SIZE - 1000, SIZE)), 'the last 1000 bytes');
  });
});
