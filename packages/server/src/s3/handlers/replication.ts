import { S3Error } from '../../core/errors.ts';
import type { BucketRecord, ReplicationConfiguration } from '../../storage/types.ts';
import { readSmallBody } from '../body.ts';
import { existingBucket, type Handler, type S3Context } from '../context.ts';
import { verifyIntegrity } from '../integrity.ts';
import { parseReplicationConfiguration, replicationConfigurationXml } from '../replication-config.ts';
import { sendEmpty, sendXml } from '../respond.ts';

/** S3 accepts replication documents of up to 2 MB. */
const MAX_REPLICATION_BODY = 2 * 1024 * 1024;

/**
 * The checks that need other buckets, per distinct destination: not the source, exists, owned
 * by `Account` when one is named, and versioned.
 *
 * Versioning is checked only for a destination in this region: another region's buckets live
 * in that region's engine, which this process cannot read. For those the replication engine
 * finds an unversioned destination when it replicates (the version then goes FAILED, as S3
 * does when a destination's versioning is turned off after the configuration was stored).
 */
function checkDestinations(ctx: S3Context, source: BucketRecord, config: ReplicationConfiguration): void {
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
    if (location.region !== ctx.region) continue;
    const target = ctx.engine.getBucket(destination.bucket);
    if (target && target.versioning !== 'Enabled') {
      throw new S3Error('InvalidRequest', 'Destination bucket must have versioning enabled.');
    }
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
  checkDestinations(ctx, bucket, replication);
  await ctx.engine.updateBucket(bucket.name, { replication });
  sendEmpty(ctx.res, 200);
};

/** Idempotent: deleting an absent configuration is a success too. */
export const deleteBucketReplication: Handler = async (ctx) => {
  const bucket = existingBucket(ctx);
  await ctx.engine.updateBucket(bucket.name, { replication: undefined });
  sendEmpty(ctx.res, 204);
};
