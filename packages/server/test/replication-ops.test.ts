/**
 * Operating replication: the metrics a region reports (JSON and Prometheus), failures and
 * their retry, and the `meridian replication` commands against a running world.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand,
  GetObjectAclCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { eventually } from './helpers/eventually.ts';
import { MERIDIAN_BIN } from './helpers/process.ts';
import { rawRequest } from './helpers/raw-request.ts';
import { CREDENTIALS, startTestWorld, type TestWorld } from './helpers/world.ts';

const run = promisify(execFile);

interface Series {
  bucket: string;
  ruleId: string;
  destination: string;
  operationsPending: number;
  bytesPending: number;
  operationsCompleted: number;
  operationsFailed: number;
  latencyMs: { now: number; p50?: number; p99?: number; max?: number };
  rtc: { thresholdMs: number; within: number; missed: number; share?: number };
}

const OTHER = { accessKeyId: 'AKIAREPLOTHER', secretAccessKey: 'repl-other-secret', accountId: '444455556666' };

describe('replication operations', () => {
  let w: TestWorld;
  let us: S3Client;
  let eu: S3Client;

  before(async () => {
    w = await startTestWorld({ replication: { retryBaseMs: 20, retryMaxMs: 200 }, keys: [OTHER] });
    us = w.client('us-east-1');
    eu = w.client('eu-west-1');
    await us.send(new CreateBucketCommand({ Bucket: 'ops-src' }));
    await eu.send(new CreateBucketCommand({ Bucket: 'ops-dst', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    for (const [c, Bucket] of [
      [us, 'ops-src'],
      [eu, 'ops-dst'],
    ] as const) {
      await c.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    }
    await us.send(
      new PutBucketReplicationCommand({
        Bucket: 'ops-src',
        ReplicationConfiguration: {
          Role: 'arn:aws:iam::111122223333:role/replication',
          Rules: [
            {
              ID: 'to-eu',
              Priority: 1,
              Status: 'Enabled',
              Filter: {},
              DeleteMarkerReplication: { Status: 'Enabled' },
              Destination: { Bucket: 'arn:aws:s3:::ops-dst' },
            },
          ],
        },
      }),
    );
  });
  after(() => w.close());

  async function metrics(bucket?: string): Promise<Series[]> {
    const res = await rawRequest(
      w.endpoint('us-east-1'),
      { method: 'GET', path: '/_meridian/replication/metrics', query: bucket ? { bucket } : {} },
      { credentials: CREDENTIALS },
    );
    assert.equal(res.status, 200, res.text);
    return (JSON.parse(res.text) as { rules: Series[] }).rules;
  }

  const status = async (Key: string, VersionId?: string) =>
    (await us.send(new HeadObjectCommand({ Bucket: 'ops-src', Key, VersionId }))).ReplicationStatus;

  test('metrics count what replicated, how fast, and what failed; retry sends the failures again', async () => {
    for (let i = 0; i < 5; i++) await us.send(new PutObjectCommand({ Bucket: 'ops-src', Key: `ok/${i}`, Body: `body ${i}` }));
    await us.send(new DeleteObjectCommand({ Bucket: 'ops-src', Key: 'ok/0' }));
    await eventually(async () => assert.equal(await status('ok/4'), 'COMPLETED'));
    const [series] = await eventually(async () => {
      const m = await metrics('ops-src');
      assert.equal(m[0]?.operationsCompleted, 6, JSON.stringify(m));
      return m;
    });
    assert.deepEqual([series.bucket, series.ruleId, series.destination], ['ops-src', 'to-eu', 'ops-dst']);
    assert.equal(series.operationsPending, 0);
    assert.equal(series.bytesPending, 0);
    assert.equal(series.operationsFailed, 0);
    assert.equal(series.latencyMs.now, 0, 'nothing is behind');
    assert.ok(series.latencyMs.p50 !== undefined && series.latencyMs.p99 !== undefined && series.latencyMs.max !== undefined);
    assert.ok(series.latencyMs.p50 <= series.latencyMs.p99 && series.latencyMs.p99 <= series.latencyMs.max);
    assert.equal(series.rtc.thresholdMs, 15 * 60 * 1000);
    assert.deepEqual([series.rtc.within, series.rtc.missed, series.rtc.share], [5, 0, 1], 'delete markers are outside RTC');
    assert.deepEqual(await metrics('another-bucket'), []);

    // The destination stops taking versions: new writes fail, and say so.
    await eu.send(new PutBucketVersioningCommand({ Bucket: 'ops-dst', VersioningConfiguration: { Status: 'Suspended' } }));
    const failed = await us.send(new PutObjectCommand({ Bucket: 'ops-src', Key: 'later/x', Body: 'x' }));
    await eventually(async () => assert.equal(await status('later/x'), 'FAILED'));
    assert.equal((await metrics('ops-src'))[0].operationsFailed, 1);

    // Fixed, and retried by an operator: the version replicates.
    await eu.send(new PutBucketVersioningCommand({ Bucket: 'ops-dst', VersioningConfiguration: { Status: 'Enabled' } }));
    const retry = await rawRequest(
      w.endpoint('us-east-1'),
      { method: 'POST', path: '/_meridian/replication/retry', query: { bucket: 'ops-src', prefix: 'later/' } },
      { credentials: CREDENTIALS },
    );
    assert.equal(retry.status, 200, retry.text);
    assert.equal((JSON.parse(retry.text) as { retried: number }).retried, 1);
    await eventually(async () => assert.equal(await status('later/x', failed.VersionId), 'COMPLETED'));
    const replica = await eu.send(new HeadObjectCommand({ Bucket: 'ops-dst', Key: 'later/x' }));
    assert.equal(replica.VersionId, failed.VersionId);
    assert.equal(replica.ReplicationStatus, 'REPLICA');
  });

  test('Prometheus metrics need no signature; the JSON endpoints do', async () => {
    await us.send(new PutObjectCommand({ Bucket: 'ops-src', Key: 'prom/1', Body: 'p' }));
    await eventually(async () => assert.equal(await status('prom/1'), 'COMPLETED'));
    const res = await fetch(`${w.endpoint('us-east-1')}/_meridian/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(
      text,
      /meridian_replication_operations_completed\{region="us-east-1",bucket="ops-src",rule="to-eu",destination="ops-dst"\} \d+/,
    );
    assert.match(text, /meridian_replication_operations_pending\{[^}]*bucket="ops-src"[^}]*\} 0/);
    const anonymous = await fetch(`${w.endpoint('us-east-1')}/_meridian/replication/metrics`);
    assert.equal(anonymous.status, 403);
    const health = await fetch(`${w.endpoint('eu-west-1')}/_meridian/health`);
    assert.deepEqual(await health.json(), { status: 'ok', region: 'eu-west-1' });
  });

  test('`meridian replication status` and `retry` work against the running world', async () => {
    await us.send(new PutObjectCommand({ Bucket: 'ops-src', Key: 'cli/1', Body: 'c' }));
    await eventually(async () => assert.equal(await status('cli/1'), 'COMPLETED'));
    const env = { ...process.env, MERIDIAN_LOG_LEVEL: 'warn' };
    const shown = await run(process.execPath, [MERIDIAN_BIN, 'replication', 'status', '--data-dir', w.dataDir, '--bucket', 'ops-src'], { env });
    const lines = shown.stdout.trim().split('\n');
    assert.match(lines[0], /^REGION\s+BUCKET\s+RULE\s+DESTINATION\s+PENDING\s+BYTES\s+DONE\s+FAILED\s+BEHIND\s+P50\s+P99\s+MAX\s+IN RTC$/);
    assert.equal(lines.length, 2, shown.stdout);
    assert.match(lines[1], /^us-east-1\s+ops-src\s+to-eu\s+ops-dst\s+0\s+0 B\s+\d+\s+\d+\s+0 ms\s/);
    const retried = await run(process.execPath, [MERIDIAN_BIN, 'replication', 'retry', '--data-dir', w.dataDir, '--bucket', 'ops-src'], { env });
    assert.match(retried.stdout, /^Queued 0 failed versions of ops-src for replication again\.$/m);
  });

  test('under AccessControlTranslation the replica is private to the destination owner, and ACL changes stay home', async () => {
    // ACLs enabled on both sides (new buckets have them disabled), so that the replica's ACL
    // is private by the translation, not by Object Ownership.
    await eu.send(
      new CreateBucketCommand({ Bucket: 'ops-owned', ObjectOwnership: 'ObjectWriter', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }),
    );
    await eu.send(new PutBucketVersioningCommand({ Bucket: 'ops-owned', VersioningConfiguration: { Status: 'Enabled' } }));
    await us.send(new CreateBucketCommand({ Bucket: 'ops-act-src', ObjectOwnership: 'ObjectWriter' }));
    // The source's objects are public by their ACLs: its owner lifts the bucket's Block Public Access.
    await us.send(new DeletePublicAccessBlockCommand({ Bucket: 'ops-act-src' }));
    await us.send(new PutBucketVersioningCommand({ Bucket: 'ops-act-src', VersioningConfiguration: { Status: 'Enabled' } }));
    await us.send(
      new PutBucketReplicationCommand({
        Bucket: 'ops-act-src',
        ReplicationConfiguration: {
          Role: 'arn:aws:iam::111122223333:role/replication',
          Rules: [
            {
              ID: 'owned',
              Priority: 1,
              Status: 'Enabled',
              Filter: {},
              DeleteMarkerReplication: { Status: 'Disabled' },
              Destination: {
                Bucket: 'arn:aws:s3:::ops-owned',
                Account: CREDENTIALS.accountId,
                AccessControlTranslation: { Owner: 'Destination' },
              },
            },
          ],
        },
      }),
    );
    const put = await us.send(
      new PutObjectCommand({ Bucket: 'ops-act-src', Key: 'shared', Body: 'public at home', ACL: 'public-read', Tagging: 'team=web' }),
    );
    const publicGrants = (await us.send(new GetObjectAclCommand({ Bucket: 'ops-act-src', Key: 'shared' }))).Grants ?? [];
    assert.equal(publicGrants.length, 2, 'the source is public-read');
    const replicaGrants = await eventually(async () => {
      const acl = await eu.send(new GetObjectAclCommand({ Bucket: 'ops-owned', Key: 'shared', VersionId: put.VersionId }));
      return acl.Grants ?? [];
    });
    assert.deepEqual(
      replicaGrants.map((g) => [g.Grantee?.Type, g.Permission]),
      [['CanonicalUser', 'FULL_CONTROL']],
      'the replica is private to its owner',
    );
    // Tags still follow; ACL changes do not.
    await us.send(new PutObjectTaggingCommand({ Bucket: 'ops-act-src', Key: 'shared', Tagging: { TagSet: [{ Key: 'team', Value: 'data' }] } }));
    await us.send(new PutObjectAclCommand({ Bucket: 'ops-act-src', Key: 'shared', ACL: 'public-read-write' }));
    await eventually(async () => {
      const tags = await eu.send(new GetObjectTaggingCommand({ Bucket: 'ops-owned', Key: 'shared' }));
      assert.deepEqual(tags.TagSet, [{ Key: 'team', Value: 'data' }]);
    });
    await eventually(async () =>
      assert.equal((await us.send(new HeadObjectCommand({ Bucket: 'ops-act-src', Key: 'shared' }))).ReplicationStatus, 'COMPLETED'),
    );
    const after = (await eu.send(new GetObjectAclCommand({ Bucket: 'ops-owned', Key: 'shared' }))).Grants ?? [];
    assert.equal(after.length, 1, 'still private after the source ACL changed');
  });

  test("a destination of another account takes replicas only where its bucket policy allows the source's account", async () => {
    const theirs = w.client('eu-west-1', { credentials: OTHER });
    await theirs.send(new CreateBucketCommand({ Bucket: 'ops-theirs', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    await theirs.send(new PutBucketVersioningCommand({ Bucket: 'ops-theirs', VersioningConfiguration: { Status: 'Enabled' } }));
    await us.send(new CreateBucketCommand({ Bucket: 'ops-cross-src' }));
    await us.send(new PutBucketVersioningCommand({ Bucket: 'ops-cross-src', VersioningConfiguration: { Status: 'Enabled' } }));
    await us.send(
      new PutBucketReplicationCommand({
        Bucket: 'ops-cross-src',
        ReplicationConfiguration: {
          Role: 'arn:aws:iam::111122223333:role/replication',
          Rules: [
            {
              ID: 'to-them',
              Priority: 1,
              Status: 'Enabled',
              Filter: {},
              DeleteMarkerReplication: { Status: 'Disabled' },
              Destination: { Bucket: 'arn:aws:s3:::ops-theirs', Account: OTHER.accountId },
            },
          ],
        },
      }),
    );
    const refused = await us.send(new PutObjectCommand({ Bucket: 'ops-cross-src', Key: 'shared', Body: 'for them' }));
    await eventually(async () =>
      assert.equal((await us.send(new HeadObjectCommand({ Bucket: 'ops-cross-src', Key: 'shared' }))).ReplicationStatus, 'FAILED'),
    );
    await theirs.send(
      new PutBucketPolicyCommand({
        Bucket: 'ops-theirs',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::111122223333:root' },
              Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
              Resource: 'arn:aws:s3:::ops-theirs/*',
            },
          ],
        }),
      }),
    );
    const retry = await rawRequest(
      w.endpoint('us-east-1'),
      { method: 'POST', path: '/_meridian/replication/retry', query: { bucket: 'ops-cross-src' } },
      { credentials: CREDENTIALS },
    );
    assert.equal(retry.status, 200, retry.text);
    await eventually(async () => {
      const h = await theirs.send(new HeadObjectCommand({ Bucket: 'ops-theirs', Key: 'shared', VersionId: refused.VersionId }));
      assert.equal(h.ReplicationStatus, 'REPLICA');
    });
    assert.equal((await us.send(new HeadObjectCommand({ Bucket: 'ops-cross-src', Key: 'shared' }))).ReplicationStatus, 'COMPLETED');
  });
});
