/**
 * Cross-region replication under faults, with each region in its own OS process over one
 * data directory: the destination region killed during a stream of writes and brought back
 * (on its old port and on a new one), and the source region killed -9 while it writes and
 * while it drains its backlog. What must hold is what a user sees through the stock SDK:
 * every acknowledged version reaches the destination with its version id and bytes, no extra
 * version appears there, and the source reports PENDING until then and COMPLETED after.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startRegionCluster, type RegionCluster } from './helpers/regions.ts';

const SOURCE = 'us-east-1';
const DEST = 'eu-west-1';
const MiB = 1024 * 1024;
/**
 * How long a recovered world may take to replicate its backlog, counted from the moment the
 * region that was down is serving again. The outages here last a few seconds; with backoff
 * doubling from 200 ms, the next attempt after such an outage comes well within this.
 * (REPLICATION_CATCH_UP_MS overrides it, to see how long catching up takes when it is slower.)
 */
const CATCH_UP_MS = Number(process.env.REPLICATION_CATCH_UP_MS ?? 10_000);

/** The source region's log lines about retrying, for failure messages. */
function retryLog(cluster: RegionCluster): string {
  const lines = cluster
    .output(SOURCE)
    .split('\n')
    .filter((l) => l.includes('retry'));
  return lines.length ? `\nsource log:\n${lines.slice(-5).join('\n')}` : '';
}

/** The bytes of write `i`: deterministic, so any stored copy can be checked exactly. */
function bodyOf(i: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = (i + 1) * 2654435761;
  for (let j = 0; j < size; j++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[j] = x >>> 24;
  }
  return out;
}

const md5 = (b: Buffer): string => `"${createHash('md5').update(b).digest('hex')}"`;

/** One version as a listing shows it. */
interface Listed {
  key: string;
  versionId: string;
  deleteMarker: boolean;
  etag?: string;
  size?: number;
}

/** An acknowledged write: what the source answered, and how to rebuild its bytes. */
interface Acked extends Listed {
  /** write number and size the bytes were made from (not for delete markers) */
  i: number;
}

const id = (v: { key: string; versionId: string }): string => `${v.key}\u0000${v.versionId}`;

async function listVersions(s3: S3Client, bucket: string, prefix?: string): Promise<Map<string, Listed>> {
  const out = new Map<string, Listed>();
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
    );
    for (const v of page.Versions ?? []) {
      const l: Listed = { key: v.Key!, versionId: v.VersionId!, deleteMarker: false, etag: v.ETag, size: v.Size };
      out.set(id(l), l);
    }
    for (const m of page.DeleteMarkers ?? []) {
      const l: Listed = { key: m.Key!, versionId: m.VersionId!, deleteMarker: true };
      out.set(id(l), l);
    }
    if (!page.IsTruncated) return out;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

/** Runs `fn` over `items`, `width` at a time. */
async function forEachLimit<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function replicationStatus(s3: S3Client, bucket: string, v: { key: string; versionId: string }): Promise<string | undefined> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: v.key, VersionId: v.versionId }));
  return head.ReplicationStatus;
}

/** Creates versioned `src` in the source region, `dst` in the destination, and src → dst replication. */
async function setUpBuckets(cluster: RegionCluster): Promise<void> {
  const a = cluster.client(SOURCE);
  const b = cluster.client(DEST);
  await a.send(new CreateBucketCommand({ Bucket: 'src' }));
  await b.send(new CreateBucketCommand({ Bucket: 'dst', CreateBucketConfiguration: { LocationConstraint: DEST } }));
  for (const [s3, bucket] of [
    [a, 'src'],
    [b, 'dst'],
  ] as const) {
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  await a.send(
    new PutBucketReplicationCommand({
      Bucket: 'src',
      ReplicationConfiguration: {
        Role: 'arn:aws:iam::111122223333:role/replication',
        Rules: [
          {
            ID: 'everything',
            Priority: 1,
            Status: 'Enabled',
            Filter: {},
            DeleteMarkerReplication: { Status: 'Enabled' },
            Destination: { Bucket: 'arn:aws:s3:::dst' },
          },
        ],
      },
    }),
  );
}

/** PUTs write `i` (or, when `remove`, deletes the key, leaving a delete marker). */
async function write(s3: S3Client, key: string, i: number, size: number, remove = false): Promise<Acked> {
  if (remove) {
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'src', Key: key }));
    assert.equal(del.DeleteMarker, true);
    return { key, versionId: del.VersionId!, deleteMarker: true, i };
  }
  const body = bodyOf(i, size);
  const put = await s3.send(new PutObjectCommand({ Bucket: 'src', Key: key, Body: body }));
  assert.ok(put.VersionId, 'a versioned PUT answers a version id');
  return { key, versionId: put.VersionId, deleteMarker: false, etag: md5(body), size, i };
}

