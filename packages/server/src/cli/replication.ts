/**
 * `meridian replication status [--bucket B]` and `meridian replication retry --bucket B
 * [--key-prefix P]`: the operator's view of replication in a running world. The command
 * finds the regions and the service key in the world's catalog (in its data directory) and
 * asks each region's `/_meridian/replication/*` endpoints.
 */
import { join } from 'node:path';
import { request } from 'undici';
import { LmdbCatalog, type AccessKey, type RegionInfo } from '../catalog/catalog.ts';
import type { SeriesSnapshot } from '../replication/metrics.ts';
import { signRequest } from '../s3/auth/sign.ts';

export interface ReplicationCliOptions {
  dataDir: string;
  out: (text: string) => void;
}

async function call(
  region: RegionInfo,
  key: AccessKey,
  method: 'GET' | 'POST',
  path: string,
  query: URLSearchParams,
): Promise<unknown> {
  const url = new URL(region.endpoint);
  const qs = query.toString().replace(/\+/g, '%20');
  const headers = signRequest({
    method,
    path,
    query: qs,
    headers: { host: url.host },
    region: region.name,
    credentials: key,
  });
  const res = await request(`${url.origin}${path}${qs ? `?${qs}` : ''}`, { method, headers });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${region.name}: ${res.statusCode} ${text}`);
  return JSON.parse(text) as unknown;
}

function openCatalog(dataDir: string): LmdbCatalog {
  return new LmdbCatalog({ path: join(dataDir, 'catalog'), regions: [], keys: [] });
}

export async function replicationStatus(opts: ReplicationCliOptions & { bucket?: string }): Promise<number> {
  const catalog = openCatalog(opts.dataDir);
  try {
    const key = catalog.serviceKey();
    const query = new URLSearchParams(opts.bucket ? { bucket: opts.bucket } : {});
    const rows: (SeriesSnapshot & { region: string })[] = [];
    const down: string[] = [];
    for (const region of catalog.regions()) {
      try {
        const body = (await call(region, key, 'GET', '/_meridian/replication/metrics', query)) as { rules: SeriesSnapshot[] };
        for (const r of body.rules) rows.push({ ...r, region: region.name });
      } catch {
        down.push(region.name);
      }
    }
    opts.out(statusTable(rows));
    for (const r of down) opts.out(`  ${r}: not reachable\n`);
    return down.length > 0 ? 1 : 0;
  } finally {
    await catalog.close();
  }
}

export async function replicationRetry(opts: ReplicationCliOptions & { bucket: string; prefix?: string }): Promise<number> {
  const catalog = openCatalog(opts.dataDir);
  try {
    const location = catalog.lookupBucket(opts.bucket);
    if (!location) {
      opts.out(`meridian: no bucket ${opts.bucket}\n`);
      return 1;
    }
    const region = catalog.region(location.region);
    if (!region) {
      opts.out(`meridian: region ${location.region} of ${opts.bucket} has no endpoint\n`);
      return 1;
    }
    const query = new URLSearchParams({ bucket: opts.bucket, ...(opts.prefix ? { prefix: opts.prefix } : {}) });
    const body = (await call(region, catalog.serviceKey(), 'POST', '/_meridian/replication/retry', query)) as {
      retried: number;
    };
    opts.out(`Queued ${body.retried} failed version${body.retried === 1 ? '' : 's'} of ${opts.bucket} for replication again.\n`);
    return 0;
  } finally {
    await catalog.close();
  }
}

function ms(v: number | undefined): string {
  if (v === undefined) return '-';
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)} s`;
  return `${(v / 60_000).toFixed(1)} min`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** A readable table, one line per source bucket, rule and destination. */
export function statusTable(rows: readonly (SeriesSnapshot & { region: string })[]): string {
  if (rows.length === 0) return 'No replication rules have replicated or queued anything yet.\n';
  const header = ['REGION', 'BUCKET', 'RULE', 'DESTINATION', 'PENDING', 'BYTES', 'DONE', 'FAILED', 'BEHIND', 'P50', 'P99', 'MAX', 'IN RTC'];
  const lines = rows.map((r) => [
    r.region,
    r.bucket,
    r.ruleId,
    r.destination,
    String(r.operationsPending),
    bytes(r.bytesPending),
    String(r.operationsCompleted),
    String(r.operationsFailed),
    ms(r.latencyMs.now),
    ms(r.latencyMs.p50),
    ms(r.latencyMs.p99),
    ms(r.latencyMs.max),
    r.rtc.share === undefined ? '-' : `${(r.rtc.share * 100).toFixed(2)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i >= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [fmt(header), ...lines.map(fmt)].join('\n') + '\n';
}
