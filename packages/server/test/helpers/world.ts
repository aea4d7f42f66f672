import { lookup as dnsLookup, type LookupOptions } from 'node:dns';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, type AgentOptions } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startWorld, type World, type WorldOptions } from '../../src/cli/world.ts';

export const CREDENTIALS = { accessKeyId: 'test-access-key', secretAccessKey: 'test-secret-key', accountId: '111122223333' };

export interface TestWorld {
  world: World;
  dataDir: string;
  endpoint(region: string): string;
  /** The global endpoint (S3 Control for MRAPs, the MRAP data plane); started on port 0 unless `globalPort` says otherwise. */
  globalEndpoint: string;
  /** A stock S3 client pointed at one region's endpoint, signing for that region by default. */
  client(region: string, config?: Partial<S3ClientConfig>): S3Client;
  close(): Promise<void>;
}

export const THREE_REGIONS = [
  { name: 'us-east-1', port: 0 },
  { name: 'eu-west-1', port: 0 },
  { name: 'ap-southeast-1', port: 0 },
];

/** Starts a world on ephemeral ports over a fresh data directory. */
export async function startTestWorld(opts: Partial<WorldOptions> & { dataDir?: string } = {}): Promise<TestWorld> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'meridian-test-')));
  const world = await startWorld({ regions: THREE_REGIONS, credentials: CREDENTIALS, globalPort: 0, ...opts, dataDir });
  const clients: S3Client[] = [];
  const endpoint = (region: string): string => {
    const r = world.regions.find((x) => x.name === region);
    if (!r) throw new Error(`no region ${region}`);
    return r.endpoint;
  };
  return {
    world,
    dataDir,
    endpoint,
    get globalEndpoint() {
      if (!world.global) throw new Error('this world has no global endpoint');
      return world.global.endpoint;
    },
    client(region, config = {}) {
      const c = new S3Client({
        region,
        endpoint: endpoint(region),
        forcePathStyle: true,
        credentials: CREDENTIALS,
        maxAttempts: 1,
        ...config,
      });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.destroy();
      await world.close();
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads a whole response body stream (for small test objects). */
export async function bodyText(body: unknown): Promise<string> {
  const b = body as { transformToString(): Promise<string> };
  return b.transformToString();
}

/**
 * A request handler whose DNS resolves `*.localhost` to 127.0.0.1, for virtual-hosted-style
 * tests on machines whose resolver does not (systemd-resolved and macOS do; plain glibc doesn't).
 */
export function localhostResolvingHandler(): NodeHttpHandler {
  const lookup = ((hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void) => {
    const target = hostname === 'localhost' || hostname.endsWith('.localhost') ? '127.0.0.1' : hostname;
    if (target === '127.0.0.1') {
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
      return;
    }
    dnsLookup(hostname, options, callback as never);
  }) as unknown as AgentOptions['lookup'];
  return new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, lookup }) });
}
