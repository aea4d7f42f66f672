/**
 * What a scenario is. A scenario is one file under bench/scenarios/ that exports one or more
 * `Scenario` values, listed in bench/scenarios/index.ts. The harness starts a fresh target
 * process for each (scenario, target) pair, samples its RSS while `run` executes, then stops
 * it and deletes its data, so scenarios never see each other's state.
 */
import type { S3BenchClient } from './client.ts';
import type { GlobalEndpointOptions, RunningTarget, TargetName } from './target.ts';

/** Figures a scenario can report; all optional, a table cell stays empty when missing. */
export interface Figures {
  ops?: number;
  seconds?: number;
  opsPerSec?: number;
  mibPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  errors?: number;
  peakRssMb?: number;
  /** A dimensionless comparison the scenario makes itself, e.g. throughput with a feature on ÷ off. */
  ratio?: number;
}

export type Metric = keyof Figures;

export interface ScenarioOutcome extends Figures {
  /** 'timeout' keeps the figures gathered until then. */
  status: 'ok' | 'failed' | 'timeout';
  error?: string;
  note?: string;
}

/**
 * A goal for Meridian, checked against its own figure (`max`/`min`) or as a ratio to a
 * reference target (`atLeast`/`atMost`), e.g. `{ metric: 'opsPerSec', against: 'baseline',
 * atLeast: 2 }` means Meridian at least twice the baseline.
 */
export type Goal =
  | { metric: Metric; against: TargetName; atLeast?: number; atMost?: number }
  | { metric: Metric; against?: undefined; min?: number; max?: number };

export interface ScenarioContext {
  target: RunningTarget;
  /** A signed client for the target; closed by the harness after the scenario. */
  client(connections: number): S3BenchClient;
  /** Creates a bucket on the target with a signed PUT /bucket. */
  createBucket(name: string): Promise<void>;
  durationSec: number;
  warmupSec: number;
  concurrency: number;
  /** Set when the run is interrupted; long operations should stop. */
  signal: AbortSignal;
  log(message: string): void;
}

export interface Scenario {
  /** Unique, kebab-case; `--only` matches it exactly or by a prefix ending before a '-'. */
  name: string;
  /** Row label in the table, e.g. 'PUT 4 KiB'. */
  title: string;
  /** The figure the ×baseline / ×s3rver columns compare. */
  compare: Metric;
  /** Whether a bigger `compare` figure is better (throughput) or worse (memory). */
  higherIsBetter: boolean;
  goals: readonly Goal[];
  /** Targets this scenario runs against; all by default. */
  targets?: readonly TargetName[];
  /** Regions Meridian starts for this scenario (first one is `endpoint`); us-east-1 alone by default. */
  regions?: readonly string[];
  /**
   * Meridian also starts its global endpoint (MRAP router), with these router settings; the
   * scenario reads it from `ctx.target.global`.
   */
  global?: GlobalEndpointOptions;
  /** Its measured seconds when `--duration` is not given (the harness default is 8). */
  durationSec?: number;
  /** Rough wall time per target, for the plan printed before the run. */
  estimateSec(opts: { durationSec: number; warmupSec: number }): number;
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}
