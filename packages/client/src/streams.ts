/**
 * Node streams over S3 objects, so that objects can be `pipeline()`d anywhere, across regions
 * included: a resumable, ranged read stream and a multipart write stream. Both work with any
 * client that has the S3Client `send` (the stock S3Client, MultiRegionS3Client), and both hold a
 * bounded amount of the object in memory, whatever its size.
 */
import { Readable, Writable, finished } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type GetObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';

/** Anything that sends S3 commands the way S3Client does. */
export type S3CommandSender = Pick<S3Client, 'send'>;

export interface S3Location {
  bucket: string;
  key: string;
}

/**
 * Splits an `s3://bucket/key` URL. The key is taken verbatim (no percent-decoding), as S3 keys
 * may contain any character.
 *
 * @example
 * ```ts
 * parseS3Url('s3://photos/2024/cat.jpg'); // { bucket: 'photos', key: '2024/cat.jpg' }
 * ```
 */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/(.+)$/s.exec(url);
  if (!m) throw new TypeError(`not an s3://bucket/key URL: ${url}`);
  return { bucket: m[1], key: m[2] };
}

/** Extra input that routes a command with MultiRegionS3Client; omitted when no region is given. */
function regionHint(region: string | undefined): Record<string, string> {
  return region === undefined ? {} : { '@region': region };
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface ReadStreamOptions {
  /** First byte to read (default 0). */
  start?: number;
  /** Last byte to read, inclusive as in `fs.createReadStream` (default: the end of the object). */
  end?: number;
  /** A specific version of the object. */
  versionId?: string;
  /**
   * How many times a read cut by a network error resumes from the next byte (default 5). A
   * resumed GET carries `If-Match` with the first response's ETag, so a changed object fails the
   * stream rather than splicing two versions together.
   */
  maxResumes?: number;
  /** Bytes buffered ahead of the consumer (default 1 MiB); the response is paused beyond it. */
  highWaterMark?: number;
  /** Sent as `@region`, for a MultiRegionS3Client that should not look the bucket's region up. */
  region?: string;
}

/** Network failures after which re-requesting the rest of the object is worth trying. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

export function isNetworkError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e.$metadata?.httpStatusCode !== undefined) return false; // the server answered
  if (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) return true;
  return e.name === 'TimeoutError' || e.message === 'aborted' || e.message === 'socket hang up';
}

/** Raised when the object changed between a read and its resumption. */
export class ObjectChangedError extends Error {
  constructor(url: string, etag: string, options?: { cause?: unknown }) {
    super(`${url} changed while it was being read (it no longer has ETag ${etag}); the read was not resumed`, options);
    this.name = 'ObjectChangedError';
  }
}

/**
 * A Readable of an object's bytes (or of the range `start`..`end`), which resumes from the next
 * byte when the connection breaks mid-body, at most `maxResumes` times.
 *
 * @example
 * ```ts
 * import { createReadStream } from '@meridian/client';
 * import { createWriteStream as createFileStream } from 'node:fs';
 * import { pipeline } from 'node:stream/promises';
 * await pipeline(createReadStream(s3, 's3://logs/2024/app.log', { start: 1024 }), createFileStream('app.log'));
 * ```
 */
export function createReadStream(client: S3CommandSender, url: string, opts: ReadStreamOptions = {}): Readable {
  return new ObjectReadStream(client, url, opts);
}

class ObjectReadStream extends Readable {
  private readonly location: S3Location;
  /** The next byte to deliver. */
  private next: number;
  /** The last byte to deliver, once known (from `end` or the first response). */
  private last: number | undefined;
  private etag: string | undefined;
  private resumes = 0;
  private body: Readable | undefined;
  private opening = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly client: S3CommandSender,
    private readonly url: string,
    private readonly opts: ReadStreamOptions,
  ) {
    super({ highWaterMark: opts.highWaterMark ?? 1024 * 1024 });
    this.location = parseS3Url(url);
    this.next = opts.start ?? 0;
    this.last = opts.end;
    if (!Number.isSafeInteger(this.next) || this.next < 0)
      throw new RangeError(`start must be a byte offset, not ${opts.start}`);
    if (this.last !== undefined && (!Number.isSafeInteger(this.last) || this.last < this.next)) {
      throw new RangeError(`end (${opts.end}) must be a byte offset not before start (${this.next})`);
    }
  }

  override _read(): void {
    if (this.body) this.body.resume();
    else if (!this.opening) void this.open();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.abort.abort();
    this.body?.destroy();
    callback(err);
  }

  /** Sends the GET for the bytes still owed, retrying network failures within the budget. */
  private async open(): Promise<void> {
    this.opening = true;
    try {
      while (true) {
        try {
          const body = await this.request();
          if (this.destroyed) {
            body?.destroy();
            return;
          }
          if (!body) {
            this.push(null);
            return;
          }
          this.attach(body);
          return;
        } catch (err) {
          if (!(await this.mayResume(err))) throw err;
        }
      }
    } catch (err) {
      this.destroy(err as Error);
    } finally {
      this.opening = false;
    }
  }

  /** Resolves the response body, or undefined when no bytes are owed. */
  private async request(): Promise<Readable | undefined> {
    if (this.last !== undefined && this.next > this.last) return undefined;
    const first = this.etag === undefined;
    const ranged = !first || this.next > 0 || this.last !== undefined;
    const input: GetObjectCommandInput = {
      Bucket: this.location.bucket,
      Key: this.location.key,
      VersionId: this.opts.versionId,
      Range: ranged ? `bytes=${this.next}-${this.last ?? ''}` : undefined,
      IfMatch: first ? undefined : this.etag,
      ...regionHint(this.opts.region),
    };
    let out;
    try {
      out = await this.client.send(new GetObjectCommand(input), { abortSignal: this.abort.signal });
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (!first && status === 412) throw new ObjectChangedError(this.url, this.etag!, { cause: err });
      throw err;
    }
    if (first) {
      this.etag = out.ETag;
      // The server's answer wins over `end`: a range past the end of the object is cut short.
      this.last = lastByteOf(out.ContentRange, out.ContentLength, this.next) ?? this.last;
    }
    if (ranged) {
      const from = /^bytes (\d+)-/.exec(out.ContentRange ?? '')?.[1];
      if (from === undefined || Number(from) !== this.next) {
        (out.Body as Readable | undefined)?.destroy();
        throw new Error(
          `${this.url}: asked for bytes from ${this.next}, got Content-Range ${out.ContentRange ?? 'none'}`,
        );
      }
    }
    return out.Body as Readable;
  }

  private attach(body: Readable): void {
    this.body = body;
    body.on('data', (chunk: Buffer) => {
      this.next += chunk.length;
      if (!this.push(chunk)) body.pause();
    });
    finished(body, (err) => {
      if (this.body !== body) return;
      this.body = undefined;
      body.destroy();
      if (!err && this.last !== undefined && this.next <= this.last) {
        err = Object.assign(new Error(`${this.url}: the response ended ${this.last + 1 - this.next} bytes early`), {
          code: 'ERR_STREAM_PREMATURE_CLOSE',
        });
      }
      if (!err) {
        this.push(null);
        return;
      }
      // Until the resumed request is sent, _read must not start another one.
      this.opening = true;
      void this.mayResume(err).then((resume) => {
        this.opening = false;
        if (resume) void this.open();
        else this.destroy(err);
      });
    });
  }

  /** Whether to try again after `err`, after a short pause that grows with each resume. */
  private async mayResume(err: unknown): Promise<boolean> {
    if (this.destroyed || !isNetworkError(err)) return false;
    // Without an ETag a resumed read could splice two versions of the object: refuse.
    if (this.etag === undefined && this.next > (this.opts.start ?? 0)) return false;
    if (this.resumes >= (this.opts.maxResumes ?? 5)) return false;
    this.resumes++;
    await sleep(50 * 2 ** (this.resumes - 1));
    return !this.destroyed;
  }
}

