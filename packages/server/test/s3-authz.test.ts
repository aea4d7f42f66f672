/**
 * Authorization as S3 decides it: the owner's account by ownership, another account only with
 * a bucket policy's Allow, anonymous requests (reads and writes) only where a policy or an ACL
 * makes something public and Block Public Access — the bucket's or its account's, set through
 * S3 Control — does not take it away; an explicit Deny always wins. A new bucket has all four
 * Block Public Access settings on (as in S3 since April 2023): the buckets that test public
 * access have them removed first, as their owner would.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DeletePublicAccessBlockCommand as DeleteAccountPublicAccessBlockCommand,
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand,
  S3ControlClient,
  S3ControlServiceException,
} from '@aws-sdk/client-s3-control';
import { canonicalUserId } from '../src/s3/handlers/bucket.ts';
import { LmdbMetaStore } from '../src/storage/lmdb-meta.ts';
import { sha256Hex } from './helpers/raw-request.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { CREDENTIALS, localhostResolvingHandler, startTestWorld, type TestWorld } from './helpers/world.ts';

const OTHER = { accessKeyId: 'AKIAOTHERACCOUNT', secretAccessKey: 'other-account-secret', accountId: '444455556666' };
/** A user of the owner's own account (not its root). */
const OWNER_USER = { accessKeyId: 'AKIAOWNERUSER', secretAccessKey: 'owner-user-secret', accountId: CREDENTIALS.accountId, user: 'dana' };
const BUCKET = 'authz-owned';
const ALL_BLOCKED = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
const policy = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const publicRead = (bucket: string) =>
  policy([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }]);

