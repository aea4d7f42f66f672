/**
 * Bucket and object ACLs end to end through the stock SDK: every canned ACL, grant headers,
 * the AccessControlPolicy document both ways, ACLs of older versions, and S3's errors for
 * ACLs it refuses. New buckets have ACLs disabled (Object Ownership BucketOwnerEnforced, as
 * in S3 since April 2023), so these buckets are created with ObjectWriter, where ACLs work,
 * and have their Block Public Access (all on for a new bucket, as in S3 since April 2023)
 * removed, as a user who wants public grants does; what a bucket without ACLs does is in
 * s3-ownership.test.ts, how ACLs grant access in s3-authz.test.ts and s3-authz-matrix.test.ts.
 * Expectations are AWS S3's (see .tmp/s3-facts.md §7).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  PutBucketAclCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type Grant,
  type ObjectCannedACL,
  type BucketCannedACL,
  type AccessControlPolicy,
} from '@aws-sdk/client-s3';
import { canonicalUserId } from '../src/s3/handlers/bucket.ts';
import { assertS3Error, rawRequest } from './helpers/raw-request.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { CREDENTIALS, startTestWorld, type TestWorld } from './helpers/world.ts';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
/** Another account's canonical id. */
const OTHER = '0123456789abcdef'.repeat(4);
const ME = canonicalUserId(CREDENTIALS.accountId);

function field(err: S3ServiceException, name: string): string | undefined {
  return (err as unknown as Record<string, string | undefined>)[name];
}

/** A grant as the test compares it: type, who, permission. */
type Simple = [type: 'CanonicalUser' | 'Group', who: string, permission: string];

function simple(grants: Grant[] | undefined): Simple[] {
  return (grants ?? []).map((g): Simple => {
    const type = g.Grantee?.Type;
    assert.ok(type === 'CanonicalUser' || type === 'Group', `grantee type ${String(type)}`);
    return [type, (type === 'Group' ? g.Grantee?.URI : g.Grantee?.ID) ?? '', g.Permission ?? ''];
  });
}

const owner: Simple = ['CanonicalUser', ME, 'FULL_CONTROL'];
const CANNED: Record<string, Simple[]> = {
  private: [owner],
  'public-read': [owner, ['Group', ALL_USERS, 'READ']],
  'public-read-write': [owner, ['Group', ALL_USERS, 'READ'], ['Group', ALL_USERS, 'WRITE']],
  'authenticated-read': [owner, ['Group', AUTHENTICATED_USERS, 'READ']],
  'aws-exec-read': [owner],
  // The object and its bucket have the same owner here, so these add no second grant.
  'bucket-owner-read': [owner],
  'bucket-owner-full-control': [owner],
  'log-delivery-write': [owner, ['Group', LOG_DELIVERY, 'WRITE'], ['Group', LOG_DELIVERY, 'READ_ACP']],
};

