/**
 * Carries out a region's queued replications (the engine's outbox): for each destination
 * bucket, entries are taken in queue order, at most `concurrency` at a time, never two of
 * the same key at once, so operations on one key reach the destination in the order they
 * happened. Each is sent as a signed S3 request to the destination's region, streaming the
 * bytes. A destination that cannot be reached is retried with exponential backoff and jitter
 * (its versions stay PENDING); an answer that cannot change with time (bucket gone, not
 * versioned, access denied) makes the version FAILED for that destination with S3's reason.
 */
import { Readable } from 'node:stream';
import { Gauge, Registry } from 'prom-client';
import { Agent, type Dispatcher } from 'undici';
import type { Catalog } from '../catalog/catalog.ts';
import type { FaultStore } from '../core/faults.ts';
import type { Logger } from '../core/log.ts';
import { signRequest } from '../s3/auth/sign.ts';
import type { InternalHandler } from '../s3/server.ts';
import { partManifest, replicaHeaders } from '../s3/replica-protocol.ts';
import type { DestinationState, ObjectEngine, OutboxEntry } from '../storage/types.ts';
import { JobRunner } from './job-runner.ts';
import type { LmdbJobStore } from './job-store.ts';
import { ReplicationMetrics, type SeriesSnapshot } from './metrics.ts';

export interface ReplicatorOptions {
  region: string;
  engine: ObjectEngine;
  catalog: Catalog;
  log: Logger;
  /** replications in flight per destination bucket (default 16) */
  concurrency?: number;
  /** first retry delay and its ceiling, ms (default 200 ms and 30 s) */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** the Replication Time Control threshold (default 15 minutes; tests lower it) */
  rtcThresholdMs?: number;
  /** injected faults: a partition between this region and a destination's holds its copies back */
  faults?: FaultStore;
  /** simulated distance to a region (ms), waited before each copy sent there */
  latencyTo?: (region: string) => number;
  /** The region's batch replication jobs (closed with the replicator); without it, no jobs. */
  jobs?: LmdbJobStore;
  /** client requests in flight at this region right now (replication yields to them) */
  clientLoad?: () => number;
  now?: () => number;
}

type Settings = Required<Omit<ReplicatorOptions, 'now' | 'rtcThresholdMs' | 'faults' | 'latencyTo' | 'jobs' | 'clientLoad'>> & {
  faults?: FaultStore;
  latencyTo?: (region: string) => number;
  /** told the outcome of every finished entry (batch jobs follow theirs) */
  finished?: (e: OutboxEntry, state: DestinationState) => void;
  now: () => number;
  metrics: ReplicationMetrics;
  /** copies allowed in flight per destination right now */
  limit: () => number;
};

/**
 * Replication yields to the requests it replicates. Two signs say the region is busy: client
 * requests in flight at this region (`clientLoad`, when the server reports it) and this
 * process's event-loop utilization, each smoothed over about a second so a burst is not
 * load. While clients keep several requests in flight, or the loop is nearly saturated, each
 * destination gets a copy or two in flight, and the backlog is worked off as soon as the load
 * eases (versions wait as PENDING meanwhile). Below that, full concurrency.
 */
