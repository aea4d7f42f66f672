/**
 * The multi-region client (`packages/client`) against the stock AWS SDK, in one 3-region
 * Meridian world (us-east-1, eu-west-1, ap-southeast-1): one bucket per region, `OBJECTS`
 * 1 KiB objects in each, then `GETS` GETs spread evenly over the three buckets (round-robin),
 * `--concurrency` at a time, from clients whose default region is us-east-1, so two-thirds of
 * the GETs are for buckets outside it. Passes, in order:
 *
 * 0. sharedStock (not timed): one `S3Client` on us-east-1's endpoint with
 *    `followRegionRedirects`, shared by every worker, as an application would write it. The
 *    SDK's redirect handling swaps the client's `config.region` while a resend is in flight, so
 *    concurrent requests get signed for another request's region; it shows how many fail.
 * 1. stock: the same client, one per worker (one request in flight each, so the race cannot
 *    happen), all on one counting handler. It caches nothing between calls, so every
 *    wrong-region GET costs a 301 and a resend signed for the bucket's region to the same
 *    endpoint, which Meridian passes through to the owning region
 *    (packages/server/src/s3/forward.ts): two requests from the client, every time.
 * 2. cold: a new `MultiRegionS3Client` with `endpoints` for all three regions and an empty
 *    bucket-region cache: the first GETs to each outside bucket follow the redirect (several
 *    at once, since `--concurrency` of them start before the first answer is cached).
 * 3. warm: the same client again; every GET should go straight to its bucket's region.
 * 4. direct: a plain `S3Client` per region, each GET handed to its bucket's region by hand:
 *    the floor the multi-region client's routing costs are measured against.
 *
 * HTTP requests are counted where they leave the client: a `NodeHttpHandler` that counts its
 * `handle` calls, passed as `requestHandler`. `MultiRegionS3Client` builds its per-region
 * clients (and its HeadBucket probe) from the same config, so they all share it. Every GET's
 * bytes are compared with what was written; a failed or wrong GET in passes 1-4 fails the
 * scenario. Before the passes, throwaway stock and multi-region clients read for `--warmup` s,
 * so the first measured pass does not pay for the JIT alone.
 *
 * Figures: ops = HTTP requests the warm client sent (the goal is exactly `GETS`); seconds,
 * ops/s, p50/p99 = the warm client's wall time, GETs/s and GET latency; errors = failed or
 * wrong GETs in passes 1-4; ratio = warm GETs/s ÷ stock GETs/s. The rest are details.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { MultiRegionS3Client } from '../../packages/client/src/index.ts';
import type { DetailedOutcome, Details } from '../details.ts';
import { type LatencySummary, percentile, runCount } from '../load.ts';
import type { Scenario, ScenarioContext } from '../scenario.ts';
import { sdkClient } from '../sdk.ts';

const KiB = 1024;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'] as const;
const DEFAULT_REGION = REGIONS[0];
const OBJECTS = 100;
const OBJECT_SIZE = KiB;
const GETS = 10_000;
/** A pass gives up once this many GETs failed: a broken set-up should not take the full count. */
const MAX_ERRORS = 200;

/**
 * A `NodeHttpHandler` that counts what it sends: requests per endpoint (host:port) and
 * answers per status code. Counting at the handler sees every request the SDK sends, resends
 * and probes included, and nothing the server does behind it.
 */
class CountingHandler extends NodeHttpHandler {
  requests = 0;
  readonly byHost = new Map<string, number>();
  readonly byStatus = new Map<number, number>();

  override async handle(...args: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
    const [request] = args;
    this.requests++;
    const host = `${request.hostname}:${request.port ?? ''}`;
    this.byHost.set(host, (this.byHost.get(host) ?? 0) + 1);
    const out = await super.handle(...args);
    const status = out.response.statusCode;
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    return out;
  }

