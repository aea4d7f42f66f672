import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { eventually } from './helpers/eventually.ts';
import { MERIDIAN_BIN, spawnMeridian } from './helpers/process.ts';

describe('meridian up', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meridian-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('starts the configured regions, prints how to use them, stops cleanly on Ctrl-C and keeps data', async () => {
    const config = join(dir, 'world.yaml');
    await writeFile(
      config,
      [
        'regions:',
        '  - name: us-east-1',
        '    port: 0',
        '  - name: eu-west-1',
        '    port: 0',
        'credentials:',
        '  accessKeyId: from-file',
        '  secretAccessKey: file-secret',
        '',
      ].join('\n'),
    );
    const env = { MERIDIAN_ROOT_ACCESS_KEY_ID: 'from-env', MERIDIAN_ROOT_SECRET_ACCESS_KEY: 'env-secret' };
    const args = ['up', '--config', config, '--data-dir', join(dir, 'data')];

    const first = spawnMeridian(args, env);
    const { regions } = await first.ready;
    assert.deepEqual(regions.map((r) => r.name), ['us-east-1', 'eu-west-1']);
    const banner = first.stdout();
    assert.match(banner, /Access key:\s+from-env/, 'the environment overrides the file');
    assert.match(banner, /Secret key:\s+env-secret/);
    assert.match(banner, new RegExp(`aws --endpoint-url ${regions[0].endpoint} --region us-east-1 s3 ls`));

    const credentials = { accessKeyId: 'from-env', secretAccessKey: 'env-secret' };
    const eu = new S3Client({ region: 'eu-west-1', endpoint: regions[1].endpoint, forcePathStyle: true, credentials });
    await eu.send(new CreateBucketCommand({ Bucket: 'kept', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    await eu.send(new PutObjectCommand({ Bucket: 'kept', Key: 'k', Body: 'survives restarts' }));
    eu.destroy();

    first.proc.kill('SIGINT');
    const exit = await first.exited;
    assert.equal(exit.code, 0, first.stderr());
    assert.match(first.stdout(), /Stopped\. Data is kept in/);

    const second = spawnMeridian(args, env);
    const again = await second.ready;
    const eu2 = new S3Client({ region: 'eu-west-1', endpoint: again.regions[1].endpoint, forcePathStyle: true, credentials });
    const got = await eu2.send(new GetObjectCommand({ Bucket: 'kept', Key: 'k' }));
    assert.equal(await got.Body!.transformToString(), 'survives restarts');
    const us = new S3Client({ region: 'us-east-1', endpoint: again.regions[0].endpoint, forcePathStyle: true, credentials });
    const list = await us.send(new ListBucketsCommand({}));
    assert.deepEqual(list.Buckets?.map((b) => [b.Name, b.BucketRegion]), [['kept', 'eu-west-1']]);
    eu2.destroy();
    us.destroy();
    second.proc.kill('SIGTERM');
    assert.equal((await second.exited).code, 0);
  });

  test('a bad config file is reported, not a stack trace', async () => {
    const config = join(dir, 'bad.yaml');
    await writeFile(config, 'regions:\n  - name: Not_A_Region\n');
    const run = spawnSync(process.execPath, [MERIDIAN_BIN, 'up', '--config', config], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /'Not_A_Region' is not a region name/);
    const unknown = spawnSync(process.execPath, [MERIDIAN_BIN, 'frobnicate'], { encoding: 'utf8' });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  });

  test('a port already in use is reported clearly', async () => {
    await writeFile(join(dir, 'one.yaml'), 'regions:\n  - name: us-east-1\n    port: 0\n');
    const a = spawnMeridian(['up', '--json', '--data-dir', join(dir, 'a'), '--config', join(dir, 'one.yaml')]);
    const { regions } = await a.ready;
    const port = new URL(regions[0].endpoint).port;
    await writeFile(join(dir, 'taken.yaml'), `regions:\n  - name: us-east-1\n    port: ${port}\n`);
    const b = spawnSync(process.execPath, [MERIDIAN_BIN, 'up', '--data-dir', join(dir, 'b'), '--config', join(dir, 'taken.yaml')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    a.proc.kill('SIGTERM');
    await a.exited;
    assert.equal(b.status, 1);
    assert.match(b.stderr, new RegExp(`port ${port} .*in use`));
  });

  test('logs are readable lines when forced pretty (as on a terminal), one per request, without secrets', async () => {
    await writeFile(join(dir, 'pretty.yaml'), 'regions:\n  - name: us-east-1\n    port: 0\n');
    const credentials = { accessKeyId: 'pretty-key', secretAccessKey: 'pretty-secret-never-logged' };
    const p = spawnMeridian(['up', '--data-dir', join(dir, 'pretty'), '--config', join(dir, 'pretty.yaml')], {
      MERIDIAN_LOG_FORMAT: 'pretty',
      MERIDIAN_LOG_LEVEL: 'info',
      MERIDIAN_ROOT_ACCESS_KEY_ID: credentials.accessKeyId,
      MERIDIAN_ROOT_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    });
    const { regions } = await p.ready;
    const s3 = new S3Client({ region: 'us-east-1', endpoint: regions[0].endpoint, forcePathStyle: true, credentials, maxAttempts: 1 });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'pretty' }));
      const put = await s3.send(new PutObjectCommand({ Bucket: 'pretty', Key: 'a b', Body: 'twelve bytes' }));
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'pretty', Key: 'a b' }), { expiresIn: 60 });
      assert.equal(await (await fetch(url)).text(), 'twelve bytes');
      const signature = new URL(url).searchParams.get('X-Amz-Signature')!;
      const logLines = () => p.stdout().split('\n').filter((l) => /^\[\d{2}:\d{2}:\d{2}\.\d{3}\] [A-Z]+: /.test(l));
      await eventually(() => assert.equal(logLines().filter((l) => / GetObject 200 /.test(l)).length, 1, p.stdout()));
      const putLine = logLines().find((l) => l.includes(put.$metadata.requestId!));
      assert.ok(putLine, p.stdout());
      assert.match(putLine, /^\[[\d:.]+\] INFO: PutObject 200 in [\d.]+ ms \{.*"operation":"PutObject".*\}$/);
      for (const field of ['"region":"us-east-1"', '"bucket":"pretty"', '"key":"a b"', '"status":200', '"bytesIn":12']) assert.ok(putLine.includes(field), `${field}: ${putLine}`);
      assert.ok(!/^\{"level"/m.test(p.stdout()), 'no JSON lines');
      assert.ok(!p.stdout().includes('\x1b['), 'no colours in a pipe');
      // The banner shows the dev credentials; what is logged after it never does.
      const logged = p.stdout().slice(p.stdout().indexOf('Press Ctrl-C to stop.'));
      for (const secret of [credentials.secretAccessKey, signature, 'X-Amz-Signature', 'authorization']) assert.ok(!logged.includes(secret), `${secret} logged`);
    } finally {
      s3.destroy();
      p.proc.kill('SIGINT');
    }
    assert.equal((await p.exited).code, 0, p.stderr());
  });
});
