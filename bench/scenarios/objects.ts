/**
 * Single-object PUT and GET throughput: `concurrency` workers (16 by default) over keep-alive
 * connections, random keys, fixed-size bodies.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { runClosedLoop, runCount } from '../load.ts';
import type { Goal, Scenario, ScenarioOutcome } from '../scenario.ts';

export interface ObjectScenarioOptions {
  name: string;
  title: string;
  method: 'PUT' | 'GET';
  size: number;
  /** GET only: objects written before measuring, read in random order. */
  preload?: number;
  goals: readonly Goal[];
}

export function objectScenario(o: ObjectScenarioOptions): Scenario {
  const preload = o.preload ?? 256;
  return {
    name: o.name,
    title: o.title,
    compare: 'opsPerSec',
    higherIsBetter: true,
    goals: o.goals,
    estimateSec: ({ durationSec, warmupSec }) => durationSec + warmupSec + (o.method === 'GET' ? 2 : 0),
    async run(ctx): Promise<ScenarioOutcome> {
      const bucket = `bench-${o.name}`;
      await ctx.createBucket(bucket);
      const client = ctx.client(ctx.concurrency);
      const body = randomBytes(o.size);

      let op: (worker: number, signal: AbortSignal) => Promise<number>;
      if (o.method === 'PUT') {
        op = async (_worker, signal) => {
          await client.putObject(bucket, `obj/${randomUUID()}`, body, body.length, signal);
          return body.length;
        };
      } else {
        const keys = Array.from({ length: preload }, (_, i) => `obj/${i.toString().padStart(6, '0')}`);
        await runCount(keys.length, ctx.concurrency, (i) =>
          client.putObject(bucket, keys[i], body, body.length, ctx.signal),
        );
        op = async (_worker, signal) => {
          const key = keys[Math.floor(Math.random() * keys.length)];
          const n = await client.getObject(bucket, key, signal);
          if (n !== body.length) throw new Error(`GET ${key}: ${n} bytes, expected ${body.length}`);
          return n;
        };
      }

      const r = await runClosedLoop({
        concurrency: ctx.concurrency,
        warmupSec: ctx.warmupSec,
        durationSec: ctx.durationSec,
        op,
        signal: ctx.signal,
      });
      return {
        status: r.ops > 0 ? 'ok' : 'failed',
        error: r.firstError,
        ops: r.ops,
        seconds: r.seconds,
        opsPerSec: r.opsPerSec,
        mibPerSec: r.mibPerSec,
        p50Ms: r.latency?.p50Ms,
        p99Ms: r.latency?.p99Ms,
        maxMs: r.latency?.maxMs,
        errors: r.errors,
      };
    },
  };
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Meridian must beat s3rver everywhere; against the baseline the bar depends on size. */
function goalsVsBaseline(atLeast: number): Goal[] {
  return [
    { metric: 'opsPerSec', against: 'baseline', atLeast },
    { metric: 'opsPerSec', against: 's3rver', atLeast: 1 },
  ];
}

export const objectScenarios: readonly Scenario[] = [
  objectScenario({ name: 'put-4k', title: 'PUT 4 KiB', method: 'PUT', size: 4 * KiB, goals: goalsVsBaseline(2) }),
  objectScenario({
    name: 'get-4k',
    title: 'GET 4 KiB',
    method: 'GET',
    size: 4 * KiB,
    preload: 1024,
    goals: goalsVsBaseline(1),
  }),
  objectScenario({ name: 'put-1m', title: 'PUT 1 MiB', method: 'PUT', size: MiB, goals: goalsVsBaseline(0.75) }),
  objectScenario({
    name: 'get-1m',
    title: 'GET 1 MiB',
    method: 'GET',
    size: MiB,
    preload: 128,
    goals: goalsVsBaseline(0.75),
  }),
];
