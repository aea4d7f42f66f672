/**
 * One large multipart upload at a time: `size` bytes (256 MiB) in `partSize` parts (8 MiB),
 * `queueSize` (8) parts in flight, through the real `@aws-sdk/client-s3`:
 * CreateMultipartUpload, UploadPart × 32, CompleteMultipartUpload. One untimed upload warms up
 * (with --warmup > 0), then uploads repeat until `--duration` has passed, at least `minReps`
 * times; the figure is MiB/s over the timed uploads (Create to Complete).
 *
 * Every upload is checked after the clock stops: HeadObject must report `size` bytes and an
 * ETag ending in `-<parts>`. Every part body is the same random 8 MiB buffer (the load
 * generator holds nothing else), so the S3 multipart ETag (MD5 of the parts' MD5s) is known in
 * advance and whether the target matches it is recorded too.
 *
 * The baseline cannot do multipart; it gets the same traffic as plain PUTs: the 32 parts as
 * 8 MiB objects, 8 in flight, through the same SDK client. That is the least a server can do
 * with these bytes, so the ratio is the price of the multipart machinery and the final assembly.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { DetailedOutcome, Details } from '../details.ts';
import { runCount } from '../load.ts';
import type { Goal, Scenario } from '../scenario.ts';
import { sdkClient } from '../sdk.ts';
import type { TargetName } from '../target.ts';

export interface MultipartScenarioOptions {
  name: string;
  title: string;
  size: number;
  partSize: number;
  /** Parts in flight. */
  queueSize: number;
  /**
   * Targets whose multipart ETag is the MD5 of the whole object rather than S3's
   * `<MD5 of the part MD5s>-<parts>`: for them the check is that MD5 instead of the suffix.
   */
  wholeObjectEtag?: readonly TargetName[];
  minReps: number;
  /** Bounds the run when uploads are fast and --duration long. */
  maxReps: number;
  goals: readonly Goal[];
}

const MiB = 1024 * 1024;

/** Tells "the target does not do multipart" apart from a failure, and names the operation. */
export class UploadError extends Error {
  constructor(
    readonly op: string,
    readonly source: unknown,
  ) {
    const status = (source as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
    const name = source instanceof Error ? source.name : 'Error';
    const message = source instanceof Error ? source.message : String(source);
    super(`${op}: ${status ? `${status} ` : ''}${name}: ${message}`);
    this.name = 'UploadError';
  }

  get notImplemented(): boolean {
    return this.source instanceof Error && this.source.name === 'NotImplemented';
  }
}

async function step<T>(op: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw new UploadError(op, err);
  }
}

interface Upload {
  /** Runs one upload; resolves when the last byte is acknowledged. */
  run(signal: AbortSignal): Promise<void>;
  /** Checks what the last upload left behind (untimed). */
  verify(signal: AbortSignal): Promise<void>;
}

/** The S3 multipart upload, always to the same key (each run overwrites the previous object). */
function multipartUpload(
  s3: S3Client,
  bucket: string,
  o: MultipartScenarioOptions,
  part: Buffer,
  details: Details,
  wholeObjectEtag: boolean,
): Upload {
  const key = 'mp/object';
  const parts = Math.ceil(o.size / o.partSize);
  const partMd5 = createHash('md5').update(part).digest();
  const s3Etag = `${createHash('md5')
    .update(Buffer.concat(Array.from({ length: parts }, () => partMd5)))
    .digest('hex')}-${parts}`;
  let wholeMd5: string | undefined;
  const wholeObjectMd5 = (): string => {
    if (wholeMd5 === undefined) {
      const h = createHash('md5');
      for (let i = 0; i < parts; i++) h.update(part.subarray(0, Math.min(o.partSize, o.size - i * o.partSize)));
      wholeMd5 = h.digest('hex');
    }
    return wholeMd5;
  };
  return {
    async run(signal) {
      const created = await step('CreateMultipartUpload', () =>
        s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
      );
      const uploadId = created.UploadId;
      if (!uploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      try {
        const etags: string[] = new Array<string>(parts);
        await runCount(parts, o.queueSize, async (i) => {
          const length = Math.min(o.partSize, o.size - i * o.partSize);
          const body = length === part.length ? part : part.subarray(0, length);
          const r = await step(`UploadPart ${i + 1}`, () =>
            s3.send(
              new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: body }),
              { abortSignal: signal },
            ),
          );
          if (!r.ETag) throw new Error(`UploadPart ${i + 1} returned no ETag`);
          etags[i] = r.ETag;
        });
        await step('CompleteMultipartUpload', () =>
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
            }),
            { abortSignal: signal },
          ),
        );
      } catch (err) {
        await s3
          .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
          .catch(() => {});
        throw err;
      }
    },
    async verify(signal) {
      const head = await step('HeadObject', () =>
        s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
      );
      const etag = (head.ETag ?? '').replace(/"/g, '');
      if (head.ContentLength !== o.size) {
        throw new Error(`HeadObject: ContentLength ${head.ContentLength}, expected ${o.size}`);
      }
      if (etag.endsWith(`-${parts}`)) {
        details.etagForm = etag === s3Etag ? 'S3 (MD5 of part MD5s)' : `other, ending -${parts}`;
      } else if (wholeObjectEtag && etag === wholeObjectMd5()) {
        details.etagForm = 'MD5 of the whole object (not S3 multipart form)';
      } else {
        throw new Error(`HeadObject: ETag '${etag}' does not end in -${parts}`);
      }
      details.etag = etag;
    },
  };
}

