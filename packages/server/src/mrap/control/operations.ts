/**
 * The background half of the asynchronous MRAP operations (Create, Delete, PutPolicy).
 *
 * A request is accepted synchronously (recorded as NEW in the catalog, with its token) and
 * then worked on here: after `delayMs / 2` it becomes IN_PROGRESS and the MRAP shows the
 * transient state (CREATING, DELETING, a Proposed policy); after another `delayMs / 2` the
 * change is complete and the request SUCCEEDED, or it FAILED with `ErrorDetails` (these are
 * the asynchronous error codes of the S3 API Reference, "List of Amazon S3 asynchronous error
 * codes", which reach the caller inside a 200 Describe response).
 *
 * Invariants:
 * - Every step is a catalog transaction and each step can be repeated: a request found NEW or
 *   IN_PROGRESS when an endpoint starts is simply run again (`resume`).
 * - One MRAP is changed by one request at a time: the worker holds the MRAP's lease (in the
 *   catalog, so across processes) while it works; a request that finds it held FAILS with
 *   MultiRegionAccessPointModifiedByAnotherRequest. Leases expire, so a crash frees them.
 */
import type {
  Catalog,
  MrapAsyncError,
  MrapAsyncRequest,
  MrapRecord,
  MrapRegion,
  MrapRequestDetails,
} from '../../catalog/catalog.ts';
import type { Logger } from '../../core/log.ts';
import { MAX_MRAPS_PER_ACCOUNT, mrapArn, newAlias } from './names.ts';
import { checkPolicy, publicPolicyBlocked } from './policy.ts';

export interface OperationsOptions {
  catalog: Catalog;
  log: Logger;
  /** how long an operation takes from NEW to done (default 200 ms) */
  delayMs?: number;
  now?: () => number;
}

/** A failure reported in the operation's ErrorDetails. */
class AsyncFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly resource?: string,
  ) {
    super(message);
  }
}

/** Leases outlive any step by far; they only matter when a worker died holding one. */
const LEASE_MS = 60_000;

export class MrapOperations {
  readonly #catalog: Catalog;
  readonly #log: Logger;
  readonly #delayMs: number;
  readonly #now: () => number;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #running = new Set<Promise<void>>();
  #closed = false;

  constructor(opts: OperationsOptions) {
    this.#catalog = opts.catalog;
    this.#log = opts.log;
    this.#delayMs = opts.delayMs ?? 200;
    this.#now = opts.now ?? Date.now;
  }

