/**
 * Authorization as S3 decides it: the owner's account by ownership, another account only with
 * a bucket policy's Allow, anonymous requests only where a policy or an ACL makes something
 * public and Block Public Access does not take it away; an explicit Deny always wins.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { rejectsWith } from './helpers/s3-errors.ts';
import { startTestWorld, type TestWorld } from './helpers/world.ts';

const OTHER = { accessKeyId: 'AKIAOTHERACCOUNT', secretAccessKey: 'other-account-secret', accountId: '444455556666' };
const BUCKET = 'authz-owned';

describe('authorization', () => {
  let w: TestWorld;
  let owner: S3Client;
  let other: S3Client;

  before(async () => {
    w = await startTestWorld({ keys: [OTHER] });
    owner = w.client('us-east-1');
    other = w.client('us-east-1', { credentials: OTHER });
    await owner.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await owner.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'private.txt', Body: 'private' }));
    await owner.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'public.txt', Body: 'public', ACL: 'public-read' }));
  });
  after(() => w.close());

  const policy = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
  const anonymous = (key: string) => fetch(`${w.endpoint('us-east-1')}/${BUCKET}/${key}`);

  test('another account gets nothing without a policy', async () => {
    await rejectsWith(other.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'private.txt' })), 'AccessDenied', 403);
    await rejectsWith(other.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'intruder', Body: 'x' })), 'AccessDenied', 403);
    await rejectsWith(other.send(new ListObjectsV2Command({ Bucket: BUCKET })), 'AccessDenied', 403);
    await rejectsWith(owner.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'intruder' })), 'NoSuchKey', 404);
  });

  test('anonymous reads: a public-read object yes, a private one no', async () => {
    const pub = await anonymous('public.txt');
    assert.equal(pub.status, 200);
    assert.equal(await pub.text(), 'public');
    const priv = await anonymous('private.txt');
    assert.equal(priv.status, 403);
    assert.match(await priv.text(), /<Code>AccessDenied<\/Code>/);
    const write = await fetch(`${w.endpoint('us-east-1')}/${BUCKET}/anon-write`, { method: 'PUT', body: 'x' });
    assert.equal(write.status, 403);
  });

  test('a bucket policy grants another account exactly what it says; an explicit Deny beats even the owner', async () => {
    await owner.send(
      new PutBucketPolicyCommand({
        Bucket: BUCKET,
        Policy: policy([
          {
            Sid: 'OtherReads',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${OTHER.accountId}:root` },
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${BUCKET}/*`,
          },
          { Sid: 'NoDeletes', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${BUCKET}/keep/*` },
        ]),
      }),
    );
    try {
      const got = await other.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'private.txt' }));
      assert.equal(await got.Body!.transformToString(), 'private');
      await rejectsWith(other.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'intruder', Body: 'x' })), 'AccessDenied', 403);
      await owner.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/me', Body: 'k' }));
      await rejectsWith(owner.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'keep/me' })), 'AccessDenied', 403);
      assert.equal((await owner.send(new GetBucketPolicyStatusCommand({ Bucket: BUCKET }))).PolicyStatus?.IsPublic, false);
      const stored = await owner.send(new GetBucketPolicyCommand({ Bucket: BUCKET }));
      assert.equal(JSON.parse(stored.Policy!).Statement[0].Sid, 'OtherReads');
    } finally {
      await owner.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    }
    await rejectsWith(owner.send(new GetBucketPolicyCommand({ Bucket: BUCKET })), 'NoSuchBucketPolicy', 404);
    await rejectsWith(other.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'private.txt' })), 'AccessDenied', 403);
  });

  test('a malformed policy is refused with a useful message', async () => {
    const err = await rejectsWith(
      owner.send(
        new PutBucketPolicyCommand({
          Bucket: BUCKET,
          Policy: policy([{ Effect: 'Allow', Principal: '*', Action: 's3:NoSuchAction', Resource: `arn:aws:s3:::${BUCKET}/*` }]),
        }),
      ),
      'MalformedPolicy',
      400,
    );
    assert.match(err.message, /invalid action/i);
    await rejectsWith(owner.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: '{not json' })), 'MalformedPolicy', 400);
  });

  test('Block Public Access: public policies refused, public access restricted, public ACLs ignored', async () => {
    const publicRead = policy([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` }]);
    await owner.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: publicRead }));
    try {
      assert.equal((await owner.send(new GetBucketPolicyStatusCommand({ Bucket: BUCKET }))).PolicyStatus?.IsPublic, true);
      assert.equal((await anonymous('private.txt')).status, 200, 'the public policy lets anyone read');

      await owner.send(
        new PutPublicAccessBlockCommand({
          Bucket: BUCKET,
          PublicAccessBlockConfiguration: { RestrictPublicBuckets: true, IgnorePublicAcls: true },
        }),
      );
      assert.equal((await anonymous('private.txt')).status, 403, 'RestrictPublicBuckets takes the public policy away');
      assert.equal((await anonymous('public.txt')).status, 403, 'IgnorePublicAcls takes the public-read grant away');
      const settings = await owner.send(new GetPublicAccessBlockCommand({ Bucket: BUCKET }));
      assert.deepEqual(settings.PublicAccessBlockConfiguration, {
        BlockPublicAcls: false,
        IgnorePublicAcls: true,
        BlockPublicPolicy: false,
        RestrictPublicBuckets: true,
      });
      // The owner is never restricted by Block Public Access.
      await owner.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'private.txt' }));

      await owner.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
      await owner.send(
        new PutPublicAccessBlockCommand({ Bucket: BUCKET, PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }),
      );
      await rejectsWith(owner.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: publicRead })), 'AccessDenied', 403);
    } finally {
      await owner.send(
        new PutPublicAccessBlockCommand({ Bucket: BUCKET, PublicAccessBlockConfiguration: {} }),
      );
      await owner.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    }
    assert.equal((await anonymous('public.txt')).status, 200);
  });
});
