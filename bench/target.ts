/**
 * Servers under test. Each runs in its own child process (see targets/child.ts for the
 * protocol) so its memory can be read from /proc and the load generator does not share its
 * event loop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Credentials } from './client.ts';
import { readRss, kbToMb } from './rss.ts';
import type { ReadyLine } from './targets/child.ts';

export type TargetName = 'baseline' | 's3rver' | 'meridian';
export const TARGET_NAMES: readonly TargetName[] = ['baseline', 's3rver', 'meridian'];

export interface TargetSpec {
  name: TargetName;
  /** Child entry file, run with `node --import tsx`. */
  entry: string;
  credentials: Credentials;
  about: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..');

export const TARGETS: Readonly<Record<TargetName, TargetSpec>> = {
  baseline: {
    name: 'baseline',
    entry: path.join(here, 'targets/baseline.ts'),
    credentials: { accessKeyId: 'baseline', secretAccessKey: 'ignored' },
    about: 'node:http, one fsynced file per object, no auth or hashing',
  },
  s3rver: {
    name: 's3rver',
    entry: path.join(here, 'targets/s3rver.ts'),
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    about: 's3rver (Node S3 emulator), filesystem store',
  },
  meridian: {
    name: 'meridian',
    entry: path.join(here, 'targets/meridian.ts'),
    credentials: { accessKeyId: 'meridian', secretAccessKey: 'meridian-secret-key' },
    about: 'Meridian, one region (us-east-1), or the regions a scenario asks for',
  },
};

export interface RunningTarget {
  spec: TargetSpec;
  endpoint: string;
  /** Endpoint by region name, when the target runs several (Meridian with `regions`). */
  regions: Readonly<Record<string, string>>;
  /** The global endpoint (MRAP router), when the scenario asked for one (Meridian with `global`). */
  global?: string;
  pid: number;
  dataDir: string;
  /** RSS right after start, before any request. */
  idleRssMb: number | undefined;
  /** Ends the process (gently, then SIGKILL) and removes its data directory. */
  stop(): Promise<void>;
}

export class TargetStartError extends Error {
  constructor(
    readonly target: TargetName,
    reason: string,
    readonly stderrTail: string,
  ) {
    super(`${target} did not start: ${reason}${stderrTail ? `\n${indent(stderrTail)}` : ''}`);
    this.name = 'TargetStartError';
  }
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/**
 * Every child the harness started, so that an interrupted or crashing run still ends them.
 * One instance per run, passed to `startTarget`.
 */
export class ChildRegistry {
  private readonly children = new Set<ChildProcess>();

  add(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  /** Synchronous so it can run from a 'exit' handler. */
  killAll(): void {
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    this.children.clear();
  }
}

export interface StartOptions {
  tmpRoot: string;
  registry: ChildRegistry;
  startTimeoutMs: number;
  /** Copy the child's stderr to ours. */
  verbose: boolean;
  /** Regions a multi-region target should start (the scenario's `regions`). */
  regions?: readonly string[];
  /** Start the global endpoint too (the scenario's `global`). */
  global?: GlobalEndpointOptions;
}

/** The MRAP router of Meridian's global endpoint, as `startWorld({ router })` takes it. */
export interface GlobalEndpointOptions {
  /** How often the router probes every region (Meridian's default: 500 ms). */
  probeIntervalMs?: number;
  /** Simulated distance (ms) from the global endpoint to each region: makes "nearest" fixed. */
  latencyTable?: Record<string, number>;
}

const STDERR_TAIL = 4096;

export async function startTarget(spec: TargetSpec, opts: StartOptions): Promise<RunningTarget> {
  const dataDir = await mkdtemp(path.join(opts.tmpRoot, `${spec.name}-`));
  // BENCH_NODE_ARGS: extra Node flags for the targets, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', spec.entry], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      BENCH_DATA_DIR: dataDir,
      BENCH_ACCESS_KEY_ID: spec.credentials.accessKeyId,
      BENCH_SECRET_ACCESS_KEY: spec.credentials.secretAccessKey,
      ...(opts.regions ? { BENCH_REGIONS: opts.regions.join(',') } : {}),
      ...(opts.global ? { BENCH_GLOBAL: JSON.stringify(opts.global) } : {}),
    },
  });
  opts.registry.add(child);

  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderrTail = (stderrTail + s).slice(-STDERR_TAIL);
    if (opts.verbose) process.stderr.write(`[${spec.name}] ${s}`);
  });
  child.stdin.on('error', () => {}); // EPIPE when the child has already gone

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      const timeout = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timeout);
    }
    await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
  };

  let ready: ReadyLine;
  try {
    ready = await waitForReady(child, opts.startTimeoutMs);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
    throw new TargetStartError(spec.name, (err as Error).message, stderrTail);
  }
  // Keep draining stdout so a chatty child never blocks on a full pipe.
  child.stdout.resume();

  const pid = child.pid ?? -1;
  const idle = await readRss(pid);
  return {
    spec,
    endpoint: ready.endpoint,
    regions: ready.regions ?? {},
    global: ready.global,
    pid,
    dataDir,
    idleRssMb: idle ? kbToMb(idle.rssKb) : undefined,
    stop,
  };
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<ReadyLine> {
  return new Promise<ReadyLine>((resolve, reject) => {
    const stdout = child.stdout;
    if (!stdout) return reject(new Error('no stdout'));
    let buffered = '';
    const done = (err: Error | undefined, line?: ReadyLine): void => {
      clearTimeout(timer);
      stdout.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      if (err) reject(err);
      else resolve(line as ReadyLine);
    };
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        const parsed = parseReadyLine(line);
        if (parsed) return done(undefined, parsed);
      }
    };
    const onExit = (code: number | null, signal: string | null): void =>
      done(new Error(`exited before it was ready (code ${code}, signal ${signal})`));
    const onError = (err: Error): void => done(err);
    const timer = setTimeout(() => done(new Error(`no endpoint line within ${timeoutMs / 1000} s`)), timeoutMs);
    stdout.on('data', onData);
    child.on('exit', onExit);
    child.on('error', onError);
  });
}

function parseReadyLine(line: string): ReadyLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && 'endpoint' in value && typeof value.endpoint === 'string') {
      const regions =
        'regions' in value && typeof value.regions === 'object' && value.regions !== null ? value.regions : {};
      const named = Object.entries(regions).filter((e): e is [string, string] => typeof e[1] === 'string');
      const global = 'global' in value && typeof value.global === 'string' ? value.global : undefined;
      return { endpoint: value.endpoint, regions: Object.fromEntries(named), global };
    }
  } catch {
    // not our line
  }
  return undefined;
}
