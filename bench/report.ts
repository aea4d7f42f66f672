/**
 * Results: the JSON written to bench/results/latest.json and the markdown table derived from
 * it. Ratios and goal checks are computed here from the raw figures, so the JSON stays the
 * single source and the table can be regenerated from it.
 */
import os from 'node:os';
import type { Figures, Goal, Metric, Scenario, ScenarioOutcome } from './scenario.ts';
import type { TargetName } from './target.ts';

export interface Measurement extends Figures {
  scenario: string;
  target: TargetName;
  status: ScenarioOutcome['status'] | 'not-started' | 'skipped';
  error?: string;
  note?: string;
  idleRssMb?: number;
}

export interface ScenarioSummary {
  name: string;
  title: string;
  compare: Metric;
  higherIsBetter: boolean;
  goals: readonly Goal[];
}

export interface MachineInfo {
  date: string;
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  totalMemMb: number;
  /** 1-minute load average when the run started and ended: other work on the machine skews figures. */
  loadAvg: { start: number; end?: number };
}

export interface BenchReport {
  machine: MachineInfo;
  options: { durationSec: number; warmupSec: number; concurrency: number; targets: TargetName[] };
  scenarios: ScenarioSummary[];
  results: Measurement[];
  ratios: Ratio[];
  goals: GoalCheck[];
}

export interface Ratio {
  scenario: string;
  target: TargetName;
  metric: Metric;
  vsBaseline?: number;
  vsS3rver?: number;
}

export interface GoalCheck {
  scenario: string;
  goal: string;
  measured?: number;
  met?: boolean;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemMb: Math.round(os.totalmem() / 1048576),
    loadAvg: { start: loadAvg1() },
  };
}

export function loadAvg1(): number {
  return Math.round(os.loadavg()[0] * 100) / 100;
}

export function summarize(s: Scenario): ScenarioSummary {
  const { name, title, compare, higherIsBetter, goals } = s;
  return { name, title, compare, higherIsBetter, goals };
}

