/**
 * Two OS processes sharing one bucket-region cache, a FileRegionCache and a RedisRegionCache:
 * what process A learns, process B finds without a lookup. First through the cache API alone,
 * then through MultiRegionS3Client in each process against a three-region Meridian world,
 * counting HTTP requests: A's cold call costs one extra round trip, B's costs none.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { CREDENTIALS, startTestWorld, type TestWorld } from '../../server/test/helpers/world.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const moduleUrl = (relative: string) => pathToFileURL(fileURLToPath(new URL(relative, import.meta.url))).href;

/**
 * Opens the shared cache named by $CACHE in a child process: `file` (directory $DIR) or `redis`
 * (prefix $PREFIX), as `cache`.
 */
const OPEN_CACHE = `
  import { FileRegionCache } from ${JSON.stringify(moduleUrl('../src/cache/file.ts'))};
  import { RedisRegionCache } from ${JSON.stringify(moduleUrl('../src/cache/redis.ts'))};
  const cache = process.env.CACHE === 'file'
    ? new FileRegionCache({ dir: process.env.DIR })
    : new RedisRegionCache({ redis: process.env.REDIS_URL, prefix: process.env.PREFIX });
`;

/** Runs ESM code in a new Node process (with tsx), after OPEN_CACHE; resolves its stdout. */
async function inProcess(code: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', `${OPEN_CACHE}\n${code}\nawait cache.close?.();`],
    { cwd: ROOT, env: { ...process.env, REDIS_URL, ...env }, timeout: 60_000 },
  );
  return stdout;
}

describe('a bucket-region cache shared by two processes', { concurrency: true }, () => {
  let dir: string;
  let admin: Redis;
  const prefix = `meridian-test:shared:${process.pid}-${randomBytes(4).toString('hex')}:`;
  let n = 0;
  /** The environment that gives two processes the same cache of `kind`. */
  const sharedCache = (kind: 'file' | 'redis'): Record<string, string> => ({
    CACHE: kind,
    DIR: join(dir, `cache-${++n}`),
    PREFIX: `${prefix}${++n}:`,
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meridian-shared-cache-'));
    admin = new Redis(REDIS_URL, {
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    admin.on('error', () => undefined);
    await admin.connect().catch((err: unknown) => {
      throw new Error(`Redis must run at ${REDIS_URL} for these tests (.ci/run starts it)`, { cause: err });
    });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    if (admin.status === 'ready') {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    } else {
      admin.disconnect();
    }
  });

  for (const kind of ['file', 'redis'] as const) {
    test(`${kind}: what process A sets, process B gets; what B deletes, A no longer finds`, async () => {
      const env = sharedCache(kind);
      await inProcess(`await cache.set('learned-by-a', 'eu-west-1');`, env);
      const seen = await inProcess(
        `console.log(JSON.stringify(await cache.get('learned-by-a') ?? null)); await cache.delete('learned-by-a');`,
        env,
      );
      assert.equal(JSON.parse(seen), 'eu-west-1');
      const afterDelete = await inProcess(`console.log(JSON.stringify(await cache.get('learned-by-a') ?? null));`, env);
      assert.equal(JSON.parse(afterDelete), null);
    });
  }

  describe('through MultiRegionS3Client against Meridian', { concurrency: true }, () => {
    let w: TestWorld;
    let endpoints: Record<string, string>;

    before(async () => {
      w = await startTestWorld();
      endpoints = Object.fromEntries(['us-east-1', 'eu-west-1', 'ap-southeast-1'].map((r) => [r, w.endpoint(r)]));
      const eu = w.client('eu-west-1');
      await eu.send(
        new CreateBucketCommand({
          Bucket: 'shared-ireland',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      );
      await eu.send(new PutObjectCommand({ Bucket: 'shared-ireland', Key: 'hello', Body: 'hello from eu-west-1' }));
    });
    after(() => w?.close());

    /**
     * One process's client (default region us-east-1) gets the object of a bucket in
     * eu-west-1; resolves the regions its HTTP requests went to.
     */
    async function getInNewProcess(env: Record<string, string>): Promise<string[]> {
      const out = await inProcess(
        `
        import { GetObjectCommand } from '@aws-sdk/client-s3';
        import { MultiRegionS3Client } from ${JSON.stringify(moduleUrl('../src/index.ts'))};
        import { CountingHandler, hostOf } from ${JSON.stringify(moduleUrl('./helpers.ts'))};
        const endpoints = JSON.parse(process.env.ENDPOINTS);
        const http = new CountingHandler();
        const s3 = new MultiRegionS3Client({
          region: 'us-east-1', endpoints, forcePathStyle: true, maxAttempts: 1,
          credentials: JSON.parse(process.env.CREDENTIALS), requestHandler: http, bucketRegionCache: cache,
          onWarning: (message) => { throw new Error('unexpected cache warning: ' + message); },
        });
        const got = await s3.send(new GetObjectCommand({ Bucket: 'shared-ireland', Key: 'hello' }));
        if ((await got.Body.transformToString()) !== 'hello from eu-west-1') throw new Error('wrong body');
        const regionOf = new Map(Object.entries(endpoints).map(([r, e]) => [hostOf(e), r]));
        console.log(JSON.stringify(http.sent.map((req) => regionOf.get(req.host) ?? req.host)));
        s3.destroy();
        `,
        { ...env, ENDPOINTS: JSON.stringify(endpoints), CREDENTIALS: JSON.stringify(CREDENTIALS) },
      );
      return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
    }

    for (const kind of ['file', 'redis'] as const) {
      test(`${kind}: process A pays one extra round trip to learn the region, process B pays none`, async () => {
        const env = sharedCache(kind);
        assert.deepEqual(
          await getInNewProcess(env),
          ['us-east-1', 'eu-west-1'],
          'A: the wrong region, then the right one',
        );
        assert.deepEqual(await getInNewProcess(env), ['eu-west-1'], 'B: straight to the right region');
      });
    }
  });
});
