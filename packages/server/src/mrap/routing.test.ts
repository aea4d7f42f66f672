import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { MrapRegion } from '../catalog/catalog.ts';
import { MRAP_OPERATIONS, READ_OPERATIONS, UPLOAD_OPERATIONS, routeCandidates, type RegionView } from './routing.ts';

const region = (name: string, dial = 100): MrapRegion => ({
  bucket: `bucket-${name}`,
  region: name,
  bucketAccountId: '111122223333',
  trafficDialPercentage: dial,
});

function view(distances: Record<string, number>, down: string[] = []): RegionView {
  return {
    healthy: (r) => !down.includes(r),
    distance: (r) => distances[r] ?? Number.MAX_SAFE_INTEGER,
  };
}

const order = (regions: MrapRegion[], v: RegionView) => routeCandidates({ regions }, v).map((r) => r.region);

describe('routeCandidates', () => {
  const three = [region('us-east-1'), region('eu-west-1'), region('ap-southeast-1')];

  it('orders active regions nearest first', () => {
    assert.deepEqual(order(three, view({ 'us-east-1': 80, 'eu-west-1': 10, 'ap-southeast-1': 200 })), [
      'eu-west-1',
      'us-east-1',
      'ap-southeast-1',
    ]);
  });

  it('never offers a passive route (dial 0)', () => {
    const regions = [region('us-east-1', 0), region('eu-west-1'), region('ap-southeast-1', 0)];
    assert.deepEqual(order(regions, view({ 'us-east-1': 1, 'eu-west-1': 50, 'ap-southeast-1': 2 })), ['eu-west-1']);
    assert.deepEqual(order(regions.map((r) => ({ ...r, trafficDialPercentage: 0 })), view({})), []);
  });

  it('puts regions that are down last, nearest first among them', () => {
    const v = view({ 'us-east-1': 5, 'eu-west-1': 10, 'ap-southeast-1': 1 }, ['ap-southeast-1', 'us-east-1']);
    assert.deepEqual(order(three, v), ['eu-west-1', 'ap-southeast-1', 'us-east-1']);
  });

  it('orders regions without a distance after measured ones, and ties by region name', () => {
    assert.deepEqual(order(three, view({ 'ap-southeast-1': 30 })), ['ap-southeast-1', 'eu-west-1', 'us-east-1']);
    assert.deepEqual(order(three, view({})), ['ap-southeast-1', 'eu-west-1', 'us-east-1']);
  });

  it('property: a permutation of the active routes, healthy before down, each group by distance', () => {
    const names = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1', 'ap-northeast-1'];
    fc.assert(
      fc.property(
        fc.subarray(names, { minLength: 1 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        (chosen, dists, downs, passive) => {
          const regions = chosen.map((n, i) => region(n, passive[i] ? 0 : 100));
          const distances = Object.fromEntries(chosen.map((n, i) => [n, dists[i]]));
          const down = chosen.filter((_, i) => downs[i]);
          const out = routeCandidates({ regions }, view(distances, down));
          const active = regions.filter((r) => r.trafficDialPercentage === 100);
          assert.deepEqual(new Set(out.map((r) => r.region)), new Set(active.map((r) => r.region)));
          for (let i = 1; i < out.length; i++) {
            const a = out[i - 1].region;
            const b = out[i].region;
            const aUp = !down.includes(a);
            const bUp = !down.includes(b);
            assert.ok(aUp || !bUp, 'healthy regions come first');
            if (aUp === bUp) assert.ok(distances[a] <= distances[b], 'nearest first');
          }
        },
      ),
    );
  });
});

describe('MRAP operations', () => {
  it('serves exactly the operations of spec D.2, and neither copy nor bucket configuration', () => {
    assert.equal(MRAP_OPERATIONS.size, 21);
    for (const op of ['CopyObject', 'UploadPartCopy', 'ListObjects', 'ListObjectVersions', 'DeleteObjects', 'CreateBucket', 'PutBucketVersioning', 'ListBuckets']) {
      assert.equal(MRAP_OPERATIONS.has(op), false, op);
    }
  });

  it('reads and upload continuations are served operations', () => {
    for (const op of READ_OPERATIONS) assert.ok(MRAP_OPERATIONS.has(op), op);
    for (const op of UPLOAD_OPERATIONS) assert.ok(MRAP_OPERATIONS.has(op), op);
    for (const op of ['PutObject', 'DeleteObject', 'UploadPart', 'CompleteMultipartUpload']) assert.equal(READ_OPERATIONS.has(op), false);
  });
});

describe('automatic promotion (opt-in)', () => {
  const regions = [region('us-east-1'), region('eu-west-1', 0), region('ap-southeast-1', 0)];
  const distances = { 'us-east-1': 10, 'eu-west-1': 20, 'ap-southeast-1': 5 };

  it('without the option, a passive route gets nothing even when every active route is down', () => {
    assert.deepEqual(order(regions, view(distances, ['us-east-1'])), ['us-east-1']);
  });

  it('with it, the nearest healthy passive route takes over while every active one is down', () => {
    const promoted = (down: string[]) =>
      routeCandidates({ regions, options: { autoPromote: true } }, view(distances, down)).map((r) => r.region);
    assert.deepEqual(promoted(['us-east-1']), ['ap-southeast-1', 'eu-west-1', 'us-east-1']);
    assert.deepEqual(promoted(['us-east-1', 'ap-southeast-1']), ['eu-west-1', 'us-east-1']);
    assert.deepEqual(promoted([]), ['us-east-1'], 'demoted again once an active route is healthy');
  });
});
