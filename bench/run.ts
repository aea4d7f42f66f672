/**
 * `npm run bench`: drives Meridian, the baseline (bare node:http + fsync) and s3rver with the
 * same load and writes bench/results/latest.json and latest.md.
 *
 *   npm run bench -- [--only put-4k,get] [--targets baseline,s3rver] [--duration 8]
 *                    [--warmup 2] [--concurrency 16] [--verbose] [--list]
 *
 * Scenarios run in order; for each, every target is started fresh in its own process, measured,
 * stopped and its data deleted. A target that fails to start is reported and skipped for the
 * rest of the run.
 */
import { setMaxListeners } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { S3BenchClient } from './client.ts';
import type { DetailedOutcome, Details } from './details.ts';
import {
  type BenchReport,
  checkGoals,
  computeRatios,
  loadAvg1,
  machineInfo,
  type Measurement,
  summarize,
  toMarkdown,
} from './report.ts';
import { RssSampler } from './rss.ts';
import type { Scenario, ScenarioContext } from './scenario.ts';
import { SCENARIOS } from './scenarios/index.ts';
import {
  ChildRegistry,
  REPO_ROOT,
  type RunningTarget,
  startTarget,
  TARGET_NAMES,
  TARGETS,
  type TargetName,
  TargetStartError,
} from './target.ts';

const USAGE = `Usage: npm run bench -- [options]
  --only <list>         scenarios to run, comma-separated names or prefixes (e.g. put,get-4k)
  --targets <list>      targets, comma-separated (default: ${TARGET_NAMES.join(',')})
  --duration <s>        measured seconds per throughput measurement (default 8, or the
                        scenario's own: replication runs its load for 60 s)
  --warmup <s>          warm-up seconds before each measurement (default 2)
  --concurrency <n>     concurrent connections for throughput scenarios (default 16)
  --start-timeout <s>   how long a target may take to print its endpoint (default 30)
  --out <dir>           where latest.json / latest.md go (default bench/results)
  --verbose             copy targets' stderr to ours
  --list                list scenarios and targets, then exit`;

interface Options {
  scenarios: Scenario[];
  targets: TargetName[];
  /** Undefined when not given: each scenario's own default, else 8. */
  durationSec: number | undefined;
  warmupSec: number;
  concurrency: number;
  startTimeoutSec: number;
  outDir: string;
  verbose: boolean;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function positive(name: string, raw: string | undefined, fallback: number): number;
function positive(name: string, raw: string | undefined, fallback?: number): number | undefined;
function positive(name: string, raw: string | undefined, fallback?: number): number | undefined {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) fail(`--${name} must be a non-negative number, got '${raw}'`);
  return v;
}

