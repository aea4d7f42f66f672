import type { ServiceInputTypes } from '@aws-sdk/client-s3';
import type { MetadataBearer } from '@aws-sdk/types';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { MultiRegionS3Client } from './multi-region-s3-client.ts';
import { regionOf } from './region-param.ts';

export type PresignOptions = NonNullable<Parameters<typeof getSignedUrl>[2]>;

/**
 * A presigned URL that works: the bucket's region is resolved first (`'@region'`, else the
 * cache, else an unsigned HeadBucket probe), and the URL is signed by that region's client
 * for that region's endpoint. (A presigned URL cannot be redirected: a wrong-region URL just
 * fails, which is why the region must be known before signing.)
 *
 * @example
 * const url = await presign(s3, new GetObjectCommand({ Bucket: 'in-ireland', Key: 'hello' }), { expiresIn: 300 });
 * const res = await fetch(url);
 */
export async function presign<I extends ServiceInputTypes, O extends MetadataBearer>(
  client: MultiRegionS3Client,
  command: { readonly input: I } & Parameters<typeof getSignedUrl<ServiceInputTypes, I, O>>[1],
  options: PresignOptions = {},
): Promise<string> {
  const input = command.input as { Bucket?: unknown };
  const region =
    regionOf(input) ?? (typeof input.Bucket === 'string' ? await client.resolveBucketRegion(input.Bucket) : client.defaultRegion);
  // The regional client's stack strips '@region' before the URL is built.
  return getSignedUrl(client.clientFor(region), command, options);
}