function figure(results: Measurement[], scenario: string, target: TargetName, metric: Metric): number | undefined {
  const m = results.find((r) => r.scenario === scenario && r.target === target);
  if (!m || (m.status !== 'ok' && m.status !== 'timeout')) return undefined;
  const v = m[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

export function computeRatios(scenarios: ScenarioSummary[], results: Measurement[]): Ratio[] {
  const out: Ratio[] = [];
  for (const s of scenarios) {
    for (const r of results.filter((m) => m.scenario === s.name)) {
      const own = figure(results, s.name, r.target, s.compare);
      out.push({
        scenario: s.name,
        target: r.target,
        metric: s.compare,
        vsBaseline: ratio(own, figure(results, s.name, 'baseline', s.compare)),
        vsS3rver: ratio(own, figure(results, s.name, 's3rver', s.compare)),
      });
    }
  }
  return out;
}

export function describeGoal(g: Goal): string {
  if (g.against !== undefined) {
    const parts: string[] = [];
    if (g.atLeast !== undefined) parts.push(`≥ ${g.atLeast}×`);
    if (g.atMost !== undefined) parts.push(`≤ ${g.atMost}×`);
    return `${g.metric} ${parts.join(' and ')} ${g.against}`;
  }
  // A ratio reads (and is printed) as one: "ratio ≥ 0.75×".
  const unit = g.metric === 'ratio' ? '×' : '';
  const parts: string[] = [];
  if (g.min !== undefined) parts.push(`≥ ${g.min}${unit}`);
  if (g.max !== undefined) parts.push(`≤ ${g.max}${unit}`);
  return `${g.metric} ${parts.join(' and ')}`;
}

/** Checks Meridian's figures; a goal whose inputs are missing is reported as not measured. */
export function checkGoals(scenarios: ScenarioSummary[], results: Measurement[]): GoalCheck[] {
  const out: GoalCheck[] = [];
  for (const s of scenarios) {
    for (const g of s.goals) {
      const own = figure(results, s.name, 'meridian', g.metric);
      let measured: number | undefined;
      let met: boolean | undefined;
      if (g.against !== undefined) {
        measured = ratio(own, figure(results, s.name, g.against, g.metric));
        if (measured !== undefined) {
          met = (g.atLeast === undefined || measured >= g.atLeast) && (g.atMost === undefined || measured <= g.atMost);
        }
      } else {
        measured = own;
        if (measured !== undefined) {
          met = (g.min === undefined || measured >= g.min) && (g.max === undefined || measured <= g.max);
        }
      }
      out.push({ scenario: s.name, goal: describeGoal(g), measured, met });
    }
  }
  return out;
}

function fmt(v: number | undefined, digits = 0): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function fmtMs(v: number | undefined): string {
  if (v === undefined) return '';
  return v < 10 ? fmt(v, 2) : v < 100 ? fmt(v, 1) : fmt(v, 0);
}

function fmtRatio(v: number | undefined): string {
  return v === undefined ? '' : `${v.toFixed(2)}×`;
}

const METRIC_LABEL: Record<Metric, string> = {
  ops: 'ops',
  seconds: 's',
  opsPerSec: 'ops/s',
  mibPerSec: 'MiB/s',
  p50Ms: 'p50',
  p99Ms: 'p99',
  maxMs: 'max',
  errors: 'errors',
  peakRssMb: 'peak RSS',
  ratio: 'ratio',
};

export function toMarkdown(report: BenchReport): string {
  const { machine, options } = report;
  const lines: string[] = [];
  lines.push('# Meridian benchmark');
  lines.push('');
  lines.push(
    `${machine.date} · Node ${machine.node} · ${machine.cpus} × ${machine.cpuModel} · ` +
      `${fmt(machine.totalMemMb)} MB RAM · ${machine.platform} · load average ${machine.loadAvg.start} at start, ` +
      `${machine.loadAvg.end ?? '?'} at end`,
  );
  lines.push(
    `${options.concurrency} connections, ${options.warmupSec} s warm-up + ${options.durationSec} s per measurement; ` +
      'each target in its own process, restarted per scenario.',
  );
  lines.push('');
  lines.push(
    '| Scenario | Target | ops/s | MiB/s | p50 ms | p99 ms | idle RSS MB | peak RSS MB | vs baseline | vs s3rver | errors | status |',
  );
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const s of report.scenarios) {
    const rows = report.results.filter((r) => r.scenario === s.name);
    for (const r of rows) {
      const q = report.ratios.find((x) => x.scenario === s.name && x.target === r.target);
      const status = r.status === 'ok' ? 'ok' : `${r.status}${r.error ? `: ${oneLine(r.error)}` : ''}`;
      lines.push(
        `| ${s.title} | ${r.target} | ${fmt(r.opsPerSec)} | ${fmt(r.mibPerSec, 1)} | ${fmtMs(r.p50Ms)} | ${fmtMs(r.p99Ms)} | ` +
          `${fmt(r.idleRssMb)} | ${fmt(r.peakRssMb)} | ${fmtRatio(q?.vsBaseline)} | ${fmtRatio(q?.vsS3rver)} | ${r.errors ? fmt(r.errors) : ''} | ${status} |`,
      );
    }
  }
  lines.push('');
  const compared = report.scenarios
    .map((s) => `${s.title}: ${METRIC_LABEL[s.compare]}${s.higherIsBetter ? '' : ' (lower is better)'}`)
    .join('; ');
  lines.push(`Ratio columns compare ${compared}.`);
  if (report.goals.length > 0) {
    lines.push('');
    lines.push('## Goals (Meridian)');
    lines.push('');
    lines.push('| Scenario | Goal | Measured | Met |');
    lines.push('| --- | --- | ---: | --- |');
    for (const g of report.goals) {
      const measured = g.goal.includes('×') ? fmtRatio(g.measured) : fmt(g.measured, 1);
      const met = g.met === undefined ? 'not measured' : g.met ? 'yes' : '**no**';
      lines.push(`| ${g.scenario} | ${g.goal} | ${measured} | ${met} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function oneLine(s: string): string {
  const first = s.split('\n')[0].replace(/\|/g, '\\|');
  return first.length > 120 ? `${first.slice(0, 117)}...` : first;
}
