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
  /** the IAM-style user of the account the key belongs to (none for the account's root key) */
  user?: string;
  /** an Inactive key signs nothing */
  status?: 'Active' | 'Inactive';
  /** ms */
  createdAt?: number;
}

export type ClaimResult = { claimed: true } | { claimed: false; existing: BucketLocation };

// ---------------------------------------------------------------------------------------------
// Multi-Region Access Points

export interface MrapRegion {
  bucket: string;
  region: string;
  bucketAccountId: string;
  /** 100 = active, 0 = passive */
  trafficDialPercentage: number;
}

export interface PublicAccessBlockSettings {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

export type MrapStatus =
  | 'CREATING'
  | 'READY'
  | 'DELETING'
  | 'PARTIALLY_CREATED'
  | 'PARTIALLY_DELETED'
  | 'INCONSISTENT_ACROSS_REGIONS';

export interface MrapRecord {
  account: string;
  /** unique per account, immutable; used only by the control plane */
  name: string;
  /** e.g. `mfzwi23gnjvgw.mrap`; never reused, even after the MRAP is deleted */
  alias: string;
  /** ms */
  createdAt: number;
  status: MrapStatus;
  publicAccessBlock: PublicAccessBlockSettings;
  regions: MrapRegion[];
  /** JSON policy texts: `proposed` is being rolled out, `established` is in force */
  policy?: { established?: string; proposed?: string };
  /** Routing beyond AWS, each opt-in (`meridian mrap set`). */
  options?: MrapOptions;
}

export interface MrapOptions {
  /**
   * A GET or HEAD that finds nothing (404) in the nearest region, because replication has not
   * caught up, is tried in the other active regions before answering 404.
   */
  readFallback?: boolean;
  /**
   * When every active route is down, the nearest healthy passive route takes the traffic until
   * an active one recovers (AWS leaves failing over to a passive region to an operator).
   */
  autoPromote?: boolean;
}

export type MrapOperation = 'CreateMultiRegionAccessPoint' | 'DeleteMultiRegionAccessPoint' | 'PutMultiRegionAccessPointPolicy';

/** The `Details` of the request that started an asynchronous operation, as the caller sent them. */
export type MrapRequestDetails =
  | {
      operation: 'CreateMultiRegionAccessPoint';
      name: string;
      publicAccessBlock?: Partial<PublicAccessBlockSettings>;
      regions: { bucket: string; bucketAccountId?: string }[];
    }
  | { operation: 'DeleteMultiRegionAccessPoint'; name: string }
  | { operation: 'PutMultiRegionAccessPointPolicy'; name: string; policy: string };

export type MrapRequestStatus = 'NEW' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

export interface MrapAsyncError {
  code: string;
  message: string;
  resource?: string;
  requestId?: string;
}

/** One asynchronous MRAP operation (Create, Delete, PutPolicy), tracked by its request token. */
export interface MrapAsyncRequest {
  account: string;
  /** the random last part of the token ARN */
  token: string;
  /** `arn:aws:s3:us-west-2:{account}:async-request/mrap/{operation}/{token}` */
  arn: string;
  details: MrapRequestDetails;
  /** ms */
  createdAt: number;
  status: MrapRequestStatus;
  /** the id of the HTTP request that submitted it */
  requestId: string;
  /** the caller's idempotency key, if any */
  clientToken?: string;
  /** progress per region (Name, RequestStatus) */
  regions?: { name: string; status: string }[];
  error?: MrapAsyncError;
  /** how far the work got, so that a restarted endpoint resumes it without doing a step twice */
  step?: string;
}

export type SubmitMrapRequestResult =
  | { kind: 'new'; request: MrapAsyncRequest }
  /** the same ClientToken with the same details: the request recorded the first time */
  | { kind: 'replay'; request: MrapAsyncRequest }
  /** the same ClientToken with different details */
  | { kind: 'mismatch'; request: MrapAsyncRequest };

export type InsertMrapResult = 'created' | 'name-taken' | 'alias-used' | 'limit';

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
  /**
   * Keys made with `meridian keys create`, kept in the catalog so they work in every region.
   * (SigV4 needs the secret itself to check a signature, so it is stored as given.)
   */
  createAccessKey(input: { accountId: string; user?: string }): Promise<AccessKey>;
  /** Keys of the configuration and of the catalog (of one account, if given); service key excluded. */
  listAccessKeys(accountId?: string): AccessKey[];
  /** Activates or deactivates a catalog key; false if there is no such key. */
  setAccessKeyStatus(accessKeyId: string, status: 'Active' | 'Inactive'): Promise<boolean>;
  deleteAccessKey(accessKeyId: string): Promise<boolean>;

