import type { Readable } from 'node:stream';
import type { ChecksumAlgorithm } from './checksum.ts';

/**
 * The storage boundary. Handlers call an `ObjectEngine`; the engine keeps metadata in a
 * `MetaStore` and object bytes either inline in the metadata store (small objects) or in a
 * `BlobStore` (files). Neither store is visible above the engine.
 */

export type VersioningState = 'Unversioned' | 'Enabled' | 'Suspended';

export interface BucketRecord {
  name: string;
  region: string;
  owner: string;
  createdAt: number;
  versioning: VersioningState;
  acl: string;
}

/** Where a version's bytes are. A version of size 0 has no data. */
export type DataRef =
  | { kind: 'none' }
  | { kind: 'inline'; id: string }
  | { kind: 'blob'; id: string };

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64 of the big-endian digest, as S3 returns it */
  value: string;
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

/** Content headers S3 stores with an object and returns on GET/HEAD. */
export interface ContentHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
}

export interface ObjectVersion extends ContentHeaders {
  bucket: string;
  key: string;
  /** `'null'` for the version of an unversioned or versioning-suspended write */
  versionId: string;
  isDeleteMarker: boolean;
  /** milliseconds since the epoch */
  lastModified: number;
  size: number;
  /** hex MD5, or `<hex>-<parts>` for multipart objects; without quotes */
  etag: string;
  storageClass: string;
  owner: string;
  userMetadata: Record<string, string>;
  checksum?: StoredChecksum;
  data: DataRef;
}

/** The byte range of a GET, inclusive, resolved against the object size. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ListObjectsInput {
  bucket: string;
  prefix: string;
  delimiter?: string;
  /** Return only keys strictly greater than this. */
  after?: string;
  maxKeys: number;
}

