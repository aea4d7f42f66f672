import type { BucketRegionCache } from './types.ts';

export interface MemoryRegionCacheOptions {
  /** Most buckets remembered; the least recently used one is forgotten first. Default 10,000. */
  maxEntries?: number;
  /** How long an entry lives when `set` is given no TTL. Default 3600 seconds. */
  defaultTtlSeconds?: number;
  /** The clock, in milliseconds (injected by tests). Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  region: string;
  expiresAt: number;
}

/**
 * The default bucket-region cache: in memory, per client, bounded both by size (LRU) and by
 * age (TTL), so a moved bucket is relearned and a client that touches millions of buckets
 * does not grow without bound.
 *
 * @example
 * const cache = new MemoryRegionCache({ maxEntries: 1000, defaultTtlSeconds: 600 });
 * await cache.set('photos', 'eu-west-1');
 * await cache.get('photos'); // 'eu-west-1'
 */
export class MemoryRegionCache implements BucketRegionCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #defaultTtlMs: number;
  readonly #now: () => number;

  constructor(options: MemoryRegionCacheOptions = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.#defaultTtlMs = (options.defaultTtlSeconds ?? 3600) * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** How many entries are held (expired ones included until touched or evicted). */
  get size(): number {
    return this.#entries.size;
  }

  async get(bucket: string): Promise<string | undefined> {
    const entry = this.#entries.get(bucket);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(bucket);
      return undefined;
    }
    // Map iteration order is insertion order: re-inserting marks the entry most recently used.
    this.#entries.delete(bucket);
    this.#entries.set(bucket, entry);
    return entry.region;
  }

  async set(bucket: string, region: string, ttlSeconds?: number): Promise<void> {
    const ttlMs = ttlSeconds === undefined ? this.#defaultTtlMs : ttlSeconds * 1000;
    this.#entries.delete(bucket);
    if (ttlMs <= 0) return;
    this.#entries.set(bucket, { region, expiresAt: this.#now() + ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  async delete(bucket: string): Promise<void> {
    this.#entries.delete(bucket);
  }
}
