import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CREDENTIALS } from './world.ts';

/**
 * A versioned source bucket in us-east-1 replicating everything (one rule, `ruleId`) to a
 * versioned destination bucket in `destinationRegion`, set up through the stock SDK.
 */
export async function replicatedPair(opts: {
  source: S3Client;
  destination: S3Client;
  sourceBucket: string;
  destinationBucket: string;
  destinationRegion: string;
  ruleId: string;
}): Promise<void> {
  const { source, destination, sourceBucket, destinationBucket } = opts;
  await source.send(new CreateBucketCommand({ Bucket: sourceBucket }));
  await destination.send(
    new CreateBucketCommand({
      Bucket: destinationBucket,
      CreateBucketConfiguration: { LocationConstraint: opts.destinationRegion as BucketLocationConstraint },
    }),
  );
  await source.send(new PutBucketVersioningCommand({ Bucket: sourceBucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await destination.send(new PutBucketVersioningCommand({ Bucket: destinationBucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await source.send(
    new PutBucketReplicationCommand({
      Bucket: sourceBucket,
      ReplicationConfiguration: {
        Role: `arn:aws:iam::${CREDENTIALS.accountId}:role/replication`,
        Rules: [
          {
            ID: opts.ruleId,
            Priority: 1,
            Status: 'Enabled',
            Filter: {},
            DeleteMarkerReplication: { Status: 'Disabled' },
            Destination: { Bucket: `arn:aws:s3:::${destinationBucket}` },
          },
        ],
      },
    }),
  );
}
