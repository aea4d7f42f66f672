/**
 * PutBucketReplication / GetBucketReplication / DeleteBucketReplication end to end through
 * the stock SDK (and raw requests for documents the SDK cannot express): V1 and V2 documents
 * as GET returns them, destinations in this region and in others, and S3's validation errors.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketReplicationCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  S3Client,
  S3ServiceException,
  type ReplicationConfiguration,
  type ReplicationRule,
} from '@aws-sdk/client-s3';
import { assertS3Error, rawRequest } from './helpers/raw-request.ts';
import { rejectsWith } from './helpers/s3-errors.ts';
import { startTestWorld, type TestWorld } from './helpers/world.ts';

const ROLE = 'arn:aws:iam::111122223333:role/replication';
const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const md5 = (body: string): string => createHash('md5').update(body).digest('base64');

/** An extra child element of the SDK error's `<Error>` document. */
function field(err: S3ServiceException, name: string): string | undefined {
  return (err as unknown as Record<string, string | undefined>)[name];
}

/** A V2 rule to `bucket` replicating everything. */
function v2Rule(bucket: string, priority: number, extra: Partial<ReplicationRule> = {}): ReplicationRule {
  return {
    ID: `to-${bucket}`,
    Priority: priority,
    Status: 'Enabled',
    Filter: { Prefix: '' },
    DeleteMarkerReplication: { Status: 'Disabled' },
    Destination: { Bucket: `arn:aws:s3:::${bucket}` },
    ...extra,
  };
}