  /**
   * The account's Block Public Access settings (S3 Control PutPublicAccessBlock), which every
   * region applies to every bucket of the account together with the bucket's own; undefined
   * when the account has none. Read on every request, so it is synchronous and cheap.
   */
  accountPublicAccessBlock(account: string): PublicAccessBlockSettings | undefined;
  /** Sets (or, with undefined, deletes) an account's Block Public Access settings. */
  setAccountPublicAccessBlock(account: string, settings: PublicAccessBlockSettings | undefined): Promise<void>;

  mrap(account: string, name: string): MrapRecord | undefined;
  /** alias like 'mfzwi23gnjvgw.mrap' */
  mrapByAlias(alias: string): MrapRecord | undefined;
  /** sorted by name */
  mraps(account: string): MrapRecord[];
  /** Whether an alias was ever given to an MRAP (aliases are never reused). */
  mrapAliasUsed(alias: string): boolean;
  /**
   * Adds an MRAP if its name is free in the account, its alias was never used and the account
   * holds fewer than `maxPerAccount`; the alias is retired for good in the same transaction.
   */
  insertMrap(record: MrapRecord, maxPerAccount: number): Promise<InsertMrapResult>;
  /** Read-modify-write of one MRAP in one transaction; `change` must be synchronous and pure. */
  updateMrap(account: string, name: string, change: (current: MrapRecord) => MrapRecord): Promise<MrapRecord | undefined>;
  /** Deletes an MRAP; its alias stays retired. */
  removeMrap(account: string, name: string): Promise<boolean>;
  /**
   * Takes the modification lease of one MRAP (name) until `untilMs`, unless another holder
   * has an unexpired one. Returns the holder that has it now (`holder` when taken).
   */
  acquireMrapLease(account: string, name: string, holder: string, untilMs: number, nowMs: number): Promise<string>;
  releaseMrapLease(account: string, name: string, holder: string): Promise<void>;

  mrapRequest(account: string, token: string): MrapAsyncRequest | undefined;
  /** Requests not yet SUCCEEDED or FAILED, oldest first (to resume after a restart). */
  pendingMrapRequests(): MrapAsyncRequest[];
  /** Records a new asynchronous request, honouring its ClientToken (per account and operation). */
  submitMrapRequest(request: MrapAsyncRequest): Promise<SubmitMrapRequestResult>;
  updateMrapRequest(
    account: string,
    token: string,
    change: (current: MrapAsyncRequest) => MrapAsyncRequest,
  ): Promise<MrapAsyncRequest | undefined>;
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
  readonly #storedKeys: Database<AccessKey, string>;
  readonly #service: AccessKey;
  /** `{account}/{name}` → record */
  readonly #mraps: Database<MrapRecord, string>;
  /** alias → `{account}/{name}`, kept after deletion so that no alias is given twice */
  readonly #aliases: Database<string, string>;
  /** `{account}/{name}` → lease */
  readonly #leases: Database<{ holder: string; untilMs: number }, string>;
  /** `{account}/{token}` → async request */
  readonly #requests: Database<MrapAsyncRequest, string>;
  /** `{account}/{operation}/{clientToken}` → token */
  readonly #clientTokens: Database<string, string>;
  /** account → its Block Public Access settings */
  readonly #accountBlocks: Database<PublicAccessBlockSettings, string>;