describe('authorization', () => {
  let w: TestWorld;
  let owner: S3Client;
  let other: S3Client;

  before(async () => {
    w = await startTestWorld({ keys: [OTHER, OWNER_USER] });
    owner = w.client('us-east-1');
    other = w.client('us-east-1', { credentials: OTHER });
    // ObjectWriter: ACLs enabled, so the public-read object below is public by its ACL.
    await owner.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectOwnership: 'ObjectWriter' }));
    await owner.send(new DeletePublicAccessBlockCommand({ Bucket: BUCKET }));
    await owner.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'private.txt', Body: 'private' }));
    await owner.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'public.txt', Body: 'public', ACL: 'public-read' }));
  });
  after(() => w.close());

  const anonymous = (key: string, bucket = BUCKET) => fetch(`${w.endpoint('us-east-1')}/${bucket}/${key}`);

  describe('a new bucket blocks public access (S3 since April 2023)', () => {
    test('all four settings are on; a public policy is AccessDenied until the owner removes them', async () => {
      const Bucket = 'authz-fresh';
      await owner.send(new CreateBucketCommand({ Bucket }));
      const fresh = await owner.send(new GetPublicAccessBlockCommand({ Bucket }));
      assert.deepEqual(fresh.PublicAccessBlockConfiguration, ALL_BLOCKED);
      await owner.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'doc' }));

      const err = await rejectsWith(owner.send(new PutBucketPolicyCommand({ Bucket, Policy: publicRead(Bucket) })), 'AccessDenied', 403);
      assert.equal(
        err.message,
        `User: arn:aws:iam::${CREDENTIALS.accountId}:root is not authorized to perform: s3:PutBucketPolicy on resource: ` +
          `"arn:aws:s3:::${Bucket}" because public policies are blocked by the BlockPublicPolicy block public access setting.`,
      );
      await rejectsWith(owner.send(new GetBucketPolicyCommand({ Bucket })), 'NoSuchBucketPolicy', 404);
      // A policy naming another account is not public, and is taken.
      await owner.send(
        new PutBucketPolicyCommand({
          Bucket,
          Policy: policy([
            { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER.accountId}:root` }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${Bucket}/*` },
          ]),
        }),
      );
      const theirs = await other.send(new GetObjectCommand({ Bucket, Key: 'doc' }));
      assert.equal(await theirs.Body!.transformToString(), 'doc');
      assert.equal((await anonymous('doc', Bucket)).status, 403);

      await owner.send(new DeletePublicAccessBlockCommand({ Bucket }));
      await rejectsWith(owner.send(new GetPublicAccessBlockCommand({ Bucket })), 'NoSuchPublicAccessBlockConfiguration', 404);
      await owner.send(new PutBucketPolicyCommand({ Bucket, Policy: publicRead(Bucket) }));
      assert.equal((await owner.send(new GetBucketPolicyStatusCommand({ Bucket }))).PolicyStatus?.IsPublic, true);
      const anyone = await anonymous('doc', Bucket);
      assert.equal(anyone.status, 200);
      assert.equal(await anyone.text(), 'doc');
    });

    test('with ACLs enabled, a public ACL is AccessDenied under BlockPublicAcls until PutPublicAccessBlock turns it off', async () => {
      const Bucket = 'authz-fresh-acl';
      await owner.send(new CreateBucketCommand({ Bucket, ObjectOwnership: 'ObjectWriter' }));
      await owner.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'doc' }));
      await rejectsWith(owner.send(new PutBucketAclCommand({ Bucket, ACL: 'public-read' })), 'AccessDenied', 403);
      await rejectsWith(owner.send(new PutObjectAclCommand({ Bucket, Key: 'doc', ACL: 'public-read' })), 'AccessDenied', 403);
      await rejectsWith(owner.send(new PutObjectCommand({ Bucket, Key: 'other', Body: 'x', ACL: 'public-read' })), 'AccessDenied', 403);
      await rejectsWith(owner.send(new GetObjectCommand({ Bucket, Key: 'other' })), 'NoSuchKey', 404);
      assert.equal((await anonymous('doc', Bucket)).status, 403);

      // Public ACLs allowed, public policies still blocked.
      await owner.send(
        new PutPublicAccessBlockCommand({
          Bucket,
          PublicAccessBlockConfiguration: { ...ALL_BLOCKED, BlockPublicAcls: false, IgnorePublicAcls: false },
        }),
      );
      await owner.send(new PutObjectAclCommand({ Bucket, Key: 'doc', ACL: 'public-read' }));
      assert.equal((await anonymous('doc', Bucket)).status, 200);
      await rejectsWith(owner.send(new PutBucketPolicyCommand({ Bucket, Policy: publicRead(Bucket) })), 'AccessDenied', 403);
    });

    test('CreateBucket with a public ACL is InvalidBucketAclWithBlockPublicAccessError, and creates nothing', async () => {
      const err = await rejectsWith(
        owner.send(new CreateBucketCommand({ Bucket: 'authz-born-public', ObjectOwnership: 'ObjectWriter', ACL: 'public-read' })),
        'InvalidBucketAclWithBlockPublicAccessError',
        400,
      );
      assert.equal(err.message, 'Bucket cannot have public ACLs set with BlockPublicAccess enabled');
      await rejectsWith(owner.send(new GetPublicAccessBlockCommand({ Bucket: 'authz-born-public' })), 'NoSuchBucket', 404);
    });
  });

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

  test("a policy that denies everything cannot lock the owner's root out of the policy itself", async () => {
    const Bucket = 'authz-locked';
    await owner.send(new CreateBucketCommand({ Bucket }));
    await owner.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'v' }));
    const lockout = policy([{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${Bucket}`, `arn:aws:s3:::${Bucket}/*`] }]);
    await owner.send(new PutBucketPolicyCommand({ Bucket, Policy: lockout }));
    const user = w.client('us-east-1', { credentials: OWNER_USER });
    await rejectsWith(owner.send(new GetObjectCommand({ Bucket, Key: 'k' })), 'AccessDenied', 403);
    // A user of the account is refused like anyone else; the root reads and removes the policy.
    await rejectsWith(user.send(new GetBucketPolicyCommand({ Bucket })), 'AccessDenied', 403);
    await rejectsWith(user.send(new DeleteBucketPolicyCommand({ Bucket })), 'AccessDenied', 403);
    const got = await owner.send(new GetBucketPolicyCommand({ Bucket }));
    assert.equal(got.Policy, lockout);
    await owner.send(new DeleteBucketPolicyCommand({ Bucket }));
    const obj = await owner.send(new GetObjectCommand({ Bucket, Key: 'k' }));
    assert.equal(await obj.Body?.transformToString(), 'v');
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
    await owner.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: publicRead(BUCKET) }));
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
      await rejectsWith(owner.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: publicRead(BUCKET) })), 'AccessDenied', 403);
    } finally {
      await owner.send(
        new PutPublicAccessBlockCommand({ Bucket: BUCKET, PublicAccessBlockConfiguration: {} }),
      );
      await owner.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    }
    assert.equal((await anonymous('public.txt')).status, 200);
  });

  describe('anonymous writes', () => {
    /** The stock SDK sending unsigned requests. */
    let anon: S3Client;
    before(() => {
      anon = w.client('us-east-1', { signer: { sign: async (request) => request } });
    });
    const put = (bucket: string, key: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${w.endpoint('us-east-1')}/${bucket}/${key}`, { method: 'PUT', body, headers });
    const md5 = (text: string) => createHash('md5').update(text).digest('base64');

    test('a public policy lets anyone put and delete where it says; the bucket owner owns what they write', async () => {
      await owner.send(new CreateBucketCommand({ Bucket: 'authz-dropbox' }));
      await owner.send(new DeletePublicAccessBlockCommand({ Bucket: 'authz-dropbox' }));
      await owner.send(
        new PutBucketPolicyCommand({
          Bucket: 'authz-dropbox',
          Policy: policy([
            { Effect: 'Allow', Principal: '*', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::authz-dropbox/inbox/*' },
          ]),
        }),
      );
      const sent = await anon.send(new PutObjectCommand({ Bucket: 'authz-dropbox', Key: 'inbox/1', Body: 'dropped' }));
      assert.equal(sent.$metadata.httpStatusCode, 200);
      // A streamed body goes out as aws-chunked with an unsigned trailing checksum.
      await anon.send(
        new PutObjectCommand({ Bucket: 'authz-dropbox', Key: 'inbox/2', Body: Readable.from([Buffer.from('streamed')]), ContentLength: 8 }),
      );
      const got = await owner.send(new GetObjectCommand({ Bucket: 'authz-dropbox', Key: 'inbox/2' }));
      assert.equal(await got.Body!.transformToString(), 'streamed');
      const acl = await owner.send(new GetObjectAclCommand({ Bucket: 'authz-dropbox', Key: 'inbox/1' }));
      assert.equal(acl.Owner?.ID, canonicalUserId(CREDENTIALS.accountId));
      // Reading is not granted, nor writing elsewhere.
      await rejectsWith(anon.send(new GetObjectCommand({ Bucket: 'authz-dropbox', Key: 'inbox/1' })), 'AccessDenied', 403);
      await rejectsWith(anon.send(new PutObjectCommand({ Bucket: 'authz-dropbox', Key: 'outbox/1', Body: 'x' })), 'AccessDenied', 403);
      await anon.send(new DeleteObjectCommand({ Bucket: 'authz-dropbox', Key: 'inbox/1' }));
      await rejectsWith(owner.send(new GetObjectCommand({ Bucket: 'authz-dropbox', Key: 'inbox/1' })), 'NoSuchKey', 404);

      // RestrictPublicBuckets takes the public policy away from anonymous writers.
      await owner.send(new PutPublicAccessBlockCommand({ Bucket: 'authz-dropbox', PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
      await rejectsWith(anon.send(new PutObjectCommand({ Bucket: 'authz-dropbox', Key: 'inbox/3', Body: 'x' })), 'AccessDenied', 403);
      await rejectsWith(anon.send(new DeleteObjectCommand({ Bucket: 'authz-dropbox', Key: 'inbox/2' })), 'AccessDenied', 403);
    });

    test('an anonymous body is checked against the Content-MD5 or checksum it came with', async () => {
      await owner.send(new CreateBucketCommand({ Bucket: 'authz-checked' }));
      await owner.send(new DeletePublicAccessBlockCommand({ Bucket: 'authz-checked' }));
      await owner.send(
        new PutBucketPolicyCommand({
          Bucket: 'authz-checked',
          Policy: policy([{ Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::authz-checked/*' }]),
        }),
      );
      assert.equal((await put('authz-checked', 'good', 'payload', { 'content-md5': md5('payload') })).status, 200);
      const badMd5 = await put('authz-checked', 'bad-md5', 'payload', { 'content-md5': md5('other') });
      assert.equal(badMd5.status, 400);
      assert.match(await badMd5.text(), /<Code>BadDigest<\/Code>/);
      const badCrc = await put('authz-checked', 'bad-crc', 'payload', { 'x-amz-checksum-crc32': 'AAAAAA==' });
      assert.equal(badCrc.status, 400);
      assert.match(await badCrc.text(), /<Code>BadDigest<\/Code>/);
      const badSha = await put('authz-checked', 'bad-sha', 'payload', { 'x-amz-content-sha256': sha256Hex('other') });
      assert.equal(badSha.status, 400);
      assert.match(await badSha.text(), /<Code>XAmzContentSHA256Mismatch<\/Code>/);
      // A chunk-signed payload cannot be verified without a signature.
      const chunked = await put('authz-checked', 'chunked', 'payload', { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' });
      assert.equal(chunked.status, 403);
      const stored = await owner.send(new GetObjectCommand({ Bucket: 'authz-checked', Key: 'good' }));
      assert.equal(await stored.Body!.transformToString(), 'payload');
      for (const key of ['bad-md5', 'bad-crc', 'bad-sha', 'chunked']) {
        await rejectsWith(owner.send(new GetObjectCommand({ Bucket: 'authz-checked', Key: key })), 'NoSuchKey', 404);
      }
    });

    test('a bucket ACL granting AllUsers WRITE lets anyone put and delete, until IgnorePublicAcls', async () => {
      await owner.send(new CreateBucketCommand({ Bucket: 'authz-open', ObjectOwnership: 'ObjectWriter' }));
      await owner.send(new DeletePublicAccessBlockCommand({ Bucket: 'authz-open' }));
      await owner.send(new PutBucketAclCommand({ Bucket: 'authz-open', ACL: 'public-read-write' }));
      await anon.send(new PutObjectCommand({ Bucket: 'authz-open', Key: 'by-anyone', Body: 'hello' }));
      const acl = await owner.send(new GetObjectAclCommand({ Bucket: 'authz-open', Key: 'by-anyone' }));
      assert.equal(acl.Owner?.ID, canonicalUserId(CREDENTIALS.accountId), 'the bucket owner owns it, and can read it');
      const got = await owner.send(new GetObjectCommand({ Bucket: 'authz-open', Key: 'by-anyone' }));
      assert.equal(await got.Body!.transformToString(), 'hello');
      // The bucket's WRITE does not make the object readable: it is private.
      await rejectsWith(anon.send(new GetObjectCommand({ Bucket: 'authz-open', Key: 'by-anyone' })), 'AccessDenied', 403);
      const listed = await anon.send(new ListObjectsV2Command({ Bucket: 'authz-open' }));
      assert.deepEqual(listed.Contents?.map((c) => c.Key), ['by-anyone']);
      await anon.send(new DeleteObjectCommand({ Bucket: 'authz-open', Key: 'by-anyone' }));
      await rejectsWith(owner.send(new GetObjectCommand({ Bucket: 'authz-open', Key: 'by-anyone' })), 'NoSuchKey', 404);

      await owner.send(new PutPublicAccessBlockCommand({ Bucket: 'authz-open', PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
      await rejectsWith(anon.send(new PutObjectCommand({ Bucket: 'authz-open', Key: 'late', Body: 'x' })), 'AccessDenied', 403);
      await rejectsWith(anon.send(new ListObjectsV2Command({ Bucket: 'authz-open' })), 'AccessDenied', 403);
    });

    test('anonymous requests never create buckets or change what only a grant allows', async () => {
      await rejectsWith(anon.send(new CreateBucketCommand({ Bucket: 'authz-anon-bucket' })), 'AccessDenied', 403);
      await rejectsWith(anon.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policy([]) })), 'AccessDenied', 403);
      await rejectsWith(anon.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'private.txt' })), 'AccessDenied', 403);
      const still = await owner.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'private.txt' }));
      assert.equal(await still.Body!.transformToString(), 'private');
    });
  });

  describe("the account's Block Public Access (S3 Control, global endpoint)", () => {
    const AccountId = CREDENTIALS.accountId;
    let control: S3ControlClient;
    before(() => {
      control = controlClient(w, CREDENTIALS);
    });
    after(async () => {
      await control.send(new DeleteAccountPublicAccessBlockCommand({ AccountId }));
      control.destroy();
    });

    test('an account without settings is 404 NoSuchPublicAccessBlockConfiguration; Put, Get and Delete round-trip', async () => {
      const missing = await controlRejects(
        control.send(new GetAccountPublicAccessBlockCommand({ AccountId })),
        'NoSuchPublicAccessBlockConfiguration',
        404,
      );
      assert.equal(missing.message, 'The public access block configuration was not found');
      const put = await control.send(
        new PutAccountPublicAccessBlockCommand({ AccountId, PublicAccessBlockConfiguration: { BlockPublicPolicy: true, IgnorePublicAcls: true } }),
      );
      assert.equal(put.$metadata.httpStatusCode, 200);
      const got = await control.send(new GetAccountPublicAccessBlockCommand({ AccountId }));
      assert.deepEqual(got.PublicAccessBlockConfiguration, {
        BlockPublicAcls: false,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: false,
      });
      const deleted = await control.send(new DeleteAccountPublicAccessBlockCommand({ AccountId }));
      assert.equal(deleted.$metadata.httpStatusCode, 200);
      await controlRejects(control.send(new GetAccountPublicAccessBlockCommand({ AccountId })), 'NoSuchPublicAccessBlockConfiguration', 404);
    });

    test("another account can neither read nor set this account's settings", async () => {
      const theirs = controlClient(w, OTHER);
      try {
        await controlRejects(theirs.send(new GetAccountPublicAccessBlockCommand({ AccountId })), 'AccessDenied', 403);
        await controlRejects(
          theirs.send(new PutAccountPublicAccessBlockCommand({ AccountId, PublicAccessBlockConfiguration: { BlockPublicAcls: true } })),
          'AccessDenied',
          403,
        );
        // Its own settings are its own.
        await controlRejects(
          theirs.send(new GetAccountPublicAccessBlockCommand({ AccountId: OTHER.accountId })),
          'NoSuchPublicAccessBlockConfiguration',
          404,
        );
      } finally {
        theirs.destroy();
      }
    });

    test("the account's settings apply to every bucket of the account, in every region, with the bucket's own", async () => {
      const eu = w.client('eu-west-1');
      await eu.send(
        new CreateBucketCommand({ Bucket: 'authz-account-eu', ObjectOwnership: 'ObjectWriter', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }),
      );
      await eu.send(new DeletePublicAccessBlockCommand({ Bucket: 'authz-account-eu' }));
      await eu.send(new PutObjectCommand({ Bucket: 'authz-account-eu', Key: 'public', Body: 'public', ACL: 'public-read' }));
      const euAnonymous = () => fetch(`${w.endpoint('eu-west-1')}/authz-account-eu/public`);
      assert.equal((await euAnonymous()).status, 200);

      await control.send(
        new PutAccountPublicAccessBlockCommand({
          AccountId,
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true },
        }),
      );
      try {
        assert.equal((await euAnonymous()).status, 403, 'IgnorePublicAcls of the account takes the public-read grant away');
        await rejectsWith(eu.send(new PutBucketPolicyCommand({ Bucket: 'authz-account-eu', Policy: publicRead('authz-account-eu') })), 'AccessDenied', 403);
        await rejectsWith(
          eu.send(new PutObjectCommand({ Bucket: 'authz-account-eu', Key: 'more', Body: 'x', ACL: 'public-read' })),
          'AccessDenied',
          403,
        );
        await rejectsWith(eu.send(new PutObjectAclCommand({ Bucket: 'authz-account-eu', Key: 'public', ACL: 'public-read-write' })), 'AccessDenied', 403);
        // Private ACLs and policies are still fine, and the owner still reads.
        await eu.send(new PutObjectCommand({ Bucket: 'authz-account-eu', Key: 'more', Body: 'x', ACL: 'private' }));
        await owner.send(
          new PutBucketPolicyCommand({
            Bucket: BUCKET,
            Policy: policy([
              { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER.accountId}:root` }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
            ]),
          }),
        );
        await owner.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
        const mine = await eu.send(new GetObjectCommand({ Bucket: 'authz-account-eu', Key: 'public' }));
        assert.equal(await mine.Body!.transformToString(), 'public');
        // Another account's buckets are not affected.
        await other.send(new CreateBucketCommand({ Bucket: 'authz-account-theirs' }));
        await other.send(new DeletePublicAccessBlockCommand({ Bucket: 'authz-account-theirs' }));
        await other.send(new PutBucketPolicyCommand({ Bucket: 'authz-account-theirs', Policy: publicRead('authz-account-theirs') }));
      } finally {
        await control.send(new DeleteAccountPublicAccessBlockCommand({ AccountId }));
      }
      assert.equal((await euAnonymous()).status, 200, 'deleting the settings gives the public grant back');
      await eu.send(new PutBucketPolicyCommand({ Bucket: 'authz-account-eu', Policy: publicRead('authz-account-eu') }));
    });
  });
});

