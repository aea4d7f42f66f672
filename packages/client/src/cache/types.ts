/**
 * Where a client remembers which region each bucket lives in. Any object with these three
 * async methods will do: the memory, file and Redis caches of this package, or your own.
 * Implementations must never throw for a miss (`get` resolves undefined); a cache that fails
 * (a Redis server down) is treated by the client as a miss, with a warning.
 */
export interface BucketRegionCache {
  /** The region of `bucket`, or undefined when unknown or expired. */
  get(bucket: string): Promise<string | undefined>;
  /** Remembers `region` for `bucket`, for `ttlSeconds` if given (else the cache's default). */
  set(bucket: string, region: string, ttlSeconds?: number): Promise<void>;
  /** Forgets `bucket` (after the bucket moved or was deleted). */
  delete(bucket: string): Promise<void>;
}
