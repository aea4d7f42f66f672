import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { spawnMeridian, type MeridianProcess } from './process.ts';
import { CREDENTIALS } from './world.ts';

/**
 * A world whose regions run as separate `meridian region` processes over one data directory
 * (so they share the catalog), each of which can be killed and started again on its own.
 */
export interface RegionCluster {
  dataDir: string;
  /** Starts (or restarts) a region's process; port 0 picks a free port. Resolves its endpoint. */
  start(region: string, port?: number): Promise<string>;
  /** kill -9, and waits until the process is gone. */
  kill(region: string): Promise<void>;
  /** The region's current endpoint (of its last start). */
  endpoint(region: string): string;
  port(region: string): number;
  /** What the region's current process printed (stdout and stderr), for diagnostics. */
  output(region: string): string;
  /** A stock S3 client for the region's current endpoint, signing for that region. */
  client(region: string): S3Client;
  close(): Promise<void>;
}

export async function startRegionCluster(regions: string[]): Promise<RegionCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-regions-'));
  const config = join(dir, 'world.yaml');
  await writeFile(config, `regions:\n${regions.map((r) => `  - name: ${r}\n    port: 0\n`).join('')}`);
  const env = {
    MERIDIAN_ROOT_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    MERIDIAN_ROOT_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    MERIDIAN_ROOT_ACCOUNT_ID: CREDENTIALS.accountId,
  };
  const dataDir = join(dir, 'data');
  const procs = new Map<string, MeridianProcess>();
  const endpoints = new Map<string, string>();
  const clients: S3Client[] = [];

  const endpoint = (region: string): string => {
    const e = endpoints.get(region);
    if (!e) throw new Error(`region ${region} was never started`);
    return e;
  };
  const kill = async (region: string): Promise<void> => {
    const p = procs.get(region);
    if (!p) return;
    procs.delete(region);
    p.proc.kill('SIGKILL');
    await p.exited;
  };

  return {
    dataDir,
    async start(region, port = 0) {
      if (procs.has(region)) throw new Error(`region ${region} is already running`);
      const p = spawnMeridian(
        ['region', '--json', '--config', config, '--data-dir', dataDir, '--name', region, '--port', String(port)],
        env,
      );
      procs.set(region, p);
      const { regions: up } = await p.ready;
      const e = up.find((r) => r.name === region)?.endpoint;
      if (!e) throw new Error(`region ${region} did not report its endpoint: ${JSON.stringify(up)}`);
      endpoints.set(region, e);
      return e;
    },
    kill,
    endpoint,
    port: (region) => Number(new URL(endpoint(region)).port),
    output(region) {
      const p = procs.get(region);
      return p ? p.stdout() + p.stderr() : '';
    },
    client(region) {
      const c = new S3Client({
        region,
        endpoint: endpoint(region),
        forcePathStyle: true,
        credentials: CREDENTIALS,
        maxAttempts: 1,
      });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.destroy();
      for (const region of [...procs.keys()]) await kill(region);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
