/**
 * Works a region's batch replication jobs. One loop serves every job of the region, always
 * the runnable job of highest priority first (then the oldest):
 *
 * - Preparing: the generated manifest is counted (a dry run over the bucket: no writes), so
 *   progress has a total; then the job waits Suspended for confirmation or becomes Active.
 * - Active: one page at a time, the engine queues the selected versions (outbox entries tagged
 *   with the job id, the versions marked PENDING in the same transaction) and the page's items,
 *   the cursor and the counters are recorded here in one transaction. A job keeps at most
 *   `maxOutstanding` versions queued without an outcome, so a large back-fill neither floods
 *   the outbox nor outruns pause and cancel.
 * - Outcomes come from the replicator (`finished`) for entries that carry a job id. They are
 *   applied in batches; when every version has its outcome the job is Complete, and its report
 *   is written to the report bucket if it asked for one there.
 *
 * Restart: the loop picks up every job that is not terminal where its cursor is; outcomes
 * that a crash lost are read back from the versions' replication state (`#reconcile`), and a
 * page the engine queued but the crash kept from being recorded is found again by the job
 * name each of its copies carries (`DestinationState.job`).
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Logger } from '../core/log.ts';
import type { InternalHandler } from '../s3/server.ts';
import type { DestinationState, ObjectEngine, OutboxEntry } from '../storage/types.ts';
import type { JobOutcome, LmdbJobStore } from './job-store.ts';
import {
  REPORT_HEADER,
  TERMINAL,
  activeSeconds,
  outstanding,
  reportLine,
  requestStatus,
  type BatchJob,
  type JobItem,
  type JobSpec,
  type JobStatus,
  type RequestedStatus,
} from './jobs.ts';

export interface JobRunnerOptions {
  region: string;
  engine: ObjectEngine;
  store: LmdbJobStore;
  log: Logger;
  /** versions looked at per page (default 500) */
  pageSize?: number;
  /** versions a job may have queued without an outcome (default 20,000) */
  maxOutstanding?: number;
  now?: () => number;
}

/** Why a job could not be made or changed, as S3 Control names it. */
export class JobError extends Error {
  constructor(
    readonly code: 'NotFoundException' | 'JobStatusException' | 'BadRequestException' | 'NoSuchBucket' | 'InvalidRequest',
    message: string,
  ) {
    super(message);
  }
}

const RUNNABLE: ReadonlySet<JobStatus> = new Set(['New', 'Preparing', 'Ready', 'Active']);

export class JobRunner {
  readonly #opts: Required<Omit<JobRunnerOptions, 'now'>> & { now: () => number };
  /** store writes, one at a time: pages and outcomes never interleave */
  #serial: Promise<unknown> = Promise.resolve();
  /** outcomes reported and not applied yet */
  #outcomes: JobOutcome[] = [];
  /** outcomes whose item was not recorded yet, by item */
  readonly #early = new Map<string, JobOutcome[]>();
  #flushTimer: NodeJS.Timeout | undefined;
  #wakeUp: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #closed = false;
  /** Preparing counts, kept between pages of the count */
  readonly #counting = new Map<string, { after?: { key: string; versionId: string }; total: number; bytes: number }>();

  constructor(opts: JobRunnerOptions) {
    this.#opts = { pageSize: 500, maxOutstanding: 20_000, now: Date.now, ...opts };
  }

  start(): void {
    this.#loop = this.#run();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
    await this.#loop;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    await this.#flush();
    await this.#serial;
  }

  // ---- the API the internal endpoint, the S3 Control API and the CLI share ----

