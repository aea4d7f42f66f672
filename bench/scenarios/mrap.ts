/**
 * Multi-Region Access Points (issue 6, Benchmark), Meridian only: one 3-region world
 * (us-east-1, eu-west-1, ap-southeast-1) with its global endpoint, a bucket in each region and
 * an MRAP over the three, created through the real `@aws-sdk/client-s3-control`. The router's
 * latency table puts eu-west-1 nearest (5 ms, us-east-1 40 ms, ap-southeast-1 120 ms), so
 * where a request goes is fixed, not measured.
 *
 * 1. Router overhead (`mrap-get-4k`, `mrap-get-1m`): objects written into eu-west-1's bucket,
 *    then read with `S3BenchClient` twice in the same world: directly from eu-west-1
 *    (path-style, signed for eu-west-1), and through the global endpoint with Bucket
 *    `<alias>.mrap` (signed for us-east-1; the router accepts any region in the scope), which
 *    the router sends to the same bucket. Each path: `--concurrency` (16) workers, closed loop,
 *    like get-4k/get-1m, `--duration` s in all, in halves ordered direct, MRAP, MRAP, direct
 *    (`--warmup` s before each but the second MRAP half), so load from elsewhere on the machine
 *    that comes and goes weighs on both paths alike. Then each path again with one
 *    worker (0.5 s + min(3, `--duration`) s), where the p50 difference is what one request pays
 *    for the extra hop rather than for sharing the CPU: under a saturating closed loop p50 is
 *    concurrency ÷ throughput, so there the added latency mostly restates the throughput loss.
 *    The router's per-region counters (`/_meridian/mrap/metrics`) confirm every MRAP request
 *    went to eu-west-1. The world is one process (one event loop for router and regions); the
 *    router hands requests for its own process's regions over in-process, so the MRAP path costs
 *    the router's checks (signature, access point policy, route) on top of the region's work.
 *    Figures: the row is the MRAP path at 16 workers; `ratio` = MRAP ops/s ÷ direct ops/s
 *    (equal to the MiB/s ratio, every object being the same size); the direct figures and the
 *    added latency (MRAP p50 − direct p50, loaded and unloaded) are details.
 * 2. Failover (`mrap-failover`): each region's bucket holds `probe` with a length of its own, so
 *    the length of an answer says which region served it. `STREAM_WORKERS` workers GET it
 *    through the MRAP in a steady stream, `STREAM_PAUSE_MS` between a worker's requests (so
 *    the stream does not starve the router's probes of CPU). `DRILLS` drills, each: wait until
 *    eu-west-1 serves the stream, take it down (`FaultStore.regionDown` on the world's data
 *    directory, what `meridian fault region-down` does), time from just before that call to the
 *    end of the first successful GET served by another region (the failover time), keep it
 *    down `HOLD_MS`, bring it back (`regionUp`) and time until eu-west-1 serves again (recovery,
 *    bounded by the probe interval, `PROBE_INTERVAL_MS`). GETs that failed between the fault and
 *    the recovery are counted; their gap is from the fault to the end of the last one.
 *    Figures: p50 = median failover time, p99 = max = the largest of the drills (nearest rank
 *    of 10), errors = GETs that failed during drills; the rest are details.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { LookupFunction } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BucketLocationConstraint, CreateBucketCommand } from '@aws-sdk/client-s3';
import {
  CreateMultiRegionAccessPointCommand,
  DescribeMultiRegionAccessPointOperationCommand,
  GetMultiRegionAccessPointCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { faultsPath } from '../../packages/server/src/cli/fault.ts';
import { FaultStore } from '../../packages/server/src/core/faults.ts';
import { S3BenchClient } from '../client.ts';
import type { DetailedOutcome, Details } from '../details.ts';
import { type LoadResult, percentile, runClosedLoop, runCount } from '../load.ts';
import type { Goal, Scenario, ScenarioContext } from '../scenario.ts';
import type { GlobalEndpointOptions } from '../target.ts';
import { sdkClient } from '../sdk.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'] as const;
type Region = (typeof REGIONS)[number];
const NEAREST: Region = 'eu-west-1';
const LATENCY_TABLE: Record<Region, number> = { 'eu-west-1': 5, 'us-east-1': 40, 'ap-southeast-1': 120 };
/** How often the router probes each region: it bounds how soon a recovered region gets traffic back. */
const PROBE_INTERVAL_MS = 250;
const GLOBAL: GlobalEndpointOptions = { probeIntervalMs: PROBE_INTERVAL_MS, latencyTable: LATENCY_TABLE };
/** The world's default account, which the bench credentials belong to (packages/server/src/core/config.ts). */
const ACCOUNT_ID = '123456789012';