/**
 * Waits until the destination holds every version the source lists under `prefix` and the
 * source reports each object version COMPLETED. On every look it also checks what must hold
 * all along: the destination has no version the source lacks (same id, same ETag and size),
 * and no key has more versions there than at the source. Resolves how long it took.
 */
async function untilReplicated(cluster: RegionCluster, prefix: string, deadlineMs = CATCH_UP_MS): Promise<number> {
  const a = cluster.client(SOURCE);
  const b = cluster.client(DEST);
  const started = Date.now();
  const src = await listVersions(a, 'src', prefix);
  for (;;) {
    const dst = await listVersions(b, 'dst', prefix);
    assertNoStrayVersions(src, dst);
    const missing = [...src.values()].filter((v) => !dst.has(id(v)));
    if (missing.length === 0) break;
    if (Date.now() - started > deadlineMs) {
      assert.fail(`${missing.length} of ${src.size} versions did not reach the destination within ${deadlineMs} ms${retryLog(cluster)}`);
    }
    await sleep(100);
  }
  let pending = [...src.values()].filter((v) => !v.deleteMarker);
  for (;;) {
    const still: Listed[] = [];
    const seen = new Map<string, number>();
    await forEachLimit(pending, 16, async (v) => {
      const status = await replicationStatus(a, 'src', v);
      assert.notEqual(status, 'FAILED', `${v.key} ${v.versionId} FAILED`);
      if (status !== 'COMPLETED') still.push(v);
      seen.set(String(status), (seen.get(String(status)) ?? 0) + 1);
    });
    pending = still;
    if (pending.length === 0) return Date.now() - started;
    if (Date.now() - started > deadlineMs) {
      assert.fail(
        `${pending.length} versions not COMPLETED within ${deadlineMs} ms: ${JSON.stringify(Object.fromEntries(seen))}${retryLog(cluster)}`,
      );
    }
    await sleep(100);
  }
}

function assertNoStrayVersions(src: Map<string, Listed>, dst: Map<string, Listed>): void {
  const perKey = (m: Map<string, Listed>) => {
    const n = new Map<string, number>();
    for (const v of m.values()) n.set(v.key, (n.get(v.key) ?? 0) + 1);
    return n;
  };
  for (const [k, v] of dst) {
    const s = src.get(k);
    assert.ok(s, `the destination has ${v.key} ${v.versionId}, which the source never had`);
    assert.equal(v.deleteMarker, s.deleteMarker, `${v.key} ${v.versionId}: delete marker on one side only`);
    assert.equal(v.etag, s.etag, `${v.key} ${v.versionId}: ETag differs`);
    assert.equal(v.size, s.size, `${v.key} ${v.versionId}: size differs`);
  }
  const srcCount = perKey(src);
  for (const [key, n] of perKey(dst)) {
    assert.ok(n <= (srcCount.get(key) ?? 0), `${key} has ${n} versions at the destination, ${srcCount.get(key)} at the source`);
  }
}

