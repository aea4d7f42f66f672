import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { collect, s3Error, tempDir } from './contract/helpers.ts';
import { objectEngineContract, type ObjectEngineFixture } from './contract/object-engine.ts';
import { DEFAULT_INLINE_MAX, Engine } from './engine.ts';
import { FsBlobStore } from './fs-blob.ts';
import { LmdbMetaStore } from './lmdb-meta.ts';
import type { ObjectEngine, ReplicationPlanner } from './types.ts';

interface EngineHarness extends ObjectEngineFixture {
  meta: LmdbMetaStore;
}

/*
 * Creating an FsBlobStore makes 256 shard directories, which is slow on some file systems.
 * Fixtures therefore reuse blob roots: a root goes back to the pool only once it is empty again.
 */
let workDir: { path: string; remove(): Promise<void> };
const cleanBlobRoots: string[] = [];
let fixtures = 0;

before(async () => {
  workDir = await tempDir('engine');
});
after(() => workDir.remove());

async function engineFixture(
  opts: { inlineMax?: number; now?: () => number; minPartSize?: number; planner?: ReplicationPlanner } = {},
): Promise<EngineHarness> {
  const n = ++fixtures;
  const metaDir = join(workDir.path, `meta-${n}`);
  const blobRoot = cleanBlobRoots.pop() ?? join(workDir.path, `blobs-${n}`);
  const meta = new LmdbMetaStore(metaDir);
  const blobs = new FsBlobStore(blobRoot);
  for await (const b of blobs.list()) assert.fail(`blob root ${blobRoot} is not empty: ${b.id}`);
  const engine = new Engine({
    region: 'eu-west-1',
    meta,
    blobs,
    inlineMax: opts.inlineMax,
    minPartSize: opts.minPartSize,
    planner: opts.planner,
    now: opts.now,
  });
  return {
    engine,
    meta,
    blobs,
    inlineMax: opts.inlineMax ?? DEFAULT_INLINE_MAX,
    minPartSize: opts.minPartSize,
    async setVersioning(bucket, versioning) {
      assert.ok(await meta.updateBucket(bucket, { versioning }), `bucket ${bucket} exists`);
    },
    async cleanup() {
      await engine.close();
      for await (const b of blobs.list()) await blobs.delete(b.id);
      cleanBlobRoots.push(blobRoot);
      await rm(metaDir, { recursive: true, force: true });
    },
  };
}

// Parts of 1000 bytes keep the multipart tests fast; boundaries then fall mid-page.
objectEngineContract('Engine (LMDB + fs, inlineMax 1024)', (opts) =>
  engineFixture({ inlineMax: 1024, minPartSize: 1000, ...opts }),
);
objectEngineContract('Engine (LMDB + fs, inlineMax 0: every byte in a blob)', (opts) =>
  engineFixture({ inlineMax: 0, minPartSize: 1000, ...opts }),
);

function put(engine: ObjectEngine, key: string, data: Buffer | string) {
  return engine.putObject({ bucket: 'b', key, body: Readable.from([Buffer.from(data)]), userMetadata: {}, owner: 'o' });
}

async function blobCount(f: ObjectEngineFixture): Promise<number> {
  let n = 0;
  for await (const _ of f.blobs.list()) n++;
  return n;
}

async function withEngine(
  opts: { inlineMax?: number; now?: () => number },
  fn: (f: EngineHarness) => Promise<void>,
): Promise<void> {
  const f = await engineFixture(opts);
  try {
    await f.engine.createBucket({ name: 'b', owner: 'o' });
    await fn(f);
  } finally {
    await f.cleanup();
  }
}

