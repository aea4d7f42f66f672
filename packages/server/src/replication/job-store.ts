/**
 * Where a region keeps its batch replication jobs: an LMDB environment of its own beside the
 * region's metadata store (`regions/<name>/jobs`). Jobs belong to the region that holds the
 * bucket, like the bucket's outbox; a separate environment keeps the metadata store's schema
 * untouched and lets a job's per-version records (one per queued version, for the completion
 * report) be dropped with the job without touching object metadata.
 *
 *   jobs    id -> BatchJob                                the job, its counters and cursor
 *   items   jobId \0 key \0 versionId -> JobItem            each queued version and its outcome
 *   tokens  account \0 ClientRequestToken -> id            CreateJob idempotency
 *
 * Invariants, kept by writing them in one transaction:
 * - a job's `progress.queued`/`queuedBytes` count its items, and `succeeded`/`failed`/
 *   `bytesDone` count (and size) its items that have an outcome;
 * - the cursor only moves forward together with the items of the versions it passed.
 * (The outbox entries themselves live in the metadata store: a crash between queueing a page
 * and recording it here queues that page again, which replication tolerates: copies are
 * idempotent.)
 */
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { DestinationState } from '../storage/types.ts';
import type { BatchJob, JobItem } from './jobs.ts';

/** A replication outcome of a job's entry, as the replicator reports it. */
export interface JobOutcome {
  jobId: string;
  key: string;
  versionId: string;
  destination: string;
  state: DestinationState;
}

export class LmdbJobStore {
  readonly #root: RootDatabase;
  readonly #jobs: Database<BatchJob, string>;
  readonly #items: Database<JobItem, Buffer>;
  readonly #tokens: Database<string, string>;

  constructor(path: string) {
    mkdirSync(path, { recursive: true });
    this.#root = open({ path, compression: false });
    this.#jobs = this.#root.openDB<BatchJob, string>({ name: 'jobs' });
    this.#items = this.#root.openDB<JobItem, Buffer>({ name: 'items', keyEncoding: 'binary' });
    this.#tokens = this.#root.openDB<string, string>({ name: 'tokens' });
  }

  get(id: string): BatchJob | undefined {
    return this.#jobs.get(id);
  }

  /** Every job, oldest first. */
  list(): BatchJob[] {
    return [...this.#jobs.getRange({}).map(({ value }) => value)].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  /**
   * Records a new job, unless its ClientRequestToken already made one: then that job is
   * returned and nothing is written.
   */
  async create(job: BatchJob): Promise<{ job: BatchJob; created: boolean }> {
    return this.#durably(() => {
      const token = job.clientRequestToken !== undefined ? `${job.account}\u0000${job.clientRequestToken}` : undefined;
      const existing = token !== undefined ? this.#tokens.get(token) : undefined;
      const found = existing !== undefined ? this.#jobs.get(existing) : undefined;
      if (found) return { job: found, created: false };
      void this.#jobs.put(job.id, job);
      if (token !== undefined) void this.#tokens.put(token, job.id);
      return { job, created: true };
    });
  }

  /** Rewrites a job with `change` applied to its stored record (undefined if it is gone). */
  update(id: string, change: (job: BatchJob) => BatchJob): Promise<BatchJob | undefined> {
    return this.#durably(() => {
      const job = this.#jobs.get(id);
      if (!job) return undefined;
      const next = change(job);
      void this.#jobs.put(id, next);
      return next;
    });
  }

  /**
   * Records a page of queued versions and the job's new cursor and counters at once. Outcomes
   * that arrived before their item was recorded are applied right away.
   */
  recordPage(job: BatchJob, items: JobItem[], early: (item: JobItem) => JobOutcome[]): Promise<BatchJob> {
    return this.#durably(() => {
      const next = { ...job, progress: { ...job.progress } };
      for (const item of items) {
        const k = itemKey(job.id, item.key, item.versionId);
        const before = this.#items.get(k);
        // A page queued again after a crash: the version counts once.
        if (!before) {
          next.progress.queued++;
          next.progress.queuedBytes += item.size;
        } else if (before.outcome) {
          unsettle(next, before);
        }
        let current = item;
        for (const o of early(item)) current = settle(next, current, o);
        void this.#items.put(k, current);
      }
      void this.#jobs.put(job.id, next);
      return next;
    });
  }

  /**
   * Applies replication outcomes to their items and jobs in one transaction; returns the
   * outcomes whose item is not recorded (yet) and the jobs that changed.
   */
  applyOutcomes(outcomes: readonly JobOutcome[]): Promise<{ unknown: JobOutcome[]; jobs: BatchJob[] }> {
    return this.#durably(() => {
      const unknown: JobOutcome[] = [];
      const jobs = new Map<string, BatchJob>();
      for (const o of outcomes) {
        const k = itemKey(o.jobId, o.key, o.versionId);
        const item = this.#items.get(k);
        const job = jobs.get(o.jobId) ?? this.#jobs.get(o.jobId);
        if (!job) continue;
        if (!item) {
          unknown.push(o);
          continue;
        }
        const next = jobs.get(o.jobId) ?? { ...job, progress: { ...job.progress } };
        jobs.set(o.jobId, next);
        void this.#items.put(k, settle(next, item, o));
      }
      for (const job of jobs.values()) void this.#jobs.put(job.id, job);
      return { unknown, jobs: [...jobs.values()] };
    });
  }

  /** A job's items in key order (then version id), from the store as it is now. */
  *items(jobId: string, opts: { waitingOnly?: boolean } = {}): Generator<JobItem> {
    const start = Buffer.from(`${jobId}\u0000`);
    const end = Buffer.from(`${jobId}\u0001`);
    for (const { value } of this.#items.getRange({ start, end })) {
      if (opts.waitingOnly && value.waiting.length === 0) continue;
      yield value;
    }
  }

  async #durably<T>(fn: () => T): Promise<T> {
    const result = await this.#root.childTransaction(fn);
    await this.#root.flushed;
    return result;
  }

  async close(): Promise<void> {
    await this.#root.flushed;
    await this.#root.close();
  }
}

/** Byte order: a job's items are one range, in key order, then version id. */
function itemKey(jobId: string, key: string, versionId: string): Buffer {
  return Buffer.from(`${jobId}\u0000${key}\u0000${versionId}`);
}

/** An item with one destination's outcome applied; the job's counters follow when it settles. */
function settle(job: BatchJob, item: JobItem, o: JobOutcome): JobItem {
  if (!item.waiting.includes(o.destination) || o.state.status === 'PENDING') return item;
  const next: JobItem = {
    ...item,
    waiting: item.waiting.filter((d) => d !== o.destination),
    failures:
      o.state.status === 'FAILED'
        ? [...item.failures, { destination: o.destination, reason: o.state.reason ?? 'Unknown' }]
        : item.failures,
  };
  if (next.waiting.length === 0 && !next.outcome) {
    next.outcome = next.failures.length > 0 ? 'failed' : 'succeeded';
    if (next.outcome === 'failed') job.progress.failed++;
    else job.progress.succeeded++;
    job.progress.bytesDone += next.size;
  }
  return next;
}

/** Takes a settled item's outcome out of the job's counters (it is being queued again). */
function unsettle(job: BatchJob, item: JobItem): void {
  if (item.outcome === 'failed') job.progress.failed--;
  else job.progress.succeeded--;
  job.progress.bytesDone -= item.size;
}
