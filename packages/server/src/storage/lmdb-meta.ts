import { open, type Database, type RootDatabase } from 'lmdb';
import { S3Error } from '../core/errors.ts';
import {
  bucketPrefix,
  compareKeys,
  currentKey,
  outboxKey,
  partKey,
  prefixSuccessor,
  uploadKey,
  versionKey,
  versionStackPrefix,
} from './keys.ts';
import type {
  BucketRecord,
  CompleteUploadWrite,
  DeleteVersionResult,
  DestinationState,
  OutboxEntry,
  ListPartsResult,
  ListUploadsInput,
  ListUploadsResult,
  PartRecord,
  UploadRecord,
  ListObjectsInput,
  ListObjectsResult,
  ListVersionsInput,
  ListVersionsResult,
  MetaStore,
  ObjectVersion,
  VersionEntry,
  VersionWrite,
  VersionWriteResult,
} from './types.ts';

/**
 * MetaStore on LMDB. One environment per region; named databases:
 *
 *   buckets   name -> BucketRecord
 *   versions  versionKey -> ObjectVersion      every version and delete marker (see keys.ts)
 *   current   currentKey -> ObjectVersion      the current version of keys whose current
 *                                              version is not a delete marker
 *   inline    blob id -> bytes                 small objects' data
 *   blobrefs  blob id -> 1                     which blob files are referenced
 *   uploads   uploadKey -> UploadRecord        in-progress multipart uploads
 *   parts     partKey -> PartRecord            their parts (each part's bytes are one blob)
 *   manifests id -> PartRecord[]               the parts of completed multipart objects
 *   outbox    outboxKey -> OutboxEntry         replications to carry out, per destination in order
 *   queued    destination/bucket/version/key -> n   how many of them each version has per destination
 *   counters  name -> number                   sequence numbers (`outbox`); `bytes`: the size of
 *                                              every version in `versions`, kept by `#insert` and
 *                                              `#removeEntry` (for metrics: nothing is scanned)
 *
 * Invariants, kept by doing every mutation in one LMDB write transaction:
 * - `current[k]` equals the first entry of k's version stack when that entry is not a
 *   delete marker, and is absent otherwise.
 * - every `data` reference of a version in `versions` has its `inline` or `manifests` entry,
 *   every blob of a version, manifest or part has its `blobrefs` entry, and no entry exists
 *   without such a referrer.
 * - no version exists for a bucket that is not in `buckets`.
 *
 * Writes are acknowledged only after the commit is flushed to disk. lmdb-js batches the
 * writes of one event turn into one transaction, so concurrent PUTs share one fsync.
 */
/** The metadata store's initial map: 64 GiB of address space. */
const META_MAP_BYTES = 64 * 1024 ** 3;

export class LmdbMetaStore implements MetaStore {
  readonly #root: RootDatabase;
  readonly #buckets: Database<BucketRecord, string>;
  readonly #versions: Database<ObjectVersion, Buffer>;
  readonly #current: Database<ObjectVersion, Buffer>;
  readonly #inline: Database<Buffer, string>;
  readonly #blobrefs: Database<number, string>;
  readonly #uploads: Database<UploadRecord, Buffer>;
  readonly #parts: Database<PartRecord, Buffer>;
  readonly #manifests: Database<PartRecord[], string>;
  readonly #outbox: Database<OutboxEntry, Buffer>;
  readonly #queued: Database<number, string>;
  readonly #counters: Database<number, string>;
  /** Bucket records, read on every request; this process is the only writer of its region. */
  readonly #bucketCache = new Map<string, BucketRecord | null>();

