/**
 * S3 Object Ownership end to end through the stock SDK: Put/Get/DeleteBucketOwnershipControls,
 * CreateBucket's `x-amz-object-ownership`, the BucketOwnerEnforced default (ACLs disabled: ACL
 * writes refused, ACL reads show only the bucket owner, the bucket owner owns every object),
 * BucketOwnerPreferred, and the errors S3 answers. Expectations are AWS S3's:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html and
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketOwnershipControlsCommand,
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  S3Client,
  type ObjectOwnership,
} from '@aws-sdk/client-s3';
import { canonicalUserId } from '../src/s3/handlers/bucket.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { CREDENTIALS, startTestWorld, type TestWorld } from './helpers/world.ts';

const OTHER = {
  accessKeyId: 'AKIAOWNERSHIPOTHER',
  secretAccessKey: 'ownership-other-secret',
  accountId: '444455556666',
};
const ME = canonicalUserId(CREDENTIALS.accountId);
const THEM = canonicalUserId(OTHER.accountId);
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const NO_ACLS = 'The bucket does not allow ACLs';

describe('Object Ownership', () => {
  let w: TestWorld;
  let s3: S3Client;
  let other: S3Client;

  before(async () => {
    w = await startTestWorld({ keys: [OTHER] });
    s3 = w.client('us-east-1');
    other = w.client('us-east-1', { credentials: OTHER });
  });
  after(() => w.close());

  const ownership = async (Bucket: string) =>
    (await s3.send(new GetBucketOwnershipControlsCommand({ Bucket }))).OwnershipControls?.Rules?.map(
      (r) => r.ObjectOwnership,
    );
  const setOwnership = (Bucket: string, ObjectOwnership: ObjectOwnership) =>
    s3.send(new PutBucketOwnershipControlsCommand({ Bucket, OwnershipControls: { Rules: [{ ObjectOwnership }] } }));
  /** Lets the other account write objects into a bucket by a (non-public) bucket policy. */
  const letOtherWrite = (Bucket: string) =>
    s3.send(
      new PutBucketPolicyCommand({
        Bucket,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${OTHER.accountId}:root` },
              Action: ['s3:PutObject', 's3:GetObject', 's3:PutObjectAcl', 's3:GetObjectAcl'],
              Resource: `arn:aws:s3:::${Bucket}/*`,
            },
          ],
        }),
      }),
    );

  describe('the controls', () => {
    test('a new bucket is BucketOwnerEnforced; Put replaces it; Delete removes it, and Get is then 404 naming the bucket', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'own-default' }));
      assert.deepEqual(await ownership('own-default'), ['BucketOwnerEnforced']);
      await setOwnership('own-default', 'BucketOwnerPreferred');
      assert.deepEqual(await ownership('own-default'), ['BucketOwnerPreferred']);
      await setOwnership('own-default', 'ObjectWriter');
      assert.deepEqual(await ownership('own-default'), ['ObjectWriter']);
      const deleted = await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: 'own-default' }));
      assert.equal(deleted.$metadata.httpStatusCode, 204);
      const err = await rejectsWith(
        s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'own-default' })),
        'OwnershipControlsNotFoundError',
        404,
      );
      assert.equal(err.message, 'The bucket ownership controls were not found');
      assert.equal((err as unknown as { BucketName?: string }).BucketName, 'own-default');
      // Without controls the bucket takes ACLs again (as ObjectWriter); a public one once its
      // Block Public Access (on for a new bucket) is lifted.
      await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'own-default' }));
      await s3.send(new PutBucketAclCommand({ Bucket: 'own-default', ACL: 'authenticated-read' }));
      await s3.send(new PutBucketAclCommand({ Bucket: 'own-default', ACL: 'private' }));
    });

    test('CreateBucket takes x-amz-object-ownership; an unknown value is InvalidArgument', async () => {
      for (const value of ['ObjectWriter', 'BucketOwnerPreferred', 'BucketOwnerEnforced'] as const) {
        const Bucket = `own-create-${value.toLowerCase()}`;
        await s3.send(new CreateBucketCommand({ Bucket, ObjectOwnership: value }));
        assert.deepEqual(await ownership(Bucket), [value]);
      }
      const err = await rejectsWith(
        s3.send(new CreateBucketCommand({ Bucket: 'own-create-bad', ObjectOwnership: 'Everyone' as ObjectOwnership })),
        'InvalidArgument',
        400,
      );
      assert.equal(err.message, 'Invalid x-amz-object-ownership header: Everyone');
      assert.equal((err as unknown as { ArgumentName?: string }).ArgumentName, 'x-amz-object-ownership');
      await rejectsWith(s3.send(new GetBucketAclCommand({ Bucket: 'own-create-bad' })), 'NoSuchBucket', 404);
    });

    test('an unknown ObjectOwnership or more than one rule is MalformedXML, and changes nothing', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'own-malformed' }));
      await rejectsWith(setOwnership('own-malformed', 'Nobody' as ObjectOwnership), 'MalformedXML', 400);
      await rejectsWith(
        s3.send(
          new PutBucketOwnershipControlsCommand({
            Bucket: 'own-malformed',
            OwnershipControls: {
              Rules: [{ ObjectOwnership: 'ObjectWriter' }, { ObjectOwnership: 'BucketOwnerPreferred' }],
            },
          }),
        ),
        'MalformedXML',
        400,
      );
      await rejectsWith(
        s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'own-malformed', OwnershipControls: { Rules: [] } })),
        'MalformedXML',
        400,
      );
      assert.deepEqual(await ownership('own-malformed'), ['BucketOwnerEnforced']);
      await rejectsWith(setOwnership('own-missing', 'ObjectWriter'), 'NoSuchBucket', 404);
      await rejectsWith(s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'own-missing' })), 'NoSuchBucket', 404);
    });

    test('another account can neither read nor change the controls', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'own-guarded' }));
      await rejectsWith(
        other.send(new GetBucketOwnershipControlsCommand({ Bucket: 'own-guarded' })),
        'AccessDenied',
        403,
      );
      await rejectsWith(
        other.send(
          new PutBucketOwnershipControlsCommand({
            Bucket: 'own-guarded',
            OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
          }),
        ),
        'AccessDenied',
        403,
      );
      assert.deepEqual(await ownership('own-guarded'), ['BucketOwnerEnforced']);
    });
  });

  describe('BucketOwnerEnforced: ACLs disabled', () => {
    before(async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'own-enforced' }));
    });

    test('ACL writes are AccessControlListNotSupported, even private ones', async () => {
      await s3.send(new PutObjectCommand({ Bucket: 'own-enforced', Key: 'k', Body: 'x' }));
      for (const ACL of ['public-read', 'private'] as const) {
        const err = await rejectsWith(
          s3.send(new PutBucketAclCommand({ Bucket: 'own-enforced', ACL })),
          'AccessControlListNotSupported',
          400,
        );
        assert.equal(err.message, NO_ACLS);
        await rejectsWith(
          s3.send(new PutObjectAclCommand({ Bucket: 'own-enforced', Key: 'k', ACL })),
          'AccessControlListNotSupported',
          400,
        );
      }
      await rejectsWith(
        s3.send(new PutObjectAclCommand({ Bucket: 'own-enforced', Key: 'k', GrantRead: `uri="${ALL_USERS}"` })),
        'AccessControlListNotSupported',
        400,
      );
    });

    test('uploads may name no ACL or bucket owner full control; any other is refused and stores nothing', async () => {
      await s3.send(
        new PutObjectCommand({ Bucket: 'own-enforced', Key: 'bofc', Body: 'x', ACL: 'bucket-owner-full-control' }),
      );
      await s3.send(new PutObjectCommand({ Bucket: 'own-enforced', Key: 'private', Body: 'x', ACL: 'private' }));
      await s3.send(
        new PutObjectCommand({ Bucket: 'own-enforced', Key: 'granted', Body: 'x', GrantFullControl: `id="${ME}"` }),
      );
      for (const extra of [
        { ACL: 'public-read' as const },
        { ACL: 'authenticated-read' as const },
        { GrantRead: `id="${THEM}"` },
      ]) {
        const err = await rejectsWith(
          s3.send(new PutObjectCommand({ Bucket: 'own-enforced', Key: 'refused', Body: 'x', ...extra })),
          'AccessControlListNotSupported',
          400,
        );
        assert.equal(err.message, NO_ACLS);
      }
      await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'own-enforced', Key: 'refused' })), 'NoSuchKey', 404);
      await rejectsWith(
        s3.send(new CreateMultipartUploadCommand({ Bucket: 'own-enforced', Key: 'refused', ACL: 'public-read' })),
        'AccessControlListNotSupported',
        400,
      );
      const ok = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: 'own-enforced', Key: 'mpu', ACL: 'bucket-owner-full-control' }),
      );
      await s3.send(new AbortMultipartUploadCommand({ Bucket: 'own-enforced', Key: 'mpu', UploadId: ok.UploadId }));
      await rejectsWith(
        s3.send(
          new CopyObjectCommand({
            Bucket: 'own-enforced',
            Key: 'refused',
            CopySource: 'own-enforced/bofc',
            ACL: 'public-read',
          }),
        ),
        'AccessControlListNotSupported',
        400,
      );
      await s3.send(
        new CopyObjectCommand({
          Bucket: 'own-enforced',
          Key: 'copied',
          CopySource: 'own-enforced/bofc',
          ACL: 'bucket-owner-full-control',
        }),
      );
    });

    test('ACL reads show the bucket owner with FULL_CONTROL, and an object another account wrote is the bucket owner’s', async () => {
      await letOtherWrite('own-enforced');
      await other.send(
        new PutObjectCommand({
          Bucket: 'own-enforced',
          Key: 'theirs',
          Body: 'from them',
          ACL: 'bucket-owner-full-control',
        }),
      );
      const acl = await s3.send(new GetObjectAclCommand({ Bucket: 'own-enforced', Key: 'theirs' }));
      assert.equal(acl.Owner?.ID, ME);
      assert.deepEqual(
        acl.Grants?.map((g) => [g.Grantee?.ID, g.Permission]),
        [[ME, 'FULL_CONTROL']],
      );
      const bucketAcl = await s3.send(new GetBucketAclCommand({ Bucket: 'own-enforced' }));
      assert.deepEqual(
        bucketAcl.Grants?.map((g) => [g.Grantee?.ID, g.Permission]),
        [[ME, 'FULL_CONTROL']],
      );
      // The writer's own ACL grants it nothing here: only the policy does.
      const got = await other.send(new GetObjectCommand({ Bucket: 'own-enforced', Key: 'theirs' }));
      assert.equal(await got.Body!.transformToString(), 'from them');
      // From another account, `private` would keep the bucket owner's full control away.
      for (const ACL of ['public-read', 'private'] as const) {
        await rejectsWith(
          other.send(new PutObjectCommand({ Bucket: 'own-enforced', Key: 'theirs-refused', Body: 'x', ACL })),
          'AccessControlListNotSupported',
          400,
        );
      }
    });

    test('ACLs cannot be disabled while the bucket ACL grants others; once it is private they can, and stored ACLs come back when re-enabled', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'own-switch', ObjectOwnership: 'ObjectWriter' }));
      await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'own-switch' }));
      await s3.send(new PutBucketAclCommand({ Bucket: 'own-switch', ACL: 'public-read' }));
      const err = await rejectsWith(
        setOwnership('own-switch', 'BucketOwnerEnforced'),
        'InvalidBucketAclWithObjectOwnership',
        400,
      );
      assert.equal(err.message, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
      assert.deepEqual(await ownership('own-switch'), ['ObjectWriter']);

      await letOtherWrite('own-switch');
      await other.send(
        new PutObjectCommand({ Bucket: 'own-switch', Key: 'written-by-them', Body: 'x', ACL: 'public-read' }),
      );
      // The writer owns it; its ACL grants the bucket owner nothing (not even READ_ACP).
      assert.equal(
        (await other.send(new GetObjectAclCommand({ Bucket: 'own-switch', Key: 'written-by-them' }))).Owner?.ID,
        THEM,
      );
      await rejectsWith(s3.send(new GetObjectAclCommand({ Bucket: 'own-switch', Key: 'written-by-them' })), 'AccessDenied', 403);

      await s3.send(new PutBucketAclCommand({ Bucket: 'own-switch', ACL: 'private' }));
      await setOwnership('own-switch', 'BucketOwnerEnforced');
      const disabled = await s3.send(new GetObjectAclCommand({ Bucket: 'own-switch', Key: 'written-by-them' }));
      assert.equal(disabled.Owner?.ID, ME, 'the bucket owner owns every object while ACLs are disabled');
      assert.equal(disabled.Grants?.length, 1);

      await setOwnership('own-switch', 'ObjectWriter');
      const restored = await other.send(new GetObjectAclCommand({ Bucket: 'own-switch', Key: 'written-by-them' }));
      assert.equal(restored.Owner?.ID, THEM, 'the writer owns it again');
      assert.ok(
        restored.Grants?.some((g) => g.Grantee?.URI === ALL_USERS && g.Permission === 'READ'),
        'its ACL is back',
      );
    });

    test('CreateBucket refuses an ACL that grants others under BucketOwnerEnforced, takes private', async () => {
      for (const ACL of ['public-read', 'authenticated-read'] as const) {
        const err = await rejectsWith(
          s3.send(new CreateBucketCommand({ Bucket: 'own-born-public', ACL })),
          'InvalidBucketAclWithObjectOwnership',
          400,
        );
        assert.equal(err.message, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
      }
      await rejectsWith(
        s3.send(
          new CreateBucketCommand({
            Bucket: 'own-born-public',
            ObjectOwnership: 'BucketOwnerEnforced',
            GrantRead: `id="${THEM}"`,
          }),
        ),
        'InvalidBucketAclWithObjectOwnership',
        400,
      );
      await rejectsWith(s3.send(new GetBucketAclCommand({ Bucket: 'own-born-public' })), 'NoSuchBucket', 404);
      await s3.send(new CreateBucketCommand({ Bucket: 'own-born-private', ACL: 'private' }));
      assert.deepEqual(await ownership('own-born-private'), ['BucketOwnerEnforced']);
    });
  });

  describe('BucketOwnerPreferred and ObjectWriter', () => {
    test('under BucketOwnerPreferred an object written with bucket-owner-full-control is the bucket owner’s; other writes stay the writer’s', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'own-preferred', ObjectOwnership: 'BucketOwnerPreferred' }));
      await letOtherWrite('own-preferred');
      await other.send(
        new PutObjectCommand({
          Bucket: 'own-preferred',
          Key: 'handed-over',
          Body: 'x',
          ACL: 'bucket-owner-full-control',
        }),
      );
      await other.send(new PutObjectCommand({ Bucket: 'own-preferred', Key: 'kept', Body: 'x' }));
      const handed = await s3.send(new GetObjectAclCommand({ Bucket: 'own-preferred', Key: 'handed-over' }));
      assert.equal(handed.Owner?.ID, ME);
      assert.deepEqual(
        handed.Grants?.map((g) => [g.Grantee?.ID, g.Permission]),
        [[ME, 'FULL_CONTROL']],
        'the writer no longer has full control',
      );
      const kept = await other.send(new GetObjectAclCommand({ Bucket: 'own-preferred', Key: 'kept' }));
      assert.equal(kept.Owner?.ID, THEM);
    });

    test('under ObjectWriter the writer owns its object, and bucket-owner-full-control adds the bucket owner', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'own-writer', ObjectOwnership: 'ObjectWriter' }));
      await letOtherWrite('own-writer');
      await other.send(
        new PutObjectCommand({ Bucket: 'own-writer', Key: 'shared', Body: 'x', ACL: 'bucket-owner-full-control' }),
      );
      const acl = await other.send(new GetObjectAclCommand({ Bucket: 'own-writer', Key: 'shared' }));
      assert.equal(acl.Owner?.ID, THEM);
      assert.deepEqual(
        new Set(acl.Grants?.map((g) => `${g.Grantee?.ID} ${g.Permission}`)),
        new Set([`${THEM} FULL_CONTROL`, `${ME} FULL_CONTROL`]),
      );
    });

    test('an object another account owns is out of the bucket owner’s and the bucket policy’s reach until its ACL grants it', async () => {
      const Bucket = 'own-foreign';
      await s3.send(new CreateBucketCommand({ Bucket, ObjectOwnership: 'ObjectWriter' }));
      await s3.send(new DeletePublicAccessBlockCommand({ Bucket }));
      await s3.send(
        new PutBucketPolicyCommand({
          Bucket,
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER.accountId}:root` }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${Bucket}/*` },
              { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${Bucket}/*` },
            ],
          }),
        }),
      );
      await s3.send(new PutObjectCommand({ Bucket, Key: 'mine', Body: 'the owner’s' }));
      await other.send(new PutObjectCommand({ Bucket, Key: 'theirs', Body: 'the writer’s' }));
      await other.send(new PutObjectCommand({ Bucket, Key: 'shown', Body: 'shown', ACL: 'bucket-owner-read' }));
      const anonymous = (key: string) => fetch(`${w.endpoint('us-east-1')}/${Bucket}/${key}`);

      // The public-read policy reaches what the bucket owner owns, not what the writer owns.
      assert.equal((await anonymous('mine')).status, 200);
      assert.equal((await anonymous('theirs')).status, 403);
      // The bucket owner may not read it either, nor its ACL; the writer may.
      await rejectsWith(s3.send(new GetObjectCommand({ Bucket, Key: 'theirs' })), 'AccessDenied', 403);
      await rejectsWith(s3.send(new GetObjectAclCommand({ Bucket, Key: 'theirs' })), 'AccessDenied', 403);
      const got = await other.send(new GetObjectCommand({ Bucket, Key: 'theirs' }));
      assert.equal(await got.Body?.transformToString(), 'the writer’s');
      // A grant in the object's ACL lets the bucket owner in.
      const shown = await s3.send(new GetObjectCommand({ Bucket, Key: 'shown' }));
      assert.equal(await shown.Body?.transformToString(), 'shown');
      // Deleting stays the bucket owner's right.
      await s3.send(new DeleteObjectCommand({ Bucket, Key: 'theirs' }));
      await rejectsWith(other.send(new GetObjectCommand({ Bucket, Key: 'theirs' })), 'NoSuchKey', 404);
    });
  });
});
