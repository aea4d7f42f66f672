/**
 * Listing a large bucket: `keys` zero-byte objects named `dir-<i % 100>/obj-<i>`, written
 * before the clock starts (64 PUTs in flight), then, through the real `@aws-sdk/client-s3`:
 *
 * - full paginated listings (MaxKeys 1000) for `--duration` seconds, at least one: keys/s is
 *   the scenario's figure, page latency its p50/p99;
 * - one full listing with the other API (ListObjects V1 with Marker), so that a target that
 *   can only page with V1 can still be compared on the same API;
 * - the bucket root with Delimiter '/': 100k keys collapse into 100 common prefixes, cheap for
 *   a server that skips past each prefix, a full scan for one that does not;
 * - each `dir-<n>/` with Delimiter '/', for up to half of `--duration`.
 *
 * Every listing is checked: key count, strictly ascending order, the common prefixes.
 *
 * Memory: the target's RSS is sampled over the timed full listings alone and reported as the
 * scenario's peak RSS. VmRSS includes file-backed pages of a memory-mapped index; RssAnon (heap)
 * is what would grow with the bucket if a server loaded it to list it. To tell that apart from
 * garbage-collector slack, the same timed listings also run when the bucket holds `checkpoint`
 * keys (10× fewer): anonymous growth that does not scale with the bucket is not the bucket.
 *
 * A target too slow to write the bucket in reasonable time can get a smaller one (`keysFor`),
 * and population stops at `populateBudgetSec` in any case; the listing then covers what was
 * written, and the note says so.
 */
import {
  ListObjectsCommand,
  type ListObjectsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { DetailedOutcome, Details } from '../details.ts';
import { percentile } from '../load.ts';
import { RssWindow, type RssWindowResult } from '../rss-window.ts';
import type { Goal, Scenario, ScenarioContext } from '../scenario.ts';
import { sdkClient } from '../sdk.ts';
import type { TargetName } from '../target.ts';

export type ListApi = 'v2' | 'v1';

export interface ListingScenarioOptions {
  name: string;
  title: string;
  keys: number;
  /** Smaller buckets for targets that cannot write `keys` objects in reasonable time. */
  keysFor?: Partial<Record<TargetName, number>>;
  /** Targets timed with ListObjects V1 instead of V2, and why (goes into the note). */
  v1For?: Partial<Record<TargetName, string>>;
  /** The timed listings also run when the bucket holds this many keys. */
  checkpoint?: number;
  /** PUTs in flight while populating. */
  populateConcurrency: number;
  populateBudgetSec: number;
  pageSize: number;
  targets: readonly TargetName[];
  goals: readonly Goal[];
}

const DIRS = 100;
const EMPTY = Buffer.alloc(0);

const keyOf = (i: number): string => `dir-${i % DIRS}/obj-${i}`;

const count = (n: number): string => n.toLocaleString('en-US');

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return `${status ? `${status} ` : ''}${err.name}: ${err.message}`;
  }
  return String(err);
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

interface Populated {
  written: number;
  seconds: number;
  stoppedByBudget: boolean;
}

/**
 * Writes keys [from, to) with `concurrency` PUTs in flight; stops taking new keys at the
 * deadline. Keys are handed out in order, so what was written is always [0, written).
 */
async function populate(
  ctx: ScenarioContext,
  bucket: string,
  from: number,
  to: number,
  concurrency: number,
  deadline: number,
): Promise<Populated> {
  const client = ctx.client(concurrency);
  const start = performance.now();
  let next = from;
  let written = from;
  let stoppedByBudget = false;
  const worker = async (): Promise<void> => {
    while (next < to && !ctx.signal.aborted) {
      if (performance.now() >= deadline) {
        stoppedByBudget = true;
        return;
      }
      const i = next++;
      await client.putObject(bucket, keyOf(i), EMPTY, 0, ctx.signal);
      written++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, to - from) }, () => worker()));
  return { written, seconds: (performance.now() - start) / 1000, stoppedByBudget };
}

