/**
 * The S3 Control API for Multi-Region Access Points (and the account's Block Public Access
 * settings, Batch Operations jobs), as the global endpoint serves it: the
 * route table (`table.ts`) picks the operation, a short handler parses the request, calls the
 * catalog (or records an asynchronous request for `MrapOperations`), and writes the document.
 *
 * Every call names its account in `x-amz-account-id`; it must be the signer's account.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  Catalog,
  MrapAsyncRequest,
  MrapRecord,
  MrapRequestDetails,
  PublicAccessBlockSettings,
} from '../../catalog/catalog.ts';
import { S3Error } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { SignedRequest } from '../../s3/auth/sigv4.ts';
import { requestBody } from '../../s3/body.ts';
import { sendEmpty, sendXml } from '../../s3/respond.ts';
import type { XmlObject } from '../../s3/xml.ts';
import {
  ACCOUNT_ID,
  MAX_MRAPS_PER_ACCOUNT,
  MAX_REGIONS,
  MRAP_NAME,
  mrapArn,
  newRequestToken,
  parseMrapArn,
  parseRequestTokenArn,
  requestTokenArn,
} from './names.ts';
import { jobDescriptorXml, jobListDescriptorXml, parseCreateJob, RegionJobs, requireJobId } from './jobs.ts';
import { MrapOperations } from './operations.ts';
import { policyIsPublic } from './policy.ts';
import { applyRouteUpdates, type RouteUpdate } from './routes.ts';
import { matchControlRoute, type ControlOperation } from './table.ts';
import { asyncOperationXml, bool, child, children, controlXml, parseControlBody, reportXml, text } from './xml.ts';

export interface ControlApiOptions {
  catalog: Catalog;
  log: Logger;
  /** how long an asynchronous operation takes from NEW to done (default 200 ms) */
  asyncDelayMs?: number;
  /**
   * How long a route update holds its MRAP before it is applied (default 0). Another update
   * of the same MRAP in that time is refused with 409, as AWS refuses concurrent updates.
   */
  routeUpdateMs?: number;
  now?: () => number;
}

export interface ControlRequest {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  rawPath: string;
  rawQuery: string;
  auth: SignedRequest;
}

interface Ctx extends ControlRequest {
  account: string;
  label?: string;
}

/** Request bodies of these calls are small XML documents (a policy is at most 20 KB). */
const MAX_BODY_BYTES = 256 * 1024;

type Handler = (ctx: Ctx) => Promise<void> | void;

export class ControlApi {
  readonly #catalog: Catalog;
  readonly #operations: MrapOperations;
  readonly #routeUpdateMs: number;
  readonly #now: () => number;
  readonly #handlers: Record<ControlOperation, Handler>;
  readonly #jobs: RegionJobs;

