import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LmdbCatalog } from './catalog.ts';

test('an access key id of any length is looked up without throwing; only real ones are found', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-catalog-'));
  const catalog = new LmdbCatalog({ path: dir, regions: [], keys: [] });
  try {
    const key = await catalog.createAccessKey({ accountId: '111122223333', user: 'erin' });
    assert.equal(catalog.accessKey(key.accessKeyId)?.user, 'erin');
    for (const id of ['', 'AKIA', 'A'.repeat(129), 'AKIA'.repeat(2000)])
      assert.equal(catalog.accessKey(id), undefined, `${id.length} chars`);
  } finally {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  }
});
