import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tempDir } from './contract/helpers.ts';
import { bucketRecord, metaStoreContract, objectVersion, type MetaStoreFixture } from './contract/meta-store.ts';
import { LmdbMetaStore, commonPrefixOf } from './lmdb-meta.ts';

async function lmdbFixture(): Promise<MetaStoreFixture> {
  const dir = await tempDir('lmdb');
  let store = new LmdbMetaStore(dir.path);
  let open = true;
  return {
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = new LmdbMetaStore(dir.path);
      return store;
    },
    async cleanup() {
      if (open) await store.close();
      open = false;
      await dir.remove();
    },
  };
}

metaStoreContract('LmdbMetaStore', lmdbFixture);

describe('LmdbMetaStore', () => {
  it('lets many writes of one event turn share a transaction and all land', async () => {
    const f = await lmdbFixture();
    try {
      await f.store.createBucket(bucketRecord('b'));
      const keys = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(3, '0')}`);
      const results = await Promise.all(keys.map((key) => f.store.putVersion({ version: objectVersion('b', key) })));
      assert.equal(results.length, 300);
      const listed = f.store.listObjects({ bucket: 'b', prefix: '', maxKeys: 1000 }).objects.map((o) => o.key);
      assert.deepEqual(listed, keys);
    } finally {
      await f.cleanup();
    }
  });
});

describe('commonPrefixOf', () => {
  it('cuts after the first delimiter past the prefix', () => {
    assert.equal(commonPrefixOf('a/b/c', '', '/'), 'a/');
    assert.equal(commonPrefixOf('a/b/c', 'a/', '/'), 'a/b/');
    assert.equal(commonPrefixOf('a/b', 'a/b', '/'), undefined);
    assert.equal(commonPrefixOf('a--b--c', 'a', '--'), 'a--');
    assert.equal(commonPrefixOf('abc', '', '/'), undefined);
  });

  it('ignores a delimiter inside the prefix', () => {
    assert.equal(commonPrefixOf('a/b', 'a/', '/'), undefined);
    assert.equal(commonPrefixOf('a/b/', 'a/', '/'), 'a/b/');
  });
});