/** The baseline's equivalent: the parts as plain PUTs, to the same keys every run. */
function plainPuts(s3: S3Client, bucket: string, o: MultipartScenarioOptions, part: Buffer): Upload {
  const parts = Math.ceil(o.size / o.partSize);
  return {
    async run(signal) {
      await runCount(parts, o.queueSize, async (i) => {
        const length = Math.min(o.partSize, o.size - i * o.partSize);
        await step(`PutObject part-${i + 1}`, () =>
          s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: `mp/part-${i + 1}`,
              Body: length === part.length ? part : part.subarray(0, length),
            }),
            { abortSignal: signal },
          ),
        );
      });
    },
    async verify(signal) {
      const head = await step('HeadObject', () =>
        s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `mp/part-${parts}` }), { abortSignal: signal }),
      );
      const expected = o.size - (parts - 1) * o.partSize;
      if (head.ContentLength !== expected) {
        throw new Error(`HeadObject: ContentLength ${head.ContentLength}, expected ${expected}`);
      }
    },
  };
}

export function multipartScenario(o: MultipartScenarioOptions): Scenario {
  const parts = Math.ceil(o.size / o.partSize);
  return {
    name: o.name,
    title: o.title,
    compare: 'mibPerSec',
    higherIsBetter: true,
    goals: o.goals,
    // Disk-bound: ~150 MiB/s for the slower targets here, plus the warm-up upload.
    estimateSec: ({ durationSec }) =>
      Math.max(durationSec, (o.minReps * o.size) / (150 * MiB)) + o.size / (150 * MiB) + 2,
    async run(ctx): Promise<DetailedOutcome> {
      const bucket = `bench-${o.name}`;
      await ctx.createBucket(bucket);
      const sdk = sdkClient({
        endpoint: ctx.target.endpoint,
        credentials: ctx.target.spec.credentials,
        connections: o.queueSize,
      });
      const part = randomBytes(o.partSize);
      const details: Details = {};
      const upload =
        ctx.target.spec.name === 'baseline'
          ? plainPuts(sdk.s3, bucket, o, part)
          : multipartUpload(
              sdk.s3,
              bucket,
              o,
              part,
              details,
              o.wholeObjectEtag?.includes(ctx.target.spec.name) ?? false,
            );
      const note =
        ctx.target.spec.name === 'baseline'
          ? `${parts} × ${o.partSize / MiB} MiB plain PUTs, ${o.queueSize} in flight (no multipart)`
          : `${parts} parts of ${o.partSize / MiB} MiB, ${o.queueSize} in flight`;
      const times: number[] = [];
      try {
        if (ctx.warmupSec > 0) {
          await upload.run(ctx.signal);
          await upload.verify(ctx.signal);
        }
        const start = performance.now();
        while (
          !ctx.signal.aborted &&
          times.length < o.maxReps &&
          (times.length < o.minReps || performance.now() - start < ctx.durationSec * 1000)
        ) {
          const t0 = performance.now();
          await upload.run(ctx.signal);
          times.push(performance.now() - t0);
          await upload.verify(ctx.signal);
        }
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        if (err instanceof UploadError && err.notImplemented) {
          return { status: 'failed', error: `unsupported: ${error}`, note, details };
        }
        return { status: 'failed', error, note, errors: 1, details };
      } finally {
        sdk.destroy();
      }
      const seconds = times.reduce((a, b) => a + b, 0) / 1000;
      const sorted = [...times].sort((a, b) => a - b);
      details.uploads = times.length;
      details.mbPerSec = Math.round(((times.length * o.size) / 1e6 / seconds) * 10) / 10;
      return {
        status: 'ok',
        ops: times.length,
        seconds,
        opsPerSec: times.length / seconds,
        mibPerSec: (times.length * o.size) / MiB / seconds,
        p50Ms: sorted[Math.ceil(sorted.length / 2) - 1],
        maxMs: sorted[sorted.length - 1],
        errors: 0,
        note,
        details,
      };
    },
  };
}

export const multipartScenarios: readonly Scenario[] = [
  multipartScenario({
    name: 'multipart-256m',
    title: 'Multipart 256 MiB (32 × 8 MiB, 8 in flight)',
    size: 256 * MiB,
    partSize: 8 * MiB,
    queueSize: 8,
    // s3rver concatenates the parts into a plain object and MD5s that.
    wholeObjectEtag: ['s3rver'],
    minReps: 3,
    maxReps: 12,
    // As for 1 MiB PUTs: within 0.75× of the bare disk, ahead of s3rver.
    goals: [
      { metric: 'mibPerSec', against: 'baseline', atLeast: 0.75 },
      { metric: 'mibPerSec', against: 's3rver', atLeast: 1 },
    ],
  }),
];
