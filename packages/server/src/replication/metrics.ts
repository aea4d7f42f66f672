/**
 * Replication metrics per source bucket, rule and destination, as S3 publishes them
 * (spec A.8): operations and bytes pending, replication latency (now, p50, p99, max),
 * operations failed, and how many versions replicated within the RTC threshold.
 */
import type { OutboxEntry } from '../storage/types.ts';

/** S3 Replication Time Control promises 15 minutes. */
export const RTC_THRESHOLD_MS = 15 * 60 * 1000;

/** Latency samples kept per series for the percentiles. */
const SAMPLES = 4096;

export interface SeriesSnapshot {
  bucket: string;
  ruleId: string;
  destination: string;
  operationsPending: number;
  bytesPending: number;
  operationsCompleted: number;
  operationsFailed: number;
  /** milliseconds; `now` is how far the destination is behind: the age of the oldest pending operation */
  latencyMs: { now: number; p50?: number; p99?: number; max?: number };
  rtc: { thresholdMs: number; within: number; missed: number; share?: number };
}

class Series {
  /** filled in from the queue for one snapshot */
  pendingOps = 0;
  pendingBytes = 0;
  oldest: number | undefined;
  completed = 0;
  failed = 0;
  within = 0;
  missed = 0;
  max = 0;
  readonly #samples = new Float64Array(SAMPLES);
  #count = 0;

  sample(ms: number): void {
    this.#samples[this.#count % SAMPLES] = ms;
    this.#count++;
    if (ms > this.max) this.max = ms;
  }

  percentile(p: number): number | undefined {
    const n = Math.min(this.#count, SAMPLES);
    if (n === 0) return undefined;
    const sorted = this.#samples.slice(0, n).sort();
    return sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)];
  }
}

export class ReplicationMetrics {
  readonly #series = new Map<string, Series>();
  readonly #thresholdMs: number;
  readonly #now: () => number;

  constructor(opts: { rtcThresholdMs?: number; now?: () => number } = {}) {
    this.#thresholdMs = opts.rtcThresholdMs ?? RTC_THRESHOLD_MS;
    this.#now = opts.now ?? Date.now;
  }

  #of(e: Pick<OutboxEntry, 'bucket' | 'ruleId' | 'destination'>): Series {
    const id = `${e.bucket}\u0000${e.ruleId}\u0000${e.destination}`;
    let s = this.#series.get(id);
    if (!s) {
      s = new Series();
      this.#series.set(id, s);
    }
    return s;
  }

  /** An operation reached its destination (`ok`) or failed for good. */
  finished(e: OutboxEntry, ok: boolean): void {
    const s = this.#of(e);
    if (!ok) {
      s.failed++;
      return;
    }
    s.completed++;
    const latency = Math.max(0, this.#now() - e.enqueuedAt);
    s.sample(latency);
    // RTC covers new objects, not delete markers.
    if (e.operation === 'object') {
      if (latency <= this.#thresholdMs) s.within++;
      else s.missed++;
    }
  }

  /**
   * Every series, with what is pending taken from the queue itself (`pending`, all queued
   * operations), so the figures are right after a restart too.
   */
  snapshot(pending: Iterable<OutboxEntry>, filter: { bucket?: string } = {}): SeriesSnapshot[] {
    const now = this.#now();
    for (const e of pending) {
      const s = this.#of(e);
      s.pendingOps++;
      s.pendingBytes += e.size;
      s.oldest = Math.min(s.oldest ?? e.enqueuedAt, e.enqueuedAt);
    }
    const out: SeriesSnapshot[] = [];
    for (const [id, s] of this.#series) {
      const [bucket, ruleId, destination] = id.split('\u0000');
      const rtcTotal = s.within + s.missed;
      const snapshot: SeriesSnapshot = {
        bucket,
        ruleId,
        destination,
        operationsPending: s.pendingOps,
        bytesPending: s.pendingBytes,
        operationsCompleted: s.completed,
        operationsFailed: s.failed,
        latencyMs: {
          now: s.oldest === undefined ? 0 : Math.max(0, now - s.oldest),
          p50: s.percentile(50),
          p99: s.percentile(99),
          max: s.completed > 0 ? s.max : undefined,
        },
        rtc: {
          thresholdMs: this.#thresholdMs,
          within: s.within,
          missed: s.missed,
          share: rtcTotal > 0 ? s.within / rtcTotal : undefined,
        },
      };
      s.pendingOps = 0;
      s.pendingBytes = 0;
      s.oldest = undefined;
      if (filter.bucket === undefined || bucket === filter.bucket) out.push(snapshot);
    }
    const order = (x: SeriesSnapshot) => `${x.bucket}\u0000${x.ruleId}\u0000${x.destination}`;
    return out.sort((a, b) => (order(a) < order(b) ? -1 : 1));
  }
}
