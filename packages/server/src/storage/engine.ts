import { Readable } from 'node:stream';
import { S3Error } from '../core/errors.ts';
import { NULL_VERSION_ID, VersionIdGenerator, newBlobId } from '../core/ids.ts';
import { BodyDigest } from './checksum.ts';
import type {
  BlobStore,
  BlobWriter,
  BucketRecord,
  ByteRange,
  DataRef,
  DeleteObjectResult,
  GetObjectInput,
  ListObjectsInput,
  ListObjectsResult,
  ListVersionsInput,
  ListVersionsResult,
  MetaStore,
  ObjectEngine,
  ObjectVersion,
  OpenedObject,
  PutObjectInput,
} from './types.ts';

/** Objects up to this size live inside the metadata store: one group-committed write, no file. */
export const DEFAULT_INLINE_MAX = 128 * 1024;

export interface EngineOptions {
  region: string;
  meta: MetaStore;
  blobs: BlobStore;
  inlineMax?: number;
  now?: () => number;
}

export class Engine implements ObjectEngine {
  readonly region: string;
  readonly #meta: MetaStore;
  readonly #blobs: BlobStore;
  readonly #inlineMax: number;
  readonly #now: () => number;
  readonly #ids = new VersionIdGenerator();

  constructor(opts: EngineOptions) {
    this.region = opts.region;
    this.#meta = opts.meta;
    this.#blobs = opts.blobs;
    this.#inlineMax = opts.inlineMax ?? DEFAULT_INLINE_MAX;
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

  async createBucket(input: { name: string; owner: string; acl?: string }): Promise<BucketRecord> {
    const record: BucketRecord = {
      name: input.name,
      region: this.region,
      owner: input.owner,
      createdAt: this.#now(),
      versioning: 'Unversioned',
      acl: input.acl ?? 'private',
    };
    const created = await this.#meta.createBucket(record);
    if (!created) throw new S3Error('BucketAlreadyOwnedByYou', undefined, { fields: { BucketName: input.name } });
    return record;
  }

  async deleteBucket(name: string): Promise<void> {
    const result = await this.#meta.deleteBucket(name);
    if (result === 'missing') throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: name } });
    if (result === 'not-empty') throw new S3Error('BucketNotEmpty', undefined, { fields: { BucketName: name } });
  }

  setVersioning(name: string, status: 'Enabled' | 'Suspended'): Promise<BucketRecord | undefined> {
    return this.#meta.updateBucket(name, { versioning: status });
  }

  async putObject(input: PutObjectInput): Promise<ObjectVersion> {
    const bucket = this.#bucket(input.bucket);
    // Fail fast before reading the body; the check is repeated atomically with the commit.
    if (input.precondition) {
      const top = this.#meta.getVersion(input.bucket, input.key);
      input.precondition(top && !top.isDeleteMarker ? top : undefined);
    }
    const digest = new BodyDigest(input.checksum?.algorithm);
    let pending: Buffer[] = [];
    let pendingSize = 0;
    let writer: BlobWriter | undefined;
    const spill = input.contentLength !== undefined && input.contentLength > this.#inlineMax;
    try {
      if (spill) writer = await this.#blobs.create();
      for await (const chunk of input.body as AsyncIterable<Buffer>) {
        digest.update(chunk);
        if (!writer) {
          if (pendingSize + chunk.length <= this.#inlineMax) {
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
      const d = digest.finish();
      if (input.contentLength !== undefined && d.size !== input.contentLength) {
        throw new S3Error('IncompleteBody');
      }
      if (input.contentMd5 !== undefined && input.contentMd5 !== d.md5Base64) {
        throw new S3Error('BadDigest');
      }
      let checksum: ObjectVersion['checksum'];
      if (input.checksum && d.checksum) {
        const expected = input.checksum.expected();
        if (expected !== undefined && expected !== d.checksum.base64) {
          throw new S3Error(
            'BadDigest',
            `The ${input.checksum.algorithm} you specified did not match the calculated checksum.`,
          );
        }
        checksum = { algorithm: d.checksum.algorithm, value: d.checksum.base64, type: 'FULL_OBJECT' };
      }
      let data: DataRef;
      let inline: Buffer | undefined;
      if (writer) {
        await writer.commit();
        data = { kind: 'blob', id: writer.id };
      } else if (pendingSize === 0) {
        data = { kind: 'none' };
      } else {
        inline = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingSize);
        data = { kind: 'inline', id: newBlobId() };
      }
      const now = this.#writeTime(input.bucket, input.key);
      const version: ObjectVersion = {
        bucket: input.bucket,
        key: input.key,
        versionId: bucket.versioning === 'Enabled' ? this.#ids.next(now) : NULL_VERSION_ID,
        isDeleteMarker: false,
        lastModified: now,
        size: d.size,
        etag: d.md5Hex,
        storageClass: input.storageClass ?? 'STANDARD',
        owner: input.owner,
        userMetadata: input.userMetadata,
        contentType: input.contentType,
        contentEncoding: input.contentEncoding,
        contentDisposition: input.contentDisposition,
        contentLanguage: input.contentLanguage,
        cacheControl: input.cacheControl,
        expires: input.expires,
        checksum,
        data,
      };
      const { removed } = await this.#meta.putVersion({
        version,
        inline,
        freshId: version.versionId !== NULL_VERSION_ID,
        precondition: input.precondition,
      });
      writer = undefined;
      await this.#release(removed);
      return version;
    } catch (err) {
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

  /** Deletes the bytes of versions that metadata no longer refers to. */
  async #release(versions: ObjectVersion[]): Promise<void> {
    for (const v of versions) {
      if (v.data.kind === 'blob') await this.#blobs.delete(v.data.id);
    }
  }

  headObject(input: GetObjectInput): ObjectVersion {
    this.#bucket(input.bucket);
    const v = this.#meta.getVersion(input.bucket, input.key, input.versionId);
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
    }
  }

  async deleteObject(input: GetObjectInput): Promise<DeleteObjectResult> {
    const bucket = this.#bucket(input.bucket);
    if (input.versionId !== undefined) {
      const removed = await this.#meta.deleteVersion(input.bucket, input.key, input.versionId);
      if (removed) await this.#release([removed]);
      return { versionId: input.versionId, deleteMarker: removed?.isDeleteMarker ?? false };
    }
    if (bucket.versioning === 'Unversioned') {
      const removed = await this.#meta.deleteVersion(input.bucket, input.key, NULL_VERSION_ID);
      if (removed) await this.#release([removed]);
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
    const { removed } = await this.#meta.putVersion({ version: marker, freshId: marker.versionId !== NULL_VERSION_ID });
    await this.#release(removed);
    return { versionId: marker.versionId, deleteMarker: true };
  }

  listObjects(input: ListObjectsInput): ListObjectsResult {
    this.#bucket(input.bucket);
    return this.#meta.listObjects(input);
  }

  listVersions(input: ListVersionsInput): ListVersionsResult {
    this.#bucket(input.bucket);
    return this.#meta.listVersions(input);
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

function noSuchKey(key: string): S3Error {
  return new S3Error('NoSuchKey', undefined, { fields: { Key: key } });
}
