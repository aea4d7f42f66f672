import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/**
 * World configuration: which regions exist, where they listen, where data lives and the
 * root credentials. Sources, lowest precedence first: built-in defaults, the YAML file given
 * with `--config`, environment variables, command-line flags.
 */

export interface RegionConfig {
  name: string;
  /** TCP port of the region's S3 endpoint; 0 picks a free port. */
  port: number;
}

export interface RootCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
}

export interface WorldConfig {
  dataDir: string;
  /** Address every endpoint binds to. */
  host: string;
  /**
   * Base domains for virtual-hosted-style requests: `bucket.<domain>[:port]` addresses the
   * bucket. Path-style requests work on any host.
   */
  domains: string[];
  regions: RegionConfig[];
  /** Port reserved for the global endpoint (S3 Control, multi-region access points). */
  globalPort: number;
  credentials: RootCredentials;
  /** More accounts, each with its users' keys (the root account comes from `credentials`). */
  accounts: AccountConfig[];
  logLevel: string;
  replication: ReplicationSettings;
  /**
   * Simulated geography (ms): from the global endpoint to each region (the MRAP router routes
   * by it) and between regions (replication waits that long before each copy).
   */
  latency: LatencySettings;
}

export interface LatencySettings {
  global: Record<string, number>;
  regions: Record<string, Record<string, number>>;
}

/** How regions carry out replication. */
export interface AccountConfig {
  id: string;
  users: { name: string; accessKeyId: string; secretAccessKey: string }[];
}

export interface ReplicationSettings {
  /** copies in flight per destination bucket */
  concurrency: number;
  /** first retry delay after a destination could not be reached, and its ceiling (ms) */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Replication Time Control threshold (ms): S3's is 15 minutes */
  rtcThresholdMs: number;
}

export const DEFAULT_CREDENTIALS: RootCredentials = {
  accessKeyId: 'meridian',
  secretAccessKey: 'meridian-secret-key',
  accountId: '123456789012',
};

