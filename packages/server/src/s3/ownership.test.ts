import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { S3Error } from '../core/errors.ts';
import type { BucketRecord, ObjectOwnership, PublicAccessBlock } from '../storage/types.ts';
import { ALL_USERS, type AclSource } from './acl.ts';
import {
  ACCESS_POINT_BLOCK_HEADER,
  authorize,
  decodeAccessPointBlock,
  effectivePublicAccessBlock,
  encodeAccessPointBlock,
  type AuthorizeInput,
} from './authorize.ts';
import { grantsOnlyTo, objectWrite } from './ownership.ts';

const id = (account: string) => account.padStart(64, '0');
const OWNER = '111122223333';
const WRITER = '444455556666';
const OFF: PublicAccessBlock = {
  blockPublicAcls: false,
  ignorePublicAcls: false,
  blockPublicPolicy: false,
  restrictPublicBuckets: false,
};
const ON: PublicAccessBlock = {
  blockPublicAcls: true,
  ignorePublicAcls: true,
  blockPublicPolicy: true,
  restrictPublicBuckets: true,
};

function bucket(objectOwnership?: ObjectOwnership, extra: Partial<BucketRecord> = {}): BucketRecord {
  return {
    name: 'b',
    region: 'us-east-1',
    owner: OWNER,
    createdAt: 0,
    versioning: 'Unversioned',
    objectOwnership,
    ...extra,
  };
}
const canned = (name: string): AclSource => ({ kind: 'canned', name });
const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof S3Error);
    return err.code;
  }
};

