/**
 * Closed-loop load: N workers, each issuing its next request as soon as the previous one
 * completes, first for a warm-up period (discarded), then for the measured period.
 */
import { setMaxListeners } from 'node:events';

/** One request; resolves with the number of payload bytes moved. */
export type Operation = (worker: number, signal: AbortSignal) => Promise<number>;

export interface LoadOptions {
  concurrency: number;
  warmupSec: number;
  durationSec: number;
  op: Operation;
  /** Aborts the whole run (Ctrl-C). */
  signal?: AbortSignal;
}

export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadResult {
  ops: number;
  bytes: number;
  seconds: number;
  opsPerSec: number;
  mibPerSec: number;
  errors: number;
  firstError?: string;
  latency?: LatencySummary;
}

/** Gives up on a phase once errors dominate: a broken target should not take the full time. */
const MAX_ERRORS = 200;

class Latencies {
  private values = new Float64Array(4096);
  private n = 0;
  add(ms: number): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = ms;
  }
  summary(): LatencySummary | undefined {
    if (this.n === 0) return undefined;
    const sorted = this.values.slice(0, this.n).sort();
    return {
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      maxMs: sorted[sorted.length - 1],
    };
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

async function phase(opts: LoadOptions, seconds: number, record: boolean): Promise<LoadResult> {
  const latencies = new Latencies();
  const stop = new AbortController();
  // Every in-flight request listens on it: one per worker is expected, not a leak.
  setMaxListeners(opts.concurrency + 10, stop.signal);
  const onAbort = (): void => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let ops = 0;
  let bytes = 0;
  let errors = 0;
  let firstError: string | undefined;

  const start = performance.now();
  const deadline = start + seconds * 1000;
  const worker = async (id: number): Promise<void> => {
    while (!stop.signal.aborted && performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const n = await opts.op(id, stop.signal);
        if (record) latencies.add(performance.now() - t0);
        ops++;
        bytes += n;
      } catch (err) {
        if (stop.signal.aborted) break;
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        if (errors >= MAX_ERRORS && errors > ops) stop.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => worker(i)));
  opts.signal?.removeEventListener('abort', onAbort);
  const elapsed = (performance.now() - start) / 1000;
  return {
    ops,
    bytes,
    seconds: elapsed,
    opsPerSec: ops / elapsed,
    mibPerSec: bytes / 1048576 / elapsed,
    errors,
    firstError,
    latency: latencies.summary(),
  };
}

export async function runClosedLoop(opts: LoadOptions): Promise<LoadResult> {
  if (opts.warmupSec > 0) {
    const warm = await phase(opts, opts.warmupSec, false);
    if (warm.ops === 0 && warm.errors > 0) return warm;
  }
  return phase(opts, opts.durationSec, true);
}

/** Runs `count` operations with at most `concurrency` in flight (setup work, unmeasured). */
export async function runCount(
  count: number,
  concurrency: number,
  op: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
}