export function defaultConfig(): WorldConfig {
  return {
    dataDir: '.meridian',
    host: '127.0.0.1',
    domains: ['localhost'],
    regions: [
      { name: 'us-east-1', port: 9001 },
      { name: 'eu-west-1', port: 9002 },
      { name: 'ap-southeast-1', port: 9003 },
    ],
    globalPort: 9000,
    credentials: { ...DEFAULT_CREDENTIALS },
    logLevel: 'info',
    replication: { concurrency: 16, retryBaseMs: 200, retryMaxMs: 30_000, rtcThresholdMs: 15 * 60 * 1000 },
    latency: { global: {}, regions: {} },
    accounts: [],
  };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const REGION_NAME = /^[a-z]{2}(-[a-z0-9]+)+-\d+$/;

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${what} must be a non-empty string`);
  return v;
}

function port(v: unknown, what: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(`${what} must be a port number (0-65535)`);
  }
  return n;
}

/** Applies a parsed YAML document (or any plain object) on top of `base`. */
export function applyConfigDocument(base: WorldConfig, doc: unknown): WorldConfig {
  if (doc === null || doc === undefined) return base;
  if (!isObject(doc)) throw new ConfigError('the config file must be a YAML mapping');
  const out: WorldConfig = {
    ...base,
    credentials: { ...base.credentials },
    replication: { ...base.replication },
    accounts: [...base.accounts],
  };
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    switch (key) {
      case 'dataDir':
        out.dataDir = str(value, 'dataDir');
        break;
      case 'host':
        out.host = str(value, 'host');
        break;
      case 'domains':
        if (!Array.isArray(value)) throw new ConfigError('domains must be a list');
        out.domains = value.map((d, i) => str(d, `domains[${i}]`));
        break;
      case 'globalPort':
        out.globalPort = port(value, 'globalPort');
        break;
      case 'logLevel':
        out.logLevel = str(value, 'logLevel');
        break;
      case 'regions':
        out.regions = parseRegions(value);
        break;
      case 'credentials': {
        if (!isObject(value)) throw new ConfigError('credentials must be a mapping');
        if (value.accessKeyId !== undefined) out.credentials.accessKeyId = str(value.accessKeyId, 'credentials.accessKeyId');
        if (value.secretAccessKey !== undefined) out.credentials.secretAccessKey = str(value.secretAccessKey, 'credentials.secretAccessKey');
        if (value.accountId !== undefined) out.credentials.accountId = str(String(value.accountId), 'credentials.accountId');
        break;
      }
      case 'latency':
        out.latency = parseLatency(value);
        break;
      case 'accounts':
        out.accounts = parseAccounts(value);
        break;
      case 'replication': {
        if (!isObject(value)) throw new ConfigError('replication must be a mapping');
        for (const [k, v] of Object.entries(value)) {
          if (!(k in out.replication)) throw new ConfigError(`unknown config key 'replication.${k}'`);
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
            throw new ConfigError(`replication.${k} must be a positive whole number`);
          }
          out.replication[k as keyof ReplicationSettings] = v;
        }
        break;
      }
      default:
        throw new ConfigError(`unknown config key '${key}'`);
    }
  }
  return validateConfig(out);
}

/**
 * `latency: { global: { us-east-1: 5, ... }, us-east-1: { eu-west-1: 80 }, ... }`: the global
 * endpoint's distances, and each region's to the others (symmetric unless both are given).
 */
function parseLatency(value: unknown): LatencySettings {
  if (!isObject(value)) throw new ConfigError('latency must be a mapping');
  const ms = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`${what} must be a number of milliseconds`);
    return v;
  };
  const table = (v: unknown, what: string): Record<string, number> => {
    if (!isObject(v)) throw new ConfigError(`${what} must be a mapping of region to milliseconds`);
    return Object.fromEntries(Object.entries(v).map(([r, x]) => [r, ms(x, `${what}.${r}`)]));
  };
  const out: LatencySettings = { global: {}, regions: {} };
  for (const [k, v] of Object.entries(value)) {
    if (k === 'global') out.global = table(v, 'latency.global');
    else out.regions[k] = table(v, `latency.${k}`);
  }
  for (const [a, row] of Object.entries(out.regions)) {
    for (const [b, d] of Object.entries(row)) (out.regions[b] ??= {})[a] ??= d;
  }
  return out;
}

/** `accounts: [{ id: '111122223333', users: [{ name, accessKeyId, secretAccessKey }] }]` */
function parseAccounts(value: unknown): AccountConfig[] {
  if (!Array.isArray(value)) throw new ConfigError('accounts must be a list');
  return value.map((a, i) => {
    if (!isObject(a)) throw new ConfigError(`accounts[${i}] must be a mapping with id and users`);
    const id = str(String(a.id ?? ''), `accounts[${i}].id`);
    if (!/^\d{12}$/.test(id)) throw new ConfigError(`accounts[${i}].id must be 12 digits`);
    const users = a.users ?? [];
    if (!Array.isArray(users)) throw new ConfigError(`accounts[${i}].users must be a list`);
    return {
      id,
      users: users.map((u, j) => {
        const what = `accounts[${i}].users[${j}]`;
        if (!isObject(u)) throw new ConfigError(`${what} must be a mapping with name, accessKeyId and secretAccessKey`);
        return {
          name: str(u.name, `${what}.name`),
          accessKeyId: str(u.accessKeyId, `${what}.accessKeyId`),
          secretAccessKey: str(u.secretAccessKey, `${what}.secretAccessKey`),
        };
      }),
    };
  });
}

function parseRegions(value: unknown): RegionConfig[] {
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError('regions must be a non-empty list');
  return value.map((r, i) => {
    if (typeof r === 'string') return { name: r, port: 0 };
    if (!isObject(r)) throw new ConfigError(`regions[${i}] must be a mapping with name and port`);
    return { name: str(r.name, `regions[${i}].name`), port: port(r.port ?? 0, `regions[${i}].port`) };
  });
}

export function validateConfig(c: WorldConfig): WorldConfig {
  const seen = new Set<string>();
  for (const r of c.regions) {
    if (!REGION_NAME.test(r.name)) throw new ConfigError(`'${r.name}' is not a region name (e.g. us-east-1)`);
    if (seen.has(r.name)) throw new ConfigError(`region '${r.name}' is listed twice`);
    seen.add(r.name);
  }
  const ports = c.regions.map((r) => r.port).filter((p) => p !== 0);
  if (new Set(ports).size !== ports.length) throw new ConfigError('two regions share a port');
  if (c.globalPort !== 0 && ports.includes(c.globalPort)) {
    throw new ConfigError(`port ${c.globalPort} is reserved for the global endpoint (globalPort)`);
  }
  if (!/^\d{12}$/.test(c.credentials.accountId)) throw new ConfigError('credentials.accountId must be 12 digits');
  return c;
}

export function loadConfigFile(base: WorldConfig, file: string): WorldConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  return applyConfigDocument(base, doc);
}

/** Environment variables override the file. */
export function applyEnv(base: WorldConfig, env: NodeJS.ProcessEnv): WorldConfig {
  const out: WorldConfig = { ...base, credentials: { ...base.credentials }, replication: { ...base.replication } };
  if (env.MERIDIAN_DATA_DIR) out.dataDir = env.MERIDIAN_DATA_DIR;
  if (env.MERIDIAN_HOST) out.host = env.MERIDIAN_HOST;
  if (env.MERIDIAN_LOG_LEVEL) out.logLevel = env.MERIDIAN_LOG_LEVEL;
  if (env.MERIDIAN_GLOBAL_PORT) out.globalPort = port(env.MERIDIAN_GLOBAL_PORT, 'MERIDIAN_GLOBAL_PORT');
  if (env.MERIDIAN_ROOT_ACCESS_KEY_ID) out.credentials.accessKeyId = env.MERIDIAN_ROOT_ACCESS_KEY_ID;
  if (env.MERIDIAN_ROOT_SECRET_ACCESS_KEY) out.credentials.secretAccessKey = env.MERIDIAN_ROOT_SECRET_ACCESS_KEY;
  if (env.MERIDIAN_ROOT_ACCOUNT_ID) out.credentials.accountId = env.MERIDIAN_ROOT_ACCOUNT_ID;
  return validateConfig(out);
}

export function resolveDataDir(c: WorldConfig, cwd: string): string {
  return resolve(cwd, c.dataDir);
}
