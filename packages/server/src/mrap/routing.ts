/**
 * Where an MRAP request goes: a pure function of the access point's routes and what is known
 * about each region (spec D.3). Candidates are the regions whose route is active
 * (TrafficDialPercentage 100); healthy ones come first, nearest first; regions that are down
 * stay at the end, so a request can still be tried there when nothing else is left. Passive
 * routes (dial 0) receive no traffic, as in AWS, unless the MRAP opted in to automatic
 * promotion and every active route is down.
 */
import type { MrapRecord, MrapRegion } from '../catalog/catalog.ts';

export interface RegionView {
  healthy(region: string): boolean;
  /** smaller is nearer */
  distance(region: string): number;
}

export function routeCandidates(mrap: Pick<MrapRecord, 'regions' | 'options'>, view: RegionView): MrapRegion[] {
  const ranked = (regions: MrapRegion[]) =>
    regions
      .map((r, i) => ({ r, i, healthy: view.healthy(r.region), distance: view.distance(r.region) }))
      .sort(
        (a, b) =>
          Number(b.healthy) - Number(a.healthy) ||
          a.distance - b.distance ||
          // Equal distances: a fixed order, so routing is stable.
          (a.r.region < b.r.region ? -1 : a.r.region > b.r.region ? 1 : a.i - b.i),
      )
      .map((c) => c.r);
  const active = ranked(mrap.regions.filter((r) => r.trafficDialPercentage > 0));
  if (!mrap.options?.autoPromote || active.some((r) => view.healthy(r.region))) return active;
  // Opt-in automatic promotion: every active route is down, so healthy passive ones step in.
  const promoted = ranked(mrap.regions.filter((r) => r.trafficDialPercentage === 0 && view.healthy(r.region)));
  return [...promoted, ...active];
}

/** S3 operations an MRAP serves (spec D.2); everything else is refused with its name. */
export const MRAP_OPERATIONS: ReadonlySet<string> = new Set([
  'AbortMultipartUpload',
  'CompleteMultipartUpload',
  'CreateMultipartUpload',
  'DeleteObject',
  'DeleteObjectTagging',
  'GetObject',
  'GetObjectAcl',
  'GetObjectLegalHold',
  'GetObjectRetention',
  'GetObjectTagging',
  'HeadObject',
  'ListMultipartUploads',
  'ListObjectsV2',
  'ListParts',
  'PutObject',
  'PutObjectAcl',
  'PutObjectLegalHold',
  'PutObjectRetention',
  'PutObjectTagging',
  'RestoreObject',
  'UploadPart',
]);

/** Operations that change nothing, so a failed attempt may be tried again in another region. */
export const READ_OPERATIONS: ReadonlySet<string> = new Set([
  'GetObject',
  'GetObjectAcl',
  'GetObjectLegalHold',
  'GetObjectRetention',
  'GetObjectTagging',
  'HeadObject',
  'ListMultipartUploads',
  'ListObjectsV2',
  'ListParts',
]);

/** Operations that continue a multipart upload, which lives in the region where it began. */
export const UPLOAD_OPERATIONS: ReadonlySet<string> = new Set([
  'UploadPart',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'ListParts',
]);
