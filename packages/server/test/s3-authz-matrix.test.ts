/**
 * Who may do what, as a table: for each bucket setting (a row) and each principal — the
 * bucket owner's account, another account, an anonymous client — the outcome of GetObject,
 * ListObjectsV2, GetBucketAcl, PutObjectAcl, PutObject and DeleteObject, sent with the stock
 * `@aws-sdk/client-s3` to the bucket's region and through a Multi-Region Access Point over
 * the bucket. Expected outcomes are AWS S3's:
 *
 * - New buckets are BucketOwnerEnforced: ACLs are disabled (ACL writes 400
 *   AccessControlListNotSupported, ACL grants give nothing), policies decide.
 * - New buckets have all four Block Public Access settings on. A row that makes its bucket
 *   public removes them first (DeletePublicAccessBlock), as an S3 user does, and then puts the
 *   settings the row is about, if any.
 * - Block Public Access, of the bucket or of its owner's account (S3 Control), each flag:
 *   BlockPublicAcls refuses public ACLs (403), IgnorePublicAcls makes public grants grant
 *   nothing, BlockPublicPolicy refuses public policies but keeps the one in force,
 *   RestrictPublicBuckets takes the public policy's access from everyone outside the account.
 * - Anonymous requests write where a public policy or a public-read-write ACL lets them.
 * - Through an MRAP: anonymous requests are not supported (403); the access point's own Block
 *   Public Access (all on by default) applies with the bucket's, so public grants and public
 *   policies give another account nothing there; GetBucketAcl is not an MRAP operation (400).
 *
 * One world; each row has its own bucket and MRAP. Rows of the owner's account run
 * concurrently; the rows that set a third account's Block Public Access run one at a time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand as DeleteBucketPublicAccessBlockCommand,
  GetBucketAclCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  S3ServiceException,
  type BucketCannedACL,
  type ObjectCannedACL,
  type ObjectOwnership,
  type PublicAccessBlockConfiguration,
} from '@aws-sdk/client-s3';
import {
  CreateMultiRegionAccessPointCommand,
  DeletePublicAccessBlockCommand,
  DescribeMultiRegionAccessPointOperationCommand,
  GetMultiRegionAccessPointCommand,
  GetPublicAccessBlockCommand,
  PutMultiRegionAccessPointPolicyCommand,
  PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { canonicalUserId } from '../src/s3/handlers/bucket.ts';
import { eventually } from './helpers/eventually.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { CREDENTIALS, localhostResolvingHandler, startTestWorld, type TestWorld } from './helpers/world.ts';

type Credentials = { accessKeyId: string; secretAccessKey: string; accountId: string };
const OWNER: Credentials = CREDENTIALS;
const OTHER: Credentials = {
  accessKeyId: 'AKIAMATRIXOTHER',
  secretAccessKey: 'matrix-other-secret',
  accountId: '444455556666',
};
/** Owns the buckets of the rows that set account-level Block Public Access. */
const THIRD: Credentials = {
  accessKeyId: 'AKIAMATRIXTHIRD',
  secretAccessKey: 'matrix-third-secret',
  accountId: '777788889999',
};
const REGION = 'us-east-1';
const BODY = 'the object';

const OPS = ['GetObject', 'ListObjectsV2', 'GetBucketAcl', 'PutObjectAcl', 'PutObject', 'DeleteObject'] as const;
type Op = (typeof OPS)[number];
const WHO = ['owner', 'other', 'anonymous'] as const;
type Who = (typeof WHO)[number];
type Outcome = 'ok' | 'AccessDenied' | 'AccessControlListNotSupported' | 'InvalidRequest';
type Cells = Record<Op, Outcome>;
type Expect = Record<Who, Cells>;

const NO_ACLS: Outcome = 'AccessControlListNotSupported';
const every = (outcome: Outcome, over: Partial<Cells> = {}): Cells =>
  ({ ...Object.fromEntries(OPS.map((op) => [op, outcome])), ...over }) as Cells;