  constructor(opts: ControlApiOptions) {
    this.#catalog = opts.catalog;
    this.#now = opts.now ?? Date.now;
    this.#routeUpdateMs = opts.routeUpdateMs ?? 0;
    this.#jobs = new RegionJobs(opts.catalog);
    this.#operations = new MrapOperations({ catalog: opts.catalog, log: opts.log, delayMs: opts.asyncDelayMs, now: this.#now });
    this.#handlers = {
      CreateMultiRegionAccessPoint: (c) => this.#create(c),
      DeleteMultiRegionAccessPoint: (c) => this.#delete(c),
      PutMultiRegionAccessPointPolicy: (c) => this.#putPolicy(c),
      DescribeMultiRegionAccessPointOperation: (c) => this.#describe(c),
      GetMultiRegionAccessPoint: (c) => this.#get(c),
      ListMultiRegionAccessPoints: (c) => this.#list(c),
      GetMultiRegionAccessPointPolicy: (c) => this.#getPolicy(c),
      GetMultiRegionAccessPointPolicyStatus: (c) => this.#getPolicyStatus(c),
      GetMultiRegionAccessPointRoutes: (c) => this.#getRoutes(c),
      SubmitMultiRegionAccessPointRoutes: (c) => this.#submitRoutes(c),
      CreateJob: (c) => this.#createJob(c),
      DescribeJob: (c) => this.#describeJob(c),
      ListJobs: (c) => this.#listJobs(c),
      UpdateJobStatus: (c) => this.#updateJobStatus(c),
      UpdateJobPriority: (c) => this.#updateJobPriority(c),
      GetPublicAccessBlock: (c) => this.#getPublicAccessBlock(c),
      PutPublicAccessBlock: (c) => this.#putPublicAccessBlock(c),
      DeletePublicAccessBlock: (c) => this.#deletePublicAccessBlock(c),
    };
  }

  /** Resumes the asynchronous requests an earlier endpoint left unfinished. */
  start(): void {
    this.#operations.resume();
  }

  async close(): Promise<void> {
    await this.#operations.close();
  }

  async handle(request: ControlRequest): Promise<void> {
    const match = matchControlRoute(request.req.method ?? 'GET', request.rawPath);
    if (match.kind === 'unknown') {
      throw new S3Error('NotImplemented', 'This S3 Control operation is not implemented by Meridian.');
    }
    if (match.kind === 'method-not-allowed') {
      throw new S3Error('MethodNotAllowed', undefined, {
        fields: { Method: request.req.method ?? '', ResourceType: 'MULTIREGIONACCESSPOINT' },
      });
    }
    const account = callerAccount(request);
    await this.#handlers[match.op]({ ...request, account, label: match.label });
  }

  // ------------------------------------------------------------------------------------------
  // Asynchronous operations

  async #create(ctx: Ctx): Promise<void> {
    const body = parseControlBody(await readBody(ctx), 'CreateMultiRegionAccessPointRequest');
    const details = child(body, 'Details');
    const name = requireName(text(details, 'Name'));
    const pab = child(details ?? {}, 'PublicAccessBlock');
    const publicAccessBlock: Partial<PublicAccessBlockSettings> | undefined = pab && {
      blockPublicAcls: bool(pab, 'BlockPublicAcls'),
      ignorePublicAcls: bool(pab, 'IgnorePublicAcls'),
      blockPublicPolicy: bool(pab, 'BlockPublicPolicy'),
      restrictPublicBuckets: bool(pab, 'RestrictPublicBuckets'),
    };
    const regions = children(child(details ?? {}, 'Regions'), 'Region').map((r) => {
      const bucket = text(r, 'Bucket');
      if (bucket === undefined || bucket === '') throw new S3Error('InvalidRequest', 'Each Region must name a Bucket.');
      const bucketAccountId = text(r, 'BucketAccountId');
      if (bucketAccountId !== undefined && !ACCOUNT_ID.test(bucketAccountId)) {
        throw new S3Error('InvalidRequest', 'BucketAccountId must be a 12-digit account id.');
      }
      return bucketAccountId === undefined ? { bucket } : { bucket, bucketAccountId };
    });
    if (regions.length === 0) throw new S3Error('InvalidRequest', 'A Multi-Region Access Point needs at least one Region.');
    if (regions.length > MAX_REGIONS) {
      throw new S3Error('InvalidRequest', `A Multi-Region Access Point can have at most ${MAX_REGIONS} Regions.`);
    }
    if (this.#catalog.mraps(ctx.account).length >= MAX_MRAPS_PER_ACCOUNT) {
      throw new S3Error('InvalidRequest', `An account can have at most ${MAX_MRAPS_PER_ACCOUNT} Multi-Region Access Points.`);
    }
    const d: MrapRequestDetails = { operation: 'CreateMultiRegionAccessPoint', name, regions };
    if (publicAccessBlock) d.publicAccessBlock = publicAccessBlock;
    await this.#submit(ctx, body, d);
  }

  async #delete(ctx: Ctx): Promise<void> {
    const body = parseControlBody(await readBody(ctx), 'DeleteMultiRegionAccessPointRequest');
    const name = requireName(text(child(body, 'Details'), 'Name'));
    await this.#submit(ctx, body, { operation: 'DeleteMultiRegionAccessPoint', name });
  }

  async #putPolicy(ctx: Ctx): Promise<void> {
    const body = parseControlBody(await readBody(ctx), 'PutMultiRegionAccessPointPolicyRequest');
    const details = child(body, 'Details');
    const name = requireName(text(details, 'Name'));
    const policy = text(details, 'Policy');
    if (policy === undefined || policy === '') throw new S3Error('InvalidRequest', 'A Policy is required.');
    await this.#submit(ctx, body, { operation: 'PutMultiRegionAccessPointPolicy', name, policy });
  }

  /** Records the request (or finds its ClientToken twin) and answers with its token ARN. */
  async #submit(ctx: Ctx, body: XmlObject, details: MrapRequestDetails): Promise<void> {
    const clientToken = text(body, 'ClientToken');
    if (clientToken !== undefined && !/^\S{1,64}$/.test(clientToken)) {
      throw new S3Error('InvalidRequest', 'ClientToken must be 1 to 64 characters without spaces.');
    }
    const token = newRequestToken();
    const request: MrapAsyncRequest = {
      account: ctx.account,
      token,
      arn: requestTokenArn(ctx.account, details.operation, token),
      details,
      createdAt: this.#now(),
      status: 'NEW',
      requestId: ctx.requestId,
    };
    if (clientToken !== undefined) request.clientToken = clientToken;
    const result = await this.#catalog.submitMrapRequest(request);
    if (result.kind === 'mismatch') {
      throw new S3Error('InvalidRequest', 'The ClientToken was already used for a different request.');
    }
    if (result.kind === 'new') this.#operations.schedule(result.request);
    sendXml(ctx.res, 200, controlXml(`${details.operation}Result`, { RequestTokenARN: result.request.arn }));
  }

  async #describe(ctx: Ctx): Promise<void> {
    const arn = decodeLabel(ctx.label);
    const parsed = parseRequestTokenArn(arn);
    const request = parsed && parsed.account === ctx.account ? this.#catalog.mrapRequest(ctx.account, parsed.token) : undefined;
    if (!request) throw new S3Error('NoSuchAsyncRequest', undefined, { fields: { RequestTokenARN: arn } });
    sendXml(ctx.res, 200, controlXml('DescribeMultiRegionAccessPointOperationResult', { AsyncOperation: asyncOperationXml(request) }));
  }

  // ------------------------------------------------------------------------------------------
  // Synchronous reads

  #get(ctx: Ctx): void {
    const mrap = this.#byName(ctx);
    sendXml(ctx.res, 200, controlXml('GetMultiRegionAccessPointResult', { AccessPoint: reportXml(mrap) }));
  }

  #list(ctx: Ctx): void {
    const query = new URLSearchParams(ctx.rawQuery);
    const max = pageSize(query.get('maxResults'));
    const after = query.get('nextToken');
    let start = 0;
    const all = this.#catalog.mraps(ctx.account);
    if (after !== null && after !== '') {
      const last = Buffer.from(after, 'base64url').toString('utf8');
      if (!MRAP_NAME.test(last)) throw new S3Error('InvalidRequest', 'The continuation token is not valid.');
      start = all.findIndex((m) => m.name > last);
      if (start === -1) start = all.length;
    }
    const page = all.slice(start, start + max);
    const more = start + max < all.length;
    sendXml(
      ctx.res,
      200,
      controlXml('ListMultiRegionAccessPointsResult', {
        AccessPoints: { AccessPoint: page.map(reportXml) },
        NextToken: more ? Buffer.from(page[page.length - 1].name).toString('base64url') : undefined,
      }),
    );
  }

  #getPolicy(ctx: Ctx): void {
    const { policy } = this.#byName(ctx);
    // An MRAP has no policy until one is put: both parts are then absent.
    sendXml(
      ctx.res,
      200,
      controlXml('GetMultiRegionAccessPointPolicyResult', {
        Policy: {
          Established: policy?.established === undefined ? undefined : { Policy: policy.established },
          Proposed: policy?.proposed === undefined ? undefined : { Policy: policy.proposed },
        },
      }),
    );
  }

  #getPolicyStatus(ctx: Ctx): void {
    const { policy, account, alias } = this.#byName(ctx);
    sendXml(
      ctx.res,
      200,
      controlXml('GetMultiRegionAccessPointPolicyStatusResult', {
        Established: { IsPublic: policyIsPublic(policy?.established, mrapArn(account, alias)) },
      }),
    );
  }

  #byName(ctx: Ctx): MrapRecord {
    const name = decodeLabel(ctx.label);
    const mrap = MRAP_NAME.test(name) ? this.#catalog.mrap(ctx.account, name) : undefined;
    if (!mrap) throw new S3Error('NoSuchMultiRegionAccessPoint', undefined, { fields: { Name: name } });
    return mrap;
  }

  // ------------------------------------------------------------------------------------------
  // Routes (the failover control plane)

  #getRoutes(ctx: Ctx): void {
    const { arn, mrap } = this.#byArn(ctx);
    sendXml(
      ctx.res,
      200,
      controlXml('GetMultiRegionAccessPointRoutesResult', {
        Mrap: arn,
        Routes: {
          Route: mrap.regions.map((r) => ({
            Bucket: r.bucket,
            Region: r.region,
            TrafficDialPercentage: r.trafficDialPercentage,
          })),
        },
      }),
    );
  }

  /**
   * Applies a partial route update. The MRAP's lease (shared with the asynchronous
   * operations) is held while the update is in progress, so a concurrent update is 409.
   */
  async #submitRoutes(ctx: Ctx): Promise<void> {
    const { mrap } = this.#byArn(ctx);
    const body = parseControlBody(await readBody(ctx), 'SubmitMultiRegionAccessPointRoutesRequest');
    const updates = children(child(body, 'RouteUpdates'), 'Route').map(routeUpdate);
    if (mrap.regions.length < 2) {
      throw new S3Error('MethodNotAllowed', 'Failover needs a Multi-Region Access Point with at least two Regions.', {
        fields: { Method: 'PATCH', ResourceType: 'MULTIREGIONACCESSPOINT' },
      });
    }
    if (mrap.status !== 'READY') {
      throw new S3Error('OperationAborted', `The Multi-Region Access Point is ${mrap.status}; routes can change once it is READY.`);
    }
    applyRouteUpdates(mrap.regions, updates); // validate before taking the lease
    const holder = `routes/${ctx.requestId}`;
    const now = this.#now();
    const got = await this.#catalog.acquireMrapLease(ctx.account, mrap.name, holder, now + this.#routeUpdateMs + 60_000, now);
    if (got !== holder) {
      throw new S3Error('OperationAborted', 'Another update of this Multi-Region Access Point is in progress.');
    }
    try {
      if (this.#routeUpdateMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#routeUpdateMs));
      const updated = await this.#catalog.updateMrap(ctx.account, mrap.name, (r) => ({
        ...r,
        regions: applyRouteUpdates(r.regions, updates),
      }));
      if (!updated) throw new S3Error('NoSuchMultiRegionAccessPoint', undefined, { fields: { Name: mrap.name } });
    } finally {
      await this.#catalog.releaseMrapLease(ctx.account, mrap.name, holder);
    }
    sendEmpty(ctx.res, 200);
  }

  /** The MRAP a route call names by ARN: a malformed ARN is 400, an unknown one 404. */
  #byArn(ctx: Ctx): { arn: string; mrap: MrapRecord } {
    const arn = decodeLabel(ctx.label);
    const parsed = parseMrapArn(arn);
    if (!parsed) {
      throw new S3Error('InvalidRequest', 'Mrap must be a Multi-Region Access Point ARN: arn:aws:s3::<account-id>:accesspoint/<alias>.');
    }
    if (parsed.account !== ctx.account) throw new S3Error('AccessDenied');
    const mrap = this.#catalog.mrapByAlias(parsed.alias);
    if (!mrap || mrap.account !== ctx.account) {
      throw new S3Error('NoSuchMultiRegionAccessPoint', undefined, { fields: { Name: parsed.alias } });
    }
    return { arn: mrapArn(mrap.account, mrap.alias), mrap };
  }

  // ------------------------------------------------------------------------------------------
  // Batch Operations jobs: kept by the region of the source bucket (see jobs.ts)

  async #createJob(ctx: Ctx): Promise<void> {
    const spec = parseCreateJob(parseControlBody(await readBody(ctx), 'CreateJobRequest'), ctx.account);
    const job = await this.#jobs.create(spec);
    sendXml(ctx.res, 200, controlXml('CreateJobResult', { JobId: job.id }));
  }

  async #describeJob(ctx: Ctx): Promise<void> {
    const { job } = await this.#jobs.find(ctx.account, requireJobId(decodeLabel(ctx.label)));
    sendXml(ctx.res, 200, controlXml('DescribeJobResult', { Job: jobDescriptorXml(job) }));
  }

  async #listJobs(ctx: Ctx): Promise<void> {
    const query = new URLSearchParams(ctx.rawQuery);
    const max = pageSize(query.get('maxResults'));
    const statuses = query.getAll('jobStatuses');
    const all = (await this.#jobs.list(ctx.account)).filter((j) => statuses.length === 0 || statuses.includes(j.status));
    const after = query.get('nextToken');
    let start = 0;
    if (after !== null && after !== '') {
      const last = Buffer.from(after, 'base64url').toString('utf8');
      start = all.findIndex((j) => j.id === last) + 1;
      if (start === 0) throw new S3Error('InvalidRequest', 'The continuation token is not valid.');
    }
    const page = all.slice(start, start + max);
    const more = start + max < all.length;
    sendXml(
      ctx.res,
      200,
      controlXml('ListJobsResult', {
        NextToken: more ? Buffer.from(page[page.length - 1].id).toString('base64url') : undefined,
        Jobs: page.length > 0 ? { member: page.map(jobListDescriptorXml) } : undefined,
      }),
    );
  }

  /** `Ready` and `Cancelled` as S3; Meridian also takes `Paused` (resumed by `Ready`). */
  async #updateJobStatus(ctx: Ctx): Promise<void> {
    const query = new URLSearchParams(ctx.rawQuery);
    const requested = query.get('requestedJobStatus');
    if (requested !== 'Ready' && requested !== 'Cancelled' && requested !== 'Paused') {
      throw new S3Error('BadRequestException', 'requestedJobStatus must be Ready or Cancelled (or Paused).');
    }
    const job = await this.#jobs.setStatus(ctx.account, requireJobId(decodeLabel(ctx.label)), requested, query.get('statusUpdateReason') ?? undefined);
    sendXml(ctx.res, 200, controlXml('UpdateJobStatusResult', { JobId: job.id, Status: job.status, StatusUpdateReason: job.statusUpdateReason }));
  }

  #getPublicAccessBlock(ctx: Ctx): void {
    const settings = this.#catalog.accountPublicAccessBlock(ctx.account);
    if (!settings) throw new S3Error('NoSuchPublicAccessBlockConfiguration');
    sendXml(ctx.res, 200, controlXml('PublicAccessBlockConfiguration', accountBlockXml(settings)));
  }

  async #putPublicAccessBlock(ctx: Ctx): Promise<void> {
    const body = parseControlBody(await readBody(ctx), 'PublicAccessBlockConfiguration');
    const settings = {} as PublicAccessBlockSettings;
    // An element left out is false, as in S3.
    for (const [element, field] of ACCOUNT_BLOCK_ELEMENTS) settings[field] = bool(body, element) ?? false;
    await this.#catalog.setAccountPublicAccessBlock(ctx.account, settings);
    sendEmpty(ctx.res, 200);
  }

  async #deletePublicAccessBlock(ctx: Ctx): Promise<void> {
    await this.#catalog.setAccountPublicAccessBlock(ctx.account, undefined);
    sendEmpty(ctx.res, 200);
  }

  async #updateJobPriority(ctx: Ctx): Promise<void> {
    const raw = new URLSearchParams(ctx.rawQuery).get('priority') ?? '';
    if (!/^\d+$/.test(raw) || Number(raw) > 2147483647) {
      throw new S3Error('BadRequestException', 'priority must be an integer from 0 to 2147483647.');
    }
    const job = await this.#jobs.setPriority(ctx.account, requireJobId(decodeLabel(ctx.label)), Number(raw));
    sendXml(ctx.res, 200, controlXml('UpdateJobPriorityResult', { JobId: job.id, Priority: job.priority }));
  }
}

