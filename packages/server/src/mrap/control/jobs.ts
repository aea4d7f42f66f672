/**
 * S3 Batch Operations jobs on the global endpoint, for the one operation Meridian runs:
 * `S3ReplicateObject` over a generated manifest (S3 Batch Replication, spec A.9). The global
 * endpoint keeps no jobs: a job lives in the region that holds its source bucket, and each
 * call is passed on to that region's `/_meridian/jobs` endpoint as a request signed with the
 * world's service key. A call naming a job by id asks the regions in turn; ListJobs asks them
 * all.
 *
 * Element names follow the S3 Control model (`@aws-sdk/client-s3-control` schemas): lists
 * without an XML name (`ObjectReplicationStatuses`, `MatchAnyPrefix`, `Jobs`,
 * `FailureReasons`) hold `member` elements.
 */
import { request } from 'undici';
import type { Catalog, RegionInfo } from '../../catalog/catalog.ts';
import { S3Error, type S3ErrorCode } from '../../core/errors.ts';
import type { JobView } from '../../replication/job-runner.ts';
import type { JobFilter, JobSpec } from '../../replication/jobs.ts';
import { signRequest } from '../../s3/auth/sign.ts';
import { xmlDate, type XmlObject } from '../../s3/xml.ts';
import type { ExistingReplicationStatus } from '../../storage/types.ts';
import { bool, child, text } from './xml.ts';

const STATUSES: readonly ExistingReplicationStatus[] = ['NONE', 'FAILED', 'COMPLETED', 'REPLICA'];
const JOB_ID = /^[a-zA-Z0-9\-_]{1,64}$/;

/** The job a CreateJobRequest body asks for; throws the S3 Control error for what is not valid. */
export function parseCreateJob(body: XmlObject, account: string): JobSpec {
  const operation = child(body, 'Operation');
  if (!operation) throw new S3Error('InvalidRequest', 'An Operation is required.');
  if (!('S3ReplicateObject' in operation) || Object.keys(operation).length !== 1) {
    throw new S3Error('NotImplemented', 'Meridian runs S3ReplicateObject (Batch Replication) jobs only.');
  }
  if (child(body, 'Manifest')) {
    throw new S3Error('NotImplemented', 'Meridian generates the manifest of a replication job: use ManifestGenerator.');
  }
  const generator = child(child(body, 'ManifestGenerator') ?? {}, 'S3JobManifestGenerator');
  if (!generator) throw new S3Error('InvalidRequest', 'A ManifestGenerator/S3JobManifestGenerator is required.');
  const bucket = bucketOfArn(text(generator, 'SourceBucket'), 'SourceBucket');
  const priority = integer(text(body, 'Priority'), 'Priority');
  const roleArn = text(body, 'RoleArn');
  if (!roleArn) throw new S3Error('InvalidRequest', 'A RoleArn is required.');
  const reportEl = child(body, 'Report');
  if (!reportEl) throw new S3Error('InvalidRequest', 'A Report is required.');
  const enabled = bool(reportEl, 'Enabled') ?? false;
  const scope = text(reportEl, 'ReportScope');
  if (scope !== undefined && scope !== 'AllTasks' && scope !== 'FailedTasksOnly') {
    throw new S3Error('InvalidRequest', 'ReportScope must be AllTasks or FailedTasksOnly.');
  }
  if (enabled && !text(reportEl, 'Bucket')) throw new S3Error('InvalidRequest', 'An enabled Report needs a Bucket.');
  const spec: JobSpec = {
    bucket,
    account,
    filter: parseFilter(child(generator, 'Filter')),
    priority,
    roleArn,
    confirmationRequired: bool(body, 'ConfirmationRequired') ?? false,
    report: {
      enabled,
      ...optional('bucket', text(reportEl, 'Bucket')),
      ...optional('prefix', text(reportEl, 'Prefix')),
      ...optional('format', text(reportEl, 'Format')),
      ...optional('scope', scope as 'AllTasks' | 'FailedTasksOnly' | undefined),
    },
  };
  const description = text(body, 'Description');
  if (description !== undefined) spec.description = description;
  const token = text(body, 'ClientRequestToken');
  if (token !== undefined) spec.clientRequestToken = token;
  return spec;
}