  snapshot(): Counts {
    return { requests: this.requests, byHost: new Map(this.byHost), byStatus: new Map(this.byStatus) };
  }
}

interface Counts {
  requests: number;
  byHost: Map<string, number>;
  byStatus: Map<number, number>;
}

function minus(
  after: Map<string | number, number>,
  before: Map<string | number, number>,
): Map<string | number, number> {
  const out = new Map<string | number, number>();
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out.set(k, v - (before.get(k) ?? 0));
  return out;
}

/** One bucket per region and the bytes of every object in it. */
interface Fixture {
  buckets: Array<{ region: string; name: string; objects: Buffer[] }>;
}

interface PassResult {
  gets: number;
  errors: number;
  firstError?: string;
  seconds: number;
  getsPerSec: number;
  latency?: LatencySummary;
  requests: number;
  /** requests per region, by the endpoint they were sent to */
  byRegion: Map<string, number>;
  byStatus: Map<number, number>;
}

function keyOf(i: number): string {
  return `obj/${i.toString().padStart(4, '0')}`;
}

function message(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function hostOf(endpoint: string): string {
  const url = new URL(endpoint);
  return `${url.hostname}:${url.port}`;
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

async function createFixture(ctx: ScenarioContext, name: string): Promise<Fixture> {
  const buckets: Fixture['buckets'] = [];
  for (const region of REGIONS) {
    const { s3, destroy } = sdkClient({
      endpoint: endpointOf(ctx, region),
      credentials: ctx.target.spec.credentials,
      connections: ctx.concurrency,
      region,
    });
    try {
      const bucket = `${name}-${region}`;
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          CreateBucketConfiguration:
            region === 'us-east-1' ? undefined : { LocationConstraint: region as BucketLocationConstraint },
        }),
        { abortSignal: ctx.signal },
      );
      const objects = Array.from({ length: OBJECTS }, () => randomBytes(OBJECT_SIZE));
      await runCount(OBJECTS, ctx.concurrency, (i) =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(i), Body: objects[i] }), { abortSignal: ctx.signal }),
      );
      buckets.push({ region, name: bucket, objects });
    } finally {
      destroy();
    }
  }
  return { buckets };
}

/** What every client in the comparison shares: same credentials, no retries, no checksums, keep-alive. */
function baseConfig(ctx: ScenarioContext, handler: CountingHandler) {
  return {
    forcePathStyle: true,
    credentials: ctx.target.spec.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A failed request is a finding, and a retry would be a request the counts do not explain.
    maxAttempts: 1,
    requestHandler: handler,
  } as const;
}

function countingHandler(connections: number): CountingHandler {
  return new CountingHandler({
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: connections }),
    connectionTimeout: 10_000,
  });
}

/** A plain S3Client for one region's endpoint, signing for that region: no redirects. */
function regionClient(
  ctx: ScenarioContext,
  handler: CountingHandler,
  region: string,
  followRegionRedirects = false,
): S3Client {
  return new S3Client({
    ...baseConfig(ctx, handler),
    region,
    endpoint: endpointOf(ctx, region),
    followRegionRedirects,
  });
}

/** The stock SDK's way: us-east-1's endpoint, `followRegionRedirects` on. */
function stockClient(ctx: ScenarioContext, handler: CountingHandler): S3Client {
  return regionClient(ctx, handler, DEFAULT_REGION, true);
}

/**
 * One stock client per worker, all on one counting handler (so one connection pool, as with
 * a single client). The SDK's `followRegionRedirects` swaps the shared `config.region` for as
 * long as a resend is in flight, so a client shared by concurrent requests signs some of them
 * for another request's region (AuthorizationHeaderMalformed, which it does not follow).
 * Per-worker clients each have one request in flight and pay exactly what the SDK's design
 * costs: a 301 and a resend for every wrong-region GET.
 */
function stockPerWorker(ctx: ScenarioContext, handler: CountingHandler): S3Client[] {
  return Array.from({ length: ctx.concurrency }, () => stockClient(ctx, handler));
}

