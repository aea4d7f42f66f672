/**
 * The contract every `BucketRegionCache` keeps, as one test suite that each implementation's
 * test file runs (and that a user's own cache can run too).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { BucketRegionCache } from './types.ts';

/** A cache under test; `close` (when present) is called after each test. */
export type ContractCache = BucketRegionCache & { close?(): Promise<void> | void };

/**
 * Registers the contract suite for one implementation. `factory` must return a fresh, empty
 * cache each time (a new directory, a new key prefix...), so that tests do not see each other.
 *
 * @example
 * ```ts
 * import { regionCacheContract } from '@meridian/client/src/cache/contract.ts';
 * regionCacheContract('MyCache', () => new MyCache());
 * ```
 */
export function regionCacheContract(name: string, factory: () => ContractCache | Promise<ContractCache>): void {
  describe(`${name} keeps the BucketRegionCache contract`, { concurrency: true }, () => {
    async function withCache(body: (cache: BucketRegionCache) => Promise<void>): Promise<void> {
      const cache = await factory();
      try {
        await body(cache);
      } finally {
        await cache.close?.();
      }
    }

    test('an unknown bucket is a miss: undefined, not an error', () =>
      withCache(async (cache) => {
        assert.equal(await cache.get('never-set'), undefined);
      }));

    test('a region set is the region got', () =>
      withCache(async (cache) => {
        await cache.set('photos', 'eu-west-1');
        assert.equal(await cache.get('photos'), 'eu-west-1');
      }));

    test('a second set overwrites the first', () =>
      withCache(async (cache) => {
        await cache.set('moved', 'us-east-1');
        await cache.set('moved', 'ap-southeast-1');
        assert.equal(await cache.get('moved'), 'ap-southeast-1');
      }));

    test('delete forgets the bucket, and deleting an unknown bucket is fine', () =>
      withCache(async (cache) => {
        await cache.set('gone', 'eu-west-1');
        await cache.delete('gone');
        assert.equal(await cache.get('gone'), undefined);
        await cache.delete('gone');
        await cache.delete('never-set');
        await cache.set('gone', 'us-east-1');
        assert.equal(await cache.get('gone'), 'us-east-1', 'a deleted bucket can be learned again');
      }));

    test('an entry expires after its TTL; one set with a longer or default TTL stays', () =>
      withCache(async (cache) => {
        await cache.set('short', 'eu-west-1', 1);
        await cache.set('long', 'eu-west-1', 60);
        await cache.set('default', 'eu-west-1');
        assert.equal(await cache.get('short'), 'eu-west-1', 'alive before its TTL');
        await sleep(1300);
        assert.equal(await cache.get('short'), undefined, 'expired after its TTL');
        assert.equal(await cache.get('long'), 'eu-west-1');
        assert.equal(await cache.get('default'), 'eu-west-1');
        await cache.set('short', 'us-east-1', 60);
        assert.equal(await cache.get('short'), 'us-east-1', 'an expired bucket can be learned again');
      }));

    test('buckets are independent, even with names that prefix each other', () =>
      withCache(async (cache) => {
        const names = ['data', 'data-eu', 'data.eu', 'dat', 'data-'];
        const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-1', 'eu-central-1', 'us-west-2'];
        await Promise.all(names.map((n, i) => cache.set(n, regions[i])));
        await cache.delete('data');
        assert.equal(await cache.get('data'), undefined);
        for (const [i, n] of names.entries()) if (n !== 'data') assert.equal(await cache.get(n), regions[i], n);
      }));

    test('many parallel sets and gets: each bucket ends with its own region, and racing writers of one bucket leave one whole value', () =>
      withCache(async (cache) => {
        const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];
        const buckets = Array.from({ length: 100 }, (_, i) => `bucket-${i}`);
        await Promise.all(buckets.map((b, i) => cache.set(b, regions[i % 3])));
        const got = await Promise.all(buckets.map((b) => cache.get(b)));
        assert.deepEqual(
          got,
          buckets.map((_, i) => regions[i % 3]),
        );

        const racing = Array.from({ length: 50 }, (_, i) => `region-${i}`);
        const reads: Array<Promise<string | undefined>> = [];
        await Promise.all(
          racing.map((r) => {
            reads.push(cache.get('contested'));
            return cache.set('contested', r);
          }),
        );
        for (const seen of await Promise.all(reads)) {
          assert.ok(seen === undefined || racing.includes(seen), `a read saw a whole value, not ${seen}`);
        }
        const final = await cache.get('contested');
        assert.ok(final !== undefined && racing.includes(final), `one of the written regions wins, not ${final}`);
      }));

    test('unusual bucket names: dots, dashes, digits, the longest name, MRAP aliases and ARNs', () =>
      withCache(async (cache) => {
        const names = [
          'my.bucket.with.dots',
          'my-bucket--double-dash',
          '123456789',
          'a'.repeat(63),
          'xn--bcher-kva',
          'bucket-s3alias',
          'mfzwi23gnjvgw.mrap',
          'arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap',
          '..',
          'Upper_Case/With Spaces',
        ];
        await Promise.all(names.map((n, i) => cache.set(n, `region-${i}`)));
        for (const [i, n] of names.entries()) assert.equal(await cache.get(n), `region-${i}`, n);
        assert.equal(await cache.get('my.bucket.with'), undefined);
      }));
  });
}
