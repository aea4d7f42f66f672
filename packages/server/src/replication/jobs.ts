/**
 * Batch replication jobs (S3 Batch Replication, spec A.9): what a job is, the status changes
 * a caller may ask for, and the completion report. Pure: the store keeps jobs, the runner
 * works them, the S3 Control API and the CLI show them.
 *
 * Status flow (S3 Batch Operations names):
 *
 *   New → Preparing (the generated manifest is counted) → Suspended (ConfirmationRequired,
 *   until UpdateJobStatus Ready) → Ready → Active (versions queued in batches) → Complete
 *   (every queued version has its outcome).
 *
 * Meridian also pauses a job: UpdateJobStatus `Paused` stops queueing (copies already queued
 * carry on) and `Ready` resumes it from its cursor. `Cancelled` stops queueing for good.
 */
import type { ExistingReplicationStatus } from '../storage/types.ts';

export type JobStatus =
  | 'New'
  | 'Preparing'
  | 'Suspended'
  | 'Ready'
  | 'Active'
  | 'Pausing'
  | 'Paused'
  | 'Complete'
  | 'Completing'
  | 'Cancelling'
  | 'Cancelled'
  | 'Failing'
  | 'Failed';

export const TERMINAL: ReadonlySet<JobStatus> = new Set(['Complete', 'Cancelled', 'Failed']);

/** The S3JobManifestGenerator's Filter, as the job keeps it. */
export interface JobFilter {
  statuses?: ExistingReplicationStatus[];
  /** the listing prefix (S3: the single MatchAnyPrefix, or the CLI's --prefix) */
  prefix?: string;
  keyNames?: { prefixes?: string[]; suffixes?: string[]; substrings?: string[] };
  createdAfter?: number;
  createdBefore?: number;
  eligibleForReplication?: boolean;
}

/** Where the completion report goes (S3 `JobReport`); the report is also served by the region. */
export interface JobReportSpec {
  enabled: boolean;
  /** the report bucket's ARN */
  bucket?: string;
  prefix?: string;
  format?: string;
  scope?: 'AllTasks' | 'FailedTasksOnly';
}

/** What a caller asks for (CreateJob or the CLI). */
export interface JobSpec {
  bucket: string;
  account: string;
  filter: JobFilter;
  priority?: number;
  description?: string;
  roleArn?: string;
  confirmationRequired?: boolean;
  clientRequestToken?: string;
  report?: JobReportSpec;
}

export interface JobProgress {
  /** versions the generated manifest selects (counted while Preparing; exact once scanned) */
  total?: number;
  totalBytes?: number;
  /** versions queued so far */
  queued: number;
  queuedBytes: number;
  succeeded: number;
  failed: number;
  /** bytes of the versions that have their outcome */
  bytesDone: number;
  /** versions looked at */
  scanned: number;
}

export interface BatchJob {
  id: string;
  region: string;
  bucket: string;
  account: string;
  filter: JobFilter;
  status: JobStatus;
  priority: number;
  description?: string;
  roleArn?: string;
  confirmationRequired: boolean;
  clientRequestToken?: string;
  report?: JobReportSpec;
  statusUpdateReason?: string;
  failureReasons?: { code: string; reason: string }[];
  createdAt: number;
  terminatedAt?: number;
  suspendedAt?: number;
  /** ms spent Active before the current stretch, and when the current stretch began */
  activeMs: number;
  activeSince?: number;
  progress: JobProgress;
  /** the last version looked at; the next batch starts after it */
  cursor?: { key: string; versionId: string };
  /** every version has been looked at */
  scanned: boolean;
}

/** One queued version of a job and what became of it. */
export interface JobItem {
  key: string;
  versionId: string;
  size: number;
  /** destinations still to answer */
  waiting: string[];
  /** destinations that failed, with S3's reason */
  failures: { destination: string; reason: string }[];
  outcome?: 'succeeded' | 'failed';
}

/** A status change a caller may ask for (UpdateJobStatus). */
export type RequestedStatus = 'Ready' | 'Cancelled' | 'Paused';

/**
 * The status a job moves to when asked, or an error message when it cannot (S3 answers
 * JobStatusException).
 */
export function requestStatus(job: BatchJob, requested: RequestedStatus): JobStatus | { error: string } {
  if (TERMINAL.has(job.status)) return { error: `The job is ${job.status}; its status can no longer change.` };
  switch (requested) {
    case 'Cancelled':
      return 'Cancelled';
    case 'Ready':
      if (job.status === 'Suspended' || job.status === 'Paused') return 'Active';
      if (job.status === 'Ready' || job.status === 'Active') return job.status;
      return { error: `A job that is ${job.status} cannot be made Ready.` };
    case 'Paused':
      if (job.status === 'Active' || job.status === 'Ready' || job.status === 'Paused') return 'Paused';
      return { error: `A job that is ${job.status} cannot be paused.` };
  }
}

export function outstanding(job: BatchJob): number {
  return job.progress.queued - job.progress.succeeded - job.progress.failed;
}

/** Seconds the job has been Active, counting the current stretch. */
export function activeSeconds(job: BatchJob, now: number): number {
  return Math.floor((job.activeMs + (job.activeSince !== undefined ? now - job.activeSince : 0)) / 1000);
}

export const REPORT_HEADER = 'Bucket,Key,VersionId,Outcome,FailureReason';

/**
 * One line of the completion report: bucket, key, version id, outcome (`succeeded`, `failed`,
 * or `pending` for a copy still under way when a cancelled job's report is read) and the
 * failure reasons (`destination: reason`, `;`-separated).
 */
export function reportLine(bucket: string, item: JobItem): string {
  const reason = item.failures.map((f) => `${f.destination}: ${f.reason}`).join('; ');
  return [bucket, item.key, item.versionId, item.outcome ?? 'pending', reason].map(csvField).join(',');
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Parses a report line back (for tools and tests): the inverse of `reportLine`. */
export function parseReportLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) throw new Error('unterminated quoted field');
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(v);
      i++; // the comma
    } else {
      const c = line.indexOf(',', i);
      const end = c === -1 ? line.length : c;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}
