import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  paginateListObjectsV2,
  waitUntilObjectExists,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CREDENTIALS, startTestWorld, type TestWorld } from '../../server/test/helpers/world.ts';
import {
  BodyNotReplayableError,
  MemoryRegionCache,
  MultiRegionS3Client,
  inRegion,
  presign,
  type BucketRegionCache,
  type MultiRegionS3ClientConfig,
  type RedirectEvent,
} from '../src/index.ts';
import { CountingHandler, hostOf } from './helpers.ts';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'] as const;
const BUCKET: Record<string, string> = {
  'us-east-1': 'mr-virginia',
  'eu-west-1': 'mr-ireland',
  'ap-southeast-1': 'mr-singapore',
};

describe('MultiRegionS3Client against a three-region Meridian world', () => {
  let w: TestWorld;
  let endpoints: Record<string, string>;
  const clients: MultiRegionS3Client[] = [];

  function make(config: Partial<MultiRegionS3ClientConfig> = {}): { s3: MultiRegionS3Client; http: CountingHandler; redirects: RedirectEvent[] } {
    const http = new CountingHandler();
    const redirects: RedirectEvent[] = [];
    const s3 = new MultiRegionS3Client({
      region: 'us-east-1',
      endpoints,
      forcePathStyle: true,
      credentials: CREDENTIALS,
      maxAttempts: 1,
      requestHandler: http,
      onRedirect: (e) => redirects.push(e),
      ...config,
    });
    clients.push(s3);
    return { s3, http, redirects };
  }

  /** The regions (by endpoint) the requests since `mark` went to. */
  function regionsHit(http: CountingHandler, mark: number): string[] {
    const byHost = new Map(REGIONS.map((r) => [hostOf(endpoints[r]), r]));
    return http.since(mark).map((req) => byHost.get(req.host) ?? req.host);
  }

  before(async () => {
    w = await startTestWorld();
    endpoints = Object.fromEntries(REGIONS.map((r) => [r, w.endpoint(r)]));
    for (const region of REGIONS) {
      const c = w.client(region);
      await c.send(
        new CreateBucketCommand({
          Bucket: BUCKET[region],
          ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-1' } }),
        }),
      );
      await c.send(new PutObjectCommand({ Bucket: BUCKET[region], Key: 'hello', Body: `hello from ${region}` }));
    }
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await w.close();
  });

  test('cold cache: a bucket in another region costs exactly one extra round trip; warm: none', async () => {
    const { s3, http, redirects } = make();
    for (const region of REGIONS) {
      let mark = http.sent.length;
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET[region], Key: 'hello' }));
      assert.equal(await got.Body?.transformToString(), `hello from ${region}`);
      const cold = regionsHit(http, mark);
      assert.deepEqual(cold, region === 'us-east-1' ? ['us-east-1'] : ['us-east-1', region], `cold ${region}`);

      mark = http.sent.length;
      const again = await s3.send(new GetObjectCommand({ Bucket: BUCKET[region], Key: 'hello' }));
      assert.equal(await again.Body?.transformToString(), `hello from ${region}`);
      assert.deepEqual(regionsHit(http, mark), [region], `warm ${region}`);
    }
    assert.deepEqual(
      redirects.map((r) => [r.bucket, r.from, r.to, r.source]),
      [
        ['mr-ireland', 'us-east-1', 'eu-west-1', 'answer'],
        ['mr-singapore', 'us-east-1', 'ap-southeast-1', 'answer'],
      ],
    );
    assert.equal(await s3.regionCache.get('mr-virginia'), undefined, 'a success teaches nothing');
    assert.equal(await s3.regionCache.get('mr-ireland'), 'eu-west-1');
  });

  test('every command is routed right, cold and warm, with and without @region', async () => {
    // GetBucketLocation is answered by every region (as on AWS): it never costs a redirect.
    type Case = [string, (s3: MultiRegionS3Client, bucket: string, region?: string) => Promise<unknown>, anyRegion?: boolean];
    const at = <C extends { readonly input: object }>(command: C, region?: string): C => (region ? inRegion(command, region) : command);
    const cases: Case[] = [
      ['PutObject', (s3, b, r) => s3.send(at(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }), r))],
      ['HeadObject (301 without a body)', (s3, b, r) => s3.send(at(new HeadObjectCommand({ Bucket: b, Key: 'hello' }), r))],
      ['GetObject', (s3, b, r) => s3.send(at(new GetObjectCommand({ Bucket: b, Key: 'hello' }), r))],
      ['ListObjectsV2', (s3, b, r) => s3.send(at(new ListObjectsV2Command({ Bucket: b }), r))],
      ['HeadBucket', (s3, b, r) => s3.send(at(new HeadBucketCommand({ Bucket: b }), r))],
      ['GetBucketLocation', (s3, b, r) => s3.send(at(new GetBucketLocationCommand({ Bucket: b }), r)), true],
      ['CopyObject', (s3, b, r) => s3.send(at(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/hello` }), r))],
      ['DeleteObject', (s3, b, r) => s3.send(at(new DeleteObjectCommand({ Bucket: b, Key: 'copy' }), r))],
    ];
    for (const [name, build, anyRegion] of cases) {
      for (const region of REGIONS) {
        const bucket = BUCKET[region];
        const { s3, http } = make();
        let mark = http.sent.length;
        await build(s3, bucket);
        const expected = region === 'us-east-1' || anyRegion ? ['us-east-1'] : ['us-east-1', region];
        assert.deepEqual(regionsHit(http, mark), expected, `${name} ${region} cold`);

        mark = http.sent.length;
        await build(s3, bucket);
        assert.deepEqual(regionsHit(http, mark), [anyRegion ? 'us-east-1' : region], `${name} ${region} warm`);

        const fresh = make();
        mark = fresh.http.sent.length;
        await build(fresh.s3, bucket, region);
        assert.deepEqual(regionsHit(fresh.http, mark), [region], `${name} ${region} with @region`);
      }
    }
  });

  test("'@region' in a plain input literal works at runtime and never reaches the wire", async () => {
    const { s3, http } = make();
    const input = { Bucket: 'mr-singapore', Key: 'hello', '@region': 'ap-southeast-1' };
    const got = await s3.send(new GetObjectCommand(input as { Bucket: string; Key: string }));
    assert.equal(await got.Body?.transformToString(), 'hello from ap-southeast-1');
    assert.deepEqual(regionsHit(http, 0), ['ap-southeast-1']);
    assert.doesNotMatch(http.sent[0].path, /region/);
    assert.equal(input['@region'], 'ap-southeast-1', "the caller's input is left alone");
  });

  test('a wrong @region is corrected once too', async () => {
    const { s3, http } = make();
    const got = await s3.send(inRegion(new GetObjectCommand({ Bucket: 'mr-ireland', Key: 'hello' }), 'ap-southeast-1'));
    assert.equal(await got.Body?.transformToString(), 'hello from eu-west-1');
    assert.deepEqual(regionsHit(http, 0), ['ap-southeast-1', 'eu-west-1']);
  });

  test('a request signed for the wrong region (AuthorizationHeaderMalformed) is resent, signed right', async () => {
    // One endpoint for every region: the server is us-east-1's, the default signing region is not.
    const { s3, http, redirects } = make({ region: 'ap-southeast-1', endpoints: {}, endpoint: w.endpoint('us-east-1') });
    const out = await s3.send(new ListObjectsV2Command({ Bucket: 'mr-virginia' }));
    assert.ok(out.Contents?.some((o) => o.Key === 'hello'));
    assert.equal(http.sent.length, 2);
    assert.equal(redirects[0]?.kind, 'signature');
    assert.equal(redirects[0]?.to, 'us-east-1');
  });

  test('CreateBucket goes to the region of its LocationConstraint; a mismatched @region is not "corrected"', async () => {
    const { s3, http } = make();
    await s3.send(new CreateBucketCommand({ Bucket: 'mr-new-ireland', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    assert.deepEqual(regionsHit(http, 0), ['eu-west-1']);
    const loc = await w.client('us-east-1').send(new GetBucketLocationCommand({ Bucket: 'mr-new-ireland' }));
    assert.equal(loc.LocationConstraint, 'eu-west-1');
    await assert.rejects(
      s3.send(
        inRegion(
          new CreateBucketCommand({ Bucket: 'mr-misplaced', CreateBucketConfiguration: { LocationConstraint: 'ap-southeast-1' } }),
          'eu-west-1',
        ),
      ),
      (err: S3ServiceException) => err.name === 'IllegalLocationConstraintException',
    );
    await s3.send(new DeleteBucketCommand({ Bucket: 'mr-new-ireland' }));
  });

  test('ListBuckets (no bucket) goes to the default region', async () => {
    const { s3, http } = make({ region: 'eu-west-1' });
    const out = await s3.send(new ListBucketsCommand({}));
    assert.ok(out.Buckets?.some((b) => b.Name === 'mr-singapore'));
    assert.deepEqual(regionsHit(http, 0), ['eu-west-1']);
  });

  test('small stream bodies are replayed to the right region; large ones are refused with a clear error', async () => {
    const { s3 } = make({ maxReplayBytes: 64 * 1024 });
    const text = 'streamed '.repeat(1000);
    await s3.send(
      new PutObjectCommand({ Bucket: 'mr-ireland', Key: 'streamed', Body: Readable.from([Buffer.from(text)]), ContentLength: text.length }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: 'mr-ireland', Key: 'streamed' }));
    assert.equal(await got.Body?.transformToString(), text);

    const big = Buffer.alloc(256 * 1024, 7);
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: 'mr-singapore', Key: 'big', Body: Readable.from([big]), ContentLength: big.length })),
      (err: Error) => err instanceof BodyNotReplayableError && /'@region'/.test(err.message),
    );
    // Told the region, the same upload works.
    await s3.send(
      inRegion(new PutObjectCommand({ Bucket: 'mr-singapore', Key: 'big', Body: Readable.from([big]), ContentLength: big.length }), 'ap-southeast-1'),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'mr-singapore', Key: 'big' }));
    assert.equal(head.ContentLength, big.length);
  });

  test('NoSuchBucket from the cached region forgets the entry', async () => {
    const cache = new MemoryRegionCache();
    await cache.set('mr-vanished', 'eu-west-1');
    const { s3 } = make({ bucketRegionCache: cache });
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'mr-vanished', Key: 'x' })), { name: 'NoSuchBucket' });
    assert.equal(await cache.get('mr-vanished'), undefined);
  });

  test('a shared cache: a second client starts warm', async () => {
    const cache = new MemoryRegionCache();
    const first = make({ bucketRegionCache: cache });
    await first.s3.send(new HeadObjectCommand({ Bucket: 'mr-singapore', Key: 'hello' }));
    assert.equal(first.http.sent.length, 2);
    const second = make({ bucketRegionCache: cache });
    await second.s3.send(new HeadObjectCommand({ Bucket: 'mr-singapore', Key: 'hello' }));
    assert.deepEqual(regionsHit(second.http, 0), ['ap-southeast-1']);
  });

  test('a failing cache degrades to no cache with one warning, and never fails a request', async () => {
    const broken: BucketRegionCache = {
      get: async () => {
        throw new Error('redis down');
      },
      set: async () => {
        throw new Error('redis down');
      },
      delete: async () => {
        throw new Error('redis down');
      },
    };
    const warnings: string[] = [];
    const { s3, http } = make({ bucketRegionCache: broken, onWarning: (m) => warnings.push(m) });
    for (let i = 0; i < 3; i++) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'mr-ireland', Key: 'hello' }));
      assert.equal(await got.Body?.transformToString(), 'hello from eu-west-1');
    }
    assert.equal(http.sent.length, 6, 'without a cache every call pays the redirect');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /redis down/);
  });

  test('concurrent requests to buckets in different regions do not share state', async () => {
    const { s3, http } = make();
    const jobs = Array.from({ length: 30 }, (_, i) => REGIONS[i % 3]);
    const bodies = await Promise.all(
      jobs.map(async (region) => {
        const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET[region], Key: 'hello' }));
        return out.Body?.transformToString();
      }),
    );
    assert.deepEqual(bodies, jobs.map((r) => `hello from ${r}`));
    // Cold and concurrent: each request pays at most one extra round trip.
    assert.ok(http.sent.length <= 30 + 20, `sent ${http.sent.length}`);
    const mark = http.sent.length;
    await Promise.all(jobs.map((region) => s3.send(new HeadObjectCommand({ Bucket: BUCKET[region], Key: 'hello' }))));
    assert.equal(http.since(mark).length, 30, 'warm: one request each');
  });

  test('paginators and waiters work across regions', async () => {
    const { s3, http } = make();
    for (let i = 0; i < 5; i++) {
      await s3.send(inRegion(new PutObjectCommand({ Bucket: 'mr-singapore', Key: `page/${i}`, Body: String(i) }), 'ap-southeast-1'));
    }
    const mark = http.sent.length;
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: 'mr-singapore', Prefix: 'page/' })) {
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    }
    assert.deepEqual(keys, ['page/0', 'page/1', 'page/2', 'page/3', 'page/4']);
    // A success with '@region' teaches nothing: the listing pays one redirect, then 3 pages go straight there.
    assert.deepEqual(regionsHit(http, mark), ['us-east-1', 'ap-southeast-1', 'ap-southeast-1', 'ap-southeast-1']);

    const fresh = make();
    const waited = await waitUntilObjectExists({ client: fresh.s3, maxWaitTime: 10 }, { Bucket: 'mr-ireland', Key: 'hello' });
    assert.equal(waited.state, 'SUCCESS');
  });

  test('lib-storage Upload (multipart, 12 MiB) to a bucket in another region', async () => {
    const { s3, http } = make();
    const data = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
    const upload = new Upload({ client: s3, params: { Bucket: 'mr-ireland', Key: 'big-upload', Body: data }, partSize: 5 * 1024 * 1024 });
    await upload.done();
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'mr-ireland', Key: 'big-upload' }));
    assert.equal(head.ContentLength, data.length);
    const hits = regionsHit(http, 0);
    assert.equal(hits.filter((r) => r === 'us-east-1').length, 1, 'only the first call went to the default region');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'mr-ireland', Key: 'big-upload' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
  });

  test('presigned GET URL for a bucket in another region works (region resolved by probe, then cached)', async () => {
    const { s3, http } = make();
    const url = await presign(s3, new GetObjectCommand({ Bucket: 'mr-singapore', Key: 'hello' }), { expiresIn: 60 });
    assert.equal(http.sent.length, 1, 'one unsigned HeadBucket probe');
    assert.ok(url.startsWith(w.endpoint('ap-southeast-1')), url);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello from ap-southeast-1');
    await presign(s3, new GetObjectCommand({ Bucket: 'mr-singapore', Key: 'hello' }), { expiresIn: 60 });
    assert.equal(http.sent.length, 1, 'warm: no probe');
    const explicit = await presign(s3, inRegion(new GetObjectCommand({ Bucket: 'mr-ireland', Key: 'hello' }), 'eu-west-1'));
    assert.equal(await (await fetch(explicit)).text(), 'hello from eu-west-1');
  });

  test('callback-style send works', async () => {
    const { s3 } = make();
    const region = await new Promise<string | undefined>((resolve, reject) =>
      s3.send(new HeadBucketCommand({ Bucket: 'mr-ireland' }), (err, data) => (err ? reject(err) : resolve(data?.BucketRegion))),
    );
    assert.equal(region, 'eu-west-1');
  });
});