function multiRegionClient(
  ctx: ScenarioContext,
  handler: CountingHandler,
  onRedirect?: () => void,
): MultiRegionS3Client {
  return new MultiRegionS3Client({
    ...baseConfig(ctx, handler),
    region: DEFAULT_REGION,
    endpoints: Object.fromEntries(REGIONS.map((r) => [r, endpointOf(ctx, r)])),
    onRedirect,
  });
}

/** Runs `body` with `clients`, then destroys them (and with them the handler's sockets). */
async function withClients<T>(clients: readonly S3Client[], body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } finally {
    for (const c of clients) c.destroy();
  }
}

/** The client worker `w` sends a GET for a bucket in `region` with. */
type ClientPicker = (w: number, region: string) => S3Client;

interface PassOptions {
  count: number;
  /** performance.now() after which no more GETs start (the warm-up) */
  untilMs?: number;
  /** Failed GETs after which no more start. */
  maxErrors?: number;
}

/**
 * `count` GETs (fewer when `untilMs` passes or `maxErrors` GETs failed first), `--concurrency`
 * at a time, the i-th for bucket i mod 3, each checked byte for byte.
 */
async function getPass(
  ctx: ScenarioContext,
  clientFor: ClientPicker,
  handler: CountingHandler,
  fixture: Fixture,
  { count, untilMs = Infinity, maxErrors = MAX_ERRORS }: PassOptions,
): Promise<PassResult> {
  const regionOfHost = new Map(REGIONS.map((r) => [hostOf(endpointOf(ctx, r)), r]));
  const before = handler.snapshot();
  const latencies = new Float64Array(count);
  let next = 0;
  let gets = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const worker = async (w: number): Promise<void> => {
    while (next < count && errors < maxErrors && !ctx.signal.aborted && performance.now() < untilMs) {
      const i = next++;
      const bucket = fixture.buckets[i % fixture.buckets.length];
      const k = Math.floor(i / fixture.buckets.length) % OBJECTS;
      const t0 = performance.now();
      try {
        const get = new GetObjectCommand({ Bucket: bucket.name, Key: keyOf(k) });
        const out = await clientFor(w, bucket.region).send(get, { abortSignal: ctx.signal });
        const bytes = await out.Body?.transformToByteArray();
        const expected = bucket.objects[k];
        if (!bytes || !Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(expected)) {
          throw new Error(`GET ${bucket.name}/${keyOf(k)}: ${bytes?.byteLength ?? 0} bytes, not the ones written`);
        }
        latencies[gets++] = performance.now() - t0;
      } catch (err) {
        if (ctx.signal.aborted) return;
        errors++;
        firstError ??= message(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.concurrency, count) }, (_, w) => worker(w)));
  const seconds = (performance.now() - start) / 1000;
  const after = handler.snapshot();
  const byRegion = new Map<string, number>();
  for (const [host, n] of minus(after.byHost, before.byHost)) {
    const region = regionOfHost.get(host as string) ?? String(host);
    byRegion.set(region, (byRegion.get(region) ?? 0) + n);
  }
  const sorted = latencies.slice(0, gets).sort();
  return {
    gets,
    errors,
    firstError,
    seconds,
    getsPerSec: gets / seconds,
    latency:
      gets === 0
        ? undefined
        : { p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted[sorted.length - 1] },
    requests: after.requests - before.requests,
    byRegion,
    byStatus: minus(after.byStatus, before.byStatus) as Map<number, number>,
  };
}

