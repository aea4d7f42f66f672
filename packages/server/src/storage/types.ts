import type { Readable } from 'node:stream';
import type { ChecksumAlgorithm } from './checksum.ts';

/**
 * The storage boundary. Handlers call an `ObjectEngine`; the engine keeps metadata in a
 * `MetaStore` and object bytes either inline in the metadata store (small objects) or in a
 * `BlobStore` (files). Neither store is visible above the engine.
 */

export type VersioningState = 'Unversioned' | 'Enabled' | 'Suspended';

export type Permission = 'FULL_CONTROL' | 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP';

export type Grantee =
  | { type: 'CanonicalUser'; id: string }
  | { type: 'Group'; uri: string }
  | { type: 'AmazonCustomerByEmail'; email: string };

/** One entry of an access control list. */
export interface Grant {
  grantee: Grantee;
  permission: Permission;
}

export interface Tag {
  key: string;
  value: string;
}

export type RuleStatus = 'Enabled' | 'Disabled';

/** A V2 rule's Filter, kept in the form it was given so GET returns the same document. */
export type ReplicationFilter =
  | { kind: 'all' }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'tag'; tag: Tag }
  | { kind: 'and'; prefix?: string; tags: Tag[] };

export interface ReplicationDestination {
  /** the destination bucket's name, from its ARN */
  bucket: string;
  /** `arn:aws:s3:::<bucket>` as given */
  arn: string;
  account?: string;
  storageClass?: string;
  /** AccessControlTranslation/Owner (only `Destination` exists) */
  ownerOverride?: 'Destination';
  replicaKmsKeyId?: string;
  replicationTime?: { status: RuleStatus; minutes: number };
  metrics?: { status: RuleStatus; minutes?: number };
}

export interface ReplicationRule {
  id: string;
  status: RuleStatus;
  /** V2 only */
  priority?: number;
  /** V1 only: the rule-level Prefix */
  prefix?: string;
  /** V2 only */
  filter?: ReplicationFilter;
  deleteMarkerReplication?: RuleStatus;
  sseKmsEncryptedObjects?: RuleStatus;
  replicaModifications?: RuleStatus;
  existingObjectReplication?: RuleStatus;
  destination: ReplicationDestination;
}

/** The settings of a bucket that its subresource operations replace. */
export type BucketSettings = Partial<
  Pick<BucketRecord, 'acl' | 'tags' | 'replication' | 'policy' | 'publicAccessBlock' | 'objectOwnership'>
>;

/** A bucket's replication configuration, as PutBucketReplication stored it. */
export interface ReplicationConfiguration {
  role: string;
  rules: ReplicationRule[];
}

export interface BucketRecord {
  name: string;
  region: string;
  owner: string;
  createdAt: number;
  versioning: VersioningState;
  /** The bucket's access control list; absent means private (the owner has FULL_CONTROL). */
  acl?: Grant[];
  tags?: Tag[];
  replication?: ReplicationConfiguration;
  /** the bucket policy, as the JSON text PutBucketPolicy stored */
  policy?: string;
  publicAccessBlock?: PublicAccessBlock;
  /**
   * S3 Object Ownership (PutBucketOwnershipControls). New buckets get BucketOwnerEnforced;
   * absent means the controls were deleted (or the bucket predates them): ACLs are enabled and
   * the writer owns what it writes, as under ObjectWriter.
   */
  objectOwnership?: ObjectOwnership;
}

/**
 * Who owns the objects of a bucket: BucketOwnerEnforced disables ACLs and gives the bucket
 * owner every object; BucketOwnerPreferred gives it objects written with the
 * bucket-owner-full-control canned ACL; ObjectWriter leaves each object to its writer.
 */
export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';

