/**
 * `meridian status` against a running world, as an operator runs it: the real command in a
 * child process, pointed at the world's data directory. Its JSON is checked against the
 * world's real state (regions, stores, replication, access points, batch jobs, faults), its
 * table for alignment, its exit code for a region taken down with a fault, and `--watch` for
 * refreshing until Ctrl-C.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  HeadObjectCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { CreateMultiRegionAccessPointCommand, GetMultiRegionAccessPointCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { faultsPath } from '../src/cli/fault.ts';
import type { WorldStatus } from '../src/cli/status.ts';
import { FaultStore } from '../src/core/faults.ts';
import { eventually } from './helpers/eventually.ts';
import { replicatedPair } from './helpers/replication.ts';
import { MERIDIAN_BIN } from './helpers/process.ts';
import { rawRequest } from './helpers/raw-request.ts';
import { CREDENTIALS, localhostResolvingHandler, startTestWorld, type TestWorld } from './helpers/world.ts';

const AccountId = CREDENTIALS.accountId;
const SIZES = [10, 1000, 200_000];

/** `meridian status --watch ...` in a child process, its output gathered as it comes. */
function watch(args: string[]) {
  const proc = spawn(process.execPath, [MERIDIAN_BIN, 'status', '--watch', ...args], {
    env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { proc, exited, stdout: () => stdout, stderr: () => stderr };
}

function meridian(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MERIDIAN_BIN, ...args], { env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn' } }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

describe('meridian status', () => {
  let w: TestWorld;
  let faults: FaultStore;
  let alias: string;

  before(async () => {
    w = await startTestWorld({
      mrapControl: { asyncDelayMs: 20 },
      router: { latencyTable: { 'us-east-1': 5, 'eu-west-1': 50, 'ap-southeast-1': 100 }, probeIntervalMs: 100 },
      replication: { retryBaseMs: 50, retryMaxMs: 500 },
    });
    faults = new FaultStore(faultsPath(w.dataDir));
    const us = w.client('us-east-1');
    const eu = w.client('eu-west-1');
    await replicatedPair({
      source: us,
      destination: eu,
      sourceBucket: 'st-src',
      destinationBucket: 'st-dst',
      destinationRegion: 'eu-west-1',
      ruleId: 'to-eu',
    });
    await us.send(new CreateBucketCommand({ Bucket: 'st-other' }));
    for (const [i, size] of SIZES.entries()) {
      await us.send(new PutObjectCommand({ Bucket: 'st-src', Key: `o${i}`, Body: Buffer.alloc(size, 7) }));
    }
    for (let i = 0; i < SIZES.length; i++) {
      await eventually(async () => {
        const h = await us.send(new HeadObjectCommand({ Bucket: 'st-src', Key: `o${i}` }));
        assert.equal(h.ReplicationStatus, 'COMPLETED');
      });
    }
    const control = new S3ControlClient({
      region: 'us-west-2',
      endpoint: w.globalEndpoint.replace('127.0.0.1', 'localhost'),
      credentials: CREDENTIALS,
      requestHandler: localhostResolvingHandler(),
      maxAttempts: 1,
    });
    try {
      await control.send(
        new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'status-ap', Regions: [{ Bucket: 'st-src' }, { Bucket: 'st-dst' }] } }),
      );
      alias = await eventually(async () => {
        const got = await control.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'status-ap' }));
        assert.equal(got.AccessPoint?.Status, 'READY');
        return got.AccessPoint!.Alias!;
      });
    } finally {
      control.destroy();
    }
  });

  after(async () => {
    await faults.clear();
    await faults.close();
    await w.close();
  });

  test('--json shows every region up with its stores, replication per rule, the access point and no faults', async () => {
    const { code, stdout, stderr } = await meridian(['status', '--json', '--data-dir', w.dataDir]);
    assert.equal(code, 0, stderr);
    const s = JSON.parse(stdout) as WorldStatus;
    assert.equal(s.ok, true);
    assert.deepEqual(s.regions.map((r) => r.name).sort(), ['ap-southeast-1', 'eu-west-1', 'us-east-1']);
    for (const r of s.regions) {
      assert.equal(r.up, true, r.name);
      assert.equal(r.endpoint, w.endpoint(r.name));
      assert.equal(typeof r.latencyMs, 'number');
    }
    const byName = Object.fromEntries(s.regions.map((r) => [r.name, r]));
    const total = SIZES.reduce((a, b) => a + b, 0);
    assert.deepEqual(byName['us-east-1'].buckets.sort(), ['st-other', 'st-src']);
    assert.deepEqual(byName['us-east-1'].store, { buckets: 2, objects: 3, versions: 3, bytes: total });
    // The replicas.
    assert.deepEqual(byName['eu-west-1'].store, { buckets: 1, objects: 3, versions: 3, bytes: total });
    assert.deepEqual(byName['ap-southeast-1'].store, { buckets: 0, objects: 0, versions: 0, bytes: 0 });
    assert.deepEqual(s.global, { endpoint: w.globalEndpoint, up: true, latencyMs: s.global?.latencyMs });

    assert.equal(s.replication.length, 1);
    const rule = s.replication[0];
    assert.equal(rule.region, 'us-east-1');
    assert.equal(rule.bucket, 'st-src');
    assert.equal(rule.ruleId, 'to-eu');
    assert.equal(rule.destination, 'st-dst');
    assert.equal(rule.operationsCompleted, 3);
    assert.equal(rule.operationsPending, 0);
    assert.equal(rule.bytesPending, 0);
    assert.equal(rule.operationsFailed, 0);
    assert.equal(typeof rule.latencyMs.p99, 'number');
    assert.equal(rule.rtc.share, 1);

    assert.equal(s.mraps.length, 1);
    const m = s.mraps[0];
    assert.equal(m.name, 'status-ap');
    assert.equal(m.alias, alias);
    assert.equal(m.status, 'READY');
    assert.deepEqual(
      m.routes.map((r) => [r.region, r.bucket, r.active, r.healthy, r.nearest]).sort(),
      [
        ['eu-west-1', 'st-dst', true, true, false],
        ['us-east-1', 'st-src', true, true, true],
      ],
    );
    assert.deepEqual(s.faults, { down: [], partitions: [], slow: {} });
  });

  test('the table lines up its columns', async () => {
    const { code, stdout } = await meridian(['status', '--data-dir', w.dataDir]);
    assert.equal(code, 0);
    const lines = stdout.split('\n');
    const header = lines.find((l) => /^\s+REGION\s+STATUS\s+LATENCY\s+ENDPOINT\s+BUCKETS\s+OBJECTS\s+VERSIONS\s+BYTES$/.test(l));
    assert.ok(header, stdout);
    const rows = lines.slice(lines.indexOf(header) + 1, lines.indexOf(header) + 5);
    assert.deepEqual(rows.map((r) => r.trim().split(/\s+/)[0]).sort(), ['ap-southeast-1', 'eu-west-1', 'global', 'us-east-1']);
    for (const row of rows) {
      assert.equal(row.indexOf(' up ') + 1, header.indexOf('STATUS'), row);
      assert.ok(row.includes(row.startsWith('  global') ? w.globalEndpoint : 'http://'), row);
    }
    const us = rows.find((r) => r.includes('us-east-1'))!;
    // Numbers are right-aligned under their heading.
    assert.equal(us.indexOf(' 3 ', header.indexOf('ENDPOINT')) + 2, header.indexOf('OBJECTS') + 'OBJECTS'.length);
    assert.match(us, /196\.3 KiB$/);
    assert.match(stdout, /^Replication$/m);
    assert.match(stdout, /us-east-1\s+st-src\s+to-eu\s+st-dst\s+0\s+0 B\s+3\s+0\s/);
    assert.match(stdout, new RegExp(`status-ap\\s+${alias.replace('.', '\\.')}\\s+READY\\s+us-east-1\\s+st-src\\s+active\\s+healthy\\s+\\*\\s+\\d+`));
    assert.match(stdout, /^\s+eu-west-1\s+st-dst\s+active\s+healthy\s+\d+\s+\d+\s+\d+$/m);
    assert.match(stdout, /^Faults\n\s+None\.$/m);
  });

  test('a directory without a world is an error, not a new world', async () => {
    const { code, stderr } = await meridian(['status', '--data-dir', `${w.dataDir}/nothing-here`]);
    assert.equal(code, 1);
    assert.match(stderr, /no world/);
    assert.equal(existsSync(`${w.dataDir}/nothing-here`), false);
  });

  test('a region down: shown DOWN, out of its access point, the fault listed, exit code 1', async () => {
    await faults.regionDown('eu-west-1');
    try {
      // The router notices within a few probes.
      await eventually(async () => {
        const res = await fetch(`${w.globalEndpoint}/_meridian/mrap/metrics`);
        const body = (await res.json()) as { regions: { region: string; healthy: boolean }[] };
        assert.equal(body.regions.find((r) => r.region === 'eu-west-1')?.healthy, false);
      });
      const { code, stdout } = await meridian(['status', '--json', '--data-dir', w.dataDir]);
      assert.equal(code, 1);
      const s = JSON.parse(stdout) as WorldStatus;
      assert.equal(s.ok, false);
      const eu = s.regions.find((r) => r.name === 'eu-west-1')!;
      assert.equal(eu.up, false);
      assert.equal(eu.store, undefined);
      assert.deepEqual(eu.buckets, ['st-dst'], 'what the catalog places there is still known');
      assert.ok(s.regions.filter((r) => r.name !== 'eu-west-1').every((r) => r.up));
      assert.deepEqual(s.faults.down, ['eu-west-1']);
      const route = s.mraps[0].routes.find((r) => r.region === 'eu-west-1')!;
      assert.equal(route.healthy, false);

      const text = await meridian(['status', '--data-dir', w.dataDir]);
      assert.equal(text.code, 1);
      assert.match(text.stdout, /3 regions, 1 down/);
      assert.match(text.stdout, /^\s+eu-west-1\s+DOWN\s/m);
      assert.match(text.stdout, /^\s+eu-west-1 is down$/m);
    } finally {
      await faults.regionUp('eu-west-1');
    }
  });

  test('a region that answers too late is down: "timed out", never a crash', async () => {
    // Longer than status waits for an answer (2 s).
    await faults.slow('ap-southeast-1', 3000);
    try {
      const { code, stdout, stderr } = await meridian(['status', '--json', '--data-dir', w.dataDir]);
      assert.equal(code, 1, stderr);
      const ap = (JSON.parse(stdout) as WorldStatus).regions.find((r) => r.name === 'ap-southeast-1')!;
      assert.deepEqual([ap.up, ap.error], [false, 'timed out']);
      const text = await meridian(['status', '--data-dir', w.dataDir]);
      assert.equal(text.code, 1, text.stderr);
      assert.match(text.stdout, /^\s+ap-southeast-1\s+DOWN\s+timed out\s/m);
      assert.match(text.stdout, /^\s+ap-southeast-1 answers 3000 ms late$/m);
    } finally {
      await faults.clear();
    }
  });

  test('--watch --json: one JSON line per refresh, each read anew, until Ctrl-C ends it cleanly', async () => {
    const us = w.client('us-east-1');
    const p = watch(['--json', '--interval', '200ms', '--data-dir', w.dataDir]);
    try {
      const frames = () =>
        p
          .stdout()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as WorldStatus);
      const objects = (f: WorldStatus) => f.regions.find((r) => r.name === 'us-east-1')?.store?.objects;
      const first = await eventually(() => {
        assert.ok(frames().length >= 1, p.stderr());
        return frames()[0];
      });
      const before = objects(first)!;
      assert.equal(typeof before, 'number');
      await us.send(new PutObjectCommand({ Bucket: 'st-other', Key: 'watched', Body: 'new while watching' }));
      await eventually(() => assert.equal(objects(frames().at(-1)!), before + 1, 'a later refresh shows the new object'));
      assert.ok(frames().length >= 2);
    } finally {
      p.proc.kill('SIGINT');
    }
    const started = Date.now();
    const [code, signal] = await p.exited;
    assert.equal(signal, null, 'ended by its own handler, not killed by the signal');
    assert.equal(code, 0, p.stderr());
    assert.ok(Date.now() - started < 5000, 'Ctrl-C stops it promptly');
    assert.equal(p.stderr(), '');
    assert.ok(p.stdout().endsWith('}\n'), 'the last frame is whole');
  });

  test('--watch as text: frames one after another with a footer, no terminal escapes in a pipe', async () => {
    const p = watch(['--interval', '0.2', '--data-dir', w.dataDir]);
    const footers = () => p.stdout().match(/^Every 200 ms, last at \d\d:\d\d:\d\d\. Ctrl-C to stop\.$/gm) ?? [];
    try {
      await eventually(() => assert.ok(footers().length >= 2, p.stdout()));
    } finally {
      p.proc.kill('SIGTERM');
    }
    const [code] = await p.exited;
    assert.equal(code, 0, p.stderr());
    const headers = p.stdout().match(/^Meridian world in .*: 3 regions, all up$/gm) ?? [];
    assert.equal(headers.length, footers().length, 'every frame is whole');
    assert.ok(!p.stdout().includes('\x1b'), 'a pipe gets no screen clearing');

    const bad = await meridian(['status', '--watch', '--interval', 'soon', '--data-dir', w.dataDir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /'soon' is not an interval/);
  });

  test('a destination down: pending replication is what waits, a batch job under way shows its progress', async () => {
    const us = w.client('us-east-1');
    // A bucket that held data before it had rules: the batch job's work.
    const OLD = [300, 400, 500];
    await us.send(new CreateBucketCommand({ Bucket: 'st-old' }));
    await us.send(new PutBucketVersioningCommand({ Bucket: 'st-old', VersioningConfiguration: { Status: 'Enabled' } }));
    for (const [i, size] of OLD.entries()) await us.send(new PutObjectCommand({ Bucket: 'st-old', Key: `old/${i}`, Body: Buffer.alloc(size, 1) }));
    await us.send(
      new PutBucketReplicationCommand({
        Bucket: 'st-old',
        ReplicationConfiguration: {
          Role: `arn:aws:iam::${AccountId}:role/replication`,
          Rules: [{ ID: 'old-to-eu', Priority: 1, Status: 'Enabled', Filter: {}, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: 'arn:aws:s3:::st-dst' } }],
        },
      }),
    );
    const LATE = [11, 22, 33, 44];
    const jobs = async (method: string, path: string, query: Record<string, string>) => {
      const res = await rawRequest(w.endpoint('us-east-1'), { method, path, query }, { credentials: CREDENTIALS });
      assert.equal(res.status, 200, res.text);
      return (JSON.parse(res.text) as { job: { id: string; status: string; progress: { queued: number } } }).job;
    };
    await faults.regionDown('eu-west-1');
    let jobId: string;
    try {
      for (const [i, size] of LATE.entries()) await us.send(new PutObjectCommand({ Bucket: 'st-src', Key: `late/${i}`, Body: Buffer.alloc(size, 2) }));
      jobId = (await jobs('POST', '/_meridian/jobs', { spec: JSON.stringify({ bucket: 'st-old', account: AccountId, filter: { statuses: ['NONE'] } }) })).id;
      // Every version of the job is queued; none can reach eu-west-1.
      await eventually(async () => assert.equal((await jobs('GET', '/_meridian/jobs/describe', { id: jobId })).progress.queued, OLD.length));

      const { code, stdout } = await meridian(['status', '--json', '--data-dir', w.dataDir]);
      assert.equal(code, 1);
      const s = JSON.parse(stdout) as WorldStatus;
      // What really waits, as the source's versions say.
      for (const [bucket, keys] of [['st-src', LATE.map((_, i) => `late/${i}`)], ['st-old', OLD.map((_, i) => `old/${i}`)]] as const) {
        for (const Key of keys) assert.equal((await us.send(new HeadObjectCommand({ Bucket: bucket, Key }))).ReplicationStatus, 'PENDING', Key);
      }
      const src = s.replication.find((r) => r.bucket === 'st-src')!;
      assert.deepEqual(
        [src.operationsPending, src.bytesPending, src.operationsCompleted, src.operationsFailed],
        [LATE.length, LATE.reduce((a, b) => a + b, 0), SIZES.length, 0],
      );
      assert.ok(src.latencyMs.now > 0, 'the destination is behind');
      const old = s.replication.find((r) => r.bucket === 'st-old')!;
      assert.deepEqual([old.ruleId, old.destination, old.operationsPending, old.bytesPending], ['old-to-eu', 'st-dst', OLD.length, OLD.reduce((a, b) => a + b, 0)]);

      assert.equal(s.jobs.length, 1, JSON.stringify(s.jobs));
      const job = s.jobs[0];
      assert.deepEqual([job.id, job.region, job.bucket, job.status, job.filter.statuses], [jobId, 'us-east-1', 'st-old', 'Active', ['NONE']]);
      const p = job.progress;
      assert.deepEqual(
        [p.total, p.totalBytes, p.queued, p.succeeded, p.failed, p.bytesDone],
        [OLD.length, OLD.reduce((a, b) => a + b, 0), OLD.length, 0, 0, 0],
      );

      const text = await meridian(['status', '--data-dir', w.dataDir]);
      assert.match(text.stdout, /^\s+us-east-1\s+st-src\s+to-eu\s+st-dst\s+4\s+110 B\s+3\s+0\s/m);
      assert.match(text.stdout, /^\s+us-east-1\s+st-old\s+old-to-eu\s+st-dst\s+3\s+1\.2 KiB\s+0\s+0\s/m);
      assert.match(text.stdout, /^Batch replication jobs\n\s+JOB\s+REGION\s+BUCKET\s+STATUS\s+DONE\s+TOTAL\s+PROGRESS\s+BYTES\s+FAILED\s+ACTIVE$/m);
      assert.match(text.stdout, new RegExp(`^\\s+${jobId}\\s+us-east-1\\s+st-old\\s+Active\\s+0\\s+3\\s+0%\\s+0 B / 1\\.2 KiB\\s+0\\s+\\S`, 'm'));
    } finally {
      await faults.regionUp('eu-west-1');
    }
    // The destination back: the queue drains, the job completes and leaves the list.
    const drained = await eventually(
      async () => {
        const { stdout } = await meridian(['status', '--json', '--data-dir', w.dataDir]);
        const s = JSON.parse(stdout) as WorldStatus;
        assert.deepEqual(s.jobs, []);
        const src = s.replication.find((r) => r.bucket === 'st-src')!;
        const old = s.replication.find((r) => r.bucket === 'st-old')!;
        assert.deepEqual([src.operationsPending, src.bytesPending, old.operationsPending, old.bytesPending], [0, 0, 0, 0]);
        return s;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.equal(drained.replication.find((r) => r.bucket === 'st-src')?.operationsCompleted, SIZES.length + LATE.length);
    assert.equal(drained.replication.find((r) => r.bucket === 'st-old')?.operationsCompleted, OLD.length);
    const eu = drained.regions.find((r) => r.name === 'eu-west-1')!;
    assert.equal(eu.store?.objects, SIZES.length + LATE.length + OLD.length, 'every copy arrived');
    assert.equal((await jobs('GET', '/_meridian/jobs/describe', { id: jobId })).status, 'Complete');
    const text = await meridian(['status', '--data-dir', w.dataDir]);
    assert.match(text.stdout, /^Batch replication jobs\n\s+None under way\.$/m);
  });
});
