import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { blobStoreContract, type BlobStoreFixture } from './contract/blob-store.ts';
import { tempDir } from './contract/helpers.ts';
import { FsBlobStore } from './fs-blob.ts';

async function fsFixture(): Promise<BlobStoreFixture & { root: string }> {
  const dir = await tempDir('blobs');
  let blobs = new FsBlobStore(dir.path);
  return {
    root: dir.path,
    get blobs() {
      return blobs;
    },
    async reopen() {
      await blobs.close();
      blobs = new FsBlobStore(dir.path);
      return blobs;
    },
    async cleanup() {
      await blobs.close();
      await dir.remove();
    },
  };
}

blobStoreContract('FsBlobStore', fsFixture);

describe('FsBlobStore', () => {
  it('stores a blob as <root>/<first two hex digits>/<id>, written in full before commit returns', async () => {
    const f = await fsFixture();
    try {
      const w = await f.blobs.create();
      assert.match(w.id, /^[0-9a-f]{32}$/);
      await w.write(Buffer.alloc(1234, 7));
      await w.commit();
      const st = await stat(join(f.root, w.id.slice(0, 2), w.id));
      assert.equal(st.size, 1234);
      assert.deepEqual(await readdir(join(f.root, w.id.slice(0, 2))), [w.id]);
    } finally {
      await f.cleanup();
    }
  });

  it('refuses ids that are not its own, so a crafted id cannot name another file', async () => {
    const f = await fsFixture();
    try {
      for (const id of ['../../etc/passwd', '', 'A'.repeat(32), 'g'.repeat(32), 'a'.repeat(31)]) {
        assert.throws(() => f.blobs.read(id), /invalid blob id/);
        await assert.rejects(f.blobs.delete(id), /invalid blob id/);
      }
    } finally {
      await f.cleanup();
    }
  });
});