describe('objectWrite: owner and ACL of what a request writes', () => {
  const write = (b: BucketRecord, acl?: AclSource, block = OFF) =>
    objectWrite({ bucket: b, writer: WRITER, acl, block, canonicalId: id });

  test('BucketOwnerEnforced: the bucket owner owns it, no ACL is stored', () => {
    assert.deepEqual(write(bucket('BucketOwnerEnforced')), { owner: OWNER });
    assert.deepEqual(write(bucket('BucketOwnerEnforced'), canned('bucket-owner-full-control')), { owner: OWNER });
    const grants: AclSource = {
      kind: 'grants',
      grants: [{ grantee: { type: 'CanonicalUser', id: id(OWNER) }, permission: 'FULL_CONTROL' }],
    };
    assert.deepEqual(write(bucket('BucketOwnerEnforced'), grants), { owner: OWNER });
  });

  test('BucketOwnerEnforced refuses any ACL but bucket owner full control', () => {
    // From another account, `private` and `bucket-owner-read` would keep the bucket owner's
    // full control away: refused too.
    for (const name of [
      'public-read',
      'public-read-write',
      'authenticated-read',
      'log-delivery-write',
      'aws-exec-read',
      'bucket-owner-read',
      'private',
    ]) {
      assert.equal(
        code(() => write(bucket('BucketOwnerEnforced'), canned(name))),
        'AccessControlListNotSupported',
        name,
      );
    }
    const grant = (account: string, permission: 'READ' | 'FULL_CONTROL') => ({
      grantee: { type: 'CanonicalUser' as const, id: id(account) },
      permission,
    });
    const grants = (...g: ReturnType<typeof grant>[]): AclSource => ({ kind: 'grants', grants: g });
    assert.equal(
      code(() => write(bucket('BucketOwnerEnforced'), grants(grant(WRITER, 'READ')))),
      'AccessControlListNotSupported',
    );
    assert.equal(
      code(() => write(bucket('BucketOwnerEnforced'), grants(grant(OWNER, 'READ')))),
      'AccessControlListNotSupported',
    );
    // The same as bucket-owner-full-control, written out as grants.
    assert.equal(
      code(() =>
        write(bucket('BucketOwnerEnforced'), grants(grant(WRITER, 'FULL_CONTROL'), grant(OWNER, 'FULL_CONTROL'))),
      ),
      undefined,
    );
    // The bucket owner's own `private` is its full control.
    const own = objectWrite({
      bucket: bucket('BucketOwnerEnforced'),
      writer: OWNER,
      acl: canned('private'),
      block: OFF,
      canonicalId: id,
    });
    assert.deepEqual(own, { owner: OWNER });
  });

  test('BucketOwnerPreferred: bucket-owner-full-control hands the object to the bucket owner alone', () => {
    assert.deepEqual(write(bucket('BucketOwnerPreferred'), canned('bucket-owner-full-control')), {
      owner: OWNER,
      acl: [{ grantee: { type: 'CanonicalUser', id: id(OWNER) }, permission: 'FULL_CONTROL' }],
    });
    assert.equal(write(bucket('BucketOwnerPreferred')).owner, WRITER);
    assert.equal(write(bucket('BucketOwnerPreferred'), canned('public-read')).owner, WRITER);
  });

  test('ObjectWriter, and no controls at all: the writer owns it, with the ACL it asked for', () => {
    for (const b of [bucket('ObjectWriter'), bucket(undefined)]) {
      const out = write(b, canned('bucket-owner-full-control'));
      assert.equal(out.owner, WRITER);
      assert.deepEqual(
        new Set(out.acl?.map((g) => (g.grantee.type === 'CanonicalUser' ? g.grantee.id : ''))),
        new Set([id(WRITER), id(OWNER)]),
      );
      assert.deepEqual(write(b), { owner: WRITER, acl: undefined });
    }
  });

  test('BlockPublicAcls refuses a public ACL with AccessDenied, and nothing else', () => {
    const block = { ...OFF, blockPublicAcls: true };
    assert.equal(
      code(() => write(bucket('ObjectWriter'), canned('public-read'), block)),
      'AccessDenied',
    );
    assert.equal(
      code(() => write(bucket('ObjectWriter'), canned('authenticated-read'), block)),
      'AccessDenied',
    );
    assert.equal(
      code(() => write(bucket('ObjectWriter'), canned('log-delivery-write'), block)),
      undefined,
    );
    assert.equal(
      code(() => write(bucket('ObjectWriter'), canned('public-read'), { ...ON, blockPublicAcls: false })),
      undefined,
    );
  });

  test('grantsOnlyTo: every grant names the owner', () => {
    assert.equal(grantsOnlyTo([], id(OWNER)), true);
    assert.equal(
      grantsOnlyTo([{ grantee: { type: 'CanonicalUser', id: id(OWNER) }, permission: 'READ' }], id(OWNER)),
      true,
    );
    assert.equal(grantsOnlyTo([{ grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' }], id(OWNER)), false);
  });
});

describe('Block Public Access levels', () => {
  test('a flag is on when any level has it on; absent levels count as off', () => {
    assert.deepEqual(effectivePublicAccessBlock(), OFF);
    assert.deepEqual(effectivePublicAccessBlock(undefined, undefined), OFF);
    for (const field of Object.keys(OFF) as (keyof PublicAccessBlock)[]) {
      const one = { ...OFF, [field]: true };
      assert.deepEqual(effectivePublicAccessBlock(one, undefined), one);
      assert.deepEqual(effectivePublicAccessBlock(undefined, one), one);
      assert.deepEqual(effectivePublicAccessBlock(OFF, OFF, one), one);
    }
    assert.deepEqual(
      effectivePublicAccessBlock({ ...OFF, blockPublicAcls: true }, { ...OFF, restrictPublicBuckets: true }),
      { ...OFF, blockPublicAcls: true, restrictPublicBuckets: true },
    );
  });

  test('the access point header round-trips every combination; no header is no access point', () => {
    for (let bits = 0; bits < 16; bits++) {
      const block: PublicAccessBlock = {
        blockPublicAcls: (bits & 1) !== 0,
        ignorePublicAcls: (bits & 2) !== 0,
        blockPublicPolicy: (bits & 4) !== 0,
        restrictPublicBuckets: (bits & 8) !== 0,
      };
      assert.deepEqual(decodeAccessPointBlock(encodeAccessPointBlock(block)), block);
    }
    assert.equal(
      encodeAccessPointBlock(ON),
      'BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets',
    );
    assert.equal(decodeAccessPointBlock(undefined), undefined);
    assert.equal(ACCESS_POINT_BLOCK_HEADER.startsWith('x-meridian-'), true);
  });
});

describe('authorize: ownership and Block Public Access', () => {
  const publicRead = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }],
  });
  const allowed = (input: Partial<AuthorizeInput> & { bucket: BucketRecord }) =>
    code(() =>
      authorize({
        op: 'GetObject',
        action: 's3:GetObject',
        key: 'k',
        principal: { type: 'anonymous' },
        ownerCanonicalId: id(OWNER),
        keys: {},
        objectAcl: () => [{ grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' }],
        ...input,
      }),
    ) === undefined;

  test('a public-read object ACL grants anonymous reads, unless ACLs are disabled or ignored at any level', () => {
    assert.equal(allowed({ bucket: bucket('ObjectWriter') }), true);
    assert.equal(allowed({ bucket: bucket(undefined) }), true);
    assert.equal(allowed({ bucket: bucket('BucketOwnerPreferred') }), true);
    assert.equal(allowed({ bucket: bucket('BucketOwnerEnforced') }), false);
    const ignore = { ...OFF, ignorePublicAcls: true };
    assert.equal(allowed({ bucket: bucket('ObjectWriter', { publicAccessBlock: ignore }) }), false);
    assert.equal(allowed({ bucket: bucket('ObjectWriter'), accountBlock: ignore }), false);
    assert.equal(allowed({ bucket: bucket('ObjectWriter'), accessPointBlock: ignore }), false);
  });

  test('a public policy grants anonymous reads whatever the ownership, unless RestrictPublicBuckets is on at any level', () => {
    const acl = { objectAcl: () => [] };
    assert.equal(allowed({ bucket: bucket('BucketOwnerEnforced', { policy: publicRead }), ...acl }), true);
    const restrict = { ...OFF, restrictPublicBuckets: true };
    assert.equal(
      allowed({ bucket: bucket('BucketOwnerEnforced', { policy: publicRead, publicAccessBlock: restrict }), ...acl }),
      false,
    );
    assert.equal(
      allowed({ bucket: bucket('BucketOwnerEnforced', { policy: publicRead }), accountBlock: restrict, ...acl }),
      false,
    );
    assert.equal(
      allowed({ bucket: bucket('BucketOwnerEnforced', { policy: publicRead }), accessPointBlock: restrict, ...acl }),
      false,
    );
    // BlockPublicPolicy and BlockPublicAcls only refuse new settings; they take nothing away.
    assert.equal(
      allowed({
        bucket: bucket('BucketOwnerEnforced', { policy: publicRead }),
        accountBlock: { ...ON, restrictPublicBuckets: false },
        ...acl,
      }),
      true,
    );
  });

  test('the bucket owner is never restricted', () => {
    assert.equal(
      allowed({
        bucket: bucket('BucketOwnerEnforced', { publicAccessBlock: ON }),
        accountBlock: ON,
        accessPointBlock: ON,
        principal: { type: 'account', account: OWNER, canonicalId: id(OWNER) },
        objectAcl: () => [],
      }),
      true,
    );
  });
});