/** The offset of the last byte a first response will deliver, when it says. */
function lastByteOf(
  contentRange: string | undefined,
  contentLength: number | undefined,
  start: number,
): number | undefined {
  const m = /^bytes \d+-(\d+)\//.exec(contentRange ?? '');
  if (m) return Number(m[1]);
  return contentLength === undefined ? undefined : start + contentLength - 1;
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface WriteStreamOptions {
  /** Bytes per part (default 8 MiB; S3's minimum is 5 MiB). */
  partSize?: number;
  /** Parts uploading at once (default 4). Memory held is at most (queueSize + 1) × partSize. */
  queueSize?: number;
  contentType?: string;
  metadata?: Record<string, string>;
  /** Sent as `@region`, for a MultiRegionS3Client that should not look the bucket's region up. */
  region?: string;
}

const MiB = 1024 * 1024;
export const MIN_PART_SIZE = 5 * MiB;

/**
 * A Writable that stores what is written as the object at `url`: as one PutObject when it all
 * fits in one part, else as a multipart upload whose parts go up while later bytes are still
 * being written. The object exists once the stream has emitted 'finish'. On an error, or on
 * `destroy()`, the multipart upload is aborted, so no parts are left behind; the abort has been
 * sent by the time the stream emits 'close' (`pipeline()` may settle earlier when the error
 * came from another stream).
 *
 * @example
 * ```ts
 * import { createReadStream, createWriteStream } from '@meridian/client';
 * import { pipeline } from 'node:stream/promises';
 * // Copy an object between buckets in two regions, a part at a time.
 * await pipeline(createReadStream(eu, 's3://eu-photos/cat.jpg'), createWriteStream(ap, 's3://ap-photos/cat.jpg'));
 * ```
 */
export function createWriteStream(client: S3CommandSender, url: string, opts: WriteStreamOptions = {}): Writable {
  return new MultipartWriteStream(client, url, opts);
}

class MultipartWriteStream extends Writable {
  private readonly location: S3Location;
  private readonly partSize: number;
  private readonly queueSize: number;
  /** Written bytes not yet cut into a part. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private uploadId: Promise<string> | undefined;
  private nextPartNumber = 1;
  private readonly parts: CompletedPart[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private failure: unknown;
  private completed = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly client: S3CommandSender,
    url: string,
    private readonly opts: WriteStreamOptions,
  ) {
    super();
    this.location = parseS3Url(url);
    this.partSize = opts.partSize ?? 8 * MiB;
    this.queueSize = opts.queueSize ?? 4;
    if (!Number.isSafeInteger(this.partSize) || this.partSize < MIN_PART_SIZE) {
      throw new RangeError(`partSize must be at least ${MIN_PART_SIZE} bytes, not ${opts.partSize}`);
    }
    if (!Number.isSafeInteger(this.queueSize) || this.queueSize < 1)
      throw new RangeError('queueSize must be at least 1');
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.partSize) return callback();
    this.sendFullParts().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finish().then(() => callback(), callback);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (this.completed || !this.uploadId) {
      this.abort.abort();
      callback(err);
      return;
    }
    this.abortUpload().then(
      () => callback(err),
      (abortErr: unknown) => callback(err ?? (abortErr as Error)),
    );
  }

  private async sendFullParts(): Promise<void> {
    while (this.buffered >= this.partSize) await this.sendPart(this.take(this.partSize));
  }

  private async finish(): Promise<void> {
    const { bucket: Bucket, key: Key } = this.location;
    if (!this.uploadId) {
      const Body = this.take(this.buffered);
      await this.client.send(
        new PutObjectCommand({
          Bucket,
          Key,
          Body,
          ContentLength: Body.length,
          ContentType: this.opts.contentType,
          Metadata: this.opts.metadata,
          ...regionHint(this.opts.region),
        }),
        { abortSignal: this.abort.signal },
      );
      this.completed = true;
      return;
    }
    if (this.buffered > 0) await this.sendPart(this.take(this.buffered));
    while (this.inflight.size > 0) await Promise.all(this.inflight);
    this.throwIfFailed();
    const Parts = [...this.parts].sort((a, b) => a.PartNumber! - b.PartNumber!);
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId: await this.uploadId,
        MultipartUpload: { Parts },
        ...regionHint(this.opts.region),
      }),
    );
    this.completed = true;
  }

  /** Starts uploading one part once a slot is free; resolves when it is under way. */
  private async sendPart(Body: Buffer): Promise<void> {
    const UploadId = await this.startUpload();
    while (this.inflight.size >= this.queueSize) await Promise.race(this.inflight);
    this.throwIfFailed();
    const PartNumber = this.nextPartNumber++;
    const { bucket: Bucket, key: Key } = this.location;
    const part: Promise<void> = this.client
      .send(
        new UploadPartCommand({
          Bucket,
          Key,
          UploadId,
          PartNumber,
          Body,
          ContentLength: Body.length,
          ...regionHint(this.opts.region),
        }),
        { abortSignal: this.abort.signal },
      )
      .then(
        (out) => {
          this.parts.push({ PartNumber, ETag: out.ETag });
        },
        (err: unknown) => {
          this.failure ??= err;
          // Fail now, not at the next write: the writer may be waiting on its source.
          this.destroy(err as Error);
        },
      )
      .finally(() => this.inflight.delete(part));
    this.inflight.add(part);
  }

  private startUpload(): Promise<string> {
    this.uploadId ??= this.client
      .send(
        new CreateMultipartUploadCommand({
          Bucket: this.location.bucket,
          Key: this.location.key,
          ContentType: this.opts.contentType,
          Metadata: this.opts.metadata,
          ...regionHint(this.opts.region),
        }),
      )
      .then((out) => {
        if (!out.UploadId)
          throw new Error(
            `CreateMultipartUpload for s3://${this.location.bucket}/${this.location.key} returned no UploadId`,
          );
        return out.UploadId;
      });
    return this.uploadId;
  }

  /** Cancels the parts in flight, then the upload, so that the store keeps none of it. */
  private async abortUpload(): Promise<void> {
    this.abort.abort();
    let UploadId: string;
    try {
      UploadId = await this.uploadId!;
    } catch {
      return; // the upload never started
    }
    await Promise.allSettled(this.inflight);
    await this.client.send(
      new AbortMultipartUploadCommand({
        Bucket: this.location.bucket,
        Key: this.location.key,
        UploadId,
        ...regionHint(this.opts.region),
      }),
    );
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Removes and returns the first `n` buffered bytes. */
  private take(n: number): Buffer {
    const out: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const head = this.chunks[0];
      if (head.length <= need) {
        out.push(head);
        this.chunks.shift();
        need -= head.length;
      } else {
        out.push(head.subarray(0, need));
        this.chunks[0] = head.subarray(need);
        need = 0;
      }
    }
    this.buffered -= n;
    return Buffer.concat(out, n);
  }
}