const allow = (over: Partial<Cells> = {}) => every('ok', over);
const deny = (over: Partial<Cells> = {}) => every('AccessDenied', over);
/** The owner under BucketOwnerEnforced: everything, except that ACLs cannot be set. */
const ENFORCED_OWNER = allow({ PutObjectAcl: NO_ACLS });

interface Row {
  name: string;
  bucket: string;
  /** the account that owns the bucket (and its MRAP) */
  account: Credentials;
  ownership?: ObjectOwnership;
  bucketAcl?: BucketCannedACL;
  /** the ACL of the object GetObject reads */
  objectAcl?: ObjectCannedACL;
  policy?: object[];
  /**
   * The bucket's own Block Public Access once the row's ACLs and policy are set: `new` keeps
   * what CreateBucket gave it (all on); absent, none (removed before the ACLs and policy).
   */
  bucketBlock?: PublicAccessBlockConfiguration | 'new';
  /** set through S3 Control on the owner's account while the row runs */
  accountBlock?: PublicAccessBlockConfiguration;
  /** the ACL that PutObject and PutObjectAcl send (PutObjectAcl sends `private` otherwise) */
  writeAcl?: ObjectCannedACL;
  /** what the owner tries first and S3 refuses, asserted before the table */
  refused?: (s3: S3Client, row: Row) => Promise<void>;
  expect: Expect;
  /** where the table through the MRAP differs from the region's, beyond the rules every row shares */
  viaMrap?: Partial<Record<Who, Partial<Cells>>>;
}

const arn = (bucket: string, rest = '') => `arn:aws:s3:::${bucket}${rest}`;
const publicRead = (bucket: string) => [
  { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: arn(bucket, '/*') },
];
const publicPolicyRefused = async (s3: S3Client, row: Row) => {
  await rejectsWith(
    s3.send(
      new PutBucketPolicyCommand({
        Bucket: row.bucket,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: publicRead(row.bucket) }),
      }),
    ),
    'AccessDenied',
    403,
  );
};
const publicAclRefused = async (s3: S3Client, row: Row) => {
  await rejectsWith(
    s3.send(new PutBucketAclCommand({ Bucket: row.bucket, ACL: 'public-read-write' })),
    'AccessDenied',
    403,
  );
  await rejectsWith(
    s3.send(new PutObjectCommand({ Bucket: row.bucket, Key: 'refused', Body: 'x', ACL: 'public-read' })),
    'AccessDenied',
    403,
  );
};

/** A public-read bucket and object under ObjectWriter: what BlockPublicAcls and IgnorePublicAcls act on. */
const PUBLIC_ACLS = { ownership: 'ObjectWriter', bucketAcl: 'public-read', objectAcl: 'public-read' } as const;
/** Public ACLs and public policies give another account nothing through an MRAP (its Block Public Access). */
const MRAP_NOT_PUBLIC: Row['viaMrap'] = { other: deny() };

