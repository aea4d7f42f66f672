import { randomBytes } from 'node:crypto';
import { open, type Database, type RootDatabase } from 'lmdb';

/** The account the service identity acts as; no user account can have it (ids have 12 digits). */
export const SERVICE_ACCOUNT_ID = 'meridian-service';

/**
 * The catalog holds the world's global facts: which region holds which bucket (bucket names
 * are global), the regions and their endpoints, and the credentials that work everywhere.
 * Regions consult it on every bucket request, so reads are synchronous and cheap.
 */

export interface BucketLocation {
  name: string;
  region: string;
  owner: string;
  createdAt: number;
}

export interface RegionInfo {
  name: string;
  /** e.g. http://127.0.0.1:9002 */
  endpoint: string;
}

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  /** The world's own identity (replication, the router): never handed to users. */
  service?: boolean;
}

export type ClaimResult = { claimed: true } | { claimed: false; existing: BucketLocation };

export interface Catalog {
  lookupBucket(name: string): BucketLocation | undefined;
  /** Atomically takes a bucket name for a region; fails with the holder if it is taken. */
  claimBucket(location: BucketLocation): Promise<ClaimResult>;
  /** Gives a name back (only if `region` still holds it). */
  releaseBucket(name: string, region: string): Promise<void>;
  listBuckets(): BucketLocation[];
  region(name: string): RegionInfo | undefined;
  regions(): RegionInfo[];
  accessKey(accessKeyId: string): AccessKey | undefined;
  /** The key regions sign their requests to each other with. */
  serviceKey(): AccessKey;
  close(): Promise<void>;
}

export interface LmdbCatalogOptions {
  path: string;
  /** Regions and keys come from the world config; bucket locations persist in LMDB. */
  regions: RegionInfo[];
  keys: AccessKey[];
}

/** The embedded catalog: bucket locations in an LMDB environment shared by every region. */
export class LmdbCatalog implements Catalog {
  readonly #root: RootDatabase;
  readonly #buckets: Database<BucketLocation, string>;
  readonly #regions: Database<RegionInfo, string>;
  readonly #keys: Map<string, AccessKey>;
  readonly #service: AccessKey;

  constructor(opts: LmdbCatalogOptions) {
    this.#root = open({ path: opts.path, compression: false });
    this.#buckets = this.#root.openDB<BucketLocation, string>({ name: 'buckets' });
    this.#regions = this.#root.openDB<RegionInfo, string>({ name: 'regions' });
    for (const r of opts.regions) this.setRegionEndpoint(r.name, r.endpoint);
    this.#keys = new Map(opts.keys.map((k) => [k.accessKeyId, k]));
    this.#service = this.#serviceKey();
    this.#keys.set(this.#service.accessKeyId, this.#service);
  }

  /**
   * The service key is made once per world, at random, and kept in the catalog so that every
   * region process sharing it signs and verifies with the same secret.
   */
  #serviceKey(): AccessKey {
    const settings = this.#root.openDB<AccessKey, string>({ name: 'service' });
    return settings.transactionSync(() => {
      const existing = settings.get('key');
      if (existing) return existing;
      const key: AccessKey = {
        accessKeyId: `MSVC${randomBytes(8).toString('hex').toUpperCase()}`,
        secretAccessKey: randomBytes(30).toString('base64'),
        accountId: SERVICE_ACCOUNT_ID,
        service: true,
      };
      void settings.put('key', key);
      return key;
    });
  }

  serviceKey(): AccessKey {
    return this.#service;
  }

  /**
   * Endpoints are known only once servers listen on their (possibly ephemeral) ports. They
   * are stored, so region nodes in other processes sharing this catalog find each other.
   */
  setRegionEndpoint(name: string, endpoint: string): void {
    this.#regions.putSync(name, { name, endpoint });
  }

  lookupBucket(name: string): BucketLocation | undefined {
    return this.#buckets.get(name);
  }

  async claimBucket(location: BucketLocation): Promise<ClaimResult> {
    const result = await this.#root.transaction((): ClaimResult => {
      const existing = this.#buckets.get(location.name);
      if (existing) return { claimed: false, existing };
      void this.#buckets.put(location.name, location);
      return { claimed: true };
    });
    await this.#root.flushed;
    return result;
  }

  async releaseBucket(name: string, region: string): Promise<void> {
    await this.#root.transaction(() => {
      const existing = this.#buckets.get(name);
      if (existing && existing.region === region) void this.#buckets.remove(name);
    });
    await this.#root.flushed;
  }

  listBuckets(): BucketLocation[] {
    return [...this.#buckets.getRange({}).map(({ value }) => value)];
  }

  region(name: string): RegionInfo | undefined {
    return this.#regions.get(name);
  }

  regions(): RegionInfo[] {
    return [...this.#regions.getRange({}).map(({ value }) => value)];
  }

  accessKey(accessKeyId: string): AccessKey | undefined {
    return this.#keys.get(accessKeyId);
  }

  async close(): Promise<void> {
    await this.#root.flushed;
    await this.#root.close();
  }
}
