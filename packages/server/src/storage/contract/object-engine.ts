/**
 * The ObjectEngine contract. An implementation's test file calls `objectEngineContract` with a
 * factory for a fresh engine, the BlobStore it keeps large objects in, and a way to switch a
 * bucket's versioning (there is no engine API for that yet).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { crc32 } from '@aws-crypto/crc32';
import { crc32c } from '@aws-crypto/crc32c';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import fc from 'fast-check';
import { VERSION_ID_LENGTH } from '../../core/ids.ts';
import type { ChecksumAlgorithm } from '../checksum.ts';
import { MIN_PART_SIZE } from '../multipart.ts';
import type {
  BlobStore,
  ByteRange,
  CompletedPart,
  CompleteUploadInput,
  CreateUploadInput,
  Grant,
  ObjectEngine,
  ObjectVersion,
  PartRecord,
  PutObjectInput,
  ReplicaWrite,
  ReplicationConfiguration,
  ReplicationPlanner,
  UploadPartInput,
  UploadRecord,
  VersioningState,
} from '../types.ts';
import { chunksOf, collect, s3Error } from './helpers.ts';

export interface ObjectEngineFixture {
  engine: ObjectEngine;
  /** Where the engine keeps objects larger than `inlineMax`; watched for leaked and freed files. */
  blobs: BlobStore;
  /** Objects larger than this many bytes are stored in `blobs`. */
  inlineMax: number;
  /** The smallest non-last part the engine accepts (default MIN_PART_SIZE); fixtures lower it to keep multipart tests small. */
  minPartSize?: number;
  setVersioning(bucket: string, state: VersioningState): Promise<void>;
  cleanup(): Promise<void>;
}

/** What a contract test may ask of a fresh engine. */
export interface ObjectEngineFixtureOptions {
  /** The replication rules the engine consults (absent: it queues no replication). */
  planner?: ReplicationPlanner;
}

const md5Hex = (b: Buffer) => createHash('md5').update(b).digest('hex');
const md5Base64 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const sha256Base64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
function crc32Base64(b: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b) >>> 0, 0);
  return out.toString('base64');
}

type PutOptions = Partial<Omit<PutObjectInput, 'bucket' | 'key' | 'body'>> & { chunks?: Buffer[] };

function put(
  engine: ObjectEngine,
  bucket: string,
  key: string,
  data: Buffer,
  opts: PutOptions = {},
): Promise<ObjectVersion> {
  const { chunks, ...rest } = opts;
  return engine.putObject({
    bucket,
    key,
    body: Readable.from(chunks ?? [data]),
    userMetadata: {},
    owner: 'owner-1',
    ...rest,
  });
}

async function blobIds(blobs: BlobStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const b of blobs.list()) ids.push(b.id);
  return ids.sort();
}

async function read(
  engine: ObjectEngine,
  bucket: string,
  key: string,
  opts: { versionId?: string; range?: ByteRange } = {},
) {
  const opened = engine.getObject({ bucket, key, ...opts });
  return { version: opened.version, bytes: await collect(opened.body) };
}

/** A body that fails after sending some bytes, like a client that disconnects. */
function failingBody(first: Buffer, err: Error): Readable {
  return Readable.from(
    (async function* () {
      yield first;
      throw err;
    })(),
  );
}

/** `x-amz-checksum-crc32c`'s value for `data`. */
function crc32cBase64(b: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32c(b) >>> 0, 0);
  return out.toString('base64');
}

async function crc64nvmeBase64(b: Buffer): Promise<string> {
  const h = new Crc64Nvme();
  h.update(b);
  return Buffer.from(await h.digest()).toString('base64');
}

function sendPart(
  engine: ObjectEngine,
  upload: UploadRecord,
  partNumber: number,
  data: Buffer,
  opts: Partial<Omit<UploadPartInput, 'bucket' | 'key' | 'uploadId' | 'partNumber'>> = {},
): Promise<PartRecord> {
  return engine.uploadPart({
    bucket: upload.bucket,
    key: upload.key,
    uploadId: upload.uploadId,
    partNumber,
    body: Readable.from([data]),
    ...opts,
  });
}

function completeParts(
  engine: ObjectEngine,
  upload: UploadRecord,
  parts: CompletedPart[],
  opts: Partial<Omit<CompleteUploadInput, 'bucket' | 'key' | 'uploadId' | 'parts'>> = {},
): Promise<ObjectVersion> {
  return engine.completeMultipartUpload({
    bucket: upload.bucket,
    key: upload.key,
    uploadId: upload.uploadId,
    parts,
    ...opts,
  });
}

/** How a client lists a part it uploaded, with its checksum if `withChecksum`. */
function listed(p: PartRecord, withChecksum = false): CompletedPart {
  return { partNumber: p.partNumber, etag: p.etag, ...(withChecksum ? { checksum: p.checksum } : {}) };
}