  constructor(opts: LmdbCatalogOptions) {
    this.#root = open({ path: opts.path, compression: false });
    this.#buckets = this.#root.openDB<BucketLocation, string>({ name: 'buckets' });
    this.#regions = this.#root.openDB<RegionInfo, string>({ name: 'regions' });
    this.#mraps = this.#root.openDB<MrapRecord, string>({ name: 'mraps' });
    this.#aliases = this.#root.openDB<string, string>({ name: 'mrap-aliases' });
    this.#leases = this.#root.openDB<{ holder: string; untilMs: number }, string>({ name: 'mrap-leases' });
    this.#requests = this.#root.openDB<MrapAsyncRequest, string>({ name: 'mrap-requests' });
    this.#clientTokens = this.#root.openDB<string, string>({ name: 'mrap-client-tokens' });
    this.#accountBlocks = this.#root.openDB<PublicAccessBlockSettings, string>({ name: 'account-public-access-blocks' });
    for (const r of opts.regions) this.setRegionEndpoint(r.name, r.endpoint);
    this.#keys = new Map(opts.keys.map((k) => [k.accessKeyId, k]));
    this.#storedKeys = this.#root.openDB<AccessKey, string>({ name: 'access-keys' });
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

  /** The global endpoint (MRAPs), recorded when it listens, so that `meridian status` finds it. */
  setGlobalEndpoint(endpoint: string): void {
    this.#root.openDB<string, string>({ name: 'global' }).putSync('endpoint', endpoint);
  }

  globalEndpoint(): string | undefined {
    return this.#root.openDB<string, string>({ name: 'global' }).get('endpoint');
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
    // Access key ids are 16 to 128 characters; a longer one names no key (and is no LMDB key).
    if (accessKeyId.length > 128) return undefined;
    const key = this.#keys.get(accessKeyId) ?? this.#storedKeys.get(accessKeyId);
    return key && key.status !== 'Inactive' ? key : undefined;
  }

  async createAccessKey(input: { accountId: string; user?: string }): Promise<AccessKey> {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    const id = `AKIA${[...randomBytes(16)].map((b) => alphabet[b % 32]).join('')}`;
    const key: AccessKey = {
      accessKeyId: id,
      secretAccessKey: randomBytes(30).toString('base64'),
      accountId: input.accountId,
      ...(input.user !== undefined ? { user: input.user } : {}),
      status: 'Active',
      createdAt: Date.now(),
    };
    await this.#storedKeys.put(id, key);
    await this.#root.flushed;
    return key;
  }

  listAccessKeys(accountId?: string): AccessKey[] {
    const all = [
      ...[...this.#keys.values()].filter((k) => !k.service),
      ...this.#storedKeys.getRange({}).map(({ value }) => value),
    ];
    return all.filter((k) => accountId === undefined || k.accountId === accountId);
  }

  async setAccessKeyStatus(accessKeyId: string, status: 'Active' | 'Inactive'): Promise<boolean> {
    const done = await this.#root.transaction(() => {
      const key = this.#storedKeys.get(accessKeyId);
      if (!key) return false;
      void this.#storedKeys.put(accessKeyId, { ...key, status });
      return true;
    });
    await this.#root.flushed;
    return done;
  }