/** Every acknowledged write is at the destination; a sample is read back byte for byte. */
async function assertAckedReplicated(cluster: RegionCluster, acked: readonly Acked[], prefix: string, samples: number): Promise<void> {
  const b = cluster.client(DEST);
  const dst = await listVersions(b, 'dst', prefix);
  for (const w of acked) {
    const got = dst.get(id(w));
    assert.ok(got, `acknowledged ${w.deleteMarker ? 'delete' : 'write'} ${w.key} ${w.versionId} is missing at the destination`);
    assert.equal(got.deleteMarker, w.deleteMarker);
    if (!w.deleteMarker) {
      assert.equal(got.etag, w.etag, `${w.key} ${w.versionId}: ETag`);
      assert.equal(got.size, w.size, `${w.key} ${w.versionId}: size`);
    }
  }
  const objects = acked.filter((w) => !w.deleteMarker);
  // The largest ones and an even spread of the rest.
  const sample = new Set([...objects].sort((x, y) => y.size! - x.size!).slice(0, Math.ceil(samples / 4)));
  const step = Math.max(1, Math.floor(objects.length / samples));
  for (let j = 0; j < objects.length; j += step) sample.add(objects[j]);
  await forEachLimit([...sample], 8, async (w) => {
    const got = await b.send(new GetObjectCommand({ Bucket: 'dst', Key: w.key, VersionId: w.versionId }));
    assert.equal(got.VersionId, w.versionId);
    assert.equal(got.ReplicationStatus, 'REPLICA');
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    assert.ok(bytes.equals(bodyOf(w.i, w.size!)), `${w.key} ${w.versionId}: the replica's bytes differ`);
  });
}

test('the destination region killed during a stream of writes catches up once it is back', { timeout: 120_000 }, async () => {
  const cluster = await startRegionCluster([SOURCE, DEST]);
  try {
    await cluster.start(SOURCE);
    await cluster.start(DEST);
    await setUpBuckets(cluster);
    const a = cluster.client(SOURCE);

    // 4 paced writers: 330 writes over a couple of seconds, overwrites and some deletes;
    // every 20th is 1 MiB, the rest a few KiB. The destination dies after the 110th.
    const total = 330;
    const acked: Acked[] = [];
    let next = 0;
    let firstAfterKill = Infinity;
    let killing: Promise<void> | undefined;
    let killedAt = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < total) {
          const i = next++;
          if (i === 110) {
            killing = cluster.kill(DEST).then(() => {
              firstAfterKill = next;
              killedAt = Date.now();
            });
          }
          const size = i % 20 === 19 ? MiB : 100 + ((i * 397) % 4000);
          acked.push(await write(a, `obj/${i % 150}`, i, size, i % 25 === 24));
          await sleep(20);
        }
      }),
    );
    await killing;
    assert.ok(firstAfterKill < total - 50, `only ${total - firstAfterKill} writes came after the destination died`);

    // Writes after the destination died stay PENDING while it is down (not FAILED).
    const afterKill = acked.filter((w) => w.i >= firstAfterKill && !w.deleteMarker);
    await sleep(1000);
    await forEachLimit(afterKill, 16, async (w) => {
      assert.equal(await replicationStatus(a, 'src', w), 'PENDING', `${w.key} ${w.versionId} while the destination is down`);
    });

    // Back on its old port: the source's backlog drains within bounded time.
    const port = cluster.port(DEST);
    await cluster.start(DEST, port);
    const down = Date.now() - killedAt;
    const took = await untilReplicated(cluster, 'obj/');
    console.log(`# destination down ${down} ms: ${afterKill.length} PENDING writes, caught up ${took} ms after restart`);
    await assertAckedReplicated(cluster, acked, 'obj/', 40);
  } finally {
    await cluster.close();
  }
});

/** 16 writers PUT to the source until `stop()`; resolves what was acknowledged. */
function writers(
  s3: S3Client,
  prefix: string,
  from: number,
  opts: { count?: number; size: (i: number) => number },
): { stop(): void; done: Promise<Acked[]>; written(): number } {
  const acked: Acked[] = [];
  let next = from;
  let stopped = false;
  const done = Promise.all(
    Array.from({ length: 16 }, async () => {
      while (!stopped && (opts.count === undefined || next < from + opts.count)) {
        const i = next++;
        try {
          acked.push(await write(s3, `${prefix}${i % 97}`, i, opts.size(i)));
        } catch (err) {
          if (opts.count !== undefined) throw err; // no kill is expected
          return; // the source is gone
        }
      }
    }),
  ).then(() => acked);
  return {
    stop: () => {
      stopped = true;
    },
    done,
    written: () => acked.length,
  };
}

