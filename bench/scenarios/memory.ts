/**
 * Memory under large concurrent uploads: `count` simultaneous streamed PUTs of `size` bytes
 * each (32 × 100 MiB by default). A server that streams holds a few buffers per upload; one
 * that buffers bodies grows by gigabytes. Bodies are generated from one repeated random
 * buffer, so the load generator itself never holds an object in memory.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Readable } from 'node:stream';
import type { Scenario, ScenarioOutcome } from '../scenario.ts';

const MiB = 1024 * 1024;

export interface UploadMemoryOptions {
  name: string;
  title: string;
  count: number;
  size: number;
  /** A slow target is stopped here and reported as 'timeout' with what it did so far. */
  timeoutSec: number;
  maxPeakRssMb: number;
}

/** A stream of `total` bytes made of `chunk` repeated; counts what was handed to the socket. */
function repeatedBody(chunk: Buffer, total: number, onBytes: (n: number) => void): Readable {
  let sent = 0;
  return new Readable({
    highWaterMark: chunk.length,
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      onBytes(n);
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

export function uploadMemoryScenario(o: UploadMemoryOptions): Scenario {
  return {
    name: o.name,
    title: o.title,
    compare: 'peakRssMb',
    higherIsBetter: false,
    goals: [{ metric: 'peakRssMb', max: o.maxPeakRssMb }],
    // Bounded by the disk: ~150 MiB/s here for the baseline.
    estimateSec: () => Math.min(o.timeoutSec, (o.count * o.size) / (150 * MiB)) + 2,
    async run(ctx): Promise<ScenarioOutcome> {
      const bucket = `bench-${o.name}`;
      await ctx.createBucket(bucket);
      const client = ctx.client(o.count);
      const chunk = randomBytes(MiB);
      const abort = new AbortController();
      setMaxListeners(o.count + 10, abort.signal);
      const onAbort = (): void => abort.abort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, o.timeoutSec * 1000);

      let streamed = 0;
      let done = 0;
      const latencies: number[] = [];
      const errors: string[] = [];
      const start = performance.now();
      await Promise.all(
        Array.from({ length: o.count }, async (_, i) => {
          const t0 = performance.now();
          try {
            const body = repeatedBody(chunk, o.size, (n) => (streamed += n));
            await client.putObject(bucket, `big/${i}`, body, o.size, abort.signal);
            done++;
            latencies.push(performance.now() - t0);
          } catch (err) {
            if (!abort.signal.aborted) errors.push(err instanceof Error ? err.message : String(err));
          }
        }),
      );
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      const seconds = (performance.now() - start) / 1000;
      latencies.sort((a, b) => a - b);
      return {
        status: timedOut ? 'timeout' : done === o.count ? 'ok' : 'failed',
        error: timedOut ? `stopped after ${o.timeoutSec} s with ${done}/${o.count} uploads complete` : errors[0],
        ops: done,
        seconds,
        opsPerSec: done / seconds,
        // Bytes handed to the sockets; equals the uploaded total when every upload completed.
        mibPerSec: streamed / MiB / seconds,
        p50Ms: latencies.length ? latencies[Math.ceil(latencies.length / 2) - 1] : undefined,
        maxMs: latencies.length ? latencies[latencies.length - 1] : undefined,
        errors: errors.length,
        note: `${o.count} × ${o.size / MiB} MiB`,
      };
    },
  };
}

export const memoryScenarios: readonly Scenario[] = [
  uploadMemoryScenario({
    name: 'memory-upload',
    title: '32 × 100 MiB uploads',
    count: 32,
    size: 100 * MiB,
    timeoutSec: 90,
    maxPeakRssMb: 300,
  }),
];
