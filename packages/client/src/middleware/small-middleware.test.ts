import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HandlerExecutionContext } from '@aws-sdk/types';
import { MemoryRegionCache } from '../cache/memory.ts';
import { captureRegionMiddleware } from './capture-region.ts';
import { regionState } from './context.ts';
import { forgetMissingBucketMiddleware } from './forget-missing-bucket.ts';
import { mrapAddressingMiddleware } from './mrap-addressing.ts';
import { stripRegionMiddleware } from './strip-region.ts';

type Input = Record<string, unknown>;

describe('strip-region middleware', () => {
  test("removes '@region' from what is sent, leaving the caller's input alone", async () => {
    const input = { Bucket: 'b', '@region': 'eu-west-1' };
    let seen: Input | undefined;
    await stripRegionMiddleware<Input, object>()(async (args) => {
      seen = args.input;
      return { output: {}, response: {} };
    }, {})({ input });
    assert.deepEqual(seen, { Bucket: 'b' });
    assert.equal(input['@region'], 'eu-west-1');
  });
});

describe('capture-region middleware', () => {
  test('records status and x-amz-bucket-region of the raw response, even with no body', async () => {
    const context: HandlerExecutionContext = {};
    await captureRegionMiddleware<Input, object>()(
      async () => ({ output: {}, response: { statusCode: 301, headers: { 'X-Amz-Bucket-Region': 'eu-west-1' } } }),
      context,
    )({ input: {}, request: {} });
    assert.deepEqual(regionState(context), { statusCode: 301, bucketRegionHeader: 'eu-west-1' });
  });

  test('two requests keep separate records', async () => {
    const a: HandlerExecutionContext = {};
    const b: HandlerExecutionContext = {};
    const mw = captureRegionMiddleware<Input, object>();
    const answer = (region: string) => async () => ({ output: {}, response: { statusCode: 301, headers: { 'x-amz-bucket-region': region } } });
    await Promise.all([mw(answer('eu-west-1'), a)({ input: {}, request: {} }), mw(answer('ap-southeast-1'), b)({ input: {}, request: {} })]);
    assert.equal(regionState(a).bucketRegionHeader, 'eu-west-1');
    assert.equal(regionState(b).bucketRegionHeader, 'ap-southeast-1');
  });
});

describe('forget-missing-bucket middleware', () => {
  const noSuchBucket = Object.assign(new Error('NoSuchBucket'), { name: 'NoSuchBucket' });
  test('NoSuchBucket from the region the cache named: the entry is deleted', async () => {
    const cache = new MemoryRegionCache();
    await cache.set('b', 'eu-west-1');
    const mw = forgetMissingBucketMiddleware<Input, object>('eu-west-1', cache);
    await assert.rejects(mw(async () => { throw noSuchBucket; }, {})({ input: { Bucket: 'b' } }), noSuchBucket);
    assert.equal(await cache.get('b'), undefined);
  });
  test('NoSuchBucket from another region, or another error, keeps the entry', async () => {
    const cache = new MemoryRegionCache();
    await cache.set('b', 'eu-west-1');
    await assert.rejects(forgetMissingBucketMiddleware<Input, object>('us-east-1', cache)(async () => { throw noSuchBucket; }, {})({ input: { Bucket: 'b' } }));
    const denied = Object.assign(new Error('AccessDenied'), { name: 'AccessDenied' });
    await assert.rejects(forgetMissingBucketMiddleware<Input, object>('eu-west-1', cache)(async () => { throw denied; }, {})({ input: { Bucket: 'b' } }));
    assert.equal(await cache.get('b'), 'eu-west-1');
  });
});

describe('mrap-addressing middleware', () => {
  async function sent(bucket: string): Promise<unknown> {
    let seen: Input | undefined;
    await mrapAddressingMiddleware<Input, object>()(async (args) => {
      seen = args.input;
      return { output: {}, response: {} };
    }, {})({ input: { Bucket: bucket, Key: 'k' } });
    return seen?.Bucket;
  }
  test('an MRAP ARN becomes its alias; an alias and a plain bucket stay as they are', async () => {
    assert.equal(await sent('arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap'), 'mfzwi23gnjvgw.mrap');
    assert.equal(await sent('arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw'), 'mfzwi23gnjvgw.mrap');
    assert.equal(await sent('mfzwi23gnjvgw.mrap'), 'mfzwi23gnjvgw.mrap');
    assert.equal(await sent('photos'), 'photos');
    // A regional access point ARN (Region field set) is not an MRAP.
    assert.equal(await sent('arn:aws:s3:eu-west-1:111122223333:accesspoint/ap'), 'arn:aws:s3:eu-west-1:111122223333:accesspoint/ap');
  });
});
