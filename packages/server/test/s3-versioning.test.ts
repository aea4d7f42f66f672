/**
 * Bucket versioning end to end through the stock SDK: PutBucketVersioning/GetBucketVersioning,
 * version ids, delete markers, the `null` version (written while unversioned or suspended),
 * ListObjectVersions paging, concurrent writes, and malformed version ids. Expectations are
 * what AWS S3 answers; where the behaviour was checked against AWS by a third party, the note
 * says so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type BucketVersioningStatus,
  type ListObjectVersionsCommandInput,
  type ListObjectVersionsCommandOutput,
} from '@aws-sdk/client-s3';
import { rawRequest } from './helpers/raw-request.ts';
import { rejectsWith as rejects } from './helpers/s3-errors.ts';
import { bodyText, startTestWorld, type TestWorld } from './helpers/world.ts';


/** The raw response headers of an SDK error. */
function headersOf(err: S3ServiceException): Record<string, string | undefined> {
  const res = err.$response as { headers?: Record<string, string> } | undefined;
  assert.ok(res?.headers, 'the SDK error carries its raw response');
  return res.headers;
}

/** URL-safe: nothing in it needs percent-encoding. */
function assertUrlSafe(id: string | undefined): asserts id is string {
  assert.equal(typeof id, 'string', 'a version id');
  assert.ok(id!.length > 0);
  assert.match(id!, /^[A-Za-z0-9._~-]+$/, `version id ${id} is URL-safe`);
  assert.equal(encodeURIComponent(id!), id);
}

/** One entry of a version listing, Version or DeleteMarker. */
interface Entry {
  key: string;
  versionId: string;
  marker: boolean;
}

/** The entries of a page: Versions and DeleteMarkers (the SDK splits the interleaved list). */
function entriesOf(page: ListObjectVersionsCommandOutput): (Entry & { isLatest: boolean | undefined })[] {
  return [
    ...(page.Versions ?? []).map((v) => ({ key: v.Key!, versionId: v.VersionId!, marker: false, isLatest: v.IsLatest })),
    ...(page.DeleteMarkers ?? []).map((d) => ({ key: d.Key!, versionId: d.VersionId!, marker: true, isLatest: d.IsLatest })),
  ];
}

const show = (e: Entry): string => `${e.key}@${e.versionId}${e.marker ? '(marker)' : ''}`;

/** `encoding-type=url` decoding: S3 writes a space as '+'. */
const urlDecode = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));