describe('buckets created before the April 2023 defaults', () => {
  test('a bucket record without Block Public Access settings keeps having none; new ones keep theirs across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'meridian-authz-legacy-'));
    try {
      const before = await startTestWorld({ dataDir });
      await before.client('us-east-1').send(new CreateBucketCommand({ Bucket: 'authz-legacy' }));
      await before.client('us-east-1').send(new CreateBucketCommand({ Bucket: 'authz-new' }));
      await before.close();
      // The record as a Meridian before the defaults stored it: no settings.
      const meta = new LmdbMetaStore(join(dataDir, 'regions', 'us-east-1', 'meta'));
      await meta.updateBucket('authz-legacy', { publicAccessBlock: undefined });
      await meta.close();

      const w = await startTestWorld({ dataDir });
      try {
        const s3 = w.client('us-east-1');
        await rejectsWith(s3.send(new GetPublicAccessBlockCommand({ Bucket: 'authz-legacy' })), 'NoSuchPublicAccessBlockConfiguration', 404);
        await s3.send(new PutObjectCommand({ Bucket: 'authz-legacy', Key: 'doc', Body: 'doc' }));
        await s3.send(new PutBucketPolicyCommand({ Bucket: 'authz-legacy', Policy: publicRead('authz-legacy') }));
        assert.equal((await fetch(`${w.endpoint('us-east-1')}/authz-legacy/doc`)).status, 200);

        const kept = await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'authz-new' }));
        assert.deepEqual(kept.PublicAccessBlockConfiguration, ALL_BLOCKED);
        await rejectsWith(s3.send(new PutBucketPolicyCommand({ Bucket: 'authz-new', Policy: publicRead('authz-new') })), 'AccessDenied', 403);
      } finally {
        await w.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * A stock S3 Control client for the global endpoint, addressed as `localhost` (the endpoint
 * rules put the account in front of the host; see mrap-control.test.ts).
 */
function controlClient(w: TestWorld, credentials: { accessKeyId: string; secretAccessKey: string }): S3ControlClient {
  return new S3ControlClient({
    region: 'us-west-2',
    endpoint: w.globalEndpoint.replace('127.0.0.1', 'localhost'),
    credentials,
    requestHandler: localhostResolvingHandler(),
    maxAttempts: 1,
  });
}

async function controlRejects(p: Promise<unknown>, code: string, status: number): Promise<S3ControlServiceException> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof S3ControlServiceException, `expected an S3 Control error, got ${String(err)}`);
    assert.equal(err.name, code, `${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, status, `${err.name}: ${err.message}`);
    return err;
  }
  assert.fail(`expected ${code}`);
}