  async create(spec: JobSpec): Promise<BatchJob> {
    const bucket = this.#opts.engine.getBucket(spec.bucket);
    if (!bucket) throw new JobError('NoSuchBucket', `The bucket ${spec.bucket} does not exist in ${this.#opts.region}.`);
    if (!bucket.replication) {
      throw new JobError('InvalidRequest', `The bucket ${spec.bucket} has no replication configuration.`);
    }
    const now = this.#opts.now();
    const job: BatchJob = {
      id: randomUUID(),
      region: this.#opts.region,
      bucket: spec.bucket,
      account: spec.account,
      filter: spec.filter,
      status: 'New',
      priority: spec.priority ?? 0,
      confirmationRequired: spec.confirmationRequired ?? false,
      createdAt: now,
      activeMs: 0,
      progress: { queued: 0, queuedBytes: 0, succeeded: 0, failed: 0, bytesDone: 0, scanned: 0 },
      scanned: false,
    };
    if (spec.description !== undefined) job.description = spec.description;
    if (spec.roleArn !== undefined) job.roleArn = spec.roleArn;
    if (spec.clientRequestToken !== undefined) job.clientRequestToken = spec.clientRequestToken;
    if (spec.report !== undefined) job.report = spec.report;
    const result = await this.#write(() => this.#opts.store.create(job));
    if (result.created) this.#wake();
    return result.job;
  }

  get(id: string): BatchJob {
    const job = this.#opts.store.get(id);
    if (!job) throw new JobError('NotFoundException', `No job ${id}.`);
    return job;
  }

  list(account?: string): BatchJob[] {
    return this.#opts.store.list().filter((j) => account === undefined || j.account === account);
  }

