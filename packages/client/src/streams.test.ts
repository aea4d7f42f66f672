/**
 * The object streams end to end, against a Meridian world of three regions, through the stock
 * S3Client: a cross-region copy with pipeline(), ranged reads, resumption after a dropped
 * connection (through a TCP relay that cuts the response), and multipart cleanup on failure.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CREDENTIALS, startTestWorld, type TestWorld } from '../../server/test/helpers/world.ts';
import { MultiRegionS3Client } from './index.ts';
import { createReadStream, createWriteStream, ObjectChangedError, parseS3Url } from './streams.ts';

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Reads a Readable to the end. */
async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What a client sent, by command name, with the headers of each request. */
function recordRequests(client: S3Client) {
  const sent: Array<{ command: string; headers: Record<string, string> }> = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const headers = (args.request as { headers: Record<string, string> }).headers;
      sent.push({ command: context.commandName ?? '?', headers: { ...headers } });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordRequests', priority: 'low' },
  );
  return {
    sent,
    count: (command: string) => sent.filter((s) => s.command === command).length,
  };
}

/**
 * A TCP relay to `target` that cuts the first `cuts` connections once `cutAfter` bytes of
 * response have gone through (after running `beforeCut`, if given).
 */
async function cuttingRelay(target: string, opts: { cutAfter: number; cuts: number; beforeCut?: () => Promise<void> }) {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    const cut = connections++ < opts.cuts;
    const upstream = connect(Number(targetPort), hostname);
    sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    let relayed = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (!cut || relayed + chunk.length < opts.cutAfter) {
        relayed += chunk.length;
        client.write(chunk);
        return;
      }
      client.write(chunk.subarray(0, opts.cutAfter - relayed));
      relayed = opts.cutAfter;
      upstream.pause();
      upstream.removeAllListeners('data');
      void (opts.beforeCut ?? (async () => undefined))().finally(() => client.resetAndDestroy());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('object streams', { concurrency: true }, () => {
  let w: TestWorld;
  let eu: S3Client;
  let ap: S3Client;
  const big = randomBytes(20 * MiB);
  const small = randomBytes(300 * 1024);

  before(async () => {
    w = await startTestWorld();
    eu = w.client('eu-west-1');
    ap = w.client('ap-southeast-1');
    await eu.send(
      new CreateBucketCommand({ Bucket: 'src-eu', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }),
    );
    await ap.send(
      new CreateBucketCommand({
        Bucket: 'dst-ap',
        CreateBucketConfiguration: { LocationConstraint: 'ap-southeast-1' },
      }),
    );
    await eu.send(new PutObjectCommand({ Bucket: 'src-eu', Key: 'big.bin', Body: big }));
    await eu.send(new PutObjectCommand({ Bucket: 'src-eu', Key: 'small.bin', Body: small }));
    await eu.send(new PutObjectCommand({ Bucket: 'src-eu', Key: 'empty', Body: new Uint8Array(0) }));
  });
  after(() => w?.close());

  /** Asserts no multipart upload of `Key` is left (tests run concurrently, so by key). */
  async function noUploadsLeft(client: S3Client, Bucket: string, Key: string): Promise<void> {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: Key }));
    assert.deepEqual(uploads.Uploads ?? [], [], `no multipart upload of ${Key} is left behind`);
  }

  test('parseS3Url splits bucket and key, keeping the key verbatim', () => {
    assert.deepEqual(parseS3Url('s3://b/a/b%20c//d'), { bucket: 'b', key: 'a/b%20c//d' });
    assert.throws(() => parseS3Url('s3://bucket-only'), TypeError);
    assert.throws(() => parseS3Url('https://b/k'), TypeError);
  });

  test('pipeline() copies a 20 MiB object across regions, in 8 MiB parts, byte for byte', async () => {
    const dst = w.client('ap-southeast-1');
    const seen = recordRequests(dst);
    await pipeline(createReadStream(eu, 's3://src-eu/big.bin'), createWriteStream(dst, 's3://dst-ap/copied.bin'));
    assert.equal(seen.count('UploadPartCommand'), 3, '8 + 8 + 4 MiB');
    assert.equal(seen.count('CompleteMultipartUploadCommand'), 1);
    const got = await ap.send(new GetObjectCommand({ Bucket: 'dst-ap', Key: 'copied.bin' }));
    assert.equal(got.ContentLength, big.length);
    assert.equal(sha256(await got.Body!.transformToByteArray()), sha256(big));
    await noUploadsLeft(ap, 'dst-ap', 'copied.bin');
  });

  test('one MultiRegionS3Client copies across regions with pipeline(), finding both buckets itself', async () => {
    const s3 = new MultiRegionS3Client({
      region: 'us-east-1',
      endpoints: Object.fromEntries(['us-east-1', 'eu-west-1', 'ap-southeast-1'].map((r) => [r, w.endpoint(r)])),
      forcePathStyle: true,
      credentials: CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      await pipeline(createReadStream(s3, 's3://src-eu/big.bin'), createWriteStream(s3, 's3://dst-ap/one-client.bin'));
      const got = await ap.send(new GetObjectCommand({ Bucket: 'dst-ap', Key: 'one-client.bin' }));
      assert.equal(sha256(await got.Body!.transformToByteArray()), sha256(big));
      assert.equal(await s3.regionCache.get('src-eu'), 'eu-west-1');
      assert.equal(await s3.regionCache.get('dst-ap'), 'ap-southeast-1');
    } finally {
      s3.destroy();
    }
  });

  test('ranged reads deliver exactly the bytes asked for, end inclusive', async () => {
    const cases: Array<[{ start?: number; end?: number }, Buffer]> = [
      [{ start: 1000, end: 1999 }, big.subarray(1000, 2000)],
      [{ start: 7, end: 7 }, big.subarray(7, 8)],
      [{ start: 19 * MiB }, big.subarray(19 * MiB)],
      [{ end: 99 }, big.subarray(0, 100)],
      [{ start: 20 * MiB - 10, end: 30 * MiB }, big.subarray(20 * MiB - 10)],
    ];
    for (const [range, want] of cases) {
      const got = await drain(createReadStream(eu, 's3://src-eu/big.bin', range));
      assert.equal(got.length, want.length, JSON.stringify(range));
      assert.ok(got.equals(want), JSON.stringify(range));
    }
    assert.equal(
      (await drain(createReadStream(eu, 's3://src-eu/empty'))).length,
      0,
      'an empty object is an empty stream',
    );
    assert.throws(() => createReadStream(eu, 's3://src-eu/big.bin', { start: 10, end: 5 }), RangeError);
  });

  test('a read stream whose object is missing errors with NoSuchKey', async () => {
    await assert.rejects(drain(createReadStream(eu, 's3://src-eu/missing')), { name: 'NoSuchKey' });
  });

  test('a read cut mid-body resumes from the next byte, with If-Match on the ETag', async () => {
    const relay = await cuttingRelay(w.endpoint('eu-west-1'), { cutAfter: 3 * MiB, cuts: 1 });
    const client = w.client('eu-west-1', { endpoint: relay.endpoint });
    const seen = recordRequests(client);
    try {
      const got = await drain(createReadStream(client, 's3://src-eu/big.bin'));
      assert.equal(got.length, big.length);
      assert.equal(sha256(got), sha256(big));
      const gets = seen.sent.filter((s) => s.command === 'GetObjectCommand');
      assert.equal(gets.length, 2, 'one GET, then one resumed GET');
      assert.equal(gets[0].headers.range, undefined);
      const resumedFrom = Number(/^bytes=(\d+)-(\d+)$/.exec(gets[1].headers.range)?.[1]);
      assert.ok(resumedFrom > 0 && resumedFrom < 3 * MiB, `resumed at byte ${resumedFrom}`);
      assert.equal(gets[1].headers.range, `bytes=${resumedFrom}-${big.length - 1}`);
      const { ETag } = await eu.send(new HeadObjectCommand({ Bucket: 'src-eu', Key: 'big.bin' }));
      assert.equal(gets[1].headers['if-match'], ETag);
    } finally {
      relay.close();
    }
  });

  test('a ranged read cut mid-body resumes within its range', async () => {
    const relay = await cuttingRelay(w.endpoint('eu-west-1'), { cutAfter: 2 * MiB, cuts: 1 });
    const client = w.client('eu-west-1', { endpoint: relay.endpoint });
    try {
      const got = await drain(createReadStream(client, 's3://src-eu/big.bin', { start: MiB + 3, end: 6 * MiB }));
      assert.ok(got.equals(big.subarray(MiB + 3, 6 * MiB + 1)));
      assert.equal(relay.connections(), 2);
    } finally {
      relay.close();
    }
  });

  test('a read is not resumed onto a changed object: it fails with ObjectChangedError', async () => {
    const Key = 'changing.bin';
    await eu.send(new PutObjectCommand({ Bucket: 'src-eu', Key, Body: big.subarray(0, 4 * MiB) }));
    const relay = await cuttingRelay(w.endpoint('eu-west-1'), {
      cutAfter: MiB,
      cuts: 1,
      beforeCut: async () => {
        await eu.send(new PutObjectCommand({ Bucket: 'src-eu', Key, Body: randomBytes(4 * MiB) }));
      },
    });
    const client = w.client('eu-west-1', { endpoint: relay.endpoint });
    try {
      await assert.rejects(drain(createReadStream(client, `s3://src-eu/${Key}`)), (err: unknown) => {
        assert.ok(err instanceof ObjectChangedError, String(err));
        return true;
      });
    } finally {
      relay.close();
    }
  });

  test('resumption is bounded: a connection that always breaks fails the stream after maxResumes', async () => {
    const relay = await cuttingRelay(w.endpoint('eu-west-1'), { cutAfter: 256 * 1024, cuts: 100 });
    const client = w.client('eu-west-1', { endpoint: relay.endpoint });
    try {
      await assert.rejects(
        drain(createReadStream(client, 's3://src-eu/big.bin', { maxResumes: 2 })),
        (err: unknown) => {
          assert.equal((err as { code?: string }).code, 'ECONNRESET', String(err));
          return true;
        },
      );
      assert.equal(relay.connections(), 3, 'the first GET and two resumptions');
    } finally {
      relay.close();
    }
  });

  test('a read stream holds a bounded amount in memory when its consumer is slow', async () => {
    const stream = createReadStream(eu, 's3://src-eu/big.bin', { highWaterMark: 256 * 1024 });
    stream.pause();
    stream.read(0);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(stream.readableLength < 2 * MiB, `${stream.readableLength} bytes buffered`);
    stream.destroy();
  });

  test('an object smaller than a part is written with a single PutObject', async () => {
    const client = w.client('eu-west-1');
    const seen = recordRequests(client);
    await pipeline(
      Readable.from([small.subarray(0, 1000), small.subarray(1000)]),
      createWriteStream(client, 's3://src-eu/put.bin', { contentType: 'application/x-test' }),
    );
    assert.deepEqual(
      seen.sent.map((s) => s.command),
      ['PutObjectCommand'],
    );
    const got = await eu.send(new GetObjectCommand({ Bucket: 'src-eu', Key: 'put.bin' }));
    assert.equal(got.ContentType, 'application/x-test');
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(small));
  });

  test('parts in flight never exceed queueSize', async () => {
    const client = w.client('eu-west-1');
    let inFlight = 0;
    let most = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'UploadPartCommand') return next(args);
        most = Math.max(most, ++inFlight);
        try {
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: 'initialize', name: 'countInFlight' },
    );
    const body = big.subarray(0, 16 * MiB);
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < body.length; i += 64 * 1024) yield body.subarray(i, i + 64 * 1024);
        })(),
      ),
      createWriteStream(client, 's3://src-eu/queued.bin', { partSize: 5 * MiB, queueSize: 2 }),
    );
    assert.equal(most, 2, 'two parts went up at once, never more');
    const got = await eu.send(new GetObjectCommand({ Bucket: 'src-eu', Key: 'queued.bin' }));
    assert.equal(sha256(await got.Body!.transformToByteArray()), sha256(body));
  });

  test('when the source fails mid-upload, the multipart upload is aborted and no object appears', async () => {
    const client = w.client('eu-west-1');
    const seen = recordRequests(client);
    const failing = Readable.from(
      (async function* () {
        for (let i = 0; i < 12; i++) yield big.subarray(i * MiB, (i + 1) * MiB);
        throw new Error('source broke');
      })(),
    );
    const sink = createWriteStream(client, 's3://src-eu/broken.bin', { partSize: 5 * MiB });
    await assert.rejects(pipeline(failing, sink), /source broke/);
    // pipeline() settles on the source's error; the sink has aborted the upload by its 'close'.
    if (!sink.closed) await new Promise((resolve) => sink.once('close', resolve));
    assert.ok(seen.count('UploadPartCommand') >= 1, 'parts had gone up before the failure');
    assert.equal(seen.count('AbortMultipartUploadCommand'), 1);
    await noUploadsLeft(eu, 'src-eu', 'broken.bin');
    await assert.rejects(eu.send(new HeadObjectCommand({ Bucket: 'src-eu', Key: 'broken.bin' })), { name: 'NotFound' });
  });

  test('when a part upload fails, the stream errors and the upload is aborted', async () => {
    const client = w.client('ap-southeast-1');
    let parts = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand' && ++parts === 2) throw new Error('part 2 lost');
        return next(args);
      },
      { step: 'initialize', name: 'failSecondPart' },
    );
    await assert.rejects(
      pipeline(Readable.from([big]), createWriteStream(client, 's3://dst-ap/part-failed.bin', { partSize: 5 * MiB })),
      /part 2 lost/,
    );
    await noUploadsLeft(ap, 'dst-ap', 'part-failed.bin');
    await assert.rejects(ap.send(new HeadObjectCommand({ Bucket: 'dst-ap', Key: 'part-failed.bin' })), {
      name: 'NotFound',
    });
  });

  test('destroying a write stream mid-upload aborts the upload', async () => {
    const client = w.client('ap-southeast-1');
    const seen = recordRequests(client);
    const stream = createWriteStream(client, 's3://dst-ap/cancelled.bin', { partSize: 5 * MiB });
    await new Promise<void>((resolve, reject) =>
      stream.write(big.subarray(0, 11 * MiB), (err) => (err ? reject(err) : resolve())),
    );
    stream.destroy();
    await once(stream, 'close');
    assert.equal(seen.count('AbortMultipartUploadCommand'), 1);
    await noUploadsLeft(ap, 'dst-ap', 'cancelled.bin');
  });

  test('a write stream to a missing bucket fails with NoSuchBucket', async () => {
    const sink: Writable = createWriteStream(eu, 's3://no-such-bucket/k', { partSize: 5 * MiB });
    await assert.rejects(pipeline(Readable.from([big.subarray(0, 6 * MiB)]), sink), { name: 'NoSuchBucket' });
  });
});