// The account's Block Public Access settings, which every region applies (with each
// bucket's own) to every bucket of the account.

const ACCOUNT_BLOCK_ELEMENTS = [
  ['BlockPublicAcls', 'blockPublicAcls'],
  ['IgnorePublicAcls', 'ignorePublicAcls'],
  ['BlockPublicPolicy', 'blockPublicPolicy'],
  ['RestrictPublicBuckets', 'restrictPublicBuckets'],
] as const;

function accountBlockXml(settings: PublicAccessBlockSettings): XmlObject {
  return Object.fromEntries(ACCOUNT_BLOCK_ELEMENTS.map(([element, field]) => [element, settings[field]]));
}

function routeUpdate(r: XmlObject): RouteUpdate {
  const dial = text(r, 'TrafficDialPercentage');
  if (dial === undefined || !/^\d+$/.test(dial)) {
    throw new S3Error('InvalidRequest', 'Each route needs a TrafficDialPercentage of 0 or 100.');
  }
  const update: RouteUpdate = { trafficDialPercentage: Number(dial) };
  const bucket = text(r, 'Bucket');
  const region = text(r, 'Region');
  if (bucket !== undefined && bucket !== '') update.bucket = bucket;
  if (region !== undefined && region !== '') update.region = region;
  return update;
}

