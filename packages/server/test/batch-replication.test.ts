/**
 * Batch replication (S3 Batch Replication, spec A.9) end to end: versions written before a
 * bucket had replication rules, versions whose replication FAILED, and COMPLETED versions
 * back-filled to a newly added destination are replicated by a job; filters select what a
 * job takes; jobs pause, resume, cancel and survive a restart; the S3 Control job operations
 * through the stock `@aws-sdk/client-s3-control`; the CLI with its CSV completion report.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type ReplicationRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateJobCommand,
  DescribeJobCommand,
  ListJobsCommand,
  S3ControlClient,
  S3ControlServiceException,
  UpdateJobPriorityCommand,
  UpdateJobStatusCommand,
  type JobDescriptor,
  type RequestedJobStatus,
} from '@aws-sdk/client-s3-control';
import { FaultStore } from '../src/core/faults.ts';
import { faultsPath } from '../src/cli/fault.ts';
import { replicateExisting } from '../src/cli/replicate-existing.ts';
import { JobRunner } from '../src/replication/job-runner.ts';
import { LmdbJobStore } from '../src/replication/job-store.ts';
import { parseReportLine, type BatchJob } from '../src/replication/jobs.ts';
import { planReplication } from '../src/replication/rules.ts';
import { createLogger } from '../src/core/log.ts';
import { Engine } from '../src/storage/engine.ts';
import { FsBlobStore } from '../src/storage/fs-blob.ts';
import { LmdbMetaStore } from '../src/storage/lmdb-meta.ts';
import type { ReplicationPlanner } from '../src/storage/types.ts';
import { eventually } from './helpers/eventually.ts';
import { MERIDIAN_BIN } from './helpers/process.ts';
import { rawRequest } from './helpers/raw-request.ts';
import { CREDENTIALS, localhostResolvingHandler, startTestWorld, type TestWorld } from './helpers/world.ts';

const run = promisify(execFile);
const ROLE = 'arn:aws:iam::111122223333:role/batch';
const AccountId = CREDENTIALS.accountId;
const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-1';

function rule(destination: string, priority: number): ReplicationRule {
  return {
    ID: `to-${destination}`,
    Priority: priority,
    Status: 'Enabled',
    Filter: { Prefix: '' },
    DeleteMarkerReplication: { Status: 'Disabled' },
    Destination: { Bucket: `arn:aws:s3:::${destination}` },
  };
}

type JobJson = BatchJob & { activeSeconds: number };

/** The world's view through one region's internal job endpoint. */
class Jobs {
  constructor(
    readonly w: TestWorld,
    readonly region: string,
  ) {}

