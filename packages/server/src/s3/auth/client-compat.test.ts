/**
 * The real @aws-sdk/client-s3 against a bare node:http server that runs only this folder's
 * code: whatever the SDK puts on the wire (paths, queries, headers, aws-chunked bodies with
 * CRC32 trailers, presigned URLs) must authenticate and decode.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { crc32 } from '@aws-crypto/crc32';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetBucketAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { S3Error } from '../../core/errors.ts';
import { createChunkedDecoder } from './chunked.ts';
import { createAuthenticator, type AuthResult, type Credential } from './sigv4.ts';

const CREDENTIAL: Credential = {
  accessKeyId: 'AKIDCLIENTCOMPAT',
  secretAccessKey: 'client/compat+secret=',
  accountId: '111122223333',
};

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  result?: AuthResult;
  error?: S3Error;
  body: Buffer;
  trailers: Record<string, string>;
}

let server: Server;
let endpoint: string;
let client: S3Client;
const seen: Seen[] = [];

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Authenticates, decodes the body as the payload mode says, records, and answers minimally. */
async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const question = url.indexOf('?');
  const rawPath = question < 0 ? url : url.slice(0, question);
  const rawQuery = question < 0 ? '' : url.slice(question + 1);
  const entry: Seen = { method: req.method ?? '', url, headers: req.headers, body: Buffer.alloc(0), trailers: {} };
  seen.push(entry);
  try {
    const result = authenticate({ method: entry.method, rawPath, rawQuery, headers: req.headers, now: new Date() });
    entry.result = result;
    const payload = result.kind === 'signed' ? result.payload : { kind: 'unsigned' as const };
    if (payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer') {
      const decodedLength = req.headers['x-amz-decoded-content-length'];
      const decoder = createChunkedDecoder({
        signing:
          payload.kind === 'streaming-signed' && result.kind === 'signed'
            ? {
                signingKey: result.signingKey,
                seedSignature: result.signature,
                amzDate: result.amzDate,
                scope: result.scope,
              }
            : undefined,
        trailer: payload.kind === 'streaming-unsigned-trailer' || payload.trailer,
        decodedLength: decodedLength === undefined ? undefined : Number(decodedLength),
      });
      entry.body = await readAll(req.pipe(decoder));
      entry.trailers = { ...decoder.trailers };
    } else {
      entry.body = await readAll(req);
      if (payload.kind === 'sha256') {
        assert.equal(createHash('sha256').update(entry.body).digest('hex'), payload.hex);
      }
    }
    respond(req, res, rawQuery);
  } catch (err) {
    if (!(err instanceof S3Error)) throw err;
    entry.error = err;
    req.resume();
    res.writeHead(err.status, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${err.code}</Code><Message>${err.message}</Message></Error>`,
    );
  }
}

const authenticate = createAuthenticator((id) => (id === CREDENTIAL.accessKeyId ? CREDENTIAL : undefined));

function respond(req: IncomingMessage, res: ServerResponse, rawQuery: string): void {
  const xml = (body: string): void => {
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
  };
  if (rawQuery.includes('list-type=2'))
    return xml(
      '<ListBucketResult><Name>bucket</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>',
    );
  if (/(^|&)acl(=|&|$)/.test(rawQuery))
    return xml(
      '<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList></AccessControlList></AccessControlPolicy>',
    );
  if (/(^|&)delete(=|&|$)/.test(rawQuery)) return xml('<DeleteResult></DeleteResult>');
  if (req.headers['x-amz-copy-source'] !== undefined)
    return xml('<CopyObjectResult><ETag>"e"</ETag></CopyObjectResult>');
  res.writeHead(200, { etag: '"etag"', 'content-length': req.method === 'GET' ? '2' : '0' });
  res.end(req.method === 'GET' ? 'ok' : undefined);
}

/** The last request the server saw, which must have authenticated. */
function lastSigned(): Seen & { result: Extract<AuthResult, { kind: 'signed' }> } {
  const entry = seen.at(-1);
  assert.ok(entry, 'no request reached the server');
  assert.equal(entry.error, undefined, `${entry.method} ${entry.url}: ${entry.error?.code} ${entry.error?.message}`);
  assert.equal(entry.result?.kind, 'signed');
  return entry as Seen & { result: Extract<AuthResult, { kind: 'signed' }> };
}

const KEYS = [
  'plain.txt',
  'dir/sub dir/file with spaces.txt',
  'a+b=c&d?e#f',
  '100% sure',
  "tilde~star*bang!quote'(paren)",
  'ünïcödé/日本語/😀',
  'semi;colon,comma:@$[]{}|^`"<>\\',
  'dot/./dotdot/../x',
  'double//slash/',
];

function crc32Base64(data: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
}

describe('@aws-sdk/client-s3 against the authenticator', () => {
  before(async () => {
    server = createServer((req, res) => {
      handle(req, res).catch((err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new S3Client({
      region: 'eu-west-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: CREDENTIAL.accessKeyId, secretAccessKey: CREDENTIAL.secretAccessKey },
      maxAttempts: 1,
    });
  });

  after(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  for (const key of KEYS) {
    it(`GetObject, HeadObject and PutObject of ${JSON.stringify(key)}`, async () => {
      const got = await client.send(new GetObjectCommand({ Bucket: 'bucket', Key: key, Range: 'bytes=0-1' }));
      await got.Body?.transformToString();
      const get = lastSigned();
      assert.equal(get.result.region, 'eu-west-1');
      assert.equal(get.result.credential.accountId, '111122223333');

      await client.send(new HeadObjectCommand({ Bucket: 'bucket', Key: key }));
      lastSigned();

      await client.send(
        new PutObjectCommand({ Bucket: 'bucket', Key: key, Body: 'small body', Metadata: { note: 'a  b' } }),
      );
      const put = lastSigned();
      assert.equal(put.body.toString(), 'small body');
    });
  }

  it('PutObject with a stream: STREAMING-UNSIGNED-PAYLOAD-TRAILER and a CRC32 trailer', async () => {
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    await client.send(
      new PutObjectCommand({
        Bucket: 'bucket',
        Key: 'streamed/object.bin',
        Body: Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]),
        ContentLength: data.length,
      }),
    );
    const put = lastSigned();
    assert.equal(put.headers['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    assert.equal(put.headers['x-amz-trailer'], 'x-amz-checksum-crc32');
    assert.deepEqual(put.result.payload, { kind: 'streaming-unsigned-trailer' });
    assert.equal(put.body.length, data.length);
    assert.ok(put.body.equals(data));
    assert.equal(put.trailers['x-amz-checksum-crc32'], crc32Base64(data));
  });

  it('UploadPart with a stream', async () => {
    const data = Buffer.from('part data '.repeat(2000));
    await client.send(
      new UploadPartCommand({
        Bucket: 'bucket',
        Key: 'mpu key',
        UploadId: 'upload+id/with=chars',
        PartNumber: 3,
        Body: Readable.from([data]),
        ContentLength: data.length,
      }),
    );
    const part = lastSigned();
    assert.ok(part.body.equals(data));
    assert.equal(part.trailers['x-amz-checksum-crc32'], crc32Base64(data));
  });

  it('ListObjectsV2 with a prefix, delimiter and empty start-after', async () => {
    await client.send(
      new ListObjectsV2Command({
        Bucket: 'bucket',
        Prefix: 'a/b c+d&e=f',
        Delimiter: '/',
        StartAfter: '',
        MaxKeys: 10,
      }),
    );
    const list = lastSigned();
    assert.match(list.url, /prefix=a%2Fb%20c%2Bd%26e%3Df/);
  });

  it('GetBucketAcl (a value-less sub-resource)', async () => {
    await client.send(new GetBucketAclCommand({ Bucket: 'bucket' }));
    assert.match(lastSigned().url, /\?acl/);
  });

  it('DeleteObjects (POST ?delete with a body and a checksum header)', async () => {
    await client.send(
      new DeleteObjectsCommand({ Bucket: 'bucket', Delete: { Objects: [{ Key: 'a b' }, { Key: 'ü+' }] } }),
    );
    assert.match(lastSigned().body.toString(), /<Key>a b<\/Key>/);
  });

  it('CopyObject (x-amz-copy-source must be signed)', async () => {
    // CopySource is sent as given, and must be URL-encoded by the caller: node writes header
    // values as latin1 while the SDK signs their UTF-8, so a raw 'ü' fails on AWS as well.
    await client.send(
      new CopyObjectCommand({
        Bucket: 'bucket',
        Key: 'copy of ü',
        CopySource: `bucket/${encodeURIComponent('source key+ü.txt')}`,
      }),
    );
    const copy = lastSigned();
    assert.ok(copy.headers['x-amz-copy-source']);
  });

  it('rejects the SDK when the secret is wrong, with the AWS error code', async () => {
    const wrong = new S3Client({
      region: 'eu-west-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: CREDENTIAL.accessKeyId, secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    await assert.rejects(wrong.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'k' })), {
      name: 'SignatureDoesNotMatch',
    });
    wrong.destroy();
    assert.equal(seen.at(-1)?.error?.code, 'SignatureDoesNotMatch');
  });

  it('accepts presigned GET and PUT URLs sent by a plain HTTP client', async () => {
    for (const key of KEYS) {
      const getUrl = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'bucket', Key: key }), {
        expiresIn: 60,
      });
      assert.equal(await send('GET', getUrl), 200);
      assert.equal(lastSigned().result.presigned, true);

      const putUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket: 'bucket', Key: key }), {
        expiresIn: 60,
      });
      assert.equal(await send('PUT', putUrl, Buffer.from('presigned body')), 200);
      const put = lastSigned();
      assert.deepEqual(put.result.payload, { kind: 'unsigned' });
      assert.equal(put.body.toString(), 'presigned body');
    }
  });
});

/** node:http sends the path exactly as given (no dot-segment resolution, unlike fetch). */
function send(method: string, url: string, body?: Buffer): Promise<number> {
  const target = url.slice(url.indexOf('/', 'http://'.length));
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ method, hostname, port, path: target }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}
