import {
  CreateBucketCommand,
  S3Client,
  type S3ClientConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import type { Command, HandlerExecutionContext, HttpHandlerOptions, MiddlewareStack } from '@aws-sdk/types';
import { DEFAULT_MAX_REPLAY_BYTES } from './body-replay.ts';
import { MemoryRegionCache } from './cache/memory.ts';
import { SafeRegionCache } from './cache/safe.ts';
import type { BucketRegionCache } from './cache/types.ts';
import { captureRegionPlugin } from './middleware/capture-region.ts';
import { commandInstance } from './middleware/context.ts';
import { forgetMissingBucketPlugin } from './middleware/forget-missing-bucket.ts';
import { mrapAddressingPlugin } from './middleware/mrap-addressing.ts';
import { redirectPlugin, redispatchMarkerPlugin, type RedirectEvent } from './middleware/redirect.ts';
import { stripRegionPlugin } from './middleware/strip-region.ts';
import { mrapAlias } from './mrap.ts';
import { headBucketProbe, type BucketRegionProbe } from './probe.ts';
import { regionOf } from './region-param.ts';

/** Configuration of a {@link MultiRegionS3Client}: the stock S3Client config plus routing. */
export interface MultiRegionS3ClientConfig extends Omit<S3ClientConfig, 'region' | 'endpoint' | 'followRegionRedirects'> {
  /** The default region: where a request goes when neither `'@region'` nor the cache names one. */
  region: string;
  /** One endpoint for every region (only the signing region differs). Prefer `endpoints`. */
  endpoint?: string;
  /** Region → endpoint URL (Meridian, or any S3-compatible system). Regions not listed use AWS's endpoints. */
  endpoints?: Readonly<Record<string, string>>;
  /** Where bucket regions are remembered. Default: a {@link MemoryRegionCache} of this client. */
  bucketRegionCache?: BucketRegionCache;
  /** TTL of learned bucket regions. Default: the cache's own (an hour for the memory cache). */
  cacheTtlSeconds?: number;
  /** A cache call slower than this counts as a failure (a miss). Default 1000 ms. */
  cacheTimeoutMs?: number;
  /** The MRAP global endpoint: requests whose Bucket is an MRAP ARN or `<alias>.mrap` go there, path-style. */
  globalEndpoint?: string;
  /** Bound on a stream body buffered so that it can be resent to the right region. Default 5 MiB. */
  maxReplayBytes?: number;
  /** Receives warnings (a failing cache). Default: `logger.warn` if a logger is set, else `process.emitWarning`. */
  onWarning?: (message: string, cause?: unknown) => void;
  /** Called each time a request is resent to the bucket's real region. */
  onRedirect?: (event: RedirectEvent) => void;
}

type S3Command<I extends ServiceInputTypes, O extends ServiceOutputTypes> = Command<
  ServiceInputTypes,
  I,
  ServiceOutputTypes,
  O,
  S3Client['config']
>;
type Callback<O> = (err: unknown, data?: O) => void;
type AnyCommand = S3Command<ServiceInputTypes, ServiceOutputTypes>;
type CommandClass = new (input: object) => AnyCommand;
type Target = { kind: 'region'; region: string } | { kind: 'global' };

/**
 * One S3 client for buckets in many regions. It is a stock `S3Client` for the default region
 * (so paginators, waiters and `@aws-sdk/lib-storage` Upload take it as they are), backed by a
 * lazily built pool of per-region S3Clients made from the same config. Each command goes to
 * the region named by its `'@region'`, else the bucket's cached region, else the default;
 * wrong-region answers are followed once (one extra round trip) and remembered, so the next
 * call costs none.
 *
 * @example
 * const s3 = new MultiRegionS3Client({
 *   region: 'us-east-1',
 *   endpoints: { 'us-east-1': 'http://localhost:9000', 'eu-west-1': 'http://localhost:9001' },
 *   forcePathStyle: true,
 * });
 * await s3.send(new GetObjectCommand({ Bucket: 'in-ireland', Key: 'hello' })); // follows, learns
 * await s3.send(inRegion(new PutObjectCommand({ Bucket: 'in-ireland', Key: 'k', Body: 'v' }), 'eu-west-1'));
 */
export class MultiRegionS3Client extends S3Client {
  /** Where requests go when nothing else names a region. */
  readonly defaultRegion: string;
  /** The cache as used by the client: failures read as misses, with one warning. */
  readonly regionCache: SafeRegionCache;
  readonly #base: S3ClientConfig;
  readonly #endpoints: Readonly<Record<string, string>>;
  readonly #sharedEndpoint: string | undefined;
  readonly #globalEndpoint: string | undefined;
  readonly #maxReplayBytes: number;
  readonly #onRedirect: ((event: RedirectEvent) => void) | undefined;
  readonly #pool = new Map<string, S3Client>();
  readonly #probe: BucketRegionProbe;
  #global: S3Client | undefined;

  constructor(config: MultiRegionS3ClientConfig) {
    const {
      region,
      endpoint,
      endpoints = {},
      bucketRegionCache,
      cacheTtlSeconds,
      cacheTimeoutMs,
      globalEndpoint,
      maxReplayBytes,
      onWarning,
      onRedirect,
      ...base
    } = config;
    super(regionalConfig(base, region, endpoints[region] ?? endpoint));
    this.defaultRegion = region;
    this.#base = base;
    this.#endpoints = endpoints;
    this.#sharedEndpoint = endpoint;
    this.#globalEndpoint = globalEndpoint;
    this.#maxReplayBytes = maxReplayBytes ?? DEFAULT_MAX_REPLAY_BYTES;
    this.#onRedirect = onRedirect;
    const warn = onWarning ?? defaultWarn(base.logger);
    this.regionCache = new SafeRegionCache(bucketRegionCache ?? new MemoryRegionCache(), {
      ttlSeconds: cacheTtlSeconds,
      timeoutMs: cacheTimeoutMs,
      warn,
    });
    this.#probe = headBucketProbe({
      requestHandler: this.config.requestHandler,
      endpoint: endpoints[region] ?? endpoint,
      forcePathStyle: base.forcePathStyle,
    });
    this.#install(this, region);
    this.#pool.set(region, this);
  }

  /**
   * The S3Client of one region (built on first use, then reused). The default region's is this
   * client itself. Use it for anything that must talk to one region, such as `getSignedUrl`.
   *
   * @example
   * const ireland = s3.clientFor('eu-west-1');
   */
  clientFor(region: string): S3Client {
    let client = this.#pool.get(region);
    if (!client) {
      client = new S3Client(regionalConfig(this.#base, region, this.#endpoints[region] ?? this.#sharedEndpoint));
      this.#install(client, region);
      this.#pool.set(region, client);
    }
    return client;
  }

  /**
   * The region of `bucket`: the cache, else an unsigned HeadBucket probe (whose answer is
   * cached), else the default region. Use before presigning.
   *
   * @example
   * await s3.resolveBucketRegion('in-ireland'); // 'eu-west-1'
   */
  async resolveBucketRegion(bucket: string): Promise<string> {
    const cached = await this.regionCache.get(bucket);
    if (cached) return cached;
    const probed = await this.#probe(bucket);
    if (probed) {
      await this.regionCache.set(bucket, probed);
      return probed;
    }
    return this.defaultRegion;
  }

  override send<I extends ServiceInputTypes, O extends ServiceOutputTypes>(command: S3Command<I, O>, options?: HttpHandlerOptions): Promise<O>;
  override send<I extends ServiceInputTypes, O extends ServiceOutputTypes>(command: S3Command<I, O>, cb: Callback<O>): void;
  override send<I extends ServiceInputTypes, O extends ServiceOutputTypes>(
    command: S3Command<I, O>,
    options: HttpHandlerOptions,
    cb: Callback<O>,
  ): void;
  override send<I extends ServiceInputTypes, O extends ServiceOutputTypes>(
    command: S3Command<I, O>,
    optionsOrCb?: HttpHandlerOptions | Callback<O>,
    cb?: Callback<O>,
  ): Promise<O> | void {
    const options = typeof optionsOrCb === 'function' ? undefined : optionsOrCb;
    const callback = typeof optionsOrCb === 'function' ? optionsOrCb : cb;
    const result = this.#route(command).then((target) => this.#sendTo(target, command, options));
    if (!callback) return result;
    result.then(
      (output) => callback(null, output),
      (err: unknown) => callback(err),
    );
  }

  override destroy(): void {
    for (const client of this.#pool.values()) if (client !== this) client.destroy();
    this.#pool.clear();
    this.#pool.set(this.defaultRegion, this);
    this.#global?.destroy();
    this.#global = undefined;
    super.destroy();
  }

  async #route(command: { readonly input: object }): Promise<Target> {
    const input = command.input as Record<string, unknown>;
    if (this.#globalEndpoint !== undefined && mrapAlias(input.Bucket) !== undefined) return { kind: 'global' };
    const explicit = regionOf(input);
    if (explicit) return { kind: 'region', region: explicit };
    if (command instanceof CreateBucketCommand) {
      const constraint = (input as { CreateBucketConfiguration?: { LocationConstraint?: unknown } }).CreateBucketConfiguration
        ?.LocationConstraint;
      return { kind: 'region', region: typeof constraint === 'string' && constraint !== '' ? constraint : this.defaultRegion };
    }
    if (typeof input.Bucket === 'string') {
      const cached = await this.regionCache.get(input.Bucket);
      if (cached) return { kind: 'region', region: cached };
    }
    return { kind: 'region', region: this.defaultRegion };
  }

  #sendTo<I extends ServiceInputTypes, O extends ServiceOutputTypes>(
    target: Target,
    command: S3Command<I, O>,
    options?: HttpHandlerOptions,
  ): Promise<O> {
    if (target.kind === 'global') return this.#globalClient().send(command, options);
    // The default region's client is this one: bypass the routing `send` above.
    if (target.region === this.defaultRegion) return super.send(command, options);
    return this.clientFor(target.region).send(command, options);
  }

  #redispatch(region: string, input: Record<string, unknown>, context: HandlerExecutionContext): Promise<unknown> {
    const original = commandInstance(context) as { constructor: CommandClass } | undefined;
    if (!original || typeof original.constructor !== 'function') {
      return Promise.reject(new Error(`cannot resend ${context.commandName ?? 'the command'} to ${region}: command not in context`));
    }
    const resent = new original.constructor(input);
    (resent.middlewareStack as MiddlewareStack<ServiceInputTypes, ServiceOutputTypes>).use(redispatchMarkerPlugin());
    const abortSignal = ((context as Record<string, unknown>)['__smithy_context'] as { abortSignal?: unknown } | undefined)?.abortSignal;
    const options = abortSignal ? ({ abortSignal } as HttpHandlerOptions) : undefined;
    return this.#sendTo({ kind: 'region', region }, resent, options);
  }

  #install(client: S3Client, region: string): void {
    const stack = client.middlewareStack;
    stack.use(stripRegionPlugin());
    stack.use(captureRegionPlugin());
    stack.use(
      redirectPlugin({
        region,
        cache: this.regionCache,
        endpoints: this.#endpoints,
        probe: this.#probe,
        redispatch: (to, input, context) => this.#redispatch(to, input, context),
        maxReplayBytes: this.#maxReplayBytes,
        onRedirect: this.#onRedirect,
      }),
    );
    stack.use(forgetMissingBucketPlugin(region, this.regionCache));
  }

  #globalClient(): S3Client {
    if (!this.#global) {
      this.#global = new S3Client({
        ...this.#base,
        region: this.defaultRegion,
        endpoint: this.#globalEndpoint,
        forcePathStyle: true,
        followRegionRedirects: false,
      });
      this.#global.middlewareStack.use(stripRegionPlugin());
      this.#global.middlewareStack.use(mrapAddressingPlugin());
    }
    return this.#global;
  }
}

function regionalConfig(base: S3ClientConfig, region: string, endpoint: string | undefined): S3ClientConfig {
  const config: S3ClientConfig = { ...base, region, followRegionRedirects: false };
  if (endpoint !== undefined) config.endpoint = endpoint;
  return config;
}

function defaultWarn(logger: S3ClientConfig['logger']): (message: string) => void {
  if (logger) return (message) => logger.warn(message);
  return (message) => process.emitWarning(message, { type: 'MeridianClientWarning' });
}
