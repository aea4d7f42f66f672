/**
 * `meridian replicate-existing --bucket B [--status NONE,FAILED] [--prefix P] [--report out.csv]`:
 * S3 Batch Replication from the command line. Starts a job in the region that holds B
 * (through its `/_meridian/jobs` endpoint, as the world's service identity), follows it with
 * a progress bar on a terminal (plain lines otherwise), and ends with a summary and the CSV
 * completion report (one line per version: bucket, key, version id, outcome, failure reason).
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { LmdbCatalog, type AccessKey, type RegionInfo } from '../catalog/catalog.ts';
import { ConfigError } from '../core/config.ts';
import type { JobView } from '../replication/job-runner.ts';
import type { JobSpec } from '../replication/jobs.ts';
import { signRequest } from '../s3/auth/sign.ts';
import type { ExistingReplicationStatus } from '../storage/types.ts';

export interface ReplicateExistingOptions {
  dataDir: string;
  bucket: string;
  /** comma-separated NONE, FAILED, COMPLETED, REPLICA (default NONE) */
  status?: string;
  prefix?: string;
  /** only versions written at or after this time (ISO 8601) */
  createdAfter?: string;
  /** where the CSV completion report goes */
  report?: string;
  out: (text: string) => void;
  /** draw a progress bar (a terminal) rather than print a line now and then */
  tty: boolean;
  /** how often progress is read (default 200 ms on a terminal, 2 s otherwise) */
  intervalMs?: number;
}

const STATUSES = new Set(['NONE', 'FAILED', 'COMPLETED', 'REPLICA']);
const FINAL = new Set(['Complete', 'Cancelled', 'Failed']);

export async function replicateExisting(opts: ReplicateExistingOptions): Promise<number> {
  const statuses = (opts.status ?? 'NONE').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  for (const s of statuses) {
    if (!STATUSES.has(s)) throw new ConfigError(`--status takes NONE, FAILED, COMPLETED, REPLICA (got ${s})`);
  }
  let createdAfter: number | undefined;
  if (opts.createdAfter !== undefined) {
    createdAfter = Date.parse(opts.createdAfter);
    if (Number.isNaN(createdAfter)) throw new ConfigError('--created-after takes an ISO 8601 time');
  }
  const catalog = new LmdbCatalog({ path: join(opts.dataDir, 'catalog'), regions: [], keys: [] });
  let region: RegionInfo | undefined;
  let key: AccessKey;
  let spec: JobSpec;
  try {
    const location = catalog.lookupBucket(opts.bucket);
    if (!location) {
      opts.out(`meridian: no bucket ${opts.bucket}\n`);
      return 1;
    }
    region = catalog.region(location.region);
    key = catalog.serviceKey();
    spec = {
      bucket: opts.bucket,
      account: location.owner,
      filter: {
        statuses: statuses as ExistingReplicationStatus[],
        ...(opts.prefix ? { prefix: opts.prefix } : {}),
        ...(createdAfter !== undefined ? { createdAfter } : {}),
      },
      description: 'meridian replicate-existing',
    };
    if (!region) {
      opts.out(`meridian: region ${location.region} of ${opts.bucket} has no endpoint\n`);
      return 1;
    }
  } finally {
    await catalog.close();
  }
  const call = (method: 'GET' | 'POST', path: string, params: Record<string, string>) => jobsCall(region, key, method, path, params);

  let job = ((await call('POST', '/_meridian/jobs', { spec: JSON.stringify(spec) })) as { job: JobView }).job;
  opts.out(`Job ${job.id} replicates existing objects of ${opts.bucket} (${statuses.join(', ')}${opts.prefix ? `, prefix ${opts.prefix}` : ''}) in ${region.name}.\n`);
  const progress = new Progress(opts.tty, opts.out);
  const interval = opts.intervalMs ?? (opts.tty ? 200 : 2000);
  while (!FINAL.has(job.status)) {
    progress.show(job);
    await new Promise((r) => setTimeout(r, interval));
    job = ((await call('GET', '/_meridian/jobs/describe', { id: job.id })) as { job: JobView }).job;
  }
  progress.show(job, true);
  opts.out(summary(job, progress.elapsedMs()));
  if (opts.report) {
    const lines = await writeReport(opts.report, (after) =>
      call('GET', '/_meridian/jobs/report', { id: job.id, after: String(after), limit: '10000' }) as Promise<ReportPage>,
    );
    opts.out(`Report: ${opts.report} (${lines} version${lines === 1 ? '' : 's'})\n`);
  }
  return job.status === 'Complete' && job.progress.failed === 0 ? 0 : 1;
}

interface ReportPage {
  header: string;
  lines: string[];
  next?: number;
}

