import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  S3Client,
  UploadPartCommand,
  ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3';
import { spawnMeridian } from './helpers/process.ts';
import { PseudoRandomBytes } from './helpers/raw-pseudorandom.ts';
import { CREDENTIALS } from './helpers/world.ts';

const MiB = 1024 * 1024;

/** Part `n` of upload `u`: deterministic bytes, 5 MiB for part 1 and a short tail for part 2. */
function partOf(u: number, n: number): Buffer {
  const size = n === 1 ? 5 * MiB : 1000 + (u % 7) * 333;
  return new PseudoRandomBytes(`crash-${u}-${n}`).slice(0, size);
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

function client(endpoint: string): S3Client {
  return new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: CREDENTIALS, maxAttempts: 1 });
}

interface Progress {
  key: string;
  uploadId?: string;
  parts: Map<number, string>;
  completed: boolean;
}

test('kill -9 during multipart uploads loses no acknowledged part or completion', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-crash-mpu-'));
  const config = join(dir, 'world.yaml');
  await writeFile(config, 'regions:\n  - name: us-east-1\n    port: 0\n');
  const env = {
    MERIDIAN_ROOT_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    MERIDIAN_ROOT_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    MERIDIAN_ROOT_ACCOUNT_ID: CREDENTIALS.accountId,
  };
  const args = ['up', '--json', '--config', config, '--data-dir', join(dir, 'data')];
  const uploads: Progress[] = [];
  try {
    for (let round = 0; round < 2; round++) {
      const server = spawnMeridian(args, env);
      const { regions } = await server.ready;
      const s3 = client(regions[0].endpoint);
      if (round === 0) await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
      let stop = false;
      const workers = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const u = uploads.length;
          const p: Progress = { key: `mpu/${u}`, parts: new Map(), completed: false };
          uploads.push(p);
          try {
            const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'crash', Key: p.key }));
            p.uploadId = created.UploadId;
            for (const n of [1, 2]) {
              const out = await s3.send(
                new UploadPartCommand({ Bucket: 'crash', Key: p.key, UploadId: p.uploadId, PartNumber: n, Body: partOf(u, n) }),
              );
              p.parts.set(n, out.ETag!);
            }
            await s3.send(
              new CompleteMultipartUploadCommand({
                Bucket: 'crash',
                Key: p.key,
                UploadId: p.uploadId,
                MultipartUpload: { Parts: [...p.parts].map(([PartNumber, ETag]) => ({ PartNumber, ETag })) },
              }),
            );
            p.completed = true;
          } catch {
            return; // the server is gone
          }
        }
      });
      await new Promise((r) => setTimeout(r, 1200 + round * 500));
      server.proc.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await server.exited;
      s3.destroy();
    }
    assert.ok(uploads.filter((p) => p.completed).length > 4, 'some uploads completed before the kills');

    const server = spawnMeridian(args, env);
    const { regions } = await server.ready;
    const s3 = client(regions[0].endpoint);
    let objects = 0;
    try {
      for (const [u, p] of uploads.entries()) {
        if (p.uploadId === undefined) continue;
        const whole = Buffer.concat([partOf(u, 1), partOf(u, 2)]);
        const exists = await s3
          .send(new HeadObjectCommand({ Bucket: 'crash', Key: p.key }))
          .then(() => true)
          .catch(() => false);
        if (exists) {
          // Completed (acknowledged or not): whole and exactly the parts sent.
          const got = await s3.send(new GetObjectCommand({ Bucket: 'crash', Key: p.key }));
          const bytes = Buffer.from(await got.Body!.transformToByteArray());
          assert.ok(bytes.equals(whole), `object ${p.key} is torn`);
          objects++;
          continue;
        }
        assert.equal(p.completed, false, `acknowledged completion of ${p.key} is missing`);
        // Not completed: the upload is still open with every acknowledged part.
        const listed = await s3.send(new ListPartsCommand({ Bucket: 'crash', Key: p.key, UploadId: p.uploadId }));
        const stored = new Map((listed.Parts ?? []).map((x) => [x.PartNumber!, x.ETag!]));
        for (const [n, etag] of p.parts) {
          assert.equal(stored.get(n), etag, `acknowledged part ${n} of ${p.key} is missing`);
          assert.equal(etag, `"${md5(partOf(u, n))}"`);
        }
      }
      // Abort what is left open: afterwards only the completed objects' parts remain on disk.
      for (;;) {
        const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'crash' }));
        for (const up of page.Uploads ?? []) {
          await s3.send(new AbortMultipartUploadCommand({ Bucket: 'crash', Key: up.Key, UploadId: up.UploadId }));
        }
        if (!page.IsTruncated) break;
      }
    } finally {
      s3.destroy();
      server.proc.kill('SIGTERM');
      await server.exited;
    }
    const blobs = join(dir, 'data', 'regions', 'us-east-1', 'blobs');
    let files = 0;
    for (const shard of await readdir(blobs)) files += (await readdir(join(blobs, shard))).length;
    assert.equal(files, objects * 2, `${files} part files for ${objects} two-part objects: parts leaked`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
