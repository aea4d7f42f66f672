/**
 * `meridian status [--json] [--watch]`: the whole world at a glance, from its data directory.
 *
 * The catalog names the regions and their endpoints, the global endpoint, the buckets and the
 * Multi-Region Access Points; each region is asked, from here, for its health (the latency
 * shown is that round trip), what it stores (`/_meridian/status`) and its replication
 * (`/_meridian/replication/metrics`), signed with the world's service key; the global endpoint
 * for the router's view of each region (`/_meridian/mrap/metrics`); each region for its batch
 * replication jobs that have not finished (`/_meridian/jobs`); the fault store for the faults
 * in force. Exit code 0 when every region is up, 1 when any is down.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { LmdbCatalog, type AccessKey, type MrapRecord, type RegionInfo } from '../catalog/catalog.ts';
import { ConfigError } from '../core/config.ts';
import { FaultStore, type FaultState } from '../core/faults.ts';
import type { StoreStats } from '../core/metrics.ts';
import type { RouterFigures } from '../mrap/metrics.ts';
import type { JobView } from '../replication/job-runner.ts';
import { TERMINAL, type JobFilter, type JobProgress, type JobStatus } from '../replication/jobs.ts';
import type { SeriesSnapshot } from '../replication/metrics.ts';
import { signRequest } from '../s3/auth/sign.ts';
import { faultsPath } from './fault.ts';

export interface RegionStatus {
  name: string;
  endpoint: string;
  up: boolean;
  /** round trip of `/_meridian/health` from here, ms */
  latencyMs?: number;
  /** why it is counted down */
  error?: string;
  /** buckets the catalog places in this region */
  buckets: string[];
  /** what the region reports it stores (absent while it is down) */
  store?: StoreStats;
}

export interface ReplicationStatus extends SeriesSnapshot {
  region: string;
}

export interface MrapRouteStatus {
  region: string;
  bucket: string;
  /** TrafficDialPercentage 100 */
  active: boolean;
  /** in routing, as the global endpoint sees it (or, without it, reachable from here) */
  healthy: boolean;
  /** the region requests go to now */
  nearest: boolean;
  requests: number;
  errors: number;
  failovers: number;
}

export interface MrapStatus {
  account: string;
  name: string;
  alias: string;
  status: string;
  routes: MrapRouteStatus[];
}

/** A batch replication job that has not finished (Complete, Cancelled or Failed) yet. */
export interface BatchJobStatus {
  id: string;
  /** the region that holds the bucket and works the job */
  region: string;
  bucket: string;
  status: JobStatus;
  description?: string;
  priority: number;
  filter: JobFilter;
  /** `total` is the versions the job selects (absent until counted); done = succeeded + failed */
  progress: JobProgress;
  activeSeconds: number;
  createdAt: number;
}

export interface WorldStatus {
  dataDir: string;
  /** every region is up */
  ok: boolean;
  regions: RegionStatus[];
  global?: { endpoint: string; up: boolean; latencyMs?: number; error?: string };
  replication: ReplicationStatus[];
  mraps: MrapStatus[];
  /** batch replication jobs under way in the regions that are up, oldest first */
  jobs: BatchJobStatus[];
  faults: FaultState;
}

export interface StatusOptions {
  dataDir: string;
  /** accounts whose access points to list besides the buckets' owners (the root account) */
  accounts?: string[];
  /** a region that has not answered in this long is down (default 2000 ms) */
  timeoutMs?: number;
}

interface Answer {
  ok: boolean;
  status?: number;
  ms: number;
  body?: unknown;
  error?: string;
}