describe('bucket versioning', () => {
  let w: TestWorld;
  let s3: S3Client;

  before(async () => {
    w = await startTestWorld();
    s3 = w.client('us-east-1');
  });
  after(() => w.close());

  async function create(bucket: string, status?: BucketVersioningStatus): Promise<void> {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    if (status) await setStatus(bucket, status);
  }
  async function setStatus(bucket: string, Status: BucketVersioningStatus): Promise<void> {
    const out = await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status } }));
    assert.equal(out.$metadata.httpStatusCode, 200);
  }
  async function statusOf(bucket: string): Promise<string | undefined> {
    const out = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    assert.equal(out.MFADelete, undefined, 'MfaDelete appears only if MFA delete was ever configured');
    return out.Status;
  }
  async function put(bucket: string, key: string, body: string): Promise<string | undefined> {
    return (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId;
  }
  async function read(bucket: string, key: string, versionId?: string): Promise<{ body: string; versionId: string | undefined }> {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    return { body: await bodyText(got.Body), versionId: got.VersionId };
  }
  async function versions(bucket: string, input: Partial<ListObjectVersionsCommandInput> = {}): Promise<ListObjectVersionsCommandOutput> {
    return s3.send(new ListObjectVersionsCommand({ Bucket: bucket, ...input }));
  }

  describe('PutBucketVersioning and GetBucketVersioning', () => {
    test('a new bucket has no status (an empty <VersioningConfiguration/>); Enabled and Suspended round-trip', async () => {
      await create('cfg');
      assert.equal(await statusOf('cfg'), undefined);
      const raw = await rawRequest(w.endpoint('us-east-1'), { method: 'GET', path: '/cfg', query: { versioning: '' } });
      assert.equal(raw.status, 200, raw.text);
      assert.match(raw.text, /<VersioningConfiguration(\s[^>]*)?(\/>|>\s*<\/VersioningConfiguration>)/, raw.text);
      assert.doesNotMatch(raw.text, /<Status>|<MfaDelete>/);

      await setStatus('cfg', 'Enabled');
      assert.equal(await statusOf('cfg'), 'Enabled');
      await setStatus('cfg', 'Suspended');
      assert.equal(await statusOf('cfg'), 'Suspended');
      await setStatus('cfg', 'Enabled');
      assert.equal(await statusOf('cfg'), 'Enabled');
    });

    test('a Status other than Enabled or Suspended is MalformedXML and changes nothing', async () => {
      await create('cfg-bad');
      await rejects(
        s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg-bad', VersioningConfiguration: { Status: 'Bogus' as never } })),
        'MalformedXML',
        400,
      );
      assert.equal(await statusOf('cfg-bad'), undefined, 'a rejected request leaves the bucket unversioned');
      await setStatus('cfg-bad', 'Suspended');
      assert.equal(await statusOf('cfg-bad'), 'Suspended', 'a never-versioned bucket may be suspended directly');
      for (const Status of ['Bogus', 'enabled', 'Disabled']) {
        await rejects(
          s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg-bad', VersioningConfiguration: { Status: Status as never } })),
          'MalformedXML',
          400,
        );
        assert.equal(await statusOf('cfg-bad'), 'Suspended');
      }
    });

    test('there is no way back to unversioned', async () => {
      await create('cfg-oneway', 'Enabled');
      for (const Status of ['Unversioned', 'Off', 'Disabled']) {
        await rejects(
          s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg-oneway', VersioningConfiguration: { Status: Status as never } })),
          'MalformedXML',
          400,
        );
        assert.equal(await statusOf('cfg-oneway'), 'Enabled');
      }
      await setStatus('cfg-oneway', 'Suspended');
      assert.equal(await statusOf('cfg-oneway'), 'Suspended', 'suspended, never unversioned');
    });

    test('a missing bucket is NoSuchBucket', async () => {
      await rejects(s3.send(new GetBucketVersioningCommand({ Bucket: 'no-such-versioned-bucket' })), 'NoSuchBucket', 404);
      await rejects(
        s3.send(new PutBucketVersioningCommand({ Bucket: 'no-such-versioned-bucket', VersioningConfiguration: { Status: 'Enabled' } })),
        'NoSuchBucket',
        404,
      );
    });
  });

  describe('an Enabled bucket', () => {
    const B = 'enabled';
    const ids: string[] = [];
    let markerId: string;

    before(async () => {
      await create(B, 'Enabled');
      await put(B, 'other', 'another key');
    });

    test('every PutObject returns a new, URL-safe VersionId; GET/HEAD by id return that version', async () => {
      for (const body of ['one', 'two', 'three!']) {
        const id = await put(B, 'doc', body);
        assertUrlSafe(id);
        ids.push(id);
      }
      assert.equal(new Set(ids).size, ids.length, 'version ids are distinct');
      const bodies = ['one', 'two', 'three!'];
      for (const [i, id] of ids.entries()) {
        assert.deepEqual(await read(B, 'doc', id), { body: bodies[i], versionId: id });
        const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'doc', VersionId: id }));
        assert.equal(head.VersionId, id);
        assert.equal(head.ContentLength, bodies[i].length);
      }
      assert.deepEqual(await read(B, 'doc'), { body: 'three!', versionId: ids[2] }, 'GET without an id reads the newest');
      const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'doc' }));
      assert.equal(head.VersionId, ids[2]);
    });

    test('a simple DELETE inserts a delete marker that hides the key', async () => {
      const del = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'doc' }));
      assert.equal(del.$metadata.httpStatusCode, 204);
      assert.equal(del.DeleteMarker, true);
      assertUrlSafe(del.VersionId);
      assert.ok(!ids.includes(del.VersionId), 'the marker has a version id of its own');
      markerId = del.VersionId;

      const get = await rejects(s3.send(new GetObjectCommand({ Bucket: B, Key: 'doc' })), 'NoSuchKey', 404);
      assert.equal(headersOf(get)['x-amz-delete-marker'], 'true');
      assert.equal(headersOf(get)['x-amz-version-id'], markerId);
      const head = await rejects(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'doc' })), undefined, 404);
      assert.equal(headersOf(head)['x-amz-delete-marker'], 'true');

      const listed = await s3.send(new ListObjectsV2Command({ Bucket: B }));
      assert.deepEqual(listed.Contents?.map((c) => c.Key), ['other'], 'ListObjectsV2 hides a key whose current version is a marker');

      const all = await versions(B, { Prefix: 'doc' });
      assert.deepEqual(all.DeleteMarkers?.map((d) => [d.VersionId, d.IsLatest]), [[markerId, true]]);
      assert.deepEqual(all.Versions?.map((v) => [v.VersionId, v.IsLatest]), [
        [ids[2], false],
        [ids[1], false],
        [ids[0], false],
      ]);
    });

    test('GET or HEAD naming the delete marker is 405 MethodNotAllowed', async () => {
      const get = await rejects(s3.send(new GetObjectCommand({ Bucket: B, Key: 'doc', VersionId: markerId })), 'MethodNotAllowed', 405);
      assert.equal(headersOf(get)['x-amz-delete-marker'], 'true');
      assert.ok(headersOf(get)['last-modified'], 'a 405 for a marker carries Last-Modified');
      const head = await rejects(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'doc', VersionId: markerId })), undefined, 405);
      assert.equal(headersOf(head)['x-amz-delete-marker'], 'true');
      assert.ok(headersOf(head)['last-modified'], 'a 405 for a marker carries Last-Modified');
    });

    test('DELETE naming the marker removes it and the previous version is current again', async () => {
      const del = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'doc', VersionId: markerId }));
      assert.equal(del.$metadata.httpStatusCode, 204);
      assert.equal(del.DeleteMarker, true, 'removing a marker answers x-amz-delete-marker: true');
      assert.equal(del.VersionId, markerId);
      assert.deepEqual(await read(B, 'doc'), { body: 'three!', versionId: ids[2] });
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: B }));
      assert.deepEqual(listed.Contents?.map((c) => c.Key), ['doc', 'other']);
      const all = await versions(B, { Prefix: 'doc' });
      assert.equal(all.DeleteMarkers, undefined, 'the marker is gone');
      assert.equal(all.Versions?.length, 3);
      assert.equal(all.Versions?.[0].IsLatest, true);
    });

    test('DELETE naming a version removes that version permanently', async () => {
      const del = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'doc', VersionId: ids[1] }));
      assert.equal(del.$metadata.httpStatusCode, 204);
      assert.equal(del.VersionId, ids[1]);
      assert.equal(del.DeleteMarker, undefined, 'x-amz-delete-marker is only ever sent as true');
      await rejects(s3.send(new GetObjectCommand({ Bucket: B, Key: 'doc', VersionId: ids[1] })), 'NoSuchVersion', 404);
      await rejects(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'doc', VersionId: ids[1] })), undefined, 404);
      assert.deepEqual(await read(B, 'doc'), { body: 'three!', versionId: ids[2] }, 'the current version is untouched');
      const all = await versions(B, { Prefix: 'doc' });
      assert.deepEqual(all.Versions?.map((v) => [v.VersionId, v.IsLatest]), [
        [ids[2], true],
        [ids[0], false],
      ]);

      // Deleting the current version by id makes the one before it current.
      await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'doc', VersionId: ids[2] }));
      assert.deepEqual(await read(B, 'doc'), { body: 'one', versionId: ids[0] });
      const remaining = await versions(B, { Prefix: 'doc' });
      assert.deepEqual(remaining.Versions?.map((v) => [v.VersionId, v.IsLatest]), [[ids[0], true]]);
    });
  });

  describe('objects written before versioning was enabled', () => {
    const B = 'pre-versioning';

    test('keep the version id "null", readable by that id beside the new versions', async () => {
      await create(B);
      assert.equal(await put(B, 'legacy', 'old bytes'), undefined, 'an unversioned bucket returns no version id');
      const unversioned = await versions(B);
      assert.deepEqual(unversioned.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]), [['legacy', 'null', true]]);

      await setStatus(B, 'Enabled');
      const enabled = await versions(B);
      assert.deepEqual(enabled.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]), [['legacy', 'null', true]]);
      assert.deepEqual(await read(B, 'legacy', 'null'), { body: 'old bytes', versionId: 'null' });
      assert.deepEqual(await read(B, 'legacy'), { body: 'old bytes', versionId: 'null' });
      const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'legacy', VersionId: 'null' }));
      assert.equal(head.VersionId, 'null');

      const id = await put(B, 'legacy', 'new bytes');
      assertUrlSafe(id);
      assert.notEqual(id, 'null');
      const both = await versions(B);
      assert.deepEqual(both.Versions?.map((v) => [v.VersionId, v.IsLatest]), [
        [id, true],
        ['null', false],
      ]);
      assert.deepEqual(await read(B, 'legacy'), { body: 'new bytes', versionId: id });
      assert.deepEqual(await read(B, 'legacy', 'null'), { body: 'old bytes', versionId: 'null' });
    });
  });

  describe('a Suspended bucket', () => {
    const B = 'suspended';
    let id1: string;
    let id2: string;

    before(async () => {
      await create(B, 'Enabled');
      id1 = (await put(B, 'k', 'v1'))!;
      id2 = (await put(B, 'k', 'v2'))!;
      await setStatus(B, 'Suspended');
    });

    test('PUT writes the null version, overwrites it on the next PUT, and keeps the versions with ids', async () => {
      await put(B, 'k', 'n1');
      let all = await versions(B, { Prefix: 'k' });
      assert.deepEqual(all.Versions?.map((v) => [v.VersionId, v.IsLatest]), [
        ['null', true],
        [id2, false],
        [id1, false],
      ]);
      assert.deepEqual(await read(B, 'k'), { body: 'n1', versionId: 'null' });

      await put(B, 'k', 'null two');
      all = await versions(B, { Prefix: 'k' });
      assert.deepEqual(all.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size]), [
        ['null', true, 'null two'.length],
        [id2, false, 2],
        [id1, false, 2],
      ], 'the null version was overwritten, not added to');
      assert.deepEqual(await read(B, 'k', 'null'), { body: 'null two', versionId: 'null' });
      assert.deepEqual(await read(B, 'k', id1), { body: 'v1', versionId: id1 });
      assert.deepEqual(await read(B, 'k', id2), { body: 'v2', versionId: id2 });
    });

    test('a simple DELETE removes the null version and inserts a null delete marker', async () => {
      const del = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'k' }));
      assert.equal(del.$metadata.httpStatusCode, 204);
      assert.equal(del.DeleteMarker, true);
      assert.equal(del.VersionId, 'null');
      const all = await versions(B, { Prefix: 'k' });
      assert.deepEqual(all.DeleteMarkers?.map((d) => [d.VersionId, d.IsLatest]), [['null', true]]);
      assert.deepEqual(all.Versions?.map((v) => [v.VersionId, v.IsLatest]), [
        [id2, false],
        [id1, false],
      ], 'the null version is gone, the versions with ids remain');

      const get = await rejects(s3.send(new GetObjectCommand({ Bucket: B, Key: 'k' })), 'NoSuchKey', 404);
      assert.equal(headersOf(get)['x-amz-delete-marker'], 'true');
      await rejects(s3.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: 'null' })), 'MethodNotAllowed', 405);
      assert.deepEqual(await read(B, 'k', id1), { body: 'v1', versionId: id1 });
      assert.deepEqual(await read(B, 'k', id2), { body: 'v2', versionId: id2 });

      // A second simple DELETE replaces the null marker: still exactly one.
      const again = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'k' }));
      assert.equal(again.VersionId, 'null');
      assert.equal(again.DeleteMarker, true);
      const twice = await versions(B, { Prefix: 'k' });
      assert.deepEqual(twice.DeleteMarkers?.map((d) => [d.VersionId, d.IsLatest]), [['null', true]]);
      assert.equal(twice.Versions?.length, 2);
    });

    test('DELETE naming a version still deletes it permanently; the next PUT replaces the null marker', async () => {
      const del = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'k', VersionId: id1 }));
      assert.equal(del.VersionId, id1);
      assert.equal(del.DeleteMarker, undefined);
      await rejects(s3.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: id1 })), 'NoSuchVersion', 404);

      await put(B, 'k', 'n3');
      const all = await versions(B, { Prefix: 'k' });
      assert.equal(all.DeleteMarkers, undefined, 'the null marker was overwritten by the null version');
      assert.deepEqual(all.Versions?.map((v) => [v.VersionId, v.IsLatest]), [
        ['null', true],
        [id2, false],
      ]);
      assert.deepEqual(await read(B, 'k'), { body: 'n3', versionId: 'null' });
    });

    test('re-enabling keeps the null version and adds new versions beside it', async () => {
      await setStatus(B, 'Enabled');
      const id3 = await put(B, 'k', 'e1');
      assertUrlSafe(id3);
      const all = await versions(B, { Prefix: 'k' });
      assert.deepEqual(all.Versions?.map((v) => [v.VersionId, v.IsLatest]), [
        [id3, true],
        ['null', false],
        [id2, false],
      ]);
      assert.deepEqual(await read(B, 'k', 'null'), { body: 'n3', versionId: 'null' });
    });
  });

  describe('ListObjectVersions', () => {
    const B = 'list-versions';
    /** Each key's entries, newest first, as written. */
    const stacks = new Map<string, Entry[]>();
    let expected: Entry[];

    before(async () => {
      await create(B, 'Enabled');
      // Writes interleave across keys so that a key's order is not the global write order.
      const script: [string, 'put' | 'del'][] = [
        ['m', 'put'],
        ['a', 'put'],
        ['dir/x', 'put'],
        ['a', 'put'],
        ['dir/y', 'put'],
        ['m', 'put'],
        ['a', 'del'],
        ['dir/sub/z', 'put'],
        ['dir/x', 'put'],
        ['a', 'put'],
        ['dir/y', 'del'],
        ['m', 'put'],
        ['m', 'del'],
        ['m', 'del'],
        ['dir/x', 'put'],
      ];
      for (const [i, [key, op]] of script.entries()) {
        let entry: Entry;
        if (op === 'put') {
          const id = await put(B, key, `${key} #${i}`);
          assertUrlSafe(id);
          entry = { key, versionId: id, marker: false };
        } else {
          const del = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: key }));
          assert.equal(del.DeleteMarker, true);
          assertUrlSafe(del.VersionId);
          entry = { key, versionId: del.VersionId, marker: true };
        }
        stacks.set(key, [entry, ...(stacks.get(key) ?? [])]);
      }
      // Sorted by key (ASCII keys: code-unit order is byte order), newest first within a key.
      expected = [...stacks.keys()].sort().flatMap((k) => stacks.get(k)!);
    });

    test('one page lists every version and marker, by key, newest first, IsLatest on the newest of each key', async () => {
      const page = await versions(B);
      assert.equal(page.Name, B);
      assert.equal(page.IsTruncated, false);
      assert.equal(page.MaxKeys, 1000);
      assert.equal(page.NextKeyMarker, undefined);
      assert.equal(page.NextVersionIdMarker, undefined);
      assert.deepEqual(
        page.Versions?.map((v) => show({ key: v.Key!, versionId: v.VersionId!, marker: false })),
        expected.filter((e) => !e.marker).map(show),
      );
      assert.deepEqual(
        page.DeleteMarkers?.map((d) => show({ key: d.Key!, versionId: d.VersionId!, marker: true })),
        expected.filter((e) => e.marker).map(show),
      );
      const newest = new Set([...stacks.values()].map((s) => s[0].versionId));
      for (const e of entriesOf(page)) {
        assert.equal(e.isLatest, newest.has(e.versionId), `IsLatest of ${show(e)}`);
      }
      for (const v of page.Versions ?? []) {
        assert.ok(v.ETag?.startsWith('"'), 'ETag');
        assert.equal(typeof v.Size, 'number');
        assert.equal(v.StorageClass, 'STANDARD');
        assert.ok(v.LastModified instanceof Date);
        assert.ok(v.Owner?.ID, 'versions carry their owner');
      }
      for (const d of page.DeleteMarkers ?? []) {
        assert.ok(d.LastModified instanceof Date);
        assert.ok(d.Owner?.ID, 'markers carry their owner');
      }
    });

    test('max-keys=1, paged with key-marker and version-id-marker, walks every entry exactly once in order', async () => {
      const seen: Entry[] = [];
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      for (let pages = 0; ; pages++) {
        assert.ok(pages <= expected.length, 'paging terminates');
        const page = await versions(B, { MaxKeys: 1, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker });
        assert.equal(page.MaxKeys, 1);
        assert.equal(page.KeyMarker ?? '', keyMarker ?? '', 'KeyMarker is echoed');
        assert.equal(page.VersionIdMarker ?? '', versionIdMarker ?? '', 'VersionIdMarker is echoed');
        const entries = entriesOf(page);
        assert.equal(entries.length, 1, `page ${pages} holds one entry`);
        const [entry] = entries;
        seen.push({ key: entry.key, versionId: entry.versionId, marker: entry.marker });
        if (!page.IsTruncated) {
          assert.equal(page.NextKeyMarker, undefined, 'no NextKeyMarker on the last page');
          assert.equal(page.NextVersionIdMarker, undefined, 'no NextVersionIdMarker on the last page');
          break;
        }
        // AWS names the last entry returned; the markers are exclusive (checked against AWS by moto's
        // aws_verified test_list_object_versions_with_paging).
        assert.equal(page.NextKeyMarker, entry.key, 'NextKeyMarker names the last entry returned');
        assert.equal(page.NextVersionIdMarker, entry.versionId, 'NextVersionIdMarker names the last entry returned');
        keyMarker = page.NextKeyMarker;
        versionIdMarker = page.NextVersionIdMarker;
      }
      assert.deepEqual(seen.map(show), expected.map(show), 'markers interleaved in their place, every entry exactly once');
    });

    test('larger pages split inside and across keys still collect every entry exactly once', async () => {
      for (const size of [2, 3, 4, 7]) {
        const seen: Entry[] = [];
        let keyMarker: string | undefined;
        let versionIdMarker: string | undefined;
        for (let pages = 0; ; pages++) {
          assert.ok(pages <= expected.length, 'paging terminates');
          const page = await versions(B, { MaxKeys: size, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker });
          const entries = entriesOf(page);
          const slice = expected.slice(seen.length, seen.length + size);
          assert.deepEqual(entries.map(show).sort(), slice.map(show).sort(), `page ${pages} of size ${size}`);
          // Within a page the SDK splits Versions from DeleteMarkers; each keeps the listing order.
          assert.deepEqual(page.Versions?.map((v) => v.VersionId) ?? [], slice.filter((e) => !e.marker).map((e) => e.versionId));
          assert.deepEqual(page.DeleteMarkers?.map((d) => d.VersionId) ?? [], slice.filter((e) => e.marker).map((e) => e.versionId));
          seen.push(...slice);
          if (!page.IsTruncated) break;
          assert.equal(entries.length, size, 'a truncated page is full');
          const last = slice[slice.length - 1];
          assert.equal(page.NextKeyMarker, last.key);
          assert.equal(page.NextVersionIdMarker, last.versionId);
          keyMarker = page.NextKeyMarker;
          versionIdMarker = page.NextVersionIdMarker;
        }
        assert.equal(seen.length, expected.length, `page size ${size} reaches the end`);
      }
    });

    test('key-marker alone starts after every version of that key', async () => {
      const afterX = await versions(B, { KeyMarker: 'dir/x' });
      assert.deepEqual(entriesOf(afterX).map(show).sort(), expected.filter((e) => e.key > 'dir/x').map(show).sort());
      const afterB = await versions(B, { KeyMarker: 'b' });
      assert.deepEqual(entriesOf(afterB).map(show).sort(), expected.filter((e) => e.key > 'b').map(show).sort());
      assert.equal(afterB.KeyMarker, 'b');
    });

    test('prefix', async () => {
      const page = await versions(B, { Prefix: 'dir/' });
      assert.equal(page.Prefix, 'dir/');
      assert.deepEqual(entriesOf(page).map(show).sort(), expected.filter((e) => e.key.startsWith('dir/')).map(show).sort());
      assert.deepEqual(page.Versions?.map((v) => v.Key), expected.filter((e) => !e.marker && e.key.startsWith('dir/')).map((e) => e.key));
      const none = await versions(B, { Prefix: 'nothing-here' });
      assert.equal(none.Versions, undefined);
      assert.equal(none.DeleteMarkers, undefined);
      assert.equal(none.IsTruncated, false);
    });

    test('delimiter rolls keys up into CommonPrefixes', async () => {
      const top = await versions(B, { Delimiter: '/' });
      assert.equal(top.Delimiter, '/');
      assert.deepEqual(top.CommonPrefixes?.map((p) => p.Prefix), ['dir/']);
      assert.deepEqual(entriesOf(top).map(show).sort(), expected.filter((e) => !e.key.includes('/')).map(show).sort());

      const inDir = await versions(B, { Prefix: 'dir/', Delimiter: '/' });
      assert.deepEqual(inDir.CommonPrefixes?.map((p) => p.Prefix), ['dir/sub/']);
      assert.deepEqual(
        entriesOf(inDir).map(show).sort(),
        expected.filter((e) => e.key === 'dir/x' || e.key === 'dir/y').map(show).sort(),
      );
    });

    test('a common prefix counts once toward max-keys and can end a page', async () => {
      const aCount = stacks.get('a')!.length;
      const page = await versions(B, { Delimiter: '/', MaxKeys: aCount + 1 });
      assert.deepEqual(entriesOf(page).map(show).sort(), stacks.get('a')!.map(show).sort());
      assert.deepEqual(page.CommonPrefixes?.map((p) => p.Prefix), ['dir/']);
      assert.equal(page.IsTruncated, true);
      // As AWS does (moto's aws_verified test_list_object_versions_with_paging_and_delimiter):
      // the prefix is the NextKeyMarker and there is no NextVersionIdMarker.
      assert.equal(page.NextKeyMarker, 'dir/');
      assert.equal(page.NextVersionIdMarker, undefined);
      const rest = await versions(B, { Delimiter: '/', KeyMarker: page.NextKeyMarker });
      assert.equal(rest.CommonPrefixes, undefined, 'the prefix is not repeated');
      assert.deepEqual(entriesOf(rest).map(show).sort(), stacks.get('m')!.map(show).sort());
      assert.equal(rest.IsTruncated, false);
    });

    test('on the wire, Version and DeleteMarker elements are interleaved in listing order', async () => {
      // The SDK splits the two lists, so only the raw document shows where a marker stands.
      const raw = await rawRequest(w.endpoint('us-east-1'), { method: 'GET', path: `/${B}`, query: { versions: '' } });
      assert.equal(raw.status, 200, raw.text);
      const onWire = [...raw.text.matchAll(/<(Version|DeleteMarker)>([\s\S]*?)<\/\1>/g)].map((m) =>
        show({
          key: /<Key>([^<]*)<\/Key>/.exec(m[2])![1],
          versionId: /<VersionId>([^<]*)<\/VersionId>/.exec(m[2])![1],
          marker: m[1] === 'DeleteMarker',
        }),
      );
      assert.deepEqual(onWire, expected.map(show));
    });

    test('version-id-marker without key-marker is InvalidArgument', async () => {
      const err = await rejects(versions(B, { VersionIdMarker: stacks.get('a')![0].versionId }), 'InvalidArgument', 400);
      assert.match(err.message, /version-id marker cannot be specified without a key marker/i);
    });

    test('a malformed version-id-marker is InvalidArgument "Invalid version id specified"', async () => {
      // AWS, 2026 (list-object-versions --key-marker a --version-id-marker nonexistent-version-id-12345):
      // "An error occurred (InvalidArgument) ...: Invalid version id specified"; also versity/versitygw#1811.
      const err = await rejects(versions(B, { KeyMarker: 'a', VersionIdMarker: 'does-not-exist' }), 'InvalidArgument', 400);
      assert.equal(err.message, 'Invalid version id specified');
    });

    test('encoding-type=url encodes keys, prefixes and markers', async () => {
      const E = 'list-versions-enc';
      await create(E, 'Enabled');
      const k1 = 'sp ace/ü+1';
      const k2 = 'sp ace/ü+2';
      const v1 = await put(E, k1, 'a');
      const v2 = await put(E, k1, 'b');
      const m1 = (await s3.send(new DeleteObjectCommand({ Bucket: E, Key: k1 }))).VersionId;
      const v3 = await put(E, k2, 'c');
      const encoded = (s: string | undefined): string => {
        assert.equal(typeof s, 'string');
        assert.doesNotMatch(s!, /[ ü]/, `${s} is URL-encoded`);
        return urlDecode(s!);
      };

      const all = await versions(E, { EncodingType: 'url' });
      assert.equal(all.EncodingType, 'url');
      assert.deepEqual(all.Versions?.map((v) => [encoded(v.Key), v.VersionId]), [
        [k1, v2],
        [k1, v1],
        [k2, v3],
      ]);
      assert.deepEqual(all.DeleteMarkers?.map((d) => [encoded(d.Key), d.VersionId]), [[k1, m1]]);
      for (const v of all.Versions ?? []) assert.ok(v.Key!.includes('%2B'), `a literal '+' is encoded: ${v.Key}`);

      const prefixed = await versions(E, { EncodingType: 'url', Prefix: 'sp ace/', MaxKeys: 1 });
      assert.equal(encoded(prefixed.Prefix), 'sp ace/');
      assert.equal(prefixed.IsTruncated, true);
      assert.equal(encoded(prefixed.NextKeyMarker), k1);
      assert.equal(prefixed.NextVersionIdMarker, m1);
      const next = await versions(E, {
        EncodingType: 'url',
        Prefix: 'sp ace/',
        KeyMarker: k1,
        VersionIdMarker: prefixed.NextVersionIdMarker,
      });
      assert.equal(encoded(next.KeyMarker), k1);
      assert.deepEqual(next.Versions?.map((v) => [encoded(v.Key), v.VersionId]), [
        [k1, v2],
        [k1, v1],
        [k2, v3],
      ]);

      const rolled = await versions(E, { EncodingType: 'url', Delimiter: ' ' });
      assert.equal(encoded(rolled.Delimiter), ' ');
      assert.deepEqual(rolled.CommonPrefixes?.map((p) => encoded(p.Prefix)), ['sp ']);
    });
  });

  describe('concurrent writes', () => {
    test('50 concurrent PUTs to one key all become versions; exactly one is latest and GET reads it', async () => {
      const B = 'race';
      await create(B, 'Enabled');
      const bodies = Array.from({ length: 50 }, (_, i) => `body number ${i} `.repeat(i + 1));
      const puts = await Promise.all(bodies.map((Body) => s3.send(new PutObjectCommand({ Bucket: B, Key: 'hot', Body }))));
      const bodyById = new Map<string, string>();
      for (const [i, p] of puts.entries()) {
        assertUrlSafe(p.VersionId);
        bodyById.set(p.VersionId, bodies[i]);
      }
      assert.equal(bodyById.size, 50, 'every PUT got its own version id');

      const listed = await versions(B);
      assert.equal(listed.IsTruncated, false);
      assert.equal(listed.Versions?.length, 50);
      assert.equal(listed.DeleteMarkers, undefined);
      assert.deepEqual(new Set(listed.Versions!.map((v) => v.VersionId)), new Set(bodyById.keys()));
      const latest = listed.Versions!.filter((v) => v.IsLatest);
      assert.equal(latest.length, 1, 'exactly one IsLatest');
      assert.equal(listed.Versions![0].IsLatest, true, 'the latest is listed first');
      const current = await read(B, 'hot');
      assert.equal(current.versionId, latest[0].VersionId, 'GET reads the version listed as latest');
      assert.equal(current.body, bodyById.get(latest[0].VersionId!));
      for (const v of listed.Versions!) assert.equal(v.Size, Buffer.byteLength(bodyById.get(v.VersionId!)!));
    });
  });

  describe('version ids that are malformed or unknown', () => {
    const B = 'bad-ids';
    let id: string;

    before(async () => {
      await create(B, 'Enabled');
      id = (await put(B, 'k', 'bytes'))!;
    });

    // AWS answers a syntactically invalid version id with 400 InvalidArgument "Invalid version id
    // specified" on GetObject, HeadObject, DeleteObject and ListObjectVersions' version-id-marker
    // (reported against AWS in versity/versitygw#1630/#1638 and #1811; AWS answers an unknown but
    // well-formed id with 404 NoSuchVersion (getmoto/moto#3532, verified against AWS). Meridian's ids are
    // 32 characters of [0-9A-Za-z], or 'null'.
    for (const bad of ['does-not-exist', 'x', '0123456789abcdefghijklmnopqrstuvw', '0123456789ABCDEFGHIJ-KLMNOPQRSTU', 'NULL']) {
      test(`a malformed id (${bad}) is 400 InvalidArgument`, async () => {
        const get = await rejects(s3.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: bad })), 'InvalidArgument', 400);
        assert.equal(get.message, 'Invalid version id specified');
        await rejects(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k', VersionId: bad })), undefined, 400);
        const del = await rejects(s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'k', VersionId: bad })), 'InvalidArgument', 400);
        assert.equal(del.message, 'Invalid version id specified');
        assert.deepEqual(await read(B, 'k'), { body: 'bytes', versionId: id }, 'nothing was deleted');
      });
    }

    test('a well-formed id that names no version is 404 NoSuchVersion', async () => {
      const last = id[id.length - 1];
      const unknown = id.slice(0, -1) + (last === 'z' ? 'y' : 'z');
      assert.equal(unknown.length, id.length);
      await rejects(s3.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: unknown })), 'NoSuchVersion', 404);
      await rejects(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k', VersionId: unknown })), undefined, 404);
      await rejects(s3.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: 'null' })), 'NoSuchVersion', 404);
      await rejects(s3.send(new GetObjectCommand({ Bucket: B, Key: 'absent', VersionId: id })), 'NoSuchVersion', 404);
    });
  });
});
