/**
 * Batch replication back-fill (S3 Batch Replication) in a two-region Meridian world: 100,000
 * objects of 1 KiB are written to a versioned bucket in us-east-1 before it has replication
 * rules (`--concurrency` writers), then a rule to a bucket in eu-west-1 is put and a job
 * replicating every NONE version is started through the region's `/_meridian/jobs` endpoint
 * (what `meridian replicate-existing` does). The figure is the job's wall time from start to
 * Complete and its objects/s; the job's own counters say whether all of them succeeded.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import {
  CreateBucketCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { signRequest } from '../../packages/server/src/s3/auth/sign.ts';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../scenario.ts';
import { sdkClient } from '../sdk.ts';

const OBJECTS = 100_000;
const SIZE = 1024;
/** The world's default account, which the bench credentials belong to. */
const ACCOUNT = '111122223333';

interface JobJson {
  id: string;
  status: string;
  progress: { total?: number; queued: number; succeeded: number; failed: number };
}

async function jobsCall(ctx: ScenarioContext, method: 'GET' | 'POST', path: string, params: Record<string, string>): Promise<{ job: JobJson }> {
  const endpoint = ctx.target.regions['us-east-1'] ?? ctx.target.endpoint;
  const url = new URL(endpoint);
  const query = new URLSearchParams(params).toString().replace(/\+/g, '%20');
  const headers = signRequest({ method, path, query, headers: { host: url.host }, region: 'us-east-1', credentials: ctx.target.spec.credentials });
  const res = await request(`${url.origin}${path}?${query}`, { method, headers, signal: ctx.signal });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${text}`);
  return JSON.parse(text) as { job: JobJson };
}

async function run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const sdk = (region: string) =>
    sdkClient({ endpoint: ctx.target.regions[region], credentials: ctx.target.spec.credentials, connections: ctx.concurrency, region });
  const us = sdk('us-east-1');
  const eu = sdk('eu-west-1');
  try {
    await us.s3.send(new CreateBucketCommand({ Bucket: 'batch-src' }));
    await us.s3.send(new PutBucketVersioningCommand({ Bucket: 'batch-src', VersioningConfiguration: { Status: 'Enabled' } }));
    await eu.s3.send(new CreateBucketCommand({ Bucket: 'batch-dst', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    await eu.s3.send(new PutBucketVersioningCommand({ Bucket: 'batch-dst', VersioningConfiguration: { Status: 'Enabled' } }));
    const body = randomBytes(SIZE);
    let next = 0;
    const loadStart = performance.now();
    await Promise.all(
      Array.from({ length: ctx.concurrency }, async () => {
        while (!ctx.signal.aborted) {
          const i = next++;
          if (i >= OBJECTS) return;
          await us.s3.send(new PutObjectCommand({ Bucket: 'batch-src', Key: `obj/${String(i).padStart(6, '0')}`, Body: body }));
        }
      }),
    );
    ctx.log(`wrote ${OBJECTS} objects in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);
    await us.s3.send(
      new PutBucketReplicationCommand({
        Bucket: 'batch-src',
        ReplicationConfiguration: {
          Role: 'arn:aws:iam::111122223333:role/batch',
          Rules: [{ ID: 'all', Priority: 1, Status: 'Enabled', Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: 'arn:aws:s3:::batch-dst' } }],
        },
      }),
    );
    const started = performance.now();
    const spec = { bucket: 'batch-src', account: ACCOUNT, filter: { statuses: ['NONE'] } };
    let job = (await jobsCall(ctx, 'POST', '/_meridian/jobs', { spec: JSON.stringify(spec) })).job;
    let lastLog = started;
    while (!['Complete', 'Cancelled', 'Failed'].includes(job.status) && !ctx.signal.aborted) {
      await sleep(250);
      job = (await jobsCall(ctx, 'GET', '/_meridian/jobs/describe', { id: job.id })).job;
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        ctx.log(`${job.status}: ${job.progress.succeeded + job.progress.failed}/${job.progress.total ?? '?'}`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const done = job.progress.succeeded;
    return {
      status: job.status === 'Complete' ? 'ok' : ctx.signal.aborted ? 'timeout' : 'failed',
      ops: done,
      seconds,
      opsPerSec: done / seconds,
      mibPerSec: (done * SIZE) / (1024 * 1024) / seconds,
      errors: job.progress.failed,
      note: `job ${job.status}, ${done} of ${job.progress.total ?? '?'} replicated`,
    };
  } finally {
    us.destroy();
    eu.destroy();
  }
}

export const batchScenarios: readonly Scenario[] = [
  {
    name: 'batch-backfill',
    title: 'Batch replication back-fill, 100k × 1 KiB',
    compare: 'opsPerSec',
    higherIsBetter: true,
    goals: [],
    targets: ['meridian'],
    regions: ['us-east-1', 'eu-west-1'],
    estimateSec: () => 300,
    run,
  },
];