  constructor(path: string) {
    // One map from the start: grown step by step, lmdb-js keeps every earlier (smaller) map of
    // the file, and the same pages then count once per map in the process's RSS. The map is
    // address space, not disk: the file grows with the data (and past this size if need be).
    this.#root = open({ path, compression: false, mapSize: META_MAP_BYTES });
    this.#buckets = this.#root.openDB<BucketRecord, string>({ name: 'buckets' });
    this.#versions = this.#root.openDB<ObjectVersion, Buffer>({ name: 'versions', keyEncoding: 'binary' });
    this.#current = this.#root.openDB<ObjectVersion, Buffer>({ name: 'current', keyEncoding: 'binary' });
    this.#inline = this.#root.openDB<Buffer, string>({ name: 'inline', encoding: 'binary' });
    this.#blobrefs = this.#root.openDB<number, string>({ name: 'blobrefs' });
    this.#uploads = this.#root.openDB<UploadRecord, Buffer>({ name: 'uploads', keyEncoding: 'binary' });
    this.#parts = this.#root.openDB<PartRecord, Buffer>({ name: 'parts', keyEncoding: 'binary' });
    this.#manifests = this.#root.openDB<PartRecord[], string>({ name: 'manifests' });
    this.#outbox = this.#root.openDB<OutboxEntry, Buffer>({ name: 'outbox', keyEncoding: 'binary' });
    this.#queued = this.#root.openDB<number, string>({ name: 'queued' });
    this.#counters = this.#root.openDB<number, string>({ name: 'counters' });
    if (this.#counters.get('bytes') === undefined) {
      // A store from before the counter: counted once, here.
      let bytes = 0;
      for (const { value } of this.#versions.getRange({})) bytes += value.size;
      this.#counters.putSync('bytes', bytes);
    }
  }

  /** What the region stores, without a scan: LMDB's entry counts and the `bytes` counter. */
  stats(): { buckets: number; objects: number; versions: number; bytes: number } {
    const entries = (db: { getStats(): object }) => (db.getStats() as { entryCount?: number }).entryCount ?? 0;
    return {
      buckets: entries(this.#buckets),
      objects: entries(this.#current),
      versions: entries(this.#versions),
      bytes: this.#counters.get('bytes') ?? 0,
    };
  }

  #addBytes(n: number): void {
    if (n !== 0) void this.#counters.put('bytes', (this.#counters.get('bytes') ?? 0) + n);
  }

  /**
   * Runs `fn` atomically in the next batched write transaction and resolves once it is on
   * disk. `childTransaction` rolls back everything `fn` wrote if it throws.
   */
  async #durably<T>(fn: () => T): Promise<T> {
    const result = await this.#root.childTransaction(fn);
    await this.#root.flushed;
    return result;
  }

  getBucket(name: string): BucketRecord | undefined {
    let b = this.#bucketCache.get(name);
    if (b === undefined) {
      b = this.#buckets.get(name) ?? null;
      if (this.#bucketCache.size > 10_000) this.#bucketCache.clear();
      this.#bucketCache.set(name, b);
    }
    return b ?? undefined;
  }

  listBuckets(): BucketRecord[] {
    return [...this.#buckets.getRange({}).map(({ value }) => value)];
  }

  async createBucket(record: BucketRecord): Promise<boolean> {
    try {
      return await this.#durably(() => {
        if (this.#buckets.get(record.name)) return false;
        void this.#buckets.put(record.name, record);
        return true;
      });
    } finally {
      this.#bucketCache.delete(record.name);
    }
  }

  async updateBucket(name: string, patch: Partial<Omit<BucketRecord, 'name'>>): Promise<BucketRecord | undefined> {
    try {
      return await this.#durably(() => {
        const existing = this.#buckets.get(name);
        if (!existing) return undefined;
        const next: BucketRecord = { ...existing, ...patch, name };
        // A setting patched to undefined is removed, not stored as undefined.
        for (const k of Object.keys(patch) as (keyof BucketRecord)[]) if (next[k] === undefined) delete next[k];
        void this.#buckets.put(name, next);
        return next;
      });
    } finally {
      this.#bucketCache.delete(name);
    }
  }

  async deleteBucket(name: string): Promise<{ status: 'deleted' | 'missing' | 'not-empty'; freed: string[] }> {
    try {
      return await this.#durably(() => {
        const freed: string[] = [];
        if (!this.#buckets.get(name)) return { status: 'missing', freed };
        const prefix = bucketPrefix(name);
        for (const _ of this.#versions.getKeys({ start: prefix, end: prefixSuccessor(prefix), limit: 1 })) {
          return { status: 'not-empty', freed };
        }
        for (const { key, value } of [...this.#uploads.getRange({ start: prefix, end: prefixSuccessor(prefix) })]) {
          freed.push(...this.#removeParts(value.uploadId));
          void this.#uploads.remove(key);
        }
        void this.#buckets.remove(name);
        return { status: 'deleted', freed };
      });
    } finally {
      this.#bucketCache.delete(name);
    }
  }

  getVersion(bucket: string, key: string, versionId?: string): ObjectVersion | undefined {
    if (versionId === undefined) {
      const current = this.#current.get(currentKey(bucket, key));
      if (current) return current;
      return this.#top(bucket, key);
    }
    return this.#find(bucket, key, versionId);
  }

  #stackRange(bucket: string, key: string) {
    const prefix = versionStackPrefix(bucket, key);
    return this.#versions.getRange({ start: prefix, end: prefixSuccessor(prefix) });
  }

  #top(bucket: string, key: string): ObjectVersion | undefined {
    for (const { value } of this.#stackRange(bucket, key)) return value;
    return undefined;
  }

  #find(bucket: string, key: string, versionId: string): ObjectVersion | undefined {
    for (const { value } of this.#stackRange(bucket, key)) {
      if (value.versionId === versionId) return value;
    }
    return undefined;
  }

