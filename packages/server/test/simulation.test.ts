/**
 * Simulated geography: replication between two regions takes at least their configured
 * distance, and a region taken down with a fault refuses connections until the fault clears.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { faultsPath } from '../src/cli/fault.ts';
import { FaultStore } from '../src/core/faults.ts';
import { eventually } from './helpers/eventually.ts';
import { CREDENTIALS, startTestWorld, type TestWorld } from './helpers/world.ts';

describe('simulated geography and faults', () => {
  let w: TestWorld;
  let faults: FaultStore;

  before(async () => {
    w = await startTestWorld({
      regionLatency: { 'us-east-1': { 'eu-west-1': 400 }, 'eu-west-1': { 'us-east-1': 400 } },
      replication: { retryBaseMs: 50, retryMaxMs: 300 },
    });
    faults = new FaultStore(faultsPath(w.dataDir));
    const us = w.client('us-east-1');
    const eu = w.client('eu-west-1');
    await us.send(new CreateBucketCommand({ Bucket: 'sim-src' }));
    await eu.send(new CreateBucketCommand({ Bucket: 'sim-dst', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    await us.send(new PutBucketVersioningCommand({ Bucket: 'sim-src', VersioningConfiguration: { Status: 'Enabled' } }));
    await eu.send(new PutBucketVersioningCommand({ Bucket: 'sim-dst', VersioningConfiguration: { Status: 'Enabled' } }));
    await us.send(
      new PutBucketReplicationCommand({
        Bucket: 'sim-src',
        ReplicationConfiguration: {
          Role: `arn:aws:iam::${CREDENTIALS.accountId}:role/replication`,
          Rules: [
            {
              ID: 'far',
              Priority: 1,
              Status: 'Enabled',
              Filter: {},
              DeleteMarkerReplication: { Status: 'Enabled' },
              Destination: { Bucket: 'arn:aws:s3:::sim-dst' },
            },
          ],
        },
      }),
    );
  });
  after(async () => {
    await faults.clear();
    await faults.close();
    await w.close();
  });

  test('a copy to a region 400 ms away takes at least 400 ms', async () => {
    const started = Date.now();
    const put = await w.client('us-east-1').send(new PutObjectCommand({ Bucket: 'sim-src', Key: 'far', Body: 'x' }));
    await eventually(async () => {
      const h = await w.client('eu-west-1').send(new HeadObjectCommand({ Bucket: 'sim-dst', Key: 'far', VersionId: put.VersionId }));
      assert.equal(h.ReplicationStatus, 'REPLICA');
    });
    assert.ok(Date.now() - started >= 400, `replicated after ${Date.now() - started} ms`);
  });

  test('a region that is down refuses connections, and replication to it waits until it is back', async () => {
    const eu = w.client('eu-west-1');
    await faults.regionDown('eu-west-1');
    await assert.rejects(eu.send(new HeadBucketCommand({ Bucket: 'sim-dst' })), (err: Error) => {
      // The connection is cut before any answer: the client sees a reset socket, not an S3 error.
      assert.equal((err as NodeJS.ErrnoException).code, 'ECONNRESET', `${err.name}: ${err.message}`);
      return true;
    });
    const put = await w.client('us-east-1').send(new PutObjectCommand({ Bucket: 'sim-src', Key: 'during', Body: 'y' }));
    await new Promise((r) => setTimeout(r, 800));
    const status = await w.client('us-east-1').send(new HeadObjectCommand({ Bucket: 'sim-src', Key: 'during' }));
    assert.equal(status.ReplicationStatus, 'PENDING', 'held back while the destination is down');
    await faults.regionUp('eu-west-1');
    await eventually(async () => {
      const h = await eu.send(new HeadObjectCommand({ Bucket: 'sim-dst', Key: 'during', VersionId: put.VersionId }));
      assert.equal(h.ReplicationStatus, 'REPLICA');
    });
  });
});