  /** Picks up the requests a previous endpoint accepted but did not finish. */
  resume(): void {
    for (const r of this.#catalog.pendingMrapRequests()) this.schedule(r);
  }

  /** Runs a recorded request in the background. */
  schedule(request: MrapAsyncRequest): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const run = this.#run(request).catch((err: unknown) =>
        this.#log.error({ err, token: request.token }, 'MRAP operation failed unexpectedly'),
      );
      this.#running.add(run);
      void run.finally(() => this.#running.delete(run));
    }, this.#delayMs / 2);
    this.#timers.add(timer);
  }

  /** Stops taking work; requests not started stay NEW in the catalog for the next endpoint. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.all([...this.#running]);
  }

  async #run(request: MrapAsyncRequest): Promise<void> {
    const { account, token } = request;
    const started = await this.#catalog.updateMrapRequest(account, token, (r) =>
      r.status === 'NEW' ? { ...r, status: 'IN_PROGRESS' } : r,
    );
    if (!started || started.status !== 'IN_PROGRESS') return;
    const name = started.details.name;
    const holder = await this.#catalog.acquireMrapLease(account, name, token, this.#now() + LEASE_MS, this.#now());
    if (holder !== token) {
      await this.#finish(started, {
        code: 'MultiRegionAccessPointModifiedByAnotherRequest',
        message:
          'The action failed because another request is modifying the specified resource. Try resubmitting your request after the previous request has been completed.',
      });
      return;
    }
    try {
      const regions = await this.#work(started, started.details);
      await this.#finish(started, undefined, regions);
    } catch (err) {
      if (!(err instanceof AsyncFailure)) throw err;
      await this.#finish(started, { code: err.code, message: err.message, resource: err.resource });
    } finally {
      await this.#catalog.releaseMrapLease(account, name, token);
    }
  }

  /** Does the work; returns the Regions it touched (for the per-Region progress). */
  async #work(request: MrapAsyncRequest, d: MrapRequestDetails): Promise<string[]> {
    switch (d.operation) {
      case 'CreateMultiRegionAccessPoint':
        return this.#create(request, d);
      case 'DeleteMultiRegionAccessPoint':
        return this.#delete(request.account, d.name);
      case 'PutMultiRegionAccessPointPolicy':
        return this.#putPolicy(request.account, d.name, d.policy);
    }
  }

  async #create(
    request: MrapAsyncRequest,
    d: Extract<MrapRequestDetails, { operation: 'CreateMultiRegionAccessPoint' }>,
  ): Promise<string[]> {
    const regions = this.#resolveBuckets(d.regions);
    const record: MrapRecord = {
      account: request.account,
      name: d.name,
      alias: '',
      createdAt: request.createdAt,
      status: 'CREATING',
      publicAccessBlock: {
        blockPublicAcls: d.publicAccessBlock?.blockPublicAcls ?? true,
        ignorePublicAcls: d.publicAccessBlock?.ignorePublicAcls ?? true,
        blockPublicPolicy: d.publicAccessBlock?.blockPublicPolicy ?? true,
        restrictPublicBuckets: d.publicAccessBlock?.restrictPublicBuckets ?? true,
      },
      regions,
    };
    await this.#insert(record);
    await this.#progress(request, regions.map((r) => r.region));
    await this.#sleep();
    await this.#catalog.updateMrap(record.account, record.name, (r) =>
      r.status === 'CREATING' ? { ...r, status: 'READY' } : r,
    );
    return regions.map((r) => r.region);
  }

  /** Each bucket's Region and owner, from the catalog; one bucket per Region. */
  #resolveBuckets(wanted: { bucket: string; bucketAccountId?: string }[]): MrapRegion[] {
    const out: MrapRegion[] = [];
    for (const w of wanted) {
      const loc = this.#catalog.lookupBucket(w.bucket);
      if (!loc || (w.bucketAccountId !== undefined && w.bucketAccountId !== loc.owner)) {
        throw new AsyncFailure('NoSuchBucket', 'The specified bucket does not exist.', w.bucket);
      }
      if (!this.#catalog.region(loc.region)) {
        throw new AsyncFailure(
          'MultiRegionAccessPointUnsupportedRegion',
          'One of the buckets supplied to create the Multi-Region Access Point is in a Region that is not supported.',
          w.bucket,
        );
      }
      if (out.some((r) => r.region === loc.region)) {
        throw new AsyncFailure(
          'MultiRegionAccessPointSameBucketRegion',
          'The buckets used to create a Multi-Region Access Point cannot be in the same Region.',
          w.bucket,
        );
      }
      out.push({ bucket: loc.name, region: loc.region, bucketAccountId: loc.owner, trafficDialPercentage: 100 });
    }
    return out;
  }

  /** Inserts the new MRAP under a fresh alias; a resumed request finds its own record. */
  async #insert(record: MrapRecord): Promise<void> {
    for (;;) {
      record.alias = newAlias();
      const result = await this.#catalog.insertMrap(record, MAX_MRAPS_PER_ACCOUNT);
      if (result === 'created') return;
      if (result === 'alias-used') continue;
      if (result === 'limit') {
        throw new AsyncFailure(
          'InvalidRequest',
          `An account can have at most ${MAX_MRAPS_PER_ACCOUNT} Multi-Region Access Points.`,
        );
      }
      const existing = this.#catalog.mrap(record.account, record.name);
      if (existing?.status === 'CREATING' && existing.createdAt === record.createdAt) {
        // Inserted by this very request before the endpoint restarted.
        Object.assign(record, existing);
        return;
      }
      throw new AsyncFailure(
        'MultiRegionAccessPointAlreadyOwnedByYou',
        'You already have a Multi-Region Access Point with the same name.',
        record.name,
      );
    }
  }

  async #delete(account: string, name: string): Promise<string[]> {
    const current = this.#existing(account, name);
    if (current.status === 'CREATING') throw notReady(name);
    await this.#catalog.updateMrap(account, name, (r) => ({ ...r, status: 'DELETING' }));
    await this.#sleep();
    await this.#catalog.removeMrap(account, name);
    return current.regions.map((r) => r.region);
  }

  async #putPolicy(account: string, name: string, policy: string): Promise<string[]> {
    const current = this.#existing(account, name);
    if (current.status !== 'READY') throw notReady(name);
    const check = checkPolicy(policy, mrapArn(account, current.alias));
    if (!check.ok) throw new AsyncFailure('MalformedPolicy', check.message, name);
    // Like the policy's syntax, whether Block Public Access lets it in is known only once the
    // request is worked on: the operation FAILS with the asynchronous AccessDenied.
    if (publicPolicyBlocked(check.policy, current.publicAccessBlock, this.#catalog.accountPublicAccessBlock(account))) {
      throw new AsyncFailure('AccessDenied', 'Access denied.', name);
    }
    await this.#catalog.updateMrap(account, name, (r) => ({ ...r, policy: { ...r.policy, proposed: policy } }));
    await this.#sleep();
    await this.#catalog.updateMrap(account, name, (r) => ({ ...r, policy: { established: policy, proposed: policy } }));
    return current.regions.map((r) => r.region);
  }

  #existing(account: string, name: string): MrapRecord {
    const current = this.#catalog.mrap(account, name);
    if (!current) {
      throw new AsyncFailure('NoSuchMultiRegionAccessPoint', 'The specified Multi-Region Access Point does not exist.', name);
    }
    return current;
  }

  async #progress(request: MrapAsyncRequest, regions: string[]): Promise<void> {
    await this.#catalog.updateMrapRequest(request.account, request.token, (r) => ({
      ...r,
      regions: regions.map((name) => ({ name, status: 'IN_PROGRESS' })),
    }));
  }

  async #finish(request: MrapAsyncRequest, error: MrapAsyncError | undefined, regions?: string[]): Promise<void> {
    const status = error ? 'FAILED' : 'SUCCEEDED';
    await this.#catalog.updateMrapRequest(request.account, request.token, (r) => ({
      ...r,
      status,
      regions: (regions ?? r.regions?.map((g) => g.name))?.map((name) => ({ name, status })),
      error: error ? { ...error, requestId: request.requestId } : undefined,
    }));
  }

  #sleep(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.#delayMs / 2));
  }
}

function notReady(name: string): AsyncFailure {
  return new AsyncFailure(
    'MultiRegionAccessPointNotReady',
    'The specified Multi-Region Access Point is not ready to be updated.',
    name,
  );
}