/** Unloaded pass: one worker, this long at most. */
const UNLOADED_SEC = 3;
const UNLOADED_WARMUP_SEC = 0.5;

const DRILLS = 10;
const STREAM_WORKERS = 4;
const STREAM_PAUSE_MS = 2;
const HOLD_MS = 1000;
/** A drill step that takes longer than this fails the scenario. */
const STEP_LIMIT_MS = 10_000;

function round(v: number | undefined, digits = 2): number | undefined {
  if (v === undefined || !Number.isFinite(v)) return undefined;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function endpointOf(ctx: ScenarioContext, region: string): string {
  const endpoint = ctx.target.regions[region];
  if (!endpoint) {
    throw new Error(
      `the target runs no region ${region} (has: ${Object.keys(ctx.target.regions).join(', ') || 'none'})`,
    );
  }
  return endpoint;
}

function globalOf(ctx: ScenarioContext): string {
  if (!ctx.target.global) throw new Error('the target started no global endpoint (scenario `global`)');
  return ctx.target.global;
}

// ---------------------------------------------------------------------------------------------
// Set-up: a bucket per region and an MRAP over them.

/**
 * The S3 Control client puts the account id in front of the host (`123456789012.localhost`);
 * this resolves every `*.localhost` to 127.0.0.1, whatever the machine's resolver does.
 */
const localhostLookup = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
}) as unknown as LookupFunction;

interface MrapWorld {
  alias: string;
  buckets: Record<Region, string>;
  global: string;
}

async function createMrapWorld(ctx: ScenarioContext, prefix: string): Promise<MrapWorld> {
  const global = globalOf(ctx);
  const buckets = Object.fromEntries(REGIONS.map((r) => [r, `${prefix}-${r}`])) as Record<Region, string>;
  for (const region of REGIONS) {
    const sdk = sdkClient({
      endpoint: endpointOf(ctx, region),
      credentials: ctx.target.spec.credentials,
      connections: 1,
      region,
    });
    try {
      await sdk.s3.send(
        new CreateBucketCommand({
          Bucket: buckets[region],
          CreateBucketConfiguration:
            region === 'us-east-1' ? undefined : { LocationConstraint: region as BucketLocationConstraint },
        }),
      );
    } finally {
      sdk.destroy();
    }
  }
  const agent = new http.Agent({ keepAlive: true, lookup: localhostLookup });
  const control = new S3ControlClient({
    region: 'us-east-1',
    endpoint: global.replace('127.0.0.1', 'localhost'),
    credentials: ctx.target.spec.credentials,
    requestHandler: new NodeHttpHandler({ httpAgent: agent }),
    maxAttempts: 1,
  });
  try {
    const created = await control.send(
      new CreateMultiRegionAccessPointCommand({
        AccountId: ACCOUNT_ID,
        Details: { Name: prefix, Regions: REGIONS.map((r) => ({ Bucket: buckets[r] })) },
      }),
    );
    const deadline = performance.now() + 15_000;
    for (;;) {
      const op = await control.send(
        new DescribeMultiRegionAccessPointOperationCommand({
          AccountId: ACCOUNT_ID,
          RequestTokenARN: created.RequestTokenARN,
        }),
      );
      const status = op.AsyncOperation?.RequestStatus;
      if (status === 'SUCCEEDED') break;
      if (status === 'FAILED' || performance.now() > deadline) {
        throw new Error(
          `creating the MRAP: ${status ?? 'no status'} ${JSON.stringify(op.AsyncOperation?.ResponseDetails ?? {})}`,
        );
      }
      await sleep(50, undefined, { signal: ctx.signal });
    }
    const got = await control.send(new GetMultiRegionAccessPointCommand({ AccountId: ACCOUNT_ID, Name: prefix }));
    const alias = got.AccessPoint?.Alias;
    if (!alias) throw new Error('GetMultiRegionAccessPoint answered no alias');
    return { alias, buckets, global };
  } finally {
    control.destroy();
    agent.destroy();
  }
}