export function objectEngineContract(
  name: string,
  make: (opts?: ObjectEngineFixtureOptions) => Promise<ObjectEngineFixture>,
): void {
  async function withEngine(fn: (f: ObjectEngineFixture) => Promise<void>): Promise<void> {
    const f = await make();
    try {
      await fn(f);
    } finally {
      await f.cleanup();
    }
  }

  /** An engine with bucket `b` already created. */
  async function withBucket(fn: (engine: ObjectEngine, f: ObjectEngineFixture) => Promise<void>): Promise<void> {
    await withEngine(async (f) => {
      await f.engine.createBucket({ name: 'b', owner: 'owner-1' });
      await fn(f.engine, f);
    });
  }

  describe(`ObjectEngine contract: ${name}`, { concurrency: true }, () => {
    describe('buckets', { concurrency: true }, () => {
      it('creates a bucket in its region, unversioned and private by default', () =>
        withEngine(async ({ engine }) => {
          const before = Date.now();
          const record = await engine.createBucket({ name: 'photos', owner: 'o-1' });
          assert.equal(record.name, 'photos');
          assert.equal(record.owner, 'o-1');
          assert.equal(record.region, engine.region);
          assert.equal(record.versioning, 'Unversioned');
          assert.equal(record.acl, undefined, 'no ACL beyond the owner');
          assert.ok(record.createdAt >= before - 1000 && record.createdAt <= Date.now() + 1000);
          assert.deepEqual(engine.getBucket('photos'), record);
          assert.deepEqual(engine.listBuckets(), [record]);
          const acl: Grant[] = [
            { grantee: { type: 'CanonicalUser', id: 'o-1' }, permission: 'FULL_CONTROL' },
            { grantee: { type: 'Group', uri: 'http://acs.amazonaws.com/groups/global/AllUsers' }, permission: 'READ' },
          ];
          const logs = await engine.createBucket({ name: 'logs', owner: 'o-1', acl });
          assert.deepEqual(logs.acl, acl);
          assert.deepEqual(
            engine
              .listBuckets()
              .map((b) => b.name)
              .sort(),
            ['logs', 'photos'],
          );
        }));

      it('answers BucketAlreadyOwnedByYou for a duplicate', () =>
        withBucket(async (engine) => {
          await assert.rejects(
            engine.createBucket({ name: 'b', owner: 'owner-1' }),
            s3Error('BucketAlreadyOwnedByYou'),
          );
          assert.equal(engine.listBuckets().length, 1);
        }));

      it('deletes only an existing, empty bucket', () =>
        withBucket(async (engine) => {
          await assert.rejects(engine.deleteBucket('ghost'), s3Error('NoSuchBucket'));
          await put(engine, 'b', 'k', Buffer.from('x'));
          await assert.rejects(engine.deleteBucket('b'), s3Error('BucketNotEmpty'));
          await engine.deleteObject({ bucket: 'b', key: 'k' });
          await engine.deleteBucket('b');
          assert.equal(engine.getBucket('b'), undefined);
          await assert.rejects(put(engine, 'b', 'k', Buffer.from('x')), s3Error('NoSuchBucket'));
        }));
    });

    describe('putObject and getObject', { concurrency: true }, () => {
      it('round-trips objects on both sides of the inline threshold, byte for byte, with ranges', () =>
        withBucket(async (engine, f) => {
          const sizes = [
            ...new Set([0, 1, f.inlineMax - 1, f.inlineMax, f.inlineMax + 1, 3 * f.inlineMax + 7, 200_000]),
          ]
            .filter((n) => n >= 0)
            .sort((a, b) => a - b);
          for (const size of sizes) {
            for (const announce of [false, true]) {
              const data = randomBytes(size);
              const key = `obj-${size}-${announce}`;
              const v = await put(engine, 'b', key, data, {
                chunks: chunksOf(data, size + 1),
                contentLength: announce ? size : undefined,
              });
              assert.equal(v.size, size, key);
              assert.equal(v.etag, md5Hex(data), key);
              assert.deepEqual(engine.headObject({ bucket: 'b', key }), v);
              const whole = await read(engine, 'b', key);
              assert.ok(whole.bytes.equals(data), `${key}: bytes differ`);
              assert.deepEqual(whole.version, v);
              if (size === 0) continue;
              const ranges: ByteRange[] = [
                { start: 0, end: 0 },
                { start: size - 1, end: size - 1 },
                { start: 0, end: size - 1 },
                { start: Math.floor(size / 3), end: Math.floor((2 * size) / 3) },
              ];
              for (const range of ranges) {
                const part = await read(engine, 'b', key, { range });
                assert.ok(
                  part.bytes.equals(data.subarray(range.start, range.end + 1)),
                  `${key} ${range.start}-${range.end}`,
                );
              }
            }
          }
        }));

      it('stores the content headers, user metadata, storage class and owner it was given', () =>
        withBucket(async (engine) => {
          const before = Date.now();
          const v = await put(engine, 'b', 'doc.txt', Buffer.from('hello'), {
            contentType: 'text/plain; charset=utf-8',
            contentEncoding: 'gzip',
            contentDisposition: 'attachment; filename="doc.txt"',
            contentLanguage: 'en',
            cacheControl: 'max-age=60',
            expires: 'Wed, 21 Oct 2037 07:28:00 GMT',
            userMetadata: { project: 'meridian', 'multi-word': 'a b' },
            storageClass: 'STANDARD_IA',
            owner: 'o-42',
          });
          const head = engine.headObject({ bucket: 'b', key: 'doc.txt' });
          assert.deepEqual(head, v);
          assert.equal(head.bucket, 'b');
          assert.equal(head.key, 'doc.txt');
          assert.equal(head.contentType, 'text/plain; charset=utf-8');
          assert.equal(head.contentEncoding, 'gzip');
          assert.equal(head.contentDisposition, 'attachment; filename="doc.txt"');
          assert.equal(head.contentLanguage, 'en');
          assert.equal(head.cacheControl, 'max-age=60');
          assert.equal(head.expires, 'Wed, 21 Oct 2037 07:28:00 GMT');
          assert.deepEqual(head.userMetadata, { project: 'meridian', 'multi-word': 'a b' });
          assert.equal(head.storageClass, 'STANDARD_IA');
          assert.equal(head.owner, 'o-42');
          assert.equal(head.isDeleteMarker, false);
          assert.equal(head.versionId, 'null');
          assert.ok(head.lastModified >= before && head.lastModified <= Date.now());
          const plain = await put(engine, 'b', 'plain', Buffer.from('x'));
          assert.equal(plain.storageClass, 'STANDARD');
          assert.equal(plain.checksum, undefined);
        }));

      it('answers IncompleteBody when the body is shorter or longer than announced, and stores nothing', () =>
        withBucket(async (engine, f) => {
          const old = Buffer.from('the previous object');
          await put(engine, 'b', 'k', old);
          const blobsBefore = await blobIds(f.blobs);
          const big = randomBytes(2 * f.inlineMax + 10);
          const cases: [Buffer, number][] = [
            [Buffer.from('short'), 6],
            [Buffer.from('long!!'), 5],
            [big, big.length + 1],
            [big, big.length - 1],
            [Buffer.from('tiny'), f.inlineMax + 100],
          ];
          for (const [data, contentLength] of cases) {
            await assert.rejects(
              put(engine, 'b', 'k', data, { contentLength, chunks: chunksOf(data, 7) }),
              s3Error('IncompleteBody'),
              `${data.length} bytes announced as ${contentLength}`,
            );
            await assert.rejects(put(engine, 'b', 'new', data, { contentLength }), s3Error('IncompleteBody'));
          }
          assert.deepEqual((await read(engine, 'b', 'k')).bytes, old);
          assert.throws(() => engine.headObject({ bucket: 'b', key: 'new' }), s3Error('NoSuchKey'));
          assert.deepEqual(await blobIds(f.blobs), blobsBefore, 'no blob left behind');
        }));

      it('checks Content-MD5: a mismatch is BadDigest and stores nothing', () =>
        withBucket(async (engine, f) => {
          for (const data of [Buffer.from('small body'), randomBytes(f.inlineMax + 500)]) {
            const wrong = md5Base64(Buffer.concat([data, Buffer.from('x')]));
            await assert.rejects(put(engine, 'b', 'k', data, { contentMd5: wrong }), s3Error('BadDigest'));
            assert.throws(() => engine.headObject({ bucket: 'b', key: 'k' }), s3Error('NoSuchKey'));
            assert.deepEqual(await blobIds(f.blobs), []);
            const v = await put(engine, 'b', 'k', data, { contentMd5: md5Base64(data) });
            assert.equal(v.etag, md5Hex(data));
            await engine.deleteObject({ bucket: 'b', key: 'k' });
          }
        }));

      it('computes and stores the requested flexible checksum', () =>
        withBucket(async (engine, f) => {
          const data = randomBytes(f.inlineMax + 300);
          const cases: [ChecksumAlgorithm, string][] = [
            ['CRC32', crc32Base64(data)],
            ['SHA256', sha256Base64(data)],
          ];
          for (const [algorithm, value] of cases) {
            for (const expected of [value, undefined]) {
              const v = await put(engine, 'b', `k-${algorithm}`, data, {
                chunks: chunksOf(data, 3),
                checksum: { algorithm, expected: () => expected },
              });
              assert.deepEqual(v.checksum, { algorithm, value, type: 'FULL_OBJECT' });
              assert.deepEqual(engine.headObject({ bucket: 'b', key: `k-${algorithm}` }).checksum, v.checksum);
            }
          }
        }));

      it('a checksum mismatch is BadDigest and stores nothing', () =>
        withBucket(async (engine, f) => {
          for (const data of [Buffer.from('abc'), randomBytes(f.inlineMax + 1)]) {
            const wrong = crc32Base64(Buffer.concat([data, Buffer.from('!')]));
            await assert.rejects(
              put(engine, 'b', 'k', data, { checksum: { algorithm: 'CRC32', expected: () => wrong } }),
              s3Error('BadDigest'),
            );
            await assert.rejects(
              put(engine, 'b', 'k', data, { checksum: { algorithm: 'SHA256', expected: () => crc32Base64(data) } }),
              s3Error('BadDigest'),
            );
          }
          assert.throws(() => engine.headObject({ bucket: 'b', key: 'k' }), s3Error('NoSuchKey'));
          assert.deepEqual(await blobIds(f.blobs), []);
        }));

      it('reads the expected checksum only after the body has ended (trailers)', () =>
        withBucket(async (engine) => {
          const data = Buffer.from('trailing checksum');
          let ended = false;
          let endedWhenRead: boolean | undefined;
          const body = Readable.from(
            (async function* () {
              yield data.subarray(0, 5);
              yield data.subarray(5);
              ended = true;
            })(),
          );
          const v = await engine.putObject({
            bucket: 'b',
            key: 'k',
            body,
            userMetadata: {},
            owner: 'o',
            checksum: {
              algorithm: 'CRC32',
              expected: () => {
                endedWhenRead = ended;
                return crc32Base64(data);
              },
            },
          });
          assert.equal(endedWhenRead, true);
          assert.equal(v.checksum?.value, crc32Base64(data));
        }));

      it('a body that fails mid-stream rejects with its error and leaves nothing behind', () =>
        withBucket(async (engine, f) => {
          for (const [first, contentLength] of [
            [Buffer.from('abc'), undefined],
            [randomBytes(f.inlineMax + 10), undefined],
            [Buffer.from('abc'), f.inlineMax + 50],
          ] as const) {
            const err = new Error('client went away');
            await assert.rejects(
              engine.putObject({
                bucket: 'b',
                key: 'k',
                body: failingBody(first, err),
                contentLength,
                userMetadata: {},
                owner: 'o',
              }),
              (e) => e === err,
            );
          }
          assert.throws(() => engine.headObject({ bucket: 'b', key: 'k' }), s3Error('NoSuchKey'));
          assert.deepEqual(await blobIds(f.blobs), []);
        }));

      it('answers NoSuchBucket for every object operation on a missing bucket', () =>
        withEngine(async ({ engine }) => {
          await assert.rejects(put(engine, 'ghost', 'k', Buffer.from('x')), s3Error('NoSuchBucket'));
          assert.throws(() => engine.headObject({ bucket: 'ghost', key: 'k' }), s3Error('NoSuchBucket'));
          assert.throws(() => engine.getObject({ bucket: 'ghost', key: 'k' }), s3Error('NoSuchBucket'));
          await assert.rejects(engine.deleteObject({ bucket: 'ghost', key: 'k' }), s3Error('NoSuchBucket'));
          assert.throws(
            () => engine.listObjects({ bucket: 'ghost', prefix: '', maxKeys: 10 }),
            s3Error('NoSuchBucket'),
          );
          assert.throws(
            () => engine.listVersions({ bucket: 'ghost', prefix: '', maxKeys: 10 }),
            s3Error('NoSuchBucket'),
          );
        }));

      it('answers NoSuchKey for a missing key and NoSuchVersion for a missing version', () =>
        withBucket(async (engine) => {
          assert.throws(() => engine.headObject({ bucket: 'b', key: 'nope' }), s3Error('NoSuchKey'));
          assert.throws(() => engine.getObject({ bucket: 'b', key: 'nope' }), s3Error('NoSuchKey'));
          await put(engine, 'b', 'k', Buffer.from('x'));
          assert.throws(
            () => engine.headObject({ bucket: 'b', key: 'k', versionId: 'no-such-version' }),
            s3Error('NoSuchVersion'),
          );
          assert.equal(engine.headObject({ bucket: 'b', key: 'k', versionId: 'null' }).versionId, 'null');
        }));
    });

    describe('unversioned buckets', { concurrency: true }, () => {
      it('an overwrite replaces the object and frees the old blob', () =>
        withBucket(async (engine, f) => {
          const first = randomBytes(f.inlineMax + 100);
          await put(engine, 'b', 'k', first);
          const blobs1 = await blobIds(f.blobs);
          assert.equal(blobs1.length, 1);

          const second = randomBytes(f.inlineMax + 200);
          const v = await put(engine, 'b', 'k', second);
          const blobs2 = await blobIds(f.blobs);
          assert.equal(blobs2.length, 1, 'the old blob is gone');
          assert.notDeepEqual(blobs2, blobs1);
          assert.equal(v.versionId, 'null');
          assert.ok((await read(engine, 'b', 'k')).bytes.equals(second));

          const small = Buffer.alloc(Math.min(10, f.inlineMax));
          await put(engine, 'b', 'k', small);
          assert.deepEqual(await blobIds(f.blobs), []);
          assert.ok((await read(engine, 'b', 'k')).bytes.equals(small));
          const listed = engine.listVersions({ bucket: 'b', prefix: '', maxKeys: 10 });
          assert.equal(listed.entries.length, 1, 'one version only');
        }));

      it('deleteObject removes the object and its bytes', () =>
        withBucket(async (engine, f) => {
          await put(engine, 'b', 'big', randomBytes(f.inlineMax + 1));
          await put(engine, 'b', 'small', Buffer.from('s'));
          const before = (await blobIds(f.blobs)).length;
          assert.deepEqual(await engine.deleteObject({ bucket: 'b', key: 'big' }), { deleteMarker: false });
          assert.equal((await blobIds(f.blobs)).length, before - 1);
          assert.throws(() => engine.headObject({ bucket: 'b', key: 'big' }), s3Error('NoSuchKey'));
          await engine.deleteObject({ bucket: 'b', key: 'small' });
          assert.deepEqual(await blobIds(f.blobs), []);
          assert.deepEqual(engine.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects, []);
          assert.deepEqual(engine.listVersions({ bucket: 'b', prefix: '', maxKeys: 10 }).entries, []);
          assert.deepEqual(await engine.deleteObject({ bucket: 'b', key: 'never-was' }), { deleteMarker: false });
        }));

      it('lists objects through the engine', () =>
        withBucket(async (engine) => {
          for (const key of ['a/1', 'a/2', 'b']) await put(engine, 'b', key, Buffer.from(key));
          const r = engine.listObjects({ bucket: 'b', prefix: '', delimiter: '/', maxKeys: 10 });
          assert.deepEqual(
            r.objects.map((o) => [o.key, o.size]),
            [['b', 1]],
          );
          assert.deepEqual(r.commonPrefixes, ['a/']);
        }));
    });

    describe('sweepOrphans', { concurrency: true }, () => {
      it('removes unreferenced blobs older than the cut-off and keeps referenced and newer ones', () =>
        withBucket(async (engine, f) => {
          const data = randomBytes(f.inlineMax + 1);
          await put(engine, 'b', 'k', data);
          const [referenced] = await blobIds(f.blobs);
          const w = await f.blobs.create();
          await w.write(Buffer.from('crashed before metadata'));
          await w.commit();
          let orphanMtime = 0;
          for await (const b of f.blobs.list()) if (b.id === w.id) orphanMtime = b.mtimeMs;
          assert.ok(orphanMtime > 0);

          assert.equal(await engine.sweepOrphans(orphanMtime), 0, 'a blob not older than the cut-off is kept');
          assert.deepEqual(await blobIds(f.blobs), [referenced, w.id].sort());

          const aborted = new AbortController();
          aborted.abort();
          assert.equal(
            await engine.sweepOrphans(Date.now() + 60_000, aborted.signal),
            0,
            'an aborted sweep removes nothing',
          );

          assert.equal(await engine.sweepOrphans(Date.now() + 60_000), 1);
          assert.deepEqual(await blobIds(f.blobs), [referenced]);
          assert.ok((await read(engine, 'b', 'k')).bytes.equals(data));
          assert.equal(await engine.sweepOrphans(Date.now() + 60_000), 0);
        }));
    });

    describe('versioning Enabled', { concurrency: true }, () => {
      it('gives every put a new, 32-character version id that sorts by creation and keeps old versions', () =>
        withBucket(async (engine, f) => {
          await f.setVersioning('b', 'Enabled');
          const datas = [
            randomBytes(f.inlineMax + 10),
            Buffer.from('two'),
            randomBytes(f.inlineMax + 20),
            Buffer.from('four'),
          ];
          const versions: ObjectVersion[] = [];
          for (const d of datas) versions.push(await put(engine, 'b', 'k', d));
          const ids = versions.map((v) => v.versionId);
          for (const id of ids) {
            assert.equal(id.length, VERSION_ID_LENGTH);
            assert.match(id, /^[0-9A-Za-z]+$/);
          }
          assert.equal(new Set(ids).size, ids.length);
          assert.deepEqual([...ids].sort(), ids, 'ids sort in creation order');

          assert.equal(engine.headObject({ bucket: 'b', key: 'k' }).versionId, ids[3]);
          for (const [i, d] of datas.entries()) {
            assert.ok((await read(engine, 'b', 'k', { versionId: ids[i] })).bytes.equals(d), `version ${i}`);
          }
          const listed = engine.listVersions({ bucket: 'b', prefix: '', maxKeys: 10 }).entries;
          assert.deepEqual(
            listed.map((e) => e.version.versionId),
            [...ids].reverse(),
          );
          assert.deepEqual(
            listed.map((e) => e.isLatest),
            [true, false, false, false],
          );
          const large = datas.filter((d) => d.length > f.inlineMax).length;
          assert.equal((await blobIds(f.blobs)).length, large, 'no version lost its bytes');
        }));

      it('a simple delete inserts a delete marker; the object hides but its versions stay', () =>
        withBucket(async (engine, f) => {
          await f.setVersioning('b', 'Enabled');
          const data = randomBytes(f.inlineMax + 5);
          const v1 = await put(engine, 'b', 'k', data);
          const del = await engine.deleteObject({ bucket: 'b', key: 'k' });
          assert.equal(del.deleteMarker, true);
          assert.equal(del.versionId?.length, VERSION_ID_LENGTH);
          assert.ok(del.versionId! > v1.versionId);
          const markerId = del.versionId!;

          assert.throws(
            () => engine.headObject({ bucket: 'b', key: 'k' }),
            s3Error('NoSuchKey', { 'x-amz-delete-marker': 'true', 'x-amz-version-id': markerId }),
          );
          assert.throws(
            () => engine.getObject({ bucket: 'b', key: 'k' }),
            s3Error('NoSuchKey', { 'x-amz-delete-marker': 'true' }),
          );
          assert.throws(
            () => engine.headObject({ bucket: 'b', key: 'k', versionId: markerId }),
            (err) =>
              s3Error('MethodNotAllowed', { 'x-amz-delete-marker': 'true', 'x-amz-version-id': markerId })(err) &&
              (err as { status: number }).status === 405,
          );
          assert.ok((await read(engine, 'b', 'k', { versionId: v1.versionId })).bytes.equals(data));
          assert.deepEqual(engine.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects, []);
          const listed = engine.listVersions({ bucket: 'b', prefix: '', maxKeys: 10 }).entries;
          assert.deepEqual(
            listed.map((e) => [e.version.versionId, e.version.isDeleteMarker, e.isLatest]),
            [
              [markerId, true, true],
              [v1.versionId, false, false],
            ],
          );
          await assert.rejects(engine.deleteBucket('b'), s3Error('BucketNotEmpty'));
          assert.equal((await blobIds(f.blobs)).length, 1);
        }));

      it('deleting the delete marker by id brings the object back', () =>
        withBucket(async (engine, f) => {
          await f.setVersioning('b', 'Enabled');
          const v1 = await put(engine, 'b', 'k', Buffer.from('alive'));
          const { versionId: markerId } = await engine.deleteObject({ bucket: 'b', key: 'k' });
          assert.deepEqual(await engine.deleteObject({ bucket: 'b', key: 'k', versionId: markerId }), {
            versionId: markerId,
            deleteMarker: true,
          });
          assert.equal(engine.headObject({ bucket: 'b', key: 'k' }).versionId, v1.versionId);
          assert.deepEqual((await read(engine, 'b', 'k')).bytes, Buffer.from('alive'));
        }));

      it('deleting a version by id removes it permanently with its bytes', () =>
        withBucket(async (engine, f) => {
          await f.setVersioning('b', 'Enabled');
          const old = await put(engine, 'b', 'k', randomBytes(f.inlineMax + 1));
          const cur = await put(engine, 'b', 'k', randomBytes(f.inlineMax + 2));
          const blobsBefore = (await blobIds(f.blobs)).length;
          assert.deepEqual(await engine.deleteObject({ bucket: 'b', key: 'k', versionId: cur.versionId }), {
            versionId: cur.versionId,
            deleteMarker: false,
          });
          assert.equal((await blobIds(f.blobs)).length, blobsBefore - 1);
          assert.throws(
            () => engine.headObject({ bucket: 'b', key: 'k', versionId: cur.versionId }),
            s3Error('NoSuchVersion'),
          );
          assert.equal(
            engine.headObject({ bucket: 'b', key: 'k' }).versionId,
            old.versionId,
            'the previous version is current again',
          );
        }));

      it('an object written before versioning was enabled stays as the null version', () =>
        withBucket(async (engine, f) => {
          await put(engine, 'b', 'k', Buffer.from('before'));
          await f.setVersioning('b', 'Enabled');
          const v = await put(engine, 'b', 'k', Buffer.from('after'));
          assert.notEqual(v.versionId, 'null');
          const listed = engine
            .listVersions({ bucket: 'b', prefix: '', maxKeys: 10 })
            .entries.map((e) => e.version.versionId);
          assert.deepEqual(listed, [v.versionId, 'null']);
          assert.deepEqual((await read(engine, 'b', 'k', { versionId: 'null' })).bytes, Buffer.from('before'));
        }));
    });

    describe('versioning Suspended', { concurrency: true }, () => {
      it('a put overwrites the null version and keeps the others', () =>
        withBucket(async (engine, f) => {
          await f.setVersioning('b', 'Enabled');
          const v1 = await put(engine, 'b', 'k', randomBytes(f.inlineMax + 1));
          const v2 = await put(engine, 'b', 'k', randomBytes(f.inlineMax + 2));
          await f.setVersioning('b', 'Suspended');
          const n1 = await put(engine, 'b', 'k', randomBytes(f.inlineMax + 3));
          assert.equal(n1.versionId, 'null');
          const blobsAfterFirstNull = await blobIds(f.blobs);
          const n2data = randomBytes(f.inlineMax + 4);
          const n2 = await put(engine, 'b', 'k', n2data);
          assert.equal(n2.versionId, 'null');

          const listed = engine.listVersions({ bucket: 'b', prefix: '', maxKeys: 10 }).entries;
          assert.deepEqual(
            listed.map((e) => e.version.versionId),
            ['null', v2.versionId, v1.versionId],
          );
          assert.equal(listed[0].version.etag, n2.etag);
          assert.ok((await read(engine, 'b', 'k')).bytes.equals(n2data));
          const blobsNow = await blobIds(f.blobs);
          assert.equal(blobsNow.length, blobsAfterFirstNull.length, 'the first null version freed its blob');
          assert.equal(blobsNow.length, 3);
        }));

      it('a simple delete puts a null delete marker in place of the null version', () =>
        withBucket(async (engine, f) => {
          await f.setVersioning('b', 'Enabled');
          const v1 = await put(engine, 'b', 'k', Buffer.from('kept'));
          await f.setVersioning('b', 'Suspended');
          await put(engine, 'b', 'k', randomBytes(f.inlineMax + 1));
          assert.deepEqual(await engine.deleteObject({ bucket: 'b', key: 'k' }), {
            versionId: 'null',
            deleteMarker: true,
          });
          assert.equal(
            (await blobIds(f.blobs)).length,
            'kept'.length > f.inlineMax ? 1 : 0,
            'the replaced null version freed its blob',
          );
          const listed = engine.listVersions({ bucket: 'b', prefix: '', maxKeys: 10 }).entries;
          assert.deepEqual(
            listed.map((e) => [e.version.versionId, e.version.isDeleteMarker]),
            [
              ['null', true],
              [v1.versionId, false],
            ],
          );
          assert.throws(
            () => engine.headObject({ bucket: 'b', key: 'k' }),
            s3Error('NoSuchKey', { 'x-amz-delete-marker': 'true' }),
          );
        }));
    });

    describe('multipart', { concurrency: true }, () => {
      /** The engine's smallest non-last part. */
      const minPart = (f: ObjectEngineFixture) => f.minPartSize ?? MIN_PART_SIZE;

      function create(engine: ObjectEngine, key = 'k', opts: Partial<CreateUploadInput> = {}): Promise<UploadRecord> {
        return engine.createMultipartUpload({ bucket: 'b', key, owner: 'owner-1', userMetadata: {}, ...opts });
      }

      it('assembles an object from three parts: bytes, ranges across part boundaries, ETag, parts, metadata', () =>
        withBucket(async (engine, f) => {
          const m = minPart(f);
          const tags = [{ key: 'team', value: 'storage' }];
          const upload = await create(engine, 'big', {
            contentType: 'video/mp4',
            userMetadata: { origin: 'camera' },
            storageClass: 'STANDARD_IA',
            tags,
          });
          assert.equal(upload.uploadId.length > 0, true);
          assert.deepEqual(engine.getUpload('b', 'big', upload.uploadId), upload);
          const datas = [randomBytes(m), randomBytes(m + 17), randomBytes(100)];
          const parts: PartRecord[] = [];
          for (const [i, data] of datas.entries()) {
            const p = await sendPart(engine, upload, i + 1, data, {
              contentLength: data.length,
              contentMd5: md5Base64(data),
            });
            assert.equal(p.partNumber, i + 1);
            assert.equal(p.size, data.length);
            assert.equal(p.etag, md5Hex(data));
            parts.push(p);
          }
          const listing = engine.listParts('b', 'big', upload.uploadId, 0, 1000);
          assert.deepEqual(listing.upload, upload);
          assert.deepEqual(listing.parts, parts);
          assert.deepEqual(
            engine.listMultipartUploads({ bucket: 'b', prefix: '', maxUploads: 10 }).uploads.map((u) => u.uploadId),
            [upload.uploadId],
          );
          assert.equal((await blobIds(f.blobs)).length, 3, 'one blob per part');
          await new Promise((resolve) => setTimeout(resolve, 5));

          const v = await completeParts(
            engine,
            upload,
            parts.map((p) => listed(p)),
          );
          const whole = Buffer.concat(datas);
          const etagOfEtags = createHash('md5')
            .update(Buffer.concat(datas.map((d) => createHash('md5').update(d).digest())))
            .digest('hex');
          assert.equal(v.etag, `${etagOfEtags}-3`);
          assert.equal(v.size, whole.length);
          assert.equal(v.partsCount, 3);
          assert.equal(v.versionId, 'null');
          assert.equal(v.lastModified, upload.initiated, "S3 dates a multipart object by its upload's start");
          assert.equal(v.contentType, 'video/mp4');
          assert.deepEqual(v.userMetadata, { origin: 'camera' });
          assert.equal(v.storageClass, 'STANDARD_IA');
          assert.deepEqual(v.tags, tags);
          assert.equal(v.checksum, undefined);
          assert.deepEqual(engine.headObject({ bucket: 'b', key: 'big' }), v);
          const got = await read(engine, 'b', 'big');
          assert.ok(got.bytes.equals(whole), 'whole object bytes differ');
          assert.deepEqual(
            engine.partsOf(v)?.map((p) => [p.partNumber, p.size, p.etag]),
            datas.map((d, i) => [i + 1, d.length, md5Hex(d)]),
          );
          assert.equal(engine.partsOf(engine.headObject({ bucket: 'b', key: 'big' }))?.length, 3);
          assert.throws(() => engine.getUpload('b', 'big', upload.uploadId), s3Error('NoSuchUpload'));
          assert.deepEqual(engine.listMultipartUploads({ bucket: 'b', prefix: '', maxUploads: 10 }).uploads, []);
          assert.deepEqual(engine.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects, [v]);
          assert.equal((await blobIds(f.blobs)).length, 3, 'the object is its parts: nothing copied');

          const boundaries: ByteRange[] = [
            { start: m - 1, end: m },
            { start: m, end: m },
            { start: m - 1, end: m - 1 },
            { start: 2 * m + 16, end: 2 * m + 17 },
            { start: 0, end: whole.length - 1 },
            { start: 1, end: whole.length - 2 },
            { start: whole.length - 1, end: whole.length - 1 },
            { start: m - 5, end: 2 * m + 20 },
          ];
          for (const range of boundaries) {
            const r = await read(engine, 'b', 'big', { range });
            assert.ok(r.bytes.equals(whole.subarray(range.start, range.end + 1)), `${range.start}-${range.end}`);
          }
          await fc.assert(
            fc.asyncProperty(
              fc
                .tuple(fc.nat(whole.length - 1), fc.nat(whole.length - 1))
                .map(([a, b]) => ({ start: Math.min(a, b), end: Math.max(a, b) })),
              async (range) => {
                const r = await read(engine, 'b', 'big', { range });
                assert.equal(r.bytes.length, range.end - range.start + 1);
                assert.ok(r.bytes.equals(whole.subarray(range.start, range.end + 1)), `${range.start}-${range.end}`);
              },
            ),
            { numRuns: 60 },
          );
        }));

      it('a CRC32C COMPOSITE upload: every part gets a CRC32C, the object the CRC32C of the part CRCs', () =>
        withBucket(async (engine, f) => {
          const m = minPart(f);
          const upload = await create(engine, 'k', { checksum: { algorithm: 'CRC32C', type: 'COMPOSITE' } });
          assert.deepEqual(upload.checksum, { algorithm: 'CRC32C', type: 'COMPOSITE' });
          const datas = [randomBytes(m + 3), randomBytes(m), randomBytes(10)];
          const parts = [
            // The client may send the part checksum (checked) or not (computed all the same).
            await sendPart(engine, upload, 1, datas[0], {
              checksum: { algorithm: 'CRC32C', expected: () => crc32cBase64(datas[0]) },
            }),
            await sendPart(engine, upload, 2, datas[1]),
            await sendPart(engine, upload, 3, datas[2], {
              checksum: { algorithm: 'CRC32C', expected: () => undefined },
            }),
          ];
          datas.forEach((d, i) => assert.deepEqual(parts[i].checksum, { algorithm: 'CRC32C', value: crc32cBase64(d) }));
          const ofCrcs = Buffer.concat(datas.map((d) => Buffer.from(crc32cBase64(d), 'base64')));
          const expected = `${crc32cBase64(ofCrcs)}-3`;
          const v = await completeParts(
            engine,
            upload,
            parts.map((p) => listed(p, true)),
            {
              expectedChecksum: { algorithm: 'CRC32C', value: crc32cBase64(ofCrcs), type: 'COMPOSITE' },
            },
          );
          assert.deepEqual(v.checksum, { algorithm: 'CRC32C', type: 'COMPOSITE', value: expected });
          assert.deepEqual(engine.headObject({ bucket: 'b', key: 'k' }).checksum, v.checksum);
          assert.deepEqual(
            engine.partsOf(v)?.map((p) => p.checksum),
            datas.map((d) => ({ algorithm: 'CRC32C', value: crc32cBase64(d) })),
          );
          assert.ok((await read(engine, 'b', 'k')).bytes.equals(Buffer.concat(datas)));
        }));

      it('a complete request naming another checksum type than the upload’s is refused', () =>
        withBucket(async (engine, f) => {
          const upload = await create(engine, 'k', { checksum: { algorithm: 'CRC32C', type: 'COMPOSITE' } });
          const data = randomBytes(minPart(f));
          const part = await sendPart(engine, upload, 1, data);
          await assert.rejects(
            completeParts(engine, upload, [listed(part, true)], {
              expectedChecksum: { algorithm: 'CRC32C', value: crc32cBase64(data), type: 'FULL_OBJECT' },
            }),
            s3Error('InvalidRequest'),
          );
          assert.equal(engine.listParts('b', 'k', upload.uploadId, 0, 10).parts.length, 1, 'the upload is still open');
        }));

      it('a CRC64NVME FULL_OBJECT upload: the object checksum is the CRC of the whole object', () =>
        withBucket(async (engine, f) => {
          const m = minPart(f);
          const upload = await create(engine, 'k', { checksum: { algorithm: 'CRC64NVME', type: 'FULL_OBJECT' } });
          const datas = [randomBytes(m + 1), randomBytes(m + 2), randomBytes(333)];
          const parts: PartRecord[] = [];
          for (const [i, d] of datas.entries()) parts.push(await sendPart(engine, upload, i + 1, d));
          for (const [i, d] of datas.entries()) {
            assert.deepEqual(parts[i].checksum, { algorithm: 'CRC64NVME', value: await crc64nvmeBase64(d) });
          }
          const whole = await crc64nvmeBase64(Buffer.concat(datas));
          // A wrong whole-object checksum is BadDigest and leaves the upload to be completed again.
          await assert.rejects(
            completeParts(
              engine,
              upload,
              parts.map((p) => listed(p)),
              {
                expectedChecksum: { algorithm: 'CRC64NVME', value: parts[0].checksum!.value },
              },
            ),
            s3Error('BadDigest'),
          );
          assert.throws(() => engine.headObject({ bucket: 'b', key: 'k' }), s3Error('NoSuchKey'));
          // Part checksums are optional in the request of a FULL_OBJECT upload.
          const v = await completeParts(
            engine,
            upload,
            parts.map((p) => listed(p)),
            {
              expectedChecksum: { algorithm: 'CRC64NVME', value: whole },
            },
          );
          assert.deepEqual(v.checksum, { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: whole });
          assert.ok((await read(engine, 'b', 'k')).bytes.equals(Buffer.concat(datas)));
        }));

      it('a part whose checksum does not match is BadDigest and leaves no part and no blob', () =>
        withBucket(async (engine, f) => {
          const data = randomBytes(minPart(f));
          const withAlgorithm = await create(engine, 'k', { checksum: { algorithm: 'CRC32C', type: 'COMPOSITE' } });
          await assert.rejects(
            sendPart(engine, withAlgorithm, 1, data, {
              checksum: { algorithm: 'CRC32C', expected: () => crc32cBase64(Buffer.concat([data, Buffer.from('!')])) },
            }),
            s3Error('BadDigest'),
          );
          const without = await create(engine, 'k2');
          await assert.rejects(
            sendPart(engine, without, 1, data, {
              checksum: { algorithm: 'SHA256', expected: () => sha256Base64(Buffer.from('x')) },
            }),
            s3Error('BadDigest'),
          );
          await assert.rejects(
            sendPart(engine, without, 2, data, { contentMd5: md5Base64(Buffer.from('x')) }),
            s3Error('BadDigest'),
          );
          await assert.rejects(
            sendPart(engine, without, 3, data, { contentLength: data.length + 1 }),
            s3Error('IncompleteBody'),
          );
          assert.deepEqual(engine.listParts('b', 'k', withAlgorithm.uploadId, 0, 10).parts, []);
          assert.deepEqual(engine.listParts('b', 'k2', without.uploadId, 0, 10).parts, []);
          assert.deepEqual(await blobIds(f.blobs), []);
          // Without an upload algorithm, a part keeps the checksum its client chose.
          const p = await sendPart(engine, without, 1, data, {
            checksum: { algorithm: 'SHA256', expected: () => sha256Base64(data) },
          });
          assert.deepEqual(p.checksum, { algorithm: 'SHA256', value: sha256Base64(data) });
        }));

      it("a part checksum in another algorithm than the upload's is InvalidRequest", () =>
        withBucket(async (engine, f) => {
          const data = randomBytes(minPart(f));
          const upload = await create(engine, 'k', { checksum: { algorithm: 'CRC32C', type: 'COMPOSITE' } });
          await assert.rejects(
            sendPart(engine, upload, 1, data, { checksum: { algorithm: 'CRC32', expected: () => crc32Base64(data) } }),
            (err) =>
              s3Error('InvalidRequest')(err) &&
              (err as Error).message ===
                'Checksum Type mismatch occurred, expected checksum Type: crc32c, actual checksum Type: crc32',
          );
          assert.deepEqual(engine.listParts('b', 'k', upload.uploadId, 0, 10).parts, []);
          assert.deepEqual(await blobIds(f.blobs), []);
        }));

      it('a completion the parts do not support fails and leaves the upload as it was', () =>
        withBucket(async (engine, f) => {
          const m = minPart(f);
          const upload = await create(engine, 'k', { checksum: { algorithm: 'CRC32C', type: 'COMPOSITE' } });
          const small = await sendPart(engine, upload, 1, randomBytes(m - 1));
          const p2 = await sendPart(engine, upload, 2, randomBytes(m));
          const p3 = await sendPart(engine, upload, 3, randomBytes(5));
          const blobsBefore = await blobIds(f.blobs);
          const fails: [CompletedPart[], (err: unknown) => boolean][] = [
            [[{ ...listed(p2, true), etag: md5Hex(Buffer.from('other')) }, listed(p3, true)], s3Error('InvalidPart')],
            [[listed(p2, true), { partNumber: 4, etag: p3.etag, checksum: p3.checksum }], s3Error('InvalidPart')],
            [[listed(p3, true), listed(p2, true)], s3Error('InvalidPartOrder')],
            [[listed(small, true), listed(p2, true), listed(p3, true)], s3Error('EntityTooSmall')],
            [[listed(p2, true), listed(p3)], s3Error('InvalidRequest')],
            [[], s3Error('InvalidRequest')],
          ];
          for (const [parts, check] of fails) {
            await assert.rejects(
              completeParts(engine, upload, parts),
              check,
              JSON.stringify(parts.map((p) => p.partNumber)),
            );
          }
          await assert.rejects(
            completeParts(engine, upload, [listed(small, true), listed(p2, true), listed(p3, true)]),
            (err) => {
              const fields = (err as { fields?: Record<string, string> }).fields;
              assert.deepEqual(fields, {
                ProposedSize: String(m - 1),
                MinSizeAllowed: String(m),
                PartNumber: '1',
                ETag: small.etag,
              });
              return true;
            },
          );
          assert.throws(() => engine.headObject({ bucket: 'b', key: 'k' }), s3Error('NoSuchKey'));
          assert.deepEqual(engine.getUpload('b', 'k', upload.uploadId), upload);
          assert.deepEqual(engine.listParts('b', 'k', upload.uploadId, 0, 10).parts, [small, p2, p3]);
          assert.deepEqual(await blobIds(f.blobs), blobsBefore);
          // A correct list still completes it, and the part left out is freed.
          const v = await completeParts(engine, upload, [listed(p2, true), listed(p3, true)]);
          assert.equal(v.size, m + 5);
          assert.deepEqual(await blobIds(f.blobs), [p2.blob, p3.blob].sort());
        }));

      it('abort frees every part blob; so does deleting the completed object', () =>
        withBucket(async (engine, f) => {
          const m = minPart(f);
          const aborted = await create(engine, 'k');
          for (const n of [1, 2, 3]) await sendPart(engine, aborted, n, randomBytes(m));
          assert.equal((await blobIds(f.blobs)).length, 3);
          await engine.abortMultipartUpload('b', 'k', aborted.uploadId);
          assert.deepEqual(await blobIds(f.blobs), []);
          assert.throws(() => engine.getUpload('b', 'k', aborted.uploadId), s3Error('NoSuchUpload'));
          assert.throws(() => engine.listParts('b', 'k', aborted.uploadId, 0, 10), s3Error('NoSuchUpload'));
          await assert.rejects(engine.abortMultipartUpload('b', 'k', aborted.uploadId), s3Error('NoSuchUpload'));
          await assert.rejects(completeParts(engine, aborted, [{ partNumber: 1, etag: 'x' }]), s3Error('NoSuchUpload'));

          const done = await create(engine, 'k');
          // Uploading a part number again replaces the part and frees the old bytes.
          const first = await sendPart(engine, done, 1, randomBytes(m));
          const parts = [
            await sendPart(engine, done, 1, randomBytes(m + 1)),
            await sendPart(engine, done, 2, randomBytes(7)),
          ];
          assert.deepEqual(await blobIds(f.blobs), parts.map((p) => p.blob).sort());
          await assert.rejects(completeParts(engine, done, [listed(first), listed(parts[1])]), s3Error('InvalidPart'));
          await completeParts(
            engine,
            done,
            parts.map((p) => listed(p)),
          );
          await assert.rejects(engine.abortMultipartUpload('b', 'k', done.uploadId), s3Error('NoSuchUpload'));
          assert.equal((await blobIds(f.blobs)).length, 2);
          await engine.deleteObject({ bucket: 'b', key: 'k' });
          assert.deepEqual(await blobIds(f.blobs), []);
        }));

      it('uploadPart to a completed upload is NoSuchUpload and leaves no blob, even mid-body', () =>
        withBucket(async (engine, f) => {
          const m = minPart(f);
          const upload = await create(engine, 'k');
          const p1 = await sendPart(engine, upload, 1, randomBytes(m));
          // A part whose body is still arriving when the upload completes.
          const body = new PassThrough();
          body.write(randomBytes(100));
          const late = engine.uploadPart({ bucket: 'b', key: 'k', uploadId: upload.uploadId, partNumber: 2, body });
          await new Promise((resolve) => setTimeout(resolve, 10));
          const v = await completeParts(engine, upload, [listed(p1)]);
          body.end(randomBytes(100));
          await assert.rejects(late, s3Error('NoSuchUpload'));
          await assert.rejects(sendPart(engine, upload, 3, randomBytes(m)), s3Error('NoSuchUpload'));
          await assert.rejects(sendPart(engine, upload, 1, randomBytes(10)), s3Error('NoSuchUpload'));
          assert.deepEqual(await blobIds(f.blobs), [p1.blob]);
          assert.deepEqual(
            engine.partsOf(v)?.map((p) => p.blob),
            [p1.blob],
          );
          assert.equal((await read(engine, 'b', 'k')).bytes.length, m);
        }));

      it('an empty last part adds no bytes and no blob', () =>
        withBucket(async (engine, f) => {
          const data = randomBytes(minPart(f));
          const upload = await create(engine, 'k');
          const p1 = await sendPart(engine, upload, 1, data);
          const p2 = await sendPart(engine, upload, 2, Buffer.alloc(0));
          assert.equal(p2.size, 0);
          assert.equal(p2.etag, md5Hex(Buffer.alloc(0)));
          assert.equal((await blobIds(f.blobs)).length, 1);
          const v = await completeParts(engine, upload, [listed(p1), listed(p2)]);
          assert.equal(v.size, data.length);
          assert.ok((await read(engine, 'b', 'k')).bytes.equals(data));
          const tail = await read(engine, 'b', 'k', { range: { start: data.length - 2, end: data.length - 1 } });
          assert.ok(tail.bytes.equals(data.subarray(-2)));
        }));

      it('in a versioned bucket a completed upload gets a version id and keeps older versions', () =>
        withBucket(async (engine, f) => {
          await f.setVersioning('b', 'Enabled');
          const old = await put(engine, 'b', 'k', Buffer.from('old'));
          await new Promise((resolve) => setTimeout(resolve, 5));
          const upload = await create(engine, 'k');
          const data = randomBytes(minPart(f) + 1);
          const p1 = await sendPart(engine, upload, 1, data);
          const v = await completeParts(engine, upload, [listed(p1)]);
          assert.equal(v.versionId.length, VERSION_ID_LENGTH);
          assert.notEqual(v.versionId, old.versionId);
          assert.equal(v.lastModified, upload.initiated);
          assert.equal(engine.headObject({ bucket: 'b', key: 'k' }).versionId, v.versionId);
          assert.deepEqual(
            engine
              .listVersions({ bucket: 'b', prefix: '', maxKeys: 10 })
              .entries.map((e) => [e.version.versionId, e.isLatest]),
            [
              [v.versionId, true],
              [old.versionId, false],
            ],
          );
          assert.ok((await read(engine, 'b', 'k', { versionId: v.versionId })).bytes.equals(data));
          assert.deepEqual((await read(engine, 'b', 'k', { versionId: old.versionId })).bytes, Buffer.from('old'));
          await engine.deleteObject({ bucket: 'b', key: 'k', versionId: v.versionId });
          assert.equal(engine.headObject({ bucket: 'b', key: 'k' }).versionId, old.versionId);
          assert.deepEqual(
            await blobIds(f.blobs),
            old.data.kind === 'blob' ? [old.data.id] : [],
            'only the old version is left',
          );
        }));

      it('versions order by when the upload started: a PUT made meanwhile stays current', () =>
        withBucket(async (engine, f) => {
          await f.setVersioning('b', 'Enabled');
          const upload = await create(engine, 'k');
          const p1 = await sendPart(engine, upload, 1, randomBytes(minPart(f)));
          await new Promise((resolve) => setTimeout(resolve, 5));
          const meanwhile = await put(engine, 'b', 'k', Buffer.from('newer'));
          const v = await completeParts(engine, upload, [listed(p1)]);
          assert.ok(v.lastModified < meanwhile.lastModified);
          assert.equal(engine.headObject({ bucket: 'b', key: 'k' }).versionId, meanwhile.versionId);
          assert.deepEqual(
            engine
              .listVersions({ bucket: 'b', prefix: '', maxKeys: 10 })
              .entries.map((e) => [e.version.versionId, e.isLatest]),
            [
              [meanwhile.versionId, true],
              [v.versionId, false],
            ],
          );
          // Unversioned, the completion replaces the null version whenever it was written.
          await engine.createBucket({ name: 'plain', owner: 'owner-1' });
          const u2 = await engine.createMultipartUpload({ bucket: 'plain', key: 'k', owner: 'o', userMetadata: {} });
          const q1 = await sendPart(engine, u2, 1, Buffer.from('multipart'));
          await new Promise((resolve) => setTimeout(resolve, 5));
          await put(engine, 'plain', 'k', randomBytes(f.inlineMax + 1));
          await completeParts(engine, u2, [listed(q1)]);
          assert.deepEqual((await read(engine, 'plain', 'k')).bytes, Buffer.from('multipart'));
          assert.equal(engine.listVersions({ bucket: 'plain', prefix: '', maxKeys: 10 }).entries.length, 1);
        }));

      it('the orphan sweeper keeps the parts of open uploads and of multipart objects', () =>
        withBucket(async (engine, f) => {
          const m = minPart(f);
          const open = await create(engine, 'open');
          await sendPart(engine, open, 1, randomBytes(m));
          const done = await create(engine, 'done');
          const data = randomBytes(m + 3);
          const d1 = await sendPart(engine, done, 1, data.subarray(0, m));
          const d2 = await sendPart(engine, done, 2, data.subarray(m));
          await completeParts(engine, done, [listed(d1), listed(d2)]);
          const before = await blobIds(f.blobs);
          assert.equal(before.length, 3);
          assert.equal(await engine.sweepOrphans(Date.now() + 60_000), 0);
          assert.deepEqual(await blobIds(f.blobs), before);
          assert.ok((await read(engine, 'b', 'done')).bytes.equals(data));
        }));

      it('updateObject rewrites the tags of a multipart object and keeps its bytes and parts', () =>
        withBucket(async (engine, f) => {
          const upload = await create(engine, 'k', { tags: [{ key: 'a', value: '1' }] });
          const data = randomBytes(minPart(f) + 10);
          const p1 = await sendPart(engine, upload, 1, data);
          const v = await completeParts(engine, upload, [listed(p1)]);
          const tags = [{ key: 'b', value: '2' }];
          const updated = await engine.updateObject({ bucket: 'b', key: 'k' }, (cur) => ({ ...cur, tags }));
          assert.ok(updated.metadataModified !== undefined && updated.metadataModified > v.lastModified, 'the change is dated');
          assert.deepEqual(updated, { ...v, tags, metadataModified: updated.metadataModified });
          assert.deepEqual(engine.headObject({ bucket: 'b', key: 'k' }), updated);
          assert.deepEqual(engine.partsOf(updated), engine.partsOf(v));
          assert.ok((await read(engine, 'b', 'k')).bytes.equals(data));
          const byId = await engine.updateObject({ bucket: 'b', key: 'k', versionId: 'null' }, (cur) => ({
            ...cur,
            tags: undefined,
          }));
          assert.equal(byId.tags, undefined);
          assert.equal(engine.headObject({ bucket: 'b', key: 'k' }).tags, undefined);
          await assert.rejects(
            engine.updateObject({ bucket: 'b', key: 'nope' }, (cur) => cur),
            s3Error('NoSuchKey'),
          );
          await assert.rejects(
            engine.updateObject({ bucket: 'b', key: 'k', versionId: 'x'.repeat(32) }, (cur) => cur),
            s3Error('NoSuchVersion'),
          );
          await f.setVersioning('b', 'Enabled');
          const marker = await engine.deleteObject({ bucket: 'b', key: 'k' });
          await assert.rejects(
            engine.updateObject({ bucket: 'b', key: 'k' }, (cur) => ({ ...cur, tags })),
            s3Error('NoSuchKey', { 'x-amz-delete-marker': 'true' }),
          );
          await assert.rejects(
            engine.updateObject({ bucket: 'b', key: 'k', versionId: marker.versionId }, (cur) => ({ ...cur, tags })),
            s3Error('MethodNotAllowed'),
          );
          assert.equal(engine.headObject({ bucket: 'b', key: 'k', versionId: 'null' }).tags, undefined);
        }));

      it('deleting a bucket aborts its uploads and frees their blobs', () =>
        withBucket(async (engine, f) => {
          const upload = await create(engine, 'k');
          await sendPart(engine, upload, 1, randomBytes(minPart(f)));
          await sendPart(engine, upload, 2, randomBytes(10));
          assert.equal((await blobIds(f.blobs)).length, 2);
          await engine.deleteBucket('b');
          assert.equal(engine.getBucket('b'), undefined);
          assert.deepEqual(await blobIds(f.blobs), []);
        }));

      it('answers NoSuchBucket and NoSuchUpload for what does not exist', () =>
        withBucket(async (engine) => {
          await assert.rejects(
            engine.createMultipartUpload({ bucket: 'nope', key: 'k', owner: 'o', userMetadata: {} }),
            s3Error('NoSuchBucket'),
          );
          const upload = await create(engine, 'k');
          assert.throws(() => engine.getUpload('b', 'other', upload.uploadId), s3Error('NoSuchUpload'));
          assert.throws(() => engine.getUpload('b', 'k', 'missing'), s3Error('NoSuchUpload'));
          assert.throws(() => engine.getUpload('nope', 'k', upload.uploadId), s3Error('NoSuchBucket'));
          await assert.rejects(
            sendPart(engine, { ...upload, uploadId: 'missing' }, 1, Buffer.from('x')),
            s3Error('NoSuchUpload'),
          );
          await assert.rejects(
            sendPart(engine, { ...upload, key: 'other' }, 1, Buffer.from('x')),
            s3Error('NoSuchUpload'),
          );
          assert.throws(() => engine.listParts('b', 'k', 'missing', 0, 10), s3Error('NoSuchUpload'));
          assert.throws(
            () => engine.listMultipartUploads({ bucket: 'nope', prefix: '', maxUploads: 10 }),
            s3Error('NoSuchBucket'),
          );
          await assert.rejects(engine.abortMultipartUpload('b', 'k', 'missing'), s3Error('NoSuchUpload'));
        }));
    });

    describe('replication', { concurrency: true }, () => {
      /**
       * A stand-in for the replication rules: every enabled rule whose (V1) prefix matches
       * sends the version to its destination; replicas go nowhere except their metadata
       * changes. The engine only has to queue what the planner says.
       */
      const planner: ReplicationPlanner = (bucket, version, operation) =>
        (bucket.replication?.rules ?? [])
          .filter((r) => r.status === 'Enabled' && version.key.startsWith(r.prefix ?? ''))
          .filter(() => !version.replica || operation === 'metadata')
          .map((r) => ({ destination: r.destination.bucket, ruleId: r.id, storageClass: r.destination.storageClass }));

      function rules(...spec: [id: string, destination: string, prefix?: string][]): ReplicationConfiguration {
        return {
          role: 'arn:aws:iam::111122223333:role/replication',
          rules: spec.map(([id, destination, prefix]) => ({
            id,
            status: 'Enabled',
            prefix: prefix ?? '',
            destination: { bucket: destination, arn: `arn:aws:s3:::${destination}` },
          })),
        };
      }

      /** A versioned bucket `b` replicating to `dst`, on an engine with the planner. */
      async function withReplication(
        fn: (engine: ObjectEngine, f: ObjectEngineFixture) => Promise<void>,
        replication: ReplicationConfiguration | null = rules(['r1', 'dst']),
      ): Promise<void> {
        const f = await make({ planner });
        try {
          await f.engine.createBucket({ name: 'b', owner: 'owner-1' });
          await f.setVersioning('b', 'Enabled');
          if (replication) await f.engine.updateBucket('b', { replication });
          await fn(f.engine, f);
        } finally {
          await f.cleanup();
        }
      }

      const queue = (engine: ObjectEngine, destination = 'dst') => engine.peekReplications(destination, 0, 1000);

      function replica(engine: ObjectEngine, data: Buffer | undefined, patch: Partial<ReplicaWrite> = {}) {
        return engine.putReplica({
          bucket: 'b',
          key: 'k',
          versionId: 'a'.repeat(VERSION_ID_LENGTH),
          lastModified: 1_600_000_000_000,
          owner: 'owner-1',
          ...(data ? { body: Readable.from([data]), contentLength: data.length, etag: md5Hex(data) } : {}),
          ...patch,
        });
      }

      it('putObject marks the version PENDING per destination and queues an object entry', () =>
        withReplication(
          async (engine) => {
            const data = Buffer.from('hello replication');
            const v = await put(engine, 'b', 'k', data);
            assert.deepEqual(v.replication, { dst: { status: 'PENDING' } });
            assert.deepEqual(engine.headObject({ bucket: 'b', key: 'k' }).replication, { dst: { status: 'PENDING' } });
            const entries = queue(engine);
            assert.equal(entries.length, 1);
            const [e] = entries;
            assert.deepEqual(
              { ...e, seq: 0, enqueuedAt: 0 },
              {
                seq: 0,
                destination: 'dst',
                bucket: 'b',
                key: 'k',
                versionId: v.versionId,
                operation: 'object',
                ruleId: 'r1',
                storageClass: undefined,
                enqueuedAt: 0,
                size: data.length,
              },
            );
            assert.ok(typeof e.seq === 'number' && e.seq > 0);
            assert.ok(Math.abs(e.enqueuedAt - Date.now()) < 60_000, 'enqueued now');
            assert.deepEqual(engine.replicationDestinations(), ['dst']);
          },
          rules(['r1', 'dst']),
        ));

      it('queues one entry per destination, in write order, with the rule storage class', () =>
        withReplication(
          async (engine) => {
            const a = await put(engine, 'b', 'logs/1', Buffer.from('a'));
            const b = await put(engine, 'b', 'other', Buffer.from('bb'));
            assert.deepEqual(a.replication, { dst: { status: 'PENDING' }, logs: { status: 'PENDING' } });
            assert.deepEqual(b.replication, { dst: { status: 'PENDING' } });
            assert.deepEqual(
              queue(engine).map((e) => [e.key, e.ruleId, e.size]),
              [
                ['logs/1', 'all', 1],
                ['other', 'all', 2],
              ],
            );
            assert.deepEqual(
              queue(engine, 'logs').map((e) => [e.key, e.ruleId]),
              [['logs/1', 'logs']],
            );
            assert.deepEqual([...engine.replicationDestinations()].sort(), ['dst', 'logs']);
          },
          rules(['all', 'dst'], ['logs', 'logs', 'logs/']),
        ));

      it('a bucket without a replication configuration queues nothing', () =>
        withReplication(async (engine) => {
          const v = await put(engine, 'b', 'k', Buffer.from('x'));
          await engine.deleteObject({ bucket: 'b', key: 'k' });
          assert.equal(v.replication, undefined);
          assert.equal(engine.getVersion('b', 'k', v.versionId)?.replication, undefined);
          assert.deepEqual(engine.replicationDestinations(), []);
        }, null));

      it('an engine without a planner queues nothing', () =>
        withEngine(async (f) => {
          await f.engine.createBucket({ name: 'b', owner: 'owner-1' });
          await f.setVersioning('b', 'Enabled');
          await f.engine.updateBucket('b', { replication: rules(['r1', 'dst']) });
          const v = await put(f.engine, 'b', 'k', Buffer.from('x'));
          assert.equal(v.replication, undefined);
          assert.deepEqual(f.engine.replicationDestinations(), []);
        }));

      it('a failed write queues nothing', () =>
        withReplication(async (engine) => {
          await assert.rejects(
            put(engine, 'b', 'k', Buffer.from('x'), { contentMd5: md5Base64(Buffer.from('y')) }),
            s3Error('BadDigest'),
          );
          await put(engine, 'b', 'k', Buffer.from('x'));
          await assert.rejects(
            put(engine, 'b', 'k', Buffer.from('z'), {
              precondition: () => {
                throw new Error('precondition');
              },
            }),
            /precondition/,
          );
          assert.equal(queue(engine).length, 1);
        }));

      it('a delete marker queues a delete-marker entry of size 0', () =>
        withReplication(async (engine) => {
          const v = await put(engine, 'b', 'k', Buffer.from('data'));
          const { versionId } = await engine.deleteObject({ bucket: 'b', key: 'k' });
          assert.ok(versionId);
          assert.deepEqual(
            queue(engine).map((e) => [e.operation, e.versionId, e.size]),
            [
              ['object', v.versionId, 4],
              ['delete-marker', versionId, 0],
            ],
          );
          assert.deepEqual(engine.getVersion('b', 'k', versionId)?.replication, { dst: { status: 'PENDING' } });
        }));

      it('deleting a version by id queues nothing', () =>
        withReplication(async (engine) => {
          const v = await put(engine, 'b', 'k', Buffer.from('data'));
          await engine.deleteObject({ bucket: 'b', key: 'k', versionId: v.versionId });
          assert.deepEqual(
            queue(engine).map((e) => e.operation),
            ['object'],
          );
        }));

      it('completeMultipartUpload queues the object with its full size', () =>
        withReplication(async (engine, f) => {
          const m = f.minPartSize ?? MIN_PART_SIZE;
          const upload = await engine.createMultipartUpload({
            bucket: 'b',
            key: 'mp',
            owner: 'owner-1',
            userMetadata: {},
          });
          const p1 = await sendPart(engine, upload, 1, randomBytes(m));
          const p2 = await sendPart(engine, upload, 2, randomBytes(10));
          assert.deepEqual(queue(engine), [], 'parts are not replicated');
          const v = await completeParts(engine, upload, [listed(p1), listed(p2)]);
          assert.deepEqual(v.replication, { dst: { status: 'PENDING' } });
          assert.deepEqual(engine.headObject({ bucket: 'b', key: 'mp' }).replication, { dst: { status: 'PENDING' } });
          assert.deepEqual(
            queue(engine).map((e) => [e.key, e.versionId, e.operation, e.size]),
            [['mp', v.versionId, 'object', m + 10]],
          );
        }));

      it('a tag change queues metadata only for destinations the version already has state for', () =>
        withReplication(async (engine) => {
          const v = await put(engine, 'b', 'k', Buffer.from('y'));
          await engine.finishReplication(queue(engine)[0], { status: 'COMPLETED' });
          // A second destination is added later: versions written before it do not go there.
          await engine.updateBucket('b', { replication: rules(['r1', 'dst'], ['r2', 'dst2']) });
          const tags = [{ key: 'a', value: '1' }];
          const updated = await engine.updateObject({ bucket: 'b', key: 'k' }, (cur) => ({ ...cur, tags }));
          assert.deepEqual(updated.tags, tags);
          assert.deepEqual(updated.replication, { dst: { status: 'PENDING' } });
          assert.deepEqual(engine.getVersion('b', 'k', v.versionId)?.replication, { dst: { status: 'PENDING' } });
          assert.deepEqual(
            queue(engine).map((e) => [e.operation, e.key, e.versionId, e.ruleId, e.size]),
            [['metadata', 'k', v.versionId, 'r1', 0]],
          );
          assert.deepEqual(queue(engine, 'dst2'), []);
          // An ACL change by version id queues another one.
          const acl: Grant[] = [{ grantee: { type: 'CanonicalUser', id: 'x' }, permission: 'READ' }];
          await engine.updateObject({ bucket: 'b', key: 'k', versionId: v.versionId }, (cur) => ({ ...cur, acl }));
          assert.deepEqual(
            queue(engine).map((e) => e.operation),
            ['metadata', 'metadata'],
          );
        }));

      it('a tag change of a version written before the configuration queues nothing', () =>
        withReplication(async (engine) => {
          const v = await put(engine, 'b', 'k', Buffer.from('x'));
          await engine.updateBucket('b', { replication: rules(['r1', 'dst']) });
          const updated = await engine.updateObject({ bucket: 'b', key: 'k' }, (cur) => ({
            ...cur,
            tags: [{ key: 'a', value: '1' }],
          }));
          assert.equal(updated.replication, undefined);
          assert.equal(engine.getVersion('b', 'k', v.versionId)?.replication, undefined);
          assert.deepEqual(engine.replicationDestinations(), []);
        }, null));

      it('finishReplication dequeues and records COMPLETED or FAILED per destination', () =>
        withReplication(
          async (engine) => {
            const v = await put(engine, 'b', 'k', Buffer.from('x'));
            const [toA] = queue(engine, 'a');
            const [toB] = queue(engine, 'b2');
            await engine.finishReplication(toA, { status: 'COMPLETED', completedAt: 42 });
            assert.deepEqual(queue(engine, 'a'), []);
            assert.deepEqual(engine.getVersion('b', 'k', v.versionId)?.replication, {
              a: { status: 'COMPLETED', completedAt: 42 },
              b2: { status: 'PENDING' },
            });
            await engine.finishReplication(toB, { status: 'FAILED', reason: 'DstBucketNotFound' });
            assert.deepEqual(engine.headObject({ bucket: 'b', key: 'k' }).replication, {
              a: { status: 'COMPLETED', completedAt: 42 },
              b2: { status: 'FAILED', reason: 'DstBucketNotFound' },
            });
            assert.deepEqual(engine.replicationDestinations(), []);
          },
          rules(['ra', 'a'], ['rb', 'b2']),
        ));

      it('a destination stays PENDING while a later operation for it is still queued', () =>
        withReplication(async (engine) => {
          const v = await put(engine, 'b', 'k', Buffer.from('x'));
          await engine.updateObject({ bucket: 'b', key: 'k' }, (cur) => ({ ...cur, tags: [{ key: 'a', value: '1' }] }));
          const [object, metadata] = queue(engine);
          assert.deepEqual([object.operation, metadata.operation], ['object', 'metadata']);
          // The copy lands, but the tag change has not reached the destination yet (spec A.6:
          // COMPLETED only when everything has).
          await engine.finishReplication(object, { status: 'COMPLETED' });
          assert.equal(engine.getVersion('b', 'k', v.versionId)?.replication?.dst.status, 'PENDING');
          await engine.finishReplication(metadata, { status: 'COMPLETED' });
          assert.equal(engine.getVersion('b', 'k', v.versionId)?.replication?.dst.status, 'COMPLETED');
        }));

      it('tells onReplicationQueued listeners the destinations, once each, until unsubscribed', () =>
        withReplication(
          async (engine) => {
            const told: string[][] = [];
            const unsubscribe = engine.onReplicationQueued((d) => told.push([...d].sort()));
            await put(engine, 'b', 'k', Buffer.from('x'));
            await put(engine, 'b', 'p/k', Buffer.from('x'));
            await engine.deleteObject({ bucket: 'b', key: 'k' });
            assert.deepEqual(told, [['a'], ['a', 'p'], ['a']]);
            // Told after the entries are queued, so a worker woken by it finds them.
            const seen: number[] = [];
            const second = engine.onReplicationQueued(() => seen.push(queue(engine, 'a').length));
            await put(engine, 'b', 'k2', Buffer.from('x'));
            assert.deepEqual(seen, [4]);
            unsubscribe();
            second();
            await put(engine, 'b', 'k3', Buffer.from('x'));
            assert.equal(told.length, 4);
            assert.deepEqual(seen, [4]);
          },
          rules(['ra', 'a'], ['rp', 'p', 'p/']),
        ));

      it('listeners are not told about writes that queue nothing', () =>
        withReplication(
          async (engine) => {
            let calls = 0;
            engine.onReplicationQueued(() => calls++);
            await put(engine, 'b', 'other', Buffer.from('x'));
            assert.equal(calls, 0);
          },
          rules(['r', 'dst', 'only/']),
        ));

      describe('putReplica', { concurrency: true }, () => {
        it('stores a version under the source id and time, marked as a replica', () =>
          withReplication(async (engine, f) => {
            const data = randomBytes(f.inlineMax + 500);
            const id = 'a'.repeat(VERSION_ID_LENGTH);
            const v = await replica(engine, data, {
              contentType: 'text/plain',
              userMetadata: { origin: 'src' },
              tags: [{ key: 't', value: '1' }],
              storageClass: 'STANDARD_IA',
            });
            assert.equal(v.versionId, id);
            assert.equal(v.lastModified, 1_600_000_000_000);
            assert.equal(v.replica, true);
            assert.equal(v.etag, md5Hex(data));
            const got = await read(engine, 'b', 'k', { versionId: id });
            assert.deepEqual(got.bytes, data);
            assert.equal(got.version.replica, true);
            assert.equal(got.version.contentType, 'text/plain');
            assert.deepEqual(got.version.userMetadata, { origin: 'src' });
            assert.deepEqual(got.version.tags, [{ key: 't', value: '1' }]);
            assert.equal(got.version.storageClass, 'STANDARD_IA');
            assert.equal(engine.headObject({ bucket: 'b', key: 'k' }).versionId, id);
            // A replica is not replicated again.
            assert.deepEqual(engine.replicationDestinations(), []);
          }));

        it('an older replica lands below newer versions, keeping its time', () =>
          withReplication(async (engine) => {
            const local = await put(engine, 'b', 'k', Buffer.from('local'));
            await replica(engine, Buffer.from('old'));
            assert.equal(engine.headObject({ bucket: 'b', key: 'k' }).versionId, local.versionId);
            const versions = engine.listVersions({ bucket: 'b', prefix: 'k', maxKeys: 10 }).entries;
            assert.deepEqual(
              versions.map((e) => e.version.versionId),
              [local.versionId, 'a'.repeat(VERSION_ID_LENGTH)],
            );
          }, null));

        it('verifies a plain-MD5 ETag against the bytes: a mismatch is BadDigest and stores nothing', () =>
          withReplication(async (engine, f) => {
            for (const size of [10, f.inlineMax + 100]) {
              const data = randomBytes(size);
              await assert.rejects(replica(engine, data, { etag: md5Hex(Buffer.from('other')) }), s3Error('BadDigest'));
              assert.equal(engine.getVersion('b', 'k', 'a'.repeat(VERSION_ID_LENGTH)), undefined);
              assert.deepEqual(await blobIds(f.blobs), []);
            }
          }));

        it('does not check a multipart ETag against the bytes', () =>
          withReplication(async (engine) => {
            const data = Buffer.from('multipart copy');
            const v = await replica(engine, data, { etag: `${md5Hex(Buffer.from('x'))}-3`, partsCount: 3 });
            assert.equal(v.etag, `${md5Hex(Buffer.from('x'))}-3`);
            assert.equal(v.partsCount, 3);
            assert.deepEqual((await read(engine, 'b', 'k', { versionId: v.versionId })).bytes, data);
          }));

        it('replaces an earlier copy of the same version id without leaking its blob', () =>
          withReplication(async (engine, f) => {
            const data = randomBytes(f.inlineMax + 1000);
            await replica(engine, data);
            const first = await blobIds(f.blobs);
            assert.equal(first.length, 1);
            const again = await replica(engine, data);
            assert.deepEqual(await blobIds(f.blobs).then((ids) => ids.length), 1);
            const versions = engine.listVersions({ bucket: 'b', prefix: '', maxKeys: 10 }).entries;
            assert.deepEqual(
              versions.map((e) => e.version.versionId),
              [again.versionId],
            );
            assert.deepEqual((await read(engine, 'b', 'k')).bytes, data);
            // A small copy replaced (inline, or in a blob where inlineMax is below its size).
            await replica(engine, Buffer.from('small'), { key: 'small' });
            await replica(engine, Buffer.from('small'), { key: 'small' });
            assert.equal((await blobIds(f.blobs)).length, f.inlineMax >= 5 ? 1 : 2);
            assert.equal(engine.listVersions({ bucket: 'b', prefix: 'small', maxKeys: 10 }).entries.length, 1);
          }));

        it('stores a delete marker under the source id', () =>
          withReplication(async (engine) => {
            await replica(engine, Buffer.from('data'), { versionId: 'a'.repeat(VERSION_ID_LENGTH) });
            const marker = await replica(engine, undefined, {
              versionId: 'b'.repeat(VERSION_ID_LENGTH),
              lastModified: 1_600_000_001_000,
              deleteMarker: true,
            });
            assert.equal(marker.isDeleteMarker, true);
            assert.equal(marker.replica, true);
            const stored = engine.getVersion('b', 'k', 'b'.repeat(VERSION_ID_LENGTH));
            assert.equal(stored?.isDeleteMarker, true);
            assert.equal(stored?.lastModified, 1_600_000_001_000);
            assert.throws(() => engine.headObject({ bucket: 'b', key: 'k' }), s3Error('NoSuchKey'));
            // Replayed: still one marker.
            await replica(engine, undefined, {
              versionId: 'b'.repeat(VERSION_ID_LENGTH),
              lastModified: 1_600_000_001_000,
              deleteMarker: true,
            });
            assert.equal(engine.listVersions({ bucket: 'b', prefix: '', maxKeys: 10 }).entries.length, 2);
          }));

        it('applies a metadata-only change (tags, ACL) to the version it names', () =>
          withReplication(async (engine, f) => {
            const data = randomBytes(f.inlineMax + 10);
            await replica(engine, data, { tags: [{ key: 'old', value: '1' }] });
            const blobsBefore = await blobIds(f.blobs);
            const acl = [{ grantee: { type: 'CanonicalUser' as const, id: 'someone' }, permission: 'READ' as const }];
            const updated = await replica(engine, undefined, {
              metadataOnly: true,
              metadataModified: 1_600_000_005_000,
              tags: [{ key: 'new', value: '2' }],
              acl,
            });
            assert.deepEqual(updated.tags, [{ key: 'new', value: '2' }]);
            assert.deepEqual(updated.acl, acl);
            const got = await read(engine, 'b', 'k');
            assert.deepEqual(got.bytes, data);
            assert.deepEqual(got.version.tags, [{ key: 'new', value: '2' }]);
            assert.equal(got.version.replica, true);
            assert.deepEqual(await blobIds(f.blobs), blobsBefore);
            // An empty tag set removes the tags.
            const cleared = await replica(engine, undefined, {
              metadataOnly: true,
              metadataModified: 1_600_000_006_000,
              tags: [],
              acl,
            });
            assert.equal(cleared.tags, undefined);
            assert.equal(engine.headObject({ bucket: 'b', key: 'k' }).tags, undefined);
            assert.deepEqual(
              engine.replicationDestinations(),
              [],
              'a change that arrived by replication is not sent on',
            );
          }));

        it('rejects a metadata-only change for a version it does not have (NoSuchVersion)', () =>
          withReplication(async (engine) => {
            await assert.rejects(
              replica(engine, undefined, { metadataOnly: true, tags: [{ key: 'a', value: '1' }] }),
              s3Error('NoSuchVersion'),
            );
            assert.equal(engine.getVersion('b', 'k', 'a'.repeat(VERSION_ID_LENGTH)), undefined);
          }));

        it('rejects writes to a bucket whose versioning is not Enabled (InvalidRequest)', () =>
          withEngine(async (f) => {
            const { engine } = f;
            await engine.createBucket({ name: 'b', owner: 'owner-1' });
            await assert.rejects(replica(engine, Buffer.from('x')), s3Error('InvalidRequest'));
            assert.deepEqual(await blobIds(f.blobs), []);
            await f.setVersioning('b', 'Enabled');
            await replica(engine, Buffer.from('x'));
            const blobsBefore = await blobIds(f.blobs);
            await f.setVersioning('b', 'Suspended');
            await assert.rejects(replica(engine, Buffer.from('y'), { key: 'k2' }), s3Error('InvalidRequest'));
            await assert.rejects(
              replica(engine, undefined, { deleteMarker: true, key: 'k3' }),
              s3Error('InvalidRequest'),
            );
            await assert.rejects(
              replica(engine, undefined, { metadataOnly: true, tags: [] }),
              s3Error('InvalidRequest'),
            );
            assert.equal(engine.getVersion('b', 'k2', 'a'.repeat(VERSION_ID_LENGTH)), undefined);
            assert.deepEqual(await blobIds(f.blobs), blobsBefore);
            await assert.rejects(replica(engine, Buffer.from('x'), { bucket: 'nope' }), s3Error('NoSuchBucket'));
          }));

        it('a metadata change made on a replica is queued back where the rules sync it', () =>
          withReplication(
            async (engine) => {
              const v = await replica(engine, Buffer.from('x'));
              assert.deepEqual(engine.replicationDestinations(), []);
              await engine.updateObject({ bucket: 'b', key: 'k' }, (cur) => ({
                ...cur,
                tags: [{ key: 'a', value: '1' }],
              }));
              assert.deepEqual(
                queue(engine, 'src').map((e) => [e.operation, e.versionId]),
                [['metadata', v.versionId]],
              );
            },
            rules(['back', 'src']),
          ));
      });

      describe('retryFailedReplications', { concurrency: true }, () => {
        it('re-queues exactly the FAILED destinations of versions under the prefix', () =>
          withReplication(
            async (engine) => {
              const a1 = await put(engine, 'b', 'a/1', Buffer.from('1'));
              const a2 = await put(engine, 'b', 'a/2', Buffer.from('22'));
              const z = await put(engine, 'b', 'z/1', Buffer.from('3'));
              const marker = await engine.deleteObject({ bucket: 'b', key: 'a/3' });
              const outcome = (versionId: string, d: string) =>
                d === 'x' && versionId !== a2.versionId
                  ? ({ status: 'FAILED', reason: 'DstBucketNotFound' } as const)
                  : ({ status: 'COMPLETED' } as const);
              for (const d of ['x', 'y']) {
                for (const e of queue(engine, d)) await engine.finishReplication(e, outcome(e.versionId, d));
              }
              assert.deepEqual(engine.replicationDestinations(), []);

              assert.equal(await engine.retryFailedReplications('b', 'a/'), 2);
              assert.deepEqual(queue(engine, 'y'), []);
              assert.deepEqual(
                queue(engine, 'x').map((e) => [e.key, e.versionId, e.operation, e.size]),
                [
                  ['a/1', a1.versionId, 'object', 1],
                  ['a/3', marker.versionId, 'delete-marker', 0],
                ],
              );
              assert.deepEqual(engine.getVersion('b', 'a/1', a1.versionId)?.replication, {
                x: { status: 'PENDING' },
                y: { status: 'COMPLETED' },
              });
              assert.equal(engine.getVersion('b', 'z/1', z.versionId)?.replication?.x.status, 'FAILED');
              assert.equal(engine.getVersion('b', 'a/2', a2.versionId)?.replication?.x.status, 'COMPLETED');

              // Nothing is FAILED under a/ any more; the rest of the bucket still is.
              assert.equal(await engine.retryFailedReplications('b', 'a/'), 0);
              assert.equal(await engine.retryFailedReplications('b'), 1);
              assert.deepEqual(
                queue(engine, 'x').map((e) => e.key),
                ['a/1', 'a/3', 'z/1'],
              );
            },
            rules(['rx', 'x'], ['ry', 'y']),
          ));

        it('finds FAILED versions below the current one and across more than one page', () =>
          withReplication(async (engine) => {
            const old = await put(engine, 'b', 'k', Buffer.from('old'));
            await put(engine, 'b', 'k', Buffer.from('new'));
            const keys = Array.from({ length: 1005 }, (_, i) => `m/${String(i).padStart(4, '0')}`);
            await Promise.all(keys.map((key) => put(engine, 'b', key, Buffer.from('x'))));
            const all = engine.peekReplications('dst', 0, 10_000);
            assert.equal(all.length, 1007);
            await Promise.all(
              all.map((e) =>
                engine.finishReplication(e, {
                  status: e.key.startsWith('m/') || e.versionId === old.versionId ? 'FAILED' : 'COMPLETED',
                }),
              ),
            );
            assert.equal(await engine.retryFailedReplications('b', 'k'), 1);
            assert.deepEqual(
              queue(engine).map((e) => e.versionId),
              [old.versionId],
            );
            assert.equal(await engine.retryFailedReplications('b', 'm/'), 1005);
            assert.equal(engine.peekReplications('dst', 0, 10_000).length, 1006);
          }));

        it('skips destinations no rule sends the version to any more, and counts nothing for them', () =>
          withReplication(async (engine) => {
            await put(engine, 'b', 'k', Buffer.from('x'));
            await engine.finishReplication(queue(engine)[0], { status: 'FAILED' });
            await engine.updateBucket('b', { replication: rules(['other', 'elsewhere']) });
            assert.equal(await engine.retryFailedReplications('b'), 0);
            assert.deepEqual(engine.replicationDestinations(), []);
          }));

        it('answers NoSuchBucket for a missing bucket', () =>
          withReplication(async (engine) => {
            await assert.rejects(engine.retryFailedReplications('nope'), s3Error('NoSuchBucket'));
          }));
      });
    });
  });
}