function parseFilter(f: XmlObject | undefined): JobFilter {
  if (!f) return {};
  const filter: JobFilter = {};
  const eligible = bool(f, 'EligibleForReplication');
  if (eligible !== undefined) filter.eligibleForReplication = eligible;
  const after = date(text(f, 'CreatedAfter'), 'CreatedAfter');
  const before = date(text(f, 'CreatedBefore'), 'CreatedBefore');
  if (after !== undefined) filter.createdAfter = after;
  if (before !== undefined) filter.createdBefore = before;
  const statuses = members(child(f, 'ObjectReplicationStatuses'));
  for (const s of statuses) {
    if (!STATUSES.includes(s as ExistingReplicationStatus)) {
      throw new S3Error('InvalidRequest', `ObjectReplicationStatuses must be among ${STATUSES.join(', ')}.`);
    }
  }
  if (statuses.length > 0) filter.statuses = statuses as ExistingReplicationStatus[];
  const k = child(f, 'KeyNameConstraint');
  if (k) {
    const prefixes = members(child(k, 'MatchAnyPrefix'));
    const suffixes = members(child(k, 'MatchAnySuffix'));
    const substrings = members(child(k, 'MatchAnySubstring'));
    filter.keyNames = {
      ...(prefixes.length ? { prefixes } : {}),
      ...(suffixes.length ? { suffixes } : {}),
      ...(substrings.length ? { substrings } : {}),
    };
    // One prefix narrows the listing itself.
    if (prefixes.length === 1) filter.prefix = prefixes[0];
  }
  return filter;
}

/** The text of each `member` of a list element. */
function members(list: XmlObject | undefined): string[] {
  const v = list?.member;
  if (v === undefined) return [];
  const all = Array.isArray(v) ? v : [v];
  return all.map((m) => {
    if (typeof m !== 'string') throw new S3Error('MalformedXML');
    return m;
  });
}

function bucketOfArn(arn: string | undefined, what: string): string {
  const m = /^arn:[^:]+:s3:::([^/]+)$/.exec(arn ?? '');
  if (!m) throw new S3Error('InvalidRequest', `${what} must be a bucket ARN (arn:aws:s3:::bucket).`);
  return m[1];
}

function integer(v: string | undefined, what: string): number {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) > 2147483647) {
    throw new S3Error('InvalidRequest', `${what} must be an integer from 0 to 2147483647.`);
  }
  return Number(v);
}

function date(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new S3Error('InvalidRequest', `${what} must be a timestamp.`);
  return t;
}

function optional<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

/** `JobDescriptor`, as DescribeJob returns it. */
export function jobDescriptorXml(job: JobView): XmlObject {
  const f = job.filter;
  return {
    JobId: job.id,
    ConfirmationRequired: job.confirmationRequired,
    Description: job.description,
    JobArn: jobArn(job),
    Status: job.status,
    Operation: { S3ReplicateObject: {} },
    Priority: job.priority,
    ProgressSummary: progressXml(job),
    StatusUpdateReason: job.statusUpdateReason,
    FailureReasons: job.failureReasons?.length
      ? { member: job.failureReasons.map((r) => ({ FailureCode: r.code, FailureReason: r.reason })) }
      : undefined,
    Report: job.report && {
      Enabled: job.report.enabled,
      Bucket: job.report.bucket,
      Format: job.report.format,
      Prefix: job.report.prefix,
      ReportScope: job.report.scope,
    },
    CreationTime: xmlDate(job.createdAt),
    TerminationDate: job.terminatedAt !== undefined ? xmlDate(job.terminatedAt) : undefined,
    RoleArn: job.roleArn,
    SuspendedDate: job.suspendedAt !== undefined ? xmlDate(job.suspendedAt) : undefined,
    SuspendedCause: job.status === 'Suspended' && job.confirmationRequired ? 'AwaitingConfirmation' : undefined,
    ManifestGenerator: {
      S3JobManifestGenerator: {
        SourceBucket: `arn:aws:s3:::${job.bucket}`,
        EnableManifestOutput: false,
        Filter: {
          EligibleForReplication: f.eligibleForReplication,
          CreatedAfter: f.createdAfter !== undefined ? xmlDate(f.createdAfter) : undefined,
          CreatedBefore: f.createdBefore !== undefined ? xmlDate(f.createdBefore) : undefined,
          ObjectReplicationStatuses: f.statuses?.length ? { member: f.statuses } : undefined,
          KeyNameConstraint: f.keyNames && {
            MatchAnyPrefix: f.keyNames.prefixes && { member: f.keyNames.prefixes },
            MatchAnySuffix: f.keyNames.suffixes && { member: f.keyNames.suffixes },
            MatchAnySubstring: f.keyNames.substrings && { member: f.keyNames.substrings },
          },
        },
      },
    },
  };
}

/** `JobListDescriptor`, as ListJobs returns it. */
export function jobListDescriptorXml(job: JobView): XmlObject {
  return {
    JobId: job.id,
    Description: job.description,
    Operation: 'S3ReplicateObject',
    Priority: job.priority,
    Status: job.status,
    CreationTime: xmlDate(job.createdAt),
    TerminationDate: job.terminatedAt !== undefined ? xmlDate(job.terminatedAt) : undefined,
    ProgressSummary: progressXml(job),
  };
}