/** One page, whichever API produced it; `next` resumes after it. */
interface Page {
  keys: string[];
  prefixes: string[];
  next?: string;
}

type Lister = (prefix: string, delimiter: string, next: string | undefined) => Promise<Page>;

function lister(s3: S3Client, bucket: string, api: ListApi, pageSize: number, signal: AbortSignal): Lister {
  const keysOf = (out: ListObjectsV2CommandOutput | ListObjectsCommandOutput): string[] =>
    (out.Contents ?? []).map((c) => c.Key ?? '');
  const prefixesOf = (out: ListObjectsV2CommandOutput | ListObjectsCommandOutput): string[] =>
    (out.CommonPrefixes ?? []).map((p) => p.Prefix ?? '');
  if (api === 'v2') {
    return async (prefix, delimiter, next) => {
      const out = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          MaxKeys: pageSize,
          Prefix: prefix || undefined,
          Delimiter: delimiter || undefined,
          ContinuationToken: next,
        }),
        { abortSignal: signal },
      );
      if (out.IsTruncated && !out.NextContinuationToken) throw new Error('IsTruncated without NextContinuationToken');
      return {
        keys: keysOf(out),
        prefixes: prefixesOf(out),
        next: out.IsTruncated ? out.NextContinuationToken : undefined,
      };
    };
  }
  return async (prefix, delimiter, next) => {
    const out = await s3.send(
      new ListObjectsCommand({
        Bucket: bucket,
        MaxKeys: pageSize,
        Prefix: prefix || undefined,
        Delimiter: delimiter || undefined,
        Marker: next,
      }),
      { abortSignal: signal },
    );
    const keys = keysOf(out);
    const prefixes = prefixesOf(out);
    // V1 gives NextMarker only with a delimiter; otherwise the last key is the marker.
    const last = [keys[keys.length - 1] ?? '', prefixes[prefixes.length - 1] ?? ''].sort()[1];
    const marker = out.NextMarker ?? (last || undefined);
    if (out.IsTruncated && !marker) throw new Error('IsTruncated without a marker');
    return { keys, prefixes, next: out.IsTruncated ? marker : undefined };
  };
}

interface Listing {
  keys: number;
  prefixes: string[];
}

/** One paginated listing, checked for order; page latencies go to `pageMs`. */
async function listAll(list: Lister, prefix: string, delimiter: string, pageMs: number[]): Promise<Listing> {
  let next: string | undefined;
  let keys = 0;
  let last = '';
  const prefixes: string[] = [];
  do {
    const t0 = performance.now();
    const page = await list(prefix, delimiter, next);
    pageMs.push(performance.now() - t0);
    for (const key of page.keys) {
      if (key <= last) throw new Error(`listing out of order: '${key}' after '${last}'`);
      last = key;
      keys++;
    }
    prefixes.push(...page.prefixes);
    next = page.next;
  } while (next !== undefined);
  return { keys, prefixes };
}

interface TimedListings {
  keys: number;
  listings: number;
  seconds: number;
  keysPerSec: number;
  pageMs: number[];
  clientCpuPct: number;
  memory?: RssWindowResult;
}

/**
 * Full listings until `durationSec` has passed (at least one), each checked for its count,
 * with the target's memory sampled throughout.
 */
async function timeFullListings(
  ctx: ScenarioContext,
  list: Lister,
  expected: number,
  durationSec: number,
): Promise<TimedListings> {
  const pageMs: number[] = [];
  const rss = new RssWindow(ctx.target.pid);
  await rss.start();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let keys = 0;
  let listings = 0;
  let memory: RssWindowResult | undefined;
  try {
    do {
      const l = await listAll(list, '', '', pageMs);
      if (l.keys !== expected) throw new Error(`full listing returned ${l.keys} keys, expected ${expected}`);
      keys += l.keys;
      listings++;
    } while (!ctx.signal.aborted && performance.now() - start < durationSec * 1000);
  } finally {
    memory = await rss.stop();
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    keys,
    listings,
    seconds,
    keysPerSec: keys / seconds,
    pageMs,
    clientCpuPct: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
    memory,
  };
}