  async deleteAccessKey(accessKeyId: string): Promise<boolean> {
    const done = await this.#root.transaction(() => {
      if (!this.#storedKeys.get(accessKeyId)) return false;
      void this.#storedKeys.remove(accessKeyId);
      return true;
    });
    await this.#root.flushed;
    return done;
  }

  accountPublicAccessBlock(account: string): PublicAccessBlockSettings | undefined {
    return this.#accountBlocks.get(account);
  }

  async setAccountPublicAccessBlock(account: string, settings: PublicAccessBlockSettings | undefined): Promise<void> {
    if (settings) await this.#accountBlocks.put(account, settings);
    else await this.#accountBlocks.remove(account);
    await this.#root.flushed;
  }

  mrap(account: string, name: string): MrapRecord | undefined {
    return this.#mraps.get(mrapKey(account, name));
  }

  mrapByAlias(alias: string): MrapRecord | undefined {
    const key = this.#aliases.get(alias);
    const record = key === undefined ? undefined : this.#mraps.get(key);
    return record?.alias === alias ? record : undefined;
  }

  mraps(account: string): MrapRecord[] {
    // '0' sorts right after '/', so the range is exactly the account's keys, in name order.
    return [...this.#mraps.getRange({ start: `${account}/`, end: `${account}0` }).map(({ value }) => value)];
  }

  mrapAliasUsed(alias: string): boolean {
    return this.#aliases.doesExist(alias);
  }

  async insertMrap(record: MrapRecord, maxPerAccount: number): Promise<InsertMrapResult> {
    const key = mrapKey(record.account, record.name);
    const result = await this.#root.transaction((): InsertMrapResult => {
      if (this.#mraps.doesExist(key)) return 'name-taken';
      if (this.#aliases.doesExist(record.alias)) return 'alias-used';
      if (this.#mraps.getKeysCount({ start: `${record.account}/`, end: `${record.account}0` }) >= maxPerAccount) {
        return 'limit';
      }
      void this.#aliases.put(record.alias, key);
      void this.#mraps.put(key, record);
      return 'created';
    });
    await this.#root.flushed;
    return result;
  }

  async updateMrap(
    account: string,
    name: string,
    change: (current: MrapRecord) => MrapRecord,
  ): Promise<MrapRecord | undefined> {
    const key = mrapKey(account, name);
    const result = await this.#root.transaction(() => {
      const current = this.#mraps.get(key);
      if (!current) return undefined;
      const next = change(current);
      void this.#mraps.put(key, next);
      return next;
    });
    await this.#root.flushed;
    return result;
  }

  async removeMrap(account: string, name: string): Promise<boolean> {
    const removed = await this.#mraps.remove(mrapKey(account, name));
    await this.#root.flushed;
    return removed;
  }

  async acquireMrapLease(account: string, name: string, holder: string, untilMs: number, nowMs: number): Promise<string> {
    const key = mrapKey(account, name);
    const result = await this.#root.transaction(() => {
      const lease = this.#leases.get(key);
      if (lease && lease.holder !== holder && lease.untilMs > nowMs) return lease.holder;
      void this.#leases.put(key, { holder, untilMs });
      return holder;
    });
    await this.#root.flushed;
    return result;
  }

  async releaseMrapLease(account: string, name: string, holder: string): Promise<void> {
    const key = mrapKey(account, name);
    await this.#root.transaction(() => {
      if (this.#leases.get(key)?.holder === holder) void this.#leases.remove(key);
    });
    await this.#root.flushed;
  }

  mrapRequest(account: string, token: string): MrapAsyncRequest | undefined {
    return this.#requests.get(`${account}/${token}`);
  }

  pendingMrapRequests(): MrapAsyncRequest[] {
    return [...this.#requests.getRange({}).map(({ value }) => value)]
      .filter((r) => r.status === 'NEW' || r.status === 'IN_PROGRESS')
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async submitMrapRequest(request: MrapAsyncRequest): Promise<SubmitMrapRequestResult> {
    const tokenKey =
      request.clientToken === undefined
        ? undefined
        : `${request.account}/${request.details.operation}/${request.clientToken}`;
    const result = await this.#root.transaction((): SubmitMrapRequestResult => {
      const earlier = tokenKey === undefined ? undefined : this.#clientTokens.get(tokenKey);
      const first = earlier === undefined ? undefined : this.#requests.get(`${request.account}/${earlier}`);
      if (first) {
        const same = JSON.stringify(first.details) === JSON.stringify(request.details);
        return { kind: same ? 'replay' : 'mismatch', request: first };
      }
      if (tokenKey !== undefined) void this.#clientTokens.put(tokenKey, request.token);
      void this.#requests.put(`${request.account}/${request.token}`, request);
      return { kind: 'new', request };
    });
    await this.#root.flushed;
    return result;
  }

  async updateMrapRequest(
    account: string,
    token: string,
    change: (current: MrapAsyncRequest) => MrapAsyncRequest,
  ): Promise<MrapAsyncRequest | undefined> {
    const key = `${account}/${token}`;
    const result = await this.#root.transaction(() => {
      const current = this.#requests.get(key);
      if (!current) return undefined;
      const next = change(current);
      void this.#requests.put(key, next);
      return next;
    });
    await this.#root.flushed;
    return result;
  }

  async close(): Promise<void> {
    await this.#root.flushed;
    await this.#root.close();
  }
}

function mrapKey(account: string, name: string): string {
  return `${account}/${name}`;
}