export interface ListObjectsResult {
  objects: ObjectVersion[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** the last key or common prefix returned, when truncated */
  lastReturned?: string;
}

export interface ListVersionsInput {
  bucket: string;
  prefix: string;
  delimiter?: string;
  keyMarker?: string;
  versionIdMarker?: string;
  maxKeys: number;
}

export interface VersionEntry {
  version: ObjectVersion;
  isLatest: boolean;
}

export interface ListVersionsResult {
  entries: VersionEntry[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

/** A version to insert into a key's version stack, with its inline bytes if any. */
export interface VersionWrite {
  version: ObjectVersion;
  inline?: Buffer;
  /** The version id was just generated, so no version of that id can exist yet. */
  freshId?: boolean;
  /**
   * Checked atomically with the write against the key's current version (undefined when
   * there is none or it is a delete marker); throwing aborts the write.
   */
  precondition?: (current: ObjectVersion | undefined) => void;
}

export interface VersionWriteResult {
  /** versions the write displaced (the previous `null` version), whose bytes can go */
  removed: ObjectVersion[];
}

/**
 * Durable, transactional metadata. Every mutating method is atomic and resolves only once
 * the change is durable; reads see every write whose promise has resolved.
 */
export interface MetaStore {
  getBucket(name: string): BucketRecord | undefined;
  listBuckets(): BucketRecord[];
  /** Creates the bucket; resolves false if a bucket of that name already exists here. */
  createBucket(record: BucketRecord): Promise<boolean>;
  updateBucket(name: string, patch: Partial<Omit<BucketRecord, 'name'>>): Promise<BucketRecord | undefined>;
  /** Deletes an empty bucket: 'deleted', 'missing' or 'not-empty'. */
  deleteBucket(name: string): Promise<'deleted' | 'missing' | 'not-empty'>;

  /** The version `versionId`, or with no id the top of the stack (which may be a delete marker). */
  getVersion(bucket: string, key: string, versionId?: string): ObjectVersion | undefined;
  getInline(id: string): Buffer | undefined;
  /**
   * Inserts a version into its key's stack. Stacks are ordered by (lastModified, versionId),
   * newest first; the first entry is current. A version whose id already exists in the stack
   * replaces it (this is how a `null` version is overwritten).
   */
  putVersion(write: VersionWrite): Promise<VersionWriteResult>;
  /** Removes one version permanently; resolves the removed version, if it existed. */
  deleteVersion(bucket: string, key: string, versionId: string): Promise<ObjectVersion | undefined>;

  /** Current, non-delete-marker versions in key order. */
  listObjects(input: ListObjectsInput): ListObjectsResult;
  listVersions(input: ListVersionsInput): ListVersionsResult;

  /** Whether a blob id is referenced by any version (for the orphan sweeper). */
  isBlobReferenced(id: string): boolean;
  close(): Promise<void>;
}

/** A blob being written: bytes are appended, then made durable, or abandoned. */
export interface BlobWriter {
  readonly id: string;
  write(chunk: Uint8Array): Promise<void>;
  /** fsyncs the bytes and the directory entry; after this the blob survives a crash */
  commit(): Promise<void>;
  /** removes whatever was written */
  abort(): Promise<void>;
}

export interface BlobStore {
  create(): Promise<BlobWriter>;
  /** A stream of the blob's bytes in [start, end] (inclusive), or all of it. */
  read(id: string, range?: ByteRange): Readable;
  delete(id: string): Promise<void>;
  /** Every blob id present, for the orphan sweeper, with the file's modification time. */
  list(): AsyncIterable<{ id: string; mtimeMs: number }>;
  close(): Promise<void>;
}

export interface PutObjectInput extends ContentHeaders {
  bucket: string;
  key: string;
  body: Readable;
  /** The decoded length the client announced, if any. */
  contentLength?: number;
  /** base64 MD5 from `Content-MD5` */
  contentMd5?: string;
  /**
   * The flexible checksum to compute. `expected` is the client's value (header or trailer);
   * it is read after the body ends because trailers arrive after the data.
   */
  checksum?: { algorithm: ChecksumAlgorithm; expected: () => string | undefined };
  userMetadata: Record<string, string>;
  storageClass?: string;
  owner: string;
  /** A conditional write: see VersionWrite.precondition. Checked before and atomically with the commit. */
  precondition?: (current: ObjectVersion | undefined) => void;
}

export interface GetObjectInput {
  bucket: string;
  key: string;
  versionId?: string;
}

export interface OpenedObject {
  version: ObjectVersion;
  /** The requested bytes: a Buffer for inline data, a stream for blobs. */
  body: Buffer | Readable;
}

export interface DeleteObjectResult {
  /** The delete marker created, or the version removed */
  versionId?: string;
  deleteMarker: boolean;
}

export interface ObjectEngine {
  readonly region: string;
  getBucket(name: string): BucketRecord | undefined;
  listBuckets(): BucketRecord[];
  createBucket(input: { name: string; owner: string; acl?: string }): Promise<BucketRecord>;
  deleteBucket(name: string): Promise<void>;
  /** Enables or suspends versioning; resolves the updated bucket, or undefined if it is gone. */
  setVersioning(name: string, status: 'Enabled' | 'Suspended'): Promise<BucketRecord | undefined>;

  putObject(input: PutObjectInput): Promise<ObjectVersion>;
  /** Metadata of a version; throws NoSuchKey / NoSuchVersion / MethodNotAllowed as S3 does. */
  headObject(input: GetObjectInput): ObjectVersion;
  /** Opens the bytes of a version (or a range of them). */
  getObject(input: GetObjectInput & { range?: ByteRange }): OpenedObject;
  deleteObject(input: GetObjectInput): Promise<DeleteObjectResult>;
  listObjects(input: ListObjectsInput): ListObjectsResult;
  listVersions(input: ListVersionsInput): ListVersionsResult;

  /** Removes blob files no version refers to (left by a crash between write and commit). */
  sweepOrphans(olderThanMs: number, signal?: AbortSignal): Promise<number>;
  close(): Promise<void>;
}
