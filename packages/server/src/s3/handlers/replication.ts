import { S3Error } from '../../core/errors.ts';
import type { BucketRecord, ReplicationConfiguration } from '../../storage/types.ts';
import { readSmallBody } from '../body.ts';
import { existingBucket, type Handler, type S3Context } from '../context.ts';
import { verifyIntegrity } from '../integrity.ts';
import { peerRequest } from '../peer.ts';
import { parseReplicationConfiguration, replicationConfigurationXml } from '../replication-config.ts';
import { sendEmpty, sendXml } from '../respond.ts';

/** S3 accepts replication documents of up to 2 MB. */
const MAX_REPLICATION_BODY = 2 * 1024 * 1024;

/**
 * The checks that need other buckets, per distinct destination: not the source, exists, owned
 * by `Account` when one is named, and versioned.
 *
 * A destination in another region is asked for its versioning over that region's S3 API, as
 * the world's service identity. If that region cannot be reached the configuration is
 * accepted: its versions wait (PENDING) until the region is back, and go FAILED then if the
 * destination is not versioned, as they do when versioning is turned off later.
 */
async function checkDestinations(ctx: S3Context, source: BucketRecord, config: ReplicationConfiguration): Promise<void> {
  const seen = new Set<string>();
  for (const { destination } of config.rules) {
    if (destination.bucket === source.name) {
      throw new S3Error('InvalidRequest', 'Destination bucket cannot be the same as the source bucket.');
    }
    const key = `${destination.bucket}\n${destination.account ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const location = ctx.catalog.lookupBucket(destination.bucket);
    if (!location) throw new S3Error('InvalidRequest', 'Destination bucket must exist.');
    if (destination.account !== undefined && destination.account !== location.owner) {
      throw new S3Error('InvalidArgument', 'Account must be the owner of the destination bucket.', {
        fields: { ArgumentName: 'Account', ArgumentValue: destination.account },
      });
    }
    let versioned: boolean | undefined;
    if (location.region === ctx.region) {
      const target = ctx.engine.getBucket(destination.bucket);
      versioned = target ? target.versioning === 'Enabled' : undefined;
    } else {
      const res = await peerRequest(ctx.catalog, location.region, {
        method: 'GET',
        path: `/${destination.bucket}`,
        query: 'versioning=',
      });
      if (res?.status === 200) versioned = /<Status>Enabled<\/Status>/.test(res.text);
      else ctx.log.warn({ destination: destination.bucket, region: location.region }, 'could not read the destination’s versioning');
    }
    if (versioned === false) throw new S3Error('InvalidRequest', 'Destination bucket must have versioning enabled.');
  }
}

export const getBucketReplication: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  if (!bucket.replication) {
    throw new S3Error('ReplicationConfigurationNotFoundError', undefined, { fields: { BucketName: bucket.name } });
  }
  sendXml(ctx.res, 200, replicationConfigurationXml(bucket.replication));
};

/**
 * Replaces the bucket's replication configuration. The source's versioning is checked before
 * the document is even read as a configuration, as S3 does (a bucket without versioning
 * answers the versioning error whatever the document says).
 */
export const putBucketReplication: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  const text = await readSmallBody(ctx.body(), MAX_REPLICATION_BODY);
  verifyIntegrity(ctx, text);
  if (bucket.versioning !== 'Enabled') {
    throw new S3Error('InvalidRequest', "Versioning must be 'Enabled' on the bucket to apply a replication configuration", {
      fields: { BucketName: bucket.name },
    });
  }
  const replication = parseReplicationConfiguration(text);
  await checkDestinations(ctx, bucket, replication);
  await ctx.engine.updateBucket(bucket.name, { replication });
  sendEmpty(ctx.res, 200);
};

/** Idempotent: deleting an absent configuration is a success too. */
export const deleteBucketReplication: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  await ctx.engine.updateBucket(bucket.name, { replication: undefined });
  sendEmpty(ctx.res, 204);
};