/** Block Public Access settings (of a bucket or an account). */
export interface PublicAccessBlock {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

/** Where a version's bytes are. A version of size 0 has no data. */
export type DataRef =
  | { kind: 'none' }
  | { kind: 'inline'; id: string }
  | { kind: 'blob'; id: string }
  /** A completed multipart upload: its parts' blobs, in order, listed by a manifest. */
  | { kind: 'parts'; id: string };

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
  /** The object's tag set, if it has one. */
  tags?: Tag[];
  /** The object's access control list; absent means private (the owner has FULL_CONTROL). */
  acl?: Grant[];
  /** How many parts a multipart object was assembled from. */
  partsCount?: number;
  /** Where this version stands in replication to each destination bucket (source side). */
  replication?: Record<string, DestinationState>;
  /** This version was written by replication from another bucket. */
  replica?: boolean;
  /**
   * When the tags or ACL last changed (ms), if after the version was written: replicated
   * metadata changes apply only over older ones, so two-way replicas converge.
   */
  metadataModified?: number;
  data: DataRef;
}

export type ReplicationStatus = 'PENDING' | 'COMPLETED' | 'FAILED';

/** One destination's view of a version being replicated. */
export interface DestinationState {
  status: ReplicationStatus;
  /** an S3 replication failure reason, e.g. `DstBucketNotFound` */
  reason?: string;
  /** when the destination acknowledged the copy, ms */
  completedAt?: number;
  /** the batch replication job that queued it, if one did */
  job?: string;
}

/** What replication does with a version. */
export type ReplicationOperation = 'object' | 'delete-marker' | 'metadata';

/**
 * One replication to carry out: a version (or delete marker, or metadata change) of a source
 * key, for one destination bucket. Written in the same transaction as what it replicates.
 */
export interface OutboxEntry {
  /** assigned by the store: entries for one destination are carried out in this order */
  seq: number;
  destination: string;
  bucket: string;
  key: string;
  versionId: string;
  operation: ReplicationOperation;
  ruleId: string;
  /** the storage class the replica gets, when the rule overrides it */
  storageClass?: string;
  /** the account that owns the replica, when the rule translates ownership */
  owner?: string;
  /** when the source wrote the version, ms */
  enqueuedAt: number;
  /** bytes to transfer */
  size: number;
  /** the batch replication job that queued it (absent for live replication) */
  jobId?: string;
}

/** What a batch replication job selects by (S3 `ObjectReplicationStatuses`). */
export type ExistingReplicationStatus = 'NONE' | 'FAILED' | 'COMPLETED' | 'REPLICA';

/**
 * One page of a batch replication job (`ObjectEngine.replicateExisting`): which versions of a
 * bucket to look at and which of them to queue again.
 */
export interface ExistingReplicationInput {
  bucket: string;
  /** tags the queued entries, so the job learns each one's outcome */
  jobId: string;
  /** only keys under this prefix are listed */
  prefix?: string;
  /** S3 `KeyNameConstraint`: a key must match one of each list that is given */
  keyNames?: { prefixes?: string[]; suffixes?: string[]; substrings?: string[] };
  /** versions written in [createdAfter, createdBefore), ms */
  createdAfter?: number;
  createdBefore?: number;
  /** the versions' replication states to select (all when absent or empty) */
  statuses?: ExistingReplicationStatus[];
  /** resume after this version (the previous page's `next`) */
  after?: { key: string; versionId: string };
  /** versions to look at in this page */
  limit: number;
  /** only report what would be queued (to count a job's tasks before it runs) */
  dryRun?: boolean;
}

export interface ExistingReplicationPage {
  /**
   * The versions queued (or, in a dry run, that would be), with their destinations; and the
   * versions this job had queued already (a page queued before a crash and not recorded by
   * the job), with what became of the copies that are done (`settled`).
   */
  selected: {
    key: string;
    versionId: string;
    size: number;
    destinations: string[];
    settled?: { destination: string; state: DestinationState }[];
  }[];
  /** how many versions were looked at */
  scanned: number;
  /** where the next page starts; absent when the bucket has been gone through */
  next?: { key: string; versionId: string };
}