async function writeReport(path: string, page: (after: number) => Promise<ReportPage>): Promise<number> {
  const file = createWriteStream(path);
  let written = 0;
  try {
    let after: number | undefined = 0;
    let first = true;
    while (after !== undefined) {
      const p = await page(after);
      const text = (first ? [p.header, ...p.lines] : p.lines).map((l) => `${l}\n`).join('');
      first = false;
      if (!file.write(text)) await once(file, 'drain');
      written += p.lines.length;
      after = p.next;
    }
  } finally {
    file.end();
    await once(file, 'close');
  }
  return written;
}

async function jobsCall(
  region: RegionInfo,
  key: AccessKey,
  method: 'GET' | 'POST',
  path: string,
  params: Record<string, string>,
): Promise<unknown> {
  const url = new URL(region.endpoint);
  const query = new URLSearchParams(params).toString().replace(/\+/g, '%20');
  const headers = signRequest({ method, path, query, headers: { host: url.host }, region: region.name, credentials: key });
  const res = await request(`${url.origin}${path}?${query}`, { method, headers });
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not JSON: the text as it came
    }
    throw new ConfigError(`${region.name}: ${message}`);
  }
  return JSON.parse(text) as unknown;
}

/** The progress bar (a terminal) or progress lines (a log). */
class Progress {
  readonly #tty: boolean;
  readonly #out: (text: string) => void;
  readonly #started = Date.now();
  #lastLine = 0;

  constructor(tty: boolean, out: (text: string) => void) {
    this.#tty = tty;
    this.#out = out;
  }

  elapsedMs(): number {
    return Date.now() - this.#started;
  }

  show(job: JobView, final = false): void {
    const line = progressLine(job, this.elapsedMs());
    if (this.#tty) {
      this.#out(`\r\x1b[2K${line}${final ? '\n' : ''}`);
      return;
    }
    // Not a terminal: a line every 10 seconds, and the last one.
    if (final || Date.now() - this.#lastLine >= 10_000 || this.#lastLine === 0) {
      this.#lastLine = Date.now();
      this.#out(`${line}\n`);
    }
  }
}

/**
 * `[########------------]  42% 4,200/10,000 objects  4.1/9.8 MiB  850 obj/s  ETA 7s  Active`
 */
export function progressLine(job: JobView, elapsedMs: number): string {
  const p = job.progress;
  const done = p.succeeded + p.failed;
  const total = p.total;
  const width = 24;
  const share = total ? Math.min(1, done / total) : 0;
  const filled = Math.round(share * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const seconds = Math.max(elapsedMs / 1000, 0.001);
  const rate = done / seconds;
  const eta = total !== undefined && rate > 0 && done < total ? `ETA ${duration(((total - done) / rate) * 1000)}` : 'ETA -';
  const objects = `${count(done)}/${total !== undefined ? count(total) : '?'} objects`;
  const bytes = `${size(p.bytesDone)}/${p.totalBytes !== undefined ? size(p.totalBytes) : '?'}`;
  const failed = p.failed > 0 ? `  ${count(p.failed)} failed` : '';
  return `${bar} ${String(Math.floor(share * 100)).padStart(3)}% ${objects}  ${bytes}  ${count(Math.round(rate))} obj/s  ${eta}  ${job.status}${failed}`;
}

function summary(job: JobView, elapsedMs: number): string {
  const p = job.progress;
  const lines = [
    `Job ${job.id}: ${job.status} in ${duration(elapsedMs)}.`,
    `  ${count(p.succeeded)} replicated, ${count(p.failed)} failed, ${size(p.bytesDone)} of ${size(p.queuedBytes)}.`,
  ];
  if (job.status === 'Cancelled' && p.queued > p.succeeded + p.failed) {
    lines.push(`  ${count(p.queued - p.succeeded - p.failed)} queued before the cancel are still replicating.`);
  }
  for (const f of job.failureReasons ?? []) lines.push(`  ${f.code}: ${f.reason}`);
  return `${lines.join('\n')}\n`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/**
 * The command line of `meridian replicate-existing`; `dataDir` resolves `--config` and
 * `--data-dir` as the other commands do.
 */
export async function replicateExistingCommand(
  args: string[],
  dataDir: (values: { config?: string; 'data-dir'?: string }) => string,
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      bucket: { type: 'string' },
      status: { type: 'string' },
      prefix: { type: 'string' },
      'created-after': { type: 'string' },
      report: { type: 'string' },
    },
    strict: true,
  });
  if (!values.bucket) throw new ConfigError('replicate-existing needs --bucket');
  return replicateExisting({
    dataDir: dataDir(values),
    bucket: values.bucket,
    status: values.status,
    prefix: values.prefix,
    createdAfter: values['created-after'],
    report: values.report,
    tty: process.stdout.isTTY === true,
    out: (text) => process.stdout.write(text),
  });
}