const ROWS: Row[] = [
  {
    name: 'no policy (a new bucket: BucketOwnerEnforced, all Block Public Access on)',
    bucket: 'mx-none',
    account: OWNER,
    bucketBlock: 'new',
    expect: { owner: ENFORCED_OWNER, other: deny(), anonymous: deny() },
  },
  {
    name: 'a new bucket with ACLs enabled (ObjectWriter): public ACLs and public policies refused',
    bucket: 'mx-new-writer',
    account: OWNER,
    ownership: 'ObjectWriter',
    bucketBlock: 'new',
    writeAcl: 'public-read',
    refused: async (s3, row) => {
      await publicAclRefused(s3, row);
      await publicPolicyRefused(s3, row);
    },
    expect: { owner: allow({ PutObject: 'AccessDenied', PutObjectAcl: 'AccessDenied' }), other: deny(), anonymous: deny() },
  },
  {
    name: 'a policy lets the other account read',
    bucket: 'mx-other-reads',
    account: OWNER,
    policy: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${OTHER.accountId}:root` },
        Action: 's3:GetObject',
        Resource: arn('mx-other-reads', '/*'),
      },
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${OTHER.accountId}:root` },
        Action: 's3:ListBucket',
        Resource: arn('mx-other-reads'),
      },
    ],
    expect: { owner: ENFORCED_OWNER, other: deny({ GetObject: 'ok', ListObjectsV2: 'ok' }), anonymous: deny() },
  },
  {
    name: 'a public-read policy',
    bucket: 'mx-public-policy',
    account: OWNER,
    policy: publicRead('mx-public-policy'),
    expect: { owner: ENFORCED_OWNER, other: deny({ GetObject: 'ok' }), anonymous: deny({ GetObject: 'ok' }) },
    viaMrap: MRAP_NOT_PUBLIC,
  },
  {
    name: 'a public-read ACL (ObjectWriter)',
    bucket: 'mx-public-acl',
    account: OWNER,
    ...PUBLIC_ACLS,
    expect: {
      owner: allow(),
      other: deny({ GetObject: 'ok', ListObjectsV2: 'ok' }),
      anonymous: deny({ GetObject: 'ok', ListObjectsV2: 'ok' }),
    },
    viaMrap: MRAP_NOT_PUBLIC,
  },
  {
    name: 'a public-read-write bucket ACL (ObjectWriter): anyone writes',
    bucket: 'mx-public-write-acl',
    account: OWNER,
    ownership: 'ObjectWriter',
    bucketAcl: 'public-read-write',
    expect: {
      owner: allow(),
      other: deny({ ListObjectsV2: 'ok', PutObject: 'ok', DeleteObject: 'ok' }),
      anonymous: deny({ ListObjectsV2: 'ok', PutObject: 'ok', DeleteObject: 'ok' }),
    },
    viaMrap: MRAP_NOT_PUBLIC,
  },
  {
    name: 'a public policy lets anyone write',
    bucket: 'mx-public-write-policy',
    account: OWNER,
    policy: [
      {
        Effect: 'Allow',
        Principal: '*',
        Action: ['s3:PutObject', 's3:DeleteObject'],
        Resource: arn('mx-public-write-policy', '/*'),
      },
    ],
    expect: {
      owner: ENFORCED_OWNER,
      other: deny({ PutObject: 'ok', DeleteObject: 'ok' }),
      anonymous: deny({ PutObject: 'ok', DeleteObject: 'ok' }),
    },
    viaMrap: MRAP_NOT_PUBLIC,
  },
  {
    name: 'BucketOwnerEnforced, and public ACLs attempted',
    bucket: 'mx-enforced',
    account: OWNER,
    bucketBlock: 'new',
    writeAcl: 'public-read',
    refused: async (s3, row) => {
      await rejectsWith(s3.send(new PutBucketAclCommand({ Bucket: row.bucket, ACL: 'public-read' })), NO_ACLS, 400);
    },
    expect: { owner: allow({ PutObject: NO_ACLS, PutObjectAcl: NO_ACLS }), other: deny(), anonymous: deny() },
  },
  {
    name: 'bucket BlockPublicAcls: public ACLs refused, those already set still work',
    bucket: 'mx-bucket-block-acls',
    account: OWNER,
    ...PUBLIC_ACLS,
    bucketBlock: { BlockPublicAcls: true },
    writeAcl: 'public-read',
    refused: publicAclRefused,
    expect: {
      owner: allow({ PutObject: 'AccessDenied', PutObjectAcl: 'AccessDenied' }),
      other: deny({ GetObject: 'ok', ListObjectsV2: 'ok' }),
      anonymous: deny({ GetObject: 'ok', ListObjectsV2: 'ok' }),
    },
    viaMrap: MRAP_NOT_PUBLIC,
  },
  {
    name: 'bucket IgnorePublicAcls: public grants give nothing',
    bucket: 'mx-bucket-ignore-acls',
    account: OWNER,
    ...PUBLIC_ACLS,
    bucketBlock: { IgnorePublicAcls: true },
    expect: { owner: allow(), other: deny(), anonymous: deny() },
  },
  {
    name: 'bucket BlockPublicPolicy: public policies refused, the one in force stays',
    bucket: 'mx-bucket-block-policy',
    account: OWNER,
    policy: publicRead('mx-bucket-block-policy'),
    bucketBlock: { BlockPublicPolicy: true },
    refused: publicPolicyRefused,
    expect: { owner: ENFORCED_OWNER, other: deny({ GetObject: 'ok' }), anonymous: deny({ GetObject: 'ok' }) },
    viaMrap: MRAP_NOT_PUBLIC,
  },
  {
    name: 'bucket RestrictPublicBuckets: the public policy grants no one outside the account',
    bucket: 'mx-bucket-restrict',
    account: OWNER,
    policy: publicRead('mx-bucket-restrict'),
    bucketBlock: { RestrictPublicBuckets: true },
    expect: { owner: ENFORCED_OWNER, other: deny(), anonymous: deny() },
  },
  {
    name: 'account BlockPublicAcls: public ACLs refused, those already set still work',
    bucket: 'mx-account-block-acls',
    account: THIRD,
    ...PUBLIC_ACLS,
    accountBlock: { BlockPublicAcls: true },
    writeAcl: 'public-read',
    refused: publicAclRefused,
    expect: {
      owner: allow({ PutObject: 'AccessDenied', PutObjectAcl: 'AccessDenied' }),
      other: deny({ GetObject: 'ok', ListObjectsV2: 'ok' }),
      anonymous: deny({ GetObject: 'ok', ListObjectsV2: 'ok' }),
    },
    viaMrap: MRAP_NOT_PUBLIC,
  },
  {
    name: 'account IgnorePublicAcls: public grants give nothing',
    bucket: 'mx-account-ignore-acls',
    account: THIRD,
    ...PUBLIC_ACLS,
    accountBlock: { IgnorePublicAcls: true },
    expect: { owner: allow(), other: deny(), anonymous: deny() },
  },
  {
    name: 'account BlockPublicPolicy: public policies refused, the one in force stays',
    bucket: 'mx-account-block-policy',
    account: THIRD,
    policy: publicRead('mx-account-block-policy'),
    accountBlock: { BlockPublicPolicy: true },
    refused: publicPolicyRefused,
    expect: { owner: ENFORCED_OWNER, other: deny({ GetObject: 'ok' }), anonymous: deny({ GetObject: 'ok' }) },
    viaMrap: MRAP_NOT_PUBLIC,
  },
  {
    name: 'account RestrictPublicBuckets: the public policy grants no one outside the account',
    bucket: 'mx-account-restrict',
    account: THIRD,
    policy: publicRead('mx-account-restrict'),
    accountBlock: { RestrictPublicBuckets: true },
    expect: { owner: ENFORCED_OWNER, other: deny(), anonymous: deny() },
  },
];