describe('ACLs', () => {
  let w: TestWorld;
  let s3: S3Client;
  let endpoint: string;

  before(async () => {
    w = await startTestWorld();
    s3 = w.client('us-east-1');
    endpoint = w.endpoint('us-east-1');
    await createAclBucket('acl');
  });
  after(() => w.close());

  /** A bucket with ACLs enabled and public grants allowed. */
  async function createAclBucket(bucket: string): Promise<void> {
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectOwnership: 'ObjectWriter' }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  }

  async function bucketAcl(bucket: string): Promise<Simple[]> {
    return simple((await s3.send(new GetBucketAclCommand({ Bucket: bucket }))).Grants);
  }
  async function objectAcl(bucket: string, key: string, versionId?: string): Promise<Simple[]> {
    return simple((await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).Grants);
  }
  async function put(key: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}, bucket = 'acl') {
    return s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'hello', ...extra }));
  }

  describe('defaults and the document', () => {
    test('a new bucket and a new object are private: the owner, by canonical id, has FULL_CONTROL', async () => {
      const out = await s3.send(new GetBucketAclCommand({ Bucket: 'acl' }));
      assert.equal(out.Owner?.ID, ME);
      assert.match(out.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
      assert.deepEqual(simple(out.Grants), [owner]);

      await put('fresh');
      const obj = await s3.send(new GetObjectAclCommand({ Bucket: 'acl', Key: 'fresh' }));
      assert.equal(obj.Owner?.ID, ME);
      assert.deepEqual(simple(obj.Grants), [owner]);
    });

    test('the document names each grantee with xsi:type', async () => {
      await s3.send(new PutBucketAclCommand({ Bucket: 'acl', ACL: 'public-read' }));
      const res = await rawRequest(endpoint, { method: 'GET', path: '/acl', query: { acl: '' } });
      assert.equal(res.status, 200, res.text);
      assert.match(res.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<AccessControlPolicy xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/">/);
      assert.ok(res.text.includes(`<Owner><ID>${ME}</ID>`), res.text);
      assert.ok(res.text.includes(`<Grantee xmlns:xsi="${XSI}" xsi:type="CanonicalUser"><ID>${ME}</ID>`), res.text);
      assert.ok(
        res.text.includes(`<Grantee xmlns:xsi="${XSI}" xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission>`),
        res.text,
      );
      await s3.send(new PutBucketAclCommand({ Bucket: 'acl', ACL: 'private' }));
    });

    test('missing buckets, keys and delete markers', async () => {
      await rejectsWith(s3.send(new GetBucketAclCommand({ Bucket: 'no-such-bucket' })), 'NoSuchBucket', 404);
      await rejectsWith(s3.send(new PutBucketAclCommand({ Bucket: 'no-such-bucket', ACL: 'private' })), 'NoSuchBucket', 404);
      await rejectsWith(s3.send(new GetObjectAclCommand({ Bucket: 'acl', Key: 'missing' })), 'NoSuchKey', 404);
      await rejectsWith(s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'missing', ACL: 'private' })), 'NoSuchKey', 404);

      await createAclBucket('acl-marker');
      await s3.send(new PutBucketVersioningCommand({ Bucket: 'acl-marker', VersioningConfiguration: { Status: 'Enabled' } }));
      await put('k', {}, 'acl-marker');
      const marker = (await s3.send(new DeleteObjectCommand({ Bucket: 'acl-marker', Key: 'k' }))).VersionId;
      await rejectsWith(s3.send(new GetObjectAclCommand({ Bucket: 'acl-marker', Key: 'k' })), 'NoSuchKey', 404);
      await rejectsWith(s3.send(new PutObjectAclCommand({ Bucket: 'acl-marker', Key: 'k', ACL: 'public-read' })), 'NoSuchKey', 404);
      await rejectsWith(
        s3.send(new GetObjectAclCommand({ Bucket: 'acl-marker', Key: 'k', VersionId: marker })),
        'MethodNotAllowed',
        405,
      );
      await rejectsWith(
        s3.send(new PutObjectAclCommand({ Bucket: 'acl-marker', Key: 'k', VersionId: marker, ACL: 'public-read' })),
        'MethodNotAllowed',
        405,
      );
    });
  });

  describe('canned ACLs', () => {
    for (const [name, grants] of Object.entries(CANNED)) {
      test(`${name} on a bucket and on an object`, async () => {
        await s3.send(new PutBucketAclCommand({ Bucket: 'acl', ACL: name as BucketCannedACL }));
        assert.deepEqual(await bucketAcl('acl'), grants);
        await put(`canned/${name}`);
        await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: `canned/${name}`, ACL: name as ObjectCannedACL }));
        assert.deepEqual(await objectAcl('acl', `canned/${name}`), grants);
      });
    }

    test('CreateBucket takes an ACL, but not a public one: the new bucket blocks public ACLs', async () => {
      await s3.send(
        new CreateBucketCommand({ Bucket: 'born-shared', GrantFullControl: `id="${ME}"`, GrantRead: `id="${OTHER}"`, ObjectOwnership: 'ObjectWriter' }),
      );
      assert.deepEqual(await bucketAcl('born-shared'), [owner, ['CanonicalUser', OTHER, 'READ']]);
      for (const ACL of ['public-read', 'public-read-write', 'authenticated-read'] as const) {
        const err = await rejectsWith(
          s3.send(new CreateBucketCommand({ Bucket: 'born-public', ACL, ObjectOwnership: 'ObjectWriter' })),
          'InvalidBucketAclWithBlockPublicAccessError',
          400,
        );
        assert.equal(err.message, 'Bucket cannot have public ACLs set with BlockPublicAccess enabled');
      }
      await rejectsWith(
        s3.send(new CreateBucketCommand({ Bucket: 'born-public', GrantRead: `uri="${ALL_USERS}"`, ObjectOwnership: 'ObjectWriter' })),
        'InvalidBucketAclWithBlockPublicAccessError',
        400,
      );
      await rejectsWith(s3.send(new GetBucketAclCommand({ Bucket: 'born-public' })), 'NoSuchBucket', 404);
      // What S3 users do: create it, lift the block, then make it public.
      await createAclBucket('born-public');
      await s3.send(new PutBucketAclCommand({ Bucket: 'born-public', ACL: 'public-read' }));
      assert.deepEqual(await bucketAcl('born-public'), CANNED['public-read']);
    });

    test('an ACL replaces the previous one whole; private takes every grant back', async () => {
      await put('replaced');
      await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'replaced', ACL: 'public-read-write' }));
      await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'replaced', ACL: 'authenticated-read' }));
      assert.deepEqual(await objectAcl('acl', 'replaced'), CANNED['authenticated-read']);
      await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'replaced', ACL: 'private' }));
      assert.deepEqual(await objectAcl('acl', 'replaced'), [owner]);
    });

    test('an unknown canned ACL is InvalidArgument naming x-amz-acl, and changes nothing', async () => {
      await put('unknown-canned');
      await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'unknown-canned', ACL: 'public-read' }));
      for (const bad of ['public', 'Public-Read', 'everyone']) {
        const err = await rejectsWith(
          s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'unknown-canned', ACL: bad as ObjectCannedACL })),
          'InvalidArgument',
          400,
        );
        assert.equal(field(err, 'ArgumentName'), 'x-amz-acl');
        assert.equal(field(err, 'ArgumentValue'), bad);
        await rejectsWith(s3.send(new PutBucketAclCommand({ Bucket: 'acl', ACL: bad as BucketCannedACL })), 'InvalidArgument', 400);
      }
      assert.deepEqual(await objectAcl('acl', 'unknown-canned'), CANNED['public-read']);
    });
  });

  describe('grant headers', () => {
    test('every x-amz-grant-* header becomes grants, without an implicit owner grant', async () => {
      await put('granted');
      await s3.send(
        new PutObjectAclCommand({
          Bucket: 'acl',
          Key: 'granted',
          GrantRead: `uri="${ALL_USERS}", id="${OTHER}"`,
          GrantReadACP: `uri=${AUTHENTICATED_USERS}`,
          GrantWriteACP: `id="${OTHER}"`,
          GrantFullControl: `id="${ME}"`,
        }),
      );
      const grants = await objectAcl('acl', 'granted');
      const expected: Simple[] = [
        ['CanonicalUser', ME, 'FULL_CONTROL'],
        ['Group', ALL_USERS, 'READ'],
        ['CanonicalUser', OTHER, 'READ'],
        ['Group', AUTHENTICATED_USERS, 'READ_ACP'],
        ['CanonicalUser', OTHER, 'WRITE_ACP'],
      ];
      assert.deepEqual(new Set(grants.map((g) => g.join(' '))), new Set(expected.map((g) => g.join(' '))));
      assert.equal(grants.length, expected.length);

      await s3.send(new PutBucketAclCommand({ Bucket: 'acl', GrantWrite: `uri="${LOG_DELIVERY}"` }));
      assert.deepEqual(await bucketAcl('acl'), [['Group', LOG_DELIVERY, 'WRITE']]);
      await s3.send(new PutBucketAclCommand({ Bucket: 'acl', ACL: 'private' }));
    });

    test('a canned ACL with grant headers is InvalidRequest, and changes nothing', async () => {
      await put('both');
      const err = await rejectsWith(
        s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'both', ACL: 'public-read', GrantRead: `id="${OTHER}"` })),
        'InvalidRequest',
        400,
      );
      assert.equal(err.message, 'Specifying both Canned ACLs and Header Grants is not allowed');
      await rejectsWith(
        s3.send(new PutBucketAclCommand({ Bucket: 'acl', ACL: 'private', GrantFullControl: `id="${OTHER}"` })),
        'InvalidRequest',
        400,
      );
      assert.deepEqual(await objectAcl('acl', 'both'), [owner]);
      assert.deepEqual(await bucketAcl('acl'), [owner]);
    });

    test('bad grantees are InvalidArgument naming what was wrong', async () => {
      await put('bad-grantee');
      const cases: [string, string, string, string][] = [
        ['id="1234"', 'Invalid id', 'id', '1234'],
        ['uri="http://acs.amazonaws.com/groups/global/Nobody"', 'Invalid group uri', 'uri', 'http://acs.amazonaws.com/groups/global/Nobody'],
        ['account="me"', 'Argument format not recognized', 'x-amz-grant-read', 'account="me"'],
      ];
      for (const [GrantRead, message, name, value] of cases) {
        const err = await rejectsWith(s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'bad-grantee', GrantRead })), 'InvalidArgument', 400);
        assert.equal(err.message, message);
        assert.equal(field(err, 'ArgumentName'), name);
        assert.equal(field(err, 'ArgumentValue'), value);
      }
      await rejectsWith(
        s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'bad-grantee', GrantRead: 'emailAddress="someone@example.com"' })),
        'UnresolvableGrantByEmailAddress',
        400,
      );
      assert.deepEqual(await objectAcl('acl', 'bad-grantee'), [owner]);
    });
  });

  describe('the AccessControlPolicy body', () => {
    test('an ACL put as a document comes back the same, on a bucket and on an object', async () => {
      const policy: AccessControlPolicy = {
        Owner: { ID: ME },
        Grants: [
          { Grantee: { Type: 'CanonicalUser', ID: ME }, Permission: 'FULL_CONTROL' },
          { Grantee: { Type: 'CanonicalUser', ID: OTHER }, Permission: 'WRITE_ACP' },
          { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' },
          { Grantee: { Type: 'Group', URI: LOG_DELIVERY }, Permission: 'WRITE' },
        ],
      };
      const expected: Simple[] = [owner, ['CanonicalUser', OTHER, 'WRITE_ACP'], ['Group', ALL_USERS, 'READ'], ['Group', LOG_DELIVERY, 'WRITE']];
      await createAclBucket('acl-doc');
      await s3.send(new PutBucketAclCommand({ Bucket: 'acl-doc', AccessControlPolicy: policy }));
      assert.deepEqual(await bucketAcl('acl-doc'), expected);
      await put('doc', {}, 'acl-doc');
      await s3.send(new PutObjectAclCommand({ Bucket: 'acl-doc', Key: 'doc', AccessControlPolicy: policy }));
      assert.deepEqual(await objectAcl('acl-doc', 'doc'), expected);
    });

    test('what GetObjectAcl returns can be put back as it is', async () => {
      await put('echo');
      await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'echo', ACL: 'public-read' }));
      const got = await s3.send(new GetObjectAclCommand({ Bucket: 'acl', Key: 'echo' }));
      const raw = await rawRequest(endpoint, { method: 'GET', path: '/acl/echo', query: { acl: '' } });
      await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'echo', ACL: 'private' }));
      await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'echo', AccessControlPolicy: { Owner: got.Owner, Grants: got.Grants } }));
      assert.deepEqual(await objectAcl('acl', 'echo'), CANNED['public-read']);

      // The raw document, byte for byte, too.
      await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'echo', ACL: 'private' }));
      const res = await rawRequest(endpoint, { method: 'PUT', path: '/acl/echo', query: { acl: '' }, body: raw.text });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(await objectAcl('acl', 'echo'), CANNED['public-read']);
    });

    test('documents S3 refuses, with its error, and the ACL unchanged', async () => {
      await put('strict');
      await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'strict', ACL: 'public-read' }));
      const send = (body: string, headers: Record<string, string> = {}) =>
        rawRequest(endpoint, { method: 'PUT', path: '/acl/strict', query: { acl: '' }, headers, body });
      const grant = (type: string, inner: string, permission = 'READ') =>
        `<Grant><Grantee xmlns:xsi="${XSI}" xsi:type="${type}">${inner}</Grantee><Permission>${permission}</Permission></Grant>`;
      const doc = (grants: string, ownerEl = `<Owner><ID>${ME}</ID></Owner>`) =>
        `<AccessControlPolicy>${ownerEl}<AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;

      const malformed = [
        'not xml',
        '<AccessControlPolicy><Owner>',
        '<Policy/>',
        `<AccessControlPolicy><Owner><ID>${ME}</ID></Owner></AccessControlPolicy>`,
        doc(grant('Group', `<URI>${ALL_USERS}</URI>`, 'DELETE')),
        doc(grant('Account', `<ID>${OTHER}</ID>`)),
        doc(`<Grant><Permission>READ</Permission></Grant>`),
      ];
      for (const body of malformed) {
        const e = assertS3Error(await send(body), 'MalformedACLError', 400);
        assert.equal(e.message, 'The XML you provided was not well-formed or did not validate against our published schema');
      }
      const badId = assertS3Error(await send(doc(grant('CanonicalUser', '<ID>42</ID>'))), 'InvalidArgument', 400);
      assert.deepEqual([badId.message, badId.fields.ArgumentName, badId.fields.ArgumentValue], ['Invalid id', 'CanonicalUser/ID', '42']);
      const badUri = assertS3Error(await send(doc(grant('Group', '<URI>http://example.com/</URI>'))), 'InvalidArgument', 400);
      assert.deepEqual([badUri.message, badUri.fields.ArgumentName], ['Invalid group uri', 'Group/URI']);

      const both = assertS3Error(await send(doc(''), { 'x-amz-acl': 'private' }), 'UnexpectedContent', 400);
      assert.equal(both.message, 'This request does not support content');
      const neither = assertS3Error(await send(''), 'MissingSecurityHeader', 400);
      assert.equal(neither.fields.MissingHeaderName, 'x-amz-acl');

      assert.deepEqual(await objectAcl('acl', 'strict'), CANNED['public-read']);
    });

    test('a PutObjectAcl with no ACL at all, through the SDK, is MissingSecurityHeader', async () => {
      await put('nothing');
      await rejectsWith(s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'nothing' })), 'MissingSecurityHeader', 400);
      await rejectsWith(s3.send(new PutBucketAclCommand({ Bucket: 'acl' })), 'MissingSecurityHeader', 400);
    });
  });

  describe('versions', () => {
    test('each version has its own ACL; PutObjectAcl and GetObjectAcl take a version id', async () => {
      await createAclBucket('acl-versions');
      await s3.send(new PutBucketVersioningCommand({ Bucket: 'acl-versions', VersioningConfiguration: { Status: 'Enabled' } }));
      const v1 = (await put('k', {}, 'acl-versions')).VersionId;
      const v2 = (await put('k', {}, 'acl-versions')).VersionId;
      assert.ok(v1 && v2);
      await s3.send(new PutObjectAclCommand({ Bucket: 'acl-versions', Key: 'k', VersionId: v1, ACL: 'public-read' }));
      assert.deepEqual(await objectAcl('acl-versions', 'k', v1), CANNED['public-read']);
      assert.deepEqual(await objectAcl('acl-versions', 'k', v2), [owner]);
      assert.deepEqual(await objectAcl('acl-versions', 'k'), [owner], 'the current version kept its ACL');

      await s3.send(new PutObjectAclCommand({ Bucket: 'acl-versions', Key: 'k', ACL: 'authenticated-read' }));
      assert.deepEqual(await objectAcl('acl-versions', 'k', v2), CANNED['authenticated-read']);
      assert.deepEqual(await objectAcl('acl-versions', 'k', v1), CANNED['public-read']);
      await rejectsWith(
        s3.send(new GetObjectAclCommand({ Bucket: 'acl-versions', Key: 'k', VersionId: 'B'.repeat(32) })),
        'NoSuchVersion',
        404,
      );
    });
  });

  // These go through PutObject and CreateMultipartUpload, which read `x-amz-acl` and the
  // grant headers with aclFromHeaders.
  describe('ACL headers of uploads', () => {
    test('PutObject stores a canned ACL or grants', async () => {
      await put('upload-canned', { ACL: 'public-read' });
      assert.deepEqual(await objectAcl('acl', 'upload-canned'), CANNED['public-read']);
      await put('upload-granted', { GrantRead: `uri="${ALL_USERS}"`, GrantFullControl: `id="${ME}"` });
      const grants = await objectAcl('acl', 'upload-granted');
      assert.deepEqual(new Set(grants.map((g) => g.join(' '))), new Set([owner, ['Group', ALL_USERS, 'READ']].map((g) => g.join(' '))));
    });

    test('PutObject refuses bad ACL headers and stores nothing', async () => {
      await rejectsWith(put('upload-bad', { ACL: 'everyone' as ObjectCannedACL }), 'InvalidArgument', 400);
      await rejectsWith(put('upload-bad', { ACL: 'public-read', GrantRead: `id="${OTHER}"` }), 'InvalidRequest', 400);
      await rejectsWith(put('upload-bad', { GrantRead: 'id="nope"' }), 'InvalidArgument', 400);
      await rejectsWith(s3.send(new GetObjectAclCommand({ Bucket: 'acl', Key: 'upload-bad' })), 'NoSuchKey', 404);
    });

    test('CreateMultipartUpload refuses bad ACL headers', async () => {
      await rejectsWith(
        s3.send(new CreateMultipartUploadCommand({ Bucket: 'acl', Key: 'mpu-bad', ACL: 'everyone' as ObjectCannedACL })),
        'InvalidArgument',
        400,
      );
      const ok = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'acl', Key: 'mpu-ok', ACL: 'public-read' }));
      await s3.send(new AbortMultipartUploadCommand({ Bucket: 'acl', Key: 'mpu-ok', UploadId: ok.UploadId }));
    });
  });
});