interface RouteCounters {
  alias: string;
  region: string;
  requests: number;
  errors: number;
  failovers: number;
}

/** The router's counters for this MRAP, by region (unauthenticated operator endpoint). */
async function routeCounters(w: MrapWorld, signal: AbortSignal): Promise<Record<string, RouteCounters>> {
  const res = await fetch(`${w.global}/_meridian/mrap/metrics`, { signal });
  if (res.status !== 200) throw new Error(`GET /_meridian/mrap/metrics -> ${res.status}`);
  const body = (await res.json()) as { routes?: RouteCounters[] };
  return Object.fromEntries((body.routes ?? []).filter((r) => r.alias === w.alias).map((r) => [r.region, r]));
}

function requestsSince(
  before: Record<string, RouteCounters>,
  after: Record<string, RouteCounters>,
): Record<string, number> {
  return Object.fromEntries(REGIONS.map((r) => [r, (after[r]?.requests ?? 0) - (before[r]?.requests ?? 0)]));
}

// ---------------------------------------------------------------------------------------------
// 1. Router overhead.

/**
 * Two runs of the same path as one: counts and rates over their total time; p50/p99/max the
 * ops-weighted mean of the two (close to the pooled percentiles when the halves agree).
 */
function combine(a: LoadResult, b: LoadResult): LoadResult {
  const ops = a.ops + b.ops;
  const seconds = a.seconds + b.seconds;
  const bytes = a.bytes + b.bytes;
  const weigh = (p: 'p50Ms' | 'p99Ms' | 'maxMs') =>
    a.latency && b.latency && ops > 0 ? (a.latency[p] * a.ops + b.latency[p] * b.ops) / ops : undefined;
  const p50Ms = weigh('p50Ms');
  const p99Ms = weigh('p99Ms');
  return {
    ops,
    bytes,
    seconds,
    opsPerSec: ops / seconds,
    mibPerSec: bytes / MiB / seconds,
    errors: a.errors + b.errors,
    firstError: a.firstError ?? b.firstError,
    latency:
      p50Ms !== undefined && p99Ms !== undefined
        ? { p50Ms, p99Ms, maxMs: Math.max(a.latency?.maxMs ?? 0, b.latency?.maxMs ?? 0) }
        : (a.latency ?? b.latency),
  };
}

export interface OverheadScenarioOptions {
  name: string;
  title: string;
  size: number;
  /** Objects written before measuring, read in random order. */
  preload: number;
  goals: readonly Goal[];
}

