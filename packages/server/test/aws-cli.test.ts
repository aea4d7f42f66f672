/**
 * The real AWS CLI (`aws`, v1 or v2) against a world, run as a user runs it: each command a
 * child process with credentials in the environment and no config file, asserting what the
 * user sees (exit code, the lines the CLI prints, its JSON output, the bytes that come back).
 *
 * The CLI must be installed (`.ci/run` installs it): without it this file fails, it does not skip.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { eventually } from './helpers/eventually.ts';
import { startLocalhostProxy, type LocalhostProxy } from './helpers/localhost-proxy.ts';
import { CREDENTIALS, startTestWorld, type TestWorld } from './helpers/world.ts';

const MiB = 1024 * 1024;
const ACCOUNT = CREDENTIALS.accountId;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface CliOptions {
  /** Added to (or replacing) the environment of `cliEnv`. */
  env?: Record<string, string>;
}

/** A command line as typed, split on spaces (no quoting: no argument here has a space), or its words. */
type Args = string | string[];
const words = (args: Args): string[] => (typeof args === 'string' ? args.split(' ') : args);

/** The environment of every `aws` run: the world's key, no profile, no pager, no proxy but ours. */
function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('AWS_') || /^(https?|all|no)_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

/** The `aws` command, run in a directory (so local paths print as the user typed them). */
interface Cli {
  /** Runs `aws ARGS...`; resolves whatever the exit code (a missing CLI and timeouts reject). */
  run(args: Args, opts?: CliOptions): Promise<CliResult>;
  /** Runs `aws ARGS...` and asserts it succeeded; returns its standard output. */
  aws(args: Args, opts?: CliOptions): Promise<string>;
  /** Runs `aws ARGS...`, asserts it succeeded, and parses its JSON output. */
  json<T = Record<string, unknown>>(args: Args, opts?: CliOptions): Promise<T>;
}

