import { open, type Database, type RootDatabase } from 'lmdb';
import { S3Error } from '../core/errors.ts';
import {
  bucketPrefix,
  compareKeys,
  currentKey,
  prefixSuccessor,
  versionKey,
  versionStackPrefix,
} from './keys.ts';
import type {
  BucketRecord,
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
 *
 * Invariants, kept by doing every mutation in one LMDB write transaction:
 * - `current[k]` equals the first entry of k's version stack when that entry is not a
 *   delete marker, and is absent otherwise.
 * - every `data` reference of a version in `versions` has its `inline` or `blobrefs` entry,
 *   and no entry exists without such a version.
 * - no version exists for a bucket that is not in `buckets`.
 *
 * Writes are acknowledged only after the commit is flushed to disk. lmdb-js batches the
 * writes of one event turn into one transaction, so concurrent PUTs share one fsync.
 */
export class LmdbMetaStore implements MetaStore {
  readonly #root: RootDatabase;
  readonly #buckets: Database<BucketRecord, string>;
  readonly #versions: Database<ObjectVersion, Buffer>;
  readonly #current: Database<ObjectVersion, Buffer>;
  readonly #inline: Database<Buffer, string>;
  readonly #blobrefs: Database<number, string>;
  /** Bucket records, read on every request; this process is the only writer of its region. */
  readonly #bucketCache = new Map<string, BucketRecord | null>();

  constructor(path: string) {
    this.#root = open({ path, compression: false });
    this.#buckets = this.#root.openDB<BucketRecord, string>({ name: 'buckets' });
    this.#versions = this.#root.openDB<ObjectVersion, Buffer>({ name: 'versions', keyEncoding: 'binary' });
    this.#current = this.#root.openDB<ObjectVersion, Buffer>({ name: 'current', keyEncoding: 'binary' });
    this.#inline = this.#root.openDB<Buffer, string>({ name: 'inline', encoding: 'binary' });
    this.#blobrefs = this.#root.openDB<number, string>({ name: 'blobrefs' });
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
        const next = { ...existing, ...patch, name };
        void this.#buckets.put(name, next);
        return next;
      });
    } finally {
      this.#bucketCache.delete(name);
    }
  }

  async deleteBucket(name: string): Promise<'deleted' | 'missing' | 'not-empty'> {
    try {
      return await this.#durably(() => {
        if (!this.#buckets.get(name)) return 'missing';
        const prefix = bucketPrefix(name);
        for (const _ of this.#versions.getKeys({ start: prefix, end: prefixSuccessor(prefix), limit: 1 })) {
          return 'not-empty';
        }
        void this.#buckets.remove(name);
        return 'deleted';
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
    const v = write.version;
    return this.#durably(() => {
      if (!this.#buckets.get(v.bucket)) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: v.bucket } });
      if (v.data.kind === 'inline' && !write.inline) throw new Error('inline data missing for an inline version');
      write.precondition?.(this.#current.get(currentKey(v.bucket, v.key)));
      const removed: ObjectVersion[] = [];
      const top = this.#top(v.bucket, v.key);
      const same = write.freshId ? undefined : this.#find(v.bucket, v.key, v.versionId);
      if (same) {
        this.#removeEntry(same);
        removed.push(same);
      }
      void this.#versions.put(versionKey(v.bucket, v.key, v.lastModified, v.versionId), v);
      if (v.data.kind === 'inline') {
        void this.#inline.put(v.data.id, write.inline!);
      } else if (v.data.kind === 'blob') {
        void this.#blobrefs.put(v.data.id, 1);
      }
      if (!top || (same && same.versionId === top.versionId)) {
        this.#refreshCurrent(v.bucket, v.key);
      } else if (sortsAbove(v, top)) {
        const ck = currentKey(v.bucket, v.key);
        if (v.isDeleteMarker) void this.#current.remove(ck);
        else void this.#current.put(ck, v);
      }
      return { removed };
    });
  }

  deleteVersion(bucket: string, key: string, versionId: string): Promise<ObjectVersion | undefined> {
    return this.#durably(() => {
      const existing = this.#find(bucket, key, versionId);
      if (!existing) return undefined;
      this.#removeEntry(existing);
      this.#refreshCurrent(bucket, key);
      return existing;
    });
  }

  #removeEntry(v: ObjectVersion): void {
    void this.#versions.remove(versionKey(v.bucket, v.key, v.lastModified, v.versionId));
    if (v.data.kind === 'inline') void this.#inline.remove(v.data.id);
    else if (v.data.kind === 'blob') void this.#blobrefs.remove(v.data.id);
  }

  #refreshCurrent(bucket: string, key: string): void {
    const top = this.#top(bucket, key);
    const ck = currentKey(bucket, key);
    if (top && !top.isDeleteMarker) void this.#current.put(ck, top);
    else void this.#current.remove(ck);
  }

  listObjects(input: ListObjectsInput): ListObjectsResult {
    const { bucket, prefix, delimiter, after, maxKeys } = input;
    // S3 answers max-keys=0 with an empty, untruncated page.
    if (maxKeys === 0) return { objects: [], commonPrefixes: [], isTruncated: false };
    const objects: ObjectVersion[] = [];
    const commonPrefixes: string[] = [];
    const end = prefixSuccessor(currentKey(bucket, prefix));
    let start = currentKey(bucket, after !== undefined && compareKeys(after, prefix) > 0 ? after : prefix);
    let lastReturned: string | undefined;
    let isTruncated = false;

    scan: while (true) {
      for (const { value: v } of this.#current.getRange({ start, end })) {
        if (after !== undefined && compareKeys(v.key, after) <= 0) continue;
        const cp = delimiter ? commonPrefixOf(v.key, prefix, delimiter) : undefined;
        if (cp !== undefined && after !== undefined && compareKeys(cp, after) <= 0) {
          // Already returned on an earlier page: jump past everything under it.
          const next = prefixSuccessor(currentKey(bucket, cp));
          if (!next) break scan;
          start = next;
          continue scan;
        }
        if (objects.length + commonPrefixes.length >= maxKeys) {
          isTruncated = true;
          break scan;
        }
        if (cp !== undefined) {
          commonPrefixes.push(cp);
          lastReturned = cp;
          const next = prefixSuccessor(currentKey(bucket, cp));
          if (!next) break scan;
          start = next;
          continue scan;
        }
        objects.push(v);
        lastReturned = v.key;
      }
      break;
    }
    return { objects, commonPrefixes, isTruncated, lastReturned: isTruncated ? lastReturned : undefined };
  }

  listVersions(input: ListVersionsInput): ListVersionsResult {
    const { bucket, prefix, delimiter, keyMarker, versionIdMarker, maxKeys } = input;
    if (maxKeys === 0) return { entries: [], commonPrefixes: [], isTruncated: false };
    const entries: VersionEntry[] = [];
    const commonPrefixes: string[] = [];
    const end = prefixSuccessor(versionStackPrefix(bucket, prefix).subarray(0, -1));
    let start: Buffer = versionStackPrefix(bucket, prefix).subarray(0, -1);
    let previousKey: string | undefined;
    let skipThrough: { key: string; lastModified: number; versionId: string } | undefined;

    if (keyMarker !== undefined && compareKeys(keyMarker, prefix) >= 0) {
      const marked = versionIdMarker !== undefined ? this.#find(bucket, keyMarker, versionIdMarker) : undefined;
      if (marked) {
        start = versionKey(bucket, keyMarker, marked.lastModified, marked.versionId);
        skipThrough = { key: marked.key, lastModified: marked.lastModified, versionId: marked.versionId };
        previousKey = keyMarker;
      } else {
        start = prefixSuccessor(versionStackPrefix(bucket, keyMarker)) ?? start;
      }
    }

    let isTruncated = false;
    let last: { key: string; versionId?: string } | undefined;
    scan: while (true) {
      for (const { value: v } of this.#versions.getRange({ start, end })) {
        if (skipThrough && v.key === skipThrough.key && v.versionId === skipThrough.versionId) continue;
        const cp = delimiter ? commonPrefixOf(v.key, prefix, delimiter) : undefined;
        if (cp !== undefined && keyMarker !== undefined && compareKeys(cp, keyMarker) <= 0) {
          const next = prefixSuccessor(currentKey(bucket, cp));
          if (!next) break scan;
          start = next;
          continue scan;
        }
        if (entries.length + commonPrefixes.length >= maxKeys) {
          isTruncated = true;
          break scan;
        }
        if (cp !== undefined) {
          commonPrefixes.push(cp);
          last = { key: cp };
          const next = prefixSuccessor(currentKey(bucket, cp));
          if (!next) break scan;
          start = next;
          continue scan;
        }
        entries.push({ version: v, isLatest: v.key !== previousKey });
        previousKey = v.key;
        last = { key: v.key, versionId: v.versionId };
      }
      break;
    }
    return {
      entries,
      commonPrefixes,
      isTruncated,
      nextKeyMarker: isTruncated ? last?.key : undefined,
      nextVersionIdMarker: isTruncated ? last?.versionId : undefined,
    };
  }

  isBlobReferenced(id: string): boolean {
    return this.#blobrefs.doesExist(id);
  }

  async close(): Promise<void> {
    await this.#root.flushed;
    await this.#root.close();
  }
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
