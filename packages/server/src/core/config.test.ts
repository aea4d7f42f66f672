import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ConfigError,
  DEFAULT_CREDENTIALS,
  applyConfigDocument,
  applyEnv,
  defaultConfig,
  loadConfigFile,
  resolveDataDir,
  validateConfig,
} from './config.ts';

let dir: string;
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meridian-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function yamlFile(text: string): Promise<string> {
  const file = join(dir, `config-${++n}.yaml`);
  await writeFile(file, text);
  return file;
}

function configError(pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

describe('defaultConfig', () => {
  it('describes a three-region world on localhost', () => {
    const c = defaultConfig();
    assert.equal(c.dataDir, '.meridian');
    assert.equal(c.host, '127.0.0.1');
    assert.deepEqual(c.domains, ['localhost']);
    assert.deepEqual(c.regions, [
      { name: 'us-east-1', port: 9001 },
      { name: 'eu-west-1', port: 9002 },
      { name: 'ap-southeast-1', port: 9003 },
    ]);
    assert.equal(c.globalPort, 9000);
    assert.deepEqual(c.credentials, DEFAULT_CREDENTIALS);
    assert.equal(c.logLevel, 'info');
    assert.deepEqual(validateConfig(c), c);
  });

  it('returns a fresh object each time', () => {
    const a = defaultConfig();
    a.credentials.accessKeyId = 'changed';
    a.regions.push({ name: 'sa-east-1', port: 9004 });
    a.domains.push('example.test');
    const b = defaultConfig();
    assert.equal(b.credentials.accessKeyId, DEFAULT_CREDENTIALS.accessKeyId);
    assert.equal(b.regions.length, 3);
    assert.deepEqual(b.domains, ['localhost']);
    assert.equal(DEFAULT_CREDENTIALS.accessKeyId, 'meridian');
  });
});

describe('loadConfigFile', () => {
  it('applies every key of a YAML file', async () => {
    const file = await yamlFile(`
dataDir: /var/lib/meridian
host: 0.0.0.0
domains: [s3.example.test, localhost]
globalPort: 8000
logLevel: debug
regions:
  - name: us-west-2
    port: 8001
  - eu-central-1
  - { name: ap-northeast-1 }
credentials:
  accessKeyId: AKIAEXAMPLE
  secretAccessKey: s3cr3t
  accountId: 210987654321
replication:
  concurrency: 4
  retryBaseMs: 50
  rtcThresholdMs: 60000
latency:
  global: { us-west-2: 5, eu-central-1: 90 }
  us-west-2: { eu-central-1: 140 }
accounts:
  - id: 444455556666
    users:
      - { name: alice, accessKeyId: AKIAALICE, secretAccessKey: alice-secret }
`);
    assert.deepEqual(loadConfigFile(defaultConfig(), file), {
      dataDir: '/var/lib/meridian',
      host: '0.0.0.0',
      domains: ['s3.example.test', 'localhost'],
      globalPort: 8000,
      logLevel: 'debug',
      regions: [
        { name: 'us-west-2', port: 8001 },
        { name: 'eu-central-1', port: 0 },
        { name: 'ap-northeast-1', port: 0 },
      ],
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 's3cr3t', accountId: '210987654321' },
      replication: { concurrency: 4, retryBaseMs: 50, retryMaxMs: 30_000, rtcThresholdMs: 60_000 },
      latency: {
        global: { 'us-west-2': 5, 'eu-central-1': 90 },
        // Distances between regions are symmetric unless both directions are given.
        regions: { 'us-west-2': { 'eu-central-1': 140 }, 'eu-central-1': { 'us-west-2': 140 } },
      },
      accounts: [{ id: '444455556666', users: [{ name: 'alice', accessKeyId: 'AKIAALICE', secretAccessKey: 'alice-secret' }] }],
    });
  });

  it('refuses unknown or non-numeric replication settings', async () => {
    const unknown = await yamlFile('replication:\n  speed: 3\n');
    assert.throws(() => loadConfigFile(defaultConfig(), unknown), configError(/unknown config key 'replication.speed'/));
    const wordy = await yamlFile('replication:\n  concurrency: lots\n');
    assert.throws(
      () => loadConfigFile(defaultConfig(), wordy),
      configError(/replication.concurrency must be a positive whole number/),
    );
  });

  it('keeps the defaults for keys the file does not set', async () => {
    const file = await yamlFile('logLevel: warn\ncredentials:\n  secretAccessKey: only-this\n');
    const c = loadConfigFile(defaultConfig(), file);
    assert.deepEqual(c, {
      ...defaultConfig(),
      logLevel: 'warn',
      credentials: { ...DEFAULT_CREDENTIALS, secretAccessKey: 'only-this' },
    });
  });

  it('treats an empty file or a comment-only file as no changes', async () => {
    assert.deepEqual(loadConfigFile(defaultConfig(), await yamlFile('')), defaultConfig());
    assert.deepEqual(loadConfigFile(defaultConfig(), await yamlFile('# nothing here\n')), defaultConfig());
  });

  it('does not modify the base configuration', async () => {
    const base = defaultConfig();
    loadConfigFile(base, await yamlFile('credentials:\n  accessKeyId: other\nregions: [us-west-1]\n'));
    assert.deepEqual(base, defaultConfig());
  });

  it('accepts a port written as a quoted number', async () => {
    const c = loadConfigFile(
      defaultConfig(),
      await yamlFile("globalPort: '7000'\nregions:\n  - { name: us-east-2, port: '7001' }\n"),
    );
    assert.equal(c.globalPort, 7000);
    assert.deepEqual(c.regions, [{ name: 'us-east-2', port: 7001 }]);
  });

  it('reports a missing file, invalid YAML and a document that is not a mapping', async () => {
    assert.throws(
      () => loadConfigFile(defaultConfig(), join(dir, 'missing.yaml')),
      configError(/cannot read config file .*missing\.yaml/),
    );
    const unclosed = await yamlFile('regions: [unclosed\n');
    const badIndent = await yamlFile('key: a\n  bad: indent\n');
    const list = await yamlFile('- us-east-1\n- eu-west-1\n');
    const scalar = await yamlFile('just a string\n');
    assert.throws(() => loadConfigFile(defaultConfig(), unclosed), configError(/is not valid YAML/));
    assert.throws(() => loadConfigFile(defaultConfig(), badIndent), configError(/is not valid YAML/));
    assert.throws(() => loadConfigFile(defaultConfig(), list), configError(/must be a YAML mapping/));
    assert.throws(() => loadConfigFile(defaultConfig(), scalar), configError(/must be a YAML mapping/));
  });

  const invalid: [string, string, RegExp][] = [
    ['an unknown key', 'dataDirectory: x\n', /unknown config key 'dataDirectory'/],
    ['an empty dataDir', "dataDir: ''\n", /dataDir must be a non-empty string/],
    ['a numeric host', 'host: 12\n', /host must be a non-empty string/],
    ['domains that are not a list', 'domains: localhost\n', /domains must be a list/],
    ['a domain that is not a string', 'domains: [localhost, 7]\n', /domains\[1\] must be a non-empty string/],
    ['a port above 65535', 'globalPort: 70000\n', /globalPort must be a port number/],
    ['a negative port', 'globalPort: -1\n', /globalPort must be a port number/],
    ['a fractional port', 'globalPort: 80.5\n', /globalPort must be a port number/],
    ['a port that is not a number', 'globalPort: http\n', /globalPort must be a port number/],
    [
      'a region port that is not a number',
      'regions:\n  - { name: us-east-1, port: abc }\n',
      /regions\[0\]\.port must be a port number/,
    ],
    ['an empty region list', 'regions: []\n', /regions must be a non-empty list/],
    ['regions that are not a list', 'regions: us-east-1\n', /regions must be a non-empty list/],
    ['a region without a name', 'regions:\n  - { port: 9001 }\n', /regions\[0\]\.name must be a non-empty string/],
    ['a region that is a number', 'regions: [5]\n', /regions\[0\] must be a mapping/],
    ['a malformed region name', 'regions: [US-EAST-1]\n', /'US-EAST-1' is not a region name/],
    ['a region name without a number', 'regions: [us-east]\n', /'us-east' is not a region name/],
    ['a region listed twice', 'regions: [us-east-1, eu-west-1, us-east-1]\n', /region 'us-east-1' is listed twice/],
    [
      'two regions on one port',
      'regions:\n  - { name: us-east-1, port: 9001 }\n  - { name: eu-west-1, port: 9001 }\n',
      /two regions share a port/,
    ],
    ['credentials that are not a mapping', 'credentials: secret\n', /credentials must be a mapping/],
    ['an empty access key', "credentials:\n  accessKeyId: ''\n", /credentials\.accessKeyId must be a non-empty string/],
    ['a short account id', 'credentials:\n  accountId: 12345\n', /accountId must be 12 digits/],
    ['an account id with letters', 'credentials:\n  accountId: 12345678901a\n', /accountId must be 12 digits/],
  ];
  for (const [name, yaml, pattern] of invalid) {
    it(`rejects ${name}`, async () => {
      const file = await yamlFile(yaml);
      assert.throws(() => loadConfigFile(defaultConfig(), file), configError(pattern));
    });
  }

  it('lets several regions pick free ports (port 0)', async () => {
    const c = loadConfigFile(defaultConfig(), await yamlFile('regions: [us-east-1, eu-west-1, ap-south-1]\n'));
    assert.deepEqual(
      c.regions.map((r) => r.port),
      [0, 0, 0],
    );
  });
});