function list(raw: string | undefined): string[] | undefined {
  return raw
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function selectScenarios(all: readonly Scenario[], only: string[] | undefined): Scenario[] {
  if (!only) return [...all];
  const unknown = only.filter((q) => !all.some((s) => s.name === q || s.name.startsWith(`${q}-`)));
  if (unknown.length > 0) {
    fail(`unknown scenario(s): ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`);
  }
  return all.filter((s) => only.some((q) => s.name === q || s.name.startsWith(`${q}-`)));
}

function parseOptions(argv: string[]): Options | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        only: { type: 'string' },
        targets: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        concurrency: { type: 'string' },
        'start-timeout': { type: 'string' },
        out: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return undefined;
  }
  if (values.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(16)} ${s.title}\n`);
    process.stdout.write('\n');
    for (const t of TARGET_NAMES) process.stdout.write(`${t.padEnd(16)} ${TARGETS[t].about}\n`);
    return undefined;
  }
  const targets = list(values.targets) ?? [...TARGET_NAMES];
  for (const t of targets) {
    if (!(TARGET_NAMES as readonly string[]).includes(t)) fail(`unknown target '${t}'`);
  }
  const concurrency = Math.round(positive('concurrency', values.concurrency, 16));
  if (concurrency < 1) fail('--concurrency must be at least 1');
  return {
    scenarios: selectScenarios(SCENARIOS, list(values.only)),
    targets: targets as TargetName[],
    durationSec: positive('duration', values.duration),
    warmupSec: positive('warmup', values.warmup, 2),
    concurrency,
    startTimeoutSec: positive('start-timeout', values['start-timeout'], 30),
    outDir: path.resolve(values.out ?? path.join(REPO_ROOT, 'bench/results')),
    verbose: values.verbose,
  };
}

const DEFAULT_DURATION_SEC = 8;

function durationFor(scenario: Scenario, opts: Options): number {
  return opts.durationSec ?? scenario.durationSec ?? DEFAULT_DURATION_SEC;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

type DetailedMeasurement = Measurement & { details?: Details };

function brief(m: DetailedMeasurement): string {
  if (m.status === 'not-started' || m.status === 'skipped') return m.status;
  const parts = [
    m.opsPerSec !== undefined ? `${m.opsPerSec.toFixed(0)} ops/s` : '',
    m.mibPerSec !== undefined ? `${m.mibPerSec.toFixed(1)} MiB/s` : '',
    m.p50Ms !== undefined ? `p50 ${m.p50Ms.toFixed(1)} ms` : '',
    m.p99Ms !== undefined ? `p99 ${m.p99Ms.toFixed(1)} ms` : '',
    m.peakRssMb !== undefined ? `peak RSS ${m.peakRssMb} MB` : '',
    m.errors ? `${m.errors} errors` : '',
  ].filter(Boolean);
  const tail = m.status === 'ok' ? '' : ` [${m.status}${m.error ? `: ${m.error.split('\n')[0]}` : ''}]`;
  const note = m.note ? ` (${m.note})` : '';
  const details =
    m.details && Object.keys(m.details).length > 0 ? `\n${' '.repeat(14)}${formatDetails(m.details)}` : '';
  return `${parts.join(', ')}${tail}${note}${details}`;
}

function formatDetails(d: Details): string {
  return Object.entries(d)
    .map(
      ([k, v]) => `${k} ${typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 1 }) : String(v)}`,
    )
    .join(', ');
}

/** Notes and details under the table: the figures that have no column. */
function notesMarkdown(results: DetailedMeasurement[]): string {
  const rows = results.filter((r) => r.note || (r.details && Object.keys(r.details).length > 0));
  if (rows.length === 0) return '';
  const lines = ['', '## Notes', ''];
  for (const r of rows) {
    const text = [r.note, r.details ? formatDetails(r.details) : ''].filter(Boolean).join('; ');
    lines.push(`- ${r.scenario} / ${r.target}: ${text}`);
  }
  return `${lines.join('\n')}\n`;
}

async function measure(
  scenario: Scenario,
  target: RunningTarget,
  opts: Options,
  interrupt: AbortSignal,
): Promise<Measurement> {
  const durationSec = durationFor(scenario, opts);
  const estimate = scenario.estimateSec({ durationSec, warmupSec: opts.warmupSec });
  // Watchdog against a target that stops answering: requests wait on it otherwise.
  const signal = AbortSignal.any([interrupt, AbortSignal.timeout(Math.ceil((estimate * 2 + 60) * 1000))]);
  // Scenarios may hand it to every in-flight request.
  setMaxListeners(1000, signal);
  const clients: S3BenchClient[] = [];
  const newClient = (connections: number): S3BenchClient => {
    const c = new S3BenchClient({ endpoint: target.endpoint, credentials: target.spec.credentials, connections });
    clients.push(c);
    return c;
  };
  const sampler = new RssSampler(target.pid, 100);
  await sampler.start();
  const ctx: ScenarioContext = {
    target,
    client: newClient,
    createBucket: (name) => newClient(1).createBucket(name),
    durationSec,
    warmupSec: opts.warmupSec,
    concurrency: opts.concurrency,
    signal,
    log: (message) => log(`    ${message}`),
  };
  const base: Measurement = {
    scenario: scenario.name,
    target: target.spec.name,
    status: 'failed',
    idleRssMb: target.idleRssMb,
  };
  let result: DetailedMeasurement;
  try {
    const outcome: DetailedOutcome = await scenario.run(ctx);
    result = { ...base, ...outcome };
  } catch (err) {
    result = { ...base, status: 'failed', error: err instanceof Error ? err.message : String(err) };
  } finally {
    await Promise.all(clients.map((c) => c.destroy().catch(() => {})));
  }
  const sampled = await sampler.stop();
  // A scenario that measured one phase itself (the listing, not its set-up) reports that peak;
  // the whole-scenario figure is kept beside it.
  if (result.peakRssMb === undefined) result.peakRssMb = sampled;
  else if (sampled !== undefined) result.details = { ...result.details, scenarioPeakRssMb: sampled };
  if (signal.aborted && !interrupt.aborted && result.status === 'ok') {
    result.status = 'timeout';
    result.error = 'the watchdog stopped a scenario that ran far past its estimate';
  }
  return result;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (!opts) return;

  const registry = new ChildRegistry();
  const tmpRoot = path.join(REPO_ROOT, 'bench/results/tmp', `run-${process.pid}-${Date.now()}`);
  await mkdir(tmpRoot, { recursive: true });
  // Last resort for crashes: children die with us and the temp tree goes.
  process.on('exit', () => {
    registry.killAll();
    rmSync(tmpRoot, { recursive: true, force: true });
  });
  const interrupt = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts === 1) {
      log('\ninterrupted: stopping after the current measurement (again to quit now)');
      interrupt.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const plan = opts.scenarios.map((s) => {
    const n = opts.targets.filter((t) => !s.targets || s.targets.includes(t)).length;
    return n * (s.estimateSec({ durationSec: durationFor(s, opts), warmupSec: opts.warmupSec }) + 2);
  });
  const total = plan.reduce((a, b) => a + b, 0);
  log(
    `bench: ${opts.scenarios.map((s) => s.name).join(', ')} on ${opts.targets.join(', ')}; ` +
      `about ${Math.ceil(total / 60)} min`,
  );

  const machine = machineInfo();
  const results: DetailedMeasurement[] = [];
  const broken = new Map<TargetName, string>();
  for (const scenario of opts.scenarios) {
    log(`\n${scenario.name}: ${scenario.title}`);
    for (const name of opts.targets) {
      if (scenario.targets && !scenario.targets.includes(name)) continue;
      if (interrupt.signal.aborted) break;
      const known = broken.get(name);
      if (known !== undefined) {
        results.push({ scenario: scenario.name, target: name, status: 'not-started', error: known });
        log(`  ${name.padEnd(9)} skipped (did not start earlier)`);
        continue;
      }
      let target: RunningTarget;
      try {
        target = await startTarget(TARGETS[name], {
          tmpRoot,
          registry,
          startTimeoutMs: opts.startTimeoutSec * 1000,
          verbose: opts.verbose,
          regions: scenario.regions,
          global: scenario.global,
        });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (err instanceof TargetStartError) broken.set(name, message.split('\n')[0]);
        results.push({ scenario: scenario.name, target: name, status: 'not-started', error: message });
        log(`  ${name.padEnd(9)} ${message}`);
        continue;
      }
      let m: Measurement;
      try {
        m = await measure(scenario, target, opts, interrupt.signal);
      } catch (err) {
        // A harness bug in one measurement should not cost the rest of the run.
        const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        m = { scenario: scenario.name, target: name, status: 'failed', error };
      } finally {
        await target.stop();
      }
      results.push(m);
      log(`  ${name.padEnd(9)} ${brief(m)}`);
    }
    if (interrupt.signal.aborted) break;
  }

  const scenarios = opts.scenarios.map(summarize);
  const report: BenchReport = {
    machine: { ...machine, loadAvg: { ...machine.loadAvg, end: loadAvg1() } },
    options: {
      durationSec: opts.durationSec ?? DEFAULT_DURATION_SEC,
      warmupSec: opts.warmupSec,
      concurrency: opts.concurrency,
      targets: opts.targets,
    },
    scenarios,
    results,
    ratios: computeRatios(scenarios, results),
    goals: checkGoals(scenarios, results),
  };
  const markdown = toMarkdown(report) + notesMarkdown(results);
  await mkdir(opts.outDir, { recursive: true });
  await writeFile(path.join(opts.outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(opts.outDir, 'latest.md'), markdown);
  await rm(tmpRoot, { recursive: true, force: true });
  await rmdir(path.dirname(tmpRoot)).catch(() => {}); // only if no other run is using it
  process.stdout.write(`\n${markdown}`);
  log(`\nwrote ${path.relative(process.cwd(), path.join(opts.outDir, 'latest.json'))} and latest.md`);
  if (interrupt.signal.aborted) process.exitCode = 130;
}

await main();