function progressXml(job: JobView): XmlObject {
  return {
    TotalNumberOfTasks: job.progress.total,
    NumberOfTasksSucceeded: job.progress.succeeded,
    NumberOfTasksFailed: job.progress.failed,
    Timers: { ElapsedTimeInActiveSeconds: job.activeSeconds },
  };
}

function jobArn(job: JobView): string {
  return `arn:aws:s3:${job.region}:${job.account}:job/${job.id}`;
}

export function requireJobId(id: string): string {
  if (!JOB_ID.test(id)) throw new S3Error('InvalidRequest', 'The JobId is not valid.');
  return id;
}

/** The regions' job endpoints, called as the world's service identity. */
export class RegionJobs {
  readonly #catalog: Catalog;

  constructor(catalog: Catalog) {
    this.#catalog = catalog;
  }

  async create(spec: JobSpec): Promise<JobView> {
    const location = this.#catalog.lookupBucket(spec.bucket);
    if (!location) throw new S3Error('InvalidRequest', `The source bucket ${spec.bucket} does not exist.`);
    if (location.owner !== spec.account) throw new S3Error('AccessDenied');
    const region = this.#region(location.region);
    const out = await this.#call(region, 'POST', '/_meridian/jobs', { spec: JSON.stringify(spec) });
    return (out as { job: JobView }).job;
  }

  /** The job and its region; NotFoundException when no region has it for this account. */
  async find(account: string, id: string): Promise<{ job: JobView; region: RegionInfo }> {
    for (const region of this.#catalog.regions()) {
      let out: unknown;
      try {
        out = await this.#call(region, 'GET', '/_meridian/jobs/describe', { id });
      } catch (err) {
        if (err instanceof S3Error && err.code === 'NotFoundException') continue;
        throw err;
      }
      const job = (out as { job: JobView }).job;
      if (job.account === account) return { job, region };
    }
    throw new S3Error('NotFoundException', undefined, { fields: { JobId: id } });
  }

  async list(account: string): Promise<JobView[]> {
    const all: JobView[] = [];
    for (const region of this.#catalog.regions()) {
      const out = (await this.#call(region, 'GET', '/_meridian/jobs', { account })) as { jobs: JobView[] };
      all.push(...out.jobs);
    }
    // Newest first, as S3 lists them.
    return all.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
  }

  async setStatus(account: string, id: string, status: string, reason?: string): Promise<JobView> {
    const { region } = await this.find(account, id);
    const out = await this.#call(region, 'POST', '/_meridian/jobs/status', { id, status, ...(reason !== undefined ? { reason } : {}) });
    return (out as { job: JobView }).job;
  }

  async setPriority(account: string, id: string, priority: number): Promise<JobView> {
    const { region } = await this.find(account, id);
    const out = await this.#call(region, 'POST', '/_meridian/jobs/priority', { id, priority: String(priority) });
    return (out as { job: JobView }).job;
  }

  #region(name: string): RegionInfo {
    const region = this.#catalog.region(name);
    if (!region) throw new S3Error('ServiceUnavailable', `Region ${name} cannot be reached.`);
    return region;
  }

  async #call(region: RegionInfo, method: 'GET' | 'POST', path: string, params: Record<string, string>): Promise<unknown> {
    const url = new URL(region.endpoint);
    const query = new URLSearchParams(params).toString().replace(/\+/g, '%20');
    const headers = signRequest({
      method,
      path,
      query,
      headers: { host: url.host },
      region: region.name,
      credentials: this.#catalog.serviceKey(),
    });
    let status: number;
    let body: string;
    try {
      const res = await request(`${url.origin}${path}?${query}`, { method, headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
      status = res.statusCode;
      body = await res.body.text();
    } catch {
      throw new S3Error('ServiceUnavailable', `Region ${region.name} cannot be reached.`);
    }
    const parsed = JSON.parse(body) as { error?: string; message?: string };
    if (status === 200) return parsed;
    const known: Record<string, S3ErrorCode> = {
      NotFoundException: 'NotFoundException',
      JobStatusException: 'JobStatusException',
      BadRequestException: 'BadRequestException',
      InvalidRequest: 'InvalidRequest',
      NoSuchBucket: 'InvalidRequest',
    };
    const code = known[parsed.error ?? ''];
    if (code) throw new S3Error(code, parsed.message);
    throw new Error(`${region.name} answered ${status}: ${body}`);
  }
}
