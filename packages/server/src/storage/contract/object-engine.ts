/**
 * The ObjectEngine contract. An implementation's test file calls `objectEngineContract` with a
 * factory for a fresh engine, the BlobStore it keeps large objects in, and a way to switch a
 * bucket's versioning (there is no engine API for that yet).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { crc32 } from '@aws-crypto/crc32';
import { VERSION_ID_LENGTH } from '../../core/ids.ts';
import type { ChecksumAlgorithm } from '../checksum.ts';
import type { BlobStore, ByteRange, Grant, ObjectEngine, ObjectVersion, PutObjectInput, VersioningState } from '../types.ts';
import { chunksOf, collect, s3Error } from './helpers.ts';

export interface ObjectEngineFixture {
  engine: ObjectEngine;
  /** Where the engine keeps objects larger than `inlineMax`; watched for leaked and freed files. */
  blobs: BlobStore;
  /** Objects larger than this many bytes are stored in `blobs`. */
  inlineMax: number;
  setVersioning(bucket: string, state: VersioningState): Promise<void>;
  cleanup(): Promise<void>;
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

export function objectEngineContract(name: string, make: () => Promise<ObjectEngineFixture>): void {
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
  });
}