  getInline(id: string): Buffer | undefined {
    return this.#inline.getBinary(id) ?? undefined;
  }

  putVersion(write: VersionWrite): Promise<VersionWriteResult> {
    return this.#durably(() => this.#insert(write));
  }

  /** Inserts a version into its stack, inside the caller's transaction. */
  #insert(write: VersionWrite): VersionWriteResult {
    const v = write.version;
    if (!this.#buckets.get(v.bucket)) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: v.bucket } });
    if (v.data.kind === 'inline' && !write.inline) throw new Error('inline data missing for an inline version');
    if (v.data.kind === 'parts' && write.parts) {
      void this.#manifests.put(v.data.id, write.parts);
      for (const p of write.parts) if (p.blob !== undefined) void this.#blobrefs.put(p.blob, 1);
    }
    write.precondition?.(this.#current.get(currentKey(v.bucket, v.key)));
    const removed: ObjectVersion[] = [];
    const freed: string[] = [];
    const top = this.#top(v.bucket, v.key);
    const same = write.freshId ? undefined : this.#find(v.bucket, v.key, v.versionId);
    if (same) {
      // A rewrite of a version that keeps its data (a replayed write) frees nothing.
      freed.push(...this.#removeEntry(same).filter((id) => !(v.data.kind === 'blob' && v.data.id === id)));
      removed.push(same);
    }
    void this.#versions.put(versionKey(v.bucket, v.key, v.lastModified, v.versionId), v);
    this.#addBytes(v.size);
    if (v.data.kind === 'inline') {
      void this.#inline.put(v.data.id, write.inline!);
    } else if (v.data.kind === 'blob') {
      void this.#blobrefs.put(v.data.id, 1);
    }
    if (write.outbox) this.#enqueue(write.outbox);
    if (!top || (same && same.versionId === top.versionId)) {
      this.#refreshCurrent(v.bucket, v.key);
    } else if (sortsAbove(v, top)) {
      const ck = currentKey(v.bucket, v.key);
      if (v.isDeleteMarker) void this.#current.remove(ck);
      else void this.#current.put(ck, v);
    }
    return { removed, freed };
  }

  deleteVersion(bucket: string, key: string, versionId: string): Promise<DeleteVersionResult> {
    return this.#durably(() => {
      const existing = this.#find(bucket, key, versionId);
      if (!existing) return { freed: [] };
      const freed = this.#removeEntry(existing);
      this.#refreshCurrent(bucket, key);
      return { removed: existing, freed };
    });
  }

