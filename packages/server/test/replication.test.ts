/**
 * Bucket replication end to end, as a user of the stock SDK sees it across a three-region
 * world: what a replica looks like (same version id and time, bytes, metadata, content
 * headers, tags, ACL, the rule's storage class), `x-amz-replication-status` on both sides,
 * which writes a configuration's rules send where (filters, priorities, delete markers,
 * V1 and V2), what is never replicated (deletes by version id, replicas of replicas, objects
 * older than the configuration), two-way replication converging (versions and, under
 * ReplicaModifications, tag changes), metadata changes of existing versions, and failures.
 *
 * Replication is asynchronous: positive checks poll (`eventually`). A "must not replicate"
 * check first waits for a later write that does replicate to the same destination, then
 * looks for the first one.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  DeletePublicAccessBlockCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3ServiceException,
  UploadPartCommand,
  type HeadObjectCommandOutput,
  type PutObjectCommandInput,
  type ReplicationRule,
  type S3Client,
  type Tag,
  type ObjectOwnership,
} from '@aws-sdk/client-s3';
import { eventually } from './helpers/eventually.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { startTestWorld, type TestWorld } from './helpers/world.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const ROLE = 'arn:aws:iam::111122223333:role/replication';

type Region = 'us-east-1' | 'eu-west-1' | 'ap-southeast-1';
const US: Region = 'us-east-1';
const EU: Region = 'eu-west-1';
const AP: Region = 'ap-southeast-1';
/**
 * New buckets have ACLs disabled (BucketOwnerEnforced) and public access blocked; the ACL
 * tests' buckets take ACLs, public ones included.
 */
const ACLS = { objectOwnership: 'ObjectWriter', publicAcls: true } as const;

/** A bucket and a client of its region. */
interface Bucket {
  name: string;
  region: Region;
  s3: S3Client;
}