/**
 * The account the call acts for: `x-amz-account-id`, which must be 12 digits and the account
 * of the key that signed the request.
 */
function callerAccount(ctx: ControlRequest): string {
  const header = ctx.req.headers['x-amz-account-id'];
  if (header === undefined) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-account-id');
  }
  if (typeof header !== 'string' || !ACCOUNT_ID.test(header) || header !== ctx.auth.credential.accountId) {
    throw new S3Error('AccessDenied');
  }
  return header;
}

function requireName(name: string | undefined): string {
  if (name === undefined || name === '') throw new S3Error('InvalidRequest', 'A Multi-Region Access Point Name is required.');
  if (!MRAP_NAME.test(name)) {
    throw new S3Error(
      'InvalidRequest',
      'Multi-Region Access Point names must be 3 to 50 lowercase letters, numbers or hyphens, and must begin and end with a letter or number.',
    );
  }
  return name;
}

function decodeLabel(label: string | undefined): string {
  try {
    return decodeURIComponent(label ?? '');
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/** `maxResults`: 1–1000; absent or 0 means the largest page. */
function pageSize(raw: string | null): number {
  if (raw === null || raw === '') return 1000;
  if (!/^\d+$/.test(raw) || Number(raw) > 1000) {
    throw new S3Error('InvalidRequest', 'maxResults must be an integer from 0 to 1000.');
  }
  return Number(raw) === 0 ? 1000 : Number(raw);
}

/** The whole (small) body as text, its Content-MD5 checked when the client sent one. */
async function readBody(ctx: Ctx): Promise<string> {
  const body = requestBody(ctx.req, ctx.auth);
  if (body.length !== undefined && body.length > MAX_BODY_BYTES) {
    throw new S3Error('InvalidRequest', 'The request body is too large.');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body.stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new S3Error('InvalidRequest', 'The request body is too large.');
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  const md5 = ctx.req.headers['content-md5'];
  if (typeof md5 === 'string') {
    if (!/^[A-Za-z0-9+/]{22}==$/.test(md5)) throw new S3Error('InvalidDigest');
    if (createHash('md5').update(bytes).digest('base64') !== md5) throw new S3Error('BadDigest');
  }
  return bytes.toString('utf8');
}
