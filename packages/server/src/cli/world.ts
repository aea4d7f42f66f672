import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LmdbCatalog } from '../catalog/catalog.ts';
import { DEFAULT_CREDENTIALS, type RegionConfig } from '../core/config.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { FaultStore } from '../core/faults.ts';
import { Md5Pool } from '../storage/md5-pool.ts';
import { ProcessMetrics } from '../core/metrics.ts';
import { routerRegistry } from '../mrap/metrics.ts';
import { RegionHealth } from '../mrap/health.ts';
import { MrapRouter } from '../mrap/router.ts';
import { GlobalServer } from '../mrap/server.ts';
import { faultsPath } from './fault.ts';
import { planReplication } from '../replication/rules.ts';
import { LmdbJobStore } from '../replication/job-store.ts';
import { Replicator } from '../replication/replicator.ts';
import { RegionServer } from '../s3/server.ts';
import { Engine } from '../storage/engine.ts';
import { FsBlobStore } from '../storage/fs-blob.ts';
import { LmdbMetaStore } from '../storage/lmdb-meta.ts';
import type { ObjectEngine, ReplicationPlanner } from '../storage/types.ts';

/**
 * The composition root of a world: one catalog, and per region an engine (LMDB metadata,
 * file blobs) behind an S3 endpoint, all in this process.
 */
export interface WorldOptions {
  dataDir: string;
  regions?: RegionConfig[];
  host?: string;
  domains?: string[];
  credentials?: { accessKeyId: string; secretAccessKey: string; accountId?: string };
  /** More keys: other accounts' and users' (from the config's `accounts`). */
  keys?: { accessKeyId: string; secretAccessKey: string; accountId: string; user?: string }[];
  logLevel?: string;
  logger?: Logger;
  /** Objects up to this many bytes are stored inside the metadata store. */
  inlineMax?: number;
  /** An upload idle this long is answered RequestTimeout (default 20 s, as S3). */
  idleTimeoutMs?: number;
  /** Replication tuning: in-flight copies per destination bucket, first retry delay. */
  replication?: { concurrency?: number; retryBaseMs?: number; retryMaxMs?: number; rtcThresholdMs?: number };
  /**
   * The MRAP router: how often regions are probed, and, in simulation, the distance (ms) from
   * the global endpoint to each region instead of measured round trips.
   */
  router?: {
    probeIntervalMs?: number;
    latencyTable?: Record<string, number>;
    /**
     * Serve routed requests of this process's regions in-process (default true); false sends
     * every one over HTTP, as a router in a process of its own does.
     */
    inProcess?: boolean;
  };
  /** Simulated distances between regions (ms): replication waits that long before each copy. */
  regionLatency?: Record<string, Record<string, number>>;
  /** Port of the global endpoint (S3 Control for MRAPs, the MRAP data plane); 0 = ephemeral, absent = none. */
  globalPort?: number;
  /** MRAP control plane timing: async operations (default 200 ms), route-update hold (default 0). */
  mrapControl?: { asyncDelayMs?: number; routeUpdateMs?: number };
}

/** The replication rules, as the engine asks for them. */
const planner: ReplicationPlanner = (bucket, version, operation) =>
  bucket.replication
    ? planReplication(
        bucket.replication,
        { key: version.key, tags: version.tags, storageClass: version.storageClass, replica: version.replica },
        operation,
      )
    : [];

export interface RunningRegion {
  name: string;
  endpoint: string;
}

export interface World {
  regions: RunningRegion[];
  /** The global endpoint, when `globalPort` was given. */
  global?: { endpoint: string };
  close(): Promise<void>;
}