function round(v: number | undefined, digits = 1): number | string {
  if (v === undefined || !Number.isFinite(v)) return '';
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** A ratio as text, so that the notes keep its two decimals. */
function times(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '' : `${v.toFixed(2)}×`;
}

function counts(m: Map<string | number, number>): string {
  return [...m].map(([k, v]) => `${k} ${v}`).join(', ');
}

function passDetails(label: string, p: PassResult, expected = GETS): Details {
  const d: Details = {
    [`${label}.requests`]: p.requests,
    [`${label}.seconds`]: round(p.seconds, 2),
    [`${label}.getsPerSec`]: round(p.getsPerSec, 0),
    [`${label}.p50Ms`]: round(p.latency?.p50Ms, 2),
    [`${label}.p99Ms`]: round(p.latency?.p99Ms, 2),
    [`${label}.requestsByRegion`]: counts(p.byRegion),
    [`${label}.responses`]: counts(p.byStatus),
  };
  if (p.gets !== expected) d[`${label}.getsDone`] = p.gets;
  if (p.errors > 0) {
    d[`${label}.errors`] = p.errors;
    d[`${label}.firstError`] = p.firstError ?? '';
  }
  return d;
}

/** GETs the shared stock client is given to show its failures (reported, not timed). */
const SHARED_STOCK_GETS = 1000;

export const clientScenarios: readonly Scenario[] = [
  {
    name: 'client-regions',
    title: `Client ${GETS / 1000}k GETs ×3 regions`,
    compare: 'opsPerSec',
    higherIsBetter: true,
    goals: [
      // The benchmark: with a warm cache, exactly one request per GET …
      { metric: 'ops', min: GETS, max: GETS },
      // … and at least 1.9× the GETs/s of the stock client with followRegionRedirects.
      { metric: 'ratio', min: 1.9 },
    ],
    targets: ['meridian'],
    regions: REGIONS,
    estimateSec: ({ warmupSec }) => warmupSec + 90,
    async run(ctx): Promise<DetailedOutcome> {
      const fixture = await createFixture(ctx, 'client-regions');
      ctx.log(`${REGIONS.length} buckets × ${OBJECTS} × ${OBJECT_SIZE / KiB} KiB written`);

      // Warm-up: throwaway clients of both kinds, so that the first measured pass does not pay
      // for the JIT alone.
      if (ctx.warmupSec > 0) {
        const until = () => ({ count: GETS, untilMs: performance.now() + (ctx.warmupSec * 1000) / 2 });
        const h1 = countingHandler(ctx.concurrency);
        const stocks = stockPerWorker(ctx, h1);
        await withClients(stocks, () => getPass(ctx, (w) => stocks[w], h1, fixture, until()));
        const h2 = countingHandler(ctx.concurrency);
        const multi = multiRegionClient(ctx, h2);
        await withClients([multi], () => getPass(ctx, () => multi, h2, fixture, until()));
      }

      // 0. One stock client shared by every worker: what an application would write. Not timed.
      const sharedHandler = countingHandler(ctx.concurrency);
      const shared = stockClient(ctx, sharedHandler);
      ctx.log(`stock S3Client shared by ${ctx.concurrency} workers: ${SHARED_STOCK_GETS} GETs (failures expected)`);
      const sharedPass = await withClients([shared], () =>
        getPass(ctx, () => shared, sharedHandler, fixture, { count: SHARED_STOCK_GETS, maxErrors: Infinity }),
      );

      // 1. Stock, one client per worker.
      const stockHandler = countingHandler(ctx.concurrency);
      const stocks = stockPerWorker(ctx, stockHandler);
      ctx.log(`stock S3Client (followRegionRedirects), one per worker: ${GETS} GETs, ${ctx.concurrency} at a time`);
      const stock = await withClients(stocks, () =>
        getPass(ctx, (w) => stocks[w], stockHandler, fixture, { count: GETS }),
      );

      // 2, 3. The multi-region client, cold, then warm.
      const multiHandler = countingHandler(ctx.concurrency);
      let redirects = 0;
      const multi = multiRegionClient(ctx, multiHandler, () => redirects++);
      const { cold, coldRedirects, warm, warmRedirects } = await withClients([multi], async () => {
        ctx.log(`MultiRegionS3Client, cold cache: ${GETS} GETs`);
        const cold = await getPass(ctx, () => multi, multiHandler, fixture, { count: GETS });
        const coldRedirects = redirects;
        ctx.log(`MultiRegionS3Client, warm cache: ${GETS} GETs`);
        const warm = await getPass(ctx, () => multi, multiHandler, fixture, { count: GETS });
        return { cold, coldRedirects, warm, warmRedirects: redirects - coldRedirects };
      });

      // 4. The floor: a plain S3Client per region, each GET sent to its bucket's region by hand.
      const directHandler = countingHandler(ctx.concurrency);
      const direct = new Map(REGIONS.map((r) => [r as string, regionClient(ctx, directHandler, r)]));
      ctx.log(`one S3Client per region, no routing: ${GETS} GETs`);
      const directPass = await withClients([...direct.values()], () =>
        getPass(ctx, (_w, region) => direct.get(region) as S3Client, directHandler, fixture, { count: GETS }),
      );

      const passes = { stock, cold, warm, direct: directPass };
      const errors = Object.values(passes).reduce((n, p) => n + p.errors, 0);
      const complete = Object.values(passes).every((p) => p.gets + p.errors === GETS);
      const firstError = Object.entries(passes)
        .filter(([, p]) => p.errors > 0)
        .map(([label, p]) => `${label}: ${p.firstError}`)
        .join('; ');
      const ratio = (a: PassResult, b: PassResult) =>
        a.gets > 0 && b.gets > 0 ? a.getsPerSec / b.getsPerSec : undefined;
      const details: Details = {
        'sharedStock.gets': `${sharedPass.gets} of ${SHARED_STOCK_GETS} right`,
        'sharedStock.requests': sharedPass.requests,
        'sharedStock.responses': counts(sharedPass.byStatus),
        ...(sharedPass.firstError ? { 'sharedStock.firstError': sharedPass.firstError } : {}),
        ...passDetails('stock', stock),
        ...passDetails('cold', cold),
        'cold.redirects': coldRedirects,
        ...passDetails('warm', warm),
        'warm.redirects': warmRedirects,
        ...passDetails('direct', directPass),
        warmVsStock: times(ratio(warm, stock)),
        coldVsStock: times(ratio(cold, stock)),
        warmVsCold: times(ratio(warm, cold)),
        warmVsDirect: times(ratio(warm, directPass)),
        stockRequestsPerGet: round(stock.requests / Math.max(1, stock.gets), 3),
        warmRequestsPerGet: round(warm.requests / Math.max(1, warm.gets), 3),
      };
      // A failed or wrong GET in a measured pass makes the figures meaningless: fail clearly.
      const ok = complete && errors === 0 && !ctx.signal.aborted;
      return {
        status: ok ? 'ok' : 'failed',
        error: ok ? undefined : firstError || 'a pass stopped before all its GETs were sent',
        ops: warm.requests,
        seconds: warm.seconds,
        opsPerSec: warm.getsPerSec,
        mibPerSec: (warm.gets * OBJECT_SIZE) / (1024 * KiB) / warm.seconds,
        p50Ms: warm.latency?.p50Ms,
        p99Ms: warm.latency?.p99Ms,
        maxMs: warm.latency?.maxMs,
        errors,
        ratio: ratio(warm, stock),
        note:
          `${GETS} GETs of 1 KiB round-robin over buckets in ${REGIONS.join(', ')}, ${ctx.concurrency} at a time, ` +
          `default region ${DEFAULT_REGION}; ops/s, p50/p99: the warm MultiRegionS3Client; ops: HTTP requests it sent; ` +
          `ratio: its GETs/s ÷ the stock S3Client's (followRegionRedirects, one client per worker); ` +
          `sharedStock: one stock client shared by all workers (not timed); direct: one plain S3Client per region`,
        details,
      };
    },
  },
];
