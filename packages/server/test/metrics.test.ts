/**
 * Operating a world: Prometheus metrics at `/metrics` of every region and of the global
 * endpoint (parsed strictly and checked against a known workload: requests, latency, bytes,
 * store sizes, event-loop lag, replication while a destination is down and after, router),
 * `/metrics` not shadowing a bucket named `metrics`, health and readiness, and the request log
 * (one JSON line per request, never a signature or a secret).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import {
  CreateMultiRegionAccessPointCommand,
  GetMultiRegionAccessPointCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { request } from 'undici';
import { faultsPath } from '../src/cli/fault.ts';
import { FaultStore } from '../src/core/faults.ts';
import { createLogger } from '../src/core/log.ts';
import { signRequest } from '../src/s3/auth/sign.ts';
import { eventually } from './helpers/eventually.ts';
import { replicatedPair } from './helpers/replication.ts';
import { parsePrometheus, samples, value, type Family } from './helpers/prometheus.ts';
import { CREDENTIALS, localhostResolvingHandler, startTestWorld, type TestWorld } from './helpers/world.ts';

const AccountId = CREDENTIALS.accountId;

describe('metrics and request logs', () => {
  let w: TestWorld;
  let us: S3Client;
  let eu: S3Client;
  const lines: string[] = [];
  const logs = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  before(async () => {
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
    w = await startTestWorld({
      logger,
      mrapControl: { asyncDelayMs: 20 },
      router: { latencyTable: { 'us-east-1': 5, 'eu-west-1': 50, 'ap-southeast-1': 100 }, probeIntervalMs: 200 },
      replication: { retryBaseMs: 50, retryMaxMs: 500 },
    });
    us = w.client('us-east-1');
    eu = w.client('eu-west-1');
  });

  after(async () => {
    await w.close();
  });

  const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];

  async function scrape(endpoint: string): Promise<Map<string, Family>> {
    const res = await fetch(`${endpoint}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await res.text());
  }

  test('requests are counted per operation, status and region, with latency histograms, bytes and store sizes', async () => {
    await us.send(new CreateBucketCommand({ Bucket: 'met-a' }));
    const bodies = ['a'.repeat(100), 'b'.repeat(2000), 'c'.repeat(30_000)];
    for (const [i, body] of bodies.entries()) await us.send(new PutObjectCommand({ Bucket: 'met-a', Key: `k${i}`, Body: body }));
    // An overwrite of an unversioned key replaces its bytes.
    await us.send(new PutObjectCommand({ Bucket: 'met-a', Key: 'k0', Body: 'z'.repeat(10) }));
    for (const key of ['k1', 'k2']) await (await us.send(new GetObjectCommand({ Bucket: 'met-a', Key: key }))).Body!.transformToString();
    await assert.rejects(us.send(new GetObjectCommand({ Bucket: 'met-a', Key: 'missing' })));
    await assert.rejects(us.send(new HeadObjectCommand({ Bucket: 'met-a', Key: 'missing' })));

    const m = await scrape(w.endpoint('us-east-1'));
    const region = 'us-east-1';
    assert.equal(value(m, 'meridian_requests_total', { region, operation: 'CreateBucket', status: '200' }), 1);
    assert.equal(value(m, 'meridian_requests_total', { region, operation: 'PutObject', status: '200' }), 4);
    assert.equal(value(m, 'meridian_requests_total', { region, operation: 'GetObject', status: '200' }), 2);
    assert.equal(value(m, 'meridian_requests_total', { region, operation: 'GetObject', status: '404' }), 1);
    assert.equal(value(m, 'meridian_requests_total', { region, operation: 'HeadObject', status: '404' }), 1);
    assert.equal(m.get('meridian_requests_total')?.type, 'counter');

    assert.equal(m.get('meridian_request_duration_seconds')?.type, 'histogram');
    assert.equal(value(m, 'meridian_request_duration_seconds_count', { region, operation: 'PutObject' }), 4);
    const buckets = samples(m, 'meridian_request_duration_seconds_bucket', { region, operation: 'PutObject' });
    assert.ok(buckets.length >= 10, 'latency buckets from a millisecond to minutes');
    assert.equal(buckets.find((b) => b.labels.le === '+Inf')?.value, 4);
    const counts = buckets.map((b) => b.value);
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'cumulative buckets');
    assert.ok((value(m, 'meridian_request_duration_seconds_sum', { region, operation: 'PutObject' }) ?? 0) > 0);

    assert.equal(value(m, 'meridian_request_bytes_total', { region, operation: 'PutObject' }), 100 + 2000 + 30_000 + 10);
    assert.ok((value(m, 'meridian_response_bytes_total', { region, operation: 'GetObject' }) ?? 0) >= 32_000);

    assert.equal(value(m, 'meridian_store_objects', { region }), 3);
    assert.equal(value(m, 'meridian_store_versions', { region }), 3);
    assert.equal(value(m, 'meridian_store_bytes', { region }), 10 + 2000 + 30_000);
    assert.ok((value(m, 'meridian_store_buckets', { region }) ?? 0) >= 1);
    assert.ok(m.has('nodejs_eventloop_lag_seconds'), 'event-loop lag');
    assert.ok(m.has('nodejs_eventloop_lag_p99_seconds'));

    // Each endpoint serves its own region's series: one process, nothing counted twice.
    for (const f of m.values()) {
      for (const s of f.samples) if (s.labels.region !== undefined) assert.equal(s.labels.region, region, `${s.name} on us-east-1`);
    }
    const euMetrics = await scrape(w.endpoint('eu-west-1'));
    assert.equal(value(euMetrics, 'meridian_requests_total', { region, operation: 'PutObject', status: '200' }), undefined);
    assert.equal(value(euMetrics, 'meridian_store_objects', { region: 'eu-west-1' }), 0);
  });

  test('every endpoint: its own store sizes, event-loop lag (a stall shows) and process figures', async () => {
    // The world runs in this process: stall its event loop for 300 ms, in a timer callback (a
    // stall is measured by the next turn of the loop's own timer), and let the loop turn. Node
    // measures nothing in the first tick after a scrape resets the histogram: wait that out first.
    await new Promise((r) => setTimeout(r, 50));
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        const until = performance.now() + 300;
        while (performance.now() < until) {
          // busy
        }
        resolve();
      }, 1),
    );
    await new Promise((r) => setTimeout(r, 50));
    const endpoints = [...REGIONS.map((r) => ({ scope: r, endpoint: w.endpoint(r) })), { scope: 'global', endpoint: w.globalEndpoint }];
    for (const [i, { scope, endpoint }] of endpoints.entries()) {
      const m = await scrape(endpoint);
      const lag = value(m, 'nodejs_eventloop_lag_seconds', {});
      assert.ok(lag !== undefined && Number.isFinite(lag) && lag >= 0, `${scope}: lag ${lag}`);
      // The first scrape after the stall sees it; each scrape starts the next window.
      if (i === 0) assert.ok((value(m, 'nodejs_eventloop_lag_max_seconds', {}) ?? 0) >= 0.25, `${scope}: the stall shows`);
      assert.ok((value(m, 'nodejs_eventloop_lag_p99_seconds', {}) ?? -1) >= 0);
      assert.ok((value(m, 'process_resident_memory_bytes', {}) ?? 0) > 0, `${scope}: process figures`);
      if (scope === 'global') {
        assert.equal(samples(m, 'meridian_store_objects').length, 0, 'the global endpoint stores nothing');
        continue;
      }
      for (const name of ['meridian_store_buckets', 'meridian_store_objects', 'meridian_store_versions', 'meridian_store_bytes']) {
        assert.equal(m.get(name)?.type, 'gauge', `${scope}: ${name}`);
        assert.equal(samples(m, name).length, 1, `${scope}: only its own ${name}`);
      }
    }
    // Nothing was ever written to ap-southeast-1; the previous test's three objects are in us-east-1.
    const ap = await scrape(w.endpoint('ap-southeast-1'));
    assert.deepEqual(
      ['meridian_store_buckets', 'meridian_store_objects', 'meridian_store_bytes'].map((n) => value(ap, n, { region: 'ap-southeast-1' })),
      [0, 0, 0],
    );
  });

  test('replication series on the source region, router series per MRAP and region on the global endpoint', async () => {
    await replicatedPair({
      source: us,
      destination: eu,
      sourceBucket: 'met-src',
      destinationBucket: 'met-dst',
      destinationRegion: 'eu-west-1',
      ruleId: 'to-eu',
    });
    await us.send(new PutObjectCommand({ Bucket: 'met-src', Key: 'r/1', Body: 'replicate me' }));
    const labels = { region: 'us-east-1', bucket: 'met-src', rule: 'to-eu', destination: 'met-dst' };
    await eventually(async () => {
      const m = await scrape(w.endpoint('us-east-1'));
      assert.equal(value(m, 'meridian_replication_operations_completed', labels), 1);
      assert.equal(value(m, 'meridian_replication_operations_pending', labels), 0);
    });
    // The replica's PUT reached eu-west-1 as a request of its own.
    const euMetrics = await scrape(w.endpoint('eu-west-1'));
    assert.ok((value(euMetrics, 'meridian_requests_total', { region: 'eu-west-1', operation: 'PutObject', status: '200' }) ?? 0) >= 1);
    assert.equal(samples(euMetrics, 'meridian_replication_operations_completed', { region: 'us-east-1' }).length, 0);

    const control = new S3ControlClient({
      region: 'us-west-2',
      endpoint: w.globalEndpoint.replace('127.0.0.1', 'localhost'),
      credentials: CREDENTIALS,
      requestHandler: localhostResolvingHandler(),
      maxAttempts: 1,
    });
    const mrapClient = new S3Client({ region: 'us-east-1', endpoint: w.globalEndpoint, forcePathStyle: true, credentials: CREDENTIALS, maxAttempts: 1 });
    try {
      await control.send(
        new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'met', Regions: [{ Bucket: 'met-src' }, { Bucket: 'met-dst' }] } }),
      );
      const alias = await eventually(async () => {
        const got = await control.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'met' }));
        assert.equal(got.AccessPoint?.Status, 'READY');
        return got.AccessPoint!.Alias!;
      });
      await mrapClient.send(new PutObjectCommand({ Bucket: alias, Key: 'via-mrap', Body: 'hello' }));
      await (await mrapClient.send(new GetObjectCommand({ Bucket: alias, Key: 'via-mrap' }))).Body!.transformToString();

      const g = await scrape(w.globalEndpoint);
      // us-east-1 is nearest in the latency table.
      assert.equal(value(g, 'meridian_mrap_requests_total', { mrap: alias, region: 'us-east-1' }), 2);
      assert.equal(value(g, 'meridian_mrap_errors_total', { mrap: alias, region: 'us-east-1' }), 0);
      assert.equal(value(g, 'meridian_mrap_failovers_total', { mrap: alias, region: 'us-east-1' }), 0);
      assert.ok((value(g, 'meridian_mrap_request_duration_seconds_total', { mrap: alias, region: 'us-east-1' }) ?? 0) > 0);
      assert.equal(value(g, 'meridian_mrap_region_healthy', { region: 'eu-west-1' }), 1);
      assert.equal(value(g, 'meridian_mrap_region_distance_seconds', { region: 'eu-west-1' }), 0.05);
      // The global endpoint's own requests, by operation, as region "global".
      assert.equal(value(g, 'meridian_requests_total', { region: 'global', operation: 'PutObject', status: '200' }), 1);
      assert.equal(value(g, 'meridian_requests_total', { region: 'global', operation: 'GetObject', status: '200' }), 1);
      assert.equal(value(g, 'meridian_requests_total', { region: 'global', operation: 'CreateMultiRegionAccessPoint', status: '200' }), 1);
      assert.equal(value(g, 'meridian_request_duration_seconds_count', { region: 'global', operation: 'GetObject' }), 1);
      // Bytes through the global endpoint: 'hello' in with the PUT, out with the GET.
      assert.equal(value(g, 'meridian_request_bytes_total', { region: 'global', operation: 'PutObject' }), 5);
      assert.equal(value(g, 'meridian_response_bytes_total', { region: 'global', operation: 'GetObject' }), 5);
      assert.equal(value(g, 'meridian_mrap_response_bytes_total', { mrap: alias, region: 'us-east-1' }), 5);
      assert.ok(g.has('nodejs_eventloop_lag_seconds'));
      assert.equal(samples(g, 'meridian_requests_total', { region: 'us-east-1' }).length, 0);
    } finally {
      control.destroy();
      mrapClient.destroy();
    }
  });

  test('/metrics does not shadow a bucket named metrics: signed and presigned requests reach S3', async () => {
    await us.send(new CreateBucketCommand({ Bucket: 'metrics' }));
    await us.send(new PutObjectCommand({ Bucket: 'metrics', Key: 'cpu.csv', Body: 'x' }));
    const listed = await us.send(new ListObjectsV2Command({ Bucket: 'metrics' }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['cpu.csv']);
    const url = await getSignedUrl(us, new ListObjectsV2Command({ Bucket: 'metrics' }), { expiresIn: 60 });
    const presigned = await fetch(url);
    assert.equal(presigned.status, 200);
    assert.match(await presigned.text(), /<ListBucketResult[^>]*>.*<Key>cpu\.csv<\/Key>/s);
    // Exactly `/metrics` with a query signature is S3's too (the signature was made for `/metrics/`).
    const exact = new URL(url);
    exact.pathname = '/metrics';
    const refused = await fetch(exact);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
    // The unsigned scrape is Prometheus'.
    const scraped = await fetch(`${w.endpoint('us-east-1')}/metrics`);
    assert.match(await scraped.text(), /^# HELP /m);
    // So is the operator path, which also has everything.
    const operator = parsePrometheus(await (await fetch(`${w.endpoint('us-east-1')}/_meridian/metrics`)).text());
    assert.ok(operator.has('meridian_requests_total') && operator.has('meridian_replication_operations_pending'));
  });

  test('health and readiness on every region and on the global endpoint', async () => {
    for (const endpoint of [...REGIONS.map((r) => w.endpoint(r)), w.globalEndpoint]) {
      const health = await fetch(`${endpoint}/_meridian/health`);
      assert.equal(health.status, 200, endpoint);
      assert.equal(((await health.json()) as { status: string }).status, 'ok');
      const res = await fetch(`${endpoint}/_meridian/ready`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { status: string }).status, 'ready');
    }
  });

  test('replication series: what waits while a destination is down, failures, then latency and RTC once it drains', async () => {
    const ap = w.client('ap-southeast-1');
    const faults = new FaultStore(faultsPath(w.dataDir));
    const rules = (source: string, destination: string, id: string) =>
      us.send(
        new PutBucketReplicationCommand({
          Bucket: source,
          ReplicationConfiguration: {
            Role: `arn:aws:iam::${AccountId}:role/replication`,
            Rules: [{ ID: id, Priority: 1, Status: 'Enabled', Filter: {}, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: `arn:aws:s3:::${destination}` } }],
          },
        }),
      );
    for (const [client, bucket, region] of [[us, 'met-wait', 'us-east-1'], [ap, 'met-wait-dst', 'ap-southeast-1'], [us, 'met-fail', 'us-east-1'], [eu, 'met-fail-dst', 'eu-west-1']] as const) {
      await client.send(
        new CreateBucketCommand({ Bucket: bucket, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }) }),
      );
      await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    }
    await rules('met-wait', 'met-wait-dst', 'to-ap');
    await rules('met-fail', 'met-fail-dst', 'to-eu');
    // A destination that is not versioned fails every copy for good (DstBucketUnversioned).
    await eu.send(new PutBucketVersioningCommand({ Bucket: 'met-fail-dst', VersioningConfiguration: { Status: 'Suspended' } }));
    const waiting = { region: 'us-east-1', bucket: 'met-wait', rule: 'to-ap', destination: 'met-wait-dst' };
    const failing = { region: 'us-east-1', bucket: 'met-fail', rule: 'to-eu', destination: 'met-fail-dst' };
    const SIZES = [100, 2000, 30_000];
    await faults.regionDown('ap-southeast-1');
    try {
      for (const [i, size] of SIZES.entries()) await us.send(new PutObjectCommand({ Bucket: 'met-wait', Key: `w${i}`, Body: Buffer.alloc(size, 3) }));
      for (const key of ['f0', 'f1']) await us.send(new PutObjectCommand({ Bucket: 'met-fail', Key: key, Body: 'doomed' }));
      await eventually(async () => {
        const m = await scrape(w.endpoint('us-east-1'));
        assert.equal(value(m, 'meridian_replication_operations_failed', failing), 2);
        assert.equal(value(m, 'meridian_replication_operations_pending', failing), 0);
        assert.equal(value(m, 'meridian_replication_operations_completed', failing), 0);
      });
      await new Promise((r) => setTimeout(r, 50));
      const m = await scrape(w.endpoint('us-east-1'));
      assert.equal(value(m, 'meridian_replication_operations_pending', waiting), SIZES.length);
      assert.equal(value(m, 'meridian_replication_bytes_pending', waiting), SIZES.reduce((a, b) => a + b, 0));
      assert.equal(value(m, 'meridian_replication_operations_completed', waiting), 0);
      assert.ok((value(m, 'meridian_replication_latency_seconds', waiting) ?? 0) >= 0.05, 'the destination is behind by the oldest wait');
      assert.equal(value(m, 'meridian_replication_latency_p99_seconds', waiting), undefined, 'no latency before a copy is done');
      for (const i of SIZES.keys()) {
        assert.equal((await us.send(new HeadObjectCommand({ Bucket: 'met-wait', Key: `w${i}` }))).ReplicationStatus, 'PENDING');
      }
    } finally {
      await faults.regionUp('ap-southeast-1');
      await faults.close();
    }
    await eventually(
      async () => {
        const m = await scrape(w.endpoint('us-east-1'));
        assert.equal(value(m, 'meridian_replication_operations_pending', waiting), 0);
        assert.equal(value(m, 'meridian_replication_bytes_pending', waiting), 0);
        assert.equal(value(m, 'meridian_replication_operations_completed', waiting), SIZES.length);
      },
      { timeoutMs: 20_000 },
    );
    const m = await scrape(w.endpoint('us-east-1'));
    assert.equal(value(m, 'meridian_replication_latency_seconds', waiting), 0, 'caught up');
    const p99 = value(m, 'meridian_replication_latency_p99_seconds', waiting) ?? 0;
    const max = value(m, 'meridian_replication_latency_max_seconds', waiting) ?? 0;
    assert.ok(p99 >= 0.05 && p99 <= max, `p99 ${p99} max ${max}: the copies waited out the outage`);
    assert.equal(value(m, 'meridian_replication_rtc_within', waiting), SIZES.length);
    assert.equal(value(m, 'meridian_replication_rtc_missed', waiting), 0);
    assert.equal(value(m, 'meridian_replication_operations_failed', failing), 2, 'failures stay counted');
    // The destination stores what arrived.
    const apMetrics = await scrape(w.endpoint('ap-southeast-1'));
    assert.equal(value(apMetrics, 'meridian_store_objects', { region: 'ap-southeast-1' }), SIZES.length);
    assert.equal(value(apMetrics, 'meridian_store_bytes', { region: 'ap-southeast-1' }), SIZES.reduce((a, b) => a + b, 0));
    assert.equal(value(apMetrics, 'meridian_requests_total', { region: 'ap-southeast-1', operation: 'PutObject', status: '200' }), SIZES.length);
  });

  test('one JSON log line per request, with its id, operation, bucket, key, status, duration, bytes and error code', async () => {
    lines.length = 0;
    const put = await us.send(new PutObjectCommand({ Bucket: 'met-a', Key: 'logged/1', Body: 'twelve bytes' }));
    await assert.rejects(us.send(new GetObjectCommand({ Bucket: 'met-a', Key: 'logged/none' })));
    const entries = logs().filter((l) => l.key === 'logged/1' || l.key === 'logged/none');
    assert.equal(entries.length, 2, JSON.stringify(logs()));
    const [p, g] = entries;
    assert.equal(put.$metadata.requestId, p.requestId);
    assert.equal(p.operation, 'PutObject');
    assert.equal(p.bucket, 'met-a');
    assert.equal(p.region, 'us-east-1');
    assert.equal(p.status, 200);
    assert.equal(p.bytesIn, 12);
    assert.equal(typeof p.durationMs, 'number');
    assert.equal(p.errorCode, undefined);
    assert.equal(g.operation, 'GetObject');
    assert.equal(g.status, 404);
    assert.equal(g.errorCode, 'NoSuchKey');

    // The global endpoint logs its requests the same way.
    lines.length = 0;
    const global = new S3Client({ region: 'us-east-1', endpoint: w.globalEndpoint, forcePathStyle: true, credentials: CREDENTIALS, maxAttempts: 1 });
    try {
      const err = await global.send(new GetObjectCommand({ Bucket: 'nosuchalias.mrap', Key: 'logged/global' })).catch((e: { $metadata: { requestId?: string; httpStatusCode?: number } }) => e);
      const entry = logs().find((l) => l.key === 'logged/global');
      assert.ok(entry, JSON.stringify(logs()));
      assert.deepEqual(
        [entry.endpoint, entry.requestId, entry.operation, entry.bucket, entry.status, entry.errorCode, typeof entry.durationMs],
        ['global', err.$metadata.requestId, 'GetObject', 'nosuchalias.mrap', err.$metadata.httpStatusCode, 'NoSuchBucket', 'number'],
      );
    } finally {
      global.destroy();
    }
  });

  test('signatures and secrets never reach the log', async () => {
    lines.length = 0;
    const url = new URL(w.endpoint('us-east-1'));
    const path = '/met-a/logged/signed';
    const headers = signRequest({
      method: 'PUT',
      path,
      query: '',
      headers: { host: url.host, 'content-length': '5' },
      region: 'us-east-1',
      credentials: CREDENTIALS,
    });
    const signature = /Signature=([0-9a-f]{64})/.exec(headers.authorization)?.[1];
    assert.ok(signature);
    const res = await request(`${url.origin}${path}`, { method: 'PUT', headers, body: 'hello' });
    assert.equal(res.statusCode, 200, await res.body.text());
    // A presigned URL carries its signature in the query.
    const presigned = await getSignedUrl(us, new GetObjectCommand({ Bucket: 'met-a', Key: 'logged/signed' }), { expiresIn: 60 });
    const querySignature = new URL(presigned).searchParams.get('X-Amz-Signature');
    assert.ok(querySignature);
    assert.equal((await fetch(presigned)).status, 200);
    // A presigned URL whose signature is wrong is refused (and logged) too.
    const forged = presigned.replace(querySignature, '0'.repeat(64));
    assert.equal((await fetch(forged)).status, 403);

    const text = lines.join('');
    const signed = logs().filter((l) => l.key === 'logged/signed');
    assert.equal(signed.length, 3, text);
    assert.deepEqual(
      signed.map((l) => [l.operation, l.status]),
      [
        ['PutObject', 200],
        ['GetObject', 200],
        ['GetObject', 403],
      ],
    );
    for (const secret of [signature, querySignature, CREDENTIALS.secretAccessKey, 'X-Amz-Signature', 'X-Amz-Credential', 'Authorization', 'authorization']) {
      assert.ok(!text.includes(secret), `the log contains ${secret}`);
    }
  });
});