export async function startWorld(opts: WorldOptions): Promise<World> {
  const dataDir = resolve(opts.dataDir);
  const log = opts.logger ?? createLogger({ level: opts.logLevel ?? 'warn', pretty: false });
  const host = opts.host ?? '127.0.0.1';
  const regions = opts.regions ?? [{ name: 'us-east-1', port: 0 }];
  const credentials = { ...DEFAULT_CREDENTIALS, ...opts.credentials };
  mkdirSync(join(dataDir, 'catalog'), { recursive: true });
  const catalog = new LmdbCatalog({ path: join(dataDir, 'catalog'), regions: [], keys: [credentials, ...(opts.keys ?? [])] });
  // Injected faults (outage drills) live beside the catalog: `meridian fault ...` reaches every region.
  const faults = new FaultStore(faultsPath(dataDir));
  // Large bodies are hashed (MD5, the ETag) on a worker thread, for every region of the world.
  const md5 = new Md5Pool();
  const started: Started[] = [];
  const globals: { server: GlobalServer; router: MrapRouter; health: RegionHealth }[] = [];
  let global: World['global'];
  const sweeping = new AbortController();
  const running: RunningRegion[] = [];
  const startedAt = Date.now();
  // One registry for the process; each endpoint's `/metrics` serves its own series of it.
  const metrics = new ProcessMetrics();
  let closing = false;
  try {
    for (const region of regions) {
      const dir = join(dataDir, 'regions', region.name);
      mkdirSync(join(dir, 'meta'), { recursive: true });
      const meta = new LmdbMetaStore(join(dir, 'meta'));
      const engine = new Engine({
        region: region.name,
        meta,
        blobs: new FsBlobStore(join(dir, 'blobs')),
        inlineMax: opts.inlineMax,
        planner,
        md5,
      });
      await reconcile(catalog, engine, log);
      const distances = opts.regionLatency?.[region.name] ?? {};
      const replicator: Replicator = new Replicator({
        region: region.name,
        engine,
        catalog,
        log,
        faults,
        latencyTo: (destination) => distances[destination] ?? 0,
        // Batch replication jobs of this region's buckets, in their own store beside `meta`.
        jobs: new LmdbJobStore(join(dir, 'jobs')),
        clientLoad: (): number => server.inFlight,
        ...opts.replication,
      });
      const storeStats = () => meta.stats();
      metrics.addStore(region.name, storeStats);
      metrics.addRegistry(region.name, replicator.registry);
      const name = region.name;
      const server = new RegionServer({
        internal: replicator.internal,
        metrics,
        storeStats,
        notReady: () => {
          const waiting: string[] = [];
          if (closing) waiting.push('shutting down');
          try {
            meta.stats();
          } catch {
            waiting.push('store');
          }
          if (!catalog.region(name)) waiting.push('catalog');
          return waiting;
        },
        faults,
        region: region.name,
        engine,
        catalog,
        domains: opts.domains ?? ['localhost'],
        log,
        idleTimeoutMs: opts.idleTimeoutMs,
      });
      const sweep = engine
        .sweepOrphans(startedAt, sweeping.signal)
        .then((n) => {
          if (n > 0) log.info({ region: region.name, removed: n }, 'removed orphan blobs left by a crash');
        })
        .catch((err: unknown) => log.error({ err, region: region.name }, 'orphan sweep failed'));
      started.push({ server, engine, sweep, replicator });
      const endpoint = await server.listen(region.port, host);
      catalog.setRegionEndpoint(region.name, endpoint);
      running.push({ name: region.name, endpoint });
    }
    // Every region listens before any starts sending it replicas.
    for (const s of started) s.replicator.start();
    if (opts.globalPort !== undefined) {
      // The MRAP data plane: requests to an access point go to the nearest healthy region.
      const { inProcess = true, ...probing } = opts.router ?? {};
      const health = new RegionHealth({ catalog, log, ...probing });
      // Regions of this process are served in-process: no second HTTP hop on loopback.
      const local = new Map(inProcess ? started.map((s) => [s.server.region, s.server]) : []);
      const router = new MrapRouter({ catalog, health, log, domains: opts.domains ?? ['localhost'], local: (name) => local.get(name) });
      metrics.addRegistry('global', routerRegistry(() => router.metrics()));
      const server = new GlobalServer({
        catalog,
        log,
        metrics,
        domains: opts.domains ?? ['localhost'],
        notReady: () => {
          const waiting: string[] = [];
          if (closing) waiting.push('shutting down');
          if (catalog.regions().length === 0) waiting.push('catalog');
          return waiting;
        },
        dataPlane: router.handle,
        idleTimeoutMs: opts.idleTimeoutMs,
        ...opts.mrapControl,
      });
      globals.push({ server, router, health });
      global = { endpoint: await server.listen(opts.globalPort, host) };
      catalog.setGlobalEndpoint(global.endpoint);
      health.start();
    }
  } catch (err) {
    sweeping.abort();
    await closeAll(started, globals, catalog, faults, md5);
    throw err;
  }
  return {
    regions: running,
    global,
    close: () => {
      closing = true;
      sweeping.abort();
      return closeAll(started, globals, catalog, faults, md5);
    },
  };
}

interface Started {
  server: RegionServer;
  engine: ObjectEngine;
  sweep: Promise<void>;
  replicator: Replicator;
}

async function closeAll(
  started: Started[],
  globals: { server: GlobalServer; router: MrapRouter; health: RegionHealth }[],
  catalog: LmdbCatalog,
  faults: FaultStore,
  md5: Md5Pool,
): Promise<void> {
  await Promise.all(globals.map((g) => g.server.close()));
  await Promise.all(globals.map(async (g) => {
    await g.router.close();
    await g.health.close();
  }));
  await Promise.all(started.map((s) => s.replicator.close()));
  await Promise.all(started.map((s) => s.server.close()));
  await Promise.all(started.map((s) => s.sweep));
  await Promise.all(started.map((s) => s.engine.close()));
  await catalog.close();
  await faults.close();
  await md5.close();
}

/**
 * Makes the catalog agree with the region's own store, which is the truth for the region's
 * buckets: CreateBucket claims the name before creating the bucket and DeleteBucket deletes
 * it before releasing the name, so a crash between the two leaves a claim with no bucket,
 * which is released here.
 */
async function reconcile(catalog: LmdbCatalog, engine: ObjectEngine, log: Logger): Promise<void> {
  const local = new Map(engine.listBuckets().map((b) => [b.name, b]));
  for (const loc of catalog.listBuckets()) {
    if (loc.region === engine.region && !local.has(loc.name)) await catalog.releaseBucket(loc.name, engine.region);
  }
  for (const b of local.values()) {
    const loc = catalog.lookupBucket(b.name);
    if (!loc) await catalog.claimBucket({ name: b.name, region: b.region, owner: b.owner, createdAt: b.createdAt });
    else if (loc.region !== engine.region) {
      log.warn({ bucket: b.name, region: engine.region, holder: loc.region }, 'bucket name held by another region');
    }
  }
}