describe('bucket replication configuration', () => {
  let w: TestWorld;
  let s3: S3Client;
  let endpoint: string;

  const put = (bucket: string, config: ReplicationConfiguration) =>
    s3.send(new PutBucketReplicationCommand({ Bucket: bucket, ReplicationConfiguration: config }));
  const get = async (bucket: string) =>
    (await s3.send(new GetBucketReplicationCommand({ Bucket: bucket }))).ReplicationConfiguration;
  /** A raw PUT ?replication with a correct Content-MD5 unless headers say otherwise. */
  const putRaw = (bucket: string, body: string, headers: Record<string, string> = { 'content-md5': md5(body) }) =>
    rawRequest(endpoint, { method: 'PUT', path: `/${bucket}`, query: { replication: '' }, headers, body });
  const doc = (rules: string) => `<ReplicationConfiguration xmlns="${NS}"><Role>${ROLE}</Role>${rules}</ReplicationConfiguration>`;

  before(async () => {
    w = await startTestWorld();
    s3 = w.client('us-east-1');
    endpoint = w.endpoint('us-east-1');
    const eu = w.client('eu-west-1');
    const versioned = async (client: S3Client, bucket: string, region?: string) => {
      await client.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(region ? { CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-1' } } : {}),
        }),
      );
      await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    };
    await versioned(s3, 'source');
    await versioned(s3, 'replica-local');
    await versioned(s3, 'replica-local-2');
    await versioned(eu, 'replica-eu', 'eu-west-1');
    // Never versioned, and versioned then suspended.
    await s3.send(new CreateBucketCommand({ Bucket: 'unversioned' }));
    await versioned(s3, 'suspended');
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'suspended', VersioningConfiguration: { Status: 'Suspended' } }));
    // Unversioned in another region: this region cannot see its versioning.
    await eu.send(new CreateBucketCommand({ Bucket: 'unversioned-eu', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
  });
  after(() => w.close());

  test('a bucket without a configuration answers 404 ReplicationConfigurationNotFoundError', async () => {
    const err = await rejectsWith(get('source'), 'ReplicationConfigurationNotFoundError', 404);
    assert.equal(err.message, 'The replication configuration was not found');
    assert.equal(field(err, 'BucketName'), 'source');
  });

  test('a missing bucket answers NoSuchBucket for all three operations', async () => {
    await rejectsWith(get('no-such-bucket'), 'NoSuchBucket', 404);
    await rejectsWith(put('no-such-bucket', { Role: ROLE, Rules: [v2Rule('replica-local', 1)] }), 'NoSuchBucket', 404);
    await rejectsWith(s3.send(new DeleteBucketReplicationCommand({ Bucket: 'no-such-bucket' })), 'NoSuchBucket', 404);
  });

  test('V2 round trip: a same-region and a cross-region destination, GET returns what S3 returns', async () => {
    const rules: ReplicationRule[] = [
      v2Rule('replica-local', 1, { Filter: { Prefix: 'docs/' }, DeleteMarkerReplication: { Status: 'Enabled' } }),
      v2Rule('replica-eu', 2, {
        Filter: { And: { Prefix: 'img/', Tags: [{ Key: 'team', Value: 'blue' }, { Key: 'tier', Value: 'gold' }] } },
        SourceSelectionCriteria: { ReplicaModifications: { Status: 'Enabled' } },
        Destination: {
          Bucket: 'arn:aws:s3:::replica-eu',
          Account: '111122223333',
          StorageClass: 'STANDARD_IA',
          AccessControlTranslation: { Owner: 'Destination' },
          ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
          Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
        },
      }),
      v2Rule('replica-local-2', 3, { Status: 'Disabled', Filter: { Tag: { Key: 'k', Value: 'v' } } }),
    ];
    await put('source', { Role: ROLE, Rules: rules });
    assert.deepEqual(await get('source'), { Role: ROLE, Rules: rules });
  });

  test('a V2 rule without an ID gets one generated; GET always shows Priority and DeleteMarkerReplication', async () => {
    const body = doc(
      `<Rule><Priority>5</Priority><Status>Enabled</Status><Filter/><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::replica-local</Bucket></Destination></Rule>`,
    );
    const res = await putRaw('source', body);
    assert.equal(res.status, 200, res.text);
    const config = await get('source');
    const rule = config?.Rules?.[0];
    assert.match(rule?.ID ?? '', /^[A-Za-z0-9+/]{48}$/);
    assert.equal(rule?.Priority, 5);
    assert.deepEqual(rule?.DeleteMarkerReplication, { Status: 'Disabled' });
    assert.deepEqual(rule?.Filter, {});
    assert.deepEqual(rule?.Destination, { Bucket: 'arn:aws:s3:::replica-local' });
    // A second PUT replaces the first configuration.
    await put('source', { Role: ROLE, Rules: [v2Rule('replica-eu', 9)] });
    assert.deepEqual((await get('source'))?.Rules, [v2Rule('replica-eu', 9)]);
  });

  test('V1 round trip: rule-level Prefix, no V2 elements in the answer', async () => {
    const rules: ReplicationRule[] = [
      { ID: 'logs', Prefix: 'logs/', Status: 'Enabled', Destination: { Bucket: 'arn:aws:s3:::replica-eu', StorageClass: 'GLACIER' } },
      { ID: 'all', Prefix: '', Status: 'Disabled', Destination: { Bucket: 'arn:aws:s3:::replica-eu', StorageClass: 'GLACIER' } },
    ];
    await put('source', { Role: ROLE, Rules: rules });
    assert.deepEqual(await get('source'), { Role: ROLE, Rules: rules });
    const raw = await rawRequest(endpoint, { method: 'GET', path: '/source', query: { replication: '' } });
    assert.equal(raw.status, 200);
    assert.match(String(raw.headers['content-type']), /xml/);
    assert.ok(!raw.text.includes('<Priority>') && !raw.text.includes('<Filter>') && !raw.text.includes('DeleteMarkerReplication'), raw.text);
    assert.ok(raw.text.includes('<Rule><ID>logs</ID><Prefix>logs/</Prefix><Status>Enabled</Status>'), raw.text);
  });

  test('delete is 204 and idempotent; GET after it is 404', async () => {
    await put('source', { Role: ROLE, Rules: [v2Rule('replica-local', 1)] });
    const first = await rawRequest(endpoint, { method: 'DELETE', path: '/source', query: { replication: '' } });
    assert.equal(first.status, 204);
    await rejectsWith(get('source'), 'ReplicationConfigurationNotFoundError', 404);
    const again = await s3.send(new DeleteBucketReplicationCommand({ Bucket: 'source' }));
    assert.equal(again.$metadata.httpStatusCode, 204);
    await rejectsWith(get('source'), 'ReplicationConfigurationNotFoundError', 404);
  });

  test('the source must have versioning Enabled (never set, or suspended)', async () => {
    for (const bucket of ['unversioned', 'suspended']) {
      const err = await rejectsWith(put(bucket, { Role: ROLE, Rules: [v2Rule('replica-local', 1)] }), 'InvalidRequest', 400);
      assert.equal(err.message, "Versioning must be 'Enabled' on the bucket to apply a replication configuration");
      assert.equal(field(err, 'BucketName'), bucket);
    }
    // Versioning is checked before the document: even an invalid one gets the versioning error.
    const res = await putRaw('unversioned', doc('<Rule><Status>Enabled</Status></Rule>'));
    assertS3Error(res, 'InvalidRequest', 400);
  });

  test('destinations: must exist, must not be the source, must be versioned (in any region)', async () => {
    const message = async (p: Promise<unknown>) => (await rejectsWith(p, 'InvalidRequest', 400)).message;
    assert.equal(await message(put('source', { Role: ROLE, Rules: [v2Rule('no-such-bucket', 1)] })), 'Destination bucket must exist.');
    assert.equal(await message(put('source', { Role: ROLE, Rules: [v2Rule('source', 1)] })), 'Destination bucket cannot be the same as the source bucket.');
    assert.equal(await message(put('source', { Role: ROLE, Rules: [v2Rule('unversioned', 1)] })), 'Destination bucket must have versioning enabled.');
    assert.equal(await message(put('source', { Role: ROLE, Rules: [v2Rule('suspended', 1)] })), 'Destination bucket must have versioning enabled.');
    // The second rule's destination is checked too.
    assert.equal(
      await message(put('source', { Role: ROLE, Rules: [v2Rule('replica-local', 1), v2Rule('unversioned', 2)] })),
      'Destination bucket must have versioning enabled.',
    );
    // A destination in another region is asked for its versioning.
    assert.equal(
      await message(put('source', { Role: ROLE, Rules: [v2Rule('unversioned-eu', 1)] })),
      'Destination bucket must have versioning enabled.',
    );
    await put('source', { Role: ROLE, Rules: [v2Rule('replica-eu', 1)] });
    assert.equal((await get('source'))?.Rules?.[0].Destination?.Bucket, 'arn:aws:s3:::replica-eu');
  });

  test('an Account that does not own the destination is InvalidArgument', async () => {
    await rejectsWith(
      put('source', { Role: ROLE, Rules: [v2Rule('replica-eu', 1, { Destination: { Bucket: 'arn:aws:s3:::replica-eu', Account: '999999999999' } })] }),
      'InvalidArgument',
      400,
    );
  });

  test('a destination Bucket that is not a bucket ARN is InvalidArgument', async () => {
    const err = await rejectsWith(
      put('source', { Role: ROLE, Rules: [v2Rule('x', 1, { Destination: { Bucket: 'replica-local' } })] }),
      'InvalidArgument',
      400,
    );
    assert.equal(err.message, 'Invalid bucket ARN.');
    assert.equal(field(err, 'ArgumentName'), 'Bucket');
    assert.equal(field(err, 'ArgumentValue'), 'replica-local');
  });

  test('V2 validation errors through the SDK', async () => {
    const expectError = async (rules: ReplicationRule[], code: string, message: string) => {
      const err = await rejectsWith(put('source', { Role: ROLE, Rules: rules }), code, 400);
      assert.equal(err.message, message);
      return err;
    };
    const version = (el: string, verb: string) =>
      `${el} ${verb} for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information.`;
    await expectError([{ ...v2Rule('replica-local', 1), Priority: undefined }], 'InvalidRequest', version('Priority', 'must be specified'));
    await expectError(
      [{ ...v2Rule('replica-local', 1), DeleteMarkerReplication: undefined }],
      'InvalidRequest',
      version('DeleteMarkerReplication', 'must be specified'),
    );
    await expectError([v2Rule('replica-local', 4), v2Rule('replica-eu', 4)], 'InvalidRequest', 'Found duplicate priority 4.');
    const dup = await expectError(
      [v2Rule('replica-local', 1, { ID: 'same' }), v2Rule('replica-eu', 2, { ID: 'same' })],
      'InvalidArgument',
      'Rule Id must be unique.',
    );
    assert.equal(field(dup, 'ArgumentName'), 'ID');
    await expectError([v2Rule('replica-local', 1, { ID: 'x'.repeat(256) })], 'InvalidArgument', 'ID length should not exceed allowed limit of 255');
    await expectError([v2Rule('replica-local', 1, { ID: 'règle' })], 'InvalidArgument', 'Rule ID must not contain non-ASCII characters.');
    await expectError(
      [v2Rule('replica-local', 1, { Filter: { Tag: { Key: 'k', Value: 'v' } }, DeleteMarkerReplication: { Status: 'Enabled' } })],
      'InvalidRequest',
      'Delete marker replication is not supported if any Tag filter is specified. Please refer to S3 Developer Guide for more information.',
    );
    await expectError(
      [v2Rule('replica-local', 1, { Destination: { Bucket: 'arn:aws:s3:::replica-local', AccessControlTranslation: { Owner: 'Destination' } } })],
      'InvalidRequest',
      'Account must be specified if the Owner in AccessControlTranslation has a value',
    );
    await expectError(
      [
        v2Rule('replica-local', 1, {
          Destination: {
            Bucket: 'arn:aws:s3:::replica-local',
            ReplicationTime: { Status: 'Enabled', Time: { Minutes: 10 } },
            Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
          },
        }),
      ],
      'InvalidArgument',
      'Only a value of 15 minutes is accepted for Time.',
    );
    await expectError(
      [
        v2Rule('replica-local', 1, {
          Destination: { Bucket: 'arn:aws:s3:::replica-local', ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } } },
        }),
      ],
      'InvalidRequest',
      'Replication destination must contain both ReplicationTime and Metrics or neither.',
    );
    await expectError(
      [
        v2Rule('replica-local', 1, {
          Destination: {
            Bucket: 'arn:aws:s3:::replica-local',
            ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
            Metrics: { Status: 'Disabled', EventThreshold: { Minutes: 15 } },
          },
        }),
      ],
      'InvalidRequest',
      'Metrics must be enabled when ReplicationTime is enabled.',
    );
    await rejectsWith(
      put('source', { Role: ROLE, Rules: [v2Rule('replica-local', 1, { Destination: { Bucket: 'arn:aws:s3:::replica-local', StorageClass: 'COLD' as 'STANDARD' } })] }),
      'MalformedXML',
      400,
    );
    await expectError(
      [v2Rule('replica-local', 1, { SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } } })],
      'InvalidRequest',
      'ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.',
    );
    // Nothing was stored by any of these.
    await s3.send(new DeleteBucketReplicationCommand({ Bucket: 'source' }));
  });

  test('V1 validation errors through the SDK', async () => {
    const v1 = (bucket: string, extra: Partial<ReplicationRule> = {}): ReplicationRule => ({
      Prefix: '',
      Status: 'Enabled',
      Destination: { Bucket: `arn:aws:s3:::${bucket}` },
      ...extra,
    });
    const err = await rejectsWith(put('source', { Role: ROLE, Rules: [v1('replica-local'), v1('replica-eu')] }), 'InvalidRequest', 400);
    assert.equal(err.message, 'Number of distinct destination bucket ARNs cannot exceed 1');
    // A filtered rule beside an unfiltered one: still V1, still one destination at most.
    const mixed = await rejectsWith(put('source', { Role: ROLE, Rules: [v2Rule('replica-local', 1), v1('replica-eu')] }), 'InvalidRequest', 400);
    assert.equal(mixed.message, 'Number of distinct destination bucket ARNs cannot exceed 1');
    const dm = await rejectsWith(
      put('source', { Role: ROLE, Rules: [v1('replica-local', { DeleteMarkerReplication: { Status: 'Disabled' } })] }),
      'InvalidRequest',
      400,
    );
    assert.equal(
      dm.message,
      'DeleteMarkerReplication cannot be used for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information.',
    );
    const mods = await rejectsWith(
      put('source', { Role: ROLE, Rules: [v1('replica-local', { SourceSelectionCriteria: { ReplicaModifications: { Status: 'Enabled' } } })] }),
      'InvalidRequest',
      400,
    );
    assert.match(mods.message ?? '', /^ReplicaModifications cannot be used for this version/);
  });

  test('documents the SDK cannot express: MalformedXML', async () => {
    const dest = '<Destination><Bucket>arn:aws:s3:::replica-local</Bucket></Destination>';
    const dmr = '<DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>';
    const bodies = [
      'not xml at all',
      `<ReplicationConfiguration xmlns="${NS}"><Role>${ROLE}</Role></ReplicationConfiguration>`,
      doc(`<Rule><Status>Enabled</Status>${dest}</Rule>`),
      doc(`<Rule><Priority>1</Priority><Status>Enabled</Status><Prefix>a</Prefix><Filter/>${dmr}${dest}</Rule>`),
      doc(`<Rule><Priority>1</Priority><Status>Enabled</Status><Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>${dmr}${dest}</Rule>`),
      doc(`<Rule><Priority>1</Priority><Status>On</Status><Filter/>${dmr}${dest}</Rule>`),
    ];
    for (const body of bodies) assertS3Error(await putRaw('source', body), 'MalformedXML', 400);
  });

  test('more than 1000 rules is InvalidRequest', async () => {
    const rule = (i: number) =>
      `<Rule><ID>r${i}</ID><Priority>${i}</Priority><Status>Enabled</Status><Filter/><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::replica-local</Bucket></Destination></Rule>`;
    const res = await putRaw('source', doc(Array.from({ length: 1001 }, (_, i) => rule(i)).join('')));
    const e = assertS3Error(res, 'InvalidRequest', 400);
    assert.equal(e.message, 'The number of replication rules must not exceed the allowed limit of 1000 rules.');
    const ok = await putRaw('source', doc(Array.from({ length: 1000 }, (_, i) => rule(i)).join('')));
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await get('source'))?.Rules?.length, 1000);
    await s3.send(new DeleteBucketReplicationCommand({ Bucket: 'source' }));
  });

  test('the body needs Content-MD5 or a checksum, and it must match', async () => {
    const body = doc(
      `<Rule><Priority>1</Priority><Status>Enabled</Status><Filter/><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::replica-local</Bucket></Destination></Rule>`,
    );
    const missing = assertS3Error(await putRaw('source', body, {}), 'InvalidRequest', 400);
    assert.equal(missing.message, 'Missing required header for this request: Content-MD5');
    assertS3Error(await putRaw('source', body, { 'content-md5': md5('other') }), 'BadDigest', 400);
    const sha256 = createHash('sha256').update(body).digest('base64');
    const ok = await putRaw('source', body, { 'x-amz-checksum-sha256': sha256 });
    assert.equal(ok.status, 200, ok.text);
    await s3.send(new DeleteBucketReplicationCommand({ Bucket: 'source' }));
  });

  test('suspending versioning while a configuration exists is 409 InvalidBucketState', async () => {
    await put('source', { Role: ROLE, Rules: [v2Rule('replica-local', 1)] });
    const err = await rejectsWith(
      s3.send(new PutBucketVersioningCommand({ Bucket: 'source', VersioningConfiguration: { Status: 'Suspended' } })),
      'InvalidBucketState',
      409,
    );
    assert.equal(
      err.message,
      'A replication configuration is present on this bucket, so you cannot change the versioning state. To change the versioning state, first delete the replication configuration.',
    );
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'source' }))).Status, 'Enabled');
    // Enabling again is allowed; once the configuration is gone, suspending is too.
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'source', VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new DeleteBucketReplicationCommand({ Bucket: 'source' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'source', VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'source' }))).Status, 'Suspended');
  });
});