async function get(endpoint: string, path: string, timeoutMs: number, sign?: { region: string; key: AccessKey }): Promise<Answer> {
  const url = new URL(endpoint);
  const headers = sign
    ? signRequest({ method: 'GET', path, query: '', headers: { host: url.host }, region: sign.region, credentials: sign.key })
    : {};
  const started = performance.now();
  try {
    const res = await request(`${url.origin}${path}`, {
      method: 'GET',
      headers,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.body.text();
    const ms = performance.now() - started;
    if (res.statusCode !== 200) return { ok: false, status: res.statusCode, ms, error: `HTTP ${res.statusCode}` };
    return { ok: true, status: res.statusCode, ms, body: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, ms: performance.now() - started, error: why(err) };
  }
}

/** `/_meridian/health`, twice: the first call pays for the connection, the second is the round trip. */
async function roundTrip(endpoint: string, timeoutMs: number): Promise<Answer> {
  const first = await get(endpoint, '/_meridian/health', timeoutMs);
  if (!first.ok) return first;
  const again = await get(endpoint, '/_meridian/health', timeoutMs);
  return again.ok ? again : first;
}

/** A failed call in a few words, for the LATENCY column. */
function why(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  // A DOMException (AbortSignal.timeout's TimeoutError) has a numeric legacy `code`: its name says it.
  switch (typeof e.code === 'string' ? e.code : e.name) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'closed';
    case 'TimeoutError':
    case 'AbortError':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timed out';
    default:
      return typeof e.code === 'string' ? e.code : String(e.message ?? err);
  }
}

async function regionStatus(
  region: RegionInfo,
  buckets: string[],
  key: AccessKey,
  timeoutMs: number,
): Promise<{ region: RegionStatus; replication: ReplicationStatus[]; jobs: BatchJobStatus[] }> {
  const health = await roundTrip(region.endpoint, timeoutMs);
  const base: RegionStatus = { name: region.name, endpoint: region.endpoint, up: health.ok, buckets };
  if (!health.ok) return { region: { ...base, error: health.error }, replication: [], jobs: [] };
  const sign = { region: region.name, key };
  const [status, replication, jobs] = await Promise.all([
    get(region.endpoint, '/_meridian/status', timeoutMs, sign),
    get(region.endpoint, '/_meridian/replication/metrics', timeoutMs, sign),
    get(region.endpoint, '/_meridian/jobs', timeoutMs, sign),
  ]);
  const store = status.ok ? (status.body as { store?: StoreStats }).store : undefined;
  const rules = replication.ok ? (replication.body as { rules: SeriesSnapshot[] }).rules : [];
  const views = jobs.ok ? (jobs.body as { jobs: JobView[] }).jobs : [];
  return {
    region: { ...base, latencyMs: round(health.ms), ...(store ? { store } : {}) },
    replication: rules.map((r) => ({ ...r, region: region.name })),
    jobs: views.filter((j) => !TERMINAL.has(j.status)).map((j) => jobStatus(j, region.name)),
  };
}

function jobStatus(j: JobView, region: string): BatchJobStatus {
  return {
    id: j.id,
    region,
    bucket: j.bucket,
    status: j.status,
    ...(j.description !== undefined ? { description: j.description } : {}),
    priority: j.priority,
    filter: j.filter,
    progress: j.progress,
    activeSeconds: j.activeSeconds,
    createdAt: j.createdAt,
  };
}

/** Gathers the status of the world kept in `dataDir`. */
export async function worldStatus(opts: StatusOptions): Promise<WorldStatus> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const catalog = new LmdbCatalog({ path: join(opts.dataDir, 'catalog'), regions: [], keys: [] });
  const faultStore = new FaultStore(faultsPath(opts.dataDir));
  try {
    const key = catalog.serviceKey();
    const locations = catalog.listBuckets();
    const regions = catalog.regions();
    const globalEndpoint = catalog.globalEndpoint();
    const [perRegion, globalHealth, router] = await Promise.all([
      Promise.all(
        regions.map((r) =>
          regionStatus(
            r,
            locations.filter((b) => b.region === r.name).map((b) => b.name),
            key,
            timeoutMs,
          ),
        ),
      ),
      globalEndpoint ? roundTrip(globalEndpoint, timeoutMs) : undefined,
      globalEndpoint ? get(globalEndpoint, '/_meridian/mrap/metrics', timeoutMs) : undefined,
    ]);
    const regionStates = perRegion.map((p) => p.region);
    const accounts = new Set([...(opts.accounts ?? []), ...locations.map((b) => b.owner)]);
    const records = [...accounts].flatMap((a) => catalog.mraps(a));
    const figures = router?.ok ? (router.body as RouterFigures) : undefined;
    return {
      dataDir: opts.dataDir,
      ok: regionStates.every((r) => r.up),
      regions: regionStates,
      ...(globalEndpoint && globalHealth
        ? {
            global: {
              endpoint: globalEndpoint,
              up: globalHealth.ok,
              ...(globalHealth.ok ? { latencyMs: round(globalHealth.ms) } : { error: globalHealth.error }),
            },
          }
        : {}),
      replication: perRegion.flatMap((p) => p.replication),
      mraps: records.map((m) => mrapStatus(m, regionStates, figures)),
      jobs: perRegion.flatMap((p) => p.jobs).sort((a, b) => a.createdAt - b.createdAt),
      faults: faultStore.current(),
    };
  } finally {
    await faultStore.close();
    await catalog.close();
  }
}