/** The table through the MRAP: the region's, with what every MRAP does and the row's differences. */
function mrapExpect(row: Row): Expect {
  const out = {} as Expect;
  for (const who of WHO) {
    const cells = { ...row.expect[who], ...row.viaMrap?.[who] };
    // GetBucketAcl is not an MRAP operation (checked after the signature, so not for anonymous).
    cells.GetBucketAcl = 'InvalidRequest';
    out[who] = who === 'anonymous' ? deny() : cells;
  }
  return out;
}

describe('authorization matrix', () => {
  let w: TestWorld;
  const regionClients = new Map<string, S3Client>();
  const mrapClients = new Map<string, S3Client>();
  const controls = new Map<string, S3ControlClient>();
  const aliases = new Map<string, string>();

  const credentialsOf = (who: Who, row: Row): Credentials | undefined =>
    who === 'owner' ? row.account : who === 'other' ? OTHER : undefined;
  /** One stock client per principal and endpoint; anonymous ones sign nothing. */
  function client(via: 'region' | 'mrap', credentials: Credentials | undefined): S3Client {
    const clients = via === 'region' ? regionClients : mrapClients;
    const id = credentials?.accountId ?? 'anonymous';
    let c = clients.get(id);
    if (!c) {
      c = new S3Client({
        region: REGION,
        endpoint: via === 'region' ? w.endpoint(REGION) : w.globalEndpoint,
        forcePathStyle: true,
        credentials: credentials ?? OWNER,
        maxAttempts: 1,
        ...(credentials ? {} : { signer: { sign: async (request) => request } }),
      });
      clients.set(id, c);
    }
    return c;
  }
  function control(account: Credentials): S3ControlClient {
    let c = controls.get(account.accountId);
    if (!c) {
      c = new S3ControlClient({
        region: 'us-west-2',
        endpoint: w.globalEndpoint.replace('127.0.0.1', 'localhost'),
        credentials: account,
        requestHandler: localhostResolvingHandler(),
        maxAttempts: 1,
      });
      controls.set(account.accountId, c);
    }
    return c;
  }

  async function succeeded(account: Credentials, RequestTokenARN: string | undefined): Promise<void> {
    await eventually(async () => {
      const op = await control(account).send(
        new DescribeMultiRegionAccessPointOperationCommand({ AccountId: account.accountId, RequestTokenARN }),
      );
      assert.equal(op.AsyncOperation?.RequestStatus, 'SUCCEEDED', JSON.stringify(op.AsyncOperation?.ResponseDetails));
    });
  }

  /** The row's bucket with its object, ACLs, policy and own Block Public Access; then its MRAP, open to the other account. */
  async function setUp(row: Row): Promise<void> {
    const s3 = client('region', row.account);
    await s3.send(new CreateBucketCommand({ Bucket: row.bucket, ObjectOwnership: row.ownership }));
    if (row.bucketBlock !== 'new') await s3.send(new DeleteBucketPublicAccessBlockCommand({ Bucket: row.bucket }));
    if (row.bucketAcl) await s3.send(new PutBucketAclCommand({ Bucket: row.bucket, ACL: row.bucketAcl }));
    await s3.send(new PutObjectCommand({ Bucket: row.bucket, Key: 'obj', Body: BODY, ACL: row.objectAcl }));
    await s3.send(new PutObjectCommand({ Bucket: row.bucket, Key: 'acl-target', Body: BODY }));
    if (row.policy) {
      await s3.send(
        new PutBucketPolicyCommand({
          Bucket: row.bucket,
          Policy: JSON.stringify({ Version: '2012-10-17', Statement: row.policy }),
        }),
      );
    }
    if (row.bucketBlock && row.bucketBlock !== 'new') {
      await s3.send(
        new PutPublicAccessBlockCommand({ Bucket: row.bucket, PublicAccessBlockConfiguration: row.bucketBlock }),
      );
    }
    const AccountId = row.account.accountId;
    const Name = row.bucket;
    const created = await control(row.account).send(
      new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name, Regions: [{ Bucket: row.bucket }] } }),
    );
    await succeeded(row.account, created.RequestTokenARN);
    const alias = (await control(row.account).send(new GetMultiRegionAccessPointCommand({ AccountId, Name })))
      .AccessPoint!.Alias!;
    const mrapArn = `arn:aws:s3::${AccountId}:accesspoint/${alias}`;
    const put = await control(row.account).send(
      new PutMultiRegionAccessPointPolicyCommand({
        AccountId,
        Details: {
          Name,
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: `arn:aws:iam::${OTHER.accountId}:root` },
                Action: 's3:*',
                Resource: [mrapArn, `${mrapArn}/object/*`],
              },
            ],
          }),
        },
      }),
    );
    await succeeded(row.account, put.RequestTokenARN);
    aliases.set(row.bucket, alias);
  }

  /** Sends one operation and names its outcome; what a success returns is checked on the way. */
  async function attempt(s3: S3Client, bucket: string, row: Row, via: string, who: Who, op: Op): Promise<Outcome> {
    const key = `written/${via}/${who}`;
    try {
      switch (op) {
        case 'GetObject': {
          const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj' }));
          assert.equal(await got.Body!.transformToString(), BODY);
          break;
        }
        case 'ListObjectsV2': {
          const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
          assert.ok(
            listed.Contents?.some((c) => c.Key === 'obj'),
            'the listing shows the object',
          );
          break;
        }
        case 'GetBucketAcl': {
          const acl = await s3.send(new GetBucketAclCommand({ Bucket: bucket }));
          assert.equal(acl.Owner?.ID, canonicalUserId(row.account.accountId));
          break;
        }
        case 'PutObjectAcl':
          await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'acl-target', ACL: row.writeAcl ?? 'private' }));
          break;
        case 'PutObject':
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `by ${who}`, ACL: row.writeAcl }));
          break;
        case 'DeleteObject':
          await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
          break;
      }
      return 'ok';
    } catch (err) {
      if (!(err instanceof S3ServiceException)) throw err;
      const status = err.$metadata.httpStatusCode;
      assert.equal(status, err.name === 'AccessDenied' ? 403 : 400, `${err.name} with HTTP ${status}`);
      return err.name as Outcome;
    }
  }

  async function table(row: Row, via: 'region' | 'mrap'): Promise<Expect> {
    const bucket = via === 'region' ? row.bucket : aliases.get(row.bucket)!;
    const out = {} as Expect;
    await Promise.all(
      WHO.map(async (who) => {
        const s3 = client(via, credentialsOf(who, row));
        const cells = {} as Cells;
        // In order: the writes last, and each principal deletes what it wrote.
        for (const op of OPS) cells[op] = await attempt(s3, bucket, row, via, who, op);
        out[who] = cells;
      }),
    );
    return out;
  }

  async function check(row: Row): Promise<void> {
    await row.refused?.(client('region', row.account), row);
    assert.deepEqual(await table(row, 'region'), row.expect, `${row.name}, in the region`);
    assert.deepEqual(await table(row, 'mrap'), mrapExpect(row), `${row.name}, through the MRAP`);
    // What an allowed anonymous write left is the bucket owner's, and readable by it.
    if (row.expect.anonymous.PutObject === 'ok') {
      const owner = client('region', row.account);
      await owner.send(new PutObjectCommand({ Bucket: row.bucket, Key: 'written/check', Body: 'x' }));
      const anon = client('region', undefined);
      await anon.send(new PutObjectCommand({ Bucket: row.bucket, Key: 'written/anonymous-kept', Body: 'kept' }));
      const got = await owner.send(new GetObjectCommand({ Bucket: row.bucket, Key: 'written/anonymous-kept' }));
      assert.equal(await got.Body!.transformToString(), 'kept');
    }
  }

  before(async () => {
    w = await startTestWorld({
      regions: [{ name: REGION, port: 0 }],
      keys: [OTHER, THIRD],
      mrapControl: { asyncDelayMs: 10 },
    });
    await Promise.all(ROWS.map(setUp));
  });
  after(async () => {
    for (const c of [...regionClients.values(), ...mrapClients.values()]) c.destroy();
    for (const c of controls.values()) c.destroy();
    await w.close();
  });

  describe("the owner's account's buckets", { concurrency: true }, () => {
    for (const row of ROWS.filter((r) => !r.accountBlock)) test(row.name, () => check(row));
  });

  describe("a third account's buckets, with its Block Public Access set through S3 Control", () => {
    for (const row of ROWS.filter((r) => r.accountBlock)) {
      test(row.name, async () => {
        const AccountId = row.account.accountId;
        await control(row.account).send(
          new PutAccountPublicAccessBlockCommand({ AccountId, PublicAccessBlockConfiguration: row.accountBlock }),
        );
        try {
          const got = await control(row.account).send(new GetPublicAccessBlockCommand({ AccountId }));
          for (const [flag, on] of Object.entries(row.accountBlock!)) {
            assert.equal(got.PublicAccessBlockConfiguration?.[flag as keyof PublicAccessBlockConfiguration], on);
          }
          await check(row);
        } finally {
          await control(row.account).send(new DeletePublicAccessBlockCommand({ AccountId }));
        }
      });
    }
  });
});