/** One part of a multipart upload, or of the object it became. */
export interface PartRecord {
  partNumber: number;
  size: number;
  /** hex MD5 of the part, without quotes */
  etag: string;
  lastModified: number;
  /** the part's flexible checksum: in the upload's algorithm, or the one the client sent */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  /** The blob holding the part's bytes; an empty part has none. */
  blob?: string;
}

export interface UploadChecksum {
  algorithm: ChecksumAlgorithm;
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

/** An in-progress multipart upload and what the object it completes into will carry. */
export interface UploadRecord extends ContentHeaders {
  bucket: string;
  key: string;
  uploadId: string;
  initiated: number;
  owner: string;
  storageClass: string;
  userMetadata: Record<string, string>;
  checksum?: UploadChecksum;
  tags?: Tag[];
  acl?: Grant[];
}

export interface ListUploadsInput {
  bucket: string;
  prefix: string;
  delimiter?: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  maxUploads: number;
}

export interface ListUploadsResult {
  uploads: UploadRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

export interface ListPartsResult {
  parts: PartRecord[];
  isTruncated: boolean;
}

/**
 * Completes an upload atomically: `assemble` sees the upload and all its parts as they are at
 * commit time and returns the new version with the parts it is made of (or throws, which
 * leaves the upload untouched).
 */
export interface CompleteUploadWrite {
  bucket: string;
  key: string;
  uploadId: string;
  assemble(
    upload: UploadRecord,
    parts: PartRecord[],
  ): { version: ObjectVersion; parts: PartRecord[]; outbox?: Omit<OutboxEntry, 'seq'>[] };
  precondition?: (current: ObjectVersion | undefined) => void;
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
  /** Replications to queue with the version, in the same transaction. */
  outbox?: Omit<OutboxEntry, 'seq'>[];
  /** The part list of a version whose data is `parts`, stored as its manifest. */
  parts?: PartRecord[];
}

export interface VersionWriteResult {
  /** versions the write displaced (the previous `null` version) */
  removed: ObjectVersion[];
  /** blobs no longer referenced by anything, whose files can go */
  freed: string[];
}

export interface DeleteVersionResult {
  removed?: ObjectVersion;
  freed: string[];
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
  /**
   * Deletes a bucket that holds no versions, aborting its in-progress multipart uploads
   * (whose blobs are `freed`).
   */
  deleteBucket(name: string): Promise<{ status: 'deleted' | 'missing' | 'not-empty'; freed: string[] }>;

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
  deleteVersion(bucket: string, key: string, versionId: string): Promise<DeleteVersionResult>;
  /**
   * Rewrites a version in place (its tags or ACL): `update` gets the version (the top of the
   * stack without an id) and returns the new record, which keeps its key, id, time and data.
   * Resolves the new record, or undefined if there is no such version. `outbox` names the
   * replications the change needs (it may mark the record's replication state), queued in
   * the same transaction.
   */
  updateVersion(
    bucket: string,
    key: string,
    versionId: string | undefined,
    update: (v: ObjectVersion) => ObjectVersion,
    outbox?: (next: ObjectVersion) => Omit<OutboxEntry, 'seq'>[] | undefined,
  ): Promise<ObjectVersion | undefined>;
  /** The parts of a multipart object (`data.kind === 'parts'`), in order. */
  getManifest(id: string): PartRecord[] | undefined;

  /** Starts a multipart upload; throws NoSuchBucket. */
  createUpload(upload: UploadRecord): Promise<void>;
  getUpload(bucket: string, key: string, uploadId: string): UploadRecord | undefined;
  /** Adds or replaces a part; throws NoSuchUpload if the upload is gone (completed or aborted). */
  putPart(bucket: string, key: string, uploadId: string, part: PartRecord): Promise<{ freed: string[] }>;
  /** Parts with numbers above `after`, in order. */
  listParts(uploadId: string, after: number, maxParts: number): ListPartsResult;
  listUploads(input: ListUploadsInput): ListUploadsResult;
  /** Removes an upload and its parts; throws NoSuchUpload. */
  abortUpload(bucket: string, key: string, uploadId: string): Promise<{ freed: string[] }>;
  /** Turns an upload into a version; throws NoSuchUpload if it is gone. */
  completeUpload(write: CompleteUploadWrite): Promise<VersionWriteResult & { version: ObjectVersion }>;

