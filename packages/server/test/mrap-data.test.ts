/**
 * The MRAP data plane through the global endpoint, with the stock `@aws-sdk/client-s3`:
 * requests addressed to `<alias>.mrap` reach the bucket of the nearest active region, writes
 * become visible everywhere through two-way replication, a region taken down is routed around
 * within seconds, passive routes get no traffic, and unsupported operations are refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import {
  PutMultiRegionAccessPointPolicyCommand,
  CreateMultiRegionAccessPointCommand,
  DescribeMultiRegionAccessPointOperationCommand,
  GetMultiRegionAccessPointCommand,
  S3ControlClient,
  SubmitMultiRegionAccessPointRoutesCommand,
} from '@aws-sdk/client-s3-control';
import { FaultStore } from '../src/core/faults.ts';
import { faultsPath } from '../src/cli/fault.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eventually } from './helpers/eventually.ts';
import { MERIDIAN_BIN } from './helpers/process.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { CREDENTIALS, localhostResolvingHandler, startTestWorld, type TestWorld } from './helpers/world.ts';

const AccountId = CREDENTIALS.accountId;
const OTHER = { accessKeyId: 'AKIAMRAPOTHER', secretAccessKey: 'mrap-other-secret', accountId: '444455556666' };
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'] as const;
const BUCKETS: Record<(typeof REGIONS)[number], string> = {
  'us-east-1': 'mrap-data-use1',
  'eu-west-1': 'mrap-data-euw1',
  'ap-southeast-1': 'mrap-data-apse1',
};

interface RouteCounters {
  alias: string;
  region: string;
  requests: number;
  failovers: number;
}

// Regions of the router's own process are served in-process; others over HTTP: both paths.
for (const inProcess of [true, false])
  describe(`MRAP data plane (${inProcess ? 'regions in-process' : 'regions over HTTP'})`, () => {
    let w: TestWorld;
    let control: S3ControlClient;
    let mrap: S3Client;
    let alias: string;
    let faults: FaultStore;

    before(async () => {
      w = await startTestWorld({
        mrapControl: { asyncDelayMs: 50, routeUpdateMs: 50 },
        keys: [OTHER],
        router: {
          latencyTable: { 'eu-west-1': 5, 'us-east-1': 40, 'ap-southeast-1': 120 },
          probeIntervalMs: 200,
          inProcess,
        },
        replication: { retryBaseMs: 50, retryMaxMs: 500 },
      });
      faults = new FaultStore(faultsPath(w.dataDir));
      for (const region of REGIONS) {
        const s3 = w.client(region);
        await s3.send(
          new CreateBucketCommand({
            Bucket: BUCKETS[region],
            ...(region === 'us-east-1'
              ? {}
              : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
          }),
        );
        await s3.send(
          new PutBucketVersioningCommand({ Bucket: BUCKETS[region], VersioningConfiguration: { Status: 'Enabled' } }),
        );
      }
      // Every bucket replicates to the other two: writes through the MRAP reach every region.
      for (const region of REGIONS) {
        const others = REGIONS.filter((r) => r !== region);
        await w.client(region).send(
          new PutBucketReplicationCommand({
            Bucket: BUCKETS[region],
            ReplicationConfiguration: {
              Role: `arn:aws:iam::${AccountId}:role/replication`,
              Rules: others.map((o, i) => ({
                ID: `to-${o}`,
                Priority: i + 1,
                Status: 'Enabled',
                Filter: {},
                DeleteMarkerReplication: { Status: 'Enabled' },
                SourceSelectionCriteria: { ReplicaModifications: { Status: 'Enabled' } },
                Destination: { Bucket: `arn:aws:s3:::${BUCKETS[o]}` },
              })),
            },
          }),
        );
      }
      control = new S3ControlClient({
        region: 'us-west-2',
        endpoint: w.globalEndpoint.replace('127.0.0.1', 'localhost'),
        credentials: CREDENTIALS,
        requestHandler: localhostResolvingHandler(),
        maxAttempts: 1,
      });
      const created = await control.send(
        new CreateMultiRegionAccessPointCommand({
          AccountId,
          Details: { Name: 'everywhere', Regions: REGIONS.map((r) => ({ Bucket: BUCKETS[r] })) },
        }),
      );
      await eventually(async () => {
        const op = await control.send(
          new DescribeMultiRegionAccessPointOperationCommand({ AccountId, RequestTokenARN: created.RequestTokenARN }),
        );
        assert.equal(op.AsyncOperation?.RequestStatus, 'SUCCEEDED');
      });
      const got = await control.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'everywhere' }));
      alias = got.AccessPoint!.Alias!;
      mrap = new S3Client({
        region: 'us-east-1',
        endpoint: w.globalEndpoint,
        forcePathStyle: true,
        credentials: CREDENTIALS,
        maxAttempts: 1,
      });
    });

    after(async () => {
      await faults.clear();
      await faults.close();
      mrap.destroy();
      control.destroy();
      await w.close();
    });

    async function counters(): Promise<Record<string, RouteCounters>> {
      const res = await fetch(`${w.globalEndpoint}/_meridian/mrap/metrics`);
      const body = (await res.json()) as { routes: RouteCounters[] };
      return Object.fromEntries(body.routes.filter((r) => r.alias === alias).map((r) => [r.region, r]));
    }

    test('writes and reads go to the nearest region; every region gets the write by replication', async () => {
      const before = await counters();
      const put = await mrap.send(new PutObjectCommand({ Bucket: alias, Key: 'orders/1.json', Body: '{"id":1}' }));
      assert.ok(put.VersionId, 'the region answers with its version id');
      const got = await mrap.send(
        new GetObjectCommand({ Bucket: alias, Key: 'orders/1.json', VersionId: put.VersionId }),
      );
      assert.equal(await got.Body!.transformToString(), '{"id":1}');
      const after = await counters();
      assert.equal(
        (after['eu-west-1']?.requests ?? 0) - (before['eu-west-1']?.requests ?? 0),
        2,
        'both went to eu-west-1',
      );
      assert.equal((after['us-east-1']?.requests ?? 0) - (before['us-east-1']?.requests ?? 0), 0);
      // The same version, by id, in every region's bucket.
      for (const region of REGIONS) {
        await eventually(async () => {
          const h = await w
            .client(region)
            .send(new HeadObjectCommand({ Bucket: BUCKETS[region], Key: 'orders/1.json', VersionId: put.VersionId }));
          assert.equal(h.VersionId, put.VersionId);
        });
      }
      const listed = await mrap.send(new ListObjectsV2Command({ Bucket: alias, Prefix: 'orders/' }));
      assert.deepEqual(
        listed.Contents?.map((c) => c.Key),
        ['orders/1.json'],
      );
    });

    test('a multipart upload through the MRAP completes in the region where it began', async () => {
      const created = await mrap.send(new CreateMultipartUploadCommand({ Bucket: alias, Key: 'big/object' }));
      const part = await mrap.send(
        new UploadPartCommand({
          Bucket: alias,
          Key: 'big/object',
          UploadId: created.UploadId,
          PartNumber: 1,
          Body: 'only part',
        }),
      );
      const done = await mrap.send(
        new CompleteMultipartUploadCommand({
          Bucket: alias,
          Key: 'big/object',
          UploadId: created.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
      assert.match(done.ETag ?? '', /-1"$/);
      const got = await mrap.send(new GetObjectCommand({ Bucket: alias, Key: 'big/object' }));
      assert.equal(await got.Body!.transformToString(), 'only part');
    });

    test('operations an MRAP does not serve are refused with their name', async () => {
      const err = await rejectsWith(
        mrap.send(new CopyObjectCommand({ Bucket: alias, Key: 'copy', CopySource: `${BUCKETS['us-east-1']}/x` })),
        'InvalidRequest',
        400,
      );
      assert.match(err.message, /CopyObject is not supported through a Multi-Region Access Point/);
      await rejectsWith(mrap.send(new GetObjectCommand({ Bucket: 'nosuch.mrap', Key: 'x' })), 'NoSuchBucket', 404);
    });

    test('a passive route gets no traffic', async () => {
      const arn = `arn:aws:s3::${AccountId}:accesspoint/${alias}`;
      await control.send(
        new SubmitMultiRegionAccessPointRoutesCommand({
          AccountId,
          Mrap: arn,
          RouteUpdates: [{ Region: 'eu-west-1', TrafficDialPercentage: 0 }],
        }),
      );
      try {
        await eventually(async () => {
          const before = await counters();
          await mrap.send(new PutObjectCommand({ Bucket: alias, Key: 'passive/probe', Body: 'x' }));
          const after = await counters();
          assert.equal(
            (after['eu-west-1']?.requests ?? 0) - (before['eu-west-1']?.requests ?? 0),
            0,
            'eu-west-1 is passive',
          );
          assert.equal(
            (after['us-east-1']?.requests ?? 0) - (before['us-east-1']?.requests ?? 0),
            1,
            'the next nearest takes it',
          );
        });
      } finally {
        await control.send(
          new SubmitMultiRegionAccessPointRoutesCommand({
            AccountId,
            Mrap: arn,
            RouteUpdates: [{ Region: 'eu-west-1', TrafficDialPercentage: 100 }],
          }),
        );
      }
    });

    test('failover: the nearest region goes down under load; after 2 s no request fails and no acknowledged write is lost', async () => {
      // Wait until eu-west-1 is back in routing after the previous test.
      await eventually(async () => {
        const before = await counters();
        await mrap.send(new HeadObjectCommand({ Bucket: alias, Key: 'orders/1.json' }));
        const after = await counters();
        assert.equal((after['eu-west-1']?.requests ?? 0) - (before['eu-west-1']?.requests ?? 0), 1);
      });
      const acknowledged: { key: string; versionId: string }[] = [];
      const failures: number[] = [];
      let faultAt = 0;
      let stop = false;
      let n = 0;
      const worker = async (id: number) => {
        while (!stop) {
          const key = `drill/${id}/${n++}`;
          try {
            const put = await mrap.send(new PutObjectCommand({ Bucket: alias, Key: key, Body: `write ${key}` }));
            acknowledged.push({ key, versionId: put.VersionId! });
            // A read of an object every region has (a fresh write may not have replicated yet).
            const got = await mrap.send(new GetObjectCommand({ Bucket: alias, Key: 'orders/1.json' }));
            await got.Body!.transformToString();
          } catch {
            if (faultAt > 0) failures.push(Date.now() - faultAt);
          }
        }
      };
      const workers = [0, 1, 2, 3].map(worker);
      await new Promise((r) => setTimeout(r, 500));
      faultAt = Date.now();
      await faults.regionDown('eu-west-1');
      await new Promise((r) => setTimeout(r, 3000));
      await faults.regionUp('eu-west-1');
      await new Promise((r) => setTimeout(r, 500));
      stop = true;
      await Promise.all(workers);
      const late = failures.filter((ms) => ms > 2000);
      assert.deepEqual(late, [], `requests failed more than 2 s after the fault: ${failures.join(', ')} ms`);
      assert.ok(acknowledged.length > 20, `only ${acknowledged.length} writes were acknowledged`);
      // Every acknowledged write reaches every region once replication catches up.
      await eventually(
        async () => {
          for (const region of REGIONS) {
            for (const { key, versionId } of acknowledged) {
              const h = await w
                .client(region)
                .send(new HeadObjectCommand({ Bucket: BUCKETS[region], Key: key, VersionId: versionId }));
              assert.equal(h.VersionId, versionId);
            }
          }
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
    });

    async function mrapSet(...flags: string[]): Promise<string> {
      const { stdout } = await promisify(execFile)(process.execPath, [
        MERIDIAN_BIN,
        'mrap',
        'set',
        'everywhere',
        ...flags,
        '--data-dir',
        w.dataDir,
        '--account',
        AccountId,
      ]);
      return stdout;
    }

    test('read fallback (opt-in): a read the nearest region cannot answer yet is tried in the others', async () => {
      // Replication from us-east-1 to the nearest region (eu-west-1) is held back by a partition.
      await faults.partition('us-east-1', 'eu-west-1');
      try {
        const put = await w
          .client('us-east-1')
          .send(new PutObjectCommand({ Bucket: BUCKETS['us-east-1'], Key: 'lagging', Body: 'here' }));
        await rejectsWith(mrap.send(new GetObjectCommand({ Bucket: alias, Key: 'lagging' })), 'NoSuchKey', 404);
        assert.match(await mrapSet('--read-fallback'), /read fallback: {7}on/);
        const got = await mrap.send(new GetObjectCommand({ Bucket: alias, Key: 'lagging' }));
        assert.equal(got.VersionId, put.VersionId);
        assert.equal(await got.Body!.transformToString(), 'here');
        const head = await mrap.send(new HeadObjectCommand({ Bucket: alias, Key: 'lagging' }));
        assert.equal(head.VersionId, put.VersionId);
        // A key that exists nowhere is still 404, after every region was asked.
        await rejectsWith(mrap.send(new GetObjectCommand({ Bucket: alias, Key: 'nowhere' })), 'NoSuchKey', 404);
      } finally {
        await mrapSet('--no-read-fallback');
        await faults.clear();
      }
    });

    test('automatic promotion (opt-in): with every active route down, the nearest healthy passive one serves', async () => {
      const arn = `arn:aws:s3::${AccountId}:accesspoint/${alias}`;
      await control.send(
        new SubmitMultiRegionAccessPointRoutesCommand({
          AccountId,
          Mrap: arn,
          RouteUpdates: [
            { Region: 'us-east-1', TrafficDialPercentage: 0 },
            { Region: 'ap-southeast-1', TrafficDialPercentage: 0 },
          ],
        }),
      );
      try {
        await faults.regionDown('eu-west-1');
        // AWS behaviour: the passive regions get nothing, so requests fail while eu-west-1 is down.
        await eventually(async () => {
          await assert.rejects(mrap.send(new GetObjectCommand({ Bucket: alias, Key: 'orders/1.json' })));
        });
        await mrapSet('--auto-promote');
        const before = await counters();
        const got = await eventually(async () =>
          mrap.send(new GetObjectCommand({ Bucket: alias, Key: 'orders/1.json' })),
        );
        assert.equal(await got.Body!.transformToString(), '{"id":1}');
        const after = await counters();
        assert.equal(
          (after['us-east-1']?.requests ?? 0) - (before['us-east-1']?.requests ?? 0),
          1,
          'us-east-1, the nearest passive route, took the request',
        );
        assert.equal((after['ap-southeast-1']?.requests ?? 0) - (before['ap-southeast-1']?.requests ?? 0), 0);
      } finally {
        await mrapSet('--no-auto-promote');
        await faults.clear();
        await control.send(
          new SubmitMultiRegionAccessPointRoutesCommand({
            AccountId,
            Mrap: arn,
            RouteUpdates: REGIONS.map((Region) => ({ Region, TrafficDialPercentage: 100 })),
          }),
        );
      }
    });

    test("another account needs the access point's policy and then the bucket's own", async () => {
      const other = new S3Client({
        region: 'us-east-1',
        endpoint: w.globalEndpoint,
        forcePathStyle: true,
        credentials: OTHER,
        maxAttempts: 1,
      });
      try {
        await rejectsWith(
          other.send(new GetObjectCommand({ Bucket: alias, Key: 'orders/1.json' })),
          'AccessDenied',
          403,
        );
        const arn = `arn:aws:s3::${AccountId}:accesspoint/${alias}`;
        const put = await control.send(
          new PutMultiRegionAccessPointPolicyCommand({
            AccountId,
            Details: {
              Name: 'everywhere',
              Policy: JSON.stringify({
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Principal: { AWS: `arn:aws:iam::${OTHER.accountId}:root` },
                    Action: 's3:GetObject',
                    Resource: `${arn}/object/*`,
                  },
                ],
              }),
            },
          }),
        );
        await eventually(async () => {
          const op = await control.send(
            new DescribeMultiRegionAccessPointOperationCommand({ AccountId, RequestTokenARN: put.RequestTokenARN }),
          );
          assert.equal(op.AsyncOperation?.RequestStatus, 'SUCCEEDED');
        });
        // The access point lets the other account through; the bucket it lands on does not yet.
        await rejectsWith(
          other.send(new GetObjectCommand({ Bucket: alias, Key: 'orders/1.json' })),
          'AccessDenied',
          403,
        );
        for (const region of REGIONS) {
          await w.client(region).send(
            new PutBucketPolicyCommand({
              Bucket: BUCKETS[region],
              Policy: JSON.stringify({
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Principal: { AWS: `arn:aws:iam::${OTHER.accountId}:root` },
                    Action: 's3:GetObject',
                    Resource: `arn:aws:s3:::${BUCKETS[region]}/*`,
                  },
                ],
              }),
            }),
          );
        }
        const got = await other.send(new GetObjectCommand({ Bucket: alias, Key: 'orders/1.json' }));
        assert.equal(await got.Body!.transformToString(), '{"id":1}');
        // Only what both policies allow: no writes.
        await rejectsWith(
          other.send(new PutObjectCommand({ Bucket: alias, Key: 'intruder', Body: 'x' })),
          'AccessDenied',
          403,
        );
      } finally {
        other.destroy();
      }
    });
  });
