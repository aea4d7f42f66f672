import { parseArgs } from 'node:util';
import {
  ConfigError,
  applyConfigDocument,
  applyEnv,
  defaultConfig,
  loadConfigFile,
  resolveDataDir,
  type WorldConfig,
} from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import type { MrapOptions } from '../catalog/catalog.ts';
import { fault } from './fault.ts';
import { keysCommand } from './keys.ts';
import { mrapCommand } from './mrap.ts';
import { replicateExistingCommand } from './replicate-existing.ts';
import { replicationRetry, replicationStatus } from './replication.ts';
import { parseInterval, status } from './status.ts';
import { startWorld, type World } from './world.ts';

const USAGE = `Usage: meridian <command> [options]

Commands:
  up        Start a world: every configured region in this process
  region    Start one region of a world (regions share the data directory's catalog)
  replication status [--bucket B]
            Replication of a running world: pending operations and bytes, latency, failures,
            share replicated within the RTC threshold, per bucket, rule and destination
  replication retry --bucket B [--key-prefix P]
            Queue the versions of B whose replication FAILED again
  fault region-down R | region-up R | partition A B | slow R --latency 500ms | clear | status
            Rehearse an outage on a running world (every region of the data directory sees it)
  mrap set NAME [--read-fallback|--no-read-fallback] [--auto-promote|--no-auto-promote]
  mrap show NAME
            Opt-in routing of a Multi-Region Access Point: retry a 404 read in the other
            active regions; promote a passive route while every active one is down
  replicate-existing --bucket B [--status NONE,FAILED,COMPLETED,REPLICA] [--prefix P] [--report out.csv]
            Replicate B's existing versions by its replication rules (S3 Batch Replication), with
            progress, a summary and a CSV completion report
  keys create --account A [--user U] | keys list [--account A] | keys disable|enable|delete ID
            Access keys of the world's accounts, valid in every region (secrets shown once)
  status [--json] [--watch [--interval 2s]]
            The whole world: each region up or down with its latency from here, buckets,
            objects and bytes; replication per rule; access points and their routes; batch
            replication jobs under way with their progress; faults. --watch redraws it until
            Ctrl-C (with --json: one JSON line per refresh). Exits 1 if any region is down
  help      Show this help

Options (up, region):
  --config FILE      YAML configuration (regions, ports, credentials, dataDir)
  --data-dir DIR     Where data lives (default ./.meridian)
  --host ADDR        Address to bind (default 127.0.0.1)
  --json             Print one JSON line when ready instead of the banner
Options (region):
  --name REGION      The region to serve (e.g. eu-west-1)
  --port PORT        Its port (default: from the configuration)

Environment: MERIDIAN_DATA_DIR, MERIDIAN_HOST, MERIDIAN_LOG_LEVEL, MERIDIAN_LOG_FORMAT (json or pretty),
  MERIDIAN_GLOBAL_PORT, MERIDIAN_ROOT_ACCESS_KEY_ID, MERIDIAN_ROOT_SECRET_ACCESS_KEY, MERIDIAN_ROOT_ACCOUNT_ID
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'up':
      case 'region':
        return await serve(command, rest);
      case 'replication':
        return await replication(rest);
      case 'fault':
        return await faultCommand(rest);
      case 'status':
        return await statusCommand(rest);
      case 'mrap':
        return await mrap(rest);
      case 'replicate-existing':
        return await replicateExistingCommand(rest, (v) => resolveDataDir(buildConfig(v), process.cwd()));
      case 'keys':
        return await keys(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return 0;
      default:
        process.stderr.write(`meridian: unknown command '${command}'\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof ConfigError || code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      process.stderr.write(`meridian: ${(err as Error).message}\n`);
      return 2;
    }
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
      const why = code === 'EADDRINUSE' ? 'is already in use' : code === 'EACCES' ? 'needs privileges' : 'is not available';
      process.stderr.write(`meridian: port ${e.port} on ${e.address} ${why}; choose other ports in the config file\n`);
      return 1;
    }
    throw err;
  }
}

function buildConfig(values: { config?: string; 'data-dir'?: string; host?: string }): WorldConfig {
  let config = defaultConfig();
  if (values.config) config = loadConfigFile(config, values.config);
  config = applyEnv(config, process.env);
  const overrides: Record<string, unknown> = {};
  if (values['data-dir']) overrides.dataDir = values['data-dir'];
  if (values.host) overrides.host = values.host;
  return applyConfigDocument(config, overrides);
}

async function keys(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      account: { type: 'string' },
      user: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const config = buildConfig(values);
  return keysCommand(positionals, {
    dataDir: resolveDataDir(config, process.cwd()),
    configKeys: [
      config.credentials,
      ...config.accounts.flatMap((a) => a.users.map((u) => ({ ...u, accountId: a.id, user: u.name }))),
    ],
    account: values.account,
    user: values.user,
    json: values.json ?? false,
    out: (text) => process.stdout.write(text),
  });
}

