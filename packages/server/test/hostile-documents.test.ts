/**
 * Hostile request documents: the XML bodies of the configuration and batch operations, and
 * bucket policy JSON, arbitrary, mutated, cut short, deeply nested and huge. Each is answered
 * with a 4xx S3 error (or accepted, when a mutation happens to leave a valid document), never
 * a 5xx and never a hang; what a refused request asked for is not applied; and afterwards the
 * server still serves and the sentinel objects are byte for byte what they were.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  GetBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import fc from 'fast-check';
import {
  Doc,
  Sentinels,
  runs,
  applyMutations,
  assertClientError,
  assertNotServerError,
  describeMutations,
  exchange,
  md5Base64,
  mutationArb,
  startHostileWorld,
  wireBytes,
  type HostileWorld,
} from './helpers/hostile.ts';
import { rawRequest, sha256Hex, signRequest, type RawResponse } from './helpers/raw-request.ts';
import { CREDENTIALS } from './helpers/world.ts';

const MAIN = 'hostile-docs';
const VERSIONING = 'hostile-docs-versioning';
const REPLICATION = 'hostile-docs-replication';
const REPLICA = 'hostile-docs-replica';
const ACL = 'hostile-docs-acl';
const POLICY = 'hostile-docs-policy';
const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MiB = 1024 * 1024;
/** The most PutBucketPolicy reads (s3/handlers/policy.ts); a policy itself is at most 20 KB. */
const MAX_POLICY_BODY = 64 * 1024;

/** Pieces of XML that parsers trip over. */
const XML_FRAGMENTS = [
  '<',
  '>',
  '</',
  '/>',
  '<!--',
  '-->',
  '<![CDATA[',
  ']]>',
  '<![CDATA[<Key>x</Key>]]>',
  '&',
  '&amp;',
  '&lt;',
  '&#0;',
  '&#x0;',
  '&#xD800;',
  '&#x110000;',
  '&#99999999999;',
  '&nbsp;',
  '&undefined;',
  '&xxe;',
  '<?xml version="1.0" encoding="UTF-16"?>',
  '<?xml version="1.1"?>',
  '<?pi data?>',
  '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
  '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
  '&c;',
  ' xmlns="urn:other"',
  ' xmlns:x="urn:x"',
  '<x:Key>',
  ' a="1" a="2"',
  ' __proto__="x"',
  '<__proto__>',
  '</__proto__>',
  '<constructor>1</constructor>',
  '<toString/>',
  '<hasOwnProperty>x</hasOwnProperty>',
  '\u0000',
  '\u0001',
  '\uFEFF',
  '\uFFFE',
  '\uD7FF',
  '\r\n',
  '\t',
  ' ',
  '"',
  "'",
  '=',
  'true',
  'Enabled',
  '-1',
  '99999999999999999999',
  '1e400',
];

interface XmlOp {
  name: string;
  method: 'PUT' | 'POST';
  /** Path (and query) the document goes to; may depend on state the op keeps. */
  path(): { path: string; query: Record<string, string> };
  /** A valid document, the seed of mutations. */
  template(): string;
  /** The op's element names, for generated trees. */
  vocabulary: string[];
  /** Bodies above this many bytes are refused unread. */
  limit: number;
  /** S3 refuses the document without Content-MD5 (or an x-amz-checksum-* header). */
  requiresDigest?: boolean;
  /** Puts things back after a mutated document was accepted. */
  accepted?(res: RawResponse): Promise<void>;
}

