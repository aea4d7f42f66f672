/**
 * Meridian as a target: one region, `us-east-1`, on an ephemeral port; or the regions a
 * scenario asks for (`BENCH_REGIONS`, e.g. for replication), the first one as `endpoint`; and,
 * when the scenario asks (`BENCH_GLOBAL`, the router settings as JSON), the global endpoint
 * with the MRAP router on another ephemeral port, reported as `global` in the ready line.
 *
 * `startWorld` lives in `packages/server/src/cli/world.ts`. It is imported by a computed URL
 * so that this file typechecks before that module exists; `WorldModule` states the contract.
 * If it is missing or throws, the child exits non-zero and the harness reports the target
 * as failed to start and goes on with the others.
 */
import { dataDirFromEnv, requireEnv, serveUntilParentExits } from './child.ts';

interface StartWorldOptions {
  dataDir: string;
  regions?: Array<{ name: string; port: number }>;
  host?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  logLevel?: string;
  router?: { probeIntervalMs?: number; latencyTable?: Record<string, number> };
  globalPort?: number;
}
interface World {
  regions: Array<{ name: string; endpoint: string }>;
  global?: { endpoint: string };
  close(): Promise<void>;
}
interface WorldModule {
  startWorld(opts: StartWorldOptions): Promise<World>;
}

const worldUrl = new URL('../../packages/server/src/cli/world.ts', import.meta.url);

const regionNames = process.env.BENCH_REGIONS?.split(',').filter(Boolean) ?? ['us-east-1'];
const router = process.env.BENCH_GLOBAL
  ? (JSON.parse(process.env.BENCH_GLOBAL) as NonNullable<StartWorldOptions['router']>)
  : undefined;

await serveUntilParentExits(async () => {
  const { startWorld } = (await import(worldUrl.href)) as WorldModule;
  const world = await startWorld({
    dataDir: dataDirFromEnv(),
    regions: regionNames.map((name) => ({ name, port: 0 })),
    host: '127.0.0.1',
    // The harness owns the credentials (bench/target.ts) and hands them over explicitly.
    credentials: {
      accessKeyId: requireEnv('BENCH_ACCESS_KEY_ID'),
      secretAccessKey: requireEnv('BENCH_SECRET_ACCESS_KEY'),
    },
    logLevel: process.env.BENCH_LOG_LEVEL ?? 'warn',
    ...(router ? { globalPort: 0, router } : {}),
  });
  const region = world.regions.find((r) => r.name === regionNames[0]) ?? world.regions[0];
  if (!region) throw new Error('startWorld returned no regions');
  if (router && !world.global) throw new Error('startWorld started no global endpoint');
  return {
    endpoint: region.endpoint,
    regions: Object.fromEntries(world.regions.map((r) => [r.name, r.endpoint])),
    global: world.global?.endpoint,
    close: () => world.close(),
  };
});
