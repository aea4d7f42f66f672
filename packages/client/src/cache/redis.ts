/**
 * A bucket-region cache in Redis, shared by every host that talks to the same server: keys are
 * `<prefix><bucket>`, values the region, and expiry is Redis's own (SET with PX).
 *
 * A cache must never make a request slower than having no cache. So every call is bounded:
 * - while the first connection is being made, a call waits for it at most `timeoutMs`;
 * - once a connection has failed (server down, refused, timed out), calls reject at once until
 *   Redis is back (ioredis keeps reconnecting in the background with a capped backoff), rather
 *   than queueing: the client that uses this cache treats a rejection as a miss, with a warning;
 * - a command on a live connection that gets no answer within `timeoutMs` rejects.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { BucketRegionCache } from './types.ts';

export interface RedisRegionCacheOptions {
  /**
   * An existing ioredis client to use. It stays yours: `close()` leaves it open. Calls are still
   * bounded by `timeoutMs`, whatever its own options.
   */
  client?: Redis;
  /** Connection options or a `redis://` URL for a client this cache creates (and closes). */
  redis?: RedisOptions | string;
  /** Prepended to every key, so that several applications can share a server; default `meridian:bucket-region:`. */
  prefix?: string;
  /** TTL of an entry set without one, in seconds; default 3600. */
  defaultTtlSeconds?: number;
  /** The longest any call may take, connection included, in milliseconds; default 1000. */
  timeoutMs?: number;
}

/** Thrown (as a rejection) when Redis cannot answer in time; callers treat it as a cache miss. */
export class RegionCacheUnavailableError extends Error {
  readonly code = 'RegionCacheUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegionCacheUnavailableError';
  }
}

export const DEFAULT_REDIS_PREFIX = 'meridian:bucket-region:';

/**
 * A `BucketRegionCache` in Redis, via ioredis: one lookup by any host serves every other host.
 *
 * @example
 * ```ts
 * import { RedisRegionCache } from '@meridian/client';
 * const cache = new RedisRegionCache({ redis: 'redis://cache.internal:6379', prefix: 'myapp:regions:' });
 * await cache.set('photos', 'eu-west-1', 600); // SET myapp:regions:photos eu-west-1 PX 600000
 * await cache.get('photos'); // 'eu-west-1', on any host using that server and prefix
 * await cache.close();
 * ```
 */
export class RedisRegionCache implements BucketRegionCache {
  readonly prefix: string;
  readonly redis: Redis;
  private readonly owned: boolean;
  private readonly defaultTtlSeconds: number;
  private readonly timeoutMs: number;
  /** Set when a connection attempt failed or a connection dropped; cleared on `ready`. */
  private down = false;
  private lastError: unknown;
  private firstConnection: Promise<void> | undefined;

  constructor(opts: RedisRegionCacheOptions = {}) {
    this.prefix = opts.prefix ?? DEFAULT_REDIS_PREFIX;
    this.defaultTtlSeconds = opts.defaultTtlSeconds ?? 3600;
    this.timeoutMs = opts.timeoutMs ?? 1000;
    if (!(this.defaultTtlSeconds > 0)) throw new RangeError('RedisRegionCache: defaultTtlSeconds must be positive');
    if (opts.client) {
      this.redis = opts.client;
      this.owned = false;
    } else {
      const failFast: RedisOptions = {
        lazyConnect: true,
        connectTimeout: this.timeoutMs,
        commandTimeout: this.timeoutMs,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        // Keep trying in the background, so the cache comes back when Redis does.
        retryStrategy: (times) => Math.min(times * 200, 5000),
      };
      const given = opts.redis ?? {};
      this.redis = typeof given === 'string' ? new Redis(given, failFast) : new Redis({ ...failFast, ...given });
      this.owned = true;
      // Without a listener ioredis prints every failed reconnect; the rejection of the call
      // that needed Redis carries the error instead.
      this.redis.on('error', (err: unknown) => {
        this.lastError = err;
      });
    }
    this.redis.on('ready', () => {
      this.down = false;
      this.lastError = undefined;
    });
    this.redis.on('close', () => {
      this.down = true;
    });
  }

  async get(bucket: string): Promise<string | undefined> {
    const value = await this.run('GET', () => this.redis.get(this.key(bucket)));
    return value ?? undefined;
  }

  async set(bucket: string, region: string, ttlSeconds?: number): Promise<void> {
    const ttl = ttlSeconds ?? this.defaultTtlSeconds;
    if (!(ttl > 0)) {
      await this.delete(bucket);
      return;
    }
    const ms = Math.max(1, Math.round(ttl * 1000));
    await this.run('SET', () => this.redis.set(this.key(bucket), region, 'PX', ms));
  }

  async delete(bucket: string): Promise<void> {
    await this.run('DEL', () => this.redis.del(this.key(bucket)));
  }

  /** Closes the connection if this cache opened it; a client passed in is left to its owner. */
  async close(): Promise<void> {
    if (!this.owned) return;
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }

  /** The Redis key of `bucket`. */
  key(bucket: string): string {
    return this.prefix + bucket;
  }

  private async run<T>(what: string, command: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    await this.connected(what);
    try {
      return await withDeadline(command(), deadline - Date.now(), () =>
        this.unavailable(`${what} got no answer in time`),
      );
    } catch (err) {
      if (err instanceof RegionCacheUnavailableError) throw err;
      this.lastError = err;
      throw this.unavailable(`${what} failed`);
    }
  }

  private async connected(what: string): Promise<void> {
    const status = this.redis.status;
    if (status === 'ready') return;
    if (status === 'end' || status === 'close') throw this.unavailable(`${what} on a closed connection`);
    if (this.down || status === 'reconnecting') throw this.unavailable(`${what} while Redis is unreachable`);
    // 'wait', 'connecting' or 'connect': the first connection is on its way; every call made
    // meanwhile waits on the same attempt.
    this.firstConnection ??= this.awaitFirstConnection().finally(() => {
      this.firstConnection = undefined;
    });
    try {
      await this.firstConnection;
    } catch (err) {
      throw this.unavailable(`${what}: ${(err as Error).message}`);
    }
  }

  private awaitFirstConnection(): Promise<void> {
    if (this.redis.status === 'wait') this.redis.connect().catch(() => undefined);
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        this.redis.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      const onClose = () => done(new Error('could not connect'));
      const timer = setTimeout(() => done(new Error(`no connection within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.redis.on('ready', onReady);
      this.redis.on('close', onClose);
    });
  }

  private unavailable(detail: string): RegionCacheUnavailableError {
    const opts = this.redis.options;
    const where = opts.path ?? `${opts.host ?? 'localhost'}:${opts.port ?? 6379}`;
    const cause = this.lastError;
    const reason = cause instanceof Error ? ` (${cause.message})` : '';
    return new RegionCacheUnavailableError(`RedisRegionCache: ${detail} at ${where}${reason}`, { cause });
  }
}

function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
