/**
 * Route (failover) updates of an MRAP: which Regions are active (TrafficDialPercentage 100)
 * and which passive (0). Pure: the handler loads the MRAP, applies the updates here, stores
 * the result.
 */
import type { MrapRegion } from '../../catalog/catalog.ts';
import { S3Error } from '../../core/errors.ts';

export interface RouteUpdate {
  bucket?: string;
  region?: string;
  trafficDialPercentage: number;
}

/**
 * Applies a partial update: Regions not named keep their dial. Each update names its Region by
 * bucket, by Region or by both (which must then agree); only 0 and 100 are accepted, and at
 * least one Region must stay active. Throws `InvalidRequest` otherwise.
 *
 * @example
 * applyRouteUpdates(regions, [{ region: 'eu-west-1', trafficDialPercentage: 0 }]);
 */
export function applyRouteUpdates(regions: readonly MrapRegion[], updates: readonly RouteUpdate[]): MrapRegion[] {
  if (updates.length === 0) throw new S3Error('InvalidRequest', 'At least one route update is required.');
  const next = regions.map((r) => ({ ...r }));
  for (const u of updates) {
    if (u.bucket === undefined && u.region === undefined) {
      throw new S3Error('InvalidRequest', 'Each route must name a Bucket or a Region.');
    }
    if (u.trafficDialPercentage !== 0 && u.trafficDialPercentage !== 100) {
      throw new S3Error(
        'InvalidRequest',
        `TrafficDialPercentage must be 0 (passive) or 100 (active), not ${u.trafficDialPercentage}.`,
      );
    }
    const target = next.find(
      (r) => (u.bucket === undefined || r.bucket === u.bucket) && (u.region === undefined || r.region === u.region),
    );
    if (!target) {
      const named = [u.bucket && `bucket ${u.bucket}`, u.region && `Region ${u.region}`].filter(Boolean).join(' in ');
      throw new S3Error('InvalidRequest', `The Multi-Region Access Point has no route for ${named}.`);
    }
    target.trafficDialPercentage = u.trafficDialPercentage;
  }
  if (!next.some((r) => r.trafficDialPercentage === 100)) {
    throw new S3Error('InvalidRequest', 'At least one Region of a Multi-Region Access Point must stay active.');
  }
  return next;
}
