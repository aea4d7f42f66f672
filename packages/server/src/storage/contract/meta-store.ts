/**
 * The MetaStore contract: what every metadata store must do, whatever it is built on.
 * An implementation's test file calls `metaStoreContract` with a factory for fresh, empty stores.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { S3Error } from '../../core/errors.ts';
import type {
  BucketRecord,
  Grant,
  ListUploadsResult,
  MetaStore,
  ObjectVersion,
  OutboxEntry,
  PartRecord,
  UploadRecord,
} from '../types.ts';
import { byteOrder, s3Error } from './helpers.ts';

export interface MetaStoreFixture {
  store: MetaStore;
  /** Closes the current store and opens the same data again; `store` becomes the new instance. */
  reopen(): Promise<MetaStore>;
  /** Closes the store and removes everything it wrote. */
  cleanup(): Promise<void>;
}

const PUBLIC_READ: Grant[] = [
  { grantee: { type: 'CanonicalUser', id: 'owner-1' }, permission: 'FULL_CONTROL' },
  { grantee: { type: 'Group', uri: 'http://acs.amazonaws.com/groups/global/AllUsers' }, permission: 'READ' },
];

export function bucketRecord(name: string, patch: Partial<BucketRecord> = {}): BucketRecord {
  return {
    name,
    region: 'us-east-1',
    owner: 'owner-1',
    createdAt: 1_700_000_000_000,
    versioning: 'Unversioned',
    ...patch,
  };
}

export function objectVersion(bucket: string, key: string, patch: Partial<ObjectVersion> = {}): ObjectVersion {
  return {
    bucket,
    key,
    versionId: 'null',
    isDeleteMarker: false,
    lastModified: 1_700_000_000_000,
    size: 0,
    etag: 'd41d8cd98f00b204e9800998ecf8427e',
    storageClass: 'STANDARD',
    owner: 'owner-1',
    userMetadata: {},
    data: { kind: 'none' },
    ...patch,
  };
}

function deleteMarker(bucket: string, key: string, versionId: string, lastModified: number): ObjectVersion {
  return objectVersion(bucket, key, { versionId, lastModified, isDeleteMarker: true, etag: '' });
}

/** Newest first: (lastModified, versionId) descending, ids in byte order. */
function stackOrder(a: ObjectVersion, b: ObjectVersion): number {
  return b.lastModified - a.lastModified || byteOrder(b.versionId, a.versionId);
}

function stackOf(store: MetaStore, bucket: string, key: string): ObjectVersion[] {
  const result = store.listVersions({ bucket, prefix: key, maxKeys: 1000 });
  assert.equal(result.isTruncated, false);
  return result.entries.filter((e) => e.version.key === key).map((e) => e.version);
}

// ---------------------------------------------------------------------------------------------
// Reference listing: sort by UTF-8 bytes, roll up common prefixes, page.

interface ListEntry {
  value: string;
  isPrefix: boolean;
}

function commonPrefix(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const i = key.indexOf(delimiter, prefix.length);
  return i === -1 ? undefined : key.slice(0, i + delimiter.length);
}

function rollUp(keys: readonly string[], prefix: string, delimiter: string | undefined): ListEntry[] {
  const byValue = new Map<string, ListEntry>();
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    const cp = commonPrefix(key, prefix, delimiter);
    const entry = cp === undefined ? { value: key, isPrefix: false } : { value: cp, isPrefix: true };
    byValue.set(entry.value, entry);
  }
  return [...byValue.values()].sort((a, b) => byteOrder(a.value, b.value));
}

interface ModelPage {
  objects: string[];
  commonPrefixes: string[];
  isTruncated: boolean;
  lastReturned?: string;
}

function modelListObjects(
  keys: readonly string[],
  input: { prefix: string; delimiter?: string; after?: string; maxKeys: number },
): ModelPage {
  if (input.maxKeys === 0) return { objects: [], commonPrefixes: [], isTruncated: false, lastReturned: undefined };
  const after = input.after;
  const remaining = rollUp(keys, input.prefix, input.delimiter).filter(
    (e) => after === undefined || byteOrder(e.value, after) > 0,
  );
  const page = remaining.slice(0, input.maxKeys);
  const isTruncated = remaining.length > input.maxKeys;
  return {
    objects: page.filter((e) => !e.isPrefix).map((e) => e.value),
    commonPrefixes: page.filter((e) => e.isPrefix).map((e) => e.value),
    isTruncated,
    lastReturned: isTruncated ? page[page.length - 1].value : undefined,
  };
}

type VersionItem =
  | { kind: 'version'; key: string; versionId: string; isLatest: boolean; isDeleteMarker: boolean }
  | { kind: 'prefix'; prefix: string };

function modelVersionItems(versions: readonly ObjectVersion[], prefix: string, delimiter?: string): VersionItem[] {
  const byKey = new Map<string, ObjectVersion[]>();
  const prefixes = new Set<string>();
  for (const v of versions) {
    if (!v.key.startsWith(prefix)) continue;
    const cp = commonPrefix(v.key, prefix, delimiter);
    if (cp !== undefined) {
      prefixes.add(cp);
      continue;
    }
    byKey.set(v.key, [...(byKey.get(v.key) ?? []), v]);
  }
  const groups: { sortKey: string; items: VersionItem[] }[] = [...prefixes].map((p) => ({
    sortKey: p,
    items: [{ kind: 'prefix', prefix: p }],
  }));
  for (const [key, stack] of byKey) {
    stack.sort(stackOrder);
    groups.push({
      sortKey: key,
      items: stack.map((v, i) => ({
        kind: 'version',
        key,
        versionId: v.versionId,
        isLatest: i === 0,
        isDeleteMarker: v.isDeleteMarker,
      })),
    });
  }
  groups.sort((a, b) => byteOrder(a.sortKey, b.sortKey));
  return groups.flatMap((g) => g.items);
}

// ---------------------------------------------------------------------------------------------
// Generators. Keys mix ASCII, '/', NUL and \u0001, a character above U+E000 (where UTF-16 and
// UTF-8 order disagree) and characters beyond U+FFFF, in pairs that share a UTF-16 high surrogate
// (U+10000/U+10001 and U+1F600/U+1F601) so that keys often differ only in a low surrogate.

const KEY_UNITS = [
  'a',
  'b',
  '/',
  '/',
  '/',
  '\u0000',
  '\u0001',
  'é',
  '\uFFFD',
  '\u{10000}',
  '\u{10001}',
  '\u{1F600}',
  '\u{1F601}',
];
const keyArb = fc.array(fc.constantFrom(...KEY_UNITS), { minLength: 1, maxLength: 6 }).map((u) => u.join(''));
const delimiterArb = fc.constantFrom<string | undefined>(undefined, '/', '/', '//', 'a', '\u0000', '\u{1F600}', 'é/');

/** A prefix of a string on a code point boundary, so it stays valid UTF-8. */
function codePointPrefix(s: string, n: number): string {
  return [...s].slice(0, n).join('');
}

/** '', a prefix of one of the keys, or an unrelated key-like string. */
function prefixArb(keys: readonly string[]): fc.Arbitrary<string> {
  const options: fc.Arbitrary<string>[] = [fc.constant(''), keyArb];
  if (keys.length > 0) {
    options.push(
      fc.tuple(fc.constantFrom(...keys), fc.nat(6)).map(([k, n]) => codePointPrefix(k, n)),
      fc.tuple(fc.constantFrom(...keys), fc.nat(6)).map(([k, n]) => codePointPrefix(k, n)),
    );
  }
  return fc.oneof(...options);
}

const versionIdArb = fc.string({
  unit: fc.constantFrom('0', '9', 'A', 'Z', 'a', 'l', 'n', 'u', 'z'),
  minLength: 1,
  maxLength: 5,
});

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Multipart uploads.

function uploadRecord(bucket: string, key: string, uploadId: string, patch: Partial<UploadRecord> = {}): UploadRecord {
  return {
    bucket,
    key,
    uploadId,
    initiated: 1_600_000_000_000,
    owner: 'owner-1',
    storageClass: 'STANDARD',
    userMetadata: {},
    ...patch,
  };
}

/** A part whose bytes are in blob `blob` (none: an empty part). */
function partRecord(partNumber: number, blob: string | undefined, patch: Partial<PartRecord> = {}): PartRecord {
  return {
    partNumber,
    size: blob === undefined ? 0 : 100 + partNumber,
    etag: `etag-${partNumber}-${blob ?? 'empty'}`,
    lastModified: 1_600_000_000_000 + partNumber,
    blob,
    ...patch,
  };
}

interface CompleteOptions {
  /** The manifest id of the new version. */
  manifest: string;
  /** Part numbers the object is made of; all stored parts when absent. */
  use?: number[];
  versionId?: string;
  lastModified?: number;
  /** Called with what `assemble` was given. */
  seen?: (upload: UploadRecord, parts: PartRecord[]) => void;
  precondition?: (current: ObjectVersion | undefined) => void;
}

/** Completes an upload into a version made of the chosen parts. */
function complete(store: MetaStore, upload: UploadRecord, opts: CompleteOptions) {
  return store.completeUpload({
    bucket: upload.bucket,
    key: upload.key,
    uploadId: upload.uploadId,
    precondition: opts.precondition,
    assemble(current, parts) {
      opts.seen?.(current, parts);
      const used = opts.use ? parts.filter((p) => opts.use!.includes(p.partNumber)) : parts;
      const version = objectVersion(current.bucket, current.key, {
        versionId: opts.versionId ?? 'null',
        lastModified: opts.lastModified ?? current.initiated,
        size: used.reduce((n, p) => n + p.size, 0),
        etag: `multipart-${used.length}`,
        partsCount: used.length,
        data: { kind: 'parts', id: opts.manifest },
      });
      return { version, parts: used };
    },
  });
}

/** Every part of an upload, read through listParts. */
function partsOf(store: MetaStore, uploadId: string): PartRecord[] {
  const r = store.listParts(uploadId, 0, 10_000);
  assert.equal(r.isTruncated, false);
  return r.parts;
}

/** Uploads and common prefixes of a listing, merged back into listing order. */
type UploadItem = { kind: 'upload'; key: string; uploadId: string } | { kind: 'prefix'; prefix: string };

function uploadItemKey(it: UploadItem): string {
  return it.kind === 'prefix' ? it.prefix : it.key;
}

function uploadItemOrder(a: UploadItem, b: UploadItem): number {
  return (
    byteOrder(uploadItemKey(a), uploadItemKey(b)) ||
    byteOrder(a.kind === 'upload' ? a.uploadId : '', b.kind === 'upload' ? b.uploadId : '')
  );
}

function modelUploadItems(
  uploads: readonly { key: string; uploadId: string }[],
  prefix: string,
  delimiter: string | undefined,
): UploadItem[] {
  const prefixes = new Set<string>();
  const items: UploadItem[] = [];
  for (const u of uploads) {
    if (!u.key.startsWith(prefix)) continue;
    const cp = commonPrefix(u.key, prefix, delimiter);
    if (cp === undefined) items.push({ kind: 'upload', key: u.key, uploadId: u.uploadId });
    else prefixes.add(cp);
  }
  for (const p of prefixes) items.push({ kind: 'prefix', prefix: p });
  return items.sort(uploadItemOrder);
}

function listedUploadItems(r: ListUploadsResult): UploadItem[] {
  return [
    ...r.uploads.map((u): UploadItem => ({ kind: 'upload', key: u.key, uploadId: u.uploadId })),
    ...r.commonPrefixes.map((p): UploadItem => ({ kind: 'prefix', prefix: p })),
  ].sort(uploadItemOrder);
}

