import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Md5Pool } from './md5-pool.ts';

test('bodies hashed on the worker get the MD5 this thread computes, however they are cut and interleaved', async () => {
  const pool = new Md5Pool();
  try {
    // More bytes in flight than the ring holds (4 MiB), in pieces smaller and larger than a slot.
    const bodies = Array.from({ length: 12 }, (_, i) => randomBytes(300_000 + i * 97_003));
    const results = await Promise.all(
      bodies.map(async (body, i) => {
        const md5 = pool.open();
        const step = [1, 1000, 65_536, 70_001, 200_000][i % 5];
        for (let at = 0; at < body.length; at += step) {
          const wait = md5.update(body.subarray(at, at + step));
          if (wait) await wait;
          if (i % 3 === 0) await new Promise((r) => setImmediate(r));
        }
        return md5.digest();
      }),
    );
    results.forEach((digest, i) => assert.deepEqual(digest, createHash('md5').update(bodies[i]).digest(), `body ${i}`));
    // An empty body, and one abandoned half way, leave the worker serving the next.
    assert.deepEqual(await pool.open().digest(), createHash('md5').digest());
    const dropped = pool.open();
    await dropped.update(randomBytes(100_000));
    dropped.abort();
    const after = pool.open();
    await after.update(Buffer.from('still here'));
    assert.deepEqual(await after.digest(), createHash('md5').update('still here').digest());
  } finally {
    await pool.close();
  }
});