describe('Engine', () => {
  it('keeps objects up to inlineMax in the metadata store and larger ones in blob files', () =>
    withEngine({ inlineMax: 100 }, async (f) => {
      await put(f.engine, 'empty', '');
      await put(f.engine, 'at', Buffer.alloc(100));
      assert.equal(await blobCount(f), 0);
      const v = await put(f.engine, 'over', Buffer.alloc(101));
      assert.equal(await blobCount(f), 1);
      assert.equal(v.data.kind, 'blob');
      assert.equal(f.engine.headObject({ bucket: 'b', key: 'at' }).data.kind, 'inline');
      assert.deepEqual(f.engine.headObject({ bucket: 'b', key: 'empty' }).data, { kind: 'none' });
    }));

  it('defaults to a 128 KiB inline threshold', () =>
    withEngine({}, async (f) => {
      assert.equal(DEFAULT_INLINE_MAX, 128 * 1024);
      await put(f.engine, 'at', Buffer.alloc(DEFAULT_INLINE_MAX));
      assert.equal(await blobCount(f), 0);
      await put(f.engine, 'over', Buffer.alloc(DEFAULT_INLINE_MAX + 1));
      assert.equal(await blobCount(f), 1);
    }));

  it('stamps lastModified and createdAt from its clock', () =>
    withEngine({ now: () => 1_234_567_890_123 }, async (f) => {
      assert.equal(f.engine.getBucket('b')?.createdAt, 1_234_567_890_123);
      assert.equal((await put(f.engine, 'k', 'x')).lastModified, 1_234_567_890_123);
    }));

  it('with a frozen clock, each new version and delete marker still becomes current', () =>
    withEngine({ now: () => 1_700_000_000_000 }, async (f) => {
      await f.setVersioning('b', 'Enabled');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await put(f.engine, 'k', `v${i}`)).versionId);
        assert.equal(f.engine.headObject({ bucket: 'b', key: 'k' }).versionId, ids[i]);
      }
      assert.deepEqual([...ids].sort(), ids);
      const { versionId } = await f.engine.deleteObject({ bucket: 'b', key: 'k' });
      assert.throws(
        () => f.engine.headObject({ bucket: 'b', key: 'k' }),
        (err: { code?: string; headers?: Record<string, string> }) => {
          return err.code === 'NoSuchKey' && err.headers?.['x-amz-version-id'] === versionId;
        },
      );
    }));

  it('after the wall clock steps back, the latest PUT is current', () => {
    let t = 1_700_000_010_000;
    return withEngine({ now: () => t }, async (f) => {
      await f.setVersioning('b', 'Enabled');
      const first = await put(f.engine, 'k', 'first');
      t -= 5_000;
      const second = await put(f.engine, 'k', 'second');
      assert.equal(f.engine.headObject({ bucket: 'b', key: 'k' }).versionId, second.versionId);
      assert.ok(second.lastModified > first.lastModified);
      assert.deepEqual(await collect(f.engine.getObject({ bucket: 'b', key: 'k' }).body), Buffer.from('second'));
      assert.deepEqual(
        f.engine
          .listVersions({ bucket: 'b', prefix: '', maxKeys: 10 })
          .entries.map((e) => [e.version.versionId, e.isLatest]),
        [
          [second.versionId, true],
          [first.versionId, false],
        ],
      );
    });
  });

  it('after the wall clock steps back, an unversioned overwrite is current', () => {
    let t = 1_700_000_010_000;
    return withEngine({ now: () => t }, async (f) => {
      await put(f.engine, 'k', 'first');
      t -= 5_000;
      await put(f.engine, 'k', 'second');
      assert.deepEqual(await collect(f.engine.getObject({ bucket: 'b', key: 'k' }).body), Buffer.from('second'));
    });
  });

  it('after the wall clock steps back, a delete marker hides the version', () => {
    let t = 1_700_000_010_000;
    return withEngine({ now: () => t }, async (f) => {
      await f.setVersioning('b', 'Enabled');
      await put(f.engine, 'k', 'first');
      t -= 5_000;
      const { versionId } = await f.engine.deleteObject({ bucket: 'b', key: 'k' });
      assert.throws(
        () => f.engine.headObject({ bucket: 'b', key: 'k' }),
        s3Error('NoSuchKey', { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionId! }),
      );
      assert.deepEqual(f.engine.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects, []);
    });
  });

  it('in one millisecond, an Enabled PUT over the null version becomes current', () =>
    withEngine({ now: () => 1_700_000_000_000 }, async (f) => {
      await put(f.engine, 'k', 'unversioned');
      await f.setVersioning('b', 'Enabled');
      const v = await put(f.engine, 'k', 'versioned');
      assert.equal(f.engine.headObject({ bucket: 'b', key: 'k' }).versionId, v.versionId);
      assert.deepEqual(await collect(f.engine.getObject({ bucket: 'b', key: 'k' }).body), Buffer.from('versioned'));
      assert.deepEqual(
        f.engine.listVersions({ bucket: 'b', prefix: '', maxKeys: 10 }).entries.map((e) => e.version.versionId),
        [v.versionId, 'null'],
      );
    }));

  it('in one millisecond, a delete marker over the null version hides it', () =>
    withEngine({ now: () => 1_700_000_000_000 }, async (f) => {
      await put(f.engine, 'k', 'unversioned');
      await f.setVersioning('b', 'Enabled');
      const { versionId, deleteMarker } = await f.engine.deleteObject({ bucket: 'b', key: 'k' });
      assert.equal(deleteMarker, true);
      assert.notEqual(versionId, 'null');
      assert.throws(
        () => f.engine.headObject({ bucket: 'b', key: 'k' }),
        s3Error('NoSuchKey', { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionId! }),
      );
      assert.deepEqual(f.engine.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects, []);
      assert.equal(f.engine.headObject({ bucket: 'b', key: 'k', versionId: 'null' }).versionId, 'null');
    }));

  it('in one millisecond, a Suspended null delete marker hides a newer-id version', () =>
    withEngine({ now: () => 1_700_000_000_000 }, async (f) => {
      await f.setVersioning('b', 'Enabled');
      const v = await put(f.engine, 'k', 'enabled');
      await f.setVersioning('b', 'Suspended');
      assert.deepEqual(await f.engine.deleteObject({ bucket: 'b', key: 'k' }), {
        versionId: 'null',
        deleteMarker: true,
      });
      assert.throws(
        () => f.engine.headObject({ bucket: 'b', key: 'k' }),
        s3Error('NoSuchKey', { 'x-amz-delete-marker': 'true', 'x-amz-version-id': 'null' }),
      );
      assert.equal(f.engine.headObject({ bucket: 'b', key: 'k', versionId: v.versionId }).versionId, v.versionId);
    }));

  it('with a frozen clock, a Suspended put of the null version becomes current over newer-id versions', () =>
    withEngine({ now: () => 1_700_000_000_000 }, async (f) => {
      await f.setVersioning('b', 'Enabled');
      await put(f.engine, 'k', 'enabled');
      await f.setVersioning('b', 'Suspended');
      await put(f.engine, 'k', 'suspended');
      assert.equal(f.engine.headObject({ bucket: 'b', key: 'k' }).versionId, 'null');
    }));
});