export function metaStoreContract(name: string, make: () => Promise<MetaStoreFixture>): void {
  async function withStore(fn: (f: MetaStoreFixture) => Promise<void>): Promise<void> {
    const f = await make();
    try {
      await fn(f);
    } finally {
      await f.cleanup();
    }
  }

  /** A store with bucket `b` already created. */
  async function withBucket(fn: (store: MetaStore, f: MetaStoreFixture) => Promise<void>): Promise<void> {
    await withStore(async (f) => {
      assert.equal(await f.store.createBucket(bucketRecord('b')), true);
      await fn(f.store, f);
    });
  }

  describe(`MetaStore contract: ${name}`, { concurrency: true }, () => {
    describe('buckets', { concurrency: true }, () => {
      it('creates a bucket and reads it back', () =>
        withStore(async ({ store }) => {
          const record = bucketRecord('alpha', { owner: 'o-7', acl: PUBLIC_READ });
          assert.equal(store.getBucket('alpha'), undefined);
          assert.equal(await store.createBucket(record), true);
          assert.deepEqual(store.getBucket('alpha'), record);
          assert.deepEqual(store.listBuckets(), [record]);
        }));

      it('refuses a duplicate and keeps the first record', () =>
        withStore(async ({ store }) => {
          await store.createBucket(bucketRecord('alpha', { owner: 'first' }));
          assert.equal(await store.createBucket(bucketRecord('alpha', { owner: 'second' })), false);
          assert.equal(store.getBucket('alpha')?.owner, 'first');
          assert.equal(store.listBuckets().length, 1);
        }));

      it('lists every bucket', () =>
        withStore(async ({ store }) => {
          const names = ['zeta', 'alpha', 'mid.dle', 'alpha-2'];
          for (const n of names) await store.createBucket(bucketRecord(n));
          assert.deepEqual(
            store
              .listBuckets()
              .map((b) => b.name)
              .sort(),
            [...names].sort(),
          );
        }));

      it('updates a bucket with a patch and keeps the other fields', () =>
        withStore(async ({ store }) => {
          const record = bucketRecord('alpha');
          await store.createBucket(record);
          const updated = await store.updateBucket('alpha', { versioning: 'Enabled' });
          assert.deepEqual(updated, { ...record, versioning: 'Enabled' });
          assert.deepEqual(store.getBucket('alpha'), { ...record, versioning: 'Enabled' });
          await store.updateBucket('alpha', { versioning: 'Suspended', acl: PUBLIC_READ });
          assert.deepEqual(store.getBucket('alpha'), { ...record, versioning: 'Suspended', acl: PUBLIC_READ });
        }));

      it('updating a missing bucket resolves undefined and creates nothing', () =>
        withStore(async ({ store }) => {
          assert.equal(await store.updateBucket('ghost', { versioning: 'Enabled' }), undefined);
          assert.equal(store.getBucket('ghost'), undefined);
          assert.deepEqual(store.listBuckets(), []);
        }));

      it('deletes an empty bucket; a missing one is reported as missing', () =>
        withStore(async ({ store }) => {
          assert.equal((await store.deleteBucket('alpha')).status, 'missing');
          await store.createBucket(bucketRecord('alpha'));
          assert.equal((await store.deleteBucket('alpha')).status, 'deleted');
          assert.equal(store.getBucket('alpha'), undefined);
          assert.equal((await store.deleteBucket('alpha')).status, 'missing');
          assert.equal(await store.createBucket(bucketRecord('alpha')), true, 'the name is free again');
        }));

      it('does not delete a bucket that holds a version', () =>
        withBucket(async (store) => {
          await store.putVersion({ version: objectVersion('b', 'k') });
          assert.equal((await store.deleteBucket('b')).status, 'not-empty');
          assert.ok(store.getBucket('b'));
          await store.deleteVersion('b', 'k', 'null');
          assert.equal((await store.deleteBucket('b')).status, 'deleted');
        }));

      it('does not delete a bucket that holds only a delete marker', () =>
        withBucket(async (store) => {
          await store.putVersion({ version: deleteMarker('b', 'k', 'm1', 5) });
          assert.equal(store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects.length, 0);
          assert.equal((await store.deleteBucket('b')).status, 'not-empty');
          await store.deleteVersion('b', 'k', 'm1');
          assert.equal((await store.deleteBucket('b')).status, 'deleted');
        }));

      it('keeps buckets whose names share a prefix apart', () =>
        withStore(async ({ store }) => {
          await store.createBucket(bucketRecord('abc'));
          await store.createBucket(bucketRecord('abc-d'));
          await store.createBucket(bucketRecord('ab'));
          await store.putVersion({ version: objectVersion('abc-d', 'x') });
          await store.putVersion({ version: objectVersion('ab', 'c') });
          assert.deepEqual(store.listObjects({ bucket: 'abc', prefix: '', maxKeys: 10 }).objects, []);
          assert.deepEqual(store.listVersions({ bucket: 'abc', prefix: '', maxKeys: 10 }).entries, []);
          assert.equal(store.getVersion('abc', 'x'), undefined);
          assert.equal(store.getVersion('ab', 'c-dx'), undefined);
          assert.equal((await store.deleteBucket('abc')).status, 'deleted');
          assert.deepEqual(
            store.listObjects({ bucket: 'abc-d', prefix: '', maxKeys: 10 }).objects.map((o) => o.key),
            ['x'],
          );
        }));
    });

    describe('versions', { concurrency: true }, () => {
      it('reads back a version as current and by id', () =>
        withBucket(async (store) => {
          const v = objectVersion('b', 'photos/cat.jpg', {
            versionId: 'v1',
            size: 3,
            etag: '900150983cd24fb0d6963f7d28e17f72',
            contentType: 'image/jpeg',
            userMetadata: { color: 'grey' },
            checksum: { algorithm: 'CRC32', value: 'NSRBwg==', type: 'FULL_OBJECT' },
            data: { kind: 'inline', id: 'i-1' },
          });
          const result = await store.putVersion({ version: v, inline: Buffer.from('abc') });
          assert.deepEqual(result.removed, []);
          assert.deepEqual(store.getVersion('b', 'photos/cat.jpg'), v);
          assert.deepEqual(store.getVersion('b', 'photos/cat.jpg', 'v1'), v);
          assert.equal(store.getVersion('b', 'photos/cat.jpg', 'v2'), undefined);
          assert.equal(store.getVersion('b', 'photos/cat'), undefined);
          assert.equal(store.getVersion('b', 'photos/cat.jpg/'), undefined);
          assert.equal(store.getVersion('other', 'photos/cat.jpg'), undefined);
        }));

      it('rejects a version for a missing bucket with NoSuchBucket and stores nothing', () =>
        withStore(async ({ store }) => {
          const v = objectVersion('nope', 'k', { size: 2, data: { kind: 'inline', id: 'i-9' } });
          await assert.rejects(store.putVersion({ version: v, inline: Buffer.from('hi') }), s3Error('NoSuchBucket'));
          const blob = objectVersion('nope', 'k2', { size: 2, data: { kind: 'blob', id: 'f'.repeat(32) } });
          await assert.rejects(store.putVersion({ version: blob }), s3Error('NoSuchBucket'));
          assert.equal(store.getInline('i-9'), undefined);
          assert.equal(store.isBlobReferenced('f'.repeat(32)), false);
          await store.createBucket(bucketRecord('nope'));
          assert.equal(store.getVersion('nope', 'k'), undefined);
          assert.deepEqual(store.listVersions({ bucket: 'nope', prefix: '', maxKeys: 10 }).entries, []);
        }));

      it('a rejected putVersion changes nothing', () =>
        withBucket(async (store) => {
          const v1 = objectVersion('b', 'k', { size: 3, lastModified: 100, data: { kind: 'inline', id: 'in-1' } });
          await store.putVersion({ version: v1, inline: Buffer.from('one') });
          // Replaces the null version, but its inline bytes are missing.
          const bad = objectVersion('b', 'k', { size: 3, lastModified: 200, data: { kind: 'inline', id: 'in-2' } });
          await assert.rejects(store.putVersion({ version: bad }));
          const badNew = objectVersion('b', 'k', {
            versionId: 'v2',
            size: 3,
            lastModified: 300,
            data: { kind: 'inline', id: 'in-3' },
          });
          await assert.rejects(store.putVersion({ version: badNew }));
          assert.deepEqual(store.getVersion('b', 'k'), v1);
          assert.deepEqual(store.getVersion('b', 'k', 'null'), v1);
          assert.equal(store.getVersion('b', 'k', 'v2'), undefined);
          assert.deepEqual(store.getInline('in-1'), Buffer.from('one'));
          assert.equal(store.getInline('in-2'), undefined);
          assert.equal(store.getInline('in-3'), undefined);
          assert.deepEqual(stackOf(store, 'b', 'k'), [v1]);
          assert.deepEqual(
            store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects.map((o) => o.versionId),
            ['null'],
          );
        }));

      it('a putVersion into a bucket deleted meanwhile is rejected and leaves nothing behind', () =>
        withBucket(async (store) => {
          const blobId = 'e'.repeat(32);
          const inline = objectVersion('b', 'k', { size: 2, data: { kind: 'inline', id: 'in-late' } });
          const blob = objectVersion('b', 'k2', { versionId: 'v1', size: 9, data: { kind: 'blob', id: blobId } });
          // Issued back to back: the delete is first in line, so both writes find the bucket gone.
          const deleted = store.deleteBucket('b');
          const writes = [
            store.putVersion({ version: inline, inline: Buffer.from('hi') }),
            store.putVersion({ version: blob }),
          ];
          assert.equal((await deleted).status, 'deleted');
          for (const w of writes) await assert.rejects(w, s3Error('NoSuchBucket'));
          assert.equal(store.getBucket('b'), undefined);
          assert.equal(store.getInline('in-late'), undefined);
          assert.equal(store.isBlobReferenced(blobId), false);
          assert.equal(await store.createBucket(bucketRecord('b')), true);
          assert.equal(store.getVersion('b', 'k'), undefined);
          assert.equal(store.getVersion('b', 'k2', 'v1'), undefined);
          assert.deepEqual(store.listVersions({ bucket: 'b', prefix: '', maxKeys: 10 }).entries, []);
          assert.deepEqual(store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects, []);
          assert.equal((await store.deleteBucket('b')).status, 'deleted', 'the recreated bucket is empty');
        }));

      it('orders a stack newest first by lastModified, then version id', () =>
        withBucket(async (store) => {
          const versions = [
            objectVersion('b', 'k', { versionId: 'B', lastModified: 20 }),
            objectVersion('b', 'k', { versionId: 'A', lastModified: 30 }),
            objectVersion('b', 'k', { versionId: 'C', lastModified: 20 }),
            objectVersion('b', 'k', { versionId: 'CA', lastModified: 20 }),
            objectVersion('b', 'k', { versionId: 'Z', lastModified: 10 }),
          ];
          for (const v of versions) await store.putVersion({ version: v });
          assert.deepEqual(
            stackOf(store, 'b', 'k').map((v) => v.versionId),
            ['A', 'CA', 'C', 'B', 'Z'],
          );
          assert.equal(store.getVersion('b', 'k')?.versionId, 'A');
        }));

      it('an older version arriving late does not become current', () =>
        withBucket(async (store) => {
          await store.putVersion({
            version: objectVersion('b', 'k', { versionId: 'new', lastModified: 200, etag: 'n' }),
          });
          await store.putVersion({
            version: objectVersion('b', 'k', { versionId: 'old', lastModified: 100, etag: 'o' }),
          });
          assert.equal(store.getVersion('b', 'k')?.versionId, 'new');
          assert.equal(store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects[0].etag, 'n');
        }));

      it('property: any insertion order gives the same stack and current version', async () => {
        const f = await make();
        let run = 0;
        try {
          await fc.assert(
            fc.asyncProperty(
              fc
                .uniqueArray(
                  fc.record({
                    versionId: versionIdArb,
                    lastModified: fc.integer({ min: 0, max: 3 }),
                    marker: fc.boolean(),
                  }),
                  { selector: (v) => v.versionId, minLength: 1, maxLength: 8 },
                )
                .chain((specs) =>
                  fc.tuple(
                    fc.constant(specs),
                    fc.shuffledSubarray(specs, { minLength: specs.length }),
                    fc.shuffledSubarray(specs, { minLength: specs.length }),
                  ),
                ),
              async ([specs, order1, order2]) => {
                run++;
                const stacks: ObjectVersion[][] = [];
                for (const [i, order] of [order1, order2].entries()) {
                  const bucket = `p${run}-${i}`;
                  await f.store.createBucket(bucketRecord(bucket));
                  for (const s of order) {
                    const v = objectVersion(bucket, 'key', {
                      versionId: s.versionId,
                      lastModified: s.lastModified,
                      isDeleteMarker: s.marker,
                    });
                    await f.store.putVersion({ version: v });
                  }
                  stacks.push(stackOf(f.store, bucket, 'key'));
                }
                const expected = specs
                  .map((s) => objectVersion('x', 'key', { versionId: s.versionId, lastModified: s.lastModified }))
                  .sort(stackOrder)
                  .map((v) => v.versionId);
                for (const [i, stack] of stacks.entries()) {
                  const bucket = `p${run}-${i}`;
                  assert.deepEqual(
                    stack.map((v) => v.versionId),
                    expected,
                  );
                  const top = specs.find((s) => s.versionId === expected[0])!;
                  assert.equal(f.store.getVersion(bucket, 'key')?.versionId, expected[0]);
                  const listed = f.store.listObjects({ bucket, prefix: '', maxKeys: 10 }).objects;
                  assert.deepEqual(
                    listed.map((v) => v.versionId),
                    top.marker ? [] : [expected[0]],
                  );
                }
              },
            ),
            { numRuns: 60 },
          );
        } finally {
          await f.cleanup();
        }
      });

      it('a version with an existing id replaces it and is reported as removed', () =>
        withBucket(async (store) => {
          const v1 = objectVersion('b', 'k', {
            size: 3,
            etag: 'e1',
            lastModified: 100,
            data: { kind: 'inline', id: 'in-1' },
          });
          const other = objectVersion('b', 'k', { versionId: 'keep', lastModified: 150 });
          const v2 = objectVersion('b', 'k', {
            size: 4,
            etag: 'e2',
            lastModified: 200,
            data: { kind: 'inline', id: 'in-2' },
          });
          assert.deepEqual((await store.putVersion({ version: v1, inline: Buffer.from('one') })).removed, []);
          await store.putVersion({ version: other });
          const { removed } = await store.putVersion({ version: v2, inline: Buffer.from('two!') });
          assert.deepEqual(removed, [v1]);
          assert.deepEqual(
            stackOf(store, 'b', 'k').map((v) => [v.versionId, v.etag]),
            [
              ['null', 'e2'],
              ['keep', 'd41d8cd98f00b204e9800998ecf8427e'],
            ],
          );
          assert.equal(store.getInline('in-1'), undefined, 'the replaced version took its inline bytes along');
          assert.deepEqual(store.getInline('in-2'), Buffer.from('two!'));
        }));

      it('a replacing version may be older than the one it replaces', () =>
        withBucket(async (store) => {
          await store.putVersion({ version: objectVersion('b', 'k', { lastModified: 300, etag: 'e1' }) });
          await store.putVersion({
            version: objectVersion('b', 'k', { versionId: 'v', lastModified: 200, etag: 'ev' }),
          });
          const { removed } = await store.putVersion({
            version: objectVersion('b', 'k', { lastModified: 100, etag: 'e2' }),
          });
          assert.deepEqual(
            removed.map((v) => v.etag),
            ['e1'],
          );
          assert.deepEqual(
            stackOf(store, 'b', 'k').map((v) => v.etag),
            ['ev', 'e2'],
          );
          assert.equal(store.getVersion('b', 'k')?.versionId, 'v');
          assert.equal(store.getVersion('b', 'k', 'null')?.etag, 'e2');
        }));

      it('a delete marker on top hides the key from listObjects but getVersion returns it', () =>
        withBucket(async (store) => {
          const v = objectVersion('b', 'k', { versionId: 'v1', lastModified: 10 });
          const m = deleteMarker('b', 'k', 'm1', 20);
          await store.putVersion({ version: v });
          await store.putVersion({ version: objectVersion('b', 'other', { lastModified: 10 }) });
          await store.putVersion({ version: m });
          assert.deepEqual(store.getVersion('b', 'k'), m);
          assert.deepEqual(store.getVersion('b', 'k', 'v1'), v);
          assert.deepEqual(
            store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects.map((o) => o.key),
            ['other'],
          );
          const versions = store.listVersions({ bucket: 'b', prefix: 'k', maxKeys: 10 }).entries;
          assert.deepEqual(
            versions.map((e) => [e.version.versionId, e.version.isDeleteMarker, e.isLatest]),
            [
              ['m1', true, true],
              ['v1', false, false],
            ],
          );
        }));

      it('a delete marker below a newer version hides nothing', () =>
        withBucket(async (store) => {
          await store.putVersion({ version: deleteMarker('b', 'k', 'm1', 10) });
          await store.putVersion({ version: objectVersion('b', 'k', { versionId: 'v1', lastModified: 20 }) });
          assert.equal(store.getVersion('b', 'k')?.versionId, 'v1');
          assert.deepEqual(
            store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects.map((o) => o.versionId),
            ['v1'],
          );
        }));

      it('deleteVersion removes one version and recomputes the current one', () =>
        withBucket(async (store) => {
          await store.putVersion({
            version: objectVersion('b', 'k', { versionId: 'v1', lastModified: 10, etag: 'e1' }),
          });
          await store.putVersion({
            version: objectVersion('b', 'k', { versionId: 'v2', lastModified: 20, etag: 'e2' }),
          });
          const m = deleteMarker('b', 'k', 'm3', 30);
          await store.putVersion({ version: m });
          const list = () => store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects.map((o) => o.etag);
          assert.deepEqual(list(), []);

          assert.deepEqual(await store.deleteVersion('b', 'k', 'm3'), { removed: m, freed: [] });
          assert.equal(store.getVersion('b', 'k')?.versionId, 'v2');
          assert.deepEqual(list(), ['e2']);

          assert.equal((await store.deleteVersion('b', 'k', 'v2')).removed?.etag, 'e2');
          assert.equal(store.getVersion('b', 'k')?.versionId, 'v1');
          assert.deepEqual(list(), ['e1']);

          assert.deepEqual(await store.deleteVersion('b', 'k', 'v2'), { freed: [] }, 'already gone');
          assert.deepEqual(await store.deleteVersion('b', 'nokey', 'v1'), { freed: [] });

          assert.equal((await store.deleteVersion('b', 'k', 'v1')).removed?.etag, 'e1');
          assert.equal(store.getVersion('b', 'k'), undefined);
          assert.deepEqual(list(), []);
          assert.deepEqual(store.listVersions({ bucket: 'b', prefix: '', maxKeys: 10 }).entries, []);
        }));

      it('deleting a version below the top leaves the current version alone', () =>
        withBucket(async (store) => {
          await store.putVersion({ version: objectVersion('b', 'k', { versionId: 'v1', lastModified: 10 }) });
          await store.putVersion({ version: deleteMarker('b', 'k', 'm2', 20) });
          await store.putVersion({ version: objectVersion('b', 'k', { versionId: 'v3', lastModified: 30 }) });
          await store.deleteVersion('b', 'k', 'm2');
          assert.equal(store.getVersion('b', 'k')?.versionId, 'v3');
          assert.deepEqual(
            stackOf(store, 'b', 'k').map((v) => v.versionId),
            ['v3', 'v1'],
          );
        }));

      it('inline bytes live exactly as long as their version', () =>
        withBucket(async (store) => {
          const bytes = Buffer.from([0, 1, 2, 255, 254]);
          assert.equal(store.getInline('in-a'), undefined);
          await store.putVersion({
            version: objectVersion('b', 'k', { versionId: 'v1', size: 5, data: { kind: 'inline', id: 'in-a' } }),
            inline: bytes,
          });
          assert.deepEqual(store.getInline('in-a'), bytes);
          await store.deleteVersion('b', 'k', 'v1');
          assert.equal(store.getInline('in-a'), undefined);
        }));

      it('blob references follow their versions', () =>
        withBucket(async (store) => {
          const a = 'a'.repeat(32);
          const c = 'c'.repeat(32);
          assert.equal(store.isBlobReferenced(a), false);
          await store.putVersion({ version: objectVersion('b', 'k', { size: 9, data: { kind: 'blob', id: a } }) });
          await store.putVersion({
            version: objectVersion('b', 'k2', { versionId: 'v', size: 9, data: { kind: 'blob', id: c } }),
          });
          assert.equal(store.isBlobReferenced(a), true);
          assert.equal(store.isBlobReferenced(c), true);
          // Replacing the null version drops its reference.
          const { removed, freed } = await store.putVersion({
            version: objectVersion('b', 'k', { lastModified: 2_000_000_000_000, size: 0 }),
          });
          assert.deepEqual(
            removed.map((v) => v.data),
            [{ kind: 'blob', id: a }],
          );
          assert.deepEqual(freed, [a], 'the displaced blob is reported freed');
          assert.equal(store.isBlobReferenced(a), false);
          assert.deepEqual((await store.deleteVersion('b', 'k2', 'v')).freed, [c]);
          assert.equal(store.isBlobReferenced(c), false);
        }));

      it('keeps keys that differ only in NUL, \\u0001 or astral characters apart', () =>
        withBucket(async (store) => {
          const keys = [
            'a',
            'a\u0000',
            'a\u0001',
            'a\u0000\u0001',
            'a\u0001\u0000',
            'a\u0002',
            'a\u{1F600}',
            'a\uFFFD',
          ];
          for (const [i, key] of keys.entries()) {
            await store.putVersion({ version: objectVersion('b', key, { etag: `e${i}` }) });
          }
          for (const [i, key] of keys.entries())
            assert.equal(store.getVersion('b', key)?.etag, `e${i}`, JSON.stringify(key));
          assert.deepEqual(
            store.listObjects({ bucket: 'b', prefix: '', maxKeys: 100 }).objects.map((o) => o.key),
            [...keys].sort(byteOrder),
          );
        }));

      it('persists buckets, versions, inline bytes and references across a reopen', () =>
        withStore(async (f) => {
          const record = bucketRecord('b', { versioning: 'Enabled' });
          await f.store.createBucket(record);
          const v1 = objectVersion('b', 'k', {
            versionId: 'v1',
            lastModified: 10,
            size: 2,
            data: { kind: 'inline', id: 'in-1' },
          });
          const v2 = objectVersion('b', 'k', {
            versionId: 'v2',
            lastModified: 20,
            size: 9,
            data: { kind: 'blob', id: 'b'.repeat(32) },
          });
          const m = deleteMarker('b', 'gone', 'm', 30);
          await f.store.putVersion({ version: v1, inline: Buffer.from('hi') });
          await f.store.putVersion({ version: v2 });
          await f.store.putVersion({ version: m });
          const store = await f.reopen();
          assert.deepEqual(store.getBucket('b'), record);
          assert.deepEqual(store.getVersion('b', 'k'), v2);
          assert.deepEqual(store.getVersion('b', 'k', 'v1'), v1);
          assert.deepEqual(store.getVersion('b', 'gone'), m);
          assert.deepEqual(store.getInline('in-1'), Buffer.from('hi'));
          assert.equal(store.isBlobReferenced('b'.repeat(32)), true);
          assert.deepEqual(
            store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects.map((o) => o.versionId),
            ['v2'],
          );
          assert.equal((await store.deleteBucket('b')).status, 'not-empty');
        }));
    });

    describe('listObjects', { concurrency: true }, () => {
      const KEYS = ['a', 'a/b', 'a/c', 'a/c/d', 'b', 'c/d/e', 'c/f', 'd'];

      async function withKeys(keys: readonly string[], fn: (store: MetaStore) => Promise<void> | void) {
        await withBucket(async (store) => {
          await Promise.all(
            keys.map((key) => store.putVersion({ version: objectVersion('b', key, { etag: `etag-${key}` }) })),
          );
          await fn(store);
        });
      }

      const list = (
        store: MetaStore,
        input: { prefix?: string; delimiter?: string; after?: string; maxKeys?: number },
      ) => {
        const r = store.listObjects({
          bucket: 'b',
          prefix: input.prefix ?? '',
          delimiter: input.delimiter,
          after: input.after,
          maxKeys: input.maxKeys ?? 1000,
        });
        return {
          keys: r.objects.map((o) => o.key),
          commonPrefixes: r.commonPrefixes,
          isTruncated: r.isTruncated,
          lastReturned: r.lastReturned,
        };
      };

      it('lists every current key in order with its version', () =>
        withKeys(KEYS, (store) => {
          const r = store.listObjects({ bucket: 'b', prefix: '', maxKeys: 1000 });
          assert.deepEqual(
            r.objects.map((o) => o.key),
            KEYS,
          );
          assert.deepEqual(
            r.objects.map((o) => o.etag),
            KEYS.map((k) => `etag-${k}`),
          );
          assert.deepEqual(r.commonPrefixes, []);
          assert.equal(r.isTruncated, false);
          assert.equal(r.lastReturned, undefined);
        }));

      it('filters by prefix', () =>
        withKeys(KEYS, (store) => {
          assert.deepEqual(list(store, { prefix: 'a/' }).keys, ['a/b', 'a/c', 'a/c/d']);
          assert.deepEqual(list(store, { prefix: 'a/c' }).keys, ['a/c', 'a/c/d']);
          assert.deepEqual(list(store, { prefix: 'zz' }).keys, []);
          assert.deepEqual(list(store, { prefix: 'd' }).keys, ['d']);
        }));

      it('rolls keys up into common prefixes at the delimiter', () =>
        withKeys(KEYS, (store) => {
          assert.deepEqual(list(store, { delimiter: '/' }), {
            keys: ['a', 'b', 'd'],
            commonPrefixes: ['a/', 'c/'],
            isTruncated: false,
            lastReturned: undefined,
          });
          assert.deepEqual(list(store, { prefix: 'a/', delimiter: '/' }), {
            keys: ['a/b', 'a/c'],
            commonPrefixes: ['a/c/'],
            isTruncated: false,
            lastReturned: undefined,
          });
          assert.deepEqual(list(store, { prefix: 'c', delimiter: '/' }).commonPrefixes, ['c/']);
        }));

      it('supports a multi-character delimiter', () =>
        withKeys(['x--y--z', 'x--y', 'x-y', 'x--'], (store) => {
          assert.deepEqual(list(store, { delimiter: '--' }), {
            keys: ['x-y'],
            commonPrefixes: ['x--'],
            isTruncated: false,
            lastReturned: undefined,
          });
          assert.deepEqual(list(store, { prefix: 'x--', delimiter: '--' }), {
            keys: ['x--', 'x--y'],
            commonPrefixes: ['x--y--'],
            isTruncated: false,
            lastReturned: undefined,
          });
        }));

      it('returns keys strictly after `after` (start-after)', () =>
        withKeys(KEYS, (store) => {
          assert.deepEqual(list(store, { after: 'a/c' }).keys, ['a/c/d', 'b', 'c/d/e', 'c/f', 'd']);
          assert.deepEqual(list(store, { after: 'a/bb' }).keys, ['a/c', 'a/c/d', 'b', 'c/d/e', 'c/f', 'd']);
          assert.deepEqual(list(store, { after: '' }).keys, KEYS);
          assert.deepEqual(list(store, { after: 'd' }).keys, []);
          assert.deepEqual(list(store, { after: 'zzz' }).keys, []);
        }));

      it('`after` outside the prefix range: before it lists everything, past it lists nothing', () =>
        withKeys(KEYS, (store) => {
          assert.deepEqual(list(store, { prefix: 'c/', after: 'b' }).keys, ['c/d/e', 'c/f']);
          assert.deepEqual(list(store, { prefix: 'a/', after: 'b' }), {
            keys: [],
            commonPrefixes: [],
            isTruncated: false,
            lastReturned: undefined,
          });
          assert.deepEqual(list(store, { prefix: 'a/', after: 'c' }).keys, []);
        }));

      it('does not repeat a common prefix at or before `after`', () =>
        withKeys(KEYS, (store) => {
          assert.deepEqual(list(store, { delimiter: '/', after: 'a/' }), {
            keys: ['b', 'd'],
            commonPrefixes: ['c/'],
            isTruncated: false,
            lastReturned: undefined,
          });
        }));

      it('maxKeys 0 answers an empty, untruncated page', () =>
        withKeys(KEYS, (store) => {
          assert.deepEqual(list(store, { maxKeys: 0 }), {
            keys: [],
            commonPrefixes: [],
            isTruncated: false,
            lastReturned: undefined,
          });
          assert.deepEqual(list(store, { maxKeys: 0, delimiter: '/' }).isTruncated, false);
        }));

      it('truncates at maxKeys, counting common prefixes, and reports the last entry returned', () =>
        withKeys(KEYS, (store) => {
          assert.deepEqual(list(store, { delimiter: '/', maxKeys: 2 }), {
            keys: ['a'],
            commonPrefixes: ['a/'],
            isTruncated: true,
            lastReturned: 'a/',
          });
          assert.deepEqual(list(store, { delimiter: '/', maxKeys: 2, after: 'a/' }), {
            keys: ['b'],
            commonPrefixes: ['c/'],
            isTruncated: true,
            lastReturned: 'c/',
          });
          assert.deepEqual(list(store, { delimiter: '/', maxKeys: 2, after: 'c/' }), {
            keys: ['d'],
            commonPrefixes: [],
            isTruncated: false,
            lastReturned: undefined,
          });
          assert.deepEqual(list(store, { maxKeys: 3 }), {
            keys: ['a', 'a/b', 'a/c'],
            commonPrefixes: [],
            isTruncated: true,
            lastReturned: 'a/c',
          });
        }));

      it('a page that holds exactly the remaining entries is not truncated', () =>
        withKeys(KEYS, (store) => {
          assert.equal(list(store, { maxKeys: KEYS.length }).isTruncated, false);
          assert.equal(list(store, { maxKeys: KEYS.length - 1 }).isTruncated, true);
          assert.equal(list(store, { delimiter: '/', maxKeys: 5 }).isTruncated, false);
        }));

      it('orders by UTF-8 bytes, not UTF-16 code units', () =>
        withKeys(['\u{1F600}', '\uFFFD', 'z', '\u{10000}/x', '\uE000'], (store) => {
          assert.deepEqual(list(store, {}).keys, ['z', '\uE000', '\uFFFD', '\u{10000}/x', '\u{1F600}']);
          assert.deepEqual(list(store, { after: '\uFFFD' }).keys, ['\u{10000}/x', '\u{1F600}']);
          assert.deepEqual(list(store, { delimiter: '/', after: '\uFFFD', maxKeys: 1 }), {
            keys: [],
            commonPrefixes: ['\u{10000}/'],
            isTruncated: true,
            lastReturned: '\u{10000}/',
          });
        }));

      it('pages past keys whose astral characters share a UTF-16 high surrogate', () =>
        withKeys(['photo-😀.jpg', 'photo-😁.jpg', '\u{10000}x', '\u{10001}'], (store) => {
          assert.deepEqual(list(store, {}).keys, ['photo-😀.jpg', 'photo-😁.jpg', '\u{10000}x', '\u{10001}']);
          const p1 = list(store, { maxKeys: 1 });
          assert.deepEqual(p1, {
            keys: ['photo-😀.jpg'],
            commonPrefixes: [],
            isTruncated: true,
            lastReturned: 'photo-😀.jpg',
          });
          const p2 = list(store, { maxKeys: 1, after: p1.lastReturned });
          assert.deepEqual(p2.keys, ['photo-😁.jpg']);
          assert.deepEqual(list(store, { maxKeys: 1, after: p2.lastReturned }).keys, ['\u{10000}x']);
          assert.deepEqual(list(store, { after: '\u{10000}x' }).keys, ['\u{10001}']);
          assert.deepEqual(list(store, { after: '\u{10001}' }).keys, []);
          assert.deepEqual(list(store, { prefix: 'photo-', after: 'photo-😀' }).keys, ['photo-😀.jpg', 'photo-😁.jpg']);
          assert.deepEqual(list(store, { delimiter: '.', after: 'photo-😀.' }), {
            keys: ['\u{10000}x', '\u{10001}'],
            commonPrefixes: ['photo-😁.'],
            isTruncated: false,
            lastReturned: undefined,
          });
        }));

      it('handles NUL and \\u0001 in keys, prefixes and delimiters', () =>
        withKeys(['a', 'a\u0000', 'a\u0000b', 'a\u0001', 'a\u0001\u0000c', 'ab'], (store) => {
          assert.deepEqual(list(store, {}).keys, ['a', 'a\u0000', 'a\u0000b', 'a\u0001', 'a\u0001\u0000c', 'ab']);
          assert.deepEqual(list(store, { prefix: 'a\u0000' }).keys, ['a\u0000', 'a\u0000b']);
          assert.deepEqual(list(store, { prefix: 'a\u0001' }).keys, ['a\u0001', 'a\u0001\u0000c']);
          assert.deepEqual(list(store, { delimiter: '\u0000' }), {
            keys: ['a', 'a\u0001', 'ab'],
            commonPrefixes: ['a\u0000', 'a\u0001\u0000'],
            isTruncated: false,
            lastReturned: undefined,
          });
          assert.deepEqual(list(store, { after: 'a\u0000' }).keys, ['a\u0000b', 'a\u0001', 'a\u0001\u0000c', 'ab']);
        }));

      it('property: every page equals the reference listing, and paging visits each entry once', async () => {
        const f = await make();
        let run = 0;
        try {
          await fc.assert(
            fc.asyncProperty(
              fc.uniqueArray(keyArb, { maxLength: 24 }).chain((keys) =>
                fc.record({
                  keys: fc.constant(keys),
                  prefix: prefixArb(keys),
                  delimiter: delimiterArb,
                  after: fc.option(prefixArb(keys), { nil: undefined }),
                  maxKeys: fc.integer({ min: 0, max: 6 }),
                  pageSize: fc.integer({ min: 1, max: 5 }),
                }),
              ),
              async ({ keys, prefix, delimiter, after, maxKeys, pageSize }) => {
                const bucket = `l${++run}`;
                await f.store.createBucket(bucketRecord(bucket));
                await Promise.all(keys.map((key) => f.store.putVersion({ version: objectVersion(bucket, key) })));
                const listPage = (a: string | undefined, n: number): ModelPage => {
                  const r = f.store.listObjects({ bucket, prefix, delimiter, after: a, maxKeys: n });
                  return {
                    objects: r.objects.map((o) => o.key),
                    commonPrefixes: r.commonPrefixes,
                    isTruncated: r.isTruncated,
                    lastReturned: r.lastReturned,
                  };
                };

                assert.deepEqual(
                  listPage(after, maxKeys),
                  modelListObjects(keys, { prefix, delimiter, after, maxKeys }),
                );

                const seen: string[] = [];
                let cursor = after;
                for (let pages = 0; ; pages++) {
                  assert.ok(pages <= keys.length + 1, 'paging does not terminate');
                  const page = listPage(cursor, pageSize);
                  assert.deepEqual(
                    page,
                    modelListObjects(keys, { prefix, delimiter, after: cursor, maxKeys: pageSize }),
                  );
                  seen.push(...page.objects, ...page.commonPrefixes);
                  if (!page.isTruncated) break;
                  cursor = page.lastReturned;
                }
                const all = modelListObjects(keys, { prefix, delimiter, after, maxKeys: 100_000 });
                assert.deepEqual(seen.sort(byteOrder), [...all.objects, ...all.commonPrefixes].sort(byteOrder));
              },
            ),
            { numRuns: 150 },
          );
        } finally {
          await f.cleanup();
        }
      });
    });

    describe('listVersions', { concurrency: true }, () => {
      /** k1: v1 < v2 < m3(marker); k2: v1; k3/x: v1, v2; k3/y: m1 */
      async function withVersions(fn: (store: MetaStore) => void): Promise<void> {
        await withBucket(async (store) => {
          const writes = [
            objectVersion('b', 'k1', { versionId: 'v1', lastModified: 10 }),
            objectVersion('b', 'k1', { versionId: 'v2', lastModified: 20 }),
            deleteMarker('b', 'k1', 'm3', 30),
            objectVersion('b', 'k2', { versionId: 'v1', lastModified: 10 }),
            objectVersion('b', 'k3/x', { versionId: 'v1', lastModified: 10 }),
            objectVersion('b', 'k3/x', { versionId: 'v2', lastModified: 40 }),
            deleteMarker('b', 'k3/y', 'm1', 10),
          ];
          for (const version of writes) await store.putVersion({ version });
          fn(store);
        });
      }

      const entries = (
        store: MetaStore,
        input: { prefix?: string; delimiter?: string; keyMarker?: string; versionIdMarker?: string; maxKeys?: number },
      ) => {
        const r = store.listVersions({
          bucket: 'b',
          prefix: input.prefix ?? '',
          delimiter: input.delimiter,
          keyMarker: input.keyMarker,
          versionIdMarker: input.versionIdMarker,
          maxKeys: input.maxKeys ?? 1000,
        });
        return {
          entries: r.entries.map(
            (e) =>
              `${e.version.key}@${e.version.versionId}${e.version.isDeleteMarker ? '(dm)' : ''}${e.isLatest ? '*' : ''}`,
          ),
          commonPrefixes: r.commonPrefixes,
          isTruncated: r.isTruncated,
          nextKeyMarker: r.nextKeyMarker,
          nextVersionIdMarker: r.nextVersionIdMarker,
        };
      };

      it('lists every version and delete marker, newest first per key, flagging the latest', () =>
        withVersions((store) => {
          assert.deepEqual(entries(store, {}), {
            entries: ['k1@m3(dm)*', 'k1@v2', 'k1@v1', 'k2@v1*', 'k3/x@v2*', 'k3/x@v1', 'k3/y@m1(dm)*'],
            commonPrefixes: [],
            isTruncated: false,
            nextKeyMarker: undefined,
            nextVersionIdMarker: undefined,
          });
        }));

      it('filters by prefix and rolls up common prefixes', () =>
        withVersions((store) => {
          assert.deepEqual(entries(store, { prefix: 'k3/' }).entries, ['k3/x@v2*', 'k3/x@v1', 'k3/y@m1(dm)*']);
          const rolled = entries(store, { delimiter: '/' });
          assert.deepEqual(rolled.entries, ['k1@m3(dm)*', 'k1@v2', 'k1@v1', 'k2@v1*']);
          assert.deepEqual(rolled.commonPrefixes, ['k3/']);
        }));

      it('pages with key and version-id markers without losing or repeating a version', () =>
        withVersions((store) => {
          const p1 = entries(store, { maxKeys: 2 });
          assert.deepEqual(p1, {
            entries: ['k1@m3(dm)*', 'k1@v2'],
            commonPrefixes: [],
            isTruncated: true,
            nextKeyMarker: 'k1',
            nextVersionIdMarker: 'v2',
          });
          const p2 = entries(store, { maxKeys: 2, keyMarker: 'k1', versionIdMarker: 'v2' });
          assert.deepEqual(p2, {
            entries: ['k1@v1', 'k2@v1*'],
            commonPrefixes: [],
            isTruncated: true,
            nextKeyMarker: 'k2',
            nextVersionIdMarker: 'v1',
          });
          const p3 = entries(store, { maxKeys: 2, keyMarker: 'k2', versionIdMarker: 'v1' });
          assert.deepEqual(p3.entries, ['k3/x@v2*', 'k3/x@v1']);
          assert.equal(p3.isTruncated, true);
          const p4 = entries(store, {
            maxKeys: 2,
            keyMarker: p3.nextKeyMarker,
            versionIdMarker: p3.nextVersionIdMarker,
          });
          assert.deepEqual(p4.entries, ['k3/y@m1(dm)*']);
          assert.equal(p4.isTruncated, false);
        }));

      it('a key marker alone starts after every version of that key', () =>
        withVersions((store) => {
          assert.deepEqual(entries(store, { keyMarker: 'k1' }).entries, [
            'k2@v1*',
            'k3/x@v2*',
            'k3/x@v1',
            'k3/y@m1(dm)*',
          ]);
          assert.deepEqual(entries(store, { keyMarker: 'k0' }).entries.length, 7);
          assert.deepEqual(entries(store, { keyMarker: 'k3/y' }).entries, []);
        }));

      it('a common prefix counts toward maxKeys and becomes the next key marker', () =>
        withVersions((store) => {
          const p1 = entries(store, { delimiter: '/', maxKeys: 4 });
          assert.deepEqual(p1.entries, ['k1@m3(dm)*', 'k1@v2', 'k1@v1', 'k2@v1*']);
          assert.equal(p1.isTruncated, true);
          const p2 = entries(store, { delimiter: '/', maxKeys: 1, keyMarker: 'k2', versionIdMarker: 'v1' });
          assert.deepEqual(p2, {
            entries: [],
            commonPrefixes: ['k3/'],
            isTruncated: false,
            nextKeyMarker: undefined,
            nextVersionIdMarker: undefined,
          });
          const p3 = entries(store, { delimiter: '/', maxKeys: 1, keyMarker: 'k3/' });
          assert.deepEqual(p3.entries, []);
          assert.deepEqual(p3.commonPrefixes, []);
        }));

      it('maxKeys 0 answers an empty, untruncated page', () =>
        withVersions((store) => {
          const r = entries(store, { maxKeys: 0 });
          assert.deepEqual(r.entries, []);
          assert.equal(r.isTruncated, false);
        }));

      it('property: paging through versions equals the reference listing', async () => {
        const f = await make();
        let run = 0;
        try {
          await fc.assert(
            fc.asyncProperty(
              fc.uniqueArray(keyArb, { minLength: 0, maxLength: 8 }).chain((keys) =>
                fc.record({
                  keys: fc.constant(keys),
                  stacks: fc.array(
                    fc.uniqueArray(
                      fc.record({
                        versionId: versionIdArb,
                        lastModified: fc.integer({ min: 0, max: 2 }),
                        marker: fc.boolean(),
                      }),
                      { selector: (v) => v.versionId, minLength: 1, maxLength: 3 },
                    ),
                    { minLength: keys.length, maxLength: keys.length },
                  ),
                  prefix: prefixArb(keys),
                  delimiter: delimiterArb,
                  pageSize: fc.integer({ min: 1, max: 4 }),
                }),
              ),
              async ({ keys, stacks, prefix, delimiter, pageSize }) => {
                const bucket = `v${++run}`;
                await f.store.createBucket(bucketRecord(bucket));
                const versions = keys.flatMap((key, i) =>
                  stacks[i].map((s) =>
                    s.marker
                      ? deleteMarker(bucket, key, s.versionId, s.lastModified)
                      : objectVersion(bucket, key, { versionId: s.versionId, lastModified: s.lastModified }),
                  ),
                );
                for (const version of versions) await f.store.putVersion({ version });
                const expected = modelVersionItems(versions, prefix, delimiter);

                const seen: VersionItem[] = [];
                let keyMarker: string | undefined;
                let versionIdMarker: string | undefined;
                for (let pages = 0; ; pages++) {
                  assert.ok(pages <= expected.length + 1, 'paging does not terminate');
                  const r = f.store.listVersions({
                    bucket,
                    prefix,
                    delimiter,
                    keyMarker,
                    versionIdMarker,
                    maxKeys: pageSize,
                  });
                  const items: VersionItem[] = [];
                  // Entries and prefixes come in two arrays; merge them back into listing order.
                  for (const e of r.entries) {
                    items.push({
                      kind: 'version',
                      key: e.version.key,
                      versionId: e.version.versionId,
                      isLatest: e.isLatest,
                      isDeleteMarker: e.version.isDeleteMarker,
                    });
                  }
                  for (const p of r.commonPrefixes) items.push({ kind: 'prefix', prefix: p });
                  const want = expected.slice(seen.length, seen.length + pageSize);
                  const sortKey = (it: VersionItem) => (it.kind === 'prefix' ? it.prefix : it.key);
                  const merged = [...items].sort((a, b) => byteOrder(sortKey(a), sortKey(b)));
                  assert.deepEqual(merged, want);
                  seen.push(...want);
                  assert.equal(r.isTruncated, seen.length < expected.length);
                  if (!r.isTruncated) {
                    assert.equal(r.nextKeyMarker, undefined);
                    break;
                  }
                  const last = want[want.length - 1];
                  assert.equal(r.nextKeyMarker, sortKey(last));
                  assert.equal(r.nextVersionIdMarker, last.kind === 'version' ? last.versionId : undefined);
                  keyMarker = r.nextKeyMarker;
                  versionIdMarker = r.nextVersionIdMarker;
                }
                assert.equal(seen.length, expected.length);
              },
            ),
            { numRuns: 80 },
          );
        } finally {
          await f.cleanup();
        }
      });
    });

    describe('listing parameters longer than any key', { concurrency: true }, () => {
      // Keys are at most 1024 bytes; LMDB keys end at 1978. Requests may still name more.
      const a1024 = 'a'.repeat(1024);
      const a1000b = `${'a'.repeat(1000)}b`;
      const e512 = 'é'.repeat(512);
      const KEYS = [a1024, a1000b, e512, 'b', 'c'];
      async function withLongKeys(fn: (store: MetaStore) => Promise<void> | void): Promise<void> {
        await withBucket(async (store) => {
          for (const key of KEYS) {
            await store.putVersion({ version: objectVersion('b', key, { versionId: 'v1' }) });
            await store.createUpload(uploadRecord('b', key, 'u1'));
          }
          await fn(store);
        });
      }

      it('a prefix longer than a key matches nothing', () =>
        withLongKeys((store) => {
          const prefix = 'a'.repeat(3000);
          assert.deepEqual(store.listObjects({ bucket: 'b', prefix, maxKeys: 10 }).objects, []);
          assert.deepEqual(store.listVersions({ bucket: 'b', prefix, maxKeys: 10 }).entries, []);
          assert.deepEqual(store.listUploads({ bucket: 'b', prefix, maxUploads: 10 }).uploads, []);
        }));

      it('a marker longer than a key lists exactly the keys that sort after it', () =>
        withLongKeys((store) => {
          for (const marker of ['a'.repeat(1500), 'a'.repeat(3000), 'é'.repeat(700), `${'a'.repeat(1000)}b${'z'.repeat(2000)}`]) {
            const after = KEYS.filter((k) => byteOrder(k, marker) > 0).sort(byteOrder);
            const objects = store.listObjects({ bucket: 'b', prefix: '', after: marker, maxKeys: 10 }).objects.map((o) => o.key);
            assert.deepEqual(objects, after, `objects after ${marker.slice(0, 8)}… (${Buffer.byteLength(marker)} bytes)`);
            const versions = store.listVersions({ bucket: 'b', prefix: '', keyMarker: marker, maxKeys: 10 }).entries.map((e) => e.version.key);
            assert.deepEqual(versions, after, 'versions');
            const uploads = store.listUploads({ bucket: 'b', prefix: '', keyMarker: marker, uploadIdMarker: 'u1', maxUploads: 10 }).uploads.map((u) => u.key);
            assert.deepEqual(uploads, after, 'uploads');
          }
        }));
    });

    describe('multipart uploads', { concurrency: true }, () => {
      it('createUpload into a missing bucket is NoSuchBucket and stores nothing', () =>
        withStore(async ({ store }) => {
          await assert.rejects(store.createUpload(uploadRecord('nope', 'k', 'u1')), s3Error('NoSuchBucket'));
          assert.equal(store.getUpload('nope', 'k', 'u1'), undefined);
          await store.createBucket(bucketRecord('nope'));
          assert.equal(store.getUpload('nope', 'k', 'u1'), undefined);
          assert.deepEqual(store.listUploads({ bucket: 'nope', prefix: '', maxUploads: 10 }).uploads, []);
        }));

      it('getUpload reads an upload back by bucket, key and id, and nothing else', () =>
        withBucket(async (store) => {
          await store.createBucket(bucketRecord('other'));
          const u = uploadRecord('b', 'dir/k', 'u1', {
            contentType: 'text/plain',
            cacheControl: 'no-cache',
            userMetadata: { color: 'blue' },
            checksum: { algorithm: 'CRC32C', type: 'COMPOSITE' },
            tags: [{ key: 't', value: 'v' }],
            acl: PUBLIC_READ,
            storageClass: 'STANDARD_IA',
          });
          await store.createUpload(u);
          assert.deepEqual(store.getUpload('b', 'dir/k', 'u1'), u);
          assert.equal(store.getUpload('b', 'dir/k', 'u2'), undefined);
          assert.equal(store.getUpload('b', 'dir/k2', 'u1'), undefined);
          assert.equal(store.getUpload('b', 'dir', 'u1'), undefined);
          assert.equal(store.getUpload('other', 'dir/k', 'u1'), undefined);
          assert.equal(store.getVersion('b', 'dir/k'), undefined, 'an upload is not a version');
          assert.deepEqual(store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects, []);
          assert.equal((await store.deleteBucket('other')).status, 'deleted');
        }));

      it('putPart adds and replaces parts, reports the replaced blob freed and keeps blob references right', () =>
        withBucket(async (store) => {
          await store.createUpload(uploadRecord('b', 'k', 'u1'));
          assert.deepEqual(await store.putPart('b', 'k', 'u1', partRecord(1, 'blob-a')), { freed: [] });
          assert.deepEqual(await store.putPart('b', 'k', 'u1', partRecord(2, 'blob-x')), { freed: [] });
          assert.equal(store.isBlobReferenced('blob-a'), true);
          const replacement = partRecord(1, 'blob-b', { size: 5 });
          assert.deepEqual(await store.putPart('b', 'k', 'u1', replacement), { freed: ['blob-a'] });
          assert.equal(store.isBlobReferenced('blob-a'), false);
          assert.equal(store.isBlobReferenced('blob-b'), true);
          assert.equal(store.isBlobReferenced('blob-x'), true, 'other parts keep theirs');
          assert.deepEqual(partsOf(store, 'u1'), [replacement, partRecord(2, 'blob-x')]);
          // An empty part has no blob: replacing with one frees, replacing one frees nothing.
          assert.deepEqual(await store.putPart('b', 'k', 'u1', partRecord(1, undefined)), { freed: ['blob-b'] });
          assert.equal(store.isBlobReferenced('blob-b'), false);
          assert.deepEqual(await store.putPart('b', 'k', 'u1', partRecord(1, 'blob-c')), { freed: [] });
          assert.equal(store.isBlobReferenced('blob-c'), true);
          assert.deepEqual(partsOf(store, 'u1'), [partRecord(1, 'blob-c'), partRecord(2, 'blob-x')]);
        }));

      it('putPart of the same part again (a replayed write) frees nothing and keeps its blob', () =>
        withBucket(async (store) => {
          await store.createUpload(uploadRecord('b', 'k', 'u1'));
          await store.putPart('b', 'k', 'u1', partRecord(1, 'blob-1'));
          assert.deepEqual(await store.putPart('b', 'k', 'u1', partRecord(1, 'blob-1')), { freed: [] });
          assert.equal(store.isBlobReferenced('blob-1'), true);
        }));

      it('listParts with maxParts 0 is an empty page that is not truncated', () =>
        withBucket(async (store) => {
          await store.createUpload(uploadRecord('b', 'k', 'u1'));
          await store.putPart('b', 'k', 'u1', partRecord(1, 'blob-1'));
          assert.deepEqual(store.listParts('u1', 0, 0), { parts: [], isTruncated: false });
        }));

      it('putPart to a missing, aborted or completed upload is NoSuchUpload and references nothing', () =>
        withBucket(async (store) => {
          await assert.rejects(
            store.putPart('b', 'k', 'never', partRecord(1, 'blob-1')),
            (err) =>
              s3Error('NoSuchUpload')(err) && (err as { fields: Record<string, string> }).fields.UploadId === 'never',
          );
          await store.createUpload(uploadRecord('b', 'k', 'u1'));
          await assert.rejects(store.putPart('b', 'other-key', 'u1', partRecord(1, 'blob-1')), s3Error('NoSuchUpload'));
          await store.abortUpload('b', 'k', 'u1');
          await assert.rejects(store.putPart('b', 'k', 'u1', partRecord(1, 'blob-2')), s3Error('NoSuchUpload'));
          await store.createUpload(uploadRecord('b', 'k', 'u2'));
          await store.putPart('b', 'k', 'u2', partRecord(1, 'blob-3'));
          await complete(store, uploadRecord('b', 'k', 'u2'), { manifest: 'm-2' });
          await assert.rejects(store.putPart('b', 'k', 'u2', partRecord(2, 'blob-4')), s3Error('NoSuchUpload'));
          await assert.rejects(store.putPart('b', 'k', 'u2', partRecord(1, 'blob-5')), s3Error('NoSuchUpload'));
          for (const blob of ['blob-1', 'blob-2', 'blob-4', 'blob-5'])
            assert.equal(store.isBlobReferenced(blob), false, blob);
          assert.equal(store.isBlobReferenced('blob-3'), true, 'the completed object keeps its part');
          assert.deepEqual(store.getManifest('m-2'), [partRecord(1, 'blob-3')]);
          assert.deepEqual(partsOf(store, 'u1'), []);
          assert.deepEqual(partsOf(store, 'u2'), []);
        }));

      it('listParts pages by part number with `after` and maxParts', () =>
        withBucket(async (store) => {
          await store.createUpload(uploadRecord('b', 'k', 'u1'));
          await store.createUpload(uploadRecord('b', 'k', 'u10'));
          for (const n of [8, 1, 10_000, 3, 2, 5]) await store.putPart('b', 'k', 'u1', partRecord(n, `p${n}`));
          await store.putPart('b', 'k', 'u10', partRecord(4, 'other'));
          const page = (after: number, max: number) => {
            const r = store.listParts('u1', after, max);
            return { numbers: r.parts.map((p) => p.partNumber), isTruncated: r.isTruncated };
          };
          assert.deepEqual(page(0, 1000), { numbers: [1, 2, 3, 5, 8, 10_000], isTruncated: false });
          assert.deepEqual(page(0, 2), { numbers: [1, 2], isTruncated: true });
          assert.deepEqual(page(2, 2), { numbers: [3, 5], isTruncated: true });
          assert.deepEqual(page(5, 2), { numbers: [8, 10_000], isTruncated: false }, 'exactly the rest: not truncated');
          assert.deepEqual(page(4, 1), { numbers: [5], isTruncated: true }, '`after` need not be a stored part');
          assert.deepEqual(page(10_000, 5), { numbers: [], isTruncated: false });
          assert.deepEqual(store.listParts('u1', 7, 1).parts, [partRecord(8, 'p8')]);
          assert.deepEqual(page(0, 6), { numbers: [1, 2, 3, 5, 8, 10_000], isTruncated: false });
          assert.deepEqual(page(0, 5), { numbers: [1, 2, 3, 5, 8], isTruncated: true });
          assert.deepEqual(store.listParts('u10', 0, 10).parts, [partRecord(4, 'other')], 'uploads do not share parts');
          assert.deepEqual(store.listParts('missing', 0, 10), { parts: [], isTruncated: false });
        }));

      describe('listUploads', { concurrency: true }, () => {
        /** Created out of order on purpose. */
        const UPLOADS: [string, string][] = [
          ['photos/2024/b.jpg', 'u5'],
          ['a', 'u9'],
          ['photos/2024/a.jpg', 'u2'],
          ['a', 'u1'],
          ['b', 'u3'],
          ['a/x', 'u4'],
          ['photos/2025/c.jpg', 'u6'],
          ['a', 'u10'],
          ['photos/readme', 'u7'],
          ['b\u0000', 'u8'],
        ];
        /** Key order (UTF-8 bytes), then upload id order. */
        const SORTED = [...UPLOADS].sort(([k1, u1], [k2, u2]) => byteOrder(k1, k2) || byteOrder(u1, u2));

        async function withUploads(fn: (store: MetaStore) => void): Promise<void> {
          await withBucket(async (store) => {
            await store.createBucket(bucketRecord('b2'));
            await store.createUpload(uploadRecord('b2', 'a', 'other-bucket'));
            for (const [key, id] of UPLOADS) await store.createUpload(uploadRecord('b', key, id));
            fn(store);
          });
        }
        const pairs = (r: ListUploadsResult) => r.uploads.map((u) => [u.key, u.uploadId]);

        it('lists by key, then upload id, with the records as created', () =>
          withUploads((store) => {
            const r = store.listUploads({ bucket: 'b', prefix: '', maxUploads: 1000 });
            assert.deepEqual(pairs(r), SORTED);
            assert.deepEqual(SORTED.slice(0, 4), [
              ['a', 'u1'],
              ['a', 'u10'],
              ['a', 'u9'],
              ['a/x', 'u4'],
            ]);
            assert.deepEqual(r.uploads[0], uploadRecord('b', 'a', 'u1'));
            assert.equal(r.isTruncated, false);
            assert.equal(r.nextKeyMarker, undefined);
            assert.equal(r.nextUploadIdMarker, undefined);
            assert.deepEqual(r.commonPrefixes, []);
          }));

        it('filters by prefix', () =>
          withUploads((store) => {
            assert.deepEqual(pairs(store.listUploads({ bucket: 'b', prefix: 'photos/2024/', maxUploads: 1000 })), [
              ['photos/2024/a.jpg', 'u2'],
              ['photos/2024/b.jpg', 'u5'],
            ]);
            assert.deepEqual(
              pairs(store.listUploads({ bucket: 'b', prefix: 'a', maxUploads: 1000 })),
              SORTED.filter(([k]) => k.startsWith('a')),
            );
            assert.deepEqual(pairs(store.listUploads({ bucket: 'b', prefix: 'zzz', maxUploads: 1000 })), []);
          }));

        it('rolls keys up into common prefixes at the delimiter', () =>
          withUploads((store) => {
            const top = store.listUploads({ bucket: 'b', prefix: '', delimiter: '/', maxUploads: 1000 });
            assert.deepEqual(pairs(top), [
              ['a', 'u1'],
              ['a', 'u10'],
              ['a', 'u9'],
              ['b', 'u3'],
              ['b\u0000', 'u8'],
            ]);
            assert.deepEqual(top.commonPrefixes, ['a/', 'photos/']);
            const photos = store.listUploads({ bucket: 'b', prefix: 'photos/', delimiter: '/', maxUploads: 1000 });
            assert.deepEqual(pairs(photos), [['photos/readme', 'u7']]);
            assert.deepEqual(photos.commonPrefixes, ['photos/2024/', 'photos/2025/']);
          }));

        it('a key marker alone starts after every upload of that key', () =>
          withUploads((store) => {
            assert.deepEqual(
              pairs(store.listUploads({ bucket: 'b', prefix: '', keyMarker: 'a', maxUploads: 1000 })),
              SORTED.filter(([k]) => byteOrder(k, 'a') > 0),
            );
            assert.deepEqual(
              pairs(store.listUploads({ bucket: 'b', prefix: '', keyMarker: 'photos/2024/a.jpg', maxUploads: 1000 })),
              SORTED.filter(([k]) => byteOrder(k, 'photos/2024/a.jpg') > 0),
            );
            // A marker that is not a key with uploads works too.
            assert.deepEqual(
              pairs(store.listUploads({ bucket: 'b', prefix: '', keyMarker: 'ab', maxUploads: 1000 })),
              SORTED.filter(([k]) => byteOrder(k, 'ab') > 0),
            );
            const rolled = store.listUploads({
              bucket: 'b',
              prefix: '',
              delimiter: '/',
              keyMarker: 'a/',
              maxUploads: 1000,
            });
            assert.deepEqual(rolled.commonPrefixes, ['photos/'], 'a prefix at or before the marker is not repeated');
            // A marker outside the prefix: before it lists everything, past it lists nothing.
            assert.deepEqual(
              pairs(store.listUploads({ bucket: 'b', prefix: 'photos/', keyMarker: 'b', maxUploads: 1000 })),
              SORTED.filter(([k]) => k.startsWith('photos/')),
            );
            assert.deepEqual(
              pairs(
                store.listUploads({ bucket: 'b', prefix: 'a', keyMarker: 'b', uploadIdMarker: 'u3', maxUploads: 1000 }),
              ),
              [],
            );
            assert.deepEqual(
              pairs(store.listUploads({ bucket: 'b', prefix: 'a', keyMarker: 'zz', maxUploads: 1000 })),
              [],
            );
          }));

        it('a key and upload-id marker continues after that upload of that key', () =>
          withUploads((store) => {
            const after = (keyMarker: string, uploadIdMarker: string) =>
              pairs(store.listUploads({ bucket: 'b', prefix: '', keyMarker, uploadIdMarker, maxUploads: 1000 }));
            assert.deepEqual(after('a', 'u1'), SORTED.slice(1));
            assert.deepEqual(after('a', 'u10'), SORTED.slice(2));
            assert.deepEqual(after('a', 'u9'), SORTED.slice(3));
            assert.deepEqual(after('a', 'u2'), SORTED.slice(2), 'an id marker that is not an upload: ids above it');
          }));

        it('truncates at maxUploads, counting common prefixes, and names the next markers', () =>
          withUploads((store) => {
            const p1 = store.listUploads({ bucket: 'b', prefix: '', maxUploads: 2 });
            assert.deepEqual(pairs(p1), SORTED.slice(0, 2));
            assert.equal(p1.isTruncated, true);
            assert.equal(p1.nextKeyMarker, 'a');
            assert.equal(p1.nextUploadIdMarker, 'u10');
            const p2 = store.listUploads({
              bucket: 'b',
              prefix: '',
              keyMarker: p1.nextKeyMarker,
              uploadIdMarker: p1.nextUploadIdMarker,
              maxUploads: 2,
            });
            assert.deepEqual(pairs(p2), SORTED.slice(2, 4));

            const d1 = store.listUploads({ bucket: 'b', prefix: '', delimiter: '/', maxUploads: 4 });
            assert.deepEqual(pairs(d1), SORTED.slice(0, 3));
            assert.deepEqual(d1.commonPrefixes, ['a/']);
            assert.equal(d1.isTruncated, true);
            assert.equal(d1.nextKeyMarker, 'a/');
            assert.equal(d1.nextUploadIdMarker, undefined, 'a common prefix has no upload id');
            const d2 = store.listUploads({ bucket: 'b', prefix: '', delimiter: '/', keyMarker: 'a/', maxUploads: 4 });
            assert.deepEqual(pairs(d2), [
              ['b', 'u3'],
              ['b\u0000', 'u8'],
            ]);
            assert.deepEqual(d2.commonPrefixes, ['photos/']);
            assert.equal(d2.isTruncated, false, 'exactly the rest: not truncated');
            assert.equal(d2.nextKeyMarker, undefined);

            const none = store.listUploads({ bucket: 'b', prefix: '', maxUploads: 0 });
            assert.deepEqual(
              [none.uploads, none.commonPrefixes, none.isTruncated, none.nextKeyMarker, none.nextUploadIdMarker],
              [[], [], false, undefined, undefined],
              'maxUploads 0 answers an empty, untruncated page',
            );
          }));

        it('property: paging with the returned markers yields exactly the full sorted listing', async () => {
          const f = await make();
          let run = 0;
          try {
            await fc.assert(
              fc.asyncProperty(
                fc
                  .uniqueArray(fc.tuple(keyArb, versionIdArb), {
                    maxLength: 20,
                    selector: ([k, u]) => `${k}\u0000${u}`,
                  })
                  .chain((uploads) =>
                    fc.record({
                      uploads: fc.constant(uploads),
                      prefix: prefixArb(uploads.map(([k]) => k)),
                      delimiter: delimiterArb,
                      pageSize: fc.integer({ min: 1, max: 5 }),
                    }),
                  ),
                async ({ uploads, prefix, delimiter, pageSize }) => {
                  const bucket = `u${++run}`;
                  await f.store.createBucket(bucketRecord(bucket));
                  await Promise.all(uploads.map(([key, id]) => f.store.createUpload(uploadRecord(bucket, key, id))));
                  const expected = modelUploadItems(
                    uploads.map(([key, uploadId]) => ({ key, uploadId })),
                    prefix,
                    delimiter,
                  );
                  assert.deepEqual(
                    listedUploadItems(f.store.listUploads({ bucket, prefix, delimiter, maxUploads: 100_000 })),
                    expected,
                  );
                  const seen: UploadItem[] = [];
                  let keyMarker: string | undefined;
                  let uploadIdMarker: string | undefined;
                  for (let pages = 0; ; pages++) {
                    assert.ok(pages <= expected.length + 1, 'paging does not terminate');
                    const r = f.store.listUploads({
                      bucket,
                      prefix,
                      delimiter,
                      keyMarker,
                      uploadIdMarker,
                      maxUploads: pageSize,
                    });
                    const items = listedUploadItems(r);
                    assert.deepEqual(items, expected.slice(seen.length, seen.length + pageSize));
                    seen.push(...items);
                    assert.equal(r.isTruncated, seen.length < expected.length);
                    if (!r.isTruncated) {
                      assert.equal(r.nextKeyMarker, undefined);
                      assert.equal(r.nextUploadIdMarker, undefined);
                      break;
                    }
                    const last = items[items.length - 1];
                    assert.equal(r.nextKeyMarker, uploadItemKey(last));
                    assert.equal(r.nextUploadIdMarker, last.kind === 'upload' ? last.uploadId : undefined);
                    keyMarker = r.nextKeyMarker;
                    uploadIdMarker = r.nextUploadIdMarker;
                  }
                  assert.deepEqual(seen, expected);
                },
              ),
              { numRuns: 100 },
            );
          } finally {
            await f.cleanup();
          }
        });
      });

      it('abortUpload removes the upload and its parts and frees every part blob', () =>
        withBucket(async (store) => {
          await store.createUpload(uploadRecord('b', 'k', 'u1'));
          await store.createUpload(uploadRecord('b', 'k', 'u2'));
          await store.putPart('b', 'k', 'u1', partRecord(1, 'p1'));
          await store.putPart('b', 'k', 'u1', partRecord(2, 'p2'));
          await store.putPart('b', 'k', 'u1', partRecord(3, undefined));
          await store.putPart('b', 'k', 'u2', partRecord(1, 'q1'));
          await assert.rejects(store.abortUpload('b', 'other', 'u1'), s3Error('NoSuchUpload'));
          const { freed } = await store.abortUpload('b', 'k', 'u1');
          assert.deepEqual([...freed].sort(), ['p1', 'p2']);
          assert.equal(store.isBlobReferenced('p1'), false);
          assert.equal(store.isBlobReferenced('p2'), false);
          assert.equal(store.getUpload('b', 'k', 'u1'), undefined);
          assert.deepEqual(partsOf(store, 'u1'), []);
          assert.deepEqual(
            store.listUploads({ bucket: 'b', prefix: '', maxUploads: 10 }).uploads.map((u) => u.uploadId),
            ['u2'],
          );
          assert.equal(store.isBlobReferenced('q1'), true, 'another upload keeps its parts');
          assert.deepEqual(partsOf(store, 'u2'), [partRecord(1, 'q1')]);
          await assert.rejects(store.abortUpload('b', 'k', 'u1'), s3Error('NoSuchUpload'));
        }));

      it('completeUpload turns the upload into the current version; used parts stay referenced by the manifest', () =>
        withBucket(async (store) => {
          const upload = uploadRecord('b', 'k', 'u1', { contentType: 'image/png' });
          await store.createUpload(upload);
          await store.createUpload(uploadRecord('b', 'k', 'u2'));
          await store.putPart('b', 'k', 'u2', partRecord(1, 'other'));
          for (const n of [3, 1, 4, 2]) await store.putPart('b', 'k', 'u1', partRecord(n, `p${n}`));
          let seen: { upload: UploadRecord; parts: PartRecord[] } | undefined;
          const result = await complete(store, upload, {
            manifest: 'm1',
            use: [1, 2, 4],
            seen: (u, parts) => (seen = { upload: u, parts }),
          });
          assert.deepEqual(seen, { upload, parts: [1, 2, 3, 4].map((n) => partRecord(n, `p${n}`)) });
          const used = [1, 2, 4].map((n) => partRecord(n, `p${n}`));
          assert.deepEqual(result.freed, ['p3']);
          assert.deepEqual(result.removed, []);
          assert.equal(result.version.data.kind, 'parts');
          assert.deepEqual(store.getVersion('b', 'k'), result.version);
          assert.deepEqual(store.getVersion('b', 'k', 'null'), result.version);
          assert.deepEqual(store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects, [result.version]);
          assert.deepEqual(store.getManifest('m1'), used);
          for (const n of [1, 2, 4]) assert.equal(store.isBlobReferenced(`p${n}`), true, `p${n}`);
          assert.equal(store.isBlobReferenced('p3'), false);
          assert.equal(store.getUpload('b', 'k', 'u1'), undefined);
          assert.deepEqual(partsOf(store, 'u1'), []);
          assert.deepEqual(
            store.listUploads({ bucket: 'b', prefix: '', maxUploads: 10 }).uploads.map((u) => u.uploadId),
            ['u2'],
          );
          assert.deepEqual(partsOf(store, 'u2'), [partRecord(1, 'other')]);
          assert.equal(store.isBlobReferenced('other'), true);
        }));

      it('an assemble that throws leaves the upload, its parts and references untouched', () =>
        withBucket(async (store) => {
          const upload = uploadRecord('b', 'k', 'u1');
          await store.createUpload(upload);
          await store.putPart('b', 'k', 'u1', partRecord(1, 'p1'));
          await store.putPart('b', 'k', 'u1', partRecord(2, 'p2'));
          const boom = new Error('InvalidPart, say');
          await assert.rejects(
            store.completeUpload({
              bucket: 'b',
              key: 'k',
              uploadId: 'u1',
              assemble: () => {
                throw boom;
              },
            }),
            (err) => err === boom,
          );
          assert.deepEqual(store.getUpload('b', 'k', 'u1'), upload);
          assert.deepEqual(partsOf(store, 'u1'), [partRecord(1, 'p1'), partRecord(2, 'p2')]);
          assert.equal(store.isBlobReferenced('p1'), true);
          assert.equal(store.isBlobReferenced('p2'), true);
          assert.equal(store.getVersion('b', 'k'), undefined);
          // And it can still be completed.
          const { version } = await complete(store, upload, { manifest: 'm1' });
          assert.deepEqual(store.getVersion('b', 'k'), version);
        }));

      it('completing twice: the second is NoSuchUpload and never assembles', () =>
        withBucket(async (store) => {
          const upload = uploadRecord('b', 'k', 'u1');
          await store.createUpload(upload);
          await store.putPart('b', 'k', 'u1', partRecord(1, 'p1'));
          const first = await complete(store, upload, { manifest: 'm1' });
          let called = false;
          await assert.rejects(
            complete(store, upload, { manifest: 'm2', seen: () => (called = true) }),
            s3Error('NoSuchUpload'),
          );
          assert.equal(called, false);
          assert.equal(store.getManifest('m2'), undefined);
          assert.deepEqual(store.getManifest('m1'), [partRecord(1, 'p1')]);
          assert.deepEqual(store.getVersion('b', 'k'), first.version);
          assert.equal(store.isBlobReferenced('p1'), true);
        }));

      it('of two concurrent completions exactly one succeeds', () =>
        withBucket(async (store) => {
          await store.updateBucket('b', { versioning: 'Enabled' });
          const upload = uploadRecord('b', 'k', 'u1');
          await store.createUpload(upload);
          await store.putPart('b', 'k', 'u1', partRecord(1, 'p1'));
          await store.putPart('b', 'k', 'u1', partRecord(2, 'p2'));
          const results = await Promise.allSettled([
            complete(store, upload, { manifest: 'm1', versionId: 'v1', use: [1] }),
            complete(store, upload, { manifest: 'm2', versionId: 'v2', use: [2] }),
          ]);
          const ok = results.filter((r) => r.status === 'fulfilled');
          const failed = results.filter((r) => r.status === 'rejected');
          assert.equal(ok.length, 1);
          assert.equal(failed.length, 1);
          assert.ok(s3Error('NoSuchUpload')(failed[0].reason));
          const winner = ok[0].value;
          assert.deepEqual(stackOf(store, 'b', 'k'), [winner.version]);
          const [won, lost] = winner.version.versionId === 'v1' ? ['m1', 'm2'] : ['m2', 'm1'];
          assert.equal(store.getManifest(lost), undefined);
          assert.equal(store.getManifest(won)?.length, 1);
          const keptBlob = store.getManifest(won)![0].blob!;
          assert.deepEqual(winner.freed, [keptBlob === 'p1' ? 'p2' : 'p1']);
          assert.equal(store.isBlobReferenced(keptBlob), true);
          assert.equal(store.isBlobReferenced(winner.freed[0]), false);
        }));

      it('a precondition sees the current version, and throwing aborts the completion', () =>
        withBucket(async (store) => {
          const existing = objectVersion('b', 'k', { etag: 'existing', size: 9, data: { kind: 'blob', id: 'old' } });
          await store.putVersion({ version: existing });
          const upload = uploadRecord('b', 'k', 'u1');
          await store.createUpload(upload);
          await store.putPart('b', 'k', 'u1', partRecord(1, 'p1'));
          await store.putPart('b', 'k', 'u1', partRecord(2, 'p2'));
          let current: ObjectVersion | undefined;
          await assert.rejects(
            complete(store, upload, {
              manifest: 'm1',
              use: [1],
              precondition: (c) => {
                current = c;
                throw new S3Error('PreconditionFailed');
              },
            }),
            s3Error('PreconditionFailed'),
          );
          assert.deepEqual(current, existing);
          assert.deepEqual(store.getVersion('b', 'k'), existing);
          assert.deepEqual(store.getUpload('b', 'k', 'u1'), upload);
          assert.deepEqual(partsOf(store, 'u1'), [partRecord(1, 'p1'), partRecord(2, 'p2')]);
          assert.equal(store.getManifest('m1'), undefined);
          for (const blob of ['old', 'p1', 'p2']) assert.equal(store.isBlobReferenced(blob), true, blob);
          // A passing precondition lets it through, replacing the null version.
          const done = await complete(store, upload, { manifest: 'm1', use: [1], precondition: () => undefined });
          assert.deepEqual(done.removed, [existing]);
          assert.deepEqual([...done.freed].sort(), ['old', 'p2']);
          assert.equal(store.isBlobReferenced('old'), false);
        }));

      it('deleting a completed version frees all its part blobs and removes its manifest', () =>
        withBucket(async (store) => {
          await store.updateBucket('b', { versioning: 'Enabled' });
          const upload = uploadRecord('b', 'k', 'u1');
          await store.createUpload(upload);
          await store.putPart('b', 'k', 'u1', partRecord(1, 'p1'));
          await store.putPart('b', 'k', 'u1', partRecord(2, undefined));
          await store.putPart('b', 'k', 'u1', partRecord(3, 'p3'));
          const { version } = await complete(store, upload, { manifest: 'm1', versionId: 'v1' });
          const { removed, freed } = await store.deleteVersion('b', 'k', 'v1');
          assert.deepEqual(removed, version);
          assert.deepEqual([...freed].sort(), ['p1', 'p3']);
          assert.equal(store.getManifest('m1'), undefined);
          assert.equal(store.isBlobReferenced('p1'), false);
          assert.equal(store.isBlobReferenced('p3'), false);
          assert.equal(store.getVersion('b', 'k'), undefined);
          assert.equal((await store.deleteBucket('b')).status, 'deleted');
        }));

      it('replacing a null multipart version frees its part blobs', () =>
        withBucket(async (store) => {
          const upload = uploadRecord('b', 'k', 'u1');
          await store.createUpload(upload);
          await store.putPart('b', 'k', 'u1', partRecord(1, 'p1'));
          await store.putPart('b', 'k', 'u1', partRecord(2, 'p2'));
          const { version } = await complete(store, upload, { manifest: 'm1' });
          const next = objectVersion('b', 'k', {
            lastModified: 1_700_000_000_000,
            size: 9,
            data: { kind: 'blob', id: 'new' },
          });
          const { removed, freed } = await store.putVersion({ version: next });
          assert.deepEqual(removed, [version]);
          assert.deepEqual([...freed].sort(), ['p1', 'p2']);
          assert.equal(store.getManifest('m1'), undefined);
          assert.equal(store.isBlobReferenced('p1'), false);
          assert.equal(store.isBlobReferenced('new'), true);
          // And a completion over a null multipart version frees the old parts too.
          await store.putVersion({ version: objectVersion('b', 'k', { lastModified: 1_700_000_000_001 }) });
          await store.createUpload(uploadRecord('b', 'k', 'u2'));
          await store.putPart('b', 'k', 'u2', partRecord(1, 'q1'));
          await complete(store, uploadRecord('b', 'k', 'u2'), { manifest: 'm2' });
          await store.createUpload(uploadRecord('b', 'k', 'u3'));
          await store.putPart('b', 'k', 'u3', partRecord(1, 'r1'));
          const third = await complete(store, uploadRecord('b', 'k', 'u3'), { manifest: 'm3' });
          assert.deepEqual(third.freed, ['q1']);
          assert.equal(store.getManifest('m2'), undefined);
          assert.deepEqual(store.getManifest('m3'), [partRecord(1, 'r1')]);
          assert.deepEqual(stackOf(store, 'b', 'k'), [third.version]);
        }));

      it("deleteBucket aborts the bucket's uploads and reports their blobs freed", () =>
        withBucket(async (store) => {
          await store.createBucket(bucketRecord('b2'));
          await store.createUpload(uploadRecord('b', 'k', 'u1'));
          await store.createUpload(uploadRecord('b', 'dir/k', 'u2'));
          await store.createUpload(uploadRecord('b2', 'k', 'u3'));
          await store.putPart('b', 'k', 'u1', partRecord(1, 'p1'));
          await store.putPart('b', 'k', 'u1', partRecord(2, 'p2'));
          await store.putPart('b', 'dir/k', 'u2', partRecord(1, 'q1'));
          await store.putPart('b2', 'k', 'u3', partRecord(1, 'r1'));
          // A bucket that holds a version is not deleted, and its uploads stay.
          await store.putVersion({ version: objectVersion('b', 'obj') });
          assert.deepEqual(await store.deleteBucket('b'), { status: 'not-empty', freed: [] });
          assert.equal(store.listUploads({ bucket: 'b', prefix: '', maxUploads: 10 }).uploads.length, 2);
          assert.equal(store.isBlobReferenced('p1'), true);
          await store.deleteVersion('b', 'obj', 'null');

          const { status, freed } = await store.deleteBucket('b');
          assert.equal(status, 'deleted');
          assert.deepEqual([...freed].sort(), ['p1', 'p2', 'q1']);
          for (const blob of ['p1', 'p2', 'q1']) assert.equal(store.isBlobReferenced(blob), false, blob);
          assert.equal(store.getUpload('b', 'k', 'u1'), undefined);
          assert.deepEqual(partsOf(store, 'u1'), []);
          assert.deepEqual(partsOf(store, 'u2'), []);
          // The other bucket, whose name starts with the deleted one's, keeps its upload.
          assert.deepEqual(store.getUpload('b2', 'k', 'u3'), uploadRecord('b2', 'k', 'u3'));
          assert.deepEqual(partsOf(store, 'u3'), [partRecord(1, 'r1')]);
          assert.equal(store.isBlobReferenced('r1'), true);
          // A new bucket of the same name starts with no uploads.
          await store.createBucket(bucketRecord('b'));
          assert.deepEqual(store.listUploads({ bucket: 'b', prefix: '', maxUploads: 10 }).uploads, []);
        }));

      it('persists uploads, parts, manifests and references across a reopen', () =>
        withStore(async (f) => {
          await f.store.createBucket(bucketRecord('b', { versioning: 'Enabled' }));
          const open = uploadRecord('b', 'open', 'u1', { checksum: { algorithm: 'CRC64NVME', type: 'FULL_OBJECT' } });
          const done = uploadRecord('b', 'done', 'u2');
          await f.store.createUpload(open);
          await f.store.createUpload(done);
          await f.store.putPart(
            'b',
            'open',
            'u1',
            partRecord(1, 'o1', { checksum: { algorithm: 'CRC64NVME', value: 'AAAAAAAAAAA=' } }),
          );
          await f.store.putPart('b', 'done', 'u2', partRecord(1, 'd1'));
          await f.store.putPart('b', 'done', 'u2', partRecord(2, 'd2'));
          const { version } = await complete(f.store, done, { manifest: 'm1', versionId: 'v1' });

          const store = await f.reopen();
          assert.deepEqual(store.getUpload('b', 'open', 'u1'), open);
          assert.equal(store.getUpload('b', 'done', 'u2'), undefined);
          assert.deepEqual(partsOf(store, 'u1'), [
            partRecord(1, 'o1', { checksum: { algorithm: 'CRC64NVME', value: 'AAAAAAAAAAA=' } }),
          ]);
          assert.deepEqual(store.listUploads({ bucket: 'b', prefix: '', maxUploads: 10 }).uploads, [open]);
          assert.deepEqual(store.getVersion('b', 'done'), version);
          assert.deepEqual(store.getManifest('m1'), [partRecord(1, 'd1'), partRecord(2, 'd2')]);
          for (const blob of ['o1', 'd1', 'd2']) assert.equal(store.isBlobReferenced(blob), true, blob);

          // The reopened store carries on where the old one stopped.
          await store.putPart('b', 'open', 'u1', partRecord(2, 'o2'));
          const second = await complete(store, open, { manifest: 'm2', versionId: 'v2' });
          assert.deepEqual(
            store.getManifest('m2')?.map((p) => p.blob),
            ['o1', 'o2'],
          );
          assert.deepEqual((await store.deleteVersion('b', 'done', 'v1')).freed.sort(), ['d1', 'd2']);
          assert.deepEqual((await store.deleteVersion('b', 'open', second.version.versionId)).freed.sort(), [
            'o1',
            'o2',
          ]);
          assert.deepEqual(await store.deleteBucket('b'), { status: 'deleted', freed: [] });
        }));
    });

    describe('updateVersion', { concurrency: true }, () => {
      const TAGS = [{ key: 'project', value: 'meridian' }];

      /** k: v1 (older) and v2 (current); gone: v1 under a delete marker m. */
      async function withStack(fn: (store: MetaStore) => Promise<void>): Promise<void> {
        await withBucket(async (store) => {
          await store.updateBucket('b', { versioning: 'Enabled' });
          await store.putVersion({ version: objectVersion('b', 'k', { versionId: 'v1', lastModified: 10 }) });
          await store.putVersion({ version: objectVersion('b', 'k', { versionId: 'v2', lastModified: 20 }) });
          await store.putVersion({ version: objectVersion('b', 'gone', { versionId: 'v1', lastModified: 10 }) });
          await store.putVersion({ version: deleteMarker('b', 'gone', 'm', 20) });
          await fn(store);
        });
      }

      it('rewrites a version below the top without touching the current one', () =>
        withStack(async (store) => {
          const before = store.getVersion('b', 'k', 'v1')!;
          let given: ObjectVersion | undefined;
          const updated = await store.updateVersion('b', 'k', 'v1', (v) => {
            given = v;
            return { ...v, tags: TAGS };
          });
          assert.deepEqual(given, before);
          assert.deepEqual(updated, { ...before, tags: TAGS });
          assert.deepEqual(store.getVersion('b', 'k', 'v1'), updated);
          assert.equal(store.getVersion('b', 'k')?.versionId, 'v2');
          assert.equal(store.getVersion('b', 'k')?.tags, undefined);
          assert.deepEqual(
            store.listObjects({ bucket: 'b', prefix: 'k', maxKeys: 10 }).objects.map((o) => [o.versionId, o.tags]),
            [['v2', undefined]],
          );
          assert.deepEqual(
            stackOf(store, 'b', 'k').map((v) => v.versionId),
            ['v2', 'v1'],
          );
        }));

      it('rewrites the top without an id, and the current version with it', () =>
        withStack(async (store) => {
          const updated = await store.updateVersion('b', 'k', undefined, (v) => ({
            ...v,
            tags: TAGS,
            acl: PUBLIC_READ,
          }));
          assert.equal(updated?.versionId, 'v2');
          assert.deepEqual(store.getVersion('b', 'k'), updated);
          assert.deepEqual(store.getVersion('b', 'k', 'v2'), updated);
          assert.deepEqual(store.listObjects({ bucket: 'b', prefix: 'k', maxKeys: 10 }).objects, [updated]);
          assert.equal(store.getVersion('b', 'k', 'v1')?.tags, undefined);
        }));

      it('rewriting the current version by id updates what listObjects and getVersion return', () =>
        withStack(async (store) => {
          const updated = await store.updateVersion('b', 'k', 'v2', (v) => ({ ...v, tags: TAGS }));
          assert.deepEqual(store.getVersion('b', 'k'), updated);
          assert.deepEqual(store.listObjects({ bucket: 'b', prefix: 'k', maxKeys: 10 }).objects, [updated]);
        }));

      it('under a delete marker: the top is the marker and nothing becomes current', () =>
        withStack(async (store) => {
          const marker = await store.updateVersion('b', 'gone', undefined, (v) => ({ ...v, tags: TAGS }));
          assert.equal(marker?.isDeleteMarker, true);
          await store.updateVersion('b', 'gone', 'v1', (v) => ({ ...v, tags: TAGS }));
          assert.deepEqual(store.getVersion('b', 'gone', 'v1')?.tags, TAGS);
          assert.equal(store.getVersion('b', 'gone')?.versionId, 'm');
          assert.deepEqual(store.listObjects({ bucket: 'b', prefix: 'gone', maxKeys: 10 }).objects, []);
        }));

      it('refuses to change what identifies a version or its data, and changes nothing', () =>
        withStack(async (store) => {
          const before = stackOf(store, 'b', 'k');
          const changes: Partial<ObjectVersion>[] = [
            { bucket: 'b2' },
            { key: 'k2' },
            { versionId: 'v3' },
            { lastModified: 11 },
            { isDeleteMarker: true },
            { data: { kind: 'blob', id: 'x' } },
          ];
          for (const change of changes) {
            for (const id of ['v1', 'v2', undefined]) {
              await assert.rejects(
                store.updateVersion('b', 'k', id, (v) => ({ ...v, tags: TAGS, ...change })),
                Error,
                `${JSON.stringify(change)} on ${String(id)}`,
              );
            }
          }
          assert.deepEqual(stackOf(store, 'b', 'k'), before);
          assert.deepEqual(store.getVersion('b', 'k'), before[0]);
          assert.equal(store.getVersion('b2', 'k'), undefined);
          assert.equal(store.getVersion('b', 'k2'), undefined);
        }));

      it('resolves undefined for a missing bucket, key or version without calling update', () =>
        withStack(async (store) => {
          const update = (v: ObjectVersion) => assert.fail(`update called with ${v.key}`);
          assert.equal(await store.updateVersion('b', 'nope', undefined, update), undefined);
          assert.equal(await store.updateVersion('b', 'nope', 'v1', update), undefined);
          assert.equal(await store.updateVersion('b', 'k', 'v9', update), undefined);
          assert.equal(await store.updateVersion('missing', 'k', undefined, update), undefined);
          assert.equal(store.getVersion('b', 'nope'), undefined);
        }));

      it("keeps a multipart version's manifest and references, and persists across a reopen", () =>
        withStore(async (f) => {
          await f.store.createBucket(bucketRecord('b'));
          const upload = uploadRecord('b', 'k', 'u1');
          await f.store.createUpload(upload);
          await f.store.putPart('b', 'k', 'u1', partRecord(1, 'p1'));
          await complete(f.store, upload, { manifest: 'm1' });
          const updated = await f.store.updateVersion('b', 'k', 'null', (v) => ({ ...v, tags: TAGS }));
          assert.deepEqual(f.store.getManifest('m1'), [partRecord(1, 'p1')]);
          assert.equal(f.store.isBlobReferenced('p1'), true);
          const store = await f.reopen();
          assert.deepEqual(store.getVersion('b', 'k'), updated);
          assert.deepEqual(store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects, [updated]);
          assert.deepEqual((await store.deleteVersion('b', 'k', 'null')).freed, ['p1']);
        }));
    });

    describe('replication outbox', { concurrency: true }, () => {
      type Queued = Omit<OutboxEntry, 'seq'>;

      function queued(destination: string, key: string, versionId: string, patch: Partial<Queued> = {}): Queued {
        return {
          destination,
          bucket: 'b',
          key,
          versionId,
          operation: 'object',
          ruleId: 'rule-1',
          enqueuedAt: 1_700_000_000_000,
          size: 10,
          ...patch,
        };
      }

      /** Every entry queued for `destination`, read through peekOutbox. */
      function outbox(store: MetaStore, destination: string): OutboxEntry[] {
        return store.peekOutbox(destination, 0, 10_000);
      }

      /** Writes version `versionId` of `key` with outbox entries for these destinations. */
      function putWithOutbox(
        store: MetaStore,
        key: string,
        versionId: string,
        destinations: string[],
        lastModified = 10,
      ) {
        return store.putVersion({
          version: objectVersion('b', key, { versionId, lastModified }),
          freshId: true,
          outbox: destinations.map((d) => queued(d, key, versionId)),
        });
      }

      it('putVersion queues its entries with increasing seq across calls and destinations', () =>
        withBucket(async (store) => {
          await putWithOutbox(store, 'k1', 'v1', ['dst-a', 'dst-b']);
          await putWithOutbox(store, 'k2', 'v2', ['dst-a']);
          await putWithOutbox(store, 'k3', 'v3', ['dst-b', 'dst-a']);
          const a = outbox(store, 'dst-a');
          const b = outbox(store, 'dst-b');
          assert.deepEqual(
            a.map((e) => e.key),
            ['k1', 'k2', 'k3'],
          );
          assert.deepEqual(
            b.map((e) => e.key),
            ['k1', 'k3'],
          );
          // One sequence for the whole store, in the order the entries were written.
          const all = [a[0], b[0], a[1], b[1], a[2]];
          for (let i = 1; i < all.length; i++)
            assert.ok(all[i].seq > all[i - 1].seq, JSON.stringify(all.map((e) => e.seq)));
          assert.deepEqual(a[0], { ...queued('dst-a', 'k1', 'v1'), seq: a[0].seq });
        }));

      it('concurrent writes get distinct seqs and every entry is kept', () =>
        withBucket(async (store) => {
          const keys = Array.from({ length: 50 }, (_, i) => `k${String(i).padStart(2, '0')}`);
          await Promise.all(keys.map((k, i) => putWithOutbox(store, k, `v${i}`, ['dst'])));
          const entries = outbox(store, 'dst');
          assert.equal(entries.length, 50);
          assert.equal(new Set(entries.map((e) => e.seq)).size, 50);
          assert.deepEqual(entries.map((e) => e.key).sort(), keys);
          for (let i = 1; i < entries.length; i++) assert.ok(entries[i].seq > entries[i - 1].seq);
        }));

      it('peekOutbox pages by afterSeq and limit', () =>
        withBucket(async (store) => {
          for (let i = 0; i < 5; i++) await putWithOutbox(store, `k${i}`, `v${i}`, ['dst', 'other']);
          const all = outbox(store, 'dst');
          assert.equal(all.length, 5);
          assert.deepEqual(store.peekOutbox('dst', 0, 2), all.slice(0, 2));
          assert.deepEqual(store.peekOutbox('dst', all[1].seq, 2), all.slice(2, 4));
          assert.deepEqual(store.peekOutbox('dst', all[1].seq + 1, 100), all.slice(2));
          assert.deepEqual(store.peekOutbox('dst', all[4].seq, 10), []);
          assert.deepEqual(store.peekOutbox('dst', 0, 0).length, 0);
          assert.deepEqual(store.peekOutbox('nowhere', 0, 10), []);
        }));

      it('keeps destinations apart, including names that are prefixes of each other', () =>
        withBucket(async (store) => {
          const names = ['dst2', 'ds', 'dst', 'dst-x', 'dst.0', 'd'];
          for (const [i, d] of names.entries()) await putWithOutbox(store, `k${i}`, `v${i}`, [d]);
          await putWithOutbox(store, 'more', 'vm', ['dst', 'dst2']);
          for (const d of names) {
            const entries = outbox(store, d);
            assert.ok(
              entries.every((e) => e.destination === d),
              `${d}: ${JSON.stringify(entries)}`,
            );
            assert.equal(entries.length, d === 'dst' || d === 'dst2' ? 2 : 1, d);
          }
          const destinations = store.outboxDestinations();
          assert.deepEqual([...destinations].sort(byteOrder), [...names].sort(byteOrder));
          // A large afterSeq for 'dst' does not run on into 'dst2'.
          const dst = outbox(store, 'dst');
          assert.deepEqual(store.peekOutbox('dst', dst[1].seq, 10), []);
        }));

      it('outboxDestinations lists each destination with entries once, and forgets emptied ones', () =>
        withBucket(async (store) => {
          assert.deepEqual(store.outboxDestinations(), []);
          for (let i = 0; i < 3; i++) await putWithOutbox(store, `k${i}`, `v${i}`, ['a', 'c']);
          await putWithOutbox(store, 'k', 'v', ['b']);
          assert.deepEqual([...store.outboxDestinations()].sort(), ['a', 'b', 'c']);
          await store.finishOutbox(outbox(store, 'b')[0], { status: 'COMPLETED' });
          assert.deepEqual([...store.outboxDestinations()].sort(), ['a', 'c']);
        }));

      it('finishOutbox removes the entry and records the outcome on the version, in the stack and current', () =>
        withBucket(async (store) => {
          await store.updateBucket('b', { versioning: 'Enabled' });
          await store.putVersion({
            version: objectVersion('b', 'k', {
              versionId: 'v1',
              lastModified: 10,
              replication: { x: { status: 'PENDING' }, y: { status: 'PENDING' } },
            }),
            freshId: true,
            outbox: [queued('x', 'k', 'v1'), queued('y', 'k', 'v1')],
          });
          const [ex] = outbox(store, 'x');
          await store.finishOutbox(ex, { status: 'COMPLETED', completedAt: 1234 });
          assert.deepEqual(outbox(store, 'x'), []);
          assert.equal(outbox(store, 'y').length, 1);
          const expected = { x: { status: 'COMPLETED', completedAt: 1234 }, y: { status: 'PENDING' } };
          assert.deepEqual(store.getVersion('b', 'k', 'v1')?.replication, expected);
          assert.deepEqual(store.getVersion('b', 'k')?.replication, expected);
          assert.deepEqual(
            store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects[0].replication,
            expected,
          );
          assert.deepEqual(stackOf(store, 'b', 'k')[0].replication, expected);
          const [ey] = outbox(store, 'y');
          await store.finishOutbox(ey, { status: 'FAILED', reason: 'DstBucketNotFound' });
          assert.deepEqual(store.getVersion('b', 'k')?.replication, {
            x: { status: 'COMPLETED', completedAt: 1234 },
            y: { status: 'FAILED', reason: 'DstBucketNotFound' },
          });
          assert.deepEqual(store.outboxDestinations(), []);
        }));

      it('finishOutbox on a version below the top leaves the current version alone', () =>
        withBucket(async (store) => {
          await store.updateBucket('b', { versioning: 'Enabled' });
          await putWithOutbox(store, 'k', 'v1', ['x'], 10);
          await store.putVersion({
            version: objectVersion('b', 'k', { versionId: 'v2', lastModified: 20 }),
            freshId: true,
          });
          await store.finishOutbox(outbox(store, 'x')[0], { status: 'COMPLETED' });
          assert.deepEqual(store.getVersion('b', 'k', 'v1')?.replication, { x: { status: 'COMPLETED' } });
          assert.equal(store.getVersion('b', 'k')?.versionId, 'v2');
          assert.equal(store.getVersion('b', 'k')?.replication, undefined);
          assert.deepEqual(
            stackOf(store, 'b', 'k').map((v) => v.versionId),
            ['v2', 'v1'],
          );
        }));

      it('finishOutbox on a delete marker records the outcome on the marker', () =>
        withBucket(async (store) => {
          await store.updateBucket('b', { versioning: 'Enabled' });
          await store.putVersion({
            version: objectVersion('b', 'k', { versionId: 'v1', lastModified: 10 }),
            freshId: true,
          });
          await store.putVersion({
            version: deleteMarker('b', 'k', 'm', 20),
            freshId: true,
            outbox: [queued('x', 'k', 'm', { operation: 'delete-marker', size: 0 })],
          });
          await store.finishOutbox(outbox(store, 'x')[0], { status: 'COMPLETED' });
          const marker = store.getVersion('b', 'k', 'm');
          assert.equal(marker?.isDeleteMarker, true);
          assert.deepEqual(marker?.replication, { x: { status: 'COMPLETED' } });
          assert.deepEqual(
            store.listObjects({ bucket: 'b', prefix: '', maxKeys: 10 }).objects,
            [],
            'the marker stays current',
          );
        }));

      it('finishOutbox for a version that is gone only removes the entry', () =>
        withBucket(async (store) => {
          await store.updateBucket('b', { versioning: 'Enabled' });
          await putWithOutbox(store, 'k', 'v1', ['x']);
          await store.deleteVersion('b', 'k', 'v1');
          await store.finishOutbox(outbox(store, 'x')[0], { status: 'COMPLETED' });
          assert.deepEqual(outbox(store, 'x'), []);
          assert.equal(store.getVersion('b', 'k', 'v1'), undefined);
          assert.equal(store.getVersion('b', 'k'), undefined);
          assert.deepEqual(stackOf(store, 'b', 'k'), []);
        }));

      it('finishOutbox of an entry already finished changes nothing else', () =>
        withBucket(async (store) => {
          await putWithOutbox(store, 'k', 'v1', ['x']);
          await putWithOutbox(store, 'k2', 'v2', ['x']);
          const [first] = outbox(store, 'x');
          await store.finishOutbox(first, { status: 'COMPLETED' });
          await store.finishOutbox(first, { status: 'COMPLETED' });
          assert.deepEqual(
            outbox(store, 'x').map((e) => e.key),
            ['k2'],
          );
        }));

      it('entries survive a reopen, and seq keeps increasing afterwards', () =>
        withStore(async (f) => {
          await f.store.createBucket(bucketRecord('b'));
          await putWithOutbox(f.store, 'k1', 'v1', ['x', 'y']);
          await putWithOutbox(f.store, 'k2', 'v2', ['x']);
          const before = outbox(f.store, 'x');
          const maxBefore = Math.max(...before.map((e) => e.seq), ...outbox(f.store, 'y').map((e) => e.seq));
          // Finishing the newest entry must not let its seq be handed out again.
          await f.store.finishOutbox(before[1], { status: 'COMPLETED' });
          const store = await f.reopen();
          assert.deepEqual(outbox(store, 'x'), [before[0]]);
          assert.equal(outbox(store, 'y').length, 1);
          assert.deepEqual([...store.outboxDestinations()].sort(), ['x', 'y']);
          await putWithOutbox(store, 'k3', 'v3', ['x']);
          const after = outbox(store, 'x');
          assert.equal(after.length, 2);
          assert.ok(after[1].seq > maxBefore, `${after[1].seq} > ${maxBefore}`);
        }));

      it('a putVersion that fails queues nothing', () =>
        withBucket(async (store) => {
          await store.putVersion({ version: objectVersion('b', 'k') });
          await assert.rejects(
            store.putVersion({
              version: objectVersion('b', 'k', { etag: 'new' }),
              outbox: [queued('x', 'k', 'null')],
              precondition: () => {
                throw new S3Error('PreconditionFailed');
              },
            }),
            s3Error('PreconditionFailed'),
          );
          await assert.rejects(
            store.putVersion({
              version: objectVersion('nobucket', 'k'),
              outbox: [queued('x', 'k', 'null', { bucket: 'nobucket' })],
            }),
            s3Error('NoSuchBucket'),
          );
          assert.deepEqual(outbox(store, 'x'), []);
          assert.deepEqual(store.outboxDestinations(), []);
          assert.equal(store.getVersion('b', 'k')?.etag, objectVersion('b', 'k').etag);
        }));

      it('a putVersion without outbox entries (or with none) queues nothing', () =>
        withBucket(async (store) => {
          await store.putVersion({ version: objectVersion('b', 'k1') });
          await store.putVersion({ version: objectVersion('b', 'k2'), outbox: [] });
          assert.deepEqual(store.outboxDestinations(), []);
        }));

      it('completeUpload queues what assemble returns with the version, atomically', () =>
        withBucket(async (store) => {
          const upload = uploadRecord('b', 'k', 'u1');
          await store.createUpload(upload);
          await store.putPart('b', 'k', 'u1', partRecord(1, 'p1'));
          await store.completeUpload({
            bucket: 'b',
            key: 'k',
            uploadId: 'u1',
            assemble(current, parts) {
              const version = objectVersion('b', 'k', {
                lastModified: current.initiated,
                size: 101,
                etag: 'mp-1',
                partsCount: 1,
                data: { kind: 'parts', id: 'm1' },
                replication: { x: { status: 'PENDING' } },
              });
              return { version, parts, outbox: [queued('x', 'k', 'null', { size: 101 })] };
            },
          });
          const [e] = outbox(store, 'x');
          assert.deepEqual(e, { ...queued('x', 'k', 'null', { size: 101 }), seq: e.seq });
          assert.deepEqual(store.getVersion('b', 'k')?.replication, { x: { status: 'PENDING' } });

          // A completion that fails (its precondition) queues nothing and keeps the upload.
          const second = uploadRecord('b', 'k2', 'u2');
          await store.createUpload(second);
          await store.putPart('b', 'k2', 'u2', partRecord(1, 'p2'));
          await assert.rejects(
            store.completeUpload({
              bucket: 'b',
              key: 'k2',
              uploadId: 'u2',
              precondition: () => {
                throw new S3Error('PreconditionFailed');
              },
              assemble(current, parts) {
                const version = objectVersion('b', 'k2', {
                  size: 102,
                  etag: 'mp-1',
                  partsCount: 1,
                  data: { kind: 'parts', id: 'm2' },
                });
                return { version, parts, outbox: [queued('x', 'k2', 'null')] };
              },
            }),
            s3Error('PreconditionFailed'),
          );
          assert.deepEqual(
            outbox(store, 'x').map((e) => e.key),
            ['k'],
          );
          assert.equal(partsOf(store, 'u2').length, 1);
        }));

      it('updateVersion queues what its outbox callback returns, which may mark the new record', () =>
        withBucket(async (store) => {
          await store.updateBucket('b', { versioning: 'Enabled' });
          await store.putVersion({
            version: objectVersion('b', 'k', {
              versionId: 'v1',
              lastModified: 10,
              replication: { x: { status: 'COMPLETED' } },
            }),
            freshId: true,
          });
          let given: ObjectVersion | undefined;
          const updated = await store.updateVersion(
            'b',
            'k',
            'v1',
            (v) => ({ ...v, tags: [{ key: 'a', value: '1' }] }),
            (next) => {
              given = { ...next };
              next.replication = { ...next.replication, x: { status: 'PENDING' } };
              return [queued('x', 'k', 'v1', { operation: 'metadata', size: 0 })];
            },
          );
          assert.deepEqual(given?.tags, [{ key: 'a', value: '1' }], 'the callback sees the new record');
          assert.deepEqual(updated?.replication, { x: { status: 'PENDING' } });
          assert.deepEqual(store.getVersion('b', 'k', 'v1')?.replication, { x: { status: 'PENDING' } });
          assert.deepEqual(store.getVersion('b', 'k')?.replication, { x: { status: 'PENDING' } });
          const [e] = outbox(store, 'x');
          assert.equal(e.operation, 'metadata');
          assert.equal(e.versionId, 'v1');

          // Returning nothing queues nothing.
          await store.updateVersion(
            'b',
            'k',
            'v1',
            (v) => ({ ...v, tags: undefined }),
            () => undefined,
          );
          await store.updateVersion(
            'b',
            'k',
            'v1',
            (v) => v,
            () => [],
          );
          assert.equal(outbox(store, 'x').length, 1);
        }));

      it('updateVersion that fails or finds nothing queues nothing', () =>
        withBucket(async (store) => {
          await store.putVersion({ version: objectVersion('b', 'k') });
          const entries = () => [queued('x', 'k', 'null', { operation: 'metadata' as const, size: 0 })];
          await assert.rejects(
            store.updateVersion('b', 'k', 'null', (v) => ({ ...v, etag: 'changed' }), entries),
            Error,
          );
          assert.equal(await store.updateVersion('b', 'missing', undefined, (v) => v, entries), undefined);
          await assert.rejects(
            store.updateVersion(
              'b',
              'k',
              'null',
              (v) => v,
              () => {
                throw new Error('planner failed');
              },
            ),
            /planner failed/,
          );
          assert.deepEqual(outbox(store, 'x'), []);
        }));
    });
  });
}