  /** Current, non-delete-marker versions in key order. */
  listObjects(input: ListObjectsInput): ListObjectsResult;
  listVersions(input: ListVersionsInput): ListVersionsResult;

  /** Queued replications for one destination bucket, in order, after `afterSeq`. */
  peekOutbox(destination: string, afterSeq: number, limit: number): OutboxEntry[];
  /** The destination buckets that have queued replications. */
  outboxDestinations(): string[];
  /**
   * Removes a replication from the queue and records its outcome on the version it
   * replicated (if that version still exists), atomically. The one write that may resolve
   * before it is durable: losing it only means the replication is carried out again.
   */
  finishOutbox(entry: OutboxEntry, state: DestinationState): Promise<void>;

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
  tags?: Tag[];
  acl?: Grant[];
}

export interface CreateUploadInput extends ContentHeaders {
  bucket: string;
  key: string;
  owner: string;
  storageClass?: string;
  userMetadata: Record<string, string>;
  checksum?: UploadChecksum;
  tags?: Tag[];
  acl?: Grant[];
}

export interface UploadPartInput {
  bucket: string;
  key: string;
  uploadId: string;
  partNumber: number;
  body: Readable;
  contentLength?: number;
  contentMd5?: string;
  checksum?: PutObjectInput['checksum'];
}

/** A part as the client lists it in CompleteMultipartUpload. */
export interface CompletedPart {
  partNumber: number;
  /** without quotes */
  etag: string;
  /** base64 checksum of the part in the upload's algorithm, if the client sent one */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

export interface CompleteUploadInput {
  bucket: string;
  key: string;
  uploadId: string;
  parts: CompletedPart[];
  /** A full-object checksum the client sent with the request, checked against the result. */
  expectedChecksum?: { algorithm: ChecksumAlgorithm; value: string; type?: UploadChecksum['type'] };
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

/**
 * Decides which destinations a version replicates to (the replication rules), given to the
 * engine by the composition root so the engine can queue them in the version's transaction.
 */
export type ReplicationPlanner = (
  bucket: BucketRecord,
  version: ObjectVersion,
  operation: ReplicationOperation,
) => { destination: string; ruleId: string; storageClass?: string; owner?: string }[];

/** A version written by replication: the source's identity, time and digests are kept. */
export interface ReplicaWrite extends ContentHeaders {
  bucket: string;
  key: string;
  versionId: string;
  lastModified: number;
  deleteMarker?: boolean;
  /** only the tags and ACL of a version the destination already has changed */
  metadataOnly?: boolean;
  /** when the source's tags or ACL last changed */
  metadataModified?: number;
  /** ownership was translated to the destination's account: the source's ACL does not apply */
  aclTranslated?: boolean;
  /** the bytes (absent for a delete marker and a metadata change) */
  body?: Readable;
  contentLength?: number;
  /** the source's ETag, checked against the bytes when it is a plain MD5 */
  etag?: string;
  checksum?: StoredChecksum;
  partsCount?: number;
  /** a multipart source's parts (numbers, sizes, ETags, checksums): the replica keeps them */
  parts?: Pick<PartRecord, 'partNumber' | 'size' | 'etag' | 'checksum'>[];
  storageClass?: string;
  owner: string;
  userMetadata?: Record<string, string>;
  tags?: Tag[];
  acl?: Grant[];
}

export interface ObjectEngine {
  readonly region: string;
  getBucket(name: string): BucketRecord | undefined;
  listBuckets(): BucketRecord[];
  createBucket(input: {
    name: string;
    owner: string;
    acl?: Grant[];
    objectOwnership?: ObjectOwnership;
    publicAccessBlock?: PublicAccessBlock;
  }): Promise<BucketRecord>;
  deleteBucket(name: string): Promise<void>;
  /** Enables or suspends versioning; resolves the updated bucket, or undefined if it is gone. */
  setVersioning(name: string, status: 'Enabled' | 'Suspended'): Promise<BucketRecord | undefined>;
  /** Replaces a bucket's ACL, tag set or replication configuration (`undefined` removes one); throws NoSuchBucket. */
  updateBucket(name: string, patch: BucketSettings): Promise<BucketRecord>;