/** One key's version stack as ListObjectVersions shows it (the SDK splits the two lists). */
interface Stack {
  versions: string[];
  markers: string[];
  latest: string | undefined;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const seconds = (d: Date | undefined): number => Math.floor((d?.getTime() ?? NaN) / 1000);

/** A V2 rule to `destination`, whole bucket, delete markers not replicated, unless overridden. */
function rule(destination: string, priority: number, extra: Partial<ReplicationRule> = {}): ReplicationRule {
  return {
    ID: `to-${destination}-${priority}`,
    Priority: priority,
    Status: 'Enabled',
    Filter: { Prefix: '' },
    DeleteMarkerReplication: { Status: 'Disabled' },
    ...extra,
    Destination: { Bucket: `arn:aws:s3:::${destination}`, ...extra.Destination },
  };
}

describe('replication', { concurrency: true }, () => {
  let w: TestWorld;
  const clients = new Map<Region, S3Client>();
  const client = (region: Region): S3Client => clients.get(region)!;

  before(async () => {
    w = await startTestWorld();
    for (const r of [US, EU, AP]) clients.set(r, w.client(r));
  });
  after(() => w.close());

  // ---- helpers over the world ----

  async function bucket(
    name: string,
    region: Region,
    opts: { versioned?: boolean; objectOwnership?: ObjectOwnership; publicAcls?: boolean } = {},
  ): Promise<Bucket> {
    const s3 = client(region);
    await s3.send(
      new CreateBucketCommand({
        Bucket: name,
        ObjectOwnership: opts.objectOwnership,
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region } }),
      }),
    );
    if (opts.publicAcls) await s3.send(new DeletePublicAccessBlockCommand({ Bucket: name }));
    if (opts.versioned !== false) {
      await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    }
    return { name, region, s3 };
  }

  async function configure(source: Bucket, rules: ReplicationRule[]): Promise<void> {
    await source.s3.send(
      new PutBucketReplicationCommand({ Bucket: source.name, ReplicationConfiguration: { Role: ROLE, Rules: rules } }),
    );
  }

  async function put(
    b: Bucket,
    Key: string,
    Body: string | Uint8Array,
    extra: Partial<PutObjectCommandInput> = {},
  ): Promise<string> {
    const out = await b.s3.send(new PutObjectCommand({ Bucket: b.name, Key, Body, ...extra }));
    assert.ok(out.VersionId, `PUT ${b.name}/${Key} answers a version id`);
    return out.VersionId;
  }

  /** HeadObject, or undefined when the key (or that version) is not there. */
  async function head(b: Bucket, Key: string, VersionId?: string): Promise<HeadObjectCommandOutput | undefined> {
    try {
      return await b.s3.send(new HeadObjectCommand({ Bucket: b.name, Key, VersionId }));
    } catch (err) {
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  /** Waits until the source version shows `status` (COMPLETED by default), and returns its HEAD. */
  function waitStatus(b: Bucket, Key: string, VersionId: string, status = 'COMPLETED'): Promise<HeadObjectCommandOutput> {
    return eventually(async () => {
      const h = await head(b, Key, VersionId);
      assert.ok(h, `${b.name}/${Key}@${VersionId} exists`);
      assert.equal(h.ReplicationStatus, status, `${b.name}/${Key}@${VersionId} replication status`);
      return h;
    });
  }

  /** Waits until `b` holds the version as a replica, and returns its HEAD. */
  function waitReplica(b: Bucket, Key: string, VersionId: string): Promise<HeadObjectCommandOutput> {
    return eventually(async () => {
      const h = await head(b, Key, VersionId);
      assert.ok(h, `replica ${b.name}/${Key}@${VersionId} has arrived`);
      assert.equal(h.ReplicationStatus, 'REPLICA');
      return h;
    });
  }

  async function stack(b: Bucket, Key: string): Promise<Stack> {
    const out = await b.s3.send(new ListObjectVersionsCommand({ Bucket: b.name, Prefix: Key }));
    const versions = (out.Versions ?? []).filter((v) => v.Key === Key);
    const markers = (out.DeleteMarkers ?? []).filter((m) => m.Key === Key);
    const latest = [...versions, ...markers].find((e) => e.IsLatest)?.VersionId;
    return { versions: versions.map((v) => v.VersionId!), markers: markers.map((m) => m.VersionId!), latest };
  }

  async function hasVersion(b: Bucket, Key: string, versionId: string): Promise<boolean> {
    const s = await stack(b, Key);
    return s.versions.includes(versionId) || s.markers.includes(versionId);
  }

  async function bytes(b: Bucket, Key: string, VersionId?: string): Promise<Buffer> {
    const out = await b.s3.send(new GetObjectCommand({ Bucket: b.name, Key, VersionId }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  async function tags(b: Bucket, Key: string, VersionId?: string): Promise<Tag[]> {
    const out = await b.s3.send(new GetObjectTaggingCommand({ Bucket: b.name, Key, VersionId }));
    return [...(out.TagSet ?? [])].sort((x, y) => (x.Key! < y.Key! ? -1 : 1));
  }

  /** What a replica must share with its source version, whatever the rule. */
  function assertSameVersion(source: HeadObjectCommandOutput, replica: HeadObjectCommandOutput): void {
    assert.equal(replica.VersionId, source.VersionId);
    assert.equal(seconds(replica.LastModified), seconds(source.LastModified), 'LastModified');
    assert.equal(replica.ETag, source.ETag);
    assert.equal(replica.ContentLength, source.ContentLength);
    assert.equal(replica.ContentType, source.ContentType);
    assert.deepEqual(replica.Metadata, source.Metadata);
    assert.equal(replica.TagCount, source.TagCount);
  }

  // ---- 1. a V2 rule over the whole bucket ----

  describe('V2 rule, whole bucket', () => {
    let src: Bucket;
    let dst: Bucket;
    before(async () => {
      src = await bucket('rep-whole-src', US);
      dst = await bucket('rep-whole-dst', EU);
      await configure(src, [rule(dst.name, 1, { Destination: { Bucket: `arn:aws:s3:::${dst.name}`, StorageClass: 'STANDARD_IA' } })]);
    });

    test('a small object: status PENDING then COMPLETED on the source, REPLICA with the same version, time, bytes, headers, metadata and tags', async () => {
      const expires = new Date('2031-01-02T03:04:05Z');
      const id = await put(src, 'small/hello.txt', 'hello, replica', {
        ContentType: 'text/plain; charset=utf-8',
        ContentLanguage: 'en-GB',
        ContentDisposition: 'attachment; filename="hello.txt"',
        ContentEncoding: 'identity',
        CacheControl: 'max-age=60',
        Expires: expires,
        Metadata: { color: 'blue', 'multi-word': 'a value with spaces' },
        Tagging: 'project=meridian&stage=one%20two',
      });
      const first = await head(src, 'small/hello.txt', id);
      assert.ok(first?.ReplicationStatus === 'PENDING' || first?.ReplicationStatus === 'COMPLETED', first?.ReplicationStatus);
      const source = await waitStatus(src, 'small/hello.txt', id);
      const replica = await waitReplica(dst, 'small/hello.txt', id);
      assertSameVersion(source, replica);
      assert.equal(replica.ContentLanguage, 'en-GB');
      assert.equal(replica.ContentDisposition, 'attachment; filename="hello.txt"');
      assert.equal(replica.ContentEncoding, 'identity');
      assert.equal(replica.CacheControl, 'max-age=60');
      assert.equal(replica.ExpiresString, source.ExpiresString);
      assert.deepEqual(replica.Metadata, { color: 'blue', 'multi-word': 'a value with spaces' });
      assert.equal(replica.TagCount, 2);
      assert.deepEqual(await tags(dst, 'small/hello.txt', id), [
        { Key: 'project', Value: 'meridian' },
        { Key: 'stage', Value: 'one two' },
      ]);
      assert.equal((await bytes(dst, 'small/hello.txt', id)).toString(), 'hello, replica');
      // The replica is current on the destination and GET (not only HEAD) says REPLICA.
      const got = await dst.s3.send(new GetObjectCommand({ Bucket: dst.name, Key: 'small/hello.txt' }));
      assert.equal(got.VersionId, id);
      assert.equal(got.ReplicationStatus, 'REPLICA');
      await got.Body!.transformToByteArray();
      const srcGot = await src.s3.send(new GetObjectCommand({ Bucket: src.name, Key: 'small/hello.txt' }));
      assert.equal(srcGot.ReplicationStatus, 'COMPLETED');
      await srcGot.Body!.transformToByteArray();
    });

    test("the rule's storage class applies to the replica only", async () => {
      const id = await put(src, 'class/one', 'x');
      const replica = await waitReplica(dst, 'class/one', id);
      assert.equal(replica.StorageClass, 'STANDARD_IA');
      const source = await head(src, 'class/one', id);
      assert.equal(source?.StorageClass, undefined, 'the source stays STANDARD');
      const listed = await dst.s3.send(new ListObjectVersionsCommand({ Bucket: dst.name, Prefix: 'class/one' }));
      assert.equal(listed.Versions?.[0]?.StorageClass, 'STANDARD_IA');
    });

    test('a 3 MiB object arrives byte for byte', async () => {
      const body = randomBytes(3 * MiB);
      const id = await put(src, 'large/three-mib.bin', body, { ContentType: 'application/octet-stream' });
      const source = await waitStatus(src, 'large/three-mib.bin', id);
      const replica = await waitReplica(dst, 'large/three-mib.bin', id);
      assertSameVersion(source, replica);
      assert.equal(replica.ContentLength, 3 * MiB);
      assert.equal(sha256(await bytes(dst, 'large/three-mib.bin', id)), sha256(body));
    });

    /** One multipart object (parts of 5, 5 and 1 MiB), uploaded once for the tests that read it. */
    const MULTIPART_KEY = 'multipart/object.bin';
    let multipart: Promise<{ versionId: string; etag: string; body: Buffer }> | undefined;
    const multipartObject = () => (multipart ??= uploadMultipart());
    async function uploadMultipart() {
      const Key = MULTIPART_KEY;
      const created = await src.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: src.name,
          Key,
          ContentType: 'application/x-parts',
          Metadata: { origin: 'multipart' },
          Tagging: 'kind=mpu',
        }),
      );
      const parts = [5 * MiB, 5 * MiB, 1 * MiB].map((n) => randomBytes(n));
      const done = [];
      for (const [i, Body] of parts.entries()) {
        const up = await src.s3.send(
          new UploadPartCommand({ Bucket: src.name, Key, UploadId: created.UploadId, PartNumber: i + 1, Body }),
        );
        done.push({ PartNumber: i + 1, ETag: up.ETag, ChecksumCRC32: up.ChecksumCRC32 });
      }
      const completed = await src.s3.send(
        new CompleteMultipartUploadCommand({ Bucket: src.name, Key, UploadId: created.UploadId, MultipartUpload: { Parts: done } }),
      );
      assert.ok(completed.VersionId && completed.ETag);
      return { versionId: completed.VersionId, etag: completed.ETag, body: Buffer.concat(parts) };
    }

    test('a multipart object keeps its ETag "-N", bytes, metadata and tags', async () => {
      const { versionId, etag, body } = await multipartObject();
      assert.match(etag, /-3"$/);
      const source = await waitStatus(src, MULTIPART_KEY, versionId);
      const replica = await waitReplica(dst, MULTIPART_KEY, versionId);
      assertSameVersion(source, replica);
      assert.equal(replica.ETag, etag);
      assert.equal(replica.ContentType, 'application/x-parts');
      assert.deepEqual(replica.Metadata, { origin: 'multipart' });
      assert.deepEqual(await tags(dst, MULTIPART_KEY, versionId), [{ Key: 'kind', Value: 'mpu' }]);
      assert.equal(sha256(await bytes(dst, MULTIPART_KEY, versionId)), sha256(body));
    });

    test('a multipart replica answers partNumber reads with the source part layout', async () => {
      const { versionId, body } = await multipartObject();
      await waitReplica(dst, MULTIPART_KEY, versionId);
      const read = { Key: MULTIPART_KEY, VersionId: versionId, PartNumber: 2 };
      const onSource = await src.s3.send(new HeadObjectCommand({ Bucket: src.name, ...read }));
      assert.equal(onSource.PartsCount, 3);
      assert.equal(onSource.ContentLength, 5 * MiB);
      const got = await dst.s3.send(new GetObjectCommand({ Bucket: dst.name, ...read })).catch((err: S3ServiceException) => {
        assert.fail(`GET partNumber=2 on the replica: ${err.$metadata.httpStatusCode} ${err.name}: ${err.message}`);
      });
      assert.equal(got.PartsCount, 3, 'PartsCount of the replica');
      assert.equal(got.ContentLength, 5 * MiB, 'part 2 of the replica is 5 MiB, as on the source');
      assert.equal(got.ContentRange, onSource.ContentRange);
      const part = Buffer.from(await got.Body!.transformToByteArray());
      assert.equal(sha256(part), sha256(body.subarray(5 * MiB, 10 * MiB)), 'GET partNumber=2 on the replica');
    });

    test('CopyObject results replicate, with copied and with replaced metadata', async () => {
      const original = await put(src, 'copy/original', 'copied bytes', { Metadata: { from: 'original' }, ContentType: 'text/x-a' });
      const copied = await src.s3.send(
        new CopyObjectCommand({ Bucket: src.name, Key: 'copy/same-meta', CopySource: `${src.name}/copy/original?versionId=${original}` }),
      );
      const replaced = await src.s3.send(
        new CopyObjectCommand({
          Bucket: src.name,
          Key: 'copy/new-meta',
          CopySource: `${src.name}/copy/original`,
          MetadataDirective: 'REPLACE',
          Metadata: { from: 'copy' },
          ContentType: 'text/x-b',
        }),
      );
      assert.ok(copied.VersionId && replaced.VersionId);
      const a = await waitReplica(dst, 'copy/same-meta', copied.VersionId);
      assert.deepEqual(a.Metadata, { from: 'original' });
      assert.equal(a.ContentType, 'text/x-a');
      assert.equal((await bytes(dst, 'copy/same-meta', copied.VersionId)).toString(), 'copied bytes');
      const b = await waitReplica(dst, 'copy/new-meta', replaced.VersionId);
      assert.deepEqual(b.Metadata, { from: 'copy' });
      assert.equal(b.ContentType, 'text/x-b');
      assertSameVersion(await waitStatus(src, 'copy/new-meta', replaced.VersionId), b);
    });

    test('overwrites of one key give the destination the same version stack', async () => {
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push(await put(src, 'stack/key', `v${i}`));
      await waitReplica(dst, 'stack/key', ids[3]);
      const expected = await stack(src, 'stack/key');
      assert.deepEqual(expected.versions, [...ids].reverse());
      await eventually(async () => assert.deepEqual(await stack(dst, 'stack/key'), expected));
      assert.equal((await bytes(dst, 'stack/key')).toString(), 'v3');
      const listed = await dst.s3.send(new ListObjectVersionsCommand({ Bucket: dst.name, Prefix: 'stack/key' }));
      const srcListed = await src.s3.send(new ListObjectVersionsCommand({ Bucket: src.name, Prefix: 'stack/key' }));
      assert.deepEqual(
        listed.Versions?.map((v) => [v.VersionId, v.ETag, v.Size, v.LastModified?.getTime()]),
        srcListed.Versions?.map((v) => [v.VersionId, v.ETag, v.Size, v.LastModified?.getTime()]),
      );
    });
  });

  // ---- objects of every shape, under a rule that sets no storage class ----

  describe('what a replica carries', () => {
    let src: Bucket;
    let dst: Bucket;
    before(async () => {
      src = await bucket('rep-shape-src', US);
      dst = await bucket('rep-shape-dst', AP);
      await configure(src, [rule(dst.name, 1)]);
    });

    test('keys that need encoding arrive under the same key', async () => {
      const keys = [
        'enc/a b+c',
        'enc/100%/x',
        'enc/ü/日本語.txt',
        'enc/q?x=1&y#frag',
        'enc/trailing/',
        'enc//double',
        "enc/quote'(star)*!",
        'enc/tilde~$@=;:,',
      ];
      const ids = await Promise.all(keys.map((k) => put(src, k, `body of ${k}`)));
      for (const [i, k] of keys.entries()) {
        await waitReplica(dst, k, ids[i]);
        assert.equal((await bytes(dst, k, ids[i])).toString(), `body of ${k}`);
        await waitStatus(src, k, ids[i]);
      }
    });

    test('an empty object replicates', async () => {
      const id = await put(src, 'empty', new Uint8Array(0));
      const replica = await waitReplica(dst, 'empty', id);
      assert.equal(replica.ContentLength, 0);
      assert.equal(replica.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
      await waitStatus(src, 'empty', id);
    });

    test('a checksum sent with the object is on the replica', async () => {
      const id = await put(src, 'checksummed', 'sum me', { ChecksumAlgorithm: 'SHA256' });
      await waitReplica(dst, 'checksummed', id);
      const [a, b] = await Promise.all(
        [src, dst].map((x) => x.s3.send(new HeadObjectCommand({ Bucket: x.name, Key: 'checksummed', VersionId: id, ChecksumMode: 'ENABLED' }))),
      );
      assert.ok(a.ChecksumSHA256);
      assert.equal(b.ChecksumSHA256, a.ChecksumSHA256);
    });

    test("without a rule storage class the replica keeps the source's", async () => {
      const id = await put(src, 'infrequent', 'ia', { StorageClass: 'STANDARD_IA' });
      assert.equal((await waitReplica(dst, 'infrequent', id)).StorageClass, 'STANDARD_IA');
      const plain = await put(src, 'standard', 'std');
      assert.equal((await waitReplica(dst, 'standard', plain)).StorageClass, undefined);
    });

    test('GLACIER and DEEP_ARCHIVE objects are not replicated and show no status', async () => {
      const glacier = await put(src, 'cold/glacier', 'g', { StorageClass: 'GLACIER' });
      const deep = await put(src, 'cold/deep', 'd', { StorageClass: 'DEEP_ARCHIVE' });
      await waitReplica(dst, 'cold/zz-sentinel', await put(src, 'cold/zz-sentinel', 's'));
      assert.equal((await head(src, 'cold/glacier', glacier))?.ReplicationStatus, undefined);
      assert.equal((await head(src, 'cold/deep', deep))?.ReplicationStatus, undefined);
      assert.equal(await hasVersion(dst, 'cold/glacier', glacier), false);
      assert.equal(await hasVersion(dst, 'cold/deep', deep), false);
    });
  });

  // ---- 2. filters and priorities ----

  describe('filters', () => {
    let src: Bucket;
    let byPrefix: Bucket;
    let byTag: Bucket;
    let byAnd: Bucket;
    before(async () => {
      src = await bucket('rep-filter-src', US);
      byPrefix = await bucket('rep-filter-prefix', EU);
      byTag = await bucket('rep-filter-tag', AP);
      byAnd = await bucket('rep-filter-and', EU);
      await configure(src, [
        rule(byPrefix.name, 1, { ID: 'prefix', Filter: { Prefix: 'logs/' } }),
        rule(byTag.name, 2, { ID: 'tag', Filter: { Tag: { Key: 'replicate', Value: 'yes' } } }),
        rule(byAnd.name, 3, {
          ID: 'and',
          Filter: {
            And: {
              Prefix: 'docs/',
              Tags: [
                { Key: 'team', Value: 'blue' },
                { Key: 'tier', Value: 'gold' },
              ],
            },
          },
        }),
      ]);
    });

    test('each destination gets exactly the objects its rule matches', async () => {
      const logs = await put(src, 'logs/a.log', 'a');
      const logsTagged = await put(src, 'logs/tagged.log', 'b', { Tagging: 'replicate=yes' });
      const tagged = await put(src, 'plain/tagged', 'c', { Tagging: 'replicate=yes&other=1' });
      const wrongValue = await put(src, 'plain/wrong-value', 'd', { Tagging: 'replicate=no' });
      const both = await put(src, 'docs/both', 'e', { Tagging: 'team=blue&tier=gold&extra=z' });
      const oneTag = await put(src, 'docs/one-tag', 'f', { Tagging: 'team=blue' });
      const wrongPrefix = await put(src, 'misc/both', 'g', { Tagging: 'team=blue&tier=gold' });
      const nothing = await put(src, 'nothing/at-all', 'h');

      await waitReplica(byPrefix, 'logs/a.log', logs);
      await waitReplica(byPrefix, 'logs/tagged.log', logsTagged);
      await waitReplica(byTag, 'logs/tagged.log', logsTagged);
      await waitReplica(byTag, 'plain/tagged', tagged);
      await waitReplica(byAnd, 'docs/both', both);
      for (const [k, id] of [
        ['logs/a.log', logs],
        ['logs/tagged.log', logsTagged],
        ['plain/tagged', tagged],
        ['docs/both', both],
      ] as const) {
        await waitStatus(src, k, id);
      }
      // Matched by no rule: no status at all.
      for (const [k, id] of [
        ['plain/wrong-value', wrongValue],
        ['docs/one-tag', oneTag],
        ['misc/both', wrongPrefix],
        ['nothing/at-all', nothing],
      ] as const) {
        assert.equal((await head(src, k, id))?.ReplicationStatus, undefined, `${k} has no replication status`);
      }

      // Later writes that each destination does get, then what it must not have.
      await waitReplica(byPrefix, 'logs/zz-sentinel', await put(src, 'logs/zz-sentinel', 's'));
      await waitReplica(byTag, 'zz-sentinel', await put(src, 'zz-sentinel', 's', { Tagging: 'replicate=yes' }));
      await waitReplica(byAnd, 'docs/zz-sentinel', await put(src, 'docs/zz-sentinel', 's', { Tagging: 'tier=gold&team=blue' }));
      const keysOf = async (b: Bucket) =>
        ((await b.s3.send(new ListObjectVersionsCommand({ Bucket: b.name }))).Versions ?? []).map((v) => v.Key).sort();
      assert.deepEqual(await keysOf(byPrefix), ['logs/a.log', 'logs/tagged.log', 'logs/zz-sentinel']);
      assert.deepEqual(await keysOf(byTag), ['logs/tagged.log', 'plain/tagged', 'zz-sentinel']);
      assert.deepEqual(await keysOf(byAnd), ['docs/both', 'docs/zz-sentinel']);
    });

    test('two rules to one destination: the higher priority governs storage class and delete markers', async () => {
      const s = await bucket('rep-prio-src', US);
      const d = await bucket('rep-prio-dst', EU);
      // The governing rule is listed second, so document order cannot be what decides.
      await configure(s, [
        rule(d.name, 1, {
          ID: 'low',
          Filter: { Prefix: '' },
          DeleteMarkerReplication: { Status: 'Disabled' },
          Destination: { Bucket: `arn:aws:s3:::${d.name}`, StorageClass: 'STANDARD_IA' },
        }),
        rule(d.name, 5, {
          ID: 'high',
          Filter: { Prefix: 'hot/' },
          DeleteMarkerReplication: { Status: 'Enabled' },
          Destination: { Bucket: `arn:aws:s3:::${d.name}`, StorageClass: 'ONEZONE_IA' },
        }),
      ]);
      const hot = await put(s, 'hot/x', 'hot');
      const cold = await put(s, 'cold/x', 'cold');
      assert.equal((await waitReplica(d, 'hot/x', hot)).StorageClass, 'ONEZONE_IA');
      assert.equal((await waitReplica(d, 'cold/x', cold)).StorageClass, 'STANDARD_IA');
      // One replica per destination, however many rules matched.
      assert.deepEqual((await stack(d, 'hot/x')).versions, [hot]);

      const hotMarker = await s.s3.send(new DeleteObjectCommand({ Bucket: s.name, Key: 'hot/x' }));
      const coldMarker = await s.s3.send(new DeleteObjectCommand({ Bucket: s.name, Key: 'cold/x' }));
      assert.ok(hotMarker.VersionId && coldMarker.VersionId);
      await eventually(async () => assert.deepEqual((await stack(d, 'hot/x')).markers, [hotMarker.VersionId]));
      await waitReplica(d, 'cold/zz-sentinel', await put(s, 'cold/zz-sentinel', 's'));
      assert.deepEqual(await stack(d, 'cold/x'), { versions: [cold], markers: [], latest: cold });
    });
  });

  // ---- 3. delete markers ----

  describe('delete markers', () => {
    let enabledSrc: Bucket;
    let enabledDst: Bucket;
    before(async () => {
      enabledSrc = await bucket('rep-dm-on-src', US);
      enabledDst = await bucket('rep-dm-on-dst', EU);
      await configure(enabledSrc, [rule(enabledDst.name, 1, { DeleteMarkerReplication: { Status: 'Enabled' } })]);
    });

    test('V2 with DeleteMarkerReplication Enabled: the marker arrives under its id', async () => {
      const id = await put(enabledSrc, 'gone', 'soon deleted');
      await waitReplica(enabledDst, 'gone', id);
      const del = await enabledSrc.s3.send(new DeleteObjectCommand({ Bucket: enabledSrc.name, Key: 'gone' }));
      assert.equal(del.DeleteMarker, true);
      assert.ok(del.VersionId);
      await eventually(async () =>
        assert.deepEqual(await stack(enabledDst, 'gone'), { versions: [id], markers: [del.VersionId], latest: del.VersionId }),
      );
      assert.equal(await head(enabledDst, 'gone'), undefined, 'the key reads as deleted on the destination');
      const listed = await enabledDst.s3.send(new ListObjectVersionsCommand({ Bucket: enabledDst.name, Prefix: 'gone' }));
      const srcListed = await enabledSrc.s3.send(new ListObjectVersionsCommand({ Bucket: enabledSrc.name, Prefix: 'gone' }));
      assert.equal(listed.DeleteMarkers?.[0]?.LastModified?.getTime(), srcListed.DeleteMarkers?.[0]?.LastModified?.getTime());
    });

    test('DELETE with a version id is never replicated: the destination keeps the version, and its marker', async () => {
      const keep = await put(enabledSrc, 'permanent', 'keep me');
      await waitReplica(enabledDst, 'permanent', keep);
      await enabledSrc.s3.send(new DeleteObjectCommand({ Bucket: enabledSrc.name, Key: 'permanent', VersionId: keep }));
      assert.deepEqual((await stack(enabledSrc, 'permanent')).versions, []);

      const second = await put(enabledSrc, 'undeleted', 'x');
      const marker = await enabledSrc.s3.send(new DeleteObjectCommand({ Bucket: enabledSrc.name, Key: 'undeleted' }));
      await eventually(async () => assert.deepEqual((await stack(enabledDst, 'undeleted')).markers, [marker.VersionId]));
      // Removing the marker by id brings the object back on the source only.
      await enabledSrc.s3.send(new DeleteObjectCommand({ Bucket: enabledSrc.name, Key: 'undeleted', VersionId: marker.VersionId }));
      assert.equal((await head(enabledSrc, 'undeleted'))?.VersionId, second);

      await waitReplica(enabledDst, 'zz-sentinel', await put(enabledSrc, 'zz-sentinel', 's'));
      assert.deepEqual(await stack(enabledDst, 'permanent'), { versions: [keep], markers: [], latest: keep });
      assert.equal((await bytes(enabledDst, 'permanent')).toString(), 'keep me');
      assert.deepEqual(await stack(enabledDst, 'undeleted'), { versions: [second], markers: [marker.VersionId!], latest: marker.VersionId });
    });

    test('DeleteObjects: markers it creates replicate, deletes by version id do not', async () => {
      const a = await put(enabledSrc, 'bulk/a', 'a');
      const b = await put(enabledSrc, 'bulk/b', 'b');
      await waitReplica(enabledDst, 'bulk/a', a);
      await waitReplica(enabledDst, 'bulk/b', b);
      const out = await enabledSrc.s3.send(
        new DeleteObjectsCommand({
          Bucket: enabledSrc.name,
          Delete: { Objects: [{ Key: 'bulk/a' }, { Key: 'bulk/b', VersionId: b }] },
        }),
      );
      assert.equal(out.Errors?.length ?? 0, 0);
      const marker = out.Deleted?.find((d) => d.Key === 'bulk/a')?.DeleteMarkerVersionId;
      assert.ok(marker);
      await eventually(async () =>
        assert.deepEqual(await stack(enabledDst, 'bulk/a'), { versions: [a], markers: [marker], latest: marker }),
      );
      await waitReplica(enabledDst, 'bulk/zz-sentinel', await put(enabledSrc, 'bulk/zz-sentinel', 's'));
      assert.deepEqual(await stack(enabledDst, 'bulk/b'), { versions: [b], markers: [], latest: b });
    });

    test('V2 with DeleteMarkerReplication Disabled: the marker stays on the source', async () => {
      const s = await bucket('rep-dm-off-src', US);
      const d = await bucket('rep-dm-off-dst', AP);
      await configure(s, [rule(d.name, 1, { DeleteMarkerReplication: { Status: 'Disabled' } })]);
      const id = await put(s, 'kept', 'still here');
      await waitReplica(d, 'kept', id);
      const del = await s.s3.send(new DeleteObjectCommand({ Bucket: s.name, Key: 'kept' }));
      assert.ok(del.VersionId);
      await waitReplica(d, 'zz-sentinel', await put(s, 'zz-sentinel', 's'));
      assert.deepEqual(await stack(d, 'kept'), { versions: [id], markers: [], latest: id });
      assert.equal((await bytes(d, 'kept')).toString(), 'still here');
    });

    test('V1 configuration (rule-level Prefix): markers under the prefix replicate, other keys do not', async () => {
      const s = await bucket('rep-dm-v1-src', US);
      const d = await bucket('rep-dm-v1-dst', EU);
      await configure(s, [{ ID: 'v1', Prefix: 'keep/', Status: 'Enabled', Destination: { Bucket: `arn:aws:s3:::${d.name}` } }]);
      const id = await put(s, 'keep/doc', 'v1 doc');
      const outside = await put(s, 'elsewhere/doc', 'not replicated');
      await waitReplica(d, 'keep/doc', id);
      const del = await s.s3.send(new DeleteObjectCommand({ Bucket: s.name, Key: 'keep/doc' }));
      assert.ok(del.VersionId);
      await eventually(async () =>
        assert.deepEqual(await stack(d, 'keep/doc'), { versions: [id], markers: [del.VersionId], latest: del.VersionId }),
      );
      await s.s3.send(new DeleteObjectCommand({ Bucket: s.name, Key: 'elsewhere/doc' }));
      await waitReplica(d, 'keep/zz-sentinel', await put(s, 'keep/zz-sentinel', 's'));
      assert.equal((await head(s, 'elsewhere/doc', outside))?.ReplicationStatus, undefined);
      assert.deepEqual(await stack(d, 'elsewhere/doc'), { versions: [], markers: [], latest: undefined });
    });
  });

  // ---- 4. replicas are not replicated again ----

  test('A→B and B→C: a write to A reaches B and stops there', async () => {
    const a = await bucket('rep-chain-a', US);
    const b = await bucket('rep-chain-b', EU);
    const c = await bucket('rep-chain-c', AP);
    await configure(a, [rule(b.name, 1)]);
    await configure(b, [rule(c.name, 1)]);
    const id = await put(a, 'chained', 'from a');
    await waitStatus(a, 'chained', id);
    await waitReplica(b, 'chained', id);
    // B's own writes do go to C; A's copies do not.
    const own = await put(b, 'zz-own', 'from b');
    await waitReplica(c, 'zz-own', own);
    await waitStatus(b, 'zz-own', own);
    assert.equal((await head(b, 'chained', id))?.ReplicationStatus, 'REPLICA', 'a replica stays REPLICA');
    assert.deepEqual(await stack(c, 'chained'), { versions: [], markers: [], latest: undefined });
  });

  // ---- 5. same region ----

  test('same-region replication (both buckets in us-east-1)', async () => {
    const s = await bucket('rep-srr-src', US);
    const d = await bucket('rep-srr-dst', US);
    await configure(s, [rule(d.name, 1)]);
    const id = await put(s, 'same/region', 'local copy', { Metadata: { k: 'v' }, Tagging: 't=1' });
    const source = await waitStatus(s, 'same/region', id);
    const replica = await waitReplica(d, 'same/region', id);
    assertSameVersion(source, replica);
    assert.equal((await bytes(d, 'same/region', id)).toString(), 'local copy');
  });

  // ---- 6. nothing replicates without an enabled rule ----

  describe('not replicated', () => {
    let shared: Bucket;
    before(async () => {
      shared = await bucket('rep-off-dst', EU);
    });

    test('a disabled rule replicates nothing and the source shows no status', async () => {
      const s = await bucket('rep-off-src', US);
      const other = await bucket('rep-off-other', US);
      await configure(s, [rule(shared.name, 1, { Status: 'Disabled' })]);
      await configure(other, [rule(shared.name, 1)]);
      const id = await put(s, 'paused', 'not sent');
      const h = await head(s, 'paused', id);
      assert.equal(h?.ReplicationStatus, undefined);
      // A later write into the same destination arrives; the paused one never does.
      await waitReplica(shared, 'zz-sentinel-1', await put(other, 'zz-sentinel-1', 's'));
      assert.deepEqual(await stack(shared, 'paused'), { versions: [], markers: [], latest: undefined });
    });

    test('objects written before the configuration existed are not replicated and show no status', async () => {
      const s = await bucket('rep-late-src', US);
      const d = await bucket('rep-late-dst', AP);
      const old = await put(s, 'old', 'before');
      await configure(s, [rule(d.name, 1)]);
      const fresh = await put(s, 'new', 'after');
      await waitReplica(d, 'new', fresh);
      assert.equal((await head(s, 'old', old))?.ReplicationStatus, undefined);
      const got = await s.s3.send(new GetObjectCommand({ Bucket: s.name, Key: 'old' }));
      assert.equal(got.ReplicationStatus, undefined);
      await got.Body!.transformToByteArray();
      assert.deepEqual(await stack(d, 'old'), { versions: [], markers: [], latest: undefined });
    });
  });

  // ---- 7. two-way ----

  describe('two-way replication', () => {
    let a: Bucket;
    let b: Bucket;
    before(async () => {
      a = await bucket('rep-two-a', US);
      b = await bucket('rep-two-b', EU);
      await configure(a, [rule(b.name, 1, { DeleteMarkerReplication: { Status: 'Enabled' } })]);
      await configure(b, [rule(a.name, 1, { DeleteMarkerReplication: { Status: 'Enabled' } })]);
    });

    test('writes in either region reach the other once, with no loop', async () => {
      const fromA = await put(a, 'from-a', 'written in A');
      const fromB = await put(b, 'from-b', 'written in B');
      await waitReplica(b, 'from-a', fromA);
      await waitReplica(a, 'from-b', fromB);
      await waitStatus(a, 'from-a', fromA);
      await waitStatus(b, 'from-b', fromB);
      // Later writes each way have arrived; a looping copy would have come back by then.
      await waitReplica(b, 'zz-sentinel-a', await put(a, 'zz-sentinel-a', 's'));
      await waitReplica(a, 'zz-sentinel-b', await put(b, 'zz-sentinel-b', 's'));
      for (const side of [a, b]) {
        assert.deepEqual(await stack(side, 'from-a'), { versions: [fromA], markers: [], latest: fromA }, side.name);
        assert.deepEqual(await stack(side, 'from-b'), { versions: [fromB], markers: [], latest: fromB }, side.name);
      }
      assert.equal((await head(a, 'from-b', fromB))?.ReplicationStatus, 'REPLICA');
      assert.equal((await head(b, 'from-a', fromA))?.ReplicationStatus, 'REPLICA');
      assert.equal((await head(a, 'from-a', fromA))?.ReplicationStatus, 'COMPLETED');
    });

    test('concurrent writes to one key in both regions converge to one version stack', async () => {
      const Key = 'contended';
      const written = { a: [] as string[], b: [] as string[] };
      const writer = async (side: Bucket, label: 'a' | 'b') => {
        for (let i = 0; i < 10; i++) written[label].push(await put(side, Key, `${label}${i}`));
      };
      await Promise.all([writer(a, 'a'), writer(b, 'b')]);
      const all = [...written.a, ...written.b];
      assert.equal(new Set(all).size, 20, 'twenty distinct version ids');
      const stacks = await eventually(async () => {
        const [sa, sb] = await Promise.all([stack(a, Key), stack(b, Key)]);
        assert.equal(sa.versions.length, 20, `A has ${sa.versions.length} versions`);
        assert.equal(sb.versions.length, 20, `B has ${sb.versions.length} versions`);
        return [sa, sb] as const;
      });
      assert.deepEqual(stacks[1], stacks[0], 'same ids, same order, same latest');
      assert.deepEqual([...stacks[0].versions].sort(), [...all].sort());
      const [ba, bb] = await Promise.all([bytes(a, Key), bytes(b, Key)]);
      assert.equal(ba.toString(), bb.toString(), 'the same current bytes');
      const [ha, hb] = await Promise.all([head(a, Key), head(b, Key)]);
      assert.equal(ha?.VersionId, hb?.VersionId);
      assert.equal(ha?.VersionId, stacks[0].latest);
      // Each side's own versions complete; the other side's are replicas.
      for (const id of written.a) {
        await waitStatus(a, Key, id);
        assert.equal((await head(b, Key, id))?.ReplicationStatus, 'REPLICA');
      }
      for (const id of written.b) {
        await waitStatus(b, Key, id);
        assert.equal((await head(a, Key, id))?.ReplicationStatus, 'REPLICA');
      }
    });

    test('a delete marker made in one region is not sent back by the other', async () => {
      const id = await put(a, 'deleted-two-way', 'x');
      await waitReplica(b, 'deleted-two-way', id);
      const del = await a.s3.send(new DeleteObjectCommand({ Bucket: a.name, Key: 'deleted-two-way' }));
      await eventually(async () => assert.deepEqual((await stack(b, 'deleted-two-way')).markers, [del.VersionId]));
      await waitReplica(a, 'zz-sentinel-dm', await put(b, 'zz-sentinel-dm', 's'));
      assert.deepEqual(await stack(a, 'deleted-two-way'), { versions: [id], markers: [del.VersionId!], latest: del.VersionId });
    });
  });

  // ---- 8. failures ----

  describe('failures', () => {
    test('destination versioning suspended after configuration: new writes become FAILED', async () => {
      const s = await bucket('rep-fail-susp-src', US);
      const d = await bucket('rep-fail-susp-dst', EU);
      await configure(s, [rule(d.name, 1)]);
      const before = await put(s, 'before', 'ok');
      await waitReplica(d, 'before', before);
      await waitStatus(s, 'before', before);
      await d.s3.send(new PutBucketVersioningCommand({ Bucket: d.name, VersioningConfiguration: { Status: 'Suspended' } }));
      const afterId = await put(s, 'after', 'refused');
      await waitStatus(s, 'after', afterId, 'FAILED');
      const got = await s.s3.send(new GetObjectCommand({ Bucket: s.name, Key: 'after' }));
      assert.equal(got.ReplicationStatus, 'FAILED');
      assert.equal(await got.Body!.transformToString(), 'refused', 'the source object itself is fine');
      assert.equal(await head(d, 'after'), undefined);
      assert.equal((await head(s, 'before', before))?.ReplicationStatus, 'COMPLETED', 'earlier versions keep COMPLETED');
    });

    test('destination bucket deleted: new writes become FAILED', async () => {
      const s = await bucket('rep-fail-gone-src', US);
      const d = await bucket('rep-fail-gone-dst', AP);
      await configure(s, [rule(d.name, 1)]);
      await d.s3.send(new DeleteBucketCommand({ Bucket: d.name }));
      const id = await put(s, 'orphan', 'nowhere to go');
      await waitStatus(s, 'orphan', id, 'FAILED');
    });

    test('one of two destinations failing makes the source FAILED', async () => {
      const s = await bucket('rep-fail-half-src', US);
      const ok = await bucket('rep-fail-half-ok', EU);
      const gone = await bucket('rep-fail-half-gone', AP);
      await configure(s, [rule(ok.name, 1), rule(gone.name, 2)]);
      await gone.s3.send(new DeleteBucketCommand({ Bucket: gone.name }));
      const id = await put(s, 'half', 'one of two');
      await waitReplica(ok, 'half', id);
      await waitStatus(s, 'half', id, 'FAILED');
    });

    test('a cross-region destination without versioning is refused, as AWS does', async () => {
      const s = await bucket('rep-fail-unv-src', US);
      const d = await bucket('rep-fail-unv-dst', EU, { versioned: false });
      const err = await rejectsWith(configure(s, [rule(d.name, 1)]), 'InvalidRequest', 400);
      assert.equal(err.message, 'Destination bucket must have versioning enabled.');
    });

    test('PutBucketReplication refuses a missing or unversioned destination', async () => {
      const s = await bucket('rep-fail-cfg-src', US);
      await rejectsWith(configure(s, [rule('rep-fail-cfg-missing', 1)]), 'InvalidRequest', 400);
      const unversioned = await bucket('rep-fail-cfg-unv', US, { versioned: false });
      await rejectsWith(configure(s, [rule(unversioned.name, 1)]), 'InvalidRequest', 400);
    });
  });

  // ---- 9. several destinations ----

  test('one object, two destinations: PENDING until both have it, then COMPLETED', async () => {
    const s = await bucket('rep-multi-src', US);
    const near = await bucket('rep-multi-near', EU);
    const far = await bucket('rep-multi-far', AP);
    await configure(s, [
      rule(near.name, 1, { Filter: { Tag: { Key: 'both', Value: 'yes' } } }),
      rule(far.name, 2, { Filter: { Prefix: '' } }),
    ]);
    const Key = 'fan-out';
    // A large untagged version of the key goes to `far` only; the tagged version after it
    // must wait its turn there (one key's operations reach a destination in order), while
    // `near` gets it at once: the source is then PENDING with one destination done.
    const big = await put(s, Key, randomBytes(48 * MiB));
    const id = await put(s, Key, 'small and tagged', { Tagging: 'both=yes' });
    let sawPartial = false;
    await eventually(
      async () => {
        const nearHas = (await head(near, Key, id)) !== undefined;
        const status = (await head(s, Key, id))?.ReplicationStatus;
        const farHas = (await head(far, Key, id)) !== undefined;
        if (status === 'COMPLETED') assert.ok(farHas, 'COMPLETED only once every destination has the version');
        else assert.equal(status, 'PENDING');
        if (nearHas && status === 'PENDING') sawPartial = true;
        assert.equal(status, 'COMPLETED');
        assert.ok(nearHas);
      },
      { timeoutMs: 20_000, intervalMs: 5 },
    );
    assert.ok(sawPartial, 'saw the source PENDING while one destination already had the version');
    await waitReplica(far, Key, big);
    assert.deepEqual((await stack(far, Key)).versions, [id, big]);
    assert.deepEqual((await stack(near, Key)).versions, [id]);
  });

  // ---- 10. ACLs ----

  test('an object ACL (public-read) is on the replica', async () => {
    const s = await bucket('rep-acl-src', US, ACLS);
    const d = await bucket('rep-acl-dst', AP, ACLS);
    await configure(s, [rule(d.name, 1)]);
    const id = await put(s, 'public', 'everyone may read', { ACL: 'public-read' });
    await waitReplica(d, 'public', id);
    const [sa, da] = await Promise.all([
      s.s3.send(new GetObjectAclCommand({ Bucket: s.name, Key: 'public', VersionId: id })),
      d.s3.send(new GetObjectAclCommand({ Bucket: d.name, Key: 'public', VersionId: id })),
    ]);
    assert.ok(
      da.Grants?.some((g) => g.Grantee?.URI === 'http://acs.amazonaws.com/groups/global/AllUsers' && g.Permission === 'READ'),
      'AllUsers READ on the replica',
    );
    assert.deepEqual(da.Grants, sa.Grants);
    assert.deepEqual(da.Owner, sa.Owner);
  });

  // ---- metadata changes of existing versions (tags, ACLs; ReplicaModifications) ----

  describe('metadata changes', { concurrency: true }, () => {
    let src: Bucket;
    let dst: Bucket;
    before(async () => {
      src = await bucket('rep-meta-src', US, ACLS);
      dst = await bucket('rep-meta-dst', EU, ACLS);
      await configure(src, [rule(dst.name, 1)]);
    });

    test('PutObjectTagging on a source version reaches its replica', async () => {
      const id = await put(src, 'retag', 'x', { Tagging: 'a=1' });
      await waitReplica(dst, 'retag', id);
      await src.s3.send(
        new PutObjectTaggingCommand({
          Bucket: src.name,
          Key: 'retag',
          VersionId: id,
          Tagging: { TagSet: [{ Key: 'a', Value: '2' }, { Key: 'b', Value: '3' }] },
        }),
      );
      await eventually(async () =>
        assert.deepEqual(await tags(dst, 'retag', id), [
          { Key: 'a', Value: '2' },
          { Key: 'b', Value: '3' },
        ]),
      );
      await waitStatus(src, 'retag', id);
    });

    test('DeleteObjectTagging on a source version reaches its replica', async () => {
      const id = await put(src, 'untag', 'x', { Tagging: 'a=1&b=2' });
      await waitReplica(dst, 'untag', id);
      await src.s3.send(new DeleteObjectTaggingCommand({ Bucket: src.name, Key: 'untag', VersionId: id }));
      await eventually(async () => assert.deepEqual(await tags(dst, 'untag', id), []));
      assert.equal((await head(dst, 'untag', id))?.TagCount, undefined);
    });

    test('PutObjectAcl on a source version reaches its replica', async () => {
      const id = await put(src, 'reacl', 'x');
      await waitReplica(dst, 'reacl', id);
      await src.s3.send(new PutObjectAclCommand({ Bucket: src.name, Key: 'reacl', VersionId: id, ACL: 'public-read' }));
      const expected = (await src.s3.send(new GetObjectAclCommand({ Bucket: src.name, Key: 'reacl', VersionId: id }))).Grants;
      assert.ok(expected?.some((g) => g.Grantee?.URI?.endsWith('/AllUsers')));
      await eventually(async () => {
        const got = await dst.s3.send(new GetObjectAclCommand({ Bucket: dst.name, Key: 'reacl', VersionId: id }));
        assert.deepEqual(got.Grants, expected);
      });
    });

    test('without ReplicaModifications a tag change on a replica stays on the replica', async () => {
      const a = await bucket('rep-norm-a', US);
      const b = await bucket('rep-norm-b', EU);
      await configure(a, [rule(b.name, 1)]);
      await configure(b, [rule(a.name, 1)]);
      const id = await put(a, 'local-change', 'x', { Tagging: 'state=new' });
      await waitReplica(b, 'local-change', id);
      await b.s3.send(
        new PutObjectTaggingCommand({ Bucket: b.name, Key: 'local-change', VersionId: id, Tagging: { TagSet: [{ Key: 'state', Value: 'edited' }] } }),
      );
      assert.equal((await head(b, 'local-change', id))?.ReplicationStatus, 'REPLICA');
      await waitReplica(a, 'zz-sentinel', await put(b, 'zz-sentinel', 's'));
      assert.deepEqual(await tags(a, 'local-change', id), [{ Key: 'state', Value: 'new' }]);
      assert.equal((await head(a, 'local-change', id))?.ReplicationStatus, 'COMPLETED');
    });

    test('two-way with ReplicaModifications: simultaneous tag changes on both sides converge', async () => {
      const a = await bucket('rep-rm2-a', US);
      const b = await bucket('rep-rm2-b', EU);
      const sync = { SourceSelectionCriteria: { ReplicaModifications: { Status: 'Enabled' as const } } };
      await configure(a, [rule(b.name, 1, sync)]);
      await configure(b, [rule(a.name, 1, sync)]);
      const id = await put(a, 'both-edit', 'x', { Tagging: 'round=start' });
      await waitReplica(b, 'both-edit', id);
      for (let round = 0; round < 5; round++) {
        const retag = (side: Bucket, value: string) =>
          side.s3.send(
            new PutObjectTaggingCommand({ Bucket: side.name, Key: 'both-edit', VersionId: id, Tagging: { TagSet: [{ Key: 'round', Value: value }] } }),
          );
        await Promise.all([retag(a, `a${round}`), retag(b, `b${round}`)]);
        // Settled: nothing outstanding on either side.
        await waitStatus(a, 'both-edit', id, 'COMPLETED');
        await waitStatus(b, 'both-edit', id, 'REPLICA');
        const [ta, tb] = await Promise.all([tags(a, 'both-edit', id), tags(b, 'both-edit', id)]);
        assert.deepEqual(tb, ta, `round ${round}: both sides end with the same tags`);
      }
    });

    test('ReplicaModifications: a tag change on the replica in B syncs back to the source in A', async () => {
      const a = await bucket('rep-rm-a', US);
      const b = await bucket('rep-rm-b', EU);
      await configure(a, [rule(b.name, 1)]);
      await configure(b, [rule(a.name, 1, { SourceSelectionCriteria: { ReplicaModifications: { Status: 'Enabled' } } })]);
      const id = await put(a, 'synced', 'x', { Tagging: 'state=new' });
      await waitReplica(b, 'synced', id);
      await b.s3.send(
        new PutObjectTaggingCommand({ Bucket: b.name, Key: 'synced', VersionId: id, Tagging: { TagSet: [{ Key: 'state', Value: 'reviewed' }] } }),
      );
      await eventually(async () => assert.deepEqual(await tags(a, 'synced', id), [{ Key: 'state', Value: 'reviewed' }]));
      // The replica returns to REPLICA once its change has synced; the source is no replica.
      await eventually(async () => assert.equal((await head(b, 'synced', id))?.ReplicationStatus, 'REPLICA'));
      assert.notEqual((await head(a, 'synced', id))?.ReplicationStatus, 'REPLICA');
    });
  });
});