function mrapStatus(m: MrapRecord, regions: RegionStatus[], figures: RouterFigures | undefined): MrapStatus {
  const healthy = (region: string) =>
    figures?.regions.find((r) => r.region === region)?.healthy ?? regions.find((r) => r.name === region)?.up ?? false;
  const distance = (region: string) => figures?.regions.find((r) => r.region === region)?.distanceMs ?? Number.MAX_SAFE_INTEGER;
  const candidates = m.regions.filter((r) => r.trafficDialPercentage === 100 && healthy(r.region));
  const nearest = candidates.reduce<string | undefined>(
    (best, r) => (best === undefined || distance(r.region) < distance(best) ? r.region : best),
    undefined,
  );
  return {
    account: m.account,
    name: m.name,
    alias: m.alias,
    status: m.status,
    routes: m.regions.map((r) => {
      const c = figures?.routes.find((x) => x.alias === m.alias && x.region === r.region);
      return {
        region: r.region,
        bucket: r.bucket,
        active: r.trafficDialPercentage === 100,
        healthy: healthy(r.region),
        nearest: r.region === nearest,
        requests: c?.requests ?? 0,
        errors: c?.errors ?? 0,
        failovers: c?.failovers ?? 0,
      };
    }),
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function fmtMs(v: number | undefined): string {
  if (v === undefined) return '-';
  if (v === 0) return '0 ms';
  if (v < 10) return `${v.toFixed(1)} ms`;
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)} s`;
  return `${(v / 60_000).toFixed(1)} min`;
}

function fmtBytes(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** Columns padded to their widest cell; columns in `right` are right-aligned (numbers). */
function table(header: string[], rows: string[][], right: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`).join('\n') + '\n';
}

/** The readable form of a world's status. */
export function renderStatus(s: WorldStatus): string {
  const out: string[] = [];
  const down = s.regions.filter((r) => !r.up).length;
  out.push(
    `Meridian world in ${s.dataDir}: ${s.regions.length} region${s.regions.length === 1 ? '' : 's'}, ` +
      (down === 0 ? 'all up' : `${down} down`) +
      '\n\n',
  );
  const regionRows = s.regions.map((r) => [
    r.name,
    r.up ? 'up' : 'DOWN',
    r.up ? fmtMs(r.latencyMs) : (r.error ?? '-'),
    r.endpoint,
    String(r.buckets.length),
    r.store ? String(r.store.objects) : '-',
    r.store ? String(r.store.versions) : '-',
    fmtBytes(r.store?.bytes),
  ]);
  if (s.global) {
    regionRows.push(['global', s.global.up ? 'up' : 'DOWN', s.global.up ? fmtMs(s.global.latencyMs) : (s.global.error ?? '-'), s.global.endpoint, '', '', '', '']);
  }
  out.push(table(['REGION', 'STATUS', 'LATENCY', 'ENDPOINT', 'BUCKETS', 'OBJECTS', 'VERSIONS', 'BYTES'], regionRows, new Set([2, 4, 5, 6, 7])));

  out.push('\nReplication\n');
  if (s.replication.length === 0) {
    out.push('  No replication rules have replicated or queued anything yet.\n');
  } else {
    out.push(
      table(
        ['REGION', 'BUCKET', 'RULE', 'DESTINATION', 'PENDING', 'BYTES', 'DONE', 'FAILED', 'BEHIND', 'P99', 'IN RTC'],
        s.replication.map((r) => [
          r.region,
          r.bucket,
          r.ruleId,
          r.destination,
          String(r.operationsPending),
          fmtBytes(r.bytesPending),
          String(r.operationsCompleted),
          String(r.operationsFailed),
          fmtMs(r.latencyMs.now),
          fmtMs(r.latencyMs.p99),
          r.rtc.share === undefined ? '-' : `${(r.rtc.share * 100).toFixed(2)}%`,
        ]),
        new Set([4, 5, 6, 7, 8, 9, 10]),
      ),
    );
  }

  out.push('\nMulti-Region Access Points\n');
  if (s.mraps.length === 0) {
    out.push('  None.\n');
  } else {
    const rows = s.mraps.flatMap((m) =>
      m.routes.map((r, i) => [
        i === 0 ? m.name : '',
        i === 0 ? m.alias : '',
        i === 0 ? m.status : '',
        r.region,
        r.bucket,
        r.active ? 'active' : 'passive',
        r.healthy ? 'healthy' : 'DOWN',
        r.nearest ? '*' : '',
        String(r.requests),
        String(r.errors),
        String(r.failovers),
      ]),
    );
    out.push(
      table(
        ['NAME', 'ALIAS', 'STATUS', 'REGION', 'BUCKET', 'ROUTE', 'HEALTH', 'NEAREST', 'REQUESTS', 'ERRORS', 'FAILOVERS'],
        rows,
        new Set([8, 9, 10]),
      ),
    );
    if (!s.global) out.push('  (no global endpoint recorded: health as seen from here)\n');
  }

  out.push('\nBatch replication jobs\n');
  if (s.jobs.length === 0) {
    out.push('  None under way.\n');
  } else {
    out.push(
      table(
        ['JOB', 'REGION', 'BUCKET', 'STATUS', 'DONE', 'TOTAL', 'PROGRESS', 'BYTES', 'FAILED', 'ACTIVE'],
        s.jobs.map((j) => {
          const p = j.progress;
          const done = p.succeeded + p.failed;
          return [
            j.id,
            j.region,
            j.bucket,
            j.status,
            String(done),
            p.total === undefined ? '?' : String(p.total),
            p.total === undefined ? '-' : p.total === 0 ? '100%' : `${Math.floor((Math.min(done, p.total) / p.total) * 100)}%`,
            `${fmtBytes(p.bytesDone)} / ${p.totalBytes === undefined ? '?' : fmtBytes(p.totalBytes)}`,
            String(p.failed),
            j.activeSeconds < 1 ? '<1 s' : fmtMs(j.activeSeconds * 1000),
          ];
        }),
        new Set([4, 5, 6, 7, 8, 9]),
      ),
    );
  }

  out.push('\nFaults\n');
  const faults = [
    ...s.faults.down.map((r) => `  ${r} is down`),
    ...s.faults.partitions.map(([a, b]) => `  ${a} and ${b} are partitioned`),
    ...Object.entries(s.faults.slow).map(([r, ms]) => `  ${r} answers ${ms} ms late`),
  ];
  out.push(faults.length === 0 ? '  None.\n' : `${faults.join('\n')}\n`);
  return out.join('');
}

