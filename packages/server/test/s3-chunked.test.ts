
/**
 * aws-chunked request bodies: what the stock SDK sends by default (unsigned chunks with a
 * checksum trailer), every flexible checksum algorithm it supports, and the signed streaming
 * variants written by hand, including the corruptions they exist to catch.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { crc32 } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { crc32c } from '@aws-crypto/crc32c';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
  type ChecksumAlgorithm,
} from '@aws-sdk/client-s3';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import {
  STREAMING_PAYLOAD,
  STREAMING_PAYLOAD_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  encodeUnsignedChunks,
  signedStreamingPut,
} from './helpers/raw-chunked.ts';
import { PseudoRandomBytes } from './helpers/raw-pseudorandom.ts';
import { assertS3Error, sendRaw, signRequest } from './helpers/raw-request.ts';
import { rejectsWith as rejects } from './helpers/s3-errors.ts';
import { startTestWorld, type TestWorld } from './helpers/world.ts';

const BUCKET = 'chunked';
const CHUNK = 64 * 1024;
const ALGORITHMS = ['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as const satisfies readonly ChecksumAlgorithm[];
type Algorithm = (typeof ALGORITHMS)[number];

/** The checksum S3 reports, computed here independently of the server. */
async function checksumOf(algorithm: Algorithm, data: Buffer): Promise<string> {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return b.toString('base64');
  };
  switch (algorithm) {
    case 'CRC32':
      return u32(crc32(data));
    case 'CRC32C':
      return u32(crc32c(data));
    case 'SHA1':
      return createHash('sha1').update(data).digest('base64');
    case 'SHA256':
      return createHash('sha256').update(data).digest('base64');
    case 'CRC64NVME': {
      const h = new Crc64Nvme();
      h.update(data);
      return Buffer.from(await h.digest()).toString('base64');
    }
  }
}

function checksumField(algorithm: Algorithm): `Checksum${Algorithm}` {
  return `Checksum${algorithm}`;
}

function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

interface WireRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer[];
}

/** Records each request exactly as the SDK hands it to the HTTP layer, body bytes included. */
function captureWire(client: S3Client): WireRequest[] {
  const seen: WireRequest[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { method: string; path: string; headers: Record<string, string>; body?: unknown };
      const entry: WireRequest = { method: req.method, path: req.path, headers: { ...req.headers }, body: [] };
      seen.push(entry);
      if (req.body instanceof Readable) {
        const tap = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            entry.body.push(Buffer.from(chunk));
            cb(null, chunk);
          },
        });
        req.body = req.body.pipe(tap);
      } else if (typeof req.body === 'string' || req.body instanceof Uint8Array) {
        entry.body.push(Buffer.from(req.body));
      }
      return next(args);
    },
    // The deserialize step runs after signing: this is the request as it goes on the wire.
    { step: 'deserialize', name: 'captureWire' },
  );
  return seen;
}