function cliIn(cwd: string): Cli {
  const run = (args: Args, opts: CliOptions = {}): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const options = {
        env: cliEnv(opts.env ?? {}),
        cwd,
        maxBuffer: 64 * MiB,
        timeout: 60_000,
        encoding: 'utf8' as const,
      };
      execFile('aws', words(args), options, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(err.code === 'ENOENT' ? notInstalled() : err);
          return;
        }
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      });
    });
  const aws = async (args: Args, opts: CliOptions = {}): Promise<string> => {
    const r = await run(args, opts);
    assert.equal(r.code, 0, `aws ${words(args).join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const json = async <T>(args: Args, opts: CliOptions = {}): Promise<T> => JSON.parse(await aws(args, opts)) as T;
  return { run, aws, json };
}

function notInstalled(): Error {
  return new Error(
    'The AWS CLI (`aws`) is not on PATH. These tests drive the real CLI and fail without it: install it ' +
      '(`apt-get install awscli`, or `python3 -m pip install awscli`); .ci/run does.',
  );
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

async function listFiles(dir: string, root = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p, root)));
    else out.push(relative(root, p));
  }
  return out.sort();
}

describe('the AWS CLI', { concurrency: true }, () => {
  let w: TestWorld;
  let dir: string;
  let version: string;
  let cli: Cli;
  /** `--endpoint-url <the region's endpoint> --region <region>`, as the README has users pass it. */
  const at = (region: string): string => `--endpoint-url ${w.endpoint(region)} --region ${region}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meridian-aws-cli-'));
    cli = cliIn(dir);
    const v = await cli.run('--version');
    assert.equal(v.code, 0, `aws --version failed: ${v.stderr}`);
    version = (v.stdout + v.stderr).trim();
    assert.match(version, /^aws-cli\/[12]\./, version);
    // The router's latency table makes us-east-1 the nearest region: where an MRAP request goes
    // is fixed, so a read through the access point finds what a write through it stored.
    w = await startTestWorld({
      mrapControl: { asyncDelayMs: 300 },
      router: { latencyTable: { 'us-east-1': 5, 'eu-west-1': 80, 'ap-southeast-1': 150 } },
    });
  });
  after(async () => {
    await w?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // Each `aws` run costs the CLI's start-up (about half a second of CPU): the two groups run
  // side by side, the tests of each in order.
  describe('S3 at a region endpoint', { concurrency: 1 }, () => {
    test('s3 mb, s3 ls and get-bucket-location', async () => {
      assert.equal(await cli.aws(`${at('us-east-1')} s3 mb s3://cli-us`), 'make_bucket: cli-us\n');
      assert.equal(await cli.aws(`${at('eu-west-1')} s3 mb s3://cli-eu`), 'make_bucket: cli-eu\n');

      const buckets = await cli.aws(`${at('us-east-1')} s3 ls`);
      assert.match(buckets, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d cli-us$/m);
      assert.match(buckets, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d cli-eu$/m);

      // GetBucketLocation answers from any region; us-east-1 is the null constraint.
      const location = (bucket: string) => cli.json(`${at('us-east-1')} s3api get-bucket-location --bucket ${bucket}`);
      assert.deepEqual(await location('cli-eu'), { LocationConstraint: 'eu-west-1' });
      assert.deepEqual(await location('cli-us'), { LocationConstraint: null });

      const taken = await cli.run(`${at('eu-west-1')} s3 mb s3://cli-us`);
      assert.notEqual(taken.code, 0);
      assert.match(taken.stderr, /make_bucket failed: s3:\/\/cli-us An error occurred \(BucketAlreadyOwnedByYou\)/);
    });

    test('s3 cp up and down: a small file, and one the CLI sends as a multipart upload', async () => {
      await writeFile(join(dir, 'hello.txt'), 'hello from the AWS CLI\n');
      const up = await cli.aws(`${at('us-east-1')} s3 cp ./hello.txt s3://cli-us/docs/hello.txt --no-progress`);
      assert.equal(up, 'upload: ./hello.txt to s3://cli-us/docs/hello.txt\n');

      // Over the CLI's 8 MiB multipart threshold: parts of 8 MiB, 8 MiB and 1 MiB + 5 bytes.
      const size = 17 * MiB + 5;
      await writeFile(join(dir, 'big.bin'), randomBytes(size));
      await cli.aws(`${at('us-east-1')} s3 cp ./big.bin s3://cli-us/big.bin --no-progress`);
      const head = await cli.json(`${at('us-east-1')} s3api head-object --bucket cli-us --key big.bin`);
      assert.equal(head.ContentLength, size);
      assert.match(String(head.ETag), /^"[0-9a-f]{32}-3"$/, 'uploaded in 3 parts');

      const listing = await cli.aws(`${at('us-east-1')} s3 ls s3://cli-us --recursive`);
      assert.match(listing, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+${size} big\\.bin$`, 'm'));
      assert.match(listing, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+23 docs\/hello\.txt$/m);

      // Down: the large one comes back in ranged GETs, several at a time.
      const down = await cli.aws(`${at('us-east-1')} s3 cp s3://cli-us/big.bin down/big.bin --no-progress`);
      assert.equal(down, 'download: s3://cli-us/big.bin to down/big.bin\n');
      assert.equal(await sha256File(join(dir, 'down/big.bin')), await sha256File(join(dir, 'big.bin')));
      assert.equal(await cli.aws(`${at('us-east-1')} s3 cp s3://cli-us/docs/hello.txt -`), 'hello from the AWS CLI\n');

      // Copied to a bucket of another region from there: a multipart copy whose parts the
      // destination region reads from us-east-1 (UploadPartCopy).
      const copy = await cli.aws(`${at('eu-west-1')} s3 cp s3://cli-us/big.bin s3://cli-eu/big-copy.bin --no-progress`);
      assert.equal(copy, 'copy: s3://cli-us/big.bin to s3://cli-eu/big-copy.bin\n');
      const copied = await cli.json(`${at('eu-west-1')} s3api head-object --bucket cli-eu --key big-copy.bin`);
      assert.equal(copied.ContentLength, size);
      assert.match(String(copied.ETag), /^"[0-9a-f]{32}-3"$/, 'copied in 3 parts');
    });

    test('errors read as from S3: a missing bucket, a wrong secret key', async () => {
      const missing = await cli.run(`${at('us-east-1')} s3 ls s3://cli-nope`);
      assert.notEqual(missing.code, 0);
      assert.match(
        missing.stderr,
        /An error occurred \(NoSuchBucket\) when calling the ListObjectsV2 operation: The specified bucket does not exist/,
      );
      const forged = await cli.run(`${at('us-east-1')} s3 ls s3://cli-us`, {
        env: { AWS_SECRET_ACCESS_KEY: 'not-the-secret' },
      });
      assert.notEqual(forged.code, 0);
      assert.match(
        forged.stderr,
        /An error occurred \(SignatureDoesNotMatch\) when calling the ListObjectsV2 operation/,
      );
    });

    test('s3 sync a directory up and back, then s3 rm --recursive', async () => {
      const files: Record<string, string> = {
        'index.html': '<h1>hi</h1>\n',
        'css/site.css': 'body { margin: 0 }\n',
        'img/a b+c é.txt': 'a key with a space, a plus and an accent\n',
        'img/deep/er/x.json': '{"x":1}\n',
      };
      for (const [name, body] of Object.entries(files)) {
        await mkdir(join(dir, 'tree', name, '..'), { recursive: true });
        await writeFile(join(dir, 'tree', name), body);
      }
      const names = Object.keys(files).sort();
      const lines = (out: string) => out.split('\n').filter(Boolean).sort();

      const up = await cli.aws(`${at('eu-west-1')} s3 sync tree s3://cli-eu/site --no-progress`);
      assert.deepEqual(lines(up), names.map((n) => `upload: tree/${n} to s3://cli-eu/site/${n}`).sort());
      // Nothing changed: a second sync sends nothing.
      assert.equal(await cli.aws(`${at('eu-west-1')} s3 sync tree s3://cli-eu/site --no-progress`), '');

      const back = await cli.aws(`${at('eu-west-1')} s3 sync s3://cli-eu/site tree-back --no-progress`);
      assert.deepEqual(lines(back), names.map((n) => `download: s3://cli-eu/site/${n} to tree-back/${n}`).sort());
      assert.deepEqual(await listFiles(join(dir, 'tree-back')), names);
      for (const [name, body] of Object.entries(files)) {
        assert.equal(await readFile(join(dir, 'tree-back', name), 'utf8'), body, name);
      }

      const removed = await cli.aws(`${at('eu-west-1')} s3 rm s3://cli-eu/site --recursive`);
      assert.deepEqual(lines(removed), names.map((n) => `delete: s3://cli-eu/site/${n}`).sort());
      const left = await cli.json(
        `${at('eu-west-1')} s3api list-objects-v2 --bucket cli-eu --prefix site/ --no-paginate`,
      );
      assert.equal(left.KeyCount, 0);
      assert.equal(left.Contents, undefined);
    });

    test('s3api put-object with --metadata, read back by head-object', async () => {
      const content = 'region,total\neu,42\n';
      await writeFile(join(dir, 'report.csv'), content);
      const put = await cli.json(
        `${at('us-east-1')} s3api put-object --bucket cli-us --key reports/q4.csv --body report.csv ` +
          '--content-type text/csv --metadata team=web,Owner=Ana',
      );
      const etag = `"${createHash('md5').update(content).digest('hex')}"`;
      assert.equal(put.ETag, etag);
      const head = await cli.json(`${at('us-east-1')} s3api head-object --bucket cli-us --key reports/q4.csv`);
      assert.equal(head.ContentLength, content.length);
      assert.equal(head.ContentType, 'text/csv');
      assert.equal(head.ETag, etag);
      // User metadata comes back with lower-case names, as from S3.
      assert.deepEqual(head.Metadata, { team: 'web', owner: 'Ana' });
    });

    test('put-bucket-versioning, then list-object-versions lists every version and the delete marker', async () => {
      const s3api = `${at('us-east-1')} s3api`;
      await cli.aws(`${s3api} create-bucket --bucket cli-versions`);
      const versioning = `${s3api} put-bucket-versioning --bucket cli-versions --versioning-configuration Status=Enabled`;
      assert.equal(await cli.aws(versioning), '');
      const ids: string[] = [];
      for (const content of ['one\n', 'two\n']) {
        await writeFile(join(dir, 'v.txt'), content);
        const put = await cli.json<{ VersionId?: string }>(
          `${s3api} put-object --bucket cli-versions --key v.txt --body v.txt`,
        );
        assert.ok(put.VersionId, 'put-object prints the new version id');
        ids.push(put.VersionId);
      }
      const del = await cli.json(`${s3api} delete-object --bucket cli-versions --key v.txt`);
      assert.equal(del.DeleteMarker, true);

      interface Listing {
        Versions: Array<{ Key: string; VersionId: string; IsLatest: boolean; Size: number }>;
        DeleteMarkers: Array<{ Key: string; VersionId: string; IsLatest: boolean }>;
      }
      const list = await cli.json<Listing>(`${s3api} list-object-versions --bucket cli-versions`);
      assert.deepEqual(
        list.Versions.map((v) => [v.Key, v.VersionId, v.IsLatest, v.Size]),
        [
          ['v.txt', ids[1], false, 4],
          ['v.txt', ids[0], false, 4],
        ],
      );
      assert.deepEqual(
        list.DeleteMarkers.map((d) => [d.Key, d.VersionId, d.IsLatest]),
        [['v.txt', del.VersionId, true]],
      );
      const first = await cli.json(
        `${s3api} get-object --bucket cli-versions --key v.txt --version-id ${ids[0]} v1.txt`,
      );
      assert.equal(first.VersionId, ids[0]);
      assert.equal(await readFile(join(dir, 'v1.txt'), 'utf8'), 'one\n');
    });

    test('a bucket in another region: the CLI follows the 301 PermanentRedirect to the object', async () => {
      // cli-eu lives in eu-west-1; the CLI is pointed at us-east-1's endpoint and signs for us-east-1.
      await writeFile(join(dir, 'eu.txt'), 'stored in eu-west-1\n');
      await cli.aws(`${at('eu-west-1')} s3 cp eu.txt s3://cli-eu/eu.txt --no-progress`);

      const r = await cli.run(`${at('us-east-1')} s3api head-object --bucket cli-eu --key eu.txt --debug`);
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      assert.equal(JSON.parse(r.stdout).ContentLength, 20);
      // On the wire (the CLI logs it with --debug): S3's answer to a request signed for the
      // wrong region, a 301 naming the bucket's region; then the same request signed for
      // eu-west-1. With AWS's own endpoints the CLI would send that one to eu-west-1's host;
      // with --endpoint-url it keeps the endpoint, and the region passes it on to eu-west-1.
      assert.match(r.stderr, /"HEAD \/cli-eu\/eu\.txt HTTP\/1\.1" 301/);
      assert.match(r.stderr, /'x-amz-bucket-region': 'eu-west-1'/);
      assert.match(r.stderr, /Credential=[^/]+\/\d{8}\/eu-west-1\/s3\/aws4_request/);
      assert.match(r.stderr, /"HEAD \/cli-eu\/eu\.txt HTTP\/1\.1" 200/);

      assert.equal(await cli.aws(`${at('us-east-1')} s3 cp s3://cli-eu/eu.txt -`), 'stored in eu-west-1\n');
      // Signed for a third region: 400 AuthorizationHeaderMalformed naming eu-west-1, and the
      // same recovery.
      const third = `--endpoint-url ${w.endpoint('us-east-1')} --region ap-southeast-1`;
      assert.equal(await cli.aws(`${third} s3 cp s3://cli-eu/eu.txt -`), 'stored in eu-west-1\n');
    });

    test('s3 presign: a SigV4 URL works; one for a bucket of another region gets the 301 document', async () => {
      // AWS CLI v1 presigns with SigV2 unless the config asks for s3v4; v2 always uses SigV4.
      await writeFile(join(dir, 'aws-config'), '[default]\ns3 =\n  signature_version = s3v4\n');
      const env = { AWS_CONFIG_FILE: join(dir, 'aws-config') };
      const url = (
        await cli.aws(`${at('us-east-1')} s3 presign s3://cli-us/docs/hello.txt --expires-in 300`, { env })
      ).trim();
      assert.match(url, /X-Amz-Algorithm=AWS4-HMAC-SHA256/);
      const ok = await fetch(url);
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'hello from the AWS CLI\n');

      // A URL cannot be re-signed: S3's answer is the redirect document.
      const wrong = (await cli.aws(`${at('us-east-1')} s3 presign s3://cli-eu/eu.txt`, { env })).trim();
      const redirect = await fetch(wrong, { redirect: 'manual' });
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.get('x-amz-bucket-region'), 'eu-west-1');
      const xml = await redirect.text();
      assert.match(xml, /<Code>PermanentRedirect<\/Code>/);
      assert.match(xml, new RegExp(`<Endpoint>${w.endpoint('eu-west-1').replace('http://', '')}</Endpoint>`));

      // Without that setting, v1's SigV2 URL gets what S3 answers SigV2 on a new bucket.
      const plain = (await cli.aws(`${at('us-east-1')} s3 presign s3://cli-us/docs/hello.txt`)).trim();
      const res = await fetch(plain);
      if (plain.includes('X-Amz-Algorithm=AWS4-HMAC-SHA256')) {
        assert.equal(res.status, 200, version);
      } else {
        assert.match(plain, /[?&]AWSAccessKeyId=/);
        assert.equal(res.status, 400);
        const body = await res.text();
        assert.match(body, /<Code>InvalidRequest<\/Code>/);
        assert.match(body, /Please use AWS4-HMAC-SHA256/);
      }
    });
  });

  describe('S3 Control at the global endpoint', { concurrency: 1 }, () => {
    let proxy: LocalhostProxy;
    let control: string;
    let env: Record<string, string>;
    before(async () => {
      // The CLI sends S3 Control requests to `{AccountId}.{endpoint's host}`: with the endpoint
      // http://localhost:PORT, to 111122223333.localhost:PORT. Where that name does not resolve
      // (plain glibc; the README says what to do there), a proxy stands in for the resolver.
      proxy = await startLocalhostProxy();
      const endpoint = w.globalEndpoint.replace('127.0.0.1', 'localhost');
      control = `--endpoint-url ${endpoint} --region us-west-2 --account-id ${ACCOUNT}`;
      env = { HTTP_PROXY: proxy.url };
      await w.client('us-east-1').send(new CreateBucketCommand({ Bucket: 'cli-mrap-use1' }));
      await w.client('eu-west-1').send(
        new CreateBucketCommand({
          Bucket: 'cli-mrap-euw1',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      );
    });
    after(async () => {
      await proxy?.close();
    });

    test('create-multi-region-access-point, its operation until SUCCEEDED, get and list it, use its alias', async () => {
      const details = JSON.stringify({
        Name: 'cli-mrap',
        Regions: [{ Bucket: 'cli-mrap-use1' }, { Bucket: 'cli-mrap-euw1' }],
      });
      const created = await cli.json<{ RequestTokenARN: string }>(
        [...words(`s3control create-multi-region-access-point ${control} --details`), details],
        { env },
      );
      assert.match(
        created.RequestTokenARN,
        /^arn:aws:s3:us-west-2:111122223333:async-request\/mrap\/create\/[0-9a-f]{32}$/,
      );

      interface Operation {
        Operation: string;
        RequestStatus: string;
        RequestParameters: { CreateMultiRegionAccessPointRequest: { Name: string } };
      }
      const describeOp = `s3control describe-multi-region-access-point-operation ${control} --request-token-arn ${created.RequestTokenARN}`;
      const op = await eventually(
        async () => {
          const { AsyncOperation } = await cli.json<{ AsyncOperation: Operation }>(describeOp, { env });
          assert.equal(AsyncOperation.RequestStatus, 'SUCCEEDED');
          return AsyncOperation;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      assert.equal(op.Operation, 'CreateMultiRegionAccessPoint');
      assert.equal(op.RequestParameters.CreateMultiRegionAccessPointRequest.Name, 'cli-mrap');

      interface AccessPoint {
        Name: string;
        Alias: string;
        Status: string;
        Regions: Array<{ Bucket: string; Region: string }>;
      }
      const got = await cli.json<{ AccessPoint: AccessPoint }>(
        `s3control get-multi-region-access-point ${control} --name cli-mrap`,
        {
          env,
        },
      );
      const ap = got.AccessPoint;
      assert.equal(ap.Name, 'cli-mrap');
      assert.equal(ap.Status, 'READY');
      assert.match(ap.Alias, /^[a-z][a-z0-9]*\.mrap$/);
      assert.deepEqual(ap.Regions.map((r) => [r.Bucket, r.Region]).sort(), [
        ['cli-mrap-euw1', 'eu-west-1'],
        ['cli-mrap-use1', 'us-east-1'],
      ]);
      const list = await cli.json<{ AccessPoints: AccessPoint[] }>(
        `s3control list-multi-region-access-points ${control}`,
        { env },
      );
      assert.deepEqual(
        list.AccessPoints.map((a) => [a.Name, a.Alias, a.Status]),
        [['cli-mrap', ap.Alias, 'READY']],
      );
      // Every control request went to the account's host, as the CLI builds it.
      assert.ok(proxy.hosts.length >= 4, String(proxy.hosts.length));
      for (const h of proxy.hosts) assert.equal(h, `${ACCOUNT}.localhost:${new URL(w.globalEndpoint).port}`);

      // The data plane: the alias as the bucket, at the global endpoint (no proxy needed).
      const mrap = `--endpoint-url ${w.globalEndpoint} --region us-east-1`;
      await writeFile(join(dir, 'via-mrap.txt'), 'through the access point\n');
      await cli.aws(`${mrap} s3 cp via-mrap.txt s3://${ap.Alias}/via-mrap.txt --no-progress`);
      assert.equal(await cli.aws(`${mrap} s3 cp s3://${ap.Alias}/via-mrap.txt -`), 'through the access point\n');
      const stored = await Promise.allSettled([
        w.client('us-east-1').send(new HeadObjectCommand({ Bucket: 'cli-mrap-use1', Key: 'via-mrap.txt' })),
        w.client('eu-west-1').send(new HeadObjectCommand({ Bucket: 'cli-mrap-euw1', Key: 'via-mrap.txt' })),
      ]);
      assert.deepEqual(
        stored.map((s) => s.status),
        ['fulfilled', 'rejected'],
        'stored in the nearest region (us-east-1), not replicated',
      );
    });

    test('without a resolver for the account host, the global endpoint serves as the CLI’s HTTP proxy', async () => {
      const viaProxy = { HTTP_PROXY: w.globalEndpoint, NO_PROXY: '127.0.0.1' };
      const list = await cli.json<{ AccessPoints: unknown[] }>(`s3control list-multi-region-access-points ${control}`, {
        env: viaProxy,
      });
      assert.ok(Array.isArray(list.AccessPoints));
    });

    test('account-level put-public-access-block, get-public-access-block, delete-public-access-block', async () => {
      const flags = 'BlockPublicAcls=true,IgnorePublicAcls=false,BlockPublicPolicy=true,RestrictPublicBuckets=false';
      const put = `s3control put-public-access-block ${control} --public-access-block-configuration ${flags}`;
      assert.equal(await cli.aws(put, { env }), '');
      assert.deepEqual(await cli.json(`s3control get-public-access-block ${control}`, { env }), {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: false,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: false,
        },
      });
      assert.equal(await cli.aws(`s3control delete-public-access-block ${control}`, { env }), '');
      const gone = await cli.run(`s3control get-public-access-block ${control}`, { env });
      assert.notEqual(gone.code, 0);
      assert.match(
        gone.stderr,
        /An error occurred \(NoSuchPublicAccessBlockConfiguration\) when calling the GetPublicAccessBlock operation/,
      );
    });
  });
});