async function mrap(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      account: { type: 'string' },
      'read-fallback': { type: 'boolean' },
      'no-read-fallback': { type: 'boolean' },
      'auto-promote': { type: 'boolean' },
      'no-auto-promote': { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const config = buildConfig(values);
  const set: MrapOptions = {};
  if (values['read-fallback']) set.readFallback = true;
  if (values['no-read-fallback']) set.readFallback = false;
  if (values['auto-promote']) set.autoPromote = true;
  if (values['no-auto-promote']) set.autoPromote = false;
  return mrapCommand(positionals, {
    dataDir: resolveDataDir(config, process.cwd()),
    account: values.account ?? config.credentials.accountId,
    set,
    out: (text) => process.stdout.write(text),
  });
}

async function statusCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
      interval: { type: 'string' },
    },
    strict: true,
  });
  const config = buildConfig(values);
  return status({
    dataDir: resolveDataDir(config, process.cwd()),
    accounts: [config.credentials.accountId],
    json: values.json,
    watch: values.watch,
    ...(values.interval !== undefined ? { intervalMs: parseInterval(values.interval) } : {}),
    tty: process.stdout.isTTY === true,
    out: (text) => process.stdout.write(text),
  });
}

async function faultCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      latency: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const dataDir = resolveDataDir(buildConfig(values), process.cwd());
  return fault(positionals, { dataDir, latency: values.latency, out: (text) => process.stdout.write(text) });
}

async function replication(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      bucket: { type: 'string' },
      'key-prefix': { type: 'string' },
    },
    strict: true,
  });
  const config = buildConfig(values);
  const dataDir = resolveDataDir(config, process.cwd());
  const out = (text: string) => process.stdout.write(text);
  if (sub === 'status') return replicationStatus({ dataDir, out, bucket: values.bucket });
  if (sub === 'retry') {
    if (!values.bucket) throw new ConfigError('replication retry needs --bucket');
    return replicationRetry({ dataDir, out, bucket: values.bucket, prefix: values['key-prefix'] });
  }
  throw new ConfigError(`unknown replication command '${sub ?? ''}' (status, retry)`);
}

async function serve(command: 'up' | 'region', args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      json: { type: 'boolean', default: false },
      name: { type: 'string' },
      port: { type: 'string' },
    },
    strict: true,
  });
  const config = buildConfig(values);
  let regions = config.regions;
  if (command === 'region') {
    if (!values.name) throw new ConfigError('region needs --name');
    const configured = regions.find((r) => r.name === values.name);
    const port = values.port !== undefined ? Number(values.port) : configured?.port;
    if (port === undefined || !Number.isInteger(port)) throw new ConfigError(`no port for region ${values.name}: pass --port`);
    regions = applyConfigDocument(config, { regions: [{ name: values.name, port }] }).regions;
  }
  // Readable lines on a terminal (or with MERIDIAN_LOG_FORMAT=pretty); --json keeps stdout for machines.
  const log = createLogger({ level: config.logLevel, ...(values.json ? { format: 'json' as const } : {}) });
  const dataDir = resolveDataDir(config, process.cwd());
  const world = await startWorld({
    dataDir,
    regions,
    host: config.host,
    domains: config.domains,
    credentials: config.credentials,
    logger: log,
    replication: config.replication,
    keys: config.accounts.flatMap((a) => a.users.map((u) => ({ ...u, accountId: a.id, user: u.name }))),
    ...(command === 'up' ? { globalPort: config.globalPort } : {}),
    router: Object.keys(config.latency.global).length > 0 ? { latencyTable: config.latency.global } : undefined,
    regionLatency: config.latency.regions,
  });
  if (values.json) {
    process.stdout.write(JSON.stringify({ event: 'ready', dataDir, regions: world.regions, global: world.global }) + '\n');
  } else {
    process.stdout.write(banner(world, config, dataDir));
  }
  await untilSignal();
  if (!values.json) process.stdout.write('\nShutting down: finishing requests in flight...\n');
  await world.close();
  if (!values.json) process.stdout.write('Stopped. Data is kept in ' + dataDir + '\n');
  return 0;
}

function banner(world: World, config: WorldConfig, dataDir: string): string {
  const first = world.regions[0];
  const width = Math.max(...world.regions.map((r) => r.name.length));
  const lines = [
    '',
    `  Meridian is running: ${world.regions.length} region${world.regions.length === 1 ? '' : 's'}`,
    '',
    ...world.regions.map((r) => `    ${r.name.padEnd(width)}  ${r.endpoint}`),
    ...(world.global ? [`    ${'global'.padEnd(width)}  ${world.global.endpoint}  (S3 Control for Multi-Region Access Points)`] : []),
    '',
    `  Access key:  ${config.credentials.accessKeyId}`,
    `  Secret key:  ${config.credentials.secretAccessKey}`,
    `  Data:        ${dataDir}`,
    '',
    '  Try it:',
    `    export AWS_ACCESS_KEY_ID=${config.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${config.credentials.secretAccessKey}`,
    `    aws --endpoint-url ${first.endpoint} --region ${first.name} s3 mb s3://my-bucket`,
    `    aws --endpoint-url ${first.endpoint} --region ${first.name} s3 ls`,
    '',
    '  Press Ctrl-C to stop.',
    '',
  ];
  return lines.join('\n') + '\n';
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