async function bytesOf(body: unknown): Promise<Buffer> {
  return Buffer.from(await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

describe('aws-chunked uploads', () => {
  let w: TestWorld;
  let s3: S3Client;
  let endpoint: string;
  let wire: WireRequest[];
  const random = new PseudoRandomBytes('s3-chunked');
  /** Keys that must exist, with their bytes. */
  const stored = new Map<string, Buffer>();

  async function assertAbsent(Key: string): Promise<void> {
    await rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key })), 'NotFound', 404);
  }

  async function assertStored(Key: string, data: Buffer): Promise<void> {
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    const bytes = await bytesOf(got.Body);
    assert.equal(bytes.length, data.length, `${Key}: length`);
    assert.ok(bytes.equals(data), `${Key}: bytes`);
    assert.equal(got.ETag, `"${md5Hex(data)}"`);
    assert.equal(got.ContentEncoding, undefined, 'aws-chunked is framing, not a stored Content-Encoding');
  }

  before(async () => {
    w = await startTestWorld();
    endpoint = w.endpoint('us-east-1');
    s3 = w.client('us-east-1');
    wire = captureWire(s3);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(async () => {
    // Nothing that failed left a key behind.
    const listed: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: BUCKET })) {
      listed.push(...(page.Contents ?? []).map((c) => c.Key ?? ''));
    }
    assert.deepEqual(listed.sort(), [...stored.keys()].sort());
    await w.close();
  });

  test('the SDK default PutObject of a stream sends STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer', async () => {
    const data = random.slice(0, 150_000);
    wire.length = 0;
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'sdk/default',
        Body: Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]),
        ContentLength: data.length,
      }),
    );
    const crc = await checksumOf('CRC32', data);
    const sent = wire.find((r) => r.method === 'PUT');
    assert.ok(sent, 'the PUT was captured');
    assert.equal(sent.headers['x-amz-content-sha256'], STREAMING_UNSIGNED_TRAILER);
    assert.equal(sent.headers['content-encoding'], 'aws-chunked');
    assert.equal(sent.headers['x-amz-trailer'], 'x-amz-checksum-crc32');
    assert.equal(sent.headers['x-amz-decoded-content-length'], String(data.length));
    const body = Buffer.concat(sent.body).toString('latin1');
    assert.ok(
      body.endsWith(`\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`),
      `the body ends with the trailer: ${JSON.stringify(body.slice(-80))}`,
    );
    assert.ok(body.length > data.length, 'framing was added');

    assert.equal(put.ChecksumCRC32, crc);
    assert.equal(put.ChecksumType, 'FULL_OBJECT');
    assert.equal(put.ETag, `"${md5Hex(data)}"`);
    stored.set('sdk/default', data);
    await assertStored('sdk/default', data);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/default', ChecksumMode: 'ENABLED' }));
    assert.equal(got.ChecksumCRC32, crc);
    await bytesOf(got.Body);
  });

  for (const algorithm of ALGORITHMS) {
    test(`ChecksumAlgorithm ${algorithm}: trailer (stream body) and header (buffer body) both round-trip`, async () => {
      for (const kind of ['stream', 'buffer'] as const) {
        const Key = `algorithms/${algorithm}/${kind}`;
        const data = random.slice(
          1_000_000 + ALGORITHMS.indexOf(algorithm) * 300_000,
          1_000_000 + ALGORITHMS.indexOf(algorithm) * 300_000 + 200_001,
        );
        const expected = await checksumOf(algorithm, data);
        wire.length = 0;
        const put = await s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key,
            Body: kind === 'stream' ? Readable.from([data]) : data,
            ContentLength: data.length,
            ChecksumAlgorithm: algorithm,
          }),
        );
        const sent = wire.find((r) => r.method === 'PUT');
        const headerName = `x-amz-checksum-${algorithm.toLowerCase()}`;
        if (kind === 'stream') {
          assert.equal(sent?.headers['x-amz-content-sha256'], STREAMING_UNSIGNED_TRAILER);
          assert.equal(sent?.headers['x-amz-trailer'], headerName);
        } else {
          assert.equal(sent?.headers[headerName], expected);
        }
        assert.equal(put[checksumField(algorithm)], expected, `PutObject returns the ${algorithm}`);
        assert.equal(put.ChecksumType, 'FULL_OBJECT');
        stored.set(Key, data);

        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
        assert.equal(got[checksumField(algorithm)], expected, `GetObject returns the ${algorithm}`);
        assert.equal(got.ChecksumType, 'FULL_OBJECT');
        assert.ok((await bytesOf(got.Body)).equals(data));
        const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
        assert.equal(head[checksumField(algorithm)], expected);

        // Only when asked for (the SDK asks by default, so ask raw), and only for the whole
        // object: a range has no whole-object checksum.
        const plain = await sendRaw(
          endpoint,
          await signRequest(endpoint, { method: 'GET', path: `/${BUCKET}/${Key}` }),
        );
        assert.equal(plain.status, 200);
        assert.equal(plain.headers[headerName], undefined);
        const ranged = await s3.send(
          new GetObjectCommand({ Bucket: BUCKET, Key, Range: 'bytes=100-199', ChecksumMode: 'ENABLED' }),
        );
        assert.equal(ranged[checksumField(algorithm)], undefined);
        assert.ok((await bytesOf(ranged.Body)).equals(data.subarray(100, 200)));
      }
    });
  }

  test(`${STREAMING_PAYLOAD} with 64 KiB chunks stores exactly the decoded bytes`, async () => {
    // Empty, one byte, exactly one chunk, exactly two chunks, and a short last chunk.
    for (const size of [0, 1, CHUNK, 2 * CHUNK, 200_000]) {
      const Key = `signed/plain-${size}`;
      const data = random.slice(5_000_000, 5_000_000 + size);
      const { signed, body } = await signedStreamingPut(endpoint, `/${BUCKET}/${Key}`, data, { chunkSize: CHUNK });
      const res = await sendRaw(endpoint, signed, body);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.etag, `"${md5Hex(data)}"`);
      stored.set(Key, data);
      await assertStored(Key, data);
    }
  });

  for (const algorithm of ALGORITHMS) {
    test(`${STREAMING_PAYLOAD_TRAILER} with a signed ${algorithm} trailer`, async () => {
      const Key = `signed/trailer-${algorithm}`;
      const data = random.slice(6_000_000, 6_000_000 + 3 * CHUNK + 123);
      const expected = await checksumOf(algorithm, data);
      const name = `x-amz-checksum-${algorithm.toLowerCase()}`;
      const { signed, body } = await signedStreamingPut(endpoint, `/${BUCKET}/${Key}`, data, {
        chunkSize: CHUNK,
        trailers: { [name]: expected },
      });
      const res = await sendRaw(endpoint, signed, body);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers[name], expected);
      stored.set(Key, data);
      await assertStored(Key, data);
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
      assert.equal(got[checksumField(algorithm)], expected);
      await bytesOf(got.Body);
    });
  }

  test('a chunk changed after signing is 403 SignatureDoesNotMatch and stores nothing', async () => {
    const data = random.slice(7_000_000, 7_000_000 + 3 * CHUNK + 500);
    const previous = random.slice(8_000_000, 8_000_000 + 1000);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tampered/existing', Body: previous }));
    stored.set('tampered/existing', previous);
    for (const victim of [0, 1, 3]) {
      for (const [Key, trailers] of [
        [`tampered/new-${victim}`, undefined],
        [`tampered/new-trailer-${victim}`, { 'x-amz-checksum-crc32': await checksumOf('CRC32', data) }],
        ['tampered/existing', undefined],
      ] as const) {
        const { signed, body } = await signedStreamingPut(endpoint, `/${BUCKET}/${Key}`, data, {
          chunkSize: CHUNK,
          trailers,
          tamper: (i, chunk) => {
            if (i === victim) chunk[chunk.length >> 1] ^= 0x01;
            return chunk;
          },
        });
        const res = await sendRaw(endpoint, signed, body);
        assertS3Error(res, 'SignatureDoesNotMatch', 403);
      }
      await assertAbsent(`tampered/new-${victim}`);
      await assertAbsent(`tampered/new-trailer-${victim}`);
    }
    await assertStored('tampered/existing', previous);
  });

  test('a trailer changed after signing is 403 SignatureDoesNotMatch and stores nothing', async () => {
    const data = random.slice(9_000_000, 9_000_000 + 2 * CHUNK + 7);
    const crc = await checksumOf('CRC32', data);
    const other = await checksumOf('CRC32', data.subarray(1));
    const { signed, body } = await signedStreamingPut(endpoint, `/${BUCKET}/trailer/tampered`, data, {
      chunkSize: CHUNK,
      trailers: { 'x-amz-checksum-crc32': crc },
      sendTrailers: { 'x-amz-checksum-crc32': other },
    });
    assertS3Error(await sendRaw(endpoint, signed, body), 'SignatureDoesNotMatch', 403);
    await assertAbsent('trailer/tampered');
  });

  test('a signed trailer with the wrong checksum is 400 BadDigest and stores nothing', async () => {
    const data = random.slice(10_000_000, 10_000_000 + 2 * CHUNK + 99);
    const previous = Buffer.from('the earlier version');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'trailer/existing', Body: previous }));
    stored.set('trailer/existing', previous);
    for (const algorithm of ['CRC32', 'SHA256', 'CRC64NVME'] as const) {
      const wrong = await checksumOf(algorithm, Buffer.from('not the body'));
      for (const Key of [`trailer/wrong-${algorithm}`, 'trailer/existing']) {
        const { signed, body } = await signedStreamingPut(endpoint, `/${BUCKET}/${Key}`, data, {
          chunkSize: CHUNK,
          trailers: { [`x-amz-checksum-${algorithm.toLowerCase()}`]: wrong },
        });
        const e = assertS3Error(await sendRaw(endpoint, signed, body), 'BadDigest', 400);
        assert.match(
          e.message ?? '',
          new RegExp(`The ${algorithm} you specified did not match the calculated checksum`),
        );
      }
      await assertAbsent(`trailer/wrong-${algorithm}`);
    }
    await assertStored('trailer/existing', previous);
  });

  test('an unsigned trailer with the wrong checksum is 400 BadDigest and stores nothing', async () => {
    const data = random.slice(11_000_000, 11_000_000 + CHUNK + 1);
    const wrong = await checksumOf('CRC32', Buffer.from('not the body'));
    const body = encodeUnsignedChunks(data, CHUNK, [`x-amz-checksum-crc32:${wrong}`]);
    const signed = await signRequest(
      endpoint,
      {
        method: 'PUT',
        path: `/${BUCKET}/unsigned/wrong`,
        headers: {
          'content-encoding': 'aws-chunked',
          'content-length': String(body.length),
          'x-amz-decoded-content-length': String(data.length),
          'x-amz-trailer': 'x-amz-checksum-crc32',
        },
      },
      { contentSha256: STREAMING_UNSIGNED_TRAILER },
    );
    assertS3Error(await sendRaw(endpoint, signed, body), 'BadDigest', 400);
    await assertAbsent('unsigned/wrong');
  });

  /** An unsigned-trailer PutObject announcing `announced` in x-amz-trailer and ending with `lines`. */
  async function unsignedTrailerPut(Key: string, data: Buffer, announced: string, lines: readonly string[]) {
    const body = encodeUnsignedChunks(data, CHUNK, lines);
    const signed = await signRequest(
      endpoint,
      {
        method: 'PUT',
        path: `/${BUCKET}/${Key}`,
        headers: {
          'content-encoding': 'aws-chunked',
          'content-length': String(body.length),
          'x-amz-decoded-content-length': String(data.length),
          'x-amz-trailer': announced,
        },
      },
      { contentSha256: STREAMING_UNSIGNED_TRAILER },
    );
    return sendRaw(endpoint, signed, body);
  }

  /** A signed-trailer PutObject announcing `announced` and sending (and signing) `trailers`. */
  async function signedTrailerPut(Key: string, data: Buffer, announced: string, trailers: Record<string, string>) {
    const { signed, body } = await signedStreamingPut(endpoint, `/${BUCKET}/${Key}`, data, {
      chunkSize: CHUNK,
      trailers,
      headers: { 'x-amz-trailer': announced },
    });
    assert.equal(signed.headers['x-amz-trailer'], announced);
    return sendRaw(endpoint, signed, body);
  }

  test('a declared x-amz-trailer that never arrives is 400 MalformedTrailerError and stores nothing', async () => {
    const data = random.slice(14_000_000, 14_000_000 + 100_000);
    const previous = Buffer.from('before the missing trailer');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'trailer-missing/existing', Body: previous }));
    stored.set('trailer-missing/existing', previous);
    const sha = await checksumOf('SHA256', data);
    const crc32c = await checksumOf('CRC32C', data);
    // No trailer at all, or only a checksum of another name than the announced one.
    const sent: Record<string, string>[] = [{}, { 'x-amz-checksum-sha256': sha }, { 'x-amz-checksum-crc32c': crc32c }];
    for (const Key of ['trailer-missing/new', 'trailer-missing/existing']) {
      for (const trailers of sent) {
        const lines = Object.entries(trailers).map(([k, v]) => `${k}:${v}`);
        const unsigned = await unsignedTrailerPut(Key, data, 'x-amz-checksum-crc32', lines);
        assertS3Error(unsigned, 'MalformedTrailerError', 400);
        const signed = await signedTrailerPut(Key, data, 'x-amz-checksum-crc32', trailers);
        assertS3Error(signed, 'MalformedTrailerError', 400);
      }
    }
    await assertAbsent('trailer-missing/new');
    await assertStored('trailer-missing/existing', previous);
  });

  test('a malformed trailing checksum is 400 InvalidRequest naming the trailer, and stores nothing', async () => {
    const data = random.slice(15_000_000, 15_000_000 + CHUNK + 4321);
    const previous = Buffer.from('before the malformed trailer');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'trailer-malformed/existing', Body: previous }));
    stored.set('trailer-malformed/existing', previous);
    const malformed = [
      'not-a-checksum',
      // Well-formed base64, but a SHA-256 is not 4 bytes.
      await checksumOf('SHA256', data),
      // The right bytes in hex instead of base64.
      Buffer.from(await checksumOf('CRC32', data), 'base64').toString('hex'),
    ];
    for (const Key of ['trailer-malformed/new', 'trailer-malformed/existing']) {
      for (const value of malformed) {
        const trailer = { 'x-amz-checksum-crc32': value };
        for (const res of [
          await unsignedTrailerPut(Key, data, 'x-amz-checksum-crc32', [`x-amz-checksum-crc32:${value}`]),
          await signedTrailerPut(Key, data, 'x-amz-checksum-crc32', trailer),
        ]) {
          const e = assertS3Error(res, 'InvalidRequest', 400);
          assert.equal(e.message, 'Value for x-amz-checksum-crc32 trailing header is invalid.', value);
        }
      }
    }
    await assertAbsent('trailer-malformed/new');
    await assertStored('trailer-malformed/existing', previous);
  });

  test('a signed chunk under 8 KiB that is not the last is 403 InvalidChunkSizeError', async () => {
    const data = random.slice(12_000_000, 12_000_000 + 20_000);
    const { signed, body } = await signedStreamingPut(endpoint, `/${BUCKET}/small-chunks`, data, { chunkSize: 4096 });
    assertS3Error(await sendRaw(endpoint, signed, body), 'InvalidChunkSizeError', 403);
    await assertAbsent('small-chunks');
  });

  test('chunks that add up to more or less than x-amz-decoded-content-length are 400 IncompleteBody', async () => {
    const data = random.slice(13_000_000, 13_000_000 + 2 * CHUNK + 10);
    for (const announced of [data.length - 1, data.length + 1]) {
      const { signed, body } = await signedStreamingPut(endpoint, `/${BUCKET}/wrong-length`, data, {
        chunkSize: CHUNK,
        headers: { 'x-amz-decoded-content-length': String(announced) },
      });
      assertS3Error(await sendRaw(endpoint, signed, body), 'IncompleteBody', 400);
    }
    await assertAbsent('wrong-length');
  });
});
