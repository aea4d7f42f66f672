/**
 * Hostile sizes and speeds: request headers over Node's 16 KiB, user metadata over 2 KB,
 * part numbers past 10,000, bodies trickled slower than the idle limit, and a flood of 200
 * slow uploads against a real `meridian` process whose memory is measured while they run.
 * Each limit is a clean 4xx S3 error with a request id, and the server keeps serving.
 */
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import fc from 'fast-check';
import {
  Sentinels,
  runs,
  assertClientError,
  assertNotServerError,
  exchange,
  patternBytes,
  startHostileWorld,
  wireBytes,
  type HostileWorld,
} from './helpers/hostile.ts';
import { spawnMeridian } from './helpers/process.ts';
import { requestHead, sha256Hex, signRequest } from './helpers/raw-request.ts';
import { CREDENTIALS, startTestWorld } from './helpers/world.ts';

const BUCKET = 'hostile-limits';
const PREVIOUS = Buffer.from('held before any limit was tried');

describe('hostile headers and sizes', () => {
  let w: HostileWorld;
  let sentinels: Sentinels;

  async function target(): Promise<Buffer> {
    const got = await w.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'limits/target' }));
    return Buffer.from(await got.Body!.transformToByteArray());
  }

  before(async () => {
    w = await startHostileWorld();
    sentinels = new Sentinels(w.s3);
    await sentinels.write(BUCKET, { create: true });
    await w.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'limits/target', Body: PREVIOUS }));
  });
  after(() => w.close());

  test('request headers past 16 KiB, in any layout, are 400 RequestHeaderSectionTooLarge; under it they are served', async () => {
    // Node counts the request line and every header line against its 16 KiB; a little
    // either side of the line is left out, where the exact framing decides.
    const layouts = fc.constantFrom('one header', 'many headers', 'long query', 'many metadata headers');
    await fc.assert(
      fc.asyncProperty(
        layouts,
        fc.oneof(fc.integer({ min: 1_000, max: 15_000 }), fc.integer({ min: 17_500, max: 200_000 })),
        fc.constantFrom('GET', 'PUT'),
        async (layout, size, method) => {
          const headers: Record<string, string> = {};
          const query: Record<string, string> = {};
          switch (layout) {
            case 'one header':
              headers['x-padding'] = 'p'.repeat(size);
              break;
            case 'many headers':
              for (let i = 0; i * 100 < size; i++) headers[`x-pad-${i}`] = 'q'.repeat(88);
              break;
            case 'long query':
              query['response-cache-control'] = 'c'.repeat(size);
              break;
            default:
              for (let i = 0; i * 100 < size; i++) headers[`x-amz-meta-p${i}`] = 'm'.repeat(86);
          }
          const body = method === 'PUT' ? Buffer.from('headers') : undefined;
          const path = method === 'PUT' ? `/${BUCKET}/limits/headers` : `/${BUCKET}/sentinel/tiny`;
          const signed = await signRequest(w.endpointUrl, { method, path, headers, query, body });
          const head = Buffer.byteLength(requestHead(signed));
          // Node counts header bytes its own way (not every separator): the line is fuzzy by a
          // few hundred bytes, so the band around it is left out.
          fc.pre(head < 15 * 1024 || head > 18 * 1024);
          const res = await exchange(w.endpointUrl, wireBytes({ ...signed, body }));
          const what = `${method} with ${layout}, ${head} bytes of request head`;
          if (head > 18 * 1024) {
            const e = assertClientError(res, what);
            assert.equal(e.code, 'RequestHeaderSectionTooLarge', res.text);
            assert.equal(e.message, 'Your request header section exceeds the maximum allowed size.');
          } else if (layout === 'many metadata headers' && method === 'PUT' && size > 2048) {
            // Served, and refused for what it says: over 2 KB of metadata.
            assert.equal(assertClientError(res, what).code, 'MetadataTooLarge', res.text);
          } else {
            assert.equal(res.status, 200, `${what}: ${res.text.slice(0, 300)}`);
          }
        },
      ),
      runs(60),
    );
    w.assertNoInternalErrors();
    await sentinels.verify();
  });

  test('user metadata of more than 2 KB (names and values, in bytes) is 400 MetadataTooLarge on every write; up to 2 KB round-trips', async () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,40}$/);
    const value = fc.oneof(
      fc.stringMatching(/^[!-~]([ -~]{0,600}[!-~])?$/),
      fc.integer({ min: 1, max: 1200 }).map((n) => 'v'.repeat(n)),
      // UTF-8 beyond ASCII: 2, 3 and 4 bytes a character, counted as bytes.
      fc
        .array(fc.constantFrom('é', 'ß', '€', '가', '😀', 'a'), { minLength: 1, maxLength: 700 })
        .map((cs) => cs.join('')),
    );
    /** A header value as its UTF-8 bytes go on the wire (wireBytes writes latin1). */
    const utf8OnWire = (v: string) => Buffer.from(v, 'utf8').toString('latin1');
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(name, value, { minKeys: 1, maxKeys: 12 }),
        fc.constantFrom('PutObject', 'CreateMultipartUpload', 'CopyObject'),
        async (metadata, op) => {
          const size = Object.entries(metadata).reduce(
            (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
            0,
          );
          const headers = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [`x-amz-meta-${k}`, v]));
          let signed;
          const key = 'limits/target';
          if (op === 'PutObject') {
            signed = await signRequest(w.endpointUrl, {
              method: 'PUT',
              path: `/${BUCKET}/${key}`,
              headers,
              body: 'replacement',
            });
          } else if (op === 'CopyObject') {
            signed = await signRequest(w.endpointUrl, {
              method: 'PUT',
              path: `/${BUCKET}/${key}`,
              headers: {
                ...headers,
                'x-amz-copy-source': `/${BUCKET}/sentinel/tiny`,
                'x-amz-metadata-directive': 'REPLACE',
              },
            });
          } else {
            signed = await signRequest(w.endpointUrl, {
              method: 'POST',
              path: `/${BUCKET}/${key}`,
              query: { uploads: '' },
              headers,
            });
          }
          const body = op === 'PutObject' ? Buffer.from('replacement') : undefined;
          const wire = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, utf8OnWire(v)]));
          const res = await exchange(w.endpointUrl, wireBytes({ ...signed, headers: wire, body }));
          const what = `${op} with ${size} bytes of metadata`;
          if (size > 2048) {
            const e = assertClientError(res, what);
            assert.equal(e.code, 'MetadataTooLarge', res.text);
            assert.equal(e.fields.Size, String(size));
            assert.equal(e.fields.MaxSizeAllowed, '2048');
            assert.ok((await target()).equals(PREVIOUS), `${what}: refused, and the object is as it was`);
            return;
          }
          assert.equal(res.status, 200, `${what}: ${res.text}`);
          if (op === 'CreateMultipartUpload') return;
          const head = await w.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
          // Read back as the same bytes (the SDK, like Node, reads header bytes as latin1).
          const read = Object.fromEntries(
            Object.entries(head.Metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'latin1').toString('utf8')]),
          );
          assert.deepEqual(read, { ...metadata }, `${what}: read back as sent`);
          await w.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: PREVIOUS }));
        },
      ),
      runs(80),
    );
    w.assertNoInternalErrors();
    await sentinels.verify();
  });

  test('PutObject headers with arbitrary values: stored exactly as sent, or a clean 4xx that stores nothing', async () => {
    const ascii = fc.stringMatching(/^[!-~]([ -~]{0,60}[!-~])?$/);
    const value = (...known: string[]) => fc.oneof(fc.constantFrom(...known), ascii);
    const headerArb = fc.oneof(
      fc.tuple(fc.constant('x-amz-storage-class'), value('STANDARD', 'GLACIER', 'standard', 'REDUCED_REDUNDANCY', '')),
      fc.tuple(fc.constant('x-amz-checksum-crc32'), value('AAAAAA==', 'not base64', '=', 'AAAAAAAA')),
      fc.tuple(fc.constant('x-amz-checksum-sha256'), value('AAAAAA==', '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=')),
      fc.tuple(
        fc.constant('x-amz-sdk-checksum-algorithm'),
        value('CRC32', 'crc32', 'SHA1', 'MD5', 'CRC64NVME', 'CRC99'),
      ),
      fc.tuple(fc.constant('x-amz-checksum-algorithm'), value('CRC32', 'SHA256')),
      fc.tuple(fc.constant('x-amz-trailer'), value('x-amz-checksum-crc32', 'x-amz-checksum-foo', ',')),
      fc.tuple(fc.constant('content-md5'), value('1B2M2Y8AsgTpgAmY7PhCfg==', 'short', '')),
      fc.tuple(
        fc.constant('x-amz-tagging'),
        value('a=b', 'a=b&a=c', '=', '&&', 'k=%ZZ', `${'k'.repeat(129)}=v`, 'a=b'.repeat(60)),
      ),
      fc.tuple(fc.constant('x-amz-acl'), value('private', 'public-read', 'bucket-owner-full-control', 'nope')),
      fc.tuple(
        fc.constant('x-amz-grant-read'),
        value('id="abc"', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"', 'emailAddress="a@b"', 'id=', '"'),
      ),
      fc.tuple(fc.constant('if-match'), value('*', '"abc"', 'W/"x"', ',')),
      fc.tuple(fc.constant('if-none-match'), value('*', '"abc"', '')),
      fc.tuple(fc.constant('x-amz-object-ownership'), value('BucketOwnerEnforced', 'x')),
      fc.tuple(fc.constant('expires'), value('Thu, 01 Dec 1994 16:00:00 GMT', 'never', '0')),
      fc.tuple(fc.constant('content-type'), value('text/plain', 'multipart/form-data; boundary=x', '')),
      fc.tuple(fc.constant('content-encoding'), value('gzip', 'aws-chunked', 'aws-chunked,gzip', ',')),
      fc.tuple(fc.constant('x-amz-website-redirect-location'), value('/a', 'http://example.com')),
      fc.tuple(fc.constant('x-amz-server-side-encryption'), value('AES256', 'aws:kms', 'x')),
      fc.tuple(fc.constant('x-amz-object-lock-mode'), value('GOVERNANCE', 'x')),
      fc.tuple(fc.constant('cache-control'), ascii),
    );
    const data = Buffer.from('bytes sent with odd headers');
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(headerArb, { selector: ([name]) => name, maxLength: 4 }), async (pairs) => {
        const headers = Object.fromEntries(pairs);
        const signed = await signRequest(w.endpointUrl, {
          method: 'PUT',
          path: `/${BUCKET}/limits/target`,
          headers,
          body: data,
        });
        const res = await exchange(w.endpointUrl, wireBytes({ ...signed, body: data }));
        const what = `PutObject with ${JSON.stringify(headers)}`;
        if (res.status >= 300) {
          assertNotServerError(res, what);
          assert.ok((await target()).equals(PREVIOUS), `${what}: refused (${res.status}), yet the object changed`);
          return;
        }
        assert.ok((await target()).equals(data), `${what}: accepted, and the object holds what was sent`);
        await w.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'limits/target', Body: PREVIOUS }));
      }),
      runs(200),
    );
    w.assertNoInternalErrors();
    await sentinels.verify();
  });

  test('part numbers outside 1..10000 are 400 InvalidArgument; an upload never completes with more than 10,000 parts', async () => {
    const up = await w.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'limits/mpu' }));
    const uploadId = up.UploadId!;
    const part = await w.s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'limits/mpu', UploadId: uploadId, PartNumber: 1, Body: 'one' }),
    );
    const partNumber = fc.oneof(
      fc.integer({ min: 10_001, max: 10_000_000 }).map(String),
      fc.integer({ min: -1_000, max: 0 }).map(String),
      fc.constantFrom('', '1.5', '1e3', '0x10', ' 1', '+1', '010001', '99999999999999999999', 'NaN', 'Infinity', '１'),
    );
    await fc.assert(
      fc.asyncProperty(partNumber, fc.constantFrom('UploadPart', 'GetObject', 'HeadObject'), async (n, op) => {
        const method = op === 'UploadPart' ? 'PUT' : op === 'GetObject' ? 'GET' : 'HEAD';
        const query: Record<string, string> = op === 'UploadPart' ? { uploadId, partNumber: n } : { partNumber: n };
        const path = op === 'UploadPart' ? `/${BUCKET}/limits/mpu` : `/${BUCKET}/sentinel/tiny`;
        const body = op === 'UploadPart' ? Buffer.from('part') : undefined;
        const signed = await signRequest(w.endpointUrl, { method, path, query, body });
        const res = await exchange(w.endpointUrl, wireBytes({ ...signed, body }), { head: method === 'HEAD' });
        const e = assertClientError(res, `${op} with partNumber ${JSON.stringify(n)}`, { head: method === 'HEAD' });
        assert.equal(res.status, 400);
        if (method !== 'HEAD') {
          assert.equal(e.code, 'InvalidArgument', res.text);
          assert.equal(e.message, 'Part number must be an integer between 1 and 10000, inclusive');
        }
      }),
      runs(60),
    );
    // A completion listing more than 10,000 parts (or a part number past 10,000) is refused.
    for (const parts of [
      Array.from({ length: 10_001 }, (_, i) => i + 1),
      [1, 10_001],
      Array.from({ length: 10_001 }, () => 1),
    ]) {
      const xml = `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p}</PartNumber><ETag>${part.ETag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
      const signed = await signRequest(w.endpointUrl, {
        method: 'POST',
        path: `/${BUCKET}/limits/mpu`,
        query: { uploadId },
        body: xml,
      });
      const res = await exchange(w.endpointUrl, wireBytes({ ...signed, body: Buffer.from(xml) }));
      assertClientError(res, `CompleteMultipartUpload of ${parts.length} parts`);
      assert.equal(res.status, 400);
    }
    w.assertNoInternalErrors();
    await sentinels.verify();
  });
});

describe('hostile speeds', () => {
  const idleTimeoutMs = 800;
  let w: HostileWorld;
  let sentinels: Sentinels;

  before(async () => {
    w = await startHostileWorld({ idleTimeoutMs });
    sentinels = new Sentinels(w.s3);
    await sentinels.write(BUCKET, { create: true });
    await w.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'limits/target', Body: PREVIOUS }));
  });
  after(() => w.close());

  test('a body trickled with a pause longer than the idle limit is 400 RequestTimeout, closed, and stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 5 }),
        fc.constantFrom('UNSIGNED-PAYLOAD', 'signed', 'aws-chunked'),
        async (pieces, stallAfter, payload) => {
          const data = patternBytes('slowloris', 4096);
          const headers: Record<string, string> = { 'content-length': String(data.length) };
          let body = data;
          if (payload === 'aws-chunked') {
            body = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n0\r\n\r\n')]);
            Object.assign(headers, {
              'content-encoding': 'aws-chunked',
              'x-amz-decoded-content-length': String(data.length),
              'content-length': String(body.length),
            });
          }
          const contentSha256 =
            payload === 'signed'
              ? undefined
              : payload === 'aws-chunked'
                ? 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'
                : 'UNSIGNED-PAYLOAD';
          const signed = await signRequest(
            w.endpointUrl,
            { method: 'PUT', path: `/${BUCKET}/limits/target`, headers },
            { contentSha256: contentSha256 ?? sha256Hex(data) },
          );
          // Trickle a few small pieces 100 ms apart, then go silent past the idle limit.
          const sent: Buffer[] = [wireBytes({ method: 'PUT', target: signed.target, headers: signed.headers })];
          let offset = 0;
          for (const n of pieces.slice(0, Math.min(stallAfter, pieces.length))) {
            sent.push(body.subarray(offset, offset + n));
            offset += n;
          }
          const started = Date.now();
          const res = await exchange(w.endpointUrl, sent, { paceMs: 100, timeoutMs: idleTimeoutMs * 10 });
          const waited = Date.now() - started;
          const what = `${payload}, ${offset} bytes in ${sent.length - 1} pieces, then silence`;
          const e = assertClientError(res, what);
          assert.equal(e.code, 'RequestTimeout', `${what}: ${res.text}`);
          assert.equal(res.headers.connection, 'close', what);
          assert.ok(waited >= idleTimeoutMs, `${what}: answered after ${waited} ms`);
          const got = await w.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'limits/target' }));
          assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(PREVIOUS), `${what}: stored nothing`);
        },
      ),
      runs(6),
    );
    w.assertNoInternalErrors();
    await sentinels.verify();
  });
});

test('request headers trickled past the headers timeout are answered 400 RequestTimeout, and the connection closed', async () => {
  // Heads get the same idle limit as bodies (idleTimeoutMs, 20 s by default).
  const w = await startTestWorld({ idleTimeoutMs: 400 });
  try {
    const head = 'GET /bucket/key HTTP/1.1\r\nhost: localhost\r\nx-amz-date: 20260101T000000Z\r\n';
    const pieces = [...head].map((c) => Buffer.from(c));
    const started = Date.now();
    const res = await exchange(w.endpoint('us-east-1'), pieces.slice(0, 30), { paceMs: 50, timeoutMs: 5000 });
    assert.equal(assertClientError(res, 'slow headers').code, 'RequestTimeout', res.text);
    assert.equal(res.headers.connection, 'close');
    const waited = Date.now() - started;
    assert.ok(waited >= 400 && waited < 3000, `answered after ${waited} ms`);
  } finally {
    await w.close();
  }
});

/** VmRSS of a process, in bytes. */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  assert.ok(kb, 'VmRSS in /proc/<pid>/status');
  return Number(kb[1]) * 1024;
}

test(
  '200 concurrent slow uploads keep the server’s memory bounded, and a normal request is served meanwhile',
  { timeout: 120_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-flood-'));
    const config = join(dir, 'world.yaml');
    await writeFile(config, 'regions:\n  - name: us-east-1\n    port: 0\n');
    const server = spawnMeridian(['up', '--json', '--config', config, '--data-dir', join(dir, 'data')], {
      MERIDIAN_ROOT_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      MERIDIAN_ROOT_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      MERIDIAN_ROOT_ACCOUNT_ID: CREDENTIALS.accountId,
    });
    try {
      const { regions } = await server.ready;
      const endpoint = regions[0].endpoint;
      const pid = server.proc.pid!;
      const s3 = new S3Client({
        region: 'us-east-1',
        endpoint,
        forcePathStyle: true,
        credentials: CREDENTIALS,
        maxAttempts: 1,
      });
      await s3.send(new CreateBucketCommand({ Bucket: 'flood' }));
      const small = Buffer.from('served during the flood');
      await s3.send(new PutObjectCommand({ Bucket: 'flood', Key: 'normal', Body: small }));
      // Warm up the paths the flood takes before the baseline is read.
      for (let i = 0; i < 20; i++)
        await s3.send(
          new PutObjectCommand({ Bucket: 'flood', Key: `warm/${i}`, Body: patternBytes('warm', 256 * 1024) }),
        );
      const baseline = await rssOf(pid);

      // 200 uploads of 2 MiB each (400 MiB in all), sent in 32 KiB pieces every 150 ms: each
      // takes ~10 s. A server that buffered bodies would hold them all at once.
      const uploads = 200;
      const size = 2 * 1024 * 1024;
      const piece = 32 * 1024;
      const data = patternBytes('flood', size);
      const heads = await Promise.all(
        Array.from({ length: uploads }, (_, i) =>
          signRequest(
            endpoint,
            { method: 'PUT', path: `/flood/slow/${i}`, headers: { 'content-length': String(size) } },
            { contentSha256: 'UNSIGNED-PAYLOAD' },
          ),
        ),
      );
      const pieces = Array.from({ length: size / piece }, (_, i) => data.subarray(i * piece, (i + 1) * piece));
      const flood = heads.map((signed) =>
        exchange(endpoint, [wireBytes({ method: 'PUT', target: signed.target, headers: signed.headers }), ...pieces], {
          paceMs: 150,
          timeoutMs: 90_000,
        }),
      );
      let peak = baseline;
      const samples: number[] = [];
      const sampler = setInterval(() => {
        void rssOf(pid)
          .then((r) => {
            samples.push(r);
            peak = Math.max(peak, r);
          })
          .catch(() => undefined);
      }, 250);
      try {
        // Mid-flood, an ordinary client is served promptly.
        await new Promise((r) => setTimeout(r, 3000));
        const started = Date.now();
        const got = await s3.send(new GetObjectCommand({ Bucket: 'flood', Key: 'normal' }));
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(small));
        await s3.send(new PutObjectCommand({ Bucket: 'flood', Key: 'during', Body: small }));
        const servedMs = Date.now() - started;
        t.diagnostic(`a GET and a PUT during the flood took ${servedMs} ms`);
        assert.ok(servedMs < 5000, `a GET and a PUT took ${servedMs} ms during the flood`);
        const results = await Promise.all(flood);
        for (const r of results) assert.equal(r.status, 200, r.text);
      } finally {
        clearInterval(sampler);
      }
      const MiB = 1024 * 1024;
      const growth = peak - baseline;
      t.diagnostic(
        `RSS baseline ${(baseline / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, growth ${(growth / MiB).toFixed(1)} MiB over ${samples.length} samples, for ${uploads} uploads of ${size / MiB} MiB`,
      );
      // Streaming costs each connection its socket and stream buffers (tens of KiB) and an open
      // file: 200 of them fit in a few tens of MiB. 150 MiB is well under the 400 MiB in flight,
      // so buffering even part of every body would fail here.
      assert.ok(growth < 150 * MiB, `RSS grew ${(growth / MiB).toFixed(1)} MiB during the flood`);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'flood', Prefix: 'slow/' }));
      assert.equal(listed.KeyCount, uploads);
      assert.ok(listed.Contents!.every((c) => c.Size === size));
      s3.destroy();
    } finally {
      server.proc.kill('SIGTERM');
      await server.exited;
      await rm(dir, { recursive: true, force: true });
    }
  },
);
