import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, HeadBucketCommand, ListBucketsCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { CREDENTIALS, startTestWorld, type TestWorld } from '../../server/test/helpers/world.ts';
import { MultiRegionClient, inRegion } from '../src/index.ts';
import { CountingHandler, hostOf } from './helpers.ts';

let w: TestWorld;
before(async () => {
  w = await startTestWorld();
  await w.client('eu-west-1').send(new CreateBucketCommand({ Bucket: 'generic-ireland', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
});
after(() => w.close());

test('MultiRegionClient: a lazy pool of any SDK client class, with @region per command', async () => {
  const http = new CountingHandler();
  const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];
  const built: string[] = [];
  class Recording extends S3Client {
    constructor(config: S3ClientConfig) {
      super(config);
      built.push(String(config.region));
    }
  }
  const multi = new MultiRegionClient(Recording, {
    region: 'us-east-1',
    endpoints: Object.fromEntries(regions.map((r) => [r, w.endpoint(r)])),
    forcePathStyle: true,
    credentials: CREDENTIALS,
    requestHandler: http,
  });
  assert.deepEqual(built, [], 'nothing is built up front');
  await multi.send(new ListBucketsCommand({}));
  const head = await multi.send(inRegion(new HeadBucketCommand({ Bucket: 'generic-ireland' }), 'eu-west-1'));
  assert.equal(head.BucketRegion, 'eu-west-1');
  await multi.send(inRegion(new ListBucketsCommand({}), 'eu-west-1'));
  assert.deepEqual(built, ['us-east-1', 'eu-west-1']);
  assert.deepEqual(
    http.sent.map((r) => r.host),
    [hostOf(w.endpoint('us-east-1')), hostOf(w.endpoint('eu-west-1')), hostOf(w.endpoint('eu-west-1'))],
  );
  assert.equal(multi.clientFor('eu-west-1'), multi.clientFor('eu-west-1'));
  multi.destroy();
});
