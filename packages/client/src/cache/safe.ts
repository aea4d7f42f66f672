import type { BucketRegionCache } from './types.ts';

export interface SafeRegionCacheOptions {
  /** TTL passed to every `set` (else the cache's own default). */
  ttlSeconds?: number;
  /** A cache call that takes longer than this counts as failed. Default 1000 ms. */
  timeoutMs?: number;
  /** Where the one warning about a failing cache goes. */
  warn: (message: string, cause: unknown) => void;
}

/**
 * Wraps any `BucketRegionCache` so that it can never fail a request: a throwing or hanging
 * cache reads as a miss and writes are dropped, with one warning per outage (a success ends
 * the outage, so the next failure warns again).
 *
 * @example
 * const safe = new SafeRegionCache(new RedisRegionCache(redis), { warn: console.warn });
 * await safe.get('photos'); // undefined while Redis is down, never a rejection
 */
export class SafeRegionCache {
  readonly #inner: BucketRegionCache;
  readonly #options: SafeRegionCacheOptions;
  #failing = false;

  constructor(inner: BucketRegionCache, options: SafeRegionCacheOptions) {
    this.#inner = inner;
    this.#options = options;
  }

  get(bucket: string): Promise<string | undefined> {
    return this.#guard('get', () => this.#inner.get(bucket), undefined);
  }

  set(bucket: string, region: string): Promise<void> {
    return this.#guard('set', () => this.#inner.set(bucket, region, this.#options.ttlSeconds), undefined);
  }

  delete(bucket: string): Promise<void> {
    return this.#guard('delete', () => this.#inner.delete(bucket), undefined);
  }

  async #guard<T>(op: string, call: () => Promise<T>, fallback: T): Promise<T> {
    const timeoutMs = this.#options.timeoutMs ?? 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`bucket-region cache ${op} timed out after ${timeoutMs} ms`)), timeoutMs);
      });
      const result = await Promise.race([Promise.resolve().then(call), timeout]);
      this.#failing = false;
      return result;
    } catch (err) {
      if (!this.#failing) {
        this.#failing = true;
        const reason = err instanceof Error ? err.message : String(err);
        this.#options.warn(`bucket-region cache failed (${op}: ${reason}); continuing without it`, err);
      }
      return fallback;
    } finally {
      clearTimeout(timer);
    }
  }
}