  putObject(input: PutObjectInput): Promise<ObjectVersion>;
  /** Metadata of a version; throws NoSuchKey / NoSuchVersion / MethodNotAllowed as S3 does. */
  headObject(input: GetObjectInput): ObjectVersion;
  /** Opens the bytes of a version (or a range of them). */
  getObject(input: GetObjectInput & { range?: ByteRange }): OpenedObject;
  deleteObject(input: GetObjectInput): Promise<DeleteObjectResult>;
  /**
   * Rewrites the tags or ACL of a version (`update` returns the new record; it must keep the
   * key, id, time and data). Throws as headObject does for missing versions and delete markers.
   */
  updateObject(input: GetObjectInput, update: (v: ObjectVersion) => ObjectVersion): Promise<ObjectVersion>;
  /** The parts a multipart object was assembled from, in order; undefined for other objects. */
  partsOf(version: ObjectVersion): PartRecord[] | undefined;

  createMultipartUpload(input: CreateUploadInput): Promise<UploadRecord>;
  /** The upload, or NoSuchUpload. */
  getUpload(bucket: string, key: string, uploadId: string): UploadRecord;
  uploadPart(input: UploadPartInput): Promise<PartRecord>;
  completeMultipartUpload(input: CompleteUploadInput): Promise<ObjectVersion>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  listParts(bucket: string, key: string, uploadId: string, after: number, maxParts: number): ListPartsResult & { upload: UploadRecord };
  listMultipartUploads(input: ListUploadsInput): ListUploadsResult;
  listObjects(input: ListObjectsInput): ListObjectsResult;
  listVersions(input: ListVersionsInput): ListVersionsResult;

  /**
   * Stores a version replicated from another bucket under its source's version id and time
   * (replacing a copy of it stored before). The bucket must have versioning enabled.
   */
  putReplica(write: ReplicaWrite): Promise<ObjectVersion>;
  /**
   * Queues again the replications of versions that FAILED (in `bucket`, under `prefix`) for
   * the destinations they failed for; resolves how many versions were queued.
   */
  retryFailedReplications(bucket: string, prefix?: string): Promise<number>;
  /**
   * One page of a batch replication job: looks at up to `limit` versions after `after` and
   * queues the selected ones for every destination the bucket's rules send them to, marking
   * them PENDING as a write would. Throws NoSuchBucket.
   */
  replicateExisting(input: ExistingReplicationInput): Promise<ExistingReplicationPage>;
    /** A version exactly as stored (delete markers included), or undefined. */
  getVersion(bucket: string, key: string, versionId: string): ObjectVersion | undefined;
  /** Queued replications for one destination bucket, in order, after `afterSeq`. */
  peekReplications(destination: string, afterSeq: number, limit: number): OutboxEntry[];
  replicationDestinations(): string[];
  /** Dequeues a replication and records its outcome on the source version. */
  finishReplication(entry: OutboxEntry, state: DestinationState): Promise<void>;
  /** Called after replications are queued (to wake the workers); returns an unsubscribe. */
  onReplicationQueued(listener: (destinations: string[]) => void): () => void;

  /** Removes blob files no version refers to (left by a crash between write and commit). */
  sweepOrphans(olderThanMs: number, signal?: AbortSignal): Promise<number>;
  close(): Promise<void>;
}