describe('applyEnv', () => {
  it('overrides the root credentials', () => {
    const c = applyEnv(defaultConfig(), {
      MERIDIAN_ROOT_ACCESS_KEY_ID: 'AKIAENV',
      MERIDIAN_ROOT_SECRET_ACCESS_KEY: 'env-secret',
    });
    assert.deepEqual(c.credentials, { ...DEFAULT_CREDENTIALS, accessKeyId: 'AKIAENV', secretAccessKey: 'env-secret' });
  });

  it('overrides the data dir, host, log level and account id', () => {
    const c = applyEnv(defaultConfig(), {
      MERIDIAN_DATA_DIR: '/data',
      MERIDIAN_HOST: '0.0.0.0',
      MERIDIAN_LOG_LEVEL: 'trace',
      MERIDIAN_ROOT_ACCOUNT_ID: '111122223333',
    });
    assert.equal(c.dataDir, '/data');
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.logLevel, 'trace');
    assert.equal(c.credentials.accountId, '111122223333');
  });

  it('wins over the config file', async () => {
    const file = await yamlFile(
      'host: 10.0.0.1\ncredentials:\n  accessKeyId: from-file\n  secretAccessKey: file-secret\n',
    );
    const c = applyEnv(loadConfigFile(defaultConfig(), file), { MERIDIAN_ROOT_ACCESS_KEY_ID: 'from-env' });
    assert.equal(c.credentials.accessKeyId, 'from-env');
    assert.equal(c.credentials.secretAccessKey, 'file-secret');
    assert.equal(c.host, '10.0.0.1');
  });

  it('ignores unset and empty variables and unrelated ones', () => {
    const c = applyEnv(defaultConfig(), {
      MERIDIAN_ROOT_ACCESS_KEY_ID: '',
      MERIDIAN_HOST: undefined,
      AWS_ACCESS_KEY_ID: 'not-ours',
      HOME: '/root',
    });
    assert.deepEqual(c, defaultConfig());
  });

  it('validates what it sets', () => {
    assert.throws(
      () => applyEnv(defaultConfig(), { MERIDIAN_ROOT_ACCOUNT_ID: 'abc' }),
      configError(/accountId must be 12 digits/),
    );
  });

  it('does not modify the base configuration', () => {
    const base = defaultConfig();
    applyEnv(base, { MERIDIAN_ROOT_ACCESS_KEY_ID: 'x', MERIDIAN_DATA_DIR: '/x' });
    assert.deepEqual(base, defaultConfig());
  });
});

