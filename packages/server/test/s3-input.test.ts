/**
 * Bad input, as clients really send it: each gets the exact S3 error (code and status, with a
 * request id in the header and the body), never a 500 or a hang, and never changes what is
 * stored. After every case the bucket is listed and read back in full.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { HANDLERS } from '../src/s3/server.ts';
import { ROUTES, type Route } from '../src/s3/router.ts';
import { STREAMING_UNSIGNED_TRAILER, encodeUnsignedChunks } from './helpers/raw-chunked.ts';
import {
  assertS3Error,
  exchangeRaw,
  parseRawResponse,
  rawRequest,
  requestHead,
  sendPaced,
  sendRaw,
  sendTruncated,
  sha256Hex,
  signRequest,
} from './helpers/raw-request.ts';
import { CREDENTIALS, startTestWorld, type TestWorld } from './helpers/world.ts';

const BUCKET = 'input-checks';

/** `head`: HEAD answers have no body, so only the header can carry the request id. */
async function rejects(
  p: Promise<unknown>,
  code: string,
  status: number,
  opts: { head?: boolean } = {},
): Promise<S3ServiceException> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof S3ServiceException, `expected an S3 error, got ${String(err)}`);
    assert.equal(err.name, code, `${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, status);
    assert.ok(err.$metadata.requestId, 'every error carries x-amz-request-id');
    if (!opts.head)
      assert.equal(field(err, 'RequestId'), err.$metadata.requestId, 'the body names the same request id');
    return err;
  }
  assert.fail(`expected ${code}`);
}

function field(err: S3ServiceException, name: string): string | undefined {
  return (err as unknown as Record<string, string | undefined>)[name];
}

function md5Base64(data: string | Buffer): string {
  return createHash('md5').update(data).digest('base64');
}

function crc32Base64(data: string | Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
}

/** A body above the engine's inline limit, so it goes through the blob (file) path. */
function largeBody(seed: string): Buffer {
  const out = Buffer.alloc(300 * 1024);
  for (let i = 0; i < out.length; i += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, i);
  return out;
}

interface LogEntry {
  msg: string;
  err?: { code?: string; message?: string };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('bad input gets the exact S3 error and changes nothing', () => {
  let w: TestWorld;
  let s3: S3Client;
  let endpoint: string;
  /** What the bucket must hold: every key and its bytes. */
  const stored = new Map<string, Buffer>();
  /** Server log entries at warn and above: an 'internal error' there is a 500 in disguise. */
  const logged: LogEntry[] = [];

  async function put(Key: string, body: Buffer | string): Promise<void> {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: body }));
    stored.set(Key, Buffer.from(body));
  }

  /** The bucket lists exactly the expected keys and every one reads back byte for byte. */
  async function assertUnchanged(): Promise<void> {
    const internal = logged.splice(0).filter((l) => l.msg === 'internal error');
    assert.deepEqual(internal, [], 'no request was answered with InternalError');
    const listed: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: BUCKET })) {
      listed.push(...(page.Contents ?? []).map((c) => c.Key ?? ''));
    }
    assert.deepEqual(listed.sort(), [...stored.keys()].sort(), 'no key appeared or vanished');
    for (const [Key, body] of stored) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      assert.ok(
        bytes.equals(body),
        `${Key.slice(0, 40)} still holds its earlier ${body.length} bytes (got ${bytes.length})`,
      );
    }
  }

  before(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line) as LogEntry) });
    w = await startTestWorld({ logger });
    endpoint = w.endpoint('us-east-1');
    s3 = w.client('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await put('keep/small', 'the small original');
    await put('keep/large', largeBody('original'));
  });
  after(() => w.close());

  test('CreateBucket with a body that is not XML is MalformedXML and creates no bucket', async () => {
    const bodies = [
      'this is not xml',
      '<CreateBucketConfiguration><LocationConstraint>us-east-1</CreateBucketConfiguration>',
      '<NotTheRightRoot><LocationConstraint>eu-west-1</LocationConstraint></NotTheRightRoot>',
      '\u0000\u0001\u0002 binary junk \u00ff',
    ];
    for (const body of bodies) {
      const res = await rawRequest(endpoint, { method: 'PUT', path: '/malformed-xml-bucket', body });
      assertS3Error(res, 'MalformedXML', 400);
    }
    await rejects(s3.send(new HeadBucketCommand({ Bucket: 'malformed-xml-bucket' })), 'NotFound', 404, { head: true });
    const list = await s3.send(new ListBucketsCommand({}));
    assert.deepEqual(
      list.Buckets?.map((b) => b.Name),
      [BUCKET],
    );
    await assertUnchanged();
  });

  test('a key of 1025 bytes is KeyTooLongError; 1024 bytes is stored', async () => {
    for (const Key of ['k'.repeat(1025), 'é'.repeat(512) + 'x']) {
      assert.equal(Buffer.byteLength(Key), 1025);
      const err = await rejects(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'too long' })),
        'KeyTooLongError',
        400,
      );
      assert.equal(field(err, 'MaxSizeAllowed'), '1024');
    }
    await assertUnchanged();
    for (const Key of ['k'.repeat(1024), 'é'.repeat(512)]) {
      assert.equal(Buffer.byteLength(Key), 1024);
      await put(Key, `longest key ${Key[0]}`);
    }
    await assertUnchanged();
  });

  test('more than 2 KB of user metadata is MetadataTooLarge; a little less is stored', async () => {
    const tooLarge: Record<string, string>[] = [
      { big: 'x'.repeat(2100) },
      { first: 'a'.repeat(1100), second: 'b'.repeat(1100) },
    ];
    for (const Metadata of tooLarge) {
      await rejects(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/small', Body: 'replacement', Metadata })),
        'MetadataTooLarge',
        400,
      );
    }
    await assertUnchanged();
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'meta/fits', Body: 'm', Metadata: { fits: 'y'.repeat(1900) } }),
    );
    stored.set('meta/fits', Buffer.from('m'));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'meta/fits' }));
    assert.equal(got.Metadata?.fits, 'y'.repeat(1900));
    await got.Body!.transformToString();
    await assertUnchanged();
  });

  test('every operation the router lists but no handler serves is 501 NotImplemented naming it', async () => {
    const unserved = ROUTES.filter((r) => !HANDLERS[r.op]);
    assert.ok(unserved.length > 0, 'the router lists operations without handlers');
    for (const route of unserved) {
      const res = await rawRequest(endpoint, requestFor(route));
      const e = assertS3Error(res, 'NotImplemented', 501);
      assert.equal(e.fields.Operation, route.op, `${route.method} ${route.target} ${route.sub ?? ''}: ${res.text}`);
      assert.match(e.message ?? '', new RegExp(route.op));
    }
    // None of them read, wrote or deleted anything: the bucket and its objects are all there.
    await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
    await assertUnchanged();
  });

  test('unserved operations through the SDK: 501 naming the operation, and nothing copied, tagged or deleted', async () => {
    const calls: Record<string, () => Promise<unknown>> = {
      GetBucketVersioning: () => s3.send(new GetBucketVersioningCommand({ Bucket: BUCKET })),
      PutBucketVersioning: () =>
        s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } })),
      CopyObject: () =>
        s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/target', CopySource: `${BUCKET}/keep/small` })),
      DeleteObjects: () =>
        s3.send(
          new DeleteObjectsCommand({
            Bucket: BUCKET,
            Delete: { Objects: [{ Key: 'keep/small' }, { Key: 'keep/large' }] },
          }),
        ),
      PutObjectTagging: () =>
        s3.send(
          new PutObjectTaggingCommand({
            Bucket: BUCKET,
            Key: 'keep/small',
            Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] },
          }),
        ),
      DeleteObjectTagging: () => s3.send(new DeleteObjectTaggingCommand({ Bucket: BUCKET, Key: 'keep/small' })),
      CreateMultipartUpload: () => s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu/target' })),
    };
    for (const [op, call] of Object.entries(calls)) {
      if (HANDLERS[op]) continue; // implemented since: its own tests cover it
      const err = await rejects(call(), 'NotImplemented', 501);
      assert.match(err.message, new RegExp(op));
      assert.equal(field(err, 'Operation'), op);
    }
    await assertUnchanged();
  });

  test('subresources nobody serves are 501 NotImplemented, whatever the method', async () => {
    // `listedAs`: the router lists it as that operation (skipped once a handler serves it);
    // otherwise the subresource is unknown for this method and target.
    const cases: { method: string; path: string; query: Record<string, string>; body?: string; listedAs?: string }[] = [
      { method: 'GET', path: `/${BUCKET}`, query: { website: '' }, listedAs: 'GetBucketWebsite' },
      { method: 'GET', path: `/${BUCKET}`, query: { torrent: '' } },
      { method: 'GET', path: `/${BUCKET}`, query: { select: '' } },
      { method: 'GET', path: `/${BUCKET}`, query: { session: '' } },
      { method: 'GET', path: `/${BUCKET}/keep/small`, query: { torrent: '' }, listedAs: 'GetObjectTorrent' },
      {
        method: 'POST',
        path: `/${BUCKET}/keep/small`,
        query: { select: '', 'select-type': '2' },
        body: '<SelectObjectContentRequest/>',
        listedAs: 'SelectObjectContent',
      },
      // Methods whose plain form would write or delete: the subresource must stop them.
      { method: 'PUT', path: `/${BUCKET}/keep/small`, query: { torrent: '' }, body: 'not an object body' },
      { method: 'PUT', path: `/${BUCKET}/keep/large`, query: { website: '' }, body: 'not an object body' },
      { method: 'DELETE', path: `/${BUCKET}/keep/small`, query: { acl: '' } },
      { method: 'DELETE', path: `/${BUCKET}/keep/large`, query: { versioning: '' } },
      { method: 'DELETE', path: `/${BUCKET}`, query: { versioning: '' } },
    ];
    for (const { listedAs, ...c } of cases) {
      if (listedAs !== undefined && HANDLERS[listedAs]) continue;
      const res = await rawRequest(endpoint, c);
      const e = assertS3Error(res, 'NotImplemented', 501);
      if (listedAs !== undefined) assert.equal(e.fields.Operation, listedAs);
    }
    await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
    await assertUnchanged();
  });

  test('a wrong Content-MD5 is BadDigest and keeps the previous object', async () => {
    for (const [Key, Body] of [
      ['keep/small', 'a replacement body'],
      ['keep/large', largeBody('replacement')],
      ['new/md5', 'a new object'],
    ] as const) {
      const err = await rejects(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ContentMD5: md5Base64('something else') })),
        'BadDigest',
        400,
      );
      assert.match(err.message, /Content-MD5/);
    }
    await assertUnchanged();
  });

  test('a wrong x-amz-checksum-crc32 or x-amz-checksum-sha256 is BadDigest and keeps the previous object', async () => {
    for (const [Key, Body] of [
      ['keep/small', 'a replacement body'],
      ['keep/large', largeBody('replacement')],
      ['new/checksum', 'a new object'],
    ] as const) {
      const crc = await rejects(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ChecksumCRC32: crc32Base64('something else') })),
        'BadDigest',
        400,
      );
      assert.match(crc.message, /The CRC32 you specified did not match the calculated checksum/);
      const sha = await rejects(
        s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key,
            Body,
            ChecksumSHA256: createHash('sha256').update('something else').digest('base64'),
          }),
        ),
        'BadDigest',
        400,
      );
      assert.match(sha.message, /The SHA256 you specified did not match the calculated checksum/);
    }
    await assertUnchanged();
  });

  test('a malformed Content-MD5 is InvalidDigest', async () => {
    for (const ContentMD5 of [
      'not-a-digest',
      createHash('md5').update('x').digest('hex'),
      Buffer.alloc(15).toString('base64'),
    ]) {
      await rejects(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/small', Body: 'replacement', ContentMD5 })),
        'InvalidDigest',
        400,
      );
    }
    await assertUnchanged();
  });

  test('x-amz-sdk-checksum-algorithm with no x-amz-checksum-* header or x-amz-trailer is InvalidRequest', async () => {
    for (const [key, body] of [
      ['keep/small', Buffer.from('a replacement body')],
      ['keep/large', largeBody('named but missing checksum')],
      ['sdk-algorithm/new', Buffer.from('a new object')],
    ] as const) {
      for (const algorithm of ['CRC32', 'SHA256', 'crc64nvme']) {
        for (const contentSha256 of ['UNSIGNED-PAYLOAD', sha256Hex(body)]) {
          const signed = await signRequest(
            endpoint,
            {
              method: 'PUT',
              path: `/${BUCKET}/${key}`,
              headers: { 'content-length': String(body.length), 'x-amz-sdk-checksum-algorithm': algorithm },
            },
            { contentSha256 },
          );
          const e = assertS3Error(await sendRaw(endpoint, signed, body), 'InvalidRequest', 400);
          assert.equal(
            e.message,
            'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.',
          );
        }
      }
    }
    await assertUnchanged();
  });

  test('a body that does not hash to its signed x-amz-content-sha256 is XAmzContentSHA256Mismatch', async () => {
    for (const [key, body] of [
      ['keep/small', Buffer.from('replacement')],
      ['keep/large', largeBody('replacement')],
    ] as const) {
      const signed = await signRequest(
        endpoint,
        { method: 'PUT', path: `/${BUCKET}/${key}`, headers: { 'content-length': String(body.length) } },
        { contentSha256: sha256Hex('a different body') },
      );
      const res = await sendRaw(endpoint, signed, body);
      const e = assertS3Error(res, 'XAmzContentSHA256Mismatch', 400);
      assert.equal(e.fields.S3ComputedContentSHA256, sha256Hex(body));
    }
    await assertUnchanged();
  });

  test('a wrong secret is SignatureDoesNotMatch, and the error shows the StringToSign', async () => {
    const forged = w.client('us-east-1', {
      credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    const err = await rejects(
      forged.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/small', Body: 'forged' })),
      'SignatureDoesNotMatch',
      403,
    );
    assert.match(
      field(err, 'StringToSign') ?? '',
      /^AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/,
    );
    assert.equal(field(err, 'AWSAccessKeyId'), CREDENTIALS.accessKeyId);
    await rejects(
      forged.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'keep/small' })),
      'SignatureDoesNotMatch',
      403,
    );
    const raw = await rawRequest(
      endpoint,
      { method: 'PUT', path: `/${BUCKET}/keep/large`, body: 'forged' },
      { credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' } },
    );
    const e = assertS3Error(raw, 'SignatureDoesNotMatch', 403);
    assert.ok(e.fields.StringToSign?.startsWith('AWS4-HMAC-SHA256\n'), raw.text);
    await assertUnchanged();
  });

  test('an unknown access key is InvalidAccessKeyId', async () => {
    const stranger = w.client('us-east-1', {
      credentials: { accessKeyId: 'AKIDNOBODYKNOWS', secretAccessKey: 'whatever' },
    });
    const err = await rejects(
      stranger.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/small', Body: 'stranger' })),
      'InvalidAccessKeyId',
      403,
    );
    assert.equal(field(err, 'AWSAccessKeyId'), 'AKIDNOBODYKNOWS');
    await assertUnchanged();
  });

  test('a clock an hour behind is RequestTimeTooSkewed', async () => {
    // maxAttempts 1: on a retry the SDK would learn the server's clock and correct itself.
    const late = w.client('us-east-1', { systemClockOffset: -3_600_000, maxAttempts: 1 });
    const err = await rejects(
      late.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/small', Body: 'from the past' })),
      'RequestTimeTooSkewed',
      403,
    );
    assert.ok(field(err, 'ServerTime'));
    assert.ok(field(err, 'RequestTime'));
    await assertUnchanged();
  });

  test('anonymous requests are 403 AccessDenied and change nothing', async () => {
    for (const [method, path, body] of [
      ['GET', `/${BUCKET}/keep/small`, undefined],
      ['GET', `/${BUCKET}`, undefined],
      ['PUT', `/${BUCKET}/keep/small`, 'anonymous write'],
      ['PUT', `/${BUCKET}/anonymous/new`, 'anonymous write'],
      ['DELETE', `/${BUCKET}/keep/large`, undefined],
      ['DELETE', `/${BUCKET}`, undefined],
    ] as const) {
      const res = await fetch(`${endpoint}${path}`, { method, body });
      const text = await res.text();
      assertS3Error(
        { status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(text), text },
        'AccessDenied',
        403,
      );
    }
    await assertUnchanged();
  });

  test('invalid bucket names are InvalidBucketName and create nothing', async () => {
    for (const Bucket of ['Invalid_Name', 'ab', 'bad..dots']) {
      await rejects(s3.send(new CreateBucketCommand({ Bucket })), 'InvalidBucketName', 400);
    }
    const list = await s3.send(new ListBucketsCommand({}));
    assert.deepEqual(
      list.Buckets?.map((b) => b.Name),
      [BUCKET],
    );
    await assertUnchanged();
  });

  test('a path with an invalid percent-encoding is InvalidURI', async () => {
    for (const [method, path, body] of [
      ['GET', `/${BUCKET}%ZZ`, undefined],
      ['GET', `/${BUCKET}%`, undefined],
      ['GET', '/%E0%A4%A', undefined],
      ['PUT', `/${BUCKET}%G1/new-object`, 'never stored'],
      ['DELETE', `/${BUCKET}%zz`, undefined],
    ] as const) {
      const res = await rawRequest(endpoint, { method, path, body });
      assertS3Error(res, 'InvalidURI', 400);
    }
    await assertUnchanged();
  });

  test('a Range that starts past the end is 416 InvalidRange', async () => {
    const size = stored.get('keep/small')!.length;
    for (const Range of [`bytes=${size}-`, `bytes=${size + 100}-${size + 200}`]) {
      const err = await rejects(
        s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'keep/small', Range })),
        'InvalidRange',
        416,
      );
      assert.equal(field(err, 'ActualObjectSize'), String(size));
    }
    await assertUnchanged();
  });

  test('max-keys that is not a non-negative integer is InvalidArgument', async () => {
    for (const listType of [{ 'list-type': '2' }, {} as Record<string, string>]) {
      for (const maxKeys of ['abc', '-1', '1.5', '1e3', '99999999999999999999']) {
        const res = await rawRequest(endpoint, {
          method: 'GET',
          path: `/${BUCKET}`,
          query: { ...listType, 'max-keys': maxKeys },
        });
        const e = assertS3Error(res, 'InvalidArgument', 400);
        assert.equal(e.fields.ArgumentName, 'max-keys');
        assert.equal(e.fields.ArgumentValue, maxKeys);
      }
    }
    await rejects(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: -1 })), 'InvalidArgument', 400);
    await assertUnchanged();
  });

  test('encoding-type other than url is InvalidArgument', async () => {
    for (const listType of [{ 'list-type': '2' }, {} as Record<string, string>]) {
      const res = await rawRequest(endpoint, {
        method: 'GET',
        path: `/${BUCKET}`,
        query: { ...listType, 'encoding-type': 'foo' },
      });
      const e = assertS3Error(res, 'InvalidArgument', 400);
      assert.equal(e.fields.ArgumentName, 'encoding-type');
    }
    await assertUnchanged();
  });

  test('a body shorter than its Content-Length, then the end of the connection, is IncompleteBody and stores nothing', async () => {
    for (const [key, announced] of [
      ['keep/small', 1000],
      ['keep/large', 1024 * 1024],
      ['short/new-small', 1000],
      ['short/new-large', 1024 * 1024],
    ] as const) {
      const signed = await signRequest(
        endpoint,
        { method: 'PUT', path: `/${BUCKET}/${key}`, headers: { 'content-length': String(announced) } },
        { contentSha256: 'UNSIGNED-PAYLOAD' },
      );
      const answer = parseRawResponse(await sendTruncated(endpoint, signed, Buffer.alloc(announced / 2, 0x61), 'end'));
      const e = assertS3Error(answer, 'IncompleteBody', 400);
      assert.equal(e.message, 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
      assert.equal(answer.rest.length, 0, `one answer, nothing after it: ${answer.rest.toString('latin1')}`);
    }
    await sleep(100);
    await assertUnchanged();
  });

  test('a request Node cannot parse still gets an S3 error with a request id', async () => {
    const garbage = [
      'GARBAGE\r\n\r\n',
      '\u0000\u0001\u0002 binary junk\r\n\r\n',
      `PUT /${BUCKET}/keep/small HTTP/1.1\r\nhost: x\r\ncontent-length: not-a-number\r\n\r\nreplacement`,
      `GET /${BUCKET} HTTP/1.1\r\nhost: x\r\na header line without a colon\r\n\r\n`,
    ];
    for (const bytes of garbage) {
      const { received } = await exchangeRaw(endpoint, bytes, 'wait');
      const answer = parseRawResponse(received);
      assertS3Error(answer, 'InvalidRequest', 400);
      assert.equal(answer.headers.connection, 'close', JSON.stringify(bytes));
    }
    await assertUnchanged();
  });

  test('request headers over the size limit are 400 RequestHeaderSectionTooLarge', async () => {
    const oversized: Record<string, string>[] = [
      { 'x-padding': 'p'.repeat(20 * 1024) },
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x-amz-meta-pad-${i}`, 'q'.repeat(500)])),
    ];
    for (const [method, path] of [
      ['GET', `/${BUCKET}`],
      ['PUT', `/${BUCKET}/keep/small`],
    ] as const) {
      for (const headers of oversized) {
        const body = method === 'PUT' ? Buffer.from('never stored') : Buffer.alloc(0);
        const signed = await signRequest(endpoint, {
          method,
          path,
          headers,
          body: method === 'PUT' ? body : undefined,
        });
        const { received } = await exchangeRaw(
          endpoint,
          Buffer.concat([Buffer.from(requestHead(signed)), body]),
          'wait',
        );
        assertS3Error(parseRawResponse(received), 'RequestHeaderSectionTooLarge', 400);
      }
    }
    await assertUnchanged();
  });

  test('a body cut mid-stream by the client leaves the previous version intact and readable', async () => {
    const replacement = largeBody('cut short');
    const modes: { name: string; headers: Record<string, string>; contentSha256: string; body: Buffer }[] = [
      { name: 'UNSIGNED-PAYLOAD', headers: {}, contentSha256: 'UNSIGNED-PAYLOAD', body: replacement },
      { name: 'signed SHA-256', headers: {}, contentSha256: sha256Hex(replacement), body: replacement },
      {
        name: STREAMING_UNSIGNED_TRAILER,
        headers: {
          'content-encoding': 'aws-chunked',
          'x-amz-decoded-content-length': String(replacement.length),
          'x-amz-trailer': 'x-amz-checksum-crc32',
        },
        contentSha256: STREAMING_UNSIGNED_TRAILER,
        body: encodeUnsignedChunks(replacement, 64 * 1024, [`x-amz-checksum-crc32:${crc32Base64(replacement)}`]),
      },
    ];
    for (const mode of modes) {
      for (const key of ['keep/small', 'keep/large', 'cut/new']) {
        const signed = await signRequest(
          endpoint,
          {
            method: 'PUT',
            path: `/${BUCKET}/${key}`,
            headers: { ...mode.headers, 'content-length': String(mode.body.length) },
          },
          { contentSha256: mode.contentSha256 },
        );
        await sendTruncated(endpoint, signed, mode.body.subarray(0, mode.body.length >> 1), 'destroy');
      }
    }
    await sleep(100);
    await assertUnchanged();
  });

  describe('uploads that go idle (a 1 s idle limit)', () => {
    const IDLE_BUCKET = 'idle-checks';
    const idleTimeoutMs = 1000;
    let idle: TestWorld;
    let idleEndpoint: string;
    let idleS3: S3Client;
    const previous = Buffer.from('stored before anything stalled');

    before(async () => {
      const logger = pino(
        { level: 'warn' },
        { write: (line: string) => void logged.push(JSON.parse(line) as LogEntry) },
      );
      idle = await startTestWorld({ logger, idleTimeoutMs });
      idleEndpoint = idle.endpoint('us-east-1');
      idleS3 = idle.client('us-east-1');
      await idleS3.send(new CreateBucketCommand({ Bucket: IDLE_BUCKET }));
      await idleS3.send(new PutObjectCommand({ Bucket: IDLE_BUCKET, Key: 'stall/existing', Body: previous }));
    });
    after(() => idle.close());

    async function idleBucketHolds(expected: Record<string, Buffer>): Promise<void> {
      const internal = logged.splice(0).filter((l) => l.msg === 'internal error');
      assert.deepEqual(internal, [], 'no request was answered with InternalError');
      const listed = (await idleS3.send(new ListObjectsV2Command({ Bucket: IDLE_BUCKET }))).Contents ?? [];
      assert.deepEqual(listed.map((c) => c.Key).sort(), Object.keys(expected).sort(), 'no key appeared or vanished');
      for (const [Key, body] of Object.entries(expected)) {
        const got = await idleS3.send(new GetObjectCommand({ Bucket: IDLE_BUCKET, Key }));
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), `${Key} holds its bytes`);
      }
    }

    test('an upload that stalls mid-body is 400 RequestTimeout, the connection is closed, nothing is stored', async () => {
      const replacement = Buffer.alloc(1000, 0x72);
      const chunked = encodeUnsignedChunks(replacement, 256, [`x-amz-checksum-crc32:${crc32Base64(replacement)}`]);
      const modes: { name: string; headers: Record<string, string>; contentSha256: string; body: Buffer }[] = [
        { name: 'UNSIGNED-PAYLOAD', headers: {}, contentSha256: 'UNSIGNED-PAYLOAD', body: replacement },
        { name: 'signed SHA-256', headers: {}, contentSha256: sha256Hex(replacement), body: replacement },
        {
          name: STREAMING_UNSIGNED_TRAILER,
          headers: {
            'content-encoding': 'aws-chunked',
            'x-amz-decoded-content-length': String(replacement.length),
            'x-amz-trailer': 'x-amz-checksum-crc32',
          },
          contentSha256: STREAMING_UNSIGNED_TRAILER,
          body: chunked,
        },
      ];
      for (const mode of modes) {
        for (const key of ['stall/existing', 'stall/new']) {
          const signed = await signRequest(
            idleEndpoint,
            {
              method: 'PUT',
              path: `/${IDLE_BUCKET}/${key}`,
              headers: { ...mode.headers, 'content-length': String(mode.body.length) },
            },
            { contentSha256: mode.contentSha256 },
          );
          const started = Date.now();
          // Resolves only once the server has closed the connection.
          const raw = await sendTruncated(idleEndpoint, signed, mode.body.subarray(0, mode.body.length >> 1), 'stall');
          const waited = Date.now() - started;
          const answer = parseRawResponse(raw);
          const e = assertS3Error(answer, 'RequestTimeout', 400);
          assert.match(raw, /^HTTP\/1\.1 400 /);
          assert.equal(
            e.message,
            'Your socket connection to the server was not read from or written to within the timeout period.',
          );
          assert.equal(answer.headers.connection, 'close', `${mode.name} ${key}`);
          assert.equal(answer.rest.length, 0, 'one answer, nothing after it');
          assert.ok(
            waited >= idleTimeoutMs - 50,
            `${mode.name} ${key}: answered after ${waited} ms, before going idle`,
          );
          assert.ok(waited < idleTimeoutMs + 5000, `${mode.name} ${key}: answered only after ${waited} ms`);
        }
      }
      await idleBucketHolds({ 'stall/existing': previous });
    });

    test('a slow upload that never goes idle for the limit is stored, however long it takes', async () => {
      const data = Buffer.alloc(1000, 0x73);
      const parts = Array.from({ length: 10 }, (_, i) => data.subarray(i * 100, (i + 1) * 100));
      const signed = await signRequest(
        idleEndpoint,
        { method: 'PUT', path: `/${IDLE_BUCKET}/slow/steady`, headers: { 'content-length': String(data.length) } },
        { contentSha256: sha256Hex(data) },
      );
      const started = Date.now();
      const res = await sendPaced(idleEndpoint, signed, parts, idleTimeoutMs * 0.3);
      assert.equal(res.status, 200, res.text);
      assert.ok(Date.now() - started > 2 * idleTimeoutMs, 'the upload as a whole took longer than the idle limit');
      await idleBucketHolds({ 'stall/existing': previous, 'slow/steady': data });
    });
  });
});

/** A signed request that the router sends to `route`. */
function requestFor(route: Route): {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string;
} {
  const path = route.target === 'service' ? '/' : route.target === 'bucket' ? `/${BUCKET}` : `/${BUCKET}/keep/small`;
  const query: Record<string, string> = { ...route.params };
  if (route.sub !== undefined) query[route.sub] = route.sub === 'uploadId' ? 'an-upload-id' : '';
  if (route.sub === 'uploadId' && route.method === 'PUT') query.partNumber = '1';
  const headers: Record<string, string> = {};
  if (route.header === 'x-amz-copy-source') headers[route.header] = `/${BUCKET}/keep/large`;
  else if (route.header !== undefined) headers[route.header] = 'x';
  const body = route.method === 'PUT' || route.method === 'POST' ? '<Unserved/>' : undefined;
  return { method: route.method, path, query, headers, body };
}