export class LoadGovernor {
  #last = performance.eventLoopUtilization();
  #utilization = 0;
  #clients = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(clientLoad?: () => number) {
    this.#timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      const sample = performance.eventLoopUtilization(now, this.#last).utilization;
      this.#utilization = this.#utilization * 0.8 + sample * 0.2;
      this.#last = now;
      if (clientLoad) this.#clients = this.#clients * 0.8 + clientLoad() * 0.2;
    }, 100);
    this.#timer.unref();
  }

  limit(configured: number): number {
    if (this.#utilization > 0.9 || this.#clients >= BUSY_CLIENTS) return Math.min(configured, 1);
    if (this.#utilization > 0.8 || this.#clients >= BUSY_CLIENTS / 2) return Math.min(configured, 2);
    return configured;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

/**
 * Client requests in flight (on average) at which replication steps aside. A region taking a
 * steady 200 PUT/s has about one in flight; a closed loop of 16 writers keeps 16.
 */
const BUSY_CLIENTS = 8;

/** How one attempt ended. */
type Outcome = { kind: 'done' } | { kind: 'failed'; reason: string } | { kind: 'retry'; why: string };

/** At most this many queued entries of one destination are looked at per pass... */
const WINDOW = 2000;
/** ...read this many at a time. */
const BATCH = 64;

export class Replicator {
  readonly #opts: Settings;
  readonly #agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  readonly #destinations = new Map<string, DestinationQueue>();
  readonly #governor: LoadGovernor;
  #unsubscribe: (() => void) | undefined;
  #closed = false;
  /** Batch replication (existing objects): the region's jobs, when it keeps them. */
  readonly jobs: JobRunner | undefined;
  readonly #jobStore: LmdbJobStore | undefined;

  constructor(opts: ReplicatorOptions) {
    const now = opts.now ?? Date.now;
    const concurrency = opts.concurrency ?? 16;
    const { jobs: jobStore, clientLoad, ...rest } = opts;
    this.#governor = new LoadGovernor(clientLoad);
    this.#jobStore = jobStore;
    this.jobs = jobStore && new JobRunner({ region: opts.region, engine: opts.engine, store: jobStore, log: opts.log, now });
    const jobs = this.jobs;
    this.#opts = {
      retryBaseMs: 200,
      retryMaxMs: 30_000,
      ...rest,
      concurrency,
      now,
      metrics: new ReplicationMetrics({ rtcThresholdMs: opts.rtcThresholdMs, now }),
      limit: () => this.#governor.limit(concurrency),
      finished: jobs && ((e, state) => jobs.finished(e, state)),
    };
  }

  /** The replication metrics of this region's buckets (of one bucket, if given). */
  metrics(bucket?: string): SeriesSnapshot[] {
    const { engine } = this.#opts;
    const pending = function* () {
      for (const d of engine.replicationDestinations()) yield* engine.peekReplications(d, 0, Number.MAX_SAFE_INTEGER);
    };
    return this.#opts.metrics.snapshot(pending(), { bucket });
  }

  /** Starts on whatever is queued (after a restart too) and on everything queued later. */
  start(): void {
    this.#unsubscribe = this.#opts.engine.onReplicationQueued((destinations) => {
      for (const d of destinations) this.#queue(d).wake();
    });
    for (const d of this.#opts.engine.replicationDestinations()) this.#queue(d).wake();
    this.jobs?.start();
  }

  #queue(destination: string): DestinationQueue {
    let q = this.#destinations.get(destination);
    if (!q) {
      q = new DestinationQueue(destination, this.#opts, (e) => this.#replicate(e));
      this.#destinations.set(destination, q);
    }
    return q;
  }

  /** The same figures for Prometheus (`/_meridian/metrics`), labelled by bucket, rule and destination. */
  readonly registry = this.#registry();

  #registry(): Registry {
    const registry = new Registry();
    const labelNames = ['region', 'bucket', 'rule', 'destination'] as const;
    const gauges = {
      pendingOps: new Gauge({ name: 'meridian_replication_operations_pending', help: 'Operations waiting to replicate', labelNames, registers: [registry] }),
      pendingBytes: new Gauge({ name: 'meridian_replication_bytes_pending', help: 'Bytes waiting to replicate', labelNames, registers: [registry] }),
      completed: new Gauge({ name: 'meridian_replication_operations_completed', help: 'Operations replicated since start', labelNames, registers: [registry] }),
      failed: new Gauge({ name: 'meridian_replication_operations_failed', help: 'Operations that failed since start', labelNames, registers: [registry] }),
      behind: new Gauge({ name: 'meridian_replication_latency_seconds', help: 'How far the destination is behind: age of the oldest pending operation', labelNames, registers: [registry] }),
      p99: new Gauge({ name: 'meridian_replication_latency_p99_seconds', help: 'Replication latency, 99th percentile of recent operations', labelNames, registers: [registry] }),
      max: new Gauge({ name: 'meridian_replication_latency_max_seconds', help: 'Largest replication latency since start', labelNames, registers: [registry] }),
      missed: new Gauge({ name: 'meridian_replication_rtc_missed', help: 'Objects replicated after the RTC threshold', labelNames, registers: [registry] }),
      within: new Gauge({ name: 'meridian_replication_rtc_within', help: 'Objects replicated within the RTC threshold', labelNames, registers: [registry] }),
    };
    const first = gauges.pendingOps as Gauge & { collect?: () => void };
    // Collected once per scrape, from the queue and the replicator's counters.
    first.collect = () => {
      for (const g of Object.values(gauges)) g.reset();
      for (const r of this.metrics()) {
        const labels = { region: this.#opts.region, bucket: r.bucket, rule: r.ruleId, destination: r.destination };
        gauges.pendingOps.set(labels, r.operationsPending);
        gauges.pendingBytes.set(labels, r.bytesPending);
        gauges.completed.set(labels, r.operationsCompleted);
        gauges.failed.set(labels, r.operationsFailed);
        gauges.behind.set(labels, r.latencyMs.now / 1000);
        if (r.latencyMs.p99 !== undefined) gauges.p99.set(labels, r.latencyMs.p99 / 1000);
        if (r.latencyMs.max !== undefined) gauges.max.set(labels, r.latencyMs.max / 1000);
        gauges.within.set(labels, r.rtc.within);
        gauges.missed.set(labels, r.rtc.missed);
      }
    };
    return registry;
  }

  /**
   * The operator endpoints of replication:
   *   GET  /_meridian/replication/metrics[?bucket=B]
   *   POST /_meridian/replication/retry?bucket=B[&prefix=P]
   * and the batch jobs' `/_meridian/jobs...` (see JobRunner).
   */
  readonly internal: InternalHandler = async (req) => {
    const jobs = await this.jobs?.internal(req);
    if (jobs) return jobs;
    const { method, path, query } = req;
    const bucket = query.get('bucket') ?? undefined;
    if (path === '/_meridian/replication/metrics' && method === 'GET') {
      return { status: 200, body: { region: this.#opts.region, rules: this.metrics(bucket) } };
    }
    if (path === '/_meridian/metrics' && method === 'GET') {
      return { status: 200, body: await this.registry.metrics(), contentType: this.registry.contentType };
    }
    if (path === '/_meridian/replication/retry' && method === 'POST') {
      if (!bucket) return { status: 400, body: { error: 'InvalidRequest', message: 'bucket is required' } };
      if (!this.#opts.engine.getBucket(bucket)) return { status: 404, body: { error: 'NoSuchBucket', bucket } };
      const retried = await this.#opts.engine.retryFailedReplications(bucket, query.get('prefix') ?? '');
      return { status: 200, body: { region: this.#opts.region, bucket, retried } };
    }
    return undefined;
  };

  /** Waits until nothing is queued or in flight (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.#destinations.values()].filter((q) => !q.idle());
      if (busy.length === 0 && this.#opts.engine.replicationDestinations().length === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    await Promise.all([...this.#destinations.values()].map((q) => q.close()));
    // After the queues: the copies still in flight report their outcomes to the jobs.
    await this.jobs?.close();
    await this.#jobStore?.close();
    this.#governor.close();
    await this.#agent.close();
  }

  /** One attempt at one replication. */
  async #replicate(e: OutboxEntry): Promise<Outcome> {
    const { engine, catalog } = this.#opts;
    const version = engine.getVersion(e.bucket, e.key, e.versionId);
    // Deleted by version id meanwhile: there is nothing left to copy.
    if (!version) return { kind: 'done' };
    const location = catalog.lookupBucket(e.destination);
    if (!location) return { kind: 'failed', reason: 'DstBucketNotFound' };
    const region = catalog.region(location.region);
    if (!region) return { kind: 'retry', why: `region ${location.region} has no endpoint` };
    if (this.#opts.faults?.partitioned(this.#opts.region, location.region)) {
      return { kind: 'retry', why: `partitioned from ${location.region}` };
    }
    const distance = this.#opts.latencyTo?.(location.region) ?? 0;
    if (distance > 0) await new Promise((r) => setTimeout(r, distance));

    let body: Readable | Buffer | undefined;
    let length = 0;
    let manifest: Buffer | undefined;
    if (e.operation === 'object' && !version.isDeleteMarker) {
      const opened = engine.getObject({ bucket: e.bucket, key: e.key, versionId: e.versionId });
      body = opened.body;
      length = version.size;
      const parts = engine.partsOf(version);
      if (parts) {
        manifest = partManifest(parts);
        const bytes = body;
        body = Readable.from(
          (async function* () {
            yield manifest;
            if (Buffer.isBuffer(bytes)) yield bytes;
            else yield* bytes as AsyncIterable<Buffer>;
          })(),
          { objectMode: false },
        );
        length += manifest.length;
      }
    }
    const url = new URL(region.endpoint);
    const path = `/${e.destination}/${e.key.split('/').map(encodeRfc3986).join('/')}`;
    const headers = signRequest({
      method: 'PUT',
      path,
      headers: {
        host: url.host,
        'content-length': String(length),
        // The destination judges the copy as the source bucket owner's (its bucket policy may
        // refuse another account's replicas).
        'x-meridian-on-behalf-of': engine.getBucket(e.bucket)?.owner ?? version.owner,
        ...replicaHeaders(version, {
          storageClass: e.storageClass,
          metadataOnly: e.operation === 'metadata',
          manifestLength: manifest?.length,
          owner: e.owner,
        }),
      },
      region: location.region,
      credentials: catalog.serviceKey(),
    });
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#agent.request({
        origin: url.origin,
        path,
        method: 'PUT',
        headers,
        body: length > 0 ? body : undefined,
      });
    } catch (err) {
      if (body && !Buffer.isBuffer(body)) body.destroy();
      return { kind: 'retry', why: (err as Error).message };
    }
    const text = await res.body.text();
    if (res.statusCode === 200) return { kind: 'done' };
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? String(res.statusCode);
    if (res.statusCode >= 500 || res.statusCode === 429 || code === 'SlowDown' || code === 'RequestTimeout') {
      return { kind: 'retry', why: `${res.statusCode} ${code}` };
    }
    return { kind: 'failed', reason: failureReason(code) };
  }
}

/** S3's replication failure reasons for what a destination answered. */
function failureReason(code: string): string {
  switch (code) {
    case 'NoSuchBucket':
      return 'DstBucketNotFound';
    case 'InvalidRequest':
      return 'DstBucketUnversioned';
    case 'AccessDenied':
      return 'DstPutObjectNotPermitted';
    case 'NoSuchVersion':
    case 'NoSuchKey':
      return 'DstObjectNotFound';
    default:
      return `DstPutObjectFailed:${code}`;
  }
}

function encodeRfc3986(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The queue of one destination bucket: picks entries in order, keeps keys serial, and backs
 * off as a whole when the destination cannot be reached.
 */
class DestinationQueue {
  readonly #destination: string;
  readonly #opts: Settings;
  readonly #attempt: (e: OutboxEntry) => Promise<Outcome>;
  /** entries being carried out, by sequence number, with their key */
  readonly #inFlight = new Map<number, { key: string; done: Promise<void> }>();
  #failures = 0;
  #pausedUntil = 0;
  /** every queued entry with a sequence number up to this one is finished or in flight */
  #floor = 0;
  #timer: NodeJS.Timeout | undefined;
  #scheduled = false;
  #closed = false;

  constructor(
    destination: string,
    opts: Settings,
    attempt: (e: OutboxEntry) => Promise<Outcome>,
  ) {
    this.#destination = destination;
    this.#opts = opts;
    this.#attempt = attempt;
  }

  idle(): boolean {
    return this.#inFlight.size === 0 && this.#opts.engine.peekReplications(this.#destination, 0, 1).length === 0;
  }

  /** Asks for a pass over the queue; passes asked for in one turn of the event loop run once. */
  wake(): void {
    if (this.#closed || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#closed) this.#pump();
    });
  }

  /**
   * Starts the next entries, reading the queue from the floor in small batches and only as
   * far as needed to fill the free slots: a long backlog costs a pass no more than a short one.
   */
  #pump(): void {
    const now = this.#opts.now();
    if (now < this.#pausedUntil) {
      this.#schedule(this.#pausedUntil - now);
      return;
    }
    const limit = this.#opts.limit();
    if (this.#inFlight.size >= limit) return;
    const busy = new Set([...this.#inFlight.values()].map((f) => f.key));
    let firstWaiting: number | undefined;
    let last = this.#floor;
    let scanned = 0;
    scan: while (scanned < WINDOW) {
      const batch = this.#opts.engine.peekReplications(this.#destination, last, BATCH);
      for (const e of batch) {
        last = e.seq;
        scanned++;
        if (this.#inFlight.has(e.seq)) continue;
        const key = `${e.bucket}\u0000${e.key}`;
        // An earlier operation on this key is still on its way: later ones wait their turn.
        if (busy.has(key)) {
          firstWaiting ??= e.seq;
          continue;
        }
        if (this.#inFlight.size >= limit) {
          firstWaiting ??= e.seq;
          break scan;
        }
        busy.add(key);
        this.#start(e, key);
      }
      if (batch.length < BATCH) break;
    }
    // Everything up to here is finished or in flight: the next pass starts after it.
    this.#floor = firstWaiting !== undefined ? firstWaiting - 1 : last;
  }

  #start(e: OutboxEntry, key: string): void {
    const done = this.#run(e).finally(() => {
      this.#inFlight.delete(e.seq);
      this.wake();
    });
    this.#inFlight.set(e.seq, { key, done });
  }

  async #run(e: OutboxEntry): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.#attempt(e);
    } catch (err) {
      outcome = { kind: 'retry', why: (err as Error).message };
    }
    if (outcome.kind === 'retry') {
      // It stays queued: the next pass must see it again.
      this.#floor = Math.min(this.#floor, e.seq - 1);
      // Copies in flight when the destination went away all fail at once: together they are
      // one failed round, not many.
      if (this.#opts.now() >= this.#pausedUntil) this.#failures++;
      const ceiling = Math.min(this.#opts.retryMaxMs, this.#opts.retryBaseMs * 2 ** Math.min(this.#failures - 1, 20));
      const delay = ceiling / 2 + Math.random() * (ceiling / 2);
      this.#pausedUntil = Math.max(this.#pausedUntil, this.#opts.now() + delay);
      if (this.#failures === 1 || this.#failures % 20 === 0) {
        this.#opts.log.warn(
          { region: this.#opts.region, destination: this.#destination, why: outcome.why, retryInMs: Math.round(delay) },
          'replication destination unavailable; retrying',
        );
      }
      return;
    }
    this.#failures = 0;
    const state: DestinationState =
      outcome.kind === 'done'
        ? { status: 'COMPLETED', completedAt: this.#opts.now() }
        : { status: 'FAILED', reason: outcome.reason };
    if (outcome.kind === 'failed') {
      this.#opts.log.warn(
        { region: this.#opts.region, destination: this.#destination, bucket: e.bucket, key: e.key, reason: outcome.reason },
        'replication failed',
      );
    }
    await this.#opts.engine.finishReplication(e, state);
    this.#opts.metrics.finished(e, outcome.kind === 'done');
    this.#opts.finished?.(e, state);
  }

  #schedule(ms: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.wake();
    }, ms);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.allSettled([...this.#inFlight.values()].map((f) => f.done));
  }
}
