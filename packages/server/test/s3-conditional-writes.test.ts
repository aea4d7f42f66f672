import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { rejectsWith as rejects } from './helpers/s3-errors.ts';
import { bodyText, startTestWorld, type TestWorld } from './helpers/world.ts';

describe('conditional writes', { timeout: 20_000 }, () => {
  let w: TestWorld;
  let s3: S3Client;
  const Bucket = 'conditional';
  const read = async (Key: string) => bodyText((await s3.send(new GetObjectCommand({ Bucket, Key }))).Body);

  before(async () => {
    w = await startTestWorld();
    s3 = w.client('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => w.close());

  test('If-None-Match: * creates a key only if it does not exist', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'once', Body: 'first', IfNoneMatch: '*' }));
    await rejects(
      s3.send(new PutObjectCommand({ Bucket, Key: 'once', Body: 'second', IfNoneMatch: '*' })),
      'PreconditionFailed',
      412,
    );
    const big = 'x'.repeat(300_000);
    await rejects(
      s3.send(new PutObjectCommand({ Bucket, Key: 'once', Body: big, IfNoneMatch: '*' })),
      'PreconditionFailed',
      412,
    );
    assert.equal(await read('once'), 'first');
  });

  test('If-Match replaces only the version with that ETag', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'cas', Body: 'v1' }));
    const second = await s3.send(new PutObjectCommand({ Bucket, Key: 'cas', Body: 'v2', IfMatch: first.ETag }));
    await rejects(
      s3.send(new PutObjectCommand({ Bucket, Key: 'cas', Body: 'v3', IfMatch: first.ETag })),
      'PreconditionFailed',
      412,
    );
    assert.equal(await read('cas'), 'v2');
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cas', Body: 'v3', IfMatch: second.ETag }));
    assert.equal(await read('cas'), 'v3');
    await rejects(
      s3.send(new PutObjectCommand({ Bucket, Key: 'absent', Body: 'x', IfMatch: first.ETag })),
      'NoSuchKey',
      404,
    );
  });

  test('concurrent creates with If-None-Match: * have exactly one winner', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        s3.send(new PutObjectCommand({ Bucket, Key: 'race', Body: `writer-${i}`, IfNoneMatch: '*' })),
      ),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.equal(won.length, 1, `winners: ${won.join(',')}`);
    for (const r of results) {
      if (r.status === 'rejected') assert.equal((r.reason as S3ServiceException).$metadata.httpStatusCode, 412);
    }
    assert.equal(await read('race'), `writer-${won[0]}`);
  });
});
