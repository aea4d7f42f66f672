import { Readable } from 'node:stream';
import { S3Error } from '../core/errors.ts';
import { ByteReader } from '../core/streams.ts';
import { NULL_VERSION_ID, VersionIdGenerator, newBlobId } from '../core/ids.ts';
import { BodyDigest, multipartEtag, SplitBodyDigest, type ChecksumAlgorithm } from './checksum.ts';
import type { Md5Pool } from './md5-pool.ts';
import { assembleParts, checkObjectChecksum, MIN_PART_SIZE } from './multipart.ts';
import type {
  BlobStore,
  BlobWriter,
  BucketRecord,
  BucketSettings,
  ByteRange,
  CompleteUploadInput,
  ContentHeaders,
  DestinationState,
  ExistingReplicationInput,
  ExistingReplicationPage,
  OutboxEntry,
  ReplicaWrite,
  ReplicationOperation,
  ReplicationPlanner,
  CreateUploadInput,
  DataRef,
  DeleteObjectResult,
  GetObjectInput,
  Grant,
  ListPartsResult,
  ListUploadsInput,
  ListUploadsResult,
  PartRecord,
  UploadPartInput,
  UploadRecord,
  ListObjectsInput,
  ListObjectsResult,
  ListVersionsInput,
  ListVersionsResult,
  MetaStore,
  ObjectEngine,
  ObjectOwnership,
  ObjectVersion,
  OpenedObject,
  PublicAccessBlock,
  PutObjectInput,
} from './types.ts';

/** Objects up to this size live inside the metadata store: one group-committed write, no file. */
export const DEFAULT_INLINE_MAX = 128 * 1024;

export interface EngineOptions {
  region: string;
  meta: MetaStore;
  blobs: BlobStore;
  inlineMax?: number;
  /** The smallest a multipart upload's non-last part may be (tests lower it). */
  minPartSize?: number;
  /** The replication rules; without them nothing is queued for replication. */
  planner?: ReplicationPlanner;
  /** Workers that hash large bodies off the event loop; without them, hashing stays here. */
  md5?: Md5Pool;
  now?: () => number;
}

/** Bodies from this size on are hashed by the MD5 workers (smaller ones cost less than the hop). */
const OFF_THREAD_MD5_BYTES = 256 * 1024;

export class Engine implements ObjectEngine {
  readonly region: string;
  readonly #meta: MetaStore;
  readonly #blobs: BlobStore;
  readonly #inlineMax: number;
  readonly #now: () => number;
  readonly #minPartSize: number;
  readonly #md5: Md5Pool | undefined;
  readonly #ids = new VersionIdGenerator();
  readonly #uploadIds = new VersionIdGenerator();
  readonly #planner: ReplicationPlanner | undefined;
  readonly #queued = new Set<(destinations: string[]) => void>();

  constructor(opts: EngineOptions) {
    this.region = opts.region;
    this.#meta = opts.meta;
    this.#blobs = opts.blobs;
    this.#inlineMax = opts.inlineMax ?? DEFAULT_INLINE_MAX;
    this.#md5 = opts.md5;
    this.#minPartSize = opts.minPartSize ?? MIN_PART_SIZE;
    this.#planner = opts.planner;
    this.#now = opts.now ?? Date.now;
  }

  getBucket(name: string): BucketRecord | undefined {
    return this.#meta.getBucket(name);
  }

  listBuckets(): BucketRecord[] {
    return this.#meta.listBuckets();
  }

