import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MrapRegion } from '../../catalog/catalog.ts';
import { S3Error } from '../../core/errors.ts';
import { applyRouteUpdates } from './routes.ts';

const REGIONS: MrapRegion[] = [
  { bucket: 'b-use1', region: 'us-east-1', bucketAccountId: '111122223333', trafficDialPercentage: 100 },
  { bucket: 'b-euw1', region: 'eu-west-1', bucketAccountId: '111122223333', trafficDialPercentage: 100 },
  { bucket: 'b-apse1', region: 'ap-southeast-1', bucketAccountId: '111122223333', trafficDialPercentage: 0 },
];
const dials = (rs: MrapRegion[]) => rs.map((r) => r.trafficDialPercentage);
const invalid = (message: RegExp) => (err: unknown) =>
  err instanceof S3Error && err.code === 'InvalidRequest' && err.status === 400 && message.test(err.message);

describe('applyRouteUpdates', () => {
  test('a partial update changes only the Regions it names, by Region, bucket or both', () => {
    assert.deepEqual(dials(applyRouteUpdates(REGIONS, [{ region: 'eu-west-1', trafficDialPercentage: 0 }])), [100, 0, 0]);
    assert.deepEqual(dials(applyRouteUpdates(REGIONS, [{ bucket: 'b-apse1', trafficDialPercentage: 100 }])), [100, 100, 100]);
    assert.deepEqual(
      dials(
        applyRouteUpdates(REGIONS, [
          { bucket: 'b-use1', region: 'us-east-1', trafficDialPercentage: 0 },
          { region: 'ap-southeast-1', trafficDialPercentage: 100 },
        ]),
      ),
      [0, 100, 100],
    );
    assert.deepEqual(dials(REGIONS), [100, 100, 0], 'the input is not modified');
  });

  test('refuses what AWS refuses', () => {
    assert.throws(() => applyRouteUpdates(REGIONS, []), invalid(/At least one route/));
    assert.throws(() => applyRouteUpdates(REGIONS, [{ trafficDialPercentage: 0 }]), invalid(/Bucket or a Region/));
    for (const dial of [1, 50, 99, 101]) {
      assert.throws(() => applyRouteUpdates(REGIONS, [{ region: 'us-east-1', trafficDialPercentage: dial }]), invalid(/0 \(passive\) or 100/));
    }
    assert.throws(
      () => applyRouteUpdates(REGIONS, [{ bucket: 'b-use1', region: 'eu-west-1', trafficDialPercentage: 100 }]),
      invalid(/no route for bucket b-use1 in Region eu-west-1/),
    );
    assert.throws(() => applyRouteUpdates(REGIONS, [{ region: 'sa-east-1', trafficDialPercentage: 100 }]), invalid(/no route/));
    assert.throws(
      () =>
        applyRouteUpdates(REGIONS, [
          { region: 'us-east-1', trafficDialPercentage: 0 },
          { bucket: 'b-euw1', trafficDialPercentage: 0 },
        ]),
      invalid(/must stay active/),
    );
  });
});