  async setStatus(id: string, requested: RequestedStatus, reason?: string): Promise<BatchJob> {
    const job = await this.#write(() =>
      this.#opts.store.update(id, (j) => {
        const to = requestStatus(j, requested);
        if (typeof to !== 'string') throw new JobError('JobStatusException', to.error);
        return this.#moved(j, to, reason);
      }),
    );
    if (!job) throw new JobError('NotFoundException', `No job ${id}.`);
    this.#wake();
    return job;
  }

  async setPriority(id: string, priority: number): Promise<BatchJob> {
    const job = await this.#write(() => this.#opts.store.update(id, (j) => ({ ...j, priority })));
    if (!job) throw new JobError('NotFoundException', `No job ${id}.`);
    return job;
  }

  /** The completion report, a page of lines at a time (`after`: the last key/version returned). */
  report(id: string, opts: { limit?: number; failedOnly?: boolean } = {}): Generator<string> {
    const job = this.get(id);
    const store = this.#opts.store;
    return (function* () {
      let n = 0;
      for (const item of store.items(job.id)) {
        if (opts.failedOnly && item.outcome !== 'failed') continue;
        yield reportLine(job.bucket, item);
        if (opts.limit !== undefined && ++n >= opts.limit) return;
      }
    })();
  }

  /** The replicator reports what became of an entry; only a job's entries matter here. */
  finished(entry: OutboxEntry, state: DestinationState): void {
    if (entry.jobId === undefined) return;
    this.#outcomes.push({ jobId: entry.jobId, key: entry.key, versionId: entry.versionId, destination: entry.destination, state });
    if (this.#outcomes.length >= 1000) void this.#flush();
    else this.#flushTimer ??= setTimeout(() => void this.#flush(), 25);
  }

  /**
   * `/_meridian/jobs...`, for the global endpoint's S3 Control API and the CLI (JSON):
   *   POST /_meridian/jobs?spec=<JobSpec JSON>           create
   *   GET  /_meridian/jobs[?account=A]                    list
   *   GET  /_meridian/jobs/describe?id=J
   *   POST /_meridian/jobs/status?id=J&status=S[&reason=R]
   *   POST /_meridian/jobs/priority?id=J&priority=P
   *   GET  /_meridian/jobs/report?id=J[&after=N&limit=L]  lines of the CSV report
   */
  readonly internal: InternalHandler = async ({ method, path, query }) => {
    if (path !== '/_meridian/jobs' && !path.startsWith('/_meridian/jobs/')) return undefined;
    const id = query.get('id') ?? '';
    try {
      if (path === '/_meridian/jobs' && method === 'POST') {
        const spec = JSON.parse(query.get('spec') ?? 'null') as JobSpec | null;
        if (!spec || typeof spec.bucket !== 'string' || typeof spec.account !== 'string') {
          return { status: 400, body: { error: 'InvalidRequest', message: 'spec needs a bucket and an account' } };
        }
        return { status: 200, body: { job: view(await this.create(spec), this.#opts.now()) } };
      }
      if (path === '/_meridian/jobs' && method === 'GET') {
        const now = this.#opts.now();
        return { status: 200, body: { region: this.#opts.region, jobs: this.list(query.get('account') ?? undefined).map((j) => view(j, now)) } };
      }
      if (path === '/_meridian/jobs/describe' && method === 'GET') {
        return { status: 200, body: { job: view(this.get(id), this.#opts.now()) } };
      }
      if (path === '/_meridian/jobs/status' && method === 'POST') {
        const status = query.get('status');
        if (status !== 'Ready' && status !== 'Cancelled' && status !== 'Paused' && status !== 'Suspended') {
          return { status: 400, body: { error: 'BadRequestException', message: 'status must be Ready, Cancelled or Paused' } };
        }
        const job = await this.setStatus(id, status === 'Suspended' ? 'Paused' : status, query.get('reason') ?? undefined);
        return { status: 200, body: { job: view(job, this.#opts.now()) } };
      }
      if (path === '/_meridian/jobs/priority' && method === 'POST') {
        const priority = Number(query.get('priority'));
        if (!Number.isInteger(priority) || priority < 0 || priority > 2147483647) {
          return { status: 400, body: { error: 'BadRequestException', message: 'priority must be an integer from 0 to 2147483647' } };
        }
        return { status: 200, body: { job: view(await this.setPriority(id, priority), this.#opts.now()) } };
      }
      if (path === '/_meridian/jobs/report' && method === 'GET') {
        const after = Number(query.get('after') ?? 0);
        const limit = Math.min(Number(query.get('limit') ?? 10_000), 100_000);
        const lines: string[] = [];
        let n = 0;
        for (const line of this.report(id)) {
          if (n++ < after) continue;
          lines.push(line);
          if (lines.length >= limit) break;
        }
        const more = lines.length >= limit;
        return { status: 200, body: { header: REPORT_HEADER, lines, next: more ? after + lines.length : undefined } };
      }
    } catch (err) {
      if (err instanceof JobError) return { status: statusOf(err.code), body: { error: err.code, message: err.message } };
      throw err;
    }
    return undefined;
  };

  // ---- the loop ----

  #wake(): void {
    const w = this.#wakeUp;
    this.#wakeUp = undefined;
    w?.();
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#wakeUp = undefined;
        resolve();
      }, ms);
      this.#wakeUp = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    // A restart: outcomes recorded on versions but lost here are read back first.
    for (const job of this.#opts.store.list()) {
      if (!TERMINAL.has(job.status) || outstanding(job) > 0) await this.#reconcile(job);
    }
    while (!this.#closed) {
      let worked = false;
      try {
        worked = await this.#step();
      } catch (err) {
        this.#opts.log.error({ err, region: this.#opts.region }, 'batch replication step failed');
      }
      if (!worked) await this.#sleep(200);
      else await new Promise((r) => setImmediate(r));
    }
  }

  /** One page of the most urgent job that can move; false when none can. */
  async #step(): Promise<boolean> {
    const jobs = this.#opts.store
      .list()
      .filter((j) => RUNNABLE.has(j.status))
      .sort((a, b) => b.priority - a.priority || a.createdAt - b.createdAt);
    for (const job of jobs) {
      if (job.status === 'New') {
        await this.#update(job.id, (j) => (j.status === 'New' ? this.#moved(j, 'Preparing') : j));
        return true;
      }
      if (job.status === 'Preparing') return this.#count(job);
      if (job.status === 'Ready') {
        await this.#update(job.id, (j) => (j.status === 'Ready' ? this.#moved(j, 'Active') : j));
        return true;
      }
      if (job.scanned) {
        if (outstanding(job) === 0) {
          await this.#complete(job);
          return true;
        }
        continue;
      }
      if (outstanding(job) >= this.#opts.maxOutstanding) continue;
      await this.#page(job);
      return true;
    }
    return false;
  }

  /** One page of the Preparing count; at its end the job waits for confirmation or runs. */
  async #count(job: BatchJob): Promise<boolean> {
    const c = this.#counting.get(job.id) ?? { total: 0, bytes: 0 };
    this.#counting.set(job.id, c);
    let page;
    try {
      page = await this.#opts.engine.replicateExisting({ ...this.#input(job), after: c.after, dryRun: true, limit: 5000 });
    } catch (err) {
      await this.#fail(job, err);
      return true;
    }
    c.total += page.selected.length;
    c.bytes += page.selected.reduce((n, s) => n + s.size, 0);
    c.after = page.next;
    if (page.next) return true;
    this.#counting.delete(job.id);
    await this.#update(job.id, (j) => {
      if (j.status !== 'Preparing') return j;
      const counted = { ...j, progress: { ...j.progress, total: c.total, totalBytes: c.bytes } };
      return this.#moved(counted, j.confirmationRequired ? 'Suspended' : 'Active');
    });
    return true;
  }

  async #page(job: BatchJob): Promise<void> {
    let page;
    try {
      page = await this.#opts.engine.replicateExisting({
        ...this.#input(job),
        after: job.cursor,
        limit: Math.min(this.#opts.pageSize, this.#opts.maxOutstanding - outstanding(job)),
      });
    } catch (err) {
      await this.#fail(job, err);
      return;
    }
    const items: JobItem[] = page.selected.map((s) => ({
      key: s.key,
      versionId: s.versionId,
      size: s.size,
      waiting: s.destinations,
      failures: [],
    }));
    // Versions this job queued in a page it did not get to record (a crash between): the
    // copies already done are applied with the page, as outcomes the replicator reported.
    const settled = new Map<string, JobOutcome[]>();
    for (const s of page.selected) {
      if (!s.settled) continue;
      settled.set(
        this.#key(job.id, s.key, s.versionId),
        s.settled.map(({ destination, state }) => ({ jobId: job.id, key: s.key, versionId: s.versionId, destination, state })),
      );
    }
    await this.#write(async () => {
      // The job may have been paused or cancelled while the page was queued: the page still
      // counts (its copies are on their way), only the next one is not taken.
      const current = this.#opts.store.get(job.id) ?? job;
      const next: BatchJob = {
        ...current,
        cursor: page.next ?? current.cursor,
        scanned: page.next === undefined,
        progress: { ...current.progress, scanned: current.progress.scanned + page.scanned },
      };
      return this.#opts.store.recordPage(next, items, (item) => [
        ...(settled.get(this.#key(job.id, item.key, item.versionId)) ?? []),
        ...this.#takeEarly(job.id, item),
      ]);
    });
  }

  #input(job: BatchJob) {
    return {
      bucket: job.bucket,
      jobId: job.id,
      prefix: job.filter.prefix,
      keyNames: job.filter.keyNames,
      createdAfter: job.filter.createdAfter,
      createdBefore: job.filter.createdBefore,
      statuses: job.filter.statuses,
      limit: this.#opts.pageSize,
    };
  }

  async #complete(job: BatchJob): Promise<void> {
    const done = await this.#update(job.id, (j) => {
      if (j.status !== 'Active' || outstanding(j) > 0) return j;
      // What was counted up front may differ from what was queued (versions written or
      // replicated meanwhile): the total is what the job did.
      return this.#moved({ ...j, progress: { ...j.progress, total: j.progress.queued, totalBytes: j.progress.queuedBytes } }, 'Complete');
    });
    if (done?.status === 'Complete') await this.#writeReport(done);
  }

  async #fail(job: BatchJob, err: unknown): Promise<void> {
    const reason = err instanceof Error ? err.message : String(err);
    this.#opts.log.warn({ region: this.#opts.region, job: job.id, bucket: job.bucket, reason }, 'batch replication job failed');
    await this.#update(job.id, (j) => ({
      ...this.#moved(j, 'Failed'),
      failureReasons: [{ code: (err as { code?: string }).code ?? 'InternalError', reason }],
    }));
  }

  /** The completion report as an object in the report bucket, when it is in this region. */
  async #writeReport(job: BatchJob): Promise<void> {
    const r = job.report;
    if (!r?.enabled || !r.bucket) return;
    const bucket = r.bucket.replace(/^arn:aws:s3:::/, '');
    if (!this.#opts.engine.getBucket(bucket)) {
      this.#opts.log.warn({ job: job.id, bucket }, 'the report bucket is not in this region; the report is served by the region only');
      return;
    }
    const key = `${r.prefix ? `${r.prefix.replace(/\/$/, '')}/` : ''}job-${job.id}/results/report.csv`;
    const lines = this.report(job.id, { failedOnly: r.scope === 'FailedTasksOnly' });
    const body = Readable.from(
      (function* () {
        yield `${REPORT_HEADER}\n`;
        for (const line of lines) yield `${line}\n`;
      })(),
      { objectMode: false },
    );
    try {
      await this.#opts.engine.putObject({ bucket, key, body, userMetadata: {}, owner: job.account, contentType: 'text/csv' });
    } catch (err) {
      this.#opts.log.warn({ err, job: job.id, bucket }, 'could not write the completion report');
    }
  }

  // ---- outcomes ----

  #key(jobId: string, key: string, versionId: string): string {
    return `${jobId}\u0000${key}\u0000${versionId}`;
  }

  #takeEarly(jobId: string, item: JobItem): JobOutcome[] {
    const k = this.#key(jobId, item.key, item.versionId);
    const found = this.#early.get(k) ?? [];
    this.#early.delete(k);
    return found;
  }

  #flush(): Promise<void> {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const batch = this.#outcomes;
    this.#outcomes = [];
    if (batch.length === 0) return Promise.resolve();
    return this.#write(async () => {
      const { unknown, jobs } = await this.#opts.store.applyOutcomes(batch);
      for (const o of unknown) {
        const k = this.#key(o.jobId, o.key, o.versionId);
        this.#early.set(k, [...(this.#early.get(k) ?? []), o]);
      }
      if (jobs.some((j) => outstanding(j) === 0 || outstanding(j) < this.#opts.maxOutstanding)) this.#wake();
    }).catch((err: unknown) => this.#opts.log.error({ err }, 'could not record batch replication outcomes'));
  }

  /**
   * Outcomes the replicator reported but a crash lost before they were recorded here: the
   * versions' own replication state says how each queued copy ended.
   */
  async #reconcile(job: BatchJob): Promise<void> {
    const found: JobOutcome[] = [];
    for (const item of this.#opts.store.items(job.id, { waitingOnly: true })) {
      const v = this.#opts.engine.getVersion(job.bucket, item.key, item.versionId);
      for (const destination of item.waiting) {
        const state: DestinationState | undefined = v ? v.replication?.[destination] : { status: 'COMPLETED' };
        if (state && state.status !== 'PENDING') {
          found.push({ jobId: job.id, key: item.key, versionId: item.versionId, destination, state });
        }
      }
      if (found.length >= 1000) await this.#write(() => this.#opts.store.applyOutcomes(found.splice(0)));
    }
    if (found.length > 0) await this.#write(() => this.#opts.store.applyOutcomes(found));
  }

  // ---- store writes ----

  #write<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn, fn);
    this.#serial = run.catch(() => undefined);
    return run;
  }

  #update(id: string, change: (j: BatchJob) => BatchJob): Promise<BatchJob | undefined> {
    return this.#write(() => this.#opts.store.update(id, change));
  }

  /** A job in a new status, with the timers and dates that go with it. */
  #moved(j: BatchJob, to: JobStatus, reason?: string): BatchJob {
    if (j.status === to) return reason !== undefined ? { ...j, statusUpdateReason: reason } : j;
    const now = this.#opts.now();
    const next: BatchJob = { ...j, status: to };
    if (reason !== undefined) next.statusUpdateReason = reason;
    if (j.status === 'Active' && j.activeSince !== undefined) {
      next.activeMs = j.activeMs + (now - j.activeSince);
      delete next.activeSince;
    }
    if (to === 'Active') next.activeSince = now;
    if (to === 'Suspended') next.suspendedAt = now;
    if (TERMINAL.has(to)) next.terminatedAt = now;
    return next;
  }
}

/** A job as the internal endpoint shows it: the record plus its seconds Active. */
export type JobView = Omit<BatchJob, 'activeSince' | 'activeMs'> & { activeSeconds: number };

function view(job: BatchJob, now: number): JobView {
  const { activeSince: _since, activeMs: _ms, ...rest } = job;
  return { ...rest, activeSeconds: activeSeconds(job, now) };
}

function statusOf(code: JobError['code']): number {
  switch (code) {
    case 'NotFoundException':
    case 'NoSuchBucket':
      return 404;
    case 'JobStatusException':
      return 409;
    default:
      return 400;
  }
}
