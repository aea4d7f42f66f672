import type { Command, MetadataBearer, MiddlewareStack } from '@aws-sdk/types';
import { stripRegionPlugin } from './middleware/strip-region.ts';
import { regionOf } from './region-param.ts';

/** What the pool needs of an AWS SDK v3 client: `send`, `destroy` and its middleware stack. */
export interface SdkClient {
  send(command: never, options?: never): Promise<unknown>;
  destroy(): void;
  middlewareStack: object;
}

/** The config of a {@link MultiRegionClient}: the client class's config plus routing. */
export type MultiRegionClientConfig<Config> = Omit<Config, 'region' | 'endpoint'> & {
  /** The default region, for commands without `'@region'`. */
  region: string;
  /** Region → endpoint URL. Regions not listed use the SDK's default endpoint. */
  endpoints?: Readonly<Record<string, string>>;
};

/**
 * A multi-region client for any AWS SDK v3 service, as the AWS SDK for PHP's
 * MultiRegionClient: a lazily built pool of per-region clients of `ClientClass`, made from one
 * config; each command goes to its `'@region'`, else the default region.
 *
 * @example
 * const control = new MultiRegionClient(S3ControlClient, { region: 'us-west-2', credentials });
 * await control.send(inRegion(new ListAccessPointsCommand({ AccountId }), 'eu-west-1'));
 */
export class MultiRegionClient<C extends SdkClient, Config extends object> {
  readonly defaultRegion: string;
  readonly #ClientClass: new (config: Config) => C;
  readonly #base: Omit<Config, 'region' | 'endpoint'>;
  readonly #endpoints: Readonly<Record<string, string>>;
  readonly #pool = new Map<string, C>();

  constructor(ClientClass: new (config: Config) => C, config: MultiRegionClientConfig<Config>) {
    const { region, endpoints = {}, ...base } = config;
    this.#ClientClass = ClientClass;
    this.defaultRegion = region;
    this.#endpoints = endpoints;
    this.#base = base as Omit<Config, 'region' | 'endpoint'>;
  }

  /**
   * The client of one region, built on first use.
   *
   * @example
   * const euw1 = control.clientFor('eu-west-1');
   */
  clientFor(region: string): C {
    let client = this.#pool.get(region);
    if (!client) {
      const endpoint = this.#endpoints[region];
      const config = { ...this.#base, region, ...(endpoint === undefined ? {} : { endpoint }) } as unknown as Config;
      client = new this.#ClientClass(config);
      (client.middlewareStack as unknown as MiddlewareStack<object, MetadataBearer>).use(stripRegionPlugin());
      this.#pool.set(region, client);
    }
    return client;
  }

  /**
   * Sends `command` to its `'@region'` (see `inRegion`), else to the default region.
   *
   * @example
   * const out = await control.send(new GetMultiRegionAccessPointCommand({ AccountId, Name }));
   */
  send<I extends object, O extends MetadataBearer>(command: Command<object, I, MetadataBearer, O, never>, options?: object): Promise<O> {
    const region = regionOf(command.input) ?? this.defaultRegion;
    const client = this.clientFor(region) as unknown as { send(c: unknown, o?: object): Promise<O> };
    return client.send(command, options);
  }

  /** Destroys every client of the pool (their sockets). */
  destroy(): void {
    for (const client of this.#pool.values()) client.destroy();
    this.#pool.clear();
  }
}
