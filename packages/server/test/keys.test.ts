/**
 * Accounts and keys: keys made with `meridian keys create` work in every region at once, act
 * for their own account, and stop working when disabled or deleted.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { MERIDIAN_BIN } from './helpers/process.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { startTestWorld, type TestWorld } from './helpers/world.ts';

const run = promisify(execFile);

describe('meridian keys', () => {
  let w: TestWorld;
  before(async () => {
    w = await startTestWorld({
      keys: [{ accessKeyId: 'AKIACONFIGUSER', secretAccessKey: 'config-user-secret', accountId: '999988887777', user: 'carol' }],
    });
  });
  after(() => w.close());

  const keys = async (...args: string[]) => (await run(process.execPath, [MERIDIAN_BIN, 'keys', ...args, '--data-dir', w.dataDir])).stdout;

  function clientWith(region: string, credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
    return new S3Client({ region, endpoint: w.endpoint(region), forcePathStyle: true, credentials, maxAttempts: 1 });
  }

  test('a created key works in every region, for its own account, until it is disabled or deleted', async () => {
    const created = JSON.parse(await keys('create', '--account', '444455556666', '--user', 'alice', '--json')) as {
      accessKeyId: string;
      secretAccessKey: string;
      accountId: string;
      user: string;
    };
    assert.match(created.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(created.accountId, '444455556666');
    assert.equal(created.user, 'alice');
    const us = clientWith('us-east-1', created);
    const eu = clientWith('eu-west-1', created);
    await eu.send(new CreateBucketCommand({ Bucket: 'alices-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    // Every region knows the key, and the account sees only its own buckets.
    for (const c of [us, eu]) {
      const listed = await c.send(new ListBucketsCommand({}));
      assert.deepEqual(listed.Buckets?.map((b) => b.Name), ['alices-bucket']);
    }
    const root = await w.client('us-east-1').send(new ListBucketsCommand({}));
    assert.equal(root.Buckets?.some((b) => b.Name === 'alices-bucket'), false, "another account's bucket is not listed");

    const table = await keys('list', '--account', '444455556666');
    assert.match(table, new RegExp(`^${created.accessKeyId}\\s+444455556666\\s+alice\\s+Active\\s+catalog$`, 'm'));

    await keys('disable', created.accessKeyId);
    await rejectsWith(us.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
    await keys('enable', created.accessKeyId);
    await us.send(new ListBucketsCommand({}));
    await keys('delete', created.accessKeyId);
    await rejectsWith(eu.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
    assert.doesNotMatch(await keys('list'), new RegExp(created.accessKeyId));
  });

  test("keys of the config's accounts work and are listed, but are changed in the config, not here", async () => {
    const carol = clientWith('ap-southeast-1', { accessKeyId: 'AKIACONFIGUSER', secretAccessKey: 'config-user-secret' });
    await carol.send(new ListBucketsCommand({}));
    // The same world described by its config file, as `meridian up --config` would read it.
    const config = join(w.dataDir, 'world.yaml');
    await writeFile(
      config,
      'accounts:\n  - id: 999988887777\n    users:\n      - { name: carol, accessKeyId: AKIACONFIGUSER, secretAccessKey: config-user-secret }\n',
    );
    assert.match(await keys('list', '--config', config), /^AKIACONFIGUSER\s+999988887777\s+carol\s+Active\s+config$/m);
    await assert.rejects(keys('disable', 'AKIACONFIGUSER', '--config', config), /no key AKIACONFIGUSER in the catalog/);
  });
});