/** The root with a delimiter: every key sits under one of DIRS prefixes. Returns p50 ms. */
async function timeRootDelimiter(
  ctx: ScenarioContext,
  list: Lister,
  written: number,
): Promise<{ p50Ms: number; n: number }> {
  const ms: number[] = [];
  const start = performance.now();
  do {
    const t0 = performance.now();
    const l = await listAll(list, '', '/', []);
    ms.push(performance.now() - t0);
    const expected = Math.min(DIRS, written);
    if (l.keys !== 0 || l.prefixes.length !== expected) {
      throw new Error(
        `delimiter listing: ${l.keys} keys and ${l.prefixes.length} prefixes, expected 0 and ${expected}`,
      );
    }
  } while (!ctx.signal.aborted && (ms.length < 3 || performance.now() - start < 2000) && ms.length < 50);
  return { p50Ms: percentile(Float64Array.from(ms).sort(), 0.5), n: ms.length };
}

/** Each `dir-<n>/` with a delimiter: written / DIRS keys, no prefixes. Returns keys/s. */
async function timeDirectories(
  ctx: ScenarioContext,
  list: Lister,
  written: number,
  budgetSec: number,
): Promise<{ keysPerSec: number; n: number }> {
  const start = performance.now();
  let keys = 0;
  let dirs = 0;
  do {
    const d = dirs;
    const l = await listAll(list, `dir-${d}/`, '/', []);
    const expected = Math.floor(written / DIRS) + (d < written % DIRS ? 1 : 0);
    if (l.keys !== expected || l.prefixes.length !== 0) {
      throw new Error(
        `listing dir-${d}/: ${l.keys} keys and ${l.prefixes.length} prefixes, expected ${expected} and 0`,
      );
    }
    keys += l.keys;
    dirs++;
  } while (!ctx.signal.aborted && performance.now() - start < budgetSec * 1000 && dirs < DIRS);
  return { keysPerSec: keys / ((performance.now() - start) / 1000), n: dirs };
}