  #bucket(name: string): BucketRecord {
    const b = this.#meta.getBucket(name);
    if (!b) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: name } });
    return b;
  }

  async createBucket(input: {
    name: string;
    owner: string;
    acl?: Grant[];
    objectOwnership?: ObjectOwnership;
    publicAccessBlock?: PublicAccessBlock;
  }): Promise<BucketRecord> {
    const record: BucketRecord = {
      name: input.name,
      region: this.region,
      owner: input.owner,
      createdAt: this.#now(),
      versioning: 'Unversioned',
      acl: input.acl,
      ...(input.objectOwnership !== undefined ? { objectOwnership: input.objectOwnership } : {}),
      ...(input.publicAccessBlock !== undefined ? { publicAccessBlock: { ...input.publicAccessBlock } } : {}),
    };
    const created = await this.#meta.createBucket(record);
    if (!created) throw new S3Error('BucketAlreadyOwnedByYou', undefined, { fields: { BucketName: input.name } });
    return record;
  }

  async deleteBucket(name: string): Promise<void> {
    const { status: result, freed } = await this.#meta.deleteBucket(name);
    await this.#release(freed);
    if (result === 'missing') throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: name } });
    if (result === 'not-empty') throw new S3Error('BucketNotEmpty', undefined, { fields: { BucketName: name } });
  }

  setVersioning(name: string, status: 'Enabled' | 'Suspended'): Promise<BucketRecord | undefined> {
    return this.#meta.updateBucket(name, { versioning: status });
  }

  async updateBucket(name: string, patch: BucketSettings): Promise<BucketRecord> {
    const updated = await this.#meta.updateBucket(name, patch);
    if (!updated) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: name } });
    return updated;
  }

  async putObject(input: PutObjectInput): Promise<ObjectVersion> {
    const bucket = this.#bucket(input.bucket);
    // Fail fast before reading the body; the check is repeated atomically with the commit.
    if (input.precondition) {
      const top = this.#meta.getVersion(input.bucket, input.key);
      input.precondition(top && !top.isDeleteMarker ? top : undefined);
    }
    const body = await this.#ingest(input, { inline: true });
    try {
      const now = this.#writeTime(input.bucket, input.key);
      const version: ObjectVersion = {
        bucket: input.bucket,
        key: input.key,
        versionId: bucket.versioning === 'Enabled' ? this.#ids.next(now) : NULL_VERSION_ID,
        isDeleteMarker: false,
        lastModified: now,
        size: body.size,
        etag: body.md5Hex,
        storageClass: input.storageClass ?? 'STANDARD',
        owner: input.owner,
        userMetadata: input.userMetadata,
        ...contentHeaders(input),
        checksum: body.checksum && { ...body.checksum, type: 'FULL_OBJECT' },
        tags: input.tags?.length ? input.tags : undefined,
        acl: input.acl,
        data: body.data,
      };
      const outbox = this.#plan(bucket, version, 'object');
      const { freed } = await this.#meta.putVersion({
        version,
        inline: body.inline,
        freshId: version.versionId !== NULL_VERSION_ID,
        precondition: input.precondition,
        outbox,
      });
      this.#announce(outbox);
      await this.#release(freed);
      return version;
    } catch (err) {
      await body.discard();
      throw err;
    }
  }

  /**
   * Reads a request body to its end: small ones into memory (when `inline`), the rest into a
   * committed blob, checking the announced length, Content-MD5 and flexible checksum on the
   * way. If it throws, nothing is left behind; after it returns, `discard` undoes the blob.
   */
  async #ingest(input: BodySource, opts: { inline: boolean }): Promise<Ingested> {
    let pending: Buffer[] = [];
    let pendingSize = 0;
    let writer: BlobWriter | undefined;
    const inlineMax = opts.inline ? this.#inlineMax : 0;
    const spill = input.contentLength !== undefined && input.contentLength > inlineMax;
    // A large body is hashed off the event loop, when the engine has workers for it.
    const big = spill && this.#md5 !== undefined && (input.contentLength ?? 0) >= OFF_THREAD_MD5_BYTES;
    const digest = big ? new SplitBodyDigest(this.#md5!.open(), input.checksum?.algorithm) : new BodyDigest(input.checksum?.algorithm);
    try {
      if (spill) writer = await this.#blobs.create();
      for await (const chunk of input.body as AsyncIterable<Buffer>) {
        const wait = digest.update(chunk);
        if (wait) await wait;
        if (!writer) {
          if (pendingSize + chunk.length <= inlineMax) {
            pending.push(chunk);
            pendingSize += chunk.length;
            continue;
          }
          writer = await this.#blobs.create();
          if (pendingSize > 0) await writer.write(Buffer.concat(pending, pendingSize));
          pending = [];
        }
        await writer.write(chunk);
      }
      // A body stream destroyed with an error (a bad chunk signature, say) may end the loop
      // quietly or as a premature close; its own error is the answer, not a short body.
      if (input.body.errored) throw input.body.errored;
      const d = await digest.finish();
      if (input.contentLength !== undefined && d.size !== input.contentLength) {
        throw new S3Error('IncompleteBody');
      }
      if (input.contentMd5 !== undefined && input.contentMd5 !== d.md5Base64) {
        throw new S3Error('BadDigest');
      }
      let checksum: Ingested['checksum'];
      if (input.checksum && d.checksum) {
        const expected = input.checksum.expected();
        if (expected !== undefined && expected !== d.checksum.base64) {
          throw new S3Error(
            'BadDigest',
            `The ${input.checksum.algorithm} you specified did not match the calculated checksum.`,
          );
        }
        checksum = { algorithm: d.checksum.algorithm, value: d.checksum.base64 };
      }
      const base = { size: d.size, md5Hex: d.md5Hex, checksum };
      if (writer) {
        await writer.commit();
        const committed = writer;
        return { ...base, data: { kind: 'blob', id: committed.id }, discard: () => committed.abort() };
      }
      const nothing = () => Promise.resolve();
      if (pendingSize === 0) return { ...base, data: { kind: 'none' }, discard: nothing };
      const inline = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingSize);
      return { ...base, data: { kind: 'inline', id: newBlobId() }, inline, discard: nothing };
    } catch (err) {
      if (digest instanceof SplitBodyDigest) digest.abort();
      await writer?.abort();
      throw input.body.errored ?? err;
    }
  }

  /**
   * The timestamp of a new version of a key. Stacks are ordered by (lastModified, versionId),
   * so a new write must sort above the current top even if the wall clock stepped back or the
   * top was written in this same millisecond.
   */
  #writeTime(bucket: string, key: string): number {
    const top = this.#meta.getVersion(bucket, key);
    return Math.max(this.#now(), top ? top.lastModified + 1 : 0);
  }

  /** Deletes blobs that metadata no longer refers to. */
  async #release(freed: readonly string[]): Promise<void> {
    for (const id of freed) await this.#blobs.delete(id);
  }

  headObject(input: GetObjectInput): ObjectVersion {
    this.#bucket(input.bucket);
    return readable(input, this.#meta.getVersion(input.bucket, input.key, input.versionId));
  }

  async updateObject(input: GetObjectInput, update: (v: ObjectVersion) => ObjectVersion): Promise<ObjectVersion> {
    const bucket = this.#bucket(input.bucket);
    let outbox: Omit<OutboxEntry, 'seq'>[] | undefined;
    const updated = await this.#meta.updateVersion(
      input.bucket,
      input.key,
      input.versionId,
      (v) => ({
        ...update(readable(input, v)),
        metadataModified: Math.max(this.#now(), (v.metadataModified ?? v.lastModified) + 1),
      }),
      // A tag or ACL change replicates like the version did (and, on a replica, goes back to
      // its source where the rules sync replica modifications).
      (next) => (outbox = this.#plan(bucket, next, 'metadata')),
    );
    this.#announce(outbox);
    return readable(input, updated);
  }

  partsOf(version: ObjectVersion): PartRecord[] | undefined {
    return version.data.kind === 'parts' ? this.#meta.getManifest(version.data.id) : undefined;
  }

  getObject(input: GetObjectInput & { range?: ByteRange }): OpenedObject {
    const version = this.headObject(input);
    return { version, body: this.#open(version, input.range) };
  }

  #open(v: ObjectVersion, range?: ByteRange): Buffer | Readable {
    switch (v.data.kind) {
      case 'none':
        return Buffer.alloc(0);
      case 'inline': {
        const bytes = this.#meta.getInline(v.data.id);
        if (!bytes) throw new Error(`inline data ${v.data.id} of ${v.bucket}/${v.key} is missing`);
        return range ? bytes.subarray(range.start, range.end + 1) : bytes;
      }
      case 'blob':
        return this.#blobs.read(v.data.id, range);
      case 'parts': {
        const parts = this.#meta.getManifest(v.data.id);
        if (!parts) throw new Error(`part list ${v.data.id} of ${v.bucket}/${v.key} is missing`);
        return Readable.from(this.#readParts(parts, range ?? { start: 0, end: v.size - 1 }), { objectMode: false });
      }
    }
  }

  /** The bytes of consecutive parts in `range`, one part file open at a time. */
  async *#readParts(parts: readonly PartRecord[], range: ByteRange): AsyncGenerator<Buffer> {
    let offset = 0;
    for (const part of parts) {
      const first = offset;
      const last = offset + part.size - 1;
      offset += part.size;
      if (part.blob === undefined || last < range.start) continue;
      if (first > range.end) break;
      yield* this.#blobs.read(part.blob, {
        start: Math.max(range.start, first) - first,
        end: Math.min(range.end, last) - first,
      }) as AsyncIterable<Buffer>;
    }
  }

  async deleteObject(input: GetObjectInput): Promise<DeleteObjectResult> {
    const bucket = this.#bucket(input.bucket);
    if (input.versionId !== undefined) {
      const { removed, freed } = await this.#meta.deleteVersion(input.bucket, input.key, input.versionId);
      await this.#release(freed);
      return { versionId: input.versionId, deleteMarker: removed?.isDeleteMarker ?? false };
    }
    if (bucket.versioning === 'Unversioned') {
      const { freed } = await this.#meta.deleteVersion(input.bucket, input.key, NULL_VERSION_ID);
      await this.#release(freed);
      return { deleteMarker: false };
    }
    const now = this.#writeTime(input.bucket, input.key);
    const marker: ObjectVersion = {
      bucket: input.bucket,
      key: input.key,
      versionId: bucket.versioning === 'Enabled' ? this.#ids.next(now) : NULL_VERSION_ID,
      isDeleteMarker: true,
      lastModified: now,
      size: 0,
      etag: '',
      storageClass: 'STANDARD',
      owner: bucket.owner,
      userMetadata: {},
      data: { kind: 'none' },
    };
    const outbox = this.#plan(bucket, marker, 'delete-marker');
    const { freed } = await this.#meta.putVersion({
      version: marker,
      freshId: marker.versionId !== NULL_VERSION_ID,
      outbox,
    });
    this.#announce(outbox);
    await this.#release(freed);
    return { versionId: marker.versionId, deleteMarker: true };
  }

  // ---- multipart uploads ----

  async createMultipartUpload(input: CreateUploadInput): Promise<UploadRecord> {
    this.#bucket(input.bucket);
    const now = this.#now();
    const upload: UploadRecord = {
      bucket: input.bucket,
      key: input.key,
      uploadId: this.#uploadIds.next(now),
      initiated: now,
      owner: input.owner,
      storageClass: input.storageClass ?? 'STANDARD',
      userMetadata: input.userMetadata,
      ...contentHeaders(input),
      checksum: input.checksum,
      tags: input.tags?.length ? input.tags : undefined,
      acl: input.acl,
    };
    await this.#meta.createUpload(upload);
    return upload;
  }

  getUpload(bucket: string, key: string, uploadId: string): UploadRecord {
    this.#bucket(bucket);
    const upload = this.#meta.getUpload(bucket, key, uploadId);
    if (!upload) throw new S3Error('NoSuchUpload', undefined, { fields: { UploadId: uploadId } });
    return upload;
  }

  async uploadPart(input: UploadPartInput): Promise<PartRecord> {
    const upload = this.getUpload(input.bucket, input.key, input.uploadId);
    const expected = upload.checksum?.algorithm;
    const sent = input.checksum?.algorithm;
    if (expected !== undefined && sent !== undefined && sent !== expected) {
      throw new S3Error(
        'InvalidRequest',
        `Checksum Type mismatch occurred, expected checksum Type: ${expected.toLowerCase()}, actual checksum Type: ${sent.toLowerCase()}`,
      );
    }
    // The upload's algorithm is computed for every part, whether or not the client sent it.
    const checksum = expected !== undefined ? { algorithm: expected, expected: input.checksum?.expected ?? (() => undefined) } : input.checksum;
    const body = await this.#ingest({ ...input, checksum }, { inline: false });
    try {
      const part: PartRecord = {
        partNumber: input.partNumber,
        size: body.size,
        etag: body.md5Hex,
        lastModified: this.#now(),
        checksum: body.checksum,
        blob: body.data.kind === 'blob' ? body.data.id : undefined,
      };
      const { freed } = await this.#meta.putPart(input.bucket, input.key, input.uploadId, part);
      await this.#release(freed);
      return part;
    } catch (err) {
      await body.discard();
      throw err;
    }
  }

  async completeMultipartUpload(input: CompleteUploadInput): Promise<ObjectVersion> {
    const bucket = this.#bucket(input.bucket);
    const upload = this.getUpload(input.bucket, input.key, input.uploadId);
    if (input.precondition) {
      const top = this.#meta.getVersion(input.bucket, input.key);
      input.precondition(top && !top.isDeleteMarker ? top : undefined);
    }
    // S3 dates a multipart object by its upload's start: a PUT made meanwhile stays newer.
    const lastModified = upload.initiated;
    const versionId = bucket.versioning === 'Enabled' ? this.#ids.next(lastModified) : NULL_VERSION_ID;
    let outbox: Omit<OutboxEntry, 'seq'>[] | undefined;
    const { version, freed } = await this.#meta.completeUpload({
      bucket: input.bucket,
      key: input.key,
      uploadId: input.uploadId,
      precondition: input.precondition,
      assemble: (current, stored) => {
        const assembled = assembleParts(current, stored, input.parts, this.#minPartSize);
        if (input.expectedChecksum) checkObjectChecksum(assembled, input.expectedChecksum);
        const version: ObjectVersion = {
          bucket: input.bucket,
          key: input.key,
          versionId,
          isDeleteMarker: false,
          lastModified,
          size: assembled.size,
          etag: assembled.etag,
          storageClass: current.storageClass,
          owner: current.owner,
          userMetadata: current.userMetadata,
          ...contentHeaders(current),
          checksum: assembled.checksum,
          tags: current.tags,
          acl: current.acl,
          partsCount: assembled.parts.length,
          data: { kind: 'parts', id: newBlobId() },
        };
        outbox = this.#plan(bucket, version, 'object');
        return { version, parts: assembled.parts, outbox };
      },
    });
    this.#announce(outbox);
    await this.#release(freed);
    return version;
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    this.#bucket(bucket);
    const { freed } = await this.#meta.abortUpload(bucket, key, uploadId);
    await this.#release(freed);
  }

  listParts(
    bucket: string,
    key: string,
    uploadId: string,
    after: number,
    maxParts: number,
  ): ListPartsResult & { upload: UploadRecord } {
    const upload = this.getUpload(bucket, key, uploadId);
    return { upload, ...this.#meta.listParts(uploadId, after, maxParts) };
  }

  listMultipartUploads(input: ListUploadsInput): ListUploadsResult {
    this.#bucket(input.bucket);
    return this.#meta.listUploads(input);
  }

  listObjects(input: ListObjectsInput): ListObjectsResult {
    this.#bucket(input.bucket);
    return this.#meta.listObjects(input);
  }

  listVersions(input: ListVersionsInput): ListVersionsResult {
    this.#bucket(input.bucket);
    return this.#meta.listVersions(input);
  }

  // ---- replication ----

  /**
   * The replications a new version needs under its bucket's rules; marks the version PENDING
   * for each destination. Undefined when it needs none.
   */
  #plan(bucket: BucketRecord, version: ObjectVersion, operation: ReplicationOperation): Omit<OutboxEntry, 'seq'>[] | undefined {
    if (!this.#planner || !bucket.replication) return undefined;
    let targets = this.#planner(bucket, version, operation);
    // A tag or ACL change follows the version only where the version itself went.
    // (Live replication never retries a FAILED one: that is `retryFailedReplications`.)
    if (operation === 'metadata' && !version.replica) {
      targets = targets.filter((t) => {
        const state = version.replication?.[t.destination];
        return state !== undefined && state.status !== 'FAILED';
      });
    }
    return pending(version, targets, operation, this.#now());
  }

  #announce(outbox: readonly Omit<OutboxEntry, 'seq'>[] | undefined): void {
    if (!outbox?.length) return;
    const destinations = [...new Set(outbox.map((e) => e.destination))];
    for (const listener of this.#queued) listener(destinations);
  }

  onReplicationQueued(listener: (destinations: string[]) => void): () => void {
    this.#queued.add(listener);
    return () => this.#queued.delete(listener);
  }

  async putReplica(w: ReplicaWrite): Promise<ObjectVersion> {
    const bucket = this.#bucket(w.bucket);
    if (bucket.versioning !== 'Enabled') {
      throw new S3Error('InvalidRequest', 'Destination bucket must have versioning enabled.');
    }
    const base = {
      bucket: w.bucket,
      key: w.key,
      versionId: w.versionId,
      lastModified: w.lastModified,
      owner: w.owner,
      replica: true,
    };
    if (w.metadataOnly) {
      // A change that arrived by replication is not sent on again, and applies only over an
      // older one: when both sides changed a version at once, both keep the later change
      // (or, at the same millisecond, the same one of the two).
      const updated = await this.#meta.updateVersion(w.bucket, w.key, w.versionId, (v) => {
        // Under ownership translation the replica's ACL is its own owner's, never the source's.
        const incoming = { tags: w.tags?.length ? w.tags : undefined, acl: w.aclTranslated ? v.acl : w.acl };
        const at = w.metadataModified ?? w.lastModified;
        const localAt = v.metadataModified ?? v.lastModified;
        const newer =
          at > localAt ||
          (at === localAt && JSON.stringify(incoming) > JSON.stringify({ tags: v.tags, acl: v.acl }));
        return newer ? { ...v, ...incoming, metadataModified: at } : v;
      });
      if (!updated) throw new S3Error('NoSuchVersion', undefined, { fields: { Key: w.key, VersionId: w.versionId } });
      return updated;
    }
    if (w.deleteMarker) {
      const marker: ObjectVersion = {
        ...base,
        isDeleteMarker: true,
        size: 0,
        etag: '',
        storageClass: 'STANDARD',
        userMetadata: {},
        data: { kind: 'none' },
      };
      const { freed } = await this.#meta.putVersion({ version: marker });
      await this.#release(freed);
      return marker;
    }
    if (!w.body) throw new Error('a replicated object needs its bytes');
    if (w.parts?.length) return this.#putMultipartReplica(w, w.body, w.parts);
    // A plain ETag is the MD5 of the bytes and is checked as Content-MD5 would be; a
    // full-object checksum is checked too. (Multipart ETags and composite checksums name
    // the parts, which the copy does not carry.)
    const plainEtag = w.etag !== undefined && /^[0-9a-f]{32}$/.test(w.etag) ? w.etag : undefined;
    const fullObject = w.checksum?.type === 'FULL_OBJECT' ? w.checksum : undefined;
    const body = await this.#ingest(
      {
        body: w.body,
        contentLength: w.contentLength,
        contentMd5: plainEtag && Buffer.from(plainEtag, 'hex').toString('base64'),
        checksum: fullObject && { algorithm: fullObject.algorithm, expected: () => fullObject.value },
      },
      { inline: true },
    );
    try {
      const version = replicaObject(w, { size: body.size, etag: w.etag ?? body.md5Hex, partsCount: w.partsCount, data: body.data });
      const { freed } = await this.#meta.putVersion({ version, inline: body.inline });
      await this.#release(freed);
      return version;
    } catch (err) {
      await body.discard();
      throw err;
    }
  }

  async retryFailedReplications(bucketName: string, prefix = ''): Promise<number> {
    const bucket = this.#bucket(bucketName);
    let retried = 0;
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = this.#meta.listVersions({ bucket: bucketName, prefix, keyMarker, versionIdMarker, maxKeys: 1000 });
      for (const { version } of page.entries) {
        const failed = Object.entries(version.replication ?? {}).filter(([, d]) => d.status === 'FAILED');
        if (failed.length === 0) continue;
        let outbox: Omit<OutboxEntry, 'seq'>[] | undefined;
        const operation = version.isDeleteMarker ? 'delete-marker' : 'object';
        await this.#meta.updateVersion(
          bucketName,
          version.key,
          version.versionId,
          (v) => v,
          (next) => {
            // Only destinations that failed, and only while a rule still sends the version there.
            const again = (this.#planner?.(bucket, next, operation) ?? []).filter((t) =>
              failed.some(([d]) => d === t.destination),
            );
            outbox = pending(next, again, operation, this.#now());
            return outbox;
          },
        );
        if (outbox) retried++;
        this.#announce(outbox);
      }
      if (!page.isTruncated) return retried;
      keyMarker = page.nextKeyMarker;
      versionIdMarker = page.nextVersionIdMarker;
    }
  }

  /**
   * Batch replication (S3 Batch Replication): one page of a bucket's versions, each selected
   * one queued for the destinations its bucket's rules send it to now, in the same
   * transaction that marks it PENDING, exactly as a write would. Delete markers go where the
   * rules send delete markers. A REPLICA is planned as if it were written here. Nothing but
   * the page is held in memory; `next` resumes after it.
   */
  async replicateExisting(input: ExistingReplicationInput): Promise<ExistingReplicationPage> {
    const bucket = this.#bucket(input.bucket);
    const page = this.#meta.listVersions({
      bucket: input.bucket,
      prefix: input.prefix ?? '',
      keyMarker: input.after?.key,
      versionIdMarker: input.after?.versionId,
      maxKeys: Math.max(1, input.limit),
    });
    const plan = (v: ObjectVersion) => {
      if (!this.#planner || !bucket.replication || !selectedForBatch(v, input)) return [];
      const operation = v.isDeleteMarker ? 'delete-marker' : 'object';
      return this.#planner(bucket, v.replica ? { ...v, replica: false } : v, operation);
    };
    const selected: ExistingReplicationPage['selected'] = [];
    const writes: Promise<unknown>[] = [];
    for (const { version } of page.entries) {
      const targets = plan(version);
      const item = { key: version.key, versionId: version.versionId, size: version.isDeleteMarker ? 0 : version.size };
      if (targets.length === 0) {
        // Queued by this job already, in a page the job did not get to record (a crash came
        // between): the job takes it up again as it stands.
        const mine = input.dryRun || input.jobId === undefined ? [] : queuedBy(version, input.jobId);
        if (mine.length > 0) {
          const settled = mine.filter((m) => m.state.status !== 'PENDING');
          selected.push({ ...item, destinations: mine.map((m) => m.destination), ...(settled.length ? { settled } : {}) });
        }
        continue;
      }
      if (input.dryRun) {
        selected.push({ ...item, destinations: targets.map((t) => t.destination) });
        continue;
      }
      // Decided again inside the transaction, on the version as it is then. The writes of
      // one page share a commit.
      let outbox: Omit<OutboxEntry, 'seq'>[] | undefined;
      writes.push(
        this.#meta
          .updateVersion(input.bucket, version.key, version.versionId, (v) => v, (next) => {
            const operation = next.isDeleteMarker ? 'delete-marker' : 'object';
            outbox = pending(next, plan(next), operation, this.#now(), input.jobId);
            return outbox;
          })
          .then(() => {
            if (!outbox) return;
            selected.push({ ...item, destinations: outbox.map((e) => e.destination) });
            this.#announce(outbox);
          }),
      );
    }
    await Promise.all(writes);
    const next = page.isTruncated && page.nextKeyMarker !== undefined
      ? { key: page.nextKeyMarker, versionId: page.nextVersionIdMarker ?? '' }
      : undefined;
    return { selected, scanned: page.entries.length, next };
  }

  /**
   * A replica of a multipart object keeps its parts: the bytes are cut into one blob per
   * part as they arrive, each checked against its part's MD5, so part reads and the object
   * attributes are the source's.
   */
  async #putMultipartReplica(
    w: ReplicaWrite,
    body: Readable,
    sourceParts: NonNullable<ReplicaWrite['parts']>,
  ): Promise<ObjectVersion> {
    const reader = new ByteReader(body);
    const parts: PartRecord[] = [];
    const writers: BlobWriter[] = [];
    try {
      for (const source of sourceParts) {
        const digest = new BodyDigest(source.checksum?.algorithm);
        let writer: BlobWriter | undefined;
        for (let left = source.size; left > 0; ) {
          const chunk = await reader.read(left);
          if (!chunk) throw new S3Error('IncompleteBody');
          if (!writer) writers.push((writer = await this.#blobs.create()));
          digest.update(chunk);
          await writer.write(chunk);
          left -= chunk.length;
        }
        const d = digest.finish();
        if (d.md5Hex !== source.etag) throw new S3Error('BadDigest', `Part ${source.partNumber} does not match its ETag.`);
        if (source.checksum && d.checksum?.base64 !== source.checksum.value) {
          throw new S3Error('BadDigest', `Part ${source.partNumber} does not match its checksum.`);
        }
        await writer?.commit();
        parts.push({ ...source, lastModified: w.lastModified, blob: writer?.id });
      }
      if (await reader.read(1)) throw new S3Error('InvalidRequest', 'The body is longer than its parts.');
      if (body.errored) throw body.errored;
      const version = replicaObject(w, {
        size: parts.reduce((n, p) => n + p.size, 0),
        etag: w.etag ?? multipartEtag(parts.map((p) => p.etag)),
        partsCount: parts.length,
        data: { kind: 'parts', id: newBlobId() },
      });
      const { freed } = await this.#meta.putVersion({ version, parts });
      await this.#release(freed);
      return version;
    } catch (err) {
      for (const writer of writers) await writer.abort();
      throw body.errored ?? err;
    }
  }

  getVersion(bucket: string, key: string, versionId: string): ObjectVersion | undefined {
    return this.#meta.getVersion(bucket, key, versionId);
  }

  peekReplications(destination: string, afterSeq: number, limit: number): OutboxEntry[] {
    return this.#meta.peekOutbox(destination, afterSeq, limit);
  }

  replicationDestinations(): string[] {
    return this.#meta.outboxDestinations();
  }

  finishReplication(entry: OutboxEntry, state: DestinationState): Promise<void> {
    return this.#meta.finishOutbox(entry, state);
  }

  async sweepOrphans(olderThanMs: number, signal?: AbortSignal): Promise<number> {
    let removed = 0;
    for await (const blob of this.#blobs.list()) {
      if (signal?.aborted) break;
      if (blob.mtimeMs >= olderThanMs) continue;
      if (this.#meta.isBlobReferenced(blob.id)) continue;
      await this.#blobs.delete(blob.id);
      removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    await this.#meta.close();
    await this.#blobs.close();
  }
}

/**
 * Marks a version PENDING for each target and returns the queue entries that carry it there
 * (undefined when there are none).
 */
function pending(
  version: ObjectVersion,
  targets: ReturnType<ReplicationPlanner>,
  operation: ReplicationOperation,
  enqueuedAt: number,
  jobId?: string,
): Omit<OutboxEntry, 'seq'>[] | undefined {
  if (targets.length === 0) return undefined;
  const state: DestinationState = jobId === undefined ? { status: 'PENDING' } : { status: 'PENDING', job: jobId };
  version.replication = {
    ...version.replication,
    ...Object.fromEntries(targets.map((t) => [t.destination, state])),
  };
  return targets.map((t) => ({
    destination: t.destination,
    bucket: version.bucket,
    key: version.key,
    versionId: version.versionId,
    operation,
    ruleId: t.ruleId,
    storageClass: t.storageClass,
    ...(t.owner !== undefined ? { owner: t.owner } : {}),
    enqueuedAt,
    size: operation === 'object' ? version.size : 0,
    ...(jobId !== undefined ? { jobId } : {}),
  }));
}

/** Whether a batch replication job selects a version (its time, key and replication state). */
/** The destinations of `v` whose latest copy batch job `jobId` queued, with their states. */
function queuedBy(v: ObjectVersion, jobId: string): { destination: string; state: DestinationState }[] {
  return Object.entries(v.replication ?? {})
    .filter(([, state]) => state.job === jobId)
    .map(([destination, state]) => ({ destination, state }));
}

function selectedForBatch(v: ObjectVersion, f: ExistingReplicationInput): boolean {
  if (f.createdAfter !== undefined && v.lastModified < f.createdAfter) return false;
  if (f.createdBefore !== undefined && v.lastModified >= f.createdBefore) return false;
  const k = f.keyNames;
  if (k?.prefixes?.length && !k.prefixes.some((p) => v.key.startsWith(p))) return false;
  if (k?.suffixes?.length && !k.suffixes.some((p) => v.key.endsWith(p))) return false;
  if (k?.substrings?.length && !k.substrings.some((p) => v.key.includes(p))) return false;
  if (!f.statuses?.length) return true;
  const states = Object.values(v.replication ?? {});
  return f.statuses.some((s) => {
    switch (s) {
      case 'NONE':
        return !v.replica && states.length === 0;
      case 'REPLICA':
        return v.replica === true;
      case 'FAILED':
      case 'COMPLETED':
        return states.some((d) => d.status === s);
    }
  });
}

/** The version record of a replicated object, from what the source sent and the bytes stored. */
function replicaObject(
  w: ReplicaWrite,
  stored: Pick<ObjectVersion, 'size' | 'etag' | 'partsCount' | 'data'>,
): ObjectVersion {
  return {
    bucket: w.bucket,
    key: w.key,
    versionId: w.versionId,
    lastModified: w.lastModified,
    owner: w.owner,
    replica: true,
    isDeleteMarker: false,
    ...stored,
    storageClass: w.storageClass ?? 'STANDARD',
    userMetadata: w.userMetadata ?? {},
    ...contentHeaders(w),
    checksum: w.checksum,
    tags: w.tags?.length ? w.tags : undefined,
    acl: w.acl,
    metadataModified: w.metadataModified,
  };
}

/** What a body ingested by the engine became. */
interface Ingested {
  size: number;
  md5Hex: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  data: DataRef;
  inline?: Buffer;
  /** Removes the blob written, when the metadata that would refer to it is not committed. */
  discard(): Promise<void>;
}

type BodySource = Pick<PutObjectInput, 'body' | 'contentLength' | 'contentMd5' | 'checksum'>;

function contentHeaders(h: ContentHeaders): ContentHeaders {
  return {
    contentType: h.contentType,
    contentEncoding: h.contentEncoding,
    contentDisposition: h.contentDisposition,
    contentLanguage: h.contentLanguage,
    cacheControl: h.cacheControl,
    expires: h.expires,
  };
}

/**
 * The version a read (or a tag/ACL change) may act on, or the error S3 gives: NoSuchKey for
 * a missing key or one whose current version is a delete marker, NoSuchVersion for a
 * missing version, MethodNotAllowed for a delete marker named by id.
 */
function readable(input: GetObjectInput, v: ObjectVersion | undefined): ObjectVersion {
  if (input.versionId === undefined) {
    if (!v) throw noSuchKey(input.key);
    if (v.isDeleteMarker) {
      throw new S3Error('NoSuchKey', undefined, {
        fields: { Key: input.key },
        headers: { 'x-amz-delete-marker': 'true', 'x-amz-version-id': v.versionId },
      });
    }
    return v;
  }
  if (!v) {
    throw new S3Error('NoSuchVersion', undefined, {
      fields: { Key: input.key, VersionId: input.versionId },
    });
  }
  if (v.isDeleteMarker) {
    throw new S3Error('MethodNotAllowed', undefined, {
      fields: { Method: 'GET', ResourceType: 'DeleteMarker' },
      headers: {
        'x-amz-delete-marker': 'true',
        'x-amz-version-id': v.versionId,
        'last-modified': new Date(v.lastModified).toUTCString(),
        allow: 'DELETE',
      },
    });
  }
  return v;
}

function noSuchKey(key: string): S3Error {
  return new S3Error('NoSuchKey', undefined, { fields: { Key: key } });
}