  updateVersion(
    bucket: string,
    key: string,
    versionId: string | undefined,
    update: (v: ObjectVersion) => ObjectVersion,
    outbox?: (next: ObjectVersion) => Omit<OutboxEntry, 'seq'>[] | undefined,
  ): Promise<ObjectVersion | undefined> {
    return this.#durably(() => {
      const v = versionId === undefined ? this.#top(bucket, key) : this.#find(bucket, key, versionId);
      if (!v) return undefined;
      const next = update(v);
      const fixed = ['bucket', 'key', 'versionId', 'lastModified', 'isDeleteMarker', 'size', 'etag', 'partsCount'] as const;
      const changed = fixed.some((f) => next[f] !== v[f]);
      const sameChecksum =
        next.checksum?.algorithm === v.checksum?.algorithm &&
        next.checksum?.value === v.checksum?.value &&
        next.checksum?.type === v.checksum?.type;
      const sameData = next.data.kind === v.data.kind && ('id' in next.data ? next.data.id : '') === ('id' in v.data ? v.data.id : '');
      if (changed || !sameChecksum || !sameData) {
        throw new Error('updateVersion may not change what identifies a version, its data or its digests');
      }
      const entries = outbox?.(next);
      this.#rewrite(next);
      if (entries?.length) this.#enqueue(entries);
      return next;
    });
  }

  /** Stores a changed record of an existing version, in its stack and, if current, in `current`. */
  #rewrite(next: ObjectVersion): void {
    void this.#versions.put(versionKey(next.bucket, next.key, next.lastModified, next.versionId), next);
    const ck = currentKey(next.bucket, next.key);
    if (this.#current.get(ck)?.versionId === next.versionId) void this.#current.put(ck, next);
  }

  /** Removes a version's entry and what only it refers to; returns the blobs it freed. */
  #removeEntry(v: ObjectVersion): string[] {
    void this.#versions.remove(versionKey(v.bucket, v.key, v.lastModified, v.versionId));
    this.#addBytes(-v.size);
    switch (v.data.kind) {
      case 'inline':
        void this.#inline.remove(v.data.id);
        return [];
      case 'blob':
        void this.#blobrefs.remove(v.data.id);
        return [v.data.id];
      case 'parts': {
        const parts = this.#manifests.get(v.data.id) ?? [];
        void this.#manifests.remove(v.data.id);
        return this.#unref(parts);
      }
      case 'none':
        return [];
    }
  }

  /** Drops the blob references of parts; returns their blob ids. */
  #unref(parts: Iterable<PartRecord>): string[] {
    const freed: string[] = [];
    for (const p of parts) {
      if (p.blob === undefined) continue;
      void this.#blobrefs.remove(p.blob);
      freed.push(p.blob);
    }
    return freed;
  }

  #refreshCurrent(bucket: string, key: string): void {
    const top = this.#top(bucket, key);
    const ck = currentKey(bucket, key);
    if (top && !top.isDeleteMarker) void this.#current.put(ck, top);
    else void this.#current.remove(ck);
  }

  getManifest(id: string): PartRecord[] | undefined {
    return this.#manifests.get(id);
  }

  // ---- multipart uploads ----

  createUpload(upload: UploadRecord): Promise<void> {
    return this.#durably(() => {
      if (!this.#buckets.get(upload.bucket)) {
        throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: upload.bucket } });
      }
      void this.#uploads.put(uploadKey(upload.bucket, upload.key, upload.uploadId), upload);
    });
  }

  getUpload(bucket: string, key: string, uploadId: string): UploadRecord | undefined {
    return this.#uploads.get(uploadKey(bucket, key, uploadId));
  }

  #requireUpload(bucket: string, key: string, uploadId: string): UploadRecord {
    const upload = this.getUpload(bucket, key, uploadId);
    if (!upload) throw noSuchUpload(uploadId);
    return upload;
  }

  putPart(bucket: string, key: string, uploadId: string, part: PartRecord): Promise<{ freed: string[] }> {
    return this.#durably(() => {
      this.#requireUpload(bucket, key, uploadId);
      const pk = partKey(uploadId, part.partNumber);
      const previous = this.#parts.get(pk);
      void this.#parts.put(pk, part);
      const replaced = previous && previous.blob !== part.blob ? this.#unref([previous]) : [];
      if (part.blob !== undefined) void this.#blobrefs.put(part.blob, 1);
      return { freed: replaced };
    });
  }

  #partsOf(uploadId: string, after = 0, limit?: number): PartRecord[] {
    return [
      ...this.#parts
        .getRange({ start: partKey(uploadId, after + 1), end: partKey(uploadId, 0xffff), limit })
        .map(({ value }) => value),
    ];
  }

  listParts(uploadId: string, after: number, maxParts: number): ListPartsResult {
    if (maxParts === 0) return { parts: [], isTruncated: false };
    const parts = this.#partsOf(uploadId, after, maxParts + 1);
    return { parts: parts.slice(0, maxParts), isTruncated: parts.length > maxParts };
  }

  /** Deletes the part records of an upload; returns their blobs. */
  #removeParts(uploadId: string): string[] {
    const parts = this.#partsOf(uploadId);
    for (const p of parts) void this.#parts.remove(partKey(uploadId, p.partNumber));
    return this.#unref(parts);
  }

  abortUpload(bucket: string, key: string, uploadId: string): Promise<{ freed: string[] }> {
    return this.#durably(() => {
      this.#requireUpload(bucket, key, uploadId);
      void this.#uploads.remove(uploadKey(bucket, key, uploadId));
      return { freed: this.#removeParts(uploadId) };
    });
  }

  completeUpload(write: CompleteUploadWrite): Promise<VersionWriteResult & { version: ObjectVersion }> {
    const { bucket, key, uploadId } = write;
    return this.#durably(() => {
      const upload = this.#requireUpload(bucket, key, uploadId);
      const all = this.#partsOf(uploadId);
      const { version, parts, outbox } = write.assemble(upload, all);
      if (version.data.kind !== 'parts') throw new Error('a completed upload must refer to its parts');
      const used = new Set(parts.map((p) => p.partNumber));
      for (const p of all) void this.#parts.remove(partKey(uploadId, p.partNumber));
      void this.#uploads.remove(uploadKey(bucket, key, uploadId));
      // Parts left out of the object are dropped; the ones it uses keep their references.
      const freed = this.#unref(all.filter((p) => !used.has(p.partNumber)));
      void this.#manifests.put(version.data.id, parts);
      const result = this.#insert({
        version,
        freshId: version.versionId !== 'null',
        precondition: write.precondition,
        outbox,
      });
      return { version, removed: result.removed, freed: [...freed, ...result.freed] };
    });
  }

  listUploads(input: ListUploadsInput): ListUploadsResult {
    const { bucket, prefix, delimiter, keyMarker, uploadIdMarker, maxUploads } = input;
    if (maxUploads === 0 || beyondKeys(prefix)) return { uploads: [], commonPrefixes: [], isTruncated: false };
    const uploads: UploadRecord[] = [];
    let start: Buffer = currentKey(bucket, prefix);
    let skip: string | undefined;
    let skipThrough: string | undefined;
    if (keyMarker !== undefined && beyondKeys(keyMarker)) {
      start = currentKey(bucket, seekable(keyMarker));
      skipThrough = keyMarker;
    } else if (keyMarker !== undefined && compareKeys(keyMarker, prefix) >= 0) {
      if (uploadIdMarker !== undefined) {
        start = uploadKey(bucket, keyMarker, uploadIdMarker);
        skip = uploadIdMarker;
      } else {
        start = prefixSuccessor(versionStackPrefix(bucket, keyMarker)) ?? start;
      }
    }
    const scan = this.#rolledUp(this.#uploads, {
      bucket,
      prefix,
      delimiter,
      marker: keyMarker,
      start,
      end: prefixSuccessor(currentKey(bucket, prefix)),
      max: maxUploads,
      keyOf: (u) => u.key,
      skip: (u) =>
        (skip !== undefined && u.key === keyMarker && u.uploadId === skip) ||
        (skipThrough !== undefined && compareKeys(u.key, skipThrough) <= 0),
      take: (u) => uploads.push(u),
    });
    const last = scan.last && ('prefix' in scan.last ? { key: scan.last.prefix } : scan.last.entry);
    return {
      uploads,
      commonPrefixes: scan.commonPrefixes,
      isTruncated: scan.isTruncated,
      nextKeyMarker: scan.isTruncated ? last?.key : undefined,
      nextUploadIdMarker: scan.isTruncated && last && 'uploadId' in last ? last.uploadId : undefined,
    };
  }


  listObjects(input: ListObjectsInput): ListObjectsResult {
    const { bucket, prefix, delimiter, after, maxKeys } = input;
    // S3 answers max-keys=0 with an empty, untruncated page.
    if (maxKeys === 0 || beyondKeys(prefix)) return { objects: [], commonPrefixes: [], isTruncated: false };
    const objects: ObjectVersion[] = [];
    const scan = this.#rolledUp(this.#current, {
      bucket,
      prefix,
      delimiter,
      marker: after,
      start: currentKey(bucket, after !== undefined && compareKeys(after, prefix) > 0 ? seekable(after) : prefix),
      end: prefixSuccessor(currentKey(bucket, prefix)),
      max: maxKeys,
      keyOf: (v) => v.key,
      skip: (v) => after !== undefined && compareKeys(v.key, after) <= 0,
      take: (v) => objects.push(v),
    });
    const lastReturned = scan.last && ('prefix' in scan.last ? scan.last.prefix : scan.last.entry.key);
    return {
      objects,
      commonPrefixes: scan.commonPrefixes,
      isTruncated: scan.isTruncated,
      lastReturned: scan.isTruncated ? lastReturned : undefined,
    };
  }

  /**
   * The scan behind every listing: the entries of `db` from `start` to `end` in key order,
   * those under `delimiter` rolled up into common prefixes (one entry each, skipped whole when
   * at or before `marker`, i.e. returned on an earlier page), at most `max` entries and
   * prefixes together. `skip` drops entries already returned; `take` receives the others.
   */
  #rolledUp<T>(
    db: Database<T, Buffer>,
    o: {
      bucket: string;
      prefix: string;
      delimiter?: string;
      marker?: string;
      start: Buffer;
      end: Buffer | undefined;
      max: number;
      keyOf: (v: T) => string;
      skip: (v: T) => boolean;
      take: (v: T) => void;
    },
  ): { commonPrefixes: string[]; isTruncated: boolean; last?: { prefix: string } | { entry: T } } {
    const commonPrefixes: string[] = [];
    let taken = 0;
    let start = o.start;
    let last: { prefix: string } | { entry: T } | undefined;
    for (;;) {
      let jump: Buffer | undefined;
      for (const { value } of db.getRange({ start, end: o.end })) {
        if (o.skip(value)) continue;
        const key = o.keyOf(value);
        const cp = o.delimiter ? commonPrefixOf(key, o.prefix, o.delimiter) : undefined;
        if (cp !== undefined && o.marker !== undefined && compareKeys(cp, o.marker) <= 0) {
          // Returned on an earlier page: jump past everything under it.
          jump = prefixSuccessor(currentKey(o.bucket, cp));
          break;
        }
        if (taken + commonPrefixes.length >= o.max) return { commonPrefixes, isTruncated: true, last };
        if (cp !== undefined) {
          commonPrefixes.push(cp);
          last = { prefix: cp };
          jump = prefixSuccessor(currentKey(o.bucket, cp));
          break;
        }
        o.take(value);
        taken++;
        last = { entry: value };
      }
      if (!jump) return { commonPrefixes, isTruncated: false, last };
      start = jump;
    }
  }

  listVersions(input: ListVersionsInput): ListVersionsResult {
    const { bucket, prefix, delimiter, keyMarker, versionIdMarker, maxKeys } = input;
    if (maxKeys === 0 || beyondKeys(prefix)) return { entries: [], commonPrefixes: [], isTruncated: false };
    const entries: VersionEntry[] = [];
    let start: Buffer = versionStackPrefix(bucket, prefix).subarray(0, -1);
    let previousKey: string | undefined;
    let skipThrough: { key: string; versionId: string } | undefined;
    let skipKeysThrough: string | undefined;
    if (keyMarker !== undefined && beyondKeys(keyMarker)) {
      start = versionStackPrefix(bucket, seekable(keyMarker)).subarray(0, -1);
      skipKeysThrough = keyMarker;
    } else if (keyMarker !== undefined && compareKeys(keyMarker, prefix) >= 0) {
      const marked = versionIdMarker !== undefined ? this.#find(bucket, keyMarker, versionIdMarker) : undefined;
      if (marked) {
        start = versionKey(bucket, keyMarker, marked.lastModified, marked.versionId);
        skipThrough = { key: marked.key, versionId: marked.versionId };
        previousKey = keyMarker;
      } else {
        start = prefixSuccessor(versionStackPrefix(bucket, keyMarker)) ?? start;
      }
    }
    const scan = this.#rolledUp(this.#versions, {
      bucket,
      prefix,
      delimiter,
      marker: keyMarker,
      start,
      end: prefixSuccessor(versionStackPrefix(bucket, prefix).subarray(0, -1)),
      max: maxKeys,
      keyOf: (v) => v.key,
      skip: (v) =>
        (skipThrough !== undefined && v.key === skipThrough.key && v.versionId === skipThrough.versionId) ||
        (skipKeysThrough !== undefined && compareKeys(v.key, skipKeysThrough) <= 0),
      take: (v) => {
        entries.push({ version: v, isLatest: v.key !== previousKey });
        previousKey = v.key;
      },
    });
    const last = scan.last && ('prefix' in scan.last ? { key: scan.last.prefix } : scan.last.entry);
    return {
      entries,
      commonPrefixes: scan.commonPrefixes,
      isTruncated: scan.isTruncated,
      nextKeyMarker: scan.isTruncated ? last?.key : undefined,
      nextVersionIdMarker: scan.isTruncated && last && 'versionId' in last ? last.versionId : undefined,
    };
  }


  // ---- replication outbox ----

  /** Queues replications inside the caller's transaction, numbering them in order. */
  #enqueue(entries: readonly Omit<OutboxEntry, 'seq'>[]): void {
    let seq = this.#counters.get('outbox') ?? 0;
    for (const e of entries) {
      seq++;
      void this.#outbox.put(outboxKey(e.destination, seq), { ...e, seq });
      const q = queuedKey(e);
      void this.#queued.put(q, (this.#queued.get(q) ?? 0) + 1);
    }
    void this.#counters.put('outbox', seq);
  }

  peekOutbox(destination: string, afterSeq: number, limit: number): OutboxEntry[] {
    const end = prefixSuccessor(outboxKey(destination, 0).subarray(0, -8));
    return [
      ...this.#outbox.getRange({ start: outboxKey(destination, afterSeq + 1), end, limit }).map(({ value }) => value),
    ];
  }

  outboxDestinations(): string[] {
    const out: string[] = [];
    let start: Buffer | undefined = Buffer.alloc(0);
    while (start) {
      let found: OutboxEntry | undefined;
      for (const { value } of this.#outbox.getRange({ start, limit: 1 })) found = value;
      if (!found) break;
      out.push(found.destination);
      start = prefixSuccessor(outboxKey(found.destination, 0).subarray(0, -8));
    }
    return out;
  }

  finishOutbox(entry: OutboxEntry, state: DestinationState): Promise<void> {
    // Not awaited to disk: if a crash loses this, the entry is carried out again, and the
    // destination stores the same version id again (replication is idempotent).
    return this.#root.childTransaction(() => {
      const k = outboxKey(entry.destination, entry.seq);
      if (!this.#outbox.get(k)) return;
      void this.#outbox.remove(k);
      const q = queuedKey(entry);
      const left = (this.#queued.get(q) ?? 1) - 1;
      if (left > 0) void this.#queued.put(q, left);
      else void this.#queued.remove(q);
      const v = this.#find(entry.bucket, entry.key, entry.versionId);
      if (!v) return;
      // A later operation for the same version and destination is still queued: it stays
      // PENDING until that one is done too (a failure is recorded at once).
      const outcome: DestinationState = state.status === 'COMPLETED' && left > 0 ? { status: 'PENDING' } : state;
      // A batch job's copy keeps its job's name: a job restarted after a crash finds its own.
      const recorded = entry.jobId !== undefined ? { ...outcome, job: entry.jobId } : outcome;
      this.#rewrite({ ...v, replication: { ...v.replication, [entry.destination]: recorded } });
    });
  }

  isBlobReferenced(id: string): boolean {
    return this.#blobrefs.doesExist(id);
  }

  async close(): Promise<void> {
    await this.#root.flushed;
    await this.#root.close();
  }
}

