/**
 * The BlobStore contract. An implementation's test file calls `blobStoreContract` with a
 * factory for fresh, empty stores.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { BlobStore } from '../types.ts';
import { collect } from './helpers.ts';

export interface BlobStoreFixture {
  blobs: BlobStore;
  /** Closes the current store and opens the same data again; `blobs` becomes the new instance. */
  reopen(): Promise<BlobStore>;
  cleanup(): Promise<void>;
}

async function put(blobs: BlobStore, ...chunks: Uint8Array[]): Promise<string> {
  const w = await blobs.create();
  for (const c of chunks) await w.write(c);
  await w.commit();
  return w.id;
}

async function listIds(blobs: BlobStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const b of blobs.list()) ids.push(b.id);
  return ids.sort();
}

function readError(blobs: BlobStore, id: string): Promise<unknown> {
  return collect(blobs.read(id)).then(
    () => assert.fail(`reading ${id} succeeded`),
    (err: unknown) => err,
  );
}

export function blobStoreContract(name: string, make: () => Promise<BlobStoreFixture>): void {
  async function withBlobs(fn: (blobs: BlobStore, f: BlobStoreFixture) => Promise<void>): Promise<void> {
    const f = await make();
    try {
      await fn(f.blobs, f);
    } finally {
      await f.cleanup();
    }
  }

  describe(`BlobStore contract: ${name}`, { concurrency: true }, () => {
    it('writes, commits and reads a blob back', () =>
      withBlobs(async (blobs) => {
        const data = randomBytes(10_000);
        const id = await put(blobs, data.subarray(0, 3000), data.subarray(3000));
        assert.equal(typeof id, 'string');
        assert.ok(id.length > 0);
        assert.deepEqual(await collect(blobs.read(id)), data);
      }));

    it('reads inclusive byte ranges', () =>
      withBlobs(async (blobs) => {
        const data = randomBytes(1000);
        const id = await put(blobs, data);
        for (const [start, end] of [
          [0, 0],
          [0, 999],
          [999, 999],
          [10, 99],
          [500, 999],
        ]) {
          assert.deepEqual(
            await collect(blobs.read(id, { start, end })),
            data.subarray(start, end + 1),
            `${start}-${end}`,
          );
        }
      }));

    it('stores an empty blob', () =>
      withBlobs(async (blobs) => {
        const id = await put(blobs);
        assert.deepEqual(await collect(blobs.read(id)), Buffer.alloc(0));
        assert.deepEqual(await listIds(blobs), [id]);
      }));

    it('keeps every byte of a write made of many chunks', () =>
      withBlobs(async (blobs) => {
        const chunks: Buffer[] = [];
        for (let i = 0; i < 800; i++) chunks.push(randomBytes(i % 7 === 0 ? 0 : (i * 37) % 3000));
        const data = Buffer.concat(chunks);
        const id = await put(blobs, ...chunks);
        const back = await collect(blobs.read(id));
        assert.equal(back.length, data.length);
        assert.equal(createHash('md5').update(back).digest('hex'), createHash('md5').update(data).digest('hex'));
      }));

    it('keeps the bytes that follow an empty first write', () =>
      withBlobs(async (blobs) => {
        for (const parts of [[Buffer.alloc(0), Buffer.from('B')], [Buffer.from('C'), Buffer.alloc(0), Buffer.from('D')]]) {
          const w = await blobs.create();
          for (const p of parts) await w.write(p);
          await w.commit();
          assert.deepEqual(await collect(blobs.read(w.id)), Buffer.concat(parts));
        }
      }));

    it('keeps every byte of one large chunk', () =>
      withBlobs(async (blobs) => {
        const data = randomBytes(4 * 1024 * 1024 + 3);
        const id = await put(blobs, data);
        assert.ok((await collect(blobs.read(id))).equals(data));
        const tail = await collect(blobs.read(id, { start: data.length - 5, end: data.length - 1 }));
        assert.deepEqual(tail, data.subarray(data.length - 5));
      }));

    it('gives every blob a new id', () =>
      withBlobs(async (blobs) => {
        const writers = await Promise.all(Array.from({ length: 200 }, () => blobs.create()));
        assert.equal(new Set(writers.map((w) => w.id)).size, 200);
        await Promise.all(writers.map((w) => w.abort()));
        assert.deepEqual(await listIds(blobs), []);
      }));

    it('commits many blobs concurrently, each with its own bytes', () =>
      withBlobs(async (blobs) => {
        const datas = Array.from({ length: 40 }, (_, i) => randomBytes(100 + i * 13));
        const ids = await Promise.all(datas.map((d) => put(blobs, d)));
        assert.deepEqual(await listIds(blobs), [...ids].sort());
        for (const [i, id] of ids.entries()) assert.deepEqual(await collect(blobs.read(id)), datas[i]);
      }));

    it('abort removes what was written', () =>
      withBlobs(async (blobs) => {
        const kept = await put(blobs, Buffer.from('kept'));
        const w = await blobs.create();
        await w.write(randomBytes(5000));
        await w.abort();
        assert.deepEqual(await listIds(blobs), [kept]);
        const err = await readError(blobs, w.id);
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOENT');
      }));

    it('abort before any write leaves nothing', () =>
      withBlobs(async (blobs) => {
        const w = await blobs.create();
        await w.abort();
        assert.deepEqual(await listIds(blobs), []);
      }));

    it('delete removes a blob and is idempotent', () =>
      withBlobs(async (blobs) => {
        const a = await put(blobs, Buffer.from('a'));
        const b = await put(blobs, Buffer.from('b'));
        await blobs.delete(a);
        assert.deepEqual(await listIds(blobs), [b]);
        await blobs.delete(a);
        await blobs.delete(a);
        assert.deepEqual(await listIds(blobs), [b]);
        assert.deepEqual(await collect(blobs.read(b)), Buffer.from('b'));
      }));

    it('a reader of a missing blob fails with ENOENT on the stream', () =>
      withBlobs(async (blobs) => {
        const id = await put(blobs, Buffer.from('x'));
        await blobs.delete(id);
        const stream = blobs.read(id);
        const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
          stream.on('error', resolve);
          stream.on('end', () => reject(new Error('stream ended without an error')));
          stream.resume();
        });
        assert.equal(err.code, 'ENOENT');
      }));

    it('lists committed blobs with their modification time', () =>
      withBlobs(async (blobs) => {
        const before = Date.now();
        const ids = [await put(blobs, Buffer.from('1')), await put(blobs, Buffer.from('22'))];
        const listed: { id: string; mtimeMs: number }[] = [];
        for await (const b of blobs.list()) listed.push(b);
        assert.deepEqual(listed.map((b) => b.id).sort(), [...ids].sort());
        for (const b of listed) {
          assert.equal(typeof b.mtimeMs, 'number');
          // File systems may round timestamps to seconds or less.
          assert.ok(b.mtimeMs >= before - 2000 && b.mtimeMs <= Date.now() + 2000, `mtime ${b.mtimeMs} near ${before}`);
        }
      }));

    it('committed blobs survive a reopen', () =>
      withBlobs(async (_blobs, f) => {
        const data = randomBytes(3000);
        const id = await put(f.blobs, data);
        const reopened = await f.reopen();
        assert.deepEqual(await listIds(reopened), [id]);
        assert.deepEqual(await collect(reopened.read(id)), data);
      }));
  });
}
