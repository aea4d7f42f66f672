import type {
  AbsoluteLocation, InitializeHandlerOptions, InitializeMiddleware, Pluggable } from '@aws-sdk/types';
import type { RegionCachePort } from './redirect.ts';

export const forgetMissingBucketOptions: InitializeHandlerOptions & AbsoluteLocation & { name: string } = {
  step: 'initialize',
  priority: 'low',
  name: 'meridianForgetMissingBucket',
  tags: ['MERIDIAN'],
};

/**
 * On `NoSuchBucket` from a region the cache named for that bucket, forgets the entry: the
 * bucket was deleted (or recreated elsewhere), so the next request must not trust it.
 *
 * @example
 * s3.middlewareStack.add(forgetMissingBucketMiddleware('eu-west-1', cache), forgetMissingBucketOptions);
 */
export function forgetMissingBucketMiddleware<I extends object, O extends object>(
  region: string,
  cache: RegionCachePort,
): InitializeMiddleware<I, O> {
  return (next) => async (args) => {
    try {
      return await next(args);
    } catch (err) {
      const bucket = (args.input as { Bucket?: unknown }).Bucket;
      const name = (err as { name?: unknown } | null)?.name;
      if (typeof bucket === 'string' && name === 'NoSuchBucket' && (await cache.get(bucket)) === region) {
        await cache.delete(bucket);
      }
      throw err;
    }
  };
}

/** Plugin form of {@link forgetMissingBucketMiddleware}. */
export function forgetMissingBucketPlugin<I extends object, O extends object>(region: string, cache: RegionCachePort): Pluggable<I, O> {
  return { applyToStack: (stack) => stack.add(forgetMissingBucketMiddleware<I, O>(region, cache), forgetMissingBucketOptions) };
}