function overheadScenario(o: OverheadScenarioOptions): Scenario {
  const unloadedSec = (durationSec: number) => Math.min(UNLOADED_SEC, durationSec);
  return {
    name: o.name,
    title: o.title,
    compare: 'opsPerSec',
    higherIsBetter: true,
    goals: o.goals,
    targets: ['meridian'],
    regions: REGIONS,
    global: GLOBAL,
    estimateSec: ({ durationSec, warmupSec }) =>
      2 * durationSec + 3 * warmupSec + 2 * (unloadedSec(durationSec) + UNLOADED_WARMUP_SEC) + 5,
    async run(ctx): Promise<DetailedOutcome> {
      const w = await createMrapWorld(ctx, o.name);
      const own: S3BenchClient[] = [];
      const client = (endpoint: string, region: string): S3BenchClient => {
        const c = new S3BenchClient({
          endpoint,
          credentials: ctx.target.spec.credentials,
          connections: ctx.concurrency,
          region,
        });
        own.push(c);
        return c;
      };
      try {
        const direct = { client: client(endpointOf(ctx, NEAREST), NEAREST), bucket: w.buckets[NEAREST] };
        const viaMrap = { client: client(w.global, 'us-east-1'), bucket: w.alias };
        const body = randomBytes(o.size);
        const keys = Array.from({ length: o.preload }, (_, i) => `obj/${i.toString().padStart(6, '0')}`);
        await runCount(keys.length, ctx.concurrency, (i) =>
          direct.client.putObject(direct.bucket, keys[i], body, body.length, ctx.signal),
        );
        const reader = (path: { client: S3BenchClient; bucket: string }) => async (_w: number, signal: AbortSignal) => {
          const key = keys[Math.floor(Math.random() * keys.length)];
          const n = await path.client.getObject(path.bucket, key, signal);
          if (n !== body.length) throw new Error(`GET ${key}: ${n} bytes, expected ${body.length}`);
          return n;
        };
        // One read through the MRAP first: a routing mistake fails here, clearly.
        const smokeBefore = await routeCounters(w, ctx.signal);
        await reader(viaMrap)(0, ctx.signal);
        const smoke = requestsSince(smokeBefore, await routeCounters(w, ctx.signal));
        if (smoke[NEAREST] !== 1)
          throw new Error(`the smoke-test GET did not go to ${NEAREST}: ${JSON.stringify(smoke)}`);

        const run = (
          path: { client: S3BenchClient; bucket: string },
          concurrency: number,
          warmupSec: number,
          durationSec: number,
        ) => runClosedLoop({ concurrency, warmupSec, durationSec, op: reader(path), signal: ctx.signal });
        // Direct, MRAP, MRAP, direct, half the time each: load that comes and goes on the
        // machine during the run weighs on both paths alike.
        const half = ctx.durationSec / 2;
        ctx.log(
          `${ctx.concurrency} workers GET ${o.size} B: direct from ${NEAREST}, through ${w.alias}, again, direct`,
        );
        const d0 = await run(direct, ctx.concurrency, ctx.warmupSec, half);
        const before = await routeCounters(w, ctx.signal);
        const m0 = await run(viaMrap, ctx.concurrency, ctx.warmupSec, half);
        const mB = await run(viaMrap, ctx.concurrency, 0, half);
        const routed = requestsSince(before, await routeCounters(w, ctx.signal));
        const dB = await run(direct, ctx.concurrency, ctx.warmupSec, half);
        const d = combine(d0, dB);
        const m = combine(m0, mB);
        const quiet = unloadedSec(ctx.durationSec);
        ctx.log(`unloaded: 1 worker, ${quiet} s each path`);
        const d1 = await run(direct, 1, UNLOADED_WARMUP_SEC, quiet);
        const m1 = await run(viaMrap, 1, UNLOADED_WARMUP_SEC, quiet);

        const added = (a: LoadResult, b: LoadResult, p: 'p50Ms' | 'p99Ms') =>
          a.latency && b.latency ? a.latency[p] - b.latency[p] : undefined;
        const addedP50 = added(m, d, 'p50Ms');
        const addedP50Unloaded = added(m1, d1, 'p50Ms');
        const ratio = d.opsPerSec > 0 ? m.opsPerSec / d.opsPerSec : undefined;
        const details: Details = {
          directOpsPerSec: round(d.opsPerSec, 0) ?? 0,
          directMiBPerSec: round(d.mibPerSec, 1) ?? 0,
          directP50Ms: round(d.latency?.p50Ms) ?? '',
          directP99Ms: round(d.latency?.p99Ms) ?? '',
          mrapOpsPerSec: round(m.opsPerSec, 0) ?? 0,
          mrapMiBPerSec: round(m.mibPerSec, 1) ?? 0,
          mrapP50Ms: round(m.latency?.p50Ms) ?? '',
          mrapP99Ms: round(m.latency?.p99Ms) ?? '',
          addedP50Ms: round(addedP50) ?? '',
          addedP99Ms: round(added(m, d, 'p99Ms')) ?? '',
          opsRatio: round(ratio, 3) ?? '',
          mibRatio: round(d.mibPerSec > 0 ? m.mibPerSec / d.mibPerSec : undefined, 3) ?? '',
          unloadedDirectP50Ms: round(d1.latency?.p50Ms, 3) ?? '',
          unloadedMrapP50Ms: round(m1.latency?.p50Ms, 3) ?? '',
          unloadedAddedP50Ms: round(addedP50Unloaded, 3) ?? '',
          unloadedAddedP99Ms: round(added(m1, d1, 'p99Ms'), 3) ?? '',
          unloadedDirectOpsPerSec: round(d1.opsPerSec, 0) ?? 0,
          unloadedMrapOpsPerSec: round(m1.opsPerSec, 0) ?? 0,
          addedP50Under1Ms: `${addedP50 !== undefined && addedP50 < 1 ? 'met' : 'not met'} at ${ctx.concurrency} workers, ${addedP50Unloaded !== undefined && addedP50Unloaded < 1 ? 'met' : 'not met'} at 1`,
          mrapRequestsByRegion: REGIONS.map((r) => `${r} ${routed[r]}`).join(', '),
        };
        const elsewhere = REGIONS.filter((r) => r !== NEAREST).reduce((n, r) => n + routed[r], 0);
        const errors = d.errors + m.errors + d1.errors + m1.errors;
        return {
          status: m.ops > 0 && d.ops > 0 && elsewhere === 0 ? 'ok' : 'failed',
          error:
            elsewhere > 0
              ? `${elsewhere} MRAP requests went to a region other than ${NEAREST}: ${details.mrapRequestsByRegion}`
              : (m.firstError ?? d.firstError ?? m1.firstError ?? d1.firstError),
          ops: m.ops,
          seconds: m.seconds,
          opsPerSec: m.opsPerSec,
          mibPerSec: m.mibPerSec,
          p50Ms: m.latency?.p50Ms,
          p99Ms: m.latency?.p99Ms,
          maxMs: m.latency?.maxMs,
          errors,
          ratio,
          note:
            `through the MRAP (${NEAREST}, nearest by the latency table); ratio: MRAP ops/s ÷ direct ops/s ` +
            `(${ctx.concurrency} workers each, same world and objects); added = MRAP − direct; unloaded = 1 worker`,
          details,
        };
      } finally {
        await Promise.all(own.map((c) => c.destroy().catch(() => {})));
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Failover drills.

/** Each region's copy of the probe object has its own length: the answer's length names the region. */
const PROBE_KEY = 'probe';
const PROBE_LENGTH: Record<Region, number> = { 'us-east-1': 101, 'eu-west-1': 102, 'ap-southeast-1': 103 };
const REGION_BY_LENGTH = new Map<number, Region>(REGIONS.map((r) => [PROBE_LENGTH[r], r]));

interface StreamEvent {
  start: number;
  end: number;
  /** The region that answered; undefined when the GET failed. */
  region?: Region;
  error?: string;
}

/** A steady stream of GETs through the MRAP, every answer kept with its times. */
class GetStream {
  readonly events: StreamEvent[] = [];
  readonly #stop = new AbortController();
  #done: Promise<void> | undefined;

  constructor(
    private readonly client: S3BenchClient,
    private readonly alias: string,
  ) {}

  start(workers: number, signal: AbortSignal): void {
    const stop = AbortSignal.any([signal, this.#stop.signal]);
    const worker = async (): Promise<void> => {
      while (!stop.aborted) {
        const start = performance.now();
        try {
          const n = await this.client.getObject(this.alias, PROBE_KEY, stop);
          const region = REGION_BY_LENGTH.get(n);
          this.events.push(
            region ? { start, end: performance.now(), region } : { start, end: performance.now(), error: `${n} bytes` },
          );
        } catch (err) {
          if (stop.aborted) break;
          this.events.push({ start, end: performance.now(), error: message(err) });
        }
        await sleep(STREAM_PAUSE_MS, undefined, { signal: stop }).catch(() => {});
      }
    };
    this.#done = Promise.all(Array.from({ length: workers }, () => worker())).then(() => {});
  }

  /**
   * The first event (in completion order) after `from` (an index into `events`) that `match`es;
   * waits for it up to `limitMs`.
   */
  async waitFor(
    from: number,
    match: (e: StreamEvent) => boolean,
    limitMs: number,
    signal: AbortSignal,
  ): Promise<StreamEvent> {
    const deadline = performance.now() + limitMs;
    let i = from;
    for (;;) {
      for (; i < this.events.length; i++) if (match(this.events[i])) return this.events[i];
      if (performance.now() > deadline) throw new Error(`waited ${limitMs} ms in vain`);
      if (signal.aborted) throw new Error('interrupted');
      await sleep(1);
    }
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#done;
  }
}

interface Drill {
  failoverMs: number;
  recoveryMs: number;
  failed: number;
  /** From the fault to the end of the last failed GET; 0 when none failed. */
  gapMs: number;
  servedBy: Region;
}

function median(values: number[]): number | undefined {
  return values.length === 0 ? undefined : percentile(Float64Array.from(values).sort(), 0.5);
}

function failoverScenario(): Scenario {
  return {
    name: 'mrap-failover',
    title: `MRAP failover, ${DRILLS} drills`,
    compare: 'maxMs',
    higherIsBetter: false,
    // The issue: failover in < 2 s, every drill.
    goals: [{ metric: 'maxMs', max: 2000 }],
    targets: ['meridian'],
    regions: REGIONS,
    global: GLOBAL,
    estimateSec: () => DRILLS * (HOLD_MS / 1000 + 1) + 5,
    async run(ctx): Promise<DetailedOutcome> {
      const w = await createMrapWorld(ctx, 'mrap-failover');
      const own: S3BenchClient[] = [];
      const faults = new FaultStore(faultsPath(ctx.target.dataDir));
      let stream: GetStream | undefined;
      try {
        for (const region of REGIONS) {
          const c = new S3BenchClient({
            endpoint: endpointOf(ctx, region),
            credentials: ctx.target.spec.credentials,
            connections: 1,
            region,
          });
          own.push(c);
          const body = randomBytes(PROBE_LENGTH[region]);
          await c.putObject(w.buckets[region], PROBE_KEY, body, body.length, ctx.signal);
        }
        const mrap = new S3BenchClient({
          endpoint: w.global,
          credentials: ctx.target.spec.credentials,
          connections: STREAM_WORKERS,
        });
        own.push(mrap);
        stream = new GetStream(mrap, w.alias);
        const countersBefore = await routeCounters(w, ctx.signal);
        stream.start(STREAM_WORKERS, ctx.signal);
        const streamStart = performance.now();

        const drills: Drill[] = [];
        let failure: string | undefined;
        for (let i = 0; i < DRILLS && !ctx.signal.aborted; i++) {
          try {
            // Traffic is on the nearest region again (after the previous drill, or from the start).
            const mark = stream.events.length;
            await stream.waitFor(mark, (e) => e.region === NEAREST, STEP_LIMIT_MS, ctx.signal);
            await sleep(100, undefined, { signal: ctx.signal });

            const downFrom = stream.events.length;
            const faultAt = performance.now();
            await faults.regionDown(NEAREST);
            const other = await stream.waitFor(
              downFrom,
              (e) => e.region !== undefined && e.region !== NEAREST && e.end > faultAt,
              STEP_LIMIT_MS,
              ctx.signal,
            );
            await sleep(HOLD_MS, undefined, { signal: ctx.signal });

            const upFrom = stream.events.length;
            const upAt = performance.now();
            await faults.regionUp(NEAREST);
            const back = await stream.waitFor(
              upFrom,
              (e) => e.region === NEAREST && e.start >= upAt,
              STEP_LIMIT_MS,
              ctx.signal,
            );
            const failed = stream.events
              .slice(downFrom)
              .filter((e) => e.error !== undefined && e.end > faultAt && e.end <= back.end);
            drills.push({
              failoverMs: other.end - faultAt,
              recoveryMs: back.end - upAt,
              failed: failed.length,
              gapMs: failed.length === 0 ? 0 : Math.max(...failed.map((e) => e.end)) - faultAt,
              servedBy: other.region as Region,
            });
            const d = drills[drills.length - 1];
            ctx.log(
              `drill ${i + 1}: failover ${d.failoverMs.toFixed(1)} ms (to ${d.servedBy}), ${d.failed} failed, ` +
                `back in ${d.recoveryMs.toFixed(0)} ms`,
            );
          } catch (err) {
            failure = `drill ${i + 1}: ${message(err)}`;
            break;
          } finally {
            await faults.regionUp(NEAREST);
          }
        }
        await stream.stop();
        const streamSec = (performance.now() - streamStart) / 1000;
        const countersAfter = await routeCounters(w, ctx.signal);
        const routed = requestsSince(countersBefore, countersAfter);
        const failovers = REGIONS.reduce(
          (n, r) => n + (countersAfter[r]?.failovers ?? 0) - (countersBefore[r]?.failovers ?? 0),
          0,
        );

        const failoverMs = drills.map((d) => d.failoverMs);
        const recoveryMs = drills.map((d) => d.recoveryMs);
        const failedTotal = drills.reduce((n, d) => n + d.failed, 0);
        const allFailed = stream.events.filter((e) => e.error !== undefined);
        const details: Details = {
          drills: drills.length,
          failoverMsEach: failoverMs.map((v) => v.toFixed(1)).join(' '),
          failoverMedianMs: round(median(failoverMs)) ?? '',
          failoverMaxMs: round(failoverMs.length ? Math.max(...failoverMs) : undefined) ?? '',
          failedGetsPerDrill: drills.map((d) => d.failed).join(' '),
          failGapMaxMs: round(drills.length ? Math.max(...drills.map((d) => d.gapMs)) : undefined) ?? '',
          recoveryMedianMs: round(median(recoveryMs), 0) ?? '',
          recoveryMaxMs: round(recoveryMs.length ? Math.max(...recoveryMs) : undefined, 0) ?? '',
          failedOverTo: [...new Set(drills.map((d) => d.servedBy))].join(', '),
          probeIntervalMs: PROBE_INTERVAL_MS,
          holdMs: HOLD_MS,
          streamGetsPerSec: round(stream.events.length / streamSec, 0) ?? 0,
          streamFailedGets: allFailed.length,
          routerRequestsByRegion: REGIONS.map((r) => `${r} ${routed[r]}`).join(', '),
          routerFailovers: failovers,
        };
        if (allFailed.length > 0) details.firstFailedGet = allFailed[0].error ?? '';
        return {
          status: failure === undefined && drills.length === DRILLS ? 'ok' : 'failed',
          error: failure,
          ops: drills.length,
          p50Ms: median(failoverMs),
          p99Ms: failoverMs.length ? percentile(Float64Array.from(failoverMs).sort(), 0.99) : undefined,
          maxMs: failoverMs.length ? Math.max(...failoverMs) : undefined,
          errors: failedTotal,
          note:
            `p50/p99: failover time over ${drills.length} drills, ${NEAREST} taken down (FaultStore.regionDown) → ` +
            `first GET served by another region, under ${STREAM_WORKERS} workers GETting through the MRAP; ` +
            `errors: GETs that failed during the drills; probe interval ${PROBE_INTERVAL_MS} ms`,
          details,
        };
      } finally {
        await stream?.stop();
        await faults.clear().catch(() => {});
        await faults.close().catch(() => {});
        await Promise.all(own.map((c) => c.destroy().catch(() => {})));
      }
    },
  };
}

export const mrapScenarios: readonly Scenario[] = [
  overheadScenario({
    name: 'mrap-get-4k',
    title: 'GET 4 KiB via MRAP',
    size: 4 * KiB,
    preload: 1024,
    // The issue: through the MRAP at least 60 % of the direct GET/s at 4 KiB.
    goals: [{ metric: 'ratio', min: 0.6 }],
  }),
  overheadScenario({
    name: 'mrap-get-1m',
    title: 'GET 1 MiB via MRAP',
    size: MiB,
    preload: 128,
    // The issue: at least 80 % of the direct MiB/s at 1 MiB (the ratio of GET/s, same size).
    goals: [{ metric: 'ratio', min: 0.8 }],
  }),
  failoverScenario(),
];