describe('hostile request documents', () => {
  let w: HostileWorld;
  let sentinels: Sentinels;
  let ownerId: string;
  let uploadId = '';
  let uploadEtag = '';
  let createdBuckets = 0;

  async function newUpload(): Promise<void> {
    const up = await w.s3.send(new CreateMultipartUploadCommand({ Bucket: MAIN, Key: 'fuzz/mpu' }));
    uploadId = up.UploadId!;
    const part = await w.s3.send(
      new UploadPartCommand({ Bucket: MAIN, Key: 'fuzz/mpu', UploadId: uploadId, PartNumber: 1, Body: 'part one' }),
    );
    uploadEtag = part.ETag!;
  }

  const ops: XmlOp[] = [
    {
      name: 'CreateBucket',
      method: 'PUT',
      path: () => ({ path: `/fuzz-create-${createdBuckets}`, query: {} }),
      template: () =>
        `<CreateBucketConfiguration xmlns="${NS}"><LocationConstraint></LocationConstraint></CreateBucketConfiguration>`,
      vocabulary: ['CreateBucketConfiguration', 'LocationConstraint', 'Location', 'Bucket', 'Name', 'Type'],
      limit: 64 * 1024,
      async accepted() {
        await w.s3.send(new DeleteBucketCommand({ Bucket: `fuzz-create-${createdBuckets}` }));
        createdBuckets++;
      },
    },
    {
      name: 'DeleteObjects',
      method: 'POST',
      path: () => ({ path: `/${MAIN}`, query: { delete: '' } }),
      template: () =>
        `<Delete xmlns="${NS}"><Quiet>false</Quiet><Object><Key>fuzz/a</Key></Object>` +
        `<Object><Key>fuzz/b</Key><VersionId>null</VersionId></Object></Delete>`,
      vocabulary: ['Delete', 'Quiet', 'Object', 'Key', 'VersionId', 'ETag', 'LastModifiedTime', 'Size'],
      limit: 2 * MiB,
      requiresDigest: true,
    },
    {
      name: 'CompleteMultipartUpload',
      method: 'POST',
      path: () => ({ path: `/${MAIN}/fuzz/mpu`, query: { uploadId } }),
      template: () =>
        `<CompleteMultipartUpload xmlns="${NS}"><Part><PartNumber>1</PartNumber><ETag>${uploadEtag}</ETag></Part></CompleteMultipartUpload>`,
      vocabulary: ['CompleteMultipartUpload', 'Part', 'PartNumber', 'ETag', 'ChecksumCRC32', 'ChecksumSHA256'],
      limit: 4 * MiB,
      accepted: newUpload,
    },
    {
      name: 'PutBucketTagging',
      method: 'PUT',
      path: () => ({ path: `/${MAIN}`, query: { tagging: '' } }),
      template: () =>
        `<Tagging xmlns="${NS}"><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag><Tag><Key>a b</Key><Value></Value></Tag></TagSet></Tagging>`,
      vocabulary: ['Tagging', 'TagSet', 'Tag', 'Key', 'Value'],
      limit: 64 * 1024,
      requiresDigest: true,
    },
    {
      name: 'PutObjectTagging',
      method: 'PUT',
      path: () => ({ path: `/${MAIN}/fuzz/tagged`, query: { tagging: '' } }),
      template: () => `<Tagging xmlns="${NS}"><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag></TagSet></Tagging>`,
      vocabulary: ['Tagging', 'TagSet', 'Tag', 'Key', 'Value'],
      limit: 64 * 1024,
      requiresDigest: true,
    },
    {
      name: 'PutBucketVersioning',
      method: 'PUT',
      path: () => ({ path: `/${VERSIONING}`, query: { versioning: '' } }),
      template: () =>
        `<VersioningConfiguration xmlns="${NS}"><Status>Enabled</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>`,
      vocabulary: ['VersioningConfiguration', 'Status', 'MfaDelete'],
      limit: 64 * 1024,
    },
    {
      name: 'PutBucketReplication',
      method: 'PUT',
      path: () => ({ path: `/${REPLICATION}`, query: { replication: '' } }),
      template: () =>
        `<ReplicationConfiguration xmlns="${NS}"><Role>arn:aws:iam::${CREDENTIALS.accountId}:role/replication</Role>` +
        `<Rule><ID>r1</ID><Priority>1</Priority><Status>Enabled</Status><Filter><Prefix>logs/</Prefix></Filter>` +
        `<DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>` +
        `<Destination><Bucket>arn:aws:s3:::${REPLICA}</Bucket><StorageClass>STANDARD</StorageClass></Destination></Rule>` +
        `</ReplicationConfiguration>`,
      vocabulary: [
        'ReplicationConfiguration',
        'Role',
        'Rule',
        'ID',
        'Priority',
        'Status',
        'Filter',
        'Prefix',
        'And',
        'Tag',
        'Key',
        'Value',
        'Destination',
        'Bucket',
        'Account',
        'StorageClass',
        'DeleteMarkerReplication',
        'SourceSelectionCriteria',
        'ReplicaModifications',
        'ReplicationTime',
        'Time',
        'Minutes',
        'Metrics',
        'EventThreshold',
      ],
      limit: 2 * MiB,
      requiresDigest: true,
    },
    {
      name: 'PutBucketAcl',
      method: 'PUT',
      path: () => ({ path: `/${ACL}`, query: { acl: '' } }),
      template: () =>
        `<AccessControlPolicy xmlns="${NS}"><Owner><ID>${ownerId}</ID></Owner><AccessControlList>` +
        `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${ownerId}</ID></Grantee>` +
        `<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`,
      vocabulary: [
        'AccessControlPolicy',
        'Owner',
        'ID',
        'DisplayName',
        'AccessControlList',
        'Grant',
        'Grantee',
        'URI',
        'EmailAddress',
        'Permission',
      ],
      limit: 64 * 1024,
    },
    {
      name: 'PutPublicAccessBlock',
      method: 'PUT',
      path: () => ({ path: `/${MAIN}`, query: { publicAccessBlock: '' } }),
      template: () =>
        `<PublicAccessBlockConfiguration xmlns="${NS}"><BlockPublicAcls>false</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls>` +
        `<BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>`,
      vocabulary: [
        'PublicAccessBlockConfiguration',
        'BlockPublicAcls',
        'IgnorePublicAcls',
        'BlockPublicPolicy',
        'RestrictPublicBuckets',
      ],
      limit: 16 * 1024,
      requiresDigest: true,
    },
  ];

  /** Signs and sends a document as `op`'s body, with its Content-MD5 (unless told otherwise). */
  async function sendDocument(
    op: XmlOp,
    body: Buffer,
    opts: { unsignedPayload?: boolean; md5?: 'right' | 'none' | 'wrong'; chunkedTransfer?: boolean } = {},
  ): Promise<RawResponse> {
    const { path, query } = op.path();
    const headers: Record<string, string> = { 'content-type': 'application/xml' };
    const md5 = opts.md5 ?? 'right';
    if (md5 === 'right') headers['content-md5'] = md5Base64(body);
    if (md5 === 'wrong') headers['content-md5'] = md5Base64(Buffer.concat([body, Buffer.from('x')]));
    // Content-Length stays out of the signature: the body may go without one.
    const signed = await signRequest(
      w.endpointUrl,
      { method: op.method, path, query, headers },
      { contentSha256: opts.unsignedPayload ? 'UNSIGNED-PAYLOAD' : sha256Hex(body) },
    );
    if (!opts.chunkedTransfer) {
      return exchange(
        w.endpointUrl,
        wireBytes({ ...signed, headers: { ...signed.headers, 'content-length': String(body.length) }, body }),
      );
    }
    // No declared length: the server finds out how big the body is only by reading it.
    const framed = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
    return exchange(
      w.endpointUrl,
      wireBytes({ ...signed, headers: { ...signed.headers, 'transfer-encoding': 'chunked' }, body: framed }),
    );
  }

  /** After a property: the server logged no internal error, serves, and the sentinels are intact. */
  async function stillSound(): Promise<void> {
    w.assertNoInternalErrors();
    await sentinels.verify();
  }

  before(async () => {
    w = await startHostileWorld();
    sentinels = new Sentinels(w.s3);
    await sentinels.write(MAIN, { create: true });
    for (const b of [VERSIONING, REPLICATION, REPLICA, POLICY]) await w.s3.send(new CreateBucketCommand({ Bucket: b }));
    // ACLs apply only where the bucket's object ownership allows them.
    await w.s3.send(new CreateBucketCommand({ Bucket: ACL, ObjectOwnership: 'ObjectWriter' }));
    await sentinels.write(ACL);
    for (const b of [REPLICATION, REPLICA]) {
      await w.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    }
    await w.s3.send(new PutObjectCommand({ Bucket: MAIN, Key: 'fuzz/tagged', Body: 'tag me' }));
    ownerId = (await w.s3.send(new GetBucketAclCommand({ Bucket: ACL }))).Owner!.ID!;
    await newUpload();
  });
  after(() => w.close());

  test('every template is a valid document (so mutations start from something the server accepts)', async () => {
    for (const op of ops) {
      const res = await sendDocument(op, Buffer.from(op.template()));
      assert.ok(res.status >= 200 && res.status < 300, `${op.name}: ${res.status} ${res.text}`);
      await op.accepted?.(res);
    }
    await stillSound();
  });

  /** Mutated, generated, cut short and nested documents for one operation. */
  function documentArb(op: XmlOp): fc.Arbitrary<Doc> {
    const vocabulary = fc.constantFrom(...op.vocabulary, 'x', '__proto__', 'constructor');
    const tree = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc
          .oneof(
            fc.constantFrom('', 'true', 'Enabled', '1', uploadEtag, 'fuzz/a'),
            fc.string({ unit: 'grapheme', maxLength: 20 }),
          )
          .map(escapeXml),
        fc
          .tuple(vocabulary, fc.array(tie('node'), { maxLength: 4 }))
          .map(([name, children]) => `<${name}>${children.join('')}</${name}>`),
      ),
    })).node;
    const root = op.template().match(/^<([A-Za-z]+)/)![1];
    return fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .array(mutationArb(XML_FRAGMENTS), { minLength: 1, maxLength: 4 })
          .map((ms) => new Doc(applyMutations(op.template(), ms), `mutations ${describeMutations(ms)}`)),
      },
      {
        weight: 2,
        arbitrary: fc
          .array(tree, { maxLength: 5 })
          .map(
            (children) =>
              new Doc(Buffer.from(`<${root} xmlns="${NS}">${children.join('')}</${root}>`), 'generated tree'),
          ),
      },
      {
        weight: 1,
        arbitrary: fc
          .record({
            // Up to what fits under the operation's limit: the parser sees the whole depth.
            depth: fc.integer({ min: 1, max: Math.floor(op.limit / 8) }),
            balanced: fc.boolean(),
            name: vocabulary,
          })
          .map(
            ({ depth, balanced, name }) =>
              new Doc(
                Buffer.from(
                  `<${root}>${`<${name}>`.repeat(depth)}${balanced ? `</${name}>`.repeat(depth) : ''}</${root}>`,
                ),
                `nested ${depth} deep${balanced ? '' : ', never closed'}`,
              ),
          ),
      },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }).map((s) => new Doc(Buffer.from(s, 'utf8'), 'arbitrary text')),
          fc.uint8Array({ maxLength: 200 }).map((a) => new Doc(Buffer.from(a), 'arbitrary bytes')),
        ),
      },
    );
  }

  test('arbitrary, mutated, cut short and deeply nested documents: a 4xx S3 error or accepted, never a 5xx or a hang', async () => {
    for (const op of ops) {
      await fc.assert(
        fc.asyncProperty(
          documentArb(op),
          fc.constantFrom<'right' | 'none' | 'wrong'>('right', 'right', 'right', 'right', 'none', 'wrong'),
          fc.boolean(),
          async ({ body, how }: Doc, md5, unsignedPayload) => {
            const res = await sendDocument(op, body, { md5, unsignedPayload });
            const what = `${op.name} with ${how}`;
            assertNotServerError(res, what);
            if (res.status < 300) {
              // A document that still made sense. Where S3 checks the digest, a wrong or missing
              // one never does (elsewhere S3 ignores Content-MD5, as on CreateBucket).
              if (op.requiresDigest) assert.equal(md5, 'right', `${what}: accepted with a ${md5} Content-MD5`);
              await op.accepted?.(res);
            }
          },
        ),
        runs(80),
      );
    }
    await stillSound();
  });

  test('bodies over the operation’s limit (over 1 MiB for configurations) are 400 MaxMessageLengthExceeded', async () => {
    for (const op of ops) {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: Math.max(op.limit, MiB) + 1, max: Math.max(op.limit, MiB) + MiB }),
          fc.constantFrom('whitespace', 'elements', 'text', 'nesting'),
          fc.boolean(),
          fc.boolean(),
          async (size, shape, unsignedPayload, chunkedTransfer) => {
            const body = hugeDocument(op.template(), size, shape);
            const res = await sendDocument(op, body, { unsignedPayload, chunkedTransfer });
            const e = assertClientError(res, `${op.name} of ${body.length} bytes (${shape})`);
            assert.equal(e.code, 'MaxMessageLengthExceeded', res.text);
            assert.equal(e.message, 'Your request was too big.');
          },
        ),
        runs(5),
      );
    }
    await stillSound();
  });

  test('a refused document changes nothing: the tag set, versioning, ACL and replication read back as before', async () => {
    // One op at a time: a document that is refused leaves what its GET shows as it was.
    const reads: Array<{ op: XmlOp; get: { path: string; query: Record<string, string> } }> = [
      { op: ops.find((o) => o.name === 'PutBucketTagging')!, get: { path: `/${MAIN}`, query: { tagging: '' } } },
      {
        op: ops.find((o) => o.name === 'PutObjectTagging')!,
        get: { path: `/${MAIN}/fuzz/tagged`, query: { tagging: '' } },
      },
      {
        op: ops.find((o) => o.name === 'PutBucketVersioning')!,
        get: { path: `/${VERSIONING}`, query: { versioning: '' } },
      },
      { op: ops.find((o) => o.name === 'PutBucketAcl')!, get: { path: `/${ACL}`, query: { acl: '' } } },
      {
        op: ops.find((o) => o.name === 'PutBucketReplication')!,
        get: { path: `/${REPLICATION}`, query: { replication: '' } },
      },
      {
        op: ops.find((o) => o.name === 'PutPublicAccessBlock')!,
        get: { path: `/${MAIN}`, query: { publicAccessBlock: '' } },
      },
    ];
    const read = async (get: { path: string; query: Record<string, string> }) => {
      const r = await rawRequest(w.endpointUrl, { method: 'GET', ...get });
      assertNotServerError(r, `GET ${get.path}`);
      return `${r.status} ${r.text.replace(/<RequestId>[^<]*<\/RequestId><HostId>[^<]*<\/HostId>/, '')}`;
    };
    for (const { op, get } of reads) {
      await fc.assert(
        fc.asyncProperty(documentArb(op), async ({ body, how }: Doc) => {
          const before = await read(get);
          const res = await sendDocument(op, body);
          assertNotServerError(res, `${op.name} with ${how}`);
          if (res.status >= 400)
            assert.equal(await read(get), before, `${op.name} with ${how}: refused, yet what GET shows changed`);
          else await op.accepted?.(res);
        }),
        runs(25),
      );
    }
    await stillSound();
  });

  describe('bucket policies', () => {
    const valid = JSON.stringify({
      Version: '2012-10-17',
      Id: 'hostile',
      Statement: [
        {
          Sid: 'ReadOne',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${CREDENTIALS.accountId}:root` },
          Action: ['s3:GetObject', 's3:ListBucket'],
          Resource: [`arn:aws:s3:::${POLICY}/*`, `arn:aws:s3:::${POLICY}`],
          Condition: { StringLike: { 's3:prefix': ['home/*', ''] }, IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } },
        },
      ],
    });
    const JSON_FRAGMENTS = [
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"',
      '\\',
      '\\u0000',
      '\\ud800',
      'null',
      'true',
      '-0',
      '1e999',
      '"__proto__":{"a":1},',
      '"constructor":{"prototype":{}},',
      '"Statement":[],',
      '"Version":"2008-10-17",',
      '"Effect":"Allow",',
      '"Principal":"*",',
      '"NotPrincipal":{"AWS":"*"},',
      '"Action":"s3:*",',
      '"NotAction":[],',
      '"Resource":"arn:aws:s3:::other/*",',
      '"Condition":{"StringEquals":{"aws:username":"${aws:username}"}},',
      '"Condition":{"ForAllValues:StringLike":{"s3:x":["*"]}},',
      '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"not a date"}},',
      '"Condition":{"IpAddress":{"aws:SourceIp":"999.1.1.1/40"}},',
      '"Condition":{"NumericLessThan":{"s3:max-keys":"1e309"}},',
      '${',
      '*',
      '?',
      '\u0000',
      '\uFEFF',
    ];
    let current: string | undefined;

    const policyArb = fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .array(mutationArb(JSON_FRAGMENTS), { minLength: 1, maxLength: 4 })
          .map((ms) => new Doc(applyMutations(valid, ms), `mutations ${describeMutations(ms)}`)),
      },
      {
        weight: 2,
        arbitrary: fc
          .record(
            {
              Version: fc.oneof(fc.constantFrom('2012-10-17', '2008-10-17'), fc.jsonValue()),
              Id: fc.jsonValue(),
              Statement: fc.oneof(
                fc.jsonValue(),
                fc.array(
                  fc.record(
                    {
                      Sid: fc.oneof(fc.string(), fc.jsonValue()),
                      Effect: fc.oneof(fc.constant('Allow'), fc.jsonValue()),
                      Principal: fc.oneof(
                        fc.constantFrom<unknown>(
                          '*',
                          { AWS: CREDENTIALS.accountId },
                          { CanonicalUser: 'x' },
                          { Service: 's3.amazonaws.com' },
                        ),
                        fc.jsonValue(),
                      ),
                      Action: fc.oneof(
                        fc.constantFrom<unknown>('s3:GetObject', ['s3:Get*', 's3:List*'], '*'),
                        fc.jsonValue(),
                      ),
                      Resource: fc.oneof(
                        fc.constantFrom<unknown>(
                          `arn:aws:s3:::${POLICY}/*`,
                          [`arn:aws:s3:::${POLICY}`],
                          'arn:aws:s3:::other',
                        ),
                        fc.jsonValue(),
                      ),
                      Condition: fc.oneof(
                        fc.dictionary(
                          fc.constantFrom(
                            'StringEquals',
                            'StringLikeIfExists',
                            'ForAnyValue:StringLike',
                            'Bool',
                            'NumericLessThan',
                            'DateLessThan',
                            'IpAddress',
                            'Null',
                            'Nope',
                          ),
                          fc.dictionary(
                            fc.constantFrom('aws:SourceIp', 's3:prefix', 'aws:CurrentTime', 's3:max-keys', 'x'),
                            fc.jsonValue(),
                          ),
                        ),
                        fc.jsonValue(),
                      ),
                    },
                    { requiredKeys: ['Effect'] },
                  ),
                  { maxLength: 3 },
                ),
              ),
            },
            { requiredKeys: [] },
          )
          .map((doc) => new Doc(Buffer.from(JSON.stringify(doc)), 'generated policy')),
      },
      {
        weight: 1,
        arbitrary: fc
          .jsonValue({ maxDepth: 6 })
          .map((v) => new Doc(Buffer.from(JSON.stringify(v) ?? ''), 'arbitrary JSON')),
      },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: 1, max: 20_000 })
          .map((d) => new Doc(Buffer.from(`{"Statement":${'['.repeat(d)}${']'.repeat(d)}}`), `nested ${d} deep`)),
      },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: 21 * 1024, max: 200 * 1024 })
          .map(
            (n) => new Doc(Buffer.from(valid.replace('"Sid":"ReadOne"', `"Sid":"${'s'.repeat(n)}"`)), `${n} byte Sid`),
          ),
      },
    );

    test('arbitrary and mutated policies: 204 and GET shows the new one, or 400 MalformedPolicy and GET shows the old one', async () => {
      await w.s3.send(new PutBucketPolicyCommand({ Bucket: POLICY, Policy: valid }));
      current = valid;
      await fc.assert(
        fc.asyncProperty(policyArb, fc.boolean(), async ({ body, how }: Doc, unsignedPayload) => {
          const signed = await signRequest(
            w.endpointUrl,
            { method: 'PUT', path: `/${POLICY}`, query: { policy: '' }, body },
            unsignedPayload ? { contentSha256: 'UNSIGNED-PAYLOAD' } : {},
          );
          const res = await exchange(w.endpointUrl, wireBytes({ ...signed, body }));
          const what = `PutBucketPolicy with ${how}`;
          if (res.status === 204) current = body.toString('utf8');
          else {
            // Over the body limit it is not read as a policy at all.
            const expected = body.length > MAX_POLICY_BODY ? 'MaxMessageLengthExceeded' : 'MalformedPolicy';
            assert.equal(assertClientError(res, what).code, expected, `${what}: ${res.text}`);
          }
          const got = await rawRequest(w.endpointUrl, { method: 'GET', path: `/${POLICY}`, query: { policy: '' } });
          assert.equal(got.status, 200, `${what}: GetBucketPolicy answered ${got.status} ${got.text}`);
          assert.equal(
            got.text,
            current,
            `${what}: GetBucketPolicy shows ${res.status === 204 ? 'the new' : 'the previous'} policy`,
          );
        }),
        runs(200),
      );
      await stillSound();
    });
  });
});

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A document of exactly `size` bytes built from `template` in one of four shapes. */
function hugeDocument(template: string, size: number, shape: string): Buffer {
  const close = template.lastIndexOf('</');
  const head = template.slice(0, close);
  const tail = template.slice(close);
  const room = size - Buffer.byteLength(template);
  let filler: string;
  switch (shape) {
    case 'whitespace':
      filler = ' '.repeat(room);
      break;
    case 'elements':
      filler = '<x/>'.repeat(Math.floor(room / 4)) + ' '.repeat(room % 4);
      break;
    case 'text':
      filler = `<x>${'t'.repeat(room - 7)}</x>`;
      break;
    default: {
      const depth = Math.floor(room / 7);
      filler = '<x>'.repeat(depth) + '</x>'.repeat(depth) + ' '.repeat(room - depth * 7);
    }
  }
  const out = Buffer.from(head + filler + tail);
  assert.equal(out.length, size);
  return out;
}