test('the source region killed -9 while writing and while draining its backlog loses and duplicates nothing', { timeout: 120_000 }, async () => {
  const cluster = await startRegionCluster([SOURCE, DEST]);
  try {
    await cluster.start(SOURCE);
    await cluster.start(DEST);
    await setUpBuckets(cluster);

    // 1. kill -9 during a stream of 16 concurrent writers.
    const a = cluster.client(SOURCE);
    const stream = writers(a, 'one/', 0, { size: (i) => (i % 16 === 7 ? MiB : 100 + ((i * 397) % 8000)) });
    await sleep(1500);
    await cluster.kill(SOURCE);
    stream.stop();
    const acked = await stream.done;
    assert.ok(acked.length > 100, `only ${acked.length} writes were acknowledged before the kill`);
    await cluster.start(SOURCE);
    const took1 = await untilReplicated(cluster, 'one/');
    await assertAckedReplicated(cluster, acked, 'one/', 40);

    // 2. A backlog: written while the destination is down.
    await cluster.kill(DEST);
    const backlog = await writers(cluster.client(SOURCE), 'two/', 100_000, {
      count: 400,
      size: (i) => (i % 5 === 0 ? MiB : 100 + ((i * 397) % 8000)),
    }).done;
    await cluster.start(DEST, 0);
    // A fresh source process starts on its backlog at once (the old one may be backing off).
    await cluster.kill(SOURCE);
    await cluster.start(SOURCE);
    // kill -9 as soon as the destination shows the drain under way.
    const b = cluster.client(DEST);
    let replicatedAtKill = 0;
    for (const started = Date.now(); ; await sleep(10)) {
      replicatedAtKill = (await listVersions(b, 'dst', 'two/')).size;
      if (replicatedAtKill > 0) break;
      assert.ok(Date.now() - started < CATCH_UP_MS, 'the restarted source never started draining its backlog');
    }
    await cluster.kill(SOURCE);
    assert.ok(replicatedAtKill < backlog.length, `the backlog had drained (${replicatedAtKill}) before the kill`);
    await cluster.start(SOURCE);
    const took2 = await untilReplicated(cluster, 'two/');
    await assertAckedReplicated(cluster, backlog, 'two/', 40);
    // And the first round still holds.
    await untilReplicated(cluster, 'one/', 0);
    console.log(
      `# source killed: ${acked.length} acknowledged, caught up in ${took1} ms; ` +
        `killed again at ${replicatedAtKill}/${backlog.length} of the backlog, caught up in ${took2} ms`,
    );
  } finally {
    await cluster.close();
  }
});

test('a destination region that comes back on another port still receives the backlog', { timeout: 120_000 }, async () => {
  const cluster = await startRegionCluster([SOURCE, DEST]);
  try {
    await cluster.start(SOURCE);
    await cluster.start(DEST);
    await setUpBuckets(cluster);
    const a = cluster.client(SOURCE);
    const acked: Acked[] = [];
    for (let i = 0; i < 20; i++) acked.push(await write(a, `moved/${i}`, i, 1000 + i));
    await untilReplicated(cluster, 'moved/');

    await cluster.kill(DEST);
    const killedAt = Date.now();
    const oldPort = cluster.port(DEST);
    const later: Acked[] = [];
    for (let i = 20; i < 80; i++) later.push(await write(a, `moved/${i % 30}`, i, i % 10 === 0 ? MiB : 1000 + i));
    await forEachLimit(later, 16, async (w) => {
      assert.equal(await replicationStatus(a, 'src', w), 'PENDING');
    });

    await cluster.start(DEST, 0);
    // Port 0 could in principle hand out the old port again: then try once more.
    if (cluster.port(DEST) === oldPort) {
      await cluster.kill(DEST);
      await cluster.start(DEST, 0);
    }
    assert.notEqual(cluster.port(DEST), oldPort);
    const down = Date.now() - killedAt;
    const took = await untilReplicated(cluster, 'moved/');
    console.log(`# destination down ${down} ms, moved from port ${oldPort} to ${cluster.port(DEST)}: caught up in ${took} ms`);
    await assertAckedReplicated(cluster, [...acked, ...later], 'moved/', 20);
  } finally {
    await cluster.close();
  }
});
