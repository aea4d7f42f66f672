import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { CREDENTIALS } from './helpers/world.ts';
import { spawnMeridian } from './helpers/process.ts';

/** The bytes of write `i`: deterministic, so any stored copy can be checked exactly. */
function bodyOf(i: number): Buffer {
  // Sizes on both sides of the inline threshold (128 KiB) and some empty and tiny ones.
  const sizes = [0, 1, 4096, 100_000, 131_072, 131_073, 300_000, 1_048_576];
  const size = sizes[i % sizes.length];
  const out = Buffer.alloc(size);
  let x = (i + 1) * 2654435761;
  for (let j = 0; j < size; j++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[j] = x >>> 24;
  }
  return out;
}

function client(endpoint: string): S3Client {
  return new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: CREDENTIALS, maxAttempts: 1 });
}

test('kill -9 during concurrent PUTs loses no acknowledged write and tears no object', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-crash-'));
  const config = join(dir, 'world.yaml');
  await writeFile(config, 'regions:\n  - name: us-east-1\n    port: 0\n');
  const env = {
    MERIDIAN_ROOT_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    MERIDIAN_ROOT_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    MERIDIAN_ROOT_ACCOUNT_ID: CREDENTIALS.accountId,
  };
  const args = ['up', '--json', '--config', config, '--data-dir', join(dir, 'data')];
  try {
    const acknowledged = new Set<number>();
    for (let round = 0; round < 3; round++) {
      const server = spawnMeridian(args, env);
      const { regions } = await server.ready;
      const s3 = client(regions[0].endpoint);
      if (round === 0) await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));

      // 16 writers; the server is killed while they run.
      let next = round * 10_000;
      let stop = false;
      const writers = Array.from({ length: 16 }, async () => {
        while (!stop) {
          const i = next++;
          try {
            await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: `k/${i}`, Body: bodyOf(i) }));
            acknowledged.add(i);
          } catch {
            return; // the server is gone
          }
        }
      });
      await new Promise((r) => setTimeout(r, 700 + round * 300));
      server.proc.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);
      await server.exited;
      s3.destroy();
    }
    assert.ok(acknowledged.size > 50, `only ${acknowledged.size} writes were acknowledged before the kills`);

    const server = spawnMeridian(args, env);
    const { regions } = await server.ready;
    const s3 = client(regions[0].endpoint);
    const listed = new Set<number>();
    try {
      for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: 'crash', Prefix: 'k/' })) {
        for (const c of page.Contents ?? []) listed.add(Number(c.Key!.slice(2)));
      }
      for (const i of acknowledged) assert.ok(listed.has(i), `acknowledged write ${i} is missing after the crash`);
      // Every object present, acknowledged or not, is whole.
      for (const i of listed) {
        const got = await s3.send(new GetObjectCommand({ Bucket: 'crash', Key: `k/${i}` }));
        const bytes = Buffer.from(await got.Body!.transformToByteArray());
        const expected = bodyOf(i);
        assert.equal(bytes.length, expected.length, `object ${i} has the wrong size`);
        assert.ok(bytes.equals(expected), `object ${i} is torn`);
        assert.equal(got.ETag, `"${createHash('md5').update(expected).digest('hex')}"`);
      }
      // The store still takes writes after recovery.
      await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: 'after', Body: 'ok' }));
      const after = await s3.send(new ListObjectsV2Command({ Bucket: 'crash', Prefix: 'after' }));
      assert.equal(after.KeyCount, 1);
    } finally {
      s3.destroy();
      server.proc.kill('SIGTERM');
      await server.exited;
    }

    // Orphan files left by writes that were never committed are swept on start.
    const blobs = join(dir, 'data', 'regions', 'us-east-1', 'blobs');
    let files = 0;
    for (const shard of await readdir(blobs)) files += (await readdir(join(blobs, shard))).length;
    const large = [...listed].filter((i) => bodyOf(i).length > 131_072).length;
    assert.equal(files, large, `${files} blob files for ${large} large objects: orphans were not swept`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