/** Keys are at most 1024 bytes of UTF-8 (S3's limit, enforced where requests come in). */
const MAX_KEY_BYTES = 1024;

/** A listing prefix or marker longer than any key can be. */
function beyondKeys(s: string): boolean {
  return s.length > MAX_KEY_BYTES / 4 && Buffer.byteLength(s) > MAX_KEY_BYTES;
}

/**
 * Where a scan past `marker` may start: the marker itself, or for one longer than any key
 * (which LMDB could not seek to: its keys end at 1978 bytes) its longest head of at most
 * 1024 bytes, which sorts before it; the scan then skips what still sorts up to the marker.
 */
function seekable(marker: string): string {
  if (!beyondKeys(marker)) return marker;
  let head = '';
  let bytes = 0;
  for (const ch of marker) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > MAX_KEY_BYTES) break;
    head += ch;
    bytes += n;
  }
  return head;
}

/** The key counting a version's queued operations for one destination. */
function queuedKey(e: Pick<OutboxEntry, 'destination' | 'bucket' | 'key' | 'versionId'>): string {
  return `${e.destination}\u0000${e.bucket}\u0000${e.versionId}\u0000${e.key}`;
}

function noSuchUpload(uploadId: string): S3Error {
  return new S3Error('NoSuchUpload', undefined, { fields: { UploadId: uploadId } });
}

/** The common prefix `key` rolls up into under `prefix` and `delimiter`, if any. */
export function commonPrefixOf(key: string, prefix: string, delimiter: string): string | undefined {
  const i = key.indexOf(delimiter, prefix.length);
  return i === -1 ? undefined : key.slice(0, i + delimiter.length);
}

/** Whether `a` comes before `b` in a version stack: newer (lastModified, versionId) first. */
function sortsAbove(a: ObjectVersion, b: ObjectVersion): boolean {
  if (a.lastModified !== b.lastModified) return a.lastModified > b.lastModified;
  return Buffer.compare(Buffer.from(a.versionId), Buffer.from(b.versionId)) > 0;
}