/** `--interval`: `500ms`, `2s`, or a bare number of seconds (as `watch -n`); at least 100 ms. */
export function parseInterval(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value.trim());
  if (!m) throw new ConfigError(`'${value}' is not an interval (e.g. 2s, 500ms or 2)`);
  const ms = Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : 1000));
  if (ms < 100) throw new ConfigError(`--interval must be at least 100ms (got ${value})`);
  return ms;
}

/** Clears a terminal and puts the cursor home: each refresh of `--watch` draws over the last. */
const CLEAR = '\x1b[H\x1b[2J';

export interface StatusCommandOptions extends StatusOptions {
  json?: boolean;
  /** redraw every `intervalMs` (default 2000) until SIGINT or SIGTERM */
  watch?: boolean;
  intervalMs?: number;
  /** stdout is a terminal: `--watch` redraws the screen instead of printing one frame after another */
  tty?: boolean;
  out: (text: string) => void;
}

/**
 * Prints the world's status once (or, with `watch`, every `intervalMs` until interrupted) and
 * returns the exit code: 0 when every region is up, 1 otherwise (for `watch`, as of the last
 * refresh). A first Ctrl-C ends `watch` after the refresh in progress; a second one, while
 * that refresh waits on a region, ends the process at once (the default action).
 */
export async function status(opts: StatusCommandOptions): Promise<number> {
  if (!existsSync(join(opts.dataDir, 'catalog'))) {
    process.stderr.write(`meridian: no world in ${opts.dataDir} (no catalog); pass --data-dir\n`);
    return 1;
  }
  const frame = async (footer: string) => {
    const s = await worldStatus(opts);
    if (opts.json) opts.out(`${JSON.stringify(s)}\n`);
    else opts.out(`${opts.watch && opts.tty ? CLEAR : ''}${renderStatus(s)}${footer}`);
    return s.ok ? 0 : 1;
  };
  if (!opts.watch) return frame('');
  const intervalMs = opts.intervalMs ?? 2000;
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let code = 0;
  try {
    while (!stopping.signal.aborted) {
      const at = new Date().toLocaleTimeString('en-GB', { hour12: false });
      // Frames of a log or a pipe are told apart by the blank line and this footer.
      code = await frame(`\nEvery ${fmtMs(intervalMs)}, last at ${at}. Ctrl-C to stop.\n${opts.tty ? '' : '\n'}`);
      await sleep(intervalMs, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return code;
}