  async #call(method: string, path: string, query: Record<string, string>): Promise<unknown> {
    const res = await rawRequest(this.w.endpoint(this.region), { method, path, query }, { credentials: CREDENTIALS });
    assert.equal(res.status, 200, res.text);
    return JSON.parse(res.text) as unknown;
  }

  async start(bucket: string, filter: BatchJob['filter'] = {}): Promise<JobJson> {
    const spec = { bucket, account: AccountId, filter };
    return ((await this.#call('POST', '/_meridian/jobs', { spec: JSON.stringify(spec) })) as { job: JobJson }).job;
  }

  async get(id: string): Promise<JobJson> {
    return ((await this.#call('GET', '/_meridian/jobs/describe', { id })) as { job: JobJson }).job;
  }

  async status(id: string, status: string): Promise<JobJson> {
    return ((await this.#call('POST', '/_meridian/jobs/status', { id, status })) as { job: JobJson }).job;
  }

  async until(id: string, status: string, timeoutMs = 20_000): Promise<JobJson> {
    return eventually(
      async () => {
        const job = await this.get(id);
        assert.equal(job.status, status, JSON.stringify(job.progress));
        return job;
      },
      { timeoutMs },
    );
  }

  /** The completion report, parsed: one row per version. */
  async report(id: string): Promise<string[][]> {
    const out = (await this.#call('GET', '/_meridian/jobs/report', { id })) as { header: string; lines: string[] };
    assert.equal(out.header, 'Bucket,Key,VersionId,Outcome,FailureReason');
    return out.lines.map(parseReportLine);
  }
}

describe('batch replication', { concurrency: false }, () => {
  let w: TestWorld;
  let us: S3Client;
  let eu: S3Client;
  let ap: S3Client;
  let jobs: Jobs;

  before(async () => {
    w = await startTestWorld({ replication: { retryBaseMs: 20, retryMaxMs: 200 } });
    us = w.client(US);
    eu = w.client(EU);
    ap = w.client(AP);
    jobs = new Jobs(w, US);
  });
  after(() => w.close());

  async function bucket(s3: S3Client, name: string, region: string): Promise<void> {
    await s3.send(
      new CreateBucketCommand({ Bucket: name, ...(region === US ? {} : { CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-1' } }) }),
    );
    await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  }

  async function configure(source: string, rules: ReplicationRule[]): Promise<void> {
    await us.send(new PutBucketReplicationCommand({ Bucket: source, ReplicationConfiguration: { Role: ROLE, Rules: rules } }));
  }

  async function putMany(bucketName: string, keys: string[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map(async (Key) => {
          const out = await us.send(new PutObjectCommand({ Bucket: bucketName, Key, Body: `body of ${Key}` }));
          ids.set(Key, out.VersionId!);
        }),
      );
    }
    return ids;
  }

  async function replicationStatus(bucketName: string, key: string): Promise<string | undefined> {
    return (await us.send(new HeadObjectCommand({ Bucket: bucketName, Key: key }))).ReplicationStatus;
  }

  async function versionsIn(s3: S3Client, bucketName: string): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucketName, KeyMarker, VersionIdMarker }));
      for (const v of page.Versions ?? []) found.set(v.Key!, v.VersionId!);
      if (!page.IsTruncated) return found;
      KeyMarker = page.NextKeyMarker;
      VersionIdMarker = page.NextVersionIdMarker;
    }
  }

  test('NONE: versions written before the rules existed are replicated, with their version ids', async () => {
    await bucket(us, 'bj-none-src', US);
    await bucket(eu, 'bj-none-dst', EU);
    const keys = Array.from({ length: 30 }, (_, i) => `old/${String(i).padStart(2, '0')}`);
    const ids = await putMany('bj-none-src', keys);
    // A delete marker: the rule does not replicate markers, so the job leaves it.
    await us.send(new DeleteObjectCommand({ Bucket: 'bj-none-src', Key: 'old/29' }));
    await configure('bj-none-src', [rule('bj-none-dst', 1)]);
    assert.equal(await replicationStatus('bj-none-src', 'old/00'), undefined, 'old versions were never replicated');
    const live = await us.send(new PutObjectCommand({ Bucket: 'bj-none-src', Key: 'new', Body: 'live' }));

    const job = await jobs.start('bj-none-src', { statuses: ['NONE'] });
    const done = await jobs.until(job.id, 'Complete');
    assert.equal(done.progress.total, 30);
    assert.equal(done.progress.succeeded, 30);
    assert.equal(done.progress.failed, 0);
    assert.equal(done.progress.bytesDone, keys.reduce((n, k) => n + `body of ${k}`.length, 0));

    const replicas = await versionsIn(eu, 'bj-none-dst');
    for (const [key, id] of ids) assert.equal(replicas.get(key), id, `${key} replicated under its version id`);
    assert.equal(replicas.get('new'), live.VersionId, 'live replication went on as before');
    assert.equal(await replicationStatus('bj-none-src', 'old/00'), 'COMPLETED');
    const got = await eu.send(new GetObjectCommand({ Bucket: 'bj-none-dst', Key: 'old/07' }));
    assert.equal(await got.Body!.transformToString(), 'body of old/07');
    assert.equal(got.ReplicationStatus, 'REPLICA');

    const report = await jobs.report(job.id);
    assert.equal(report.length, 30);
    assert.deepEqual(report[0], ['bj-none-src', 'old/00', ids.get('old/00'), 'succeeded', '']);
    assert.ok(report.every((r) => r[3] === 'succeeded'));

    // Everything has a replication state now: a second NONE job has nothing to do.
    const again = await jobs.until((await jobs.start('bj-none-src', { statuses: ['NONE'] })).id, 'Complete');
    assert.deepEqual([again.progress.total, again.progress.queued], [0, 0]);
  });

  test('FAILED: a job fails with the reason while the cause lasts, and replicates once it is fixed', async () => {
    await bucket(us, 'bj-fail-src', US);
    await bucket(eu, 'bj-fail-dst', EU);
    await configure('bj-fail-src', [rule('bj-fail-dst', 1)]);
    await eu.send(new PutBucketVersioningCommand({ Bucket: 'bj-fail-dst', VersioningConfiguration: { Status: 'Suspended' } }));
    const keys = ['f/1', 'f/2', 'f/3', 'f/4', 'f/5'];
    const ids = await putMany('bj-fail-src', keys);
    await putMany('bj-fail-src', ['g/ok']);
    for (const k of keys) await eventually(async () => assert.equal(await replicationStatus('bj-fail-src', k), 'FAILED'));

    const broken = await jobs.until((await jobs.start('bj-fail-src', { statuses: ['FAILED'], prefix: 'f/' })).id, 'Complete');
    assert.deepEqual([broken.progress.succeeded, broken.progress.failed], [0, 5]);
    const failedRows = await jobs.report(broken.id);
    assert.deepEqual(failedRows[0], ['bj-fail-src', 'f/1', ids.get('f/1'), 'failed', 'bj-fail-dst: DstBucketUnversioned']);

    await eu.send(new PutBucketVersioningCommand({ Bucket: 'bj-fail-dst', VersioningConfiguration: { Status: 'Enabled' } }));
    const fixed = await jobs.until((await jobs.start('bj-fail-src', { statuses: ['FAILED'], prefix: 'f/' })).id, 'Complete');
    assert.deepEqual([fixed.progress.total, fixed.progress.succeeded, fixed.progress.failed], [5, 5, 0]);
    const replicas = await versionsIn(eu, 'bj-fail-dst');
    for (const [key, id] of ids) assert.equal(replicas.get(key), id);
    assert.equal(replicas.has('g/ok'), false, 'the prefix kept the job off g/');
    for (const k of keys) assert.equal(await replicationStatus('bj-fail-src', k), 'COMPLETED');
  });

  test('COMPLETED: a new destination is back-filled with what the first one already has', async () => {
    await bucket(us, 'bj-fill-src', US);
    await bucket(eu, 'bj-fill-a', EU);
    await bucket(ap, 'bj-fill-b', AP);
    await configure('bj-fill-src', [rule('bj-fill-a', 1)]);
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    const ids = await putMany('bj-fill-src', keys);
    for (const k of keys) await eventually(async () => assert.equal(await replicationStatus('bj-fill-src', k), 'COMPLETED'));

    await configure('bj-fill-src', [rule('bj-fill-a', 1), rule('bj-fill-b', 2)]);
    const job = await jobs.until((await jobs.start('bj-fill-src', { statuses: ['COMPLETED'] })).id, 'Complete');
    assert.deepEqual([job.progress.total, job.progress.succeeded], [10, 10]);
    const inB = await versionsIn(ap, 'bj-fill-b');
    for (const [key, id] of ids) assert.equal(inB.get(key), id, `${key} back-filled`);
    assert.equal((await versionsIn(eu, 'bj-fill-a')).size, 10, 'the first destination keeps one copy of each');
    assert.equal(await replicationStatus('bj-fill-src', 'k3'), 'COMPLETED');
  });

  test('filters: prefix and creation time', async () => {
    await bucket(us, 'bj-filter-src', US);
    await bucket(eu, 'bj-filter-dst', EU);
    await putMany('bj-filter-src', ['a/1', 'a/2', 'b/1']);
    await new Promise((r) => setTimeout(r, 20));
    const since = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    const late = await putMany('bj-filter-src', ['a/3', 'b/2']);
    await configure('bj-filter-src', [rule('bj-filter-dst', 1)]);
    const job = await jobs.until((await jobs.start('bj-filter-src', { statuses: ['NONE'], prefix: 'a/', createdAfter: since })).id, 'Complete');
    assert.deepEqual([job.progress.total, job.progress.succeeded], [1, 1]);
    const replicas = await versionsIn(eu, 'bj-filter-dst');
    assert.deepEqual([...replicas.keys()], ['a/3']);
    assert.equal(replicas.get('a/3'), late.get('a/3'));
  });

  test('REPLICA: replicas held by a bucket are replicated on to its own destination, nothing else', async () => {
    await bucket(us, 'bj-rep-a', US);
    await bucket(eu, 'bj-rep-b', EU);
    await bucket(ap, 'bj-rep-c', AP);
    await configure('bj-rep-a', [rule('bj-rep-b', 1)]);
    const ids = await putMany('bj-rep-a', ['r/1', 'r/2', 'r/3']);
    for (const k of ids.keys()) await eventually(async () => assert.equal(await replicationStatus('bj-rep-a', k), 'COMPLETED'));
    // bj-rep-b: three replicas, one version of its own from before its rules (NONE).
    const before = await eu.send(new PutObjectCommand({ Bucket: 'bj-rep-b', Key: 'own/old', Body: 'written in b' }));
    await eu.send(new PutBucketReplicationCommand({ Bucket: 'bj-rep-b', ReplicationConfiguration: { Role: ROLE, Rules: [rule('bj-rep-c', 1)] } }));
    const inB = new Jobs(w, EU);
    const job = await inB.until((await inB.start('bj-rep-b', { statuses: ['REPLICA'] })).id, 'Complete');
    assert.deepEqual([job.progress.total, job.progress.succeeded, job.progress.failed], [3, 3, 0]);
    const inC = await versionsIn(ap, 'bj-rep-c');
    assert.deepEqual([...inC.keys()].sort(), ['r/1', 'r/2', 'r/3'], 'the replicas, not the NONE version');
    for (const [key, id] of ids) assert.equal(inC.get(key), id, `${key} keeps its version id down the chain`);
    assert.deepEqual(
      (await inB.report(job.id)).map((r) => [r[1], r[2], r[3]]),
      [...ids].map(([key, id]) => [key, id, 'succeeded']),
    );
    assert.equal((await eu.send(new HeadObjectCommand({ Bucket: 'bj-rep-b', Key: 'own/old' }))).VersionId, before.VersionId);
  });

  test('the completion report matches reality: each selected version once, its outcome as the source records it', async () => {
    await bucket(us, 'bj-mix-src', US);
    await bucket(eu, 'bj-mix-ok', EU);
    await bucket(ap, 'bj-mix-bad', AP);
    const written: { key: string; versionId: string; size: number }[] = [];
    const put = async (key: string, body: string) => {
      const out = await us.send(new PutObjectCommand({ Bucket: 'bj-mix-src', Key: key, Body: body }));
      written.push({ key, versionId: out.VersionId!, size: body.length });
    };
    for (const key of ['ok/1', 'ok/2', 'bad/1', 'bad/2', 'other/1']) await put(key, `${key} first`);
    for (const key of ['ok/1', 'bad/1']) await put(key, `${key} second, longer`);
    // A delete marker: the rules do not replicate markers, so no job takes it.
    await us.send(new DeleteObjectCommand({ Bucket: 'bj-mix-src', Key: 'ok/2' }));
    const prefixRule = (id: string, prefix: string, destination: string, priority: number): ReplicationRule => ({
      ...rule(destination, priority),
      ID: id,
      Filter: { Prefix: prefix },
    });
    await configure('bj-mix-src', [prefixRule('ok', 'ok/', 'bj-mix-ok', 1), prefixRule('bad', 'bad/', 'bj-mix-bad', 2)]);
    // Copies to a destination whose versioning is suspended fail for good.
    await ap.send(new PutBucketVersioningCommand({ Bucket: 'bj-mix-bad', VersioningConfiguration: { Status: 'Suspended' } }));

    const job = await jobs.until((await jobs.start('bj-mix-src', { statuses: ['NONE'] })).id, 'Complete');
    const selected = written.filter((v) => !v.key.startsWith('other/'));
    const rows = await jobs.report(job.id);
    const id = (key: string, versionId: string) => `${key} ${versionId}`;
    assert.deepEqual(rows.map((r) => id(r[1], r[2])).sort(), selected.map((v) => id(v.key, v.versionId)).sort(), 'each selected version once');
    for (const [bucketName, key, versionId, outcome, reason] of rows) {
      assert.equal(bucketName, 'bj-mix-src');
      const head = await us.send(new HeadObjectCommand({ Bucket: 'bj-mix-src', Key: key, VersionId: versionId }));
      if (key.startsWith('ok/')) {
        assert.deepEqual([outcome, reason, head.ReplicationStatus], ['succeeded', '', 'COMPLETED'], key);
      } else {
        assert.deepEqual([outcome, reason, head.ReplicationStatus], ['failed', 'bj-mix-bad: DstBucketUnversioned', 'FAILED'], key);
      }
    }
    const ok = selected.filter((v) => v.key.startsWith('ok/'));
    assert.deepEqual(
      [job.progress.total, job.progress.succeeded, job.progress.failed, job.progress.bytesDone],
      [selected.length, ok.length, selected.length - ok.length, selected.reduce((n, v) => n + v.size, 0)],
    );
    // The destination holds exactly the versions reported succeeded, under their ids.
    const replicas = await eu.send(new ListObjectVersionsCommand({ Bucket: 'bj-mix-ok' }));
    assert.deepEqual(
      (replicas.Versions ?? []).map((v) => id(v.Key!, v.VersionId!)).sort(),
      rows.filter((r) => r[3] === 'succeeded').map((r) => id(r[1], r[2])).sort(),
    );
    assert.equal((await ap.send(new ListObjectVersionsCommand({ Bucket: 'bj-mix-bad' }))).Versions, undefined);
  });

  test('a job refused: unknown bucket, bucket without replication rules', async () => {
    await bucket(us, 'bj-norules', US);
    const none = await rawRequest(w.endpoint(US), { method: 'POST', path: '/_meridian/jobs', query: { spec: JSON.stringify({ bucket: 'bj-nope', account: AccountId, filter: {} }) } }, { credentials: CREDENTIALS });
    assert.equal(none.status, 404, none.text);
    const unconfigured = await rawRequest(w.endpoint(US), { method: 'POST', path: '/_meridian/jobs', query: { spec: JSON.stringify({ bucket: 'bj-norules', account: AccountId, filter: {} }) } }, { credentials: CREDENTIALS });
    assert.equal(unconfigured.status, 400, unconfigured.text);
    assert.match(unconfigured.text, /no replication configuration/);
  });

  test('S3 Control: CreateJob (confirmation), DescribeJob, ListJobs, UpdateJobStatus, UpdateJobPriority', async () => {
    await bucket(us, 'bj-ctl-src', US);
    await bucket(eu, 'bj-ctl-dst', EU);
    await bucket(us, 'bj-ctl-reports', US);
    const ids = await putMany('bj-ctl-src', ['x/1.txt', 'x/2.txt', 'x/3.bin']);
    await configure('bj-ctl-src', [rule('bj-ctl-dst', 1)]);
    const control = new S3ControlClient({
      region: 'us-west-2',
      endpoint: w.globalEndpoint.replace('127.0.0.1', 'localhost'),
      credentials: CREDENTIALS,
      requestHandler: localhostResolvingHandler(),
      maxAttempts: 1,
    });
    try {
      const created = await control.send(
        new CreateJobCommand({
          AccountId,
          Operation: { S3ReplicateObject: {} },
          Priority: 10,
          RoleArn: ROLE,
          ConfirmationRequired: true,
          Description: 'back-fill',
          Report: { Enabled: true, Bucket: 'arn:aws:s3:::bj-ctl-reports', Format: 'Report_CSV_20180820', Prefix: 'reports', ReportScope: 'AllTasks' },
          ManifestGenerator: {
            S3JobManifestGenerator: {
              SourceBucket: 'arn:aws:s3:::bj-ctl-src',
              EnableManifestOutput: false,
              Filter: { EligibleForReplication: true, ObjectReplicationStatuses: ['NONE'], KeyNameConstraint: { MatchAnySuffix: ['.txt'] } },
            },
          },
        }),
      );
      const JobId = created.JobId!;
      assert.ok(JobId);
      const describe = async (): Promise<JobDescriptor> => (await control.send(new DescribeJobCommand({ AccountId, JobId }))).Job!;
      const suspended = await eventually(async () => {
        const j = await describe();
        assert.equal(j.Status, 'Suspended');
        return j;
      });
      assert.equal(suspended.ConfirmationRequired, true);
      assert.equal(suspended.ProgressSummary?.TotalNumberOfTasks, 2, 'the manifest counts the two .txt versions');
      assert.equal(suspended.Operation?.S3ReplicateObject !== undefined, true);
      assert.equal(suspended.Priority, 10);
      assert.equal(suspended.Description, 'back-fill');
      assert.equal(suspended.JobArn, `arn:aws:s3:us-east-1:${AccountId}:job/${JobId}`);
      assert.deepEqual(suspended.ManifestGenerator?.S3JobManifestGenerator?.Filter?.ObjectReplicationStatuses, ['NONE']);
      assert.deepEqual(suspended.ManifestGenerator?.S3JobManifestGenerator?.Filter?.KeyNameConstraint?.MatchAnySuffix, ['.txt']);
      assert.ok(suspended.CreationTime instanceof Date);
      assert.equal((await versionsIn(eu, 'bj-ctl-dst')).size, 0, 'nothing runs before confirmation');

      const listed = await control.send(new ListJobsCommand({ AccountId, JobStatuses: ['Suspended'] }));
      assert.ok(listed.Jobs?.some((j) => j.JobId === JobId && j.Operation === 'S3ReplicateObject' && j.Status === 'Suspended'));
      const prio = await control.send(new UpdateJobPriorityCommand({ AccountId, JobId, Priority: 42 }));
      assert.equal(prio.Priority, 42);

      const ready = await control.send(new UpdateJobStatusCommand({ AccountId, JobId, RequestedJobStatus: 'Ready' }));
      assert.equal(ready.JobId, JobId);
      const complete = await eventually(async () => {
        const j = await describe();
        assert.equal(j.Status, 'Complete');
        return j;
      });
      assert.equal(complete.ProgressSummary?.NumberOfTasksSucceeded, 2);
      assert.equal(complete.ProgressSummary?.NumberOfTasksFailed, 0);
      assert.ok(complete.TerminationDate instanceof Date);
      assert.equal(complete.Priority, 42);
      const replicas = await versionsIn(eu, 'bj-ctl-dst');
      assert.deepEqual([...replicas.keys()].sort(), ['x/1.txt', 'x/2.txt']);

      // The completion report, in the report bucket.
      const report = await us.send(new GetObjectCommand({ Bucket: 'bj-ctl-reports', Key: `reports/job-${JobId}/results/report.csv` }));
      const rows = (await report.Body!.transformToString()).trim().split('\n');
      assert.equal(rows[0], 'Bucket,Key,VersionId,Outcome,FailureReason');
      assert.deepEqual(rows.slice(1), [`bj-ctl-src,x/1.txt,${ids.get('x/1.txt')},succeeded,`, `bj-ctl-src,x/2.txt,${ids.get('x/2.txt')},succeeded,`]);

      const all = await control.send(new ListJobsCommand({ AccountId }));
      assert.ok(all.Jobs?.some((j) => j.JobId === JobId && j.Status === 'Complete' && j.ProgressSummary?.NumberOfTasksSucceeded === 2));

      await assert.rejects(
        control.send(new UpdateJobStatusCommand({ AccountId, JobId, RequestedJobStatus: 'Cancelled' })),
        (err: unknown) => err instanceof S3ControlServiceException && err.name === 'JobStatusException' && err.$metadata.httpStatusCode === 409,
      );
      await assert.rejects(
        control.send(new DescribeJobCommand({ AccountId, JobId: '00000000-0000-0000-0000-000000000000' })),
        (err: unknown) => err instanceof S3ControlServiceException && err.name === 'NotFoundException' && err.$metadata.httpStatusCode === 404,
      );
      await assert.rejects(
        control.send(new CreateJobCommand({ AccountId, Operation: { S3PutObjectTagging: {} }, Priority: 1, RoleArn: ROLE, Report: { Enabled: false }, ManifestGenerator: { S3JobManifestGenerator: { SourceBucket: 'arn:aws:s3:::bj-ctl-src', EnableManifestOutput: false } } })),
        (err: unknown) => err instanceof S3ControlServiceException && err.name === 'NotImplemented',
      );

      // Pause and cancel through S3 Control: a second job, held by confirmation, then cancelled.
      const second = await control.send(
        new CreateJobCommand({
          AccountId,
          Operation: { S3ReplicateObject: {} },
          Priority: 1,
          RoleArn: ROLE,
          ConfirmationRequired: true,
          Report: { Enabled: false },
          ManifestGenerator: { S3JobManifestGenerator: { SourceBucket: 'arn:aws:s3:::bj-ctl-src', EnableManifestOutput: false } },
        }),
      );
      await eventually(async () => assert.equal((await control.send(new DescribeJobCommand({ AccountId, JobId: second.JobId }))).Job?.Status, 'Suspended'));
      const cancelled = await control.send(new UpdateJobStatusCommand({ AccountId, JobId: second.JobId, RequestedJobStatus: 'Cancelled', StatusUpdateReason: 'not needed' }));
      assert.equal(cancelled.Status, 'Cancelled');
      assert.equal(cancelled.StatusUpdateReason, 'not needed');
      await assert.rejects(
        control.send(new UpdateJobStatusCommand({ AccountId, JobId: second.JobId, RequestedJobStatus: 'Paused' as RequestedJobStatus })),
        (err: unknown) => err instanceof S3ControlServiceException && err.name === 'JobStatusException',
      );
    } finally {
      control.destroy();
    }
  });

  test('CLI: meridian replicate-existing shows progress, a summary and writes the CSV report', async () => {
    await bucket(us, 'bj-cli-src', US);
    await bucket(eu, 'bj-cli-dst', EU);
    const ids = await putMany('bj-cli-src', ['c/1', 'c/2', 'c/3', 'd/1']);
    await configure('bj-cli-src', [rule('bj-cli-dst', 1)]);
    const dir = await mkdtemp(join(tmpdir(), 'meridian-report-'));
    try {
      const report = join(dir, 'out.csv');
      const { stdout } = await run(process.execPath, [
        MERIDIAN_BIN, 'replicate-existing', '--data-dir', w.dataDir, '--bucket', 'bj-cli-src', '--status', 'NONE,FAILED', '--prefix', 'c/', '--report', report,
      ]);
      assert.match(stdout, /^Job [0-9a-f-]+ replicates existing objects of bj-cli-src \(NONE, FAILED, prefix c\/\) in us-east-1\./);
      assert.match(stdout, /\[#{24}\] 100% 3\/3 objects/, 'a final progress line');
      assert.match(stdout, /: Complete in .*\n {2}3 replicated, 0 failed/);
      assert.match(stdout, /Report: .*out\.csv \(3 versions\)/);
      const lines = (await readFile(report, 'utf8')).trim().split('\n');
      assert.deepEqual(lines, [
        'Bucket,Key,VersionId,Outcome,FailureReason',
        ...['c/1', 'c/2', 'c/3'].map((k) => `bj-cli-src,${k},${ids.get(k)},succeeded,`),
      ]);
      const replicas = await versionsIn(eu, 'bj-cli-dst');
      assert.deepEqual([...replicas.keys()], ['c/1', 'c/2', 'c/3']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const unknown = await run(process.execPath, [MERIDIAN_BIN, 'replicate-existing', '--data-dir', w.dataDir, '--bucket', 'bj-missing']).catch((e: { code: number; stdout: string }) => e);
    assert.equal((unknown as { code?: number }).code, 1);
  });

  test('CLI on a terminal: the progress bar is redrawn in place, then the summary', async () => {
    await bucket(us, 'bj-tty-src', US);
    await bucket(eu, 'bj-tty-dst', EU);
    const keys = Array.from({ length: 300 }, (_, i) => `t/${String(i).padStart(3, '0')}`);
    await putMany('bj-tty-src', keys);
    await configure('bj-tty-src', [rule('bj-tty-dst', 1)]);
    const bytes = keys.reduce((n, k) => n + `body of ${k}`.length, 0);
    let out = '';
    const code = await replicateExisting({ dataDir: w.dataDir, bucket: 'bj-tty-src', tty: true, intervalMs: 10, out: (t) => (out += t) });
    assert.equal(code, 0, out);
    const [intro, ...rest] = out.split('\r\x1b[2K');
    assert.match(intro, /^Job [0-9a-f-]+ replicates existing objects of bj-tty-src \(NONE\) in us-east-1\.\n$/);
    assert.ok(rest.length >= 2, `redrawn: ${JSON.stringify(out)}`);
    const frames = rest.slice(0, -1);
    for (const f of frames) {
      assert.match(f, /^\[[#-]{24}\] +\d+% [\d,]+\/(\?|300) objects {2}[\d.]+ (B|KiB)\/(\?|[\d.]+ KiB) {2}[\d,]+ obj\/s {2}ETA (-|[\d.]+ m?s|\d+ min \d+ s) {2}(New|Preparing|Active|Complete)$/, JSON.stringify(f));
    }
    assert.ok(!frames.some((f) => f.includes('\n')), 'a frame stays on its line');
    const last = rest.at(-1)!;
    assert.match(last, new RegExp(`^\\[#{24}\\] 100% 300/300 objects {2}${(bytes / 1024).toFixed(1)} KiB/${(bytes / 1024).toFixed(1)} KiB {2}[\\d,]+ obj/s {2}ETA - {2}Complete\\n`));
    assert.match(last, /\nJob [0-9a-f-]+: Complete in [\d.]+ m?s\.\n {2}300 replicated, 0 failed, [\d.]+ KiB of [\d.]+ KiB\.\n$/);
  });

  test('a back-fill of 2,000 objects', async () => {
    await bucket(us, 'bj-bulk-src', US);
    await bucket(eu, 'bj-bulk-dst', EU);
    const keys = Array.from({ length: 2000 }, (_, i) => `bulk/${String(i).padStart(5, '0')}`);
    await putMany('bj-bulk-src', keys);
    await configure('bj-bulk-src', [rule('bj-bulk-dst', 1)]);
    const started = Date.now();
    const job = await jobs.until((await jobs.start('bj-bulk-src', { statuses: ['NONE'] })).id, 'Complete', 60_000);
    const ms = Date.now() - started;
    assert.deepEqual([job.progress.total, job.progress.succeeded, job.progress.failed], [2000, 2000, 0]);
    assert.equal((await versionsIn(eu, 'bj-bulk-dst')).size, 2000);
    assert.equal((await jobs.report(job.id)).length, 2000);
    process.stderr.write(`# back-fill of 2,000 objects: ${ms} ms (${Math.round(2000 / (ms / 1000))} objects/s)\n`);
  });
});

describe('batch replication across a restart', () => {
  test('a job whose copies were held back by a partition completes after the world restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'meridian-batch-restart-'));
    try {
      let w = await startTestWorld({ dataDir, replication: { retryBaseMs: 20, retryMaxMs: 100 } });
      const us = w.client(US);
      const eu = w.client(EU);
      for (const [s3, name, region] of [[us, 'bjr-src', US], [eu, 'bjr-dst', EU]] as const) {
        await s3.send(new CreateBucketCommand({ Bucket: name, ...(region === US ? {} : { CreateBucketConfiguration: { LocationConstraint: EU } }) }));
        await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
      }
      for (let i = 0; i < 20; i++) await us.send(new PutObjectCommand({ Bucket: 'bjr-src', Key: `r/${i}`, Body: `v${i}` }));
      await us.send(new PutBucketReplicationCommand({ Bucket: 'bjr-src', ReplicationConfiguration: { Role: ROLE, Rules: [rule('bjr-dst', 1)] } }));
      const faults = new FaultStore(faultsPath(dataDir));
      await faults.partition(US, EU);
      const jobs = new Jobs(w, US);
      const job = await jobs.start('bjr-src', { statuses: ['NONE'] });
      const stuck = await eventually(async () => {
        const j = await jobs.get(job.id);
        assert.equal(j.progress.queued, 20);
        return j;
      });
      assert.equal(stuck.status, 'Active', 'the copies wait out the partition');
      assert.equal(stuck.progress.succeeded, 0);
      await w.close();

      await faults.clear();
      await faults.close();
      w = await startTestWorld({ dataDir, replication: { retryBaseMs: 20, retryMaxMs: 100 } });
      try {
        const after = new Jobs(w, US);
        const done = await after.until(job.id, 'Complete');
        assert.deepEqual([done.progress.total, done.progress.queued, done.progress.succeeded], [20, 20, 20]);
        const report = await after.report(job.id);
        assert.equal(report.filter((r) => r[3] === 'succeeded').length, 20);
        const listed = await w.client(EU).send(new ListObjectVersionsCommand({ Bucket: 'bjr-dst' }));
        assert.equal(listed.Versions?.length, 20);
        // The report names the very versions that arrived, once each.
        assert.deepEqual(
          report.map((r) => `${r[1]} ${r[2]}`).sort(),
          (listed.Versions ?? []).map((v) => `${v.Key} ${v.VersionId}`).sort(),
        );
      } finally {
        await w.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * The runner on its own, with the replicator played by the test: each queued entry is
 * finished by hand, so pause, resume, cancel and a restart in the middle of the scan are
 * observed page by page.
 */
describe('job runner', () => {
  const planner: ReplicationPlanner = (bucket, version, operation) =>
    bucket.replication ? planReplication(bucket.replication, { key: version.key, tags: version.tags, storageClass: version.storageClass, replica: version.replica }, operation) : [];

  async function region(dir: string) {
    const meta = new LmdbMetaStore(join(dir, 'meta'));
    const engine = new Engine({ region: US, meta, blobs: new FsBlobStore(join(dir, 'blobs')), planner });
    const store = new LmdbJobStore(join(dir, 'jobs'));
    const runner = new JobRunner({ region: US, engine, store, log: createLogger({ level: 'silent', pretty: false }), pageSize: 10, maxOutstanding: 10 });
    runner.start();
    /** Finishes every queued entry as the replicator would, successfully. */
    const replicateAll = async (): Promise<number> => {
      let n = 0;
      for (const d of engine.replicationDestinations()) {
        for (const e of engine.peekReplications(d, 0, 10_000)) {
          const state = { status: 'COMPLETED' as const, completedAt: Date.now() };
          await engine.finishReplication(e, state);
          runner.finished(e, state);
          n++;
        }
      }
      return n;
    };
    const close = async () => {
      await runner.close();
      await store.close();
      await engine.close();
    };
    return { engine, runner, replicateAll, close };
  }

  async function seed(engine: Engine, n: number): Promise<void> {
    await engine.createBucket({ name: 'src', owner: AccountId });
    await engine.setVersioning('src', 'Enabled');
    const { Readable } = await import('node:stream');
    for (let i = 0; i < n; i++) {
      await engine.putObject({ bucket: 'src', key: `k/${String(i).padStart(3, '0')}`, body: Readable.from([Buffer.from(`v${i}`)]), userMetadata: {}, owner: AccountId });
    }
    await engine.updateBucket('src', { replication: { role: ROLE, rules: [{ id: 'r', status: 'Enabled', priority: 1, filter: { kind: 'all' }, deleteMarkerReplication: 'Disabled', destination: { bucket: 'dst', arn: 'arn:aws:s3:::dst' } }] } });
  }

  const queued = (engine: Engine) => engine.replicationDestinations().reduce((n, d) => n + engine.peekReplications(d, 0, 10_000).length, 0);

  test('a page the engine queued but a crash kept from being recorded is taken up again, done copies included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-runner-crash-'));
    let r: Awaited<ReturnType<typeof region>> | undefined;
    try {
      r = await region(dir);
      await seed(r.engine, 30);
      const job = await r.runner.create({ bucket: 'src', account: AccountId, filter: { statuses: ['NONE'] }, confirmationRequired: true });
      const first = r;
      await eventually(() => assert.equal(first.runner.get(job.id).status, 'Suspended'));
      await first.close();
      r = undefined;
      // What the crash left: the engine queued the job's first page (in the versions' own
      // transaction), the job store never heard of it; half of those copies even finished.
      const meta = new LmdbMetaStore(join(dir, 'meta'));
      const engine = new Engine({ region: US, meta, blobs: new FsBlobStore(join(dir, 'blobs')), planner });
      const page = await engine.replicateExisting({ bucket: 'src', jobId: job.id, statuses: ['NONE'], limit: 10 });
      assert.equal(page.selected.length, 10);
      for (const d of engine.replicationDestinations()) {
        for (const e of engine.peekReplications(d, 0, 5)) await engine.finishReplication(e, { status: 'COMPLETED', completedAt: Date.now() });
      }
      await engine.close();

      const again = await region(dir);
      r = again;
      await again.runner.setStatus(job.id, 'Ready');
      await eventually(async () => {
        await again.replicateAll();
        assert.equal(again.runner.get(job.id).status, 'Complete');
      });
      const end = again.runner.get(job.id);
      assert.deepEqual([end.progress.succeeded, end.progress.failed], [30, 0]);
      const report = [...again.runner.report(job.id)].map(parseReportLine);
      assert.deepEqual(
        report.map((l) => [l[1], l[3]]),
        Array.from({ length: 30 }, (_, i) => [`k/${String(i).padStart(3, '0')}`, 'succeeded']),
        'every version once, the crashed page included',
      );
    } finally {
      await r?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('pause, resume and cancel between pages; a restart resumes from the cursor', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-runner-'));
    try {
      let r = await region(dir);
      await seed(r.engine, 50);
      const job = await r.runner.create({ bucket: 'src', account: AccountId, filter: { statuses: ['NONE'] } });
      // At most 10 without an outcome: the runner stops after one page.
      await eventually(() => assert.equal(r.runner.get(job.id).progress.queued, 10));
      assert.equal(r.runner.get(job.id).progress.total, 50);
      assert.equal(queued(r.engine), 10);

      const paused = await r.runner.setStatus(job.id, 'Paused');
      assert.equal(paused.status, 'Paused');
      assert.equal(await r.replicateAll(), 10);
      await eventually(() => assert.equal(r.runner.get(job.id).progress.succeeded, 10));
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(r.runner.get(job.id).progress.queued, 10, 'a paused job queues nothing more');
      assert.equal(queued(r.engine), 0);

      assert.equal((await r.runner.setStatus(job.id, 'Ready')).status, 'Active');
      await eventually(() => assert.equal(r.runner.get(job.id).progress.queued, 20));

      // Restart with a page queued: the job resumes after its cursor.
      await r.close();
      r = await region(dir);
      assert.equal(r.runner.get(job.id).status, 'Active');
      assert.equal(await r.replicateAll(), 10);
      await eventually(() => assert.equal(r.runner.get(job.id).progress.queued, 30));
      assert.equal(r.runner.get(job.id).progress.succeeded, 20);

      const cancelled = await r.runner.setStatus(job.id, 'Cancelled');
      assert.equal(cancelled.status, 'Cancelled');
      assert.equal(await r.replicateAll(), 10, 'what was queued still replicates');
      await eventually(() => assert.equal(r.runner.get(job.id).progress.succeeded, 30));
      await new Promise((res) => setTimeout(res, 300));
      const end = r.runner.get(job.id);
      assert.deepEqual([end.status, end.progress.queued], ['Cancelled', 30]);
      const report = [...r.runner.report(job.id)].map(parseReportLine);
      assert.equal(report.length, 30);
      assert.deepEqual(report.map((l) => l[1]), Array.from({ length: 30 }, (_, i) => `k/${String(i).padStart(3, '0')}`), 'no version twice, none skipped');
      await assert.rejects(r.runner.setStatus(job.id, 'Ready'), /Cancelled/);
      await r.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