export function listingScenario(o: ListingScenarioOptions): Scenario {
  return {
    name: o.name,
    title: o.title,
    compare: 'opsPerSec',
    higherIsBetter: true,
    goals: o.goals,
    targets: o.targets,
    // Population dominates: 2,000-4,000 empty PUTs/s here; a slow target lists for longer.
    estimateSec: ({ durationSec }) => Math.min(o.populateBudgetSec, o.keys / 2000) + durationSec * 3 + 10,
    async run(ctx): Promise<DetailedOutcome> {
      const name = ctx.target.spec.name;
      const requested = o.keysFor?.[name] ?? o.keys;
      const v1Reason = o.v1For?.[name];
      const api: ListApi = v1Reason === undefined ? 'v2' : 'v1';
      const bucket = `bench-${o.name}`;
      await ctx.createBucket(bucket);
      const sdk = sdkClient({
        endpoint: ctx.target.endpoint,
        credentials: ctx.target.spec.credentials,
        connections: 4,
      });
      const list = lister(sdk.s3, bucket, api, o.pageSize, ctx.signal);
      const details: Details = { api: api === 'v2' ? 'ListObjectsV2' : 'ListObjects (V1)' };
      const notes: string[] = [];
      if (v1Reason !== undefined)
        notes.push(`timed with ListObjects V1 (compare other targets' v1KeysPerSec): ${v1Reason}`);
      if (requested < o.keys) notes.push(`${name} holds ${count(requested)} keys, not ${count(o.keys)}`);
      const note = (): string | undefined => notes.join('; ') || undefined;
      const anonGrowth = (m: RssWindowResult | undefined): number | undefined =>
        m && round(m.peakAnonMb - m.startAnonMb);

      try {
        const deadline = performance.now() + o.populateBudgetSec * 1000;
        let written = 0;
        let populateSec = 0;
        let stoppedByBudget = false;
        const grow = async (to: number): Promise<void> => {
          const p = await populate(ctx, bucket, written, to, o.populateConcurrency, deadline);
          written = p.written;
          populateSec += p.seconds;
          stoppedByBudget ||= p.stoppedByBudget;
          if (ctx.signal.aborted) throw new Error('interrupted while populating');
        };

        if (o.checkpoint !== undefined && o.checkpoint < requested) {
          await grow(o.checkpoint);
          if (written === o.checkpoint) {
            const at = await timeFullListings(ctx, list, written, ctx.durationSec);
            details[`keysPerSecAt${o.checkpoint}`] = Math.round(at.keysPerSec);
            const growth = anonGrowth(at.memory);
            if (growth !== undefined) details[`anonGrowthAt${o.checkpoint}Mb`] = growth;
            ctx.log(`${count(written)} keys: ${at.keysPerSec.toFixed(0)} keys/s, heap +${growth ?? '?'} MB`);
          }
        }
        await grow(requested);
        details.keys = written;
        details.populateSec = round(populateSec);
        details.populatePutsPerSec = Math.round(written / populateSec);
        if (stoppedByBudget) {
          notes.push(`population stopped by its ${o.populateBudgetSec} s budget at ${count(written)} keys`);
        }
        ctx.log(
          `${count(written)} keys written in ${populateSec.toFixed(0)} s (${(written / populateSec).toFixed(0)} PUT/s)`,
        );

        const full = await timeFullListings(ctx, list, written, ctx.durationSec);
        details.fullListings = full.listings;
        details.clientCpuPct = Math.round(full.clientCpuPct);
        if (full.memory) {
          details.rssBeforeMb = full.memory.startRssMb;
          details.anonBeforeMb = full.memory.startAnonMb;
          details.anonPeakMb = full.memory.peakAnonMb;
          details.anonGrowthMb = round(full.memory.peakAnonMb - full.memory.startAnonMb);
        }
        if (o.checkpoint !== undefined && written === o.checkpoint) {
          details[`keysPerSecAt${o.checkpoint}`] = Math.round(full.keysPerSec);
        }
        ctx.log(
          `${count(written)} keys: ${full.keysPerSec.toFixed(0)} keys/s, heap +${details.anonGrowthMb ?? '?'} MB`,
        );

        if (api === 'v2') {
          const v1 = await timeFullListings(ctx, lister(sdk.s3, bucket, 'v1', o.pageSize, ctx.signal), written, 0);
          details.v1KeysPerSec = Math.round(v1.keysPerSec);
        } else {
          details.v1KeysPerSec = Math.round(full.keysPerSec);
        }
        const root = await timeRootDelimiter(ctx, list, written);
        details.delimiterRootP50Ms = round(root.p50Ms);
        const dirs = await timeDirectories(ctx, list, written, ctx.durationSec / 2);
        details.delimiterDirs = dirs.n;
        details.delimiterDirKeysPerSec = Math.round(dirs.keysPerSec);

        const sorted = Float64Array.from(full.pageMs).sort();
        return {
          status: 'ok',
          ops: full.keys,
          seconds: full.seconds,
          opsPerSec: full.keysPerSec,
          p50Ms: percentile(sorted, 0.5),
          p99Ms: percentile(sorted, 0.99),
          maxMs: sorted[sorted.length - 1],
          peakRssMb: full.memory?.peakRssMb,
          errors: 0,
          note: note(),
          details,
        };
      } catch (err) {
        return { status: 'failed', error: errorText(err), note: note(), details };
      } finally {
        sdk.destroy();
      }
    },
  };
}

export const listingScenarios: readonly Scenario[] = [
  listingScenario({
    name: 'list-100k',
    title: 'List 100k keys (ops/s = keys/s)',
    keys: 100_000,
    v1For: {
      s3rver:
        "s3rver's V2 continuation tokens use DES, which Node 20's OpenSSL 3 refuses (500 InternalError on every truncated page)",
    },
    checkpoint: 10_000,
    populateConcurrency: 64,
    populateBudgetSec: 120,
    pageSize: 1000,
    // The baseline cannot list.
    targets: ['s3rver', 'meridian'],
    goals: [{ metric: 'opsPerSec', against: 's3rver', atLeast: 1 }],
  }),
];