describe('applyConfigDocument', () => {
  it('applies command-line style overrides on top of a configuration', () => {
    const c = applyConfigDocument(defaultConfig(), { dataDir: '/flag', host: '::1' });
    assert.equal(c.dataDir, '/flag');
    assert.equal(c.host, '::1');
    assert.deepEqual(applyConfigDocument(defaultConfig(), undefined), defaultConfig());
    assert.deepEqual(applyConfigDocument(defaultConfig(), null), defaultConfig());
  });
});

describe('ports', () => {
  const notDecimal = ['', ' ', '0x2329', '1e3', '+9001'];
  for (const value of notDecimal) {
    it(`rejects the string ${JSON.stringify(value)} as globalPort and as a region port`, () => {
      assert.throws(
        () => applyConfigDocument(defaultConfig(), { globalPort: value }),
        configError(/globalPort must be a port number/),
      );
      assert.throws(
        () => applyConfigDocument(defaultConfig(), { regions: [{ name: 'us-east-1', port: value }] }),
        configError(/regions\[0\]\.port must be a port number/),
      );
    });
  }

  it('accepts a string of plain decimal digits', () => {
    const c = applyConfigDocument(defaultConfig(), {
      globalPort: '9001',
      regions: [{ name: 'us-east-1', port: '9002' }],
    });
    assert.equal(c.globalPort, 9001);
    assert.deepEqual(c.regions, [{ name: 'us-east-1', port: 9002 }]);
    const r = applyConfigDocument(defaultConfig(), { regions: [{ name: 'us-east-1', port: '9001' }] });
    assert.deepEqual(r.regions, [{ name: 'us-east-1', port: 9001 }]);
  });

  it('rejects a region port equal to globalPort', async () => {
    assert.throws(
      () => applyConfigDocument(defaultConfig(), { globalPort: 9002 }),
      (err) => err instanceof ConfigError,
      'the default eu-west-1 listens on 9002',
    );
    assert.throws(
      () =>
        applyConfigDocument(defaultConfig(), {
          globalPort: 8000,
          regions: [
            { name: 'us-east-1', port: 8001 },
            { name: 'eu-west-1', port: '8000' },
          ],
        }),
      (err) => err instanceof ConfigError,
    );
    assert.throws(
      () => validateConfig({ ...defaultConfig(), globalPort: 9001 }),
      (err) => err instanceof ConfigError,
    );
    const file = await yamlFile('globalPort: 7000\nregions:\n  - { name: us-east-1, port: 7000 }\n');
    assert.throws(
      () => loadConfigFile(defaultConfig(), file),
      (err) => err instanceof ConfigError,
    );
  });

  it('lets a region share port 0 with a globalPort of 0', () => {
    const c = applyConfigDocument(defaultConfig(), { globalPort: 0, regions: ['us-east-1', 'eu-west-1'] });
    assert.equal(c.globalPort, 0);
    assert.deepEqual(
      c.regions.map((r) => r.port),
      [0, 0],
    );
    assert.equal(applyConfigDocument(defaultConfig(), { globalPort: 0 }).globalPort, 0);
  });
});

describe('resolveDataDir', () => {
  it('resolves a relative data dir against the working directory and keeps an absolute one', () => {
    assert.equal(
      resolveDataDir({ ...defaultConfig(), dataDir: '.meridian' }, '/srv/app'),
      resolve('/srv/app/.meridian'),
    );
    assert.equal(resolveDataDir({ ...defaultConfig(), dataDir: '/var/lib/m' }, '/srv/app'), '/var/lib/m');
  });
});
