import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { S3Error } from '../core/errors.ts';
import type { ReplicationConfiguration, ReplicationFilter, ReplicationRule, Tag } from '../storage/types.ts';
import {
  generateRuleId,
  isV2Configuration,
  parseReplicationConfiguration,
  replicationConfigurationXml,
} from './replication-config.ts';

const ROLE = 'arn:aws:iam::111122223333:role/replication';
const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

function doc(rules: string, role = `<Role>${ROLE}</Role>`): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ReplicationConfiguration xmlns="${NS}">${role}${rules}</ReplicationConfiguration>`;
}

const dest = (bucket = 'dest', extra = ''): string =>
  `<Destination><Bucket>arn:aws:s3:::${bucket}</Bucket>${extra}</Destination>`;
const dmr = (s = 'Disabled'): string => `<DeleteMarkerReplication><Status>${s}</Status></DeleteMarkerReplication>`;
const RTC = '<ReplicationTime><Status>Enabled</Status><Time><Minutes>15</Minutes></Time></ReplicationTime>';
const METRICS = '<Metrics><Status>Enabled</Status><EventThreshold><Minutes>15</Minutes></EventThreshold></Metrics>';

/** A V2 rule; `parts` replaces any of its elements. */
function v2(parts: Partial<Record<'id' | 'priority' | 'status' | 'filter' | 'dmr' | 'dest' | 'extra', string>> = {}): string {
  return `<Rule>${parts.id ?? ''}${parts.priority ?? '<Priority>1</Priority>'}${parts.status ?? '<Status>Enabled</Status>'}${
    parts.filter ?? '<Filter/>'
  }${parts.extra ?? ''}${parts.dmr ?? dmr()}${parts.dest ?? dest()}</Rule>`;
}

/** A V1 rule. */
function v1(parts: Partial<Record<'id' | 'prefix' | 'status' | 'dest' | 'extra', string>> = {}): string {
  return `<Rule>${parts.id ?? ''}${parts.status ?? '<Status>Enabled</Status>'}${parts.prefix ?? '<Prefix></Prefix>'}${
    parts.extra ?? ''
  }${parts.dest ?? dest()}</Rule>`;
}

/** Asserts `fn` throws this S3 error; `fields` must match exactly when given. */
function throwsS3(fn: () => unknown, code: string, message?: string, fields?: Record<string, string>): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof S3Error, `expected an S3Error, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.equal(err.message, message);
    if (fields !== undefined) assert.deepEqual(err.fields, fields);
    return true;
  });
}

const parse = parseReplicationConfiguration;
const only = (xml: string): ReplicationRule => {
  const c = parse(xml);
  assert.equal(c.rules.length, 1);
  return c.rules[0];
};

const schemaMessage = (element: string, required: boolean): string =>
  `${element} ${required ? 'must be specified' : 'cannot be used'} for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information.`;

describe('parseReplicationConfiguration: valid documents', () => {
  it('reads a minimal V1 rule', () => {
    const c = parse(doc(v1({ id: '<ID>r1</ID>', prefix: '<Prefix>logs/</Prefix>' })));
    assert.deepEqual(c, {
      role: ROLE,
      rules: [{ id: 'r1', status: 'Enabled', prefix: 'logs/', destination: { bucket: 'dest', arn: 'arn:aws:s3:::dest' } }],
    });
    assert.equal(isV2Configuration(c), false);
  });

  it('reads a minimal V2 rule with an empty filter', () => {
    const c = parse(doc(v2({ id: '<ID>r1</ID>', priority: '<Priority>0</Priority>' })));
    assert.deepEqual(c.rules[0], {
      id: 'r1',
      status: 'Enabled',
      priority: 0,
      filter: { kind: 'all' },
      deleteMarkerReplication: 'Disabled',
      destination: { bucket: 'dest', arn: 'arn:aws:s3:::dest' },
    });
    assert.equal(isV2Configuration(c), true);
  });

  const filters: [string, string, ReplicationFilter][] = [
    ['an empty filter', '<Filter></Filter>', { kind: 'all' }],
    ['a prefix', '<Filter><Prefix>docs/</Prefix></Filter>', { kind: 'prefix', prefix: 'docs/' }],
    ['an empty prefix', '<Filter><Prefix></Prefix></Filter>', { kind: 'prefix', prefix: '' }],
    ['a prefix with spaces kept', '<Filter><Prefix> a b </Prefix></Filter>', { kind: 'prefix', prefix: ' a b ' }],
    ['a prefix with an entity', '<Filter><Prefix>a&amp;b&lt;c</Prefix></Filter>', { kind: 'prefix', prefix: 'a&b<c' }],
    ['a tag', '<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>', { kind: 'tag', tag: { key: 'k', value: 'v' } }],
    ['a tag with an empty value', '<Filter><Tag><Key>k</Key><Value></Value></Tag></Filter>', { kind: 'tag', tag: { key: 'k', value: '' } }],
    [
      'And with a prefix and two tags',
      '<Filter><And><Prefix>p/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></And></Filter>',
      { kind: 'and', prefix: 'p/', tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] },
    ],
    [
      'And with tags only',
      '<Filter><And><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></And></Filter>',
      { kind: 'and', tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] },
    ],
    ['And with a prefix only', '<Filter><And><Prefix>p/</Prefix></And></Filter>', { kind: 'and', prefix: 'p/', tags: [] }],
  ];
  for (const [name, filter, expected] of filters) {
    it(`reads a filter: ${name}`, () => assert.deepEqual(only(doc(v2({ filter }))).filter, expected));
  }

  it('reads every optional element of a V2 rule', () => {
    const rule = only(
      doc(
        v2({
          id: '<ID>full</ID>',
          priority: '<Priority>2147483647</Priority>',
          status: '<Status>Disabled</Status>',
          extra:
            '<SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects><ReplicaModifications><Status>Enabled</Status></ReplicaModifications></SourceSelectionCriteria>' +
            '<ExistingObjectReplication><Status>Disabled</Status></ExistingObjectReplication>',
          dmr: dmr('Enabled'),
          dest: dest(
            'dest',
            '<Account>444455556666</Account><StorageClass>GLACIER_IR</StorageClass><AccessControlTranslation><Owner>Destination</Owner></AccessControlTranslation>' +
              '<EncryptionConfiguration><ReplicaKmsKeyID>arn:aws:kms:us-east-1:444455556666:key/k</ReplicaKmsKeyID></EncryptionConfiguration>' +
              RTC +
              METRICS,
          ),
        }),
      ),
    );
    assert.deepEqual(rule, {
      id: 'full',
      status: 'Disabled',
      priority: 2147483647,
      filter: { kind: 'all' },
      deleteMarkerReplication: 'Enabled',
      sseKmsEncryptedObjects: 'Enabled',
      replicaModifications: 'Enabled',
      existingObjectReplication: 'Disabled',
      destination: {
        bucket: 'dest',
        arn: 'arn:aws:s3:::dest',
        account: '444455556666',
        storageClass: 'GLACIER_IR',
        ownerOverride: 'Destination',
        replicaKmsKeyId: 'arn:aws:kms:us-east-1:444455556666:key/k',
        replicationTime: { status: 'Enabled', minutes: 15 },
        metrics: { status: 'Enabled', minutes: 15 },
      },
    });
  });

  it('accepts replication metrics without RTC, with or without a threshold', () => {
    assert.deepEqual(only(doc(v2({ dest: dest('dest', '<Metrics><Status>Enabled</Status></Metrics>') }))).destination.metrics, {
      status: 'Enabled',
    });
    assert.deepEqual(only(doc(v2({ dest: dest('dest', METRICS) }))).destination.metrics, { status: 'Enabled', minutes: 15 });
  });

  it('accepts disabled RTC beside disabled metrics', () => {
    const d = only(
      doc(
        v2({
          dest: dest(
            'dest',
            '<ReplicationTime><Status>Disabled</Status><Time><Minutes>15</Minutes></Time></ReplicationTime><Metrics><Status>Disabled</Status></Metrics>',
          ),
        }),
      ),
    ).destination;
    assert.deepEqual(d.replicationTime, { status: 'Disabled', minutes: 15 });
    assert.deepEqual(d.metrics, { status: 'Disabled' });
  });

  it('allows several destinations in V2, one per rule', () => {
    const c = parse(doc(v2({ dest: dest('dest-a') }) + v2({ priority: '<Priority>2</Priority>', dest: dest('dest-b') })));
    assert.deepEqual(
      c.rules.map((r) => r.destination.bucket),
      ['dest-a', 'dest-b'],
    );
  });

  it('allows several V1 rules to one destination', () => {
    const c = parse(doc(v1({ prefix: '<Prefix>a/</Prefix>' }) + v1({ prefix: '<Prefix>b/</Prefix>' })));
    assert.deepEqual(
      c.rules.map((r) => r.prefix),
      ['a/', 'b/'],
    );
  });

  it('accepts the elements in any order, and without the namespace or XML declaration', () => {
    const rule = only(
      `<ReplicationConfiguration><Rule>${dest()}${dmr()}<Filter/><Status>Enabled</Status><Priority>3</Priority><ID>x</ID></Rule><Role>${ROLE}</Role></ReplicationConfiguration>`,
    );
    assert.equal(rule.id, 'x');
    assert.equal(rule.priority, 3);
  });

  it('generates an ID, base64 of a random UUID, for a rule without one or with an empty one', () => {
    const c = parse(doc(v2() + v2({ id: '<ID></ID>', priority: '<Priority>2</Priority>' })));
    for (const { id } of c.rules) {
      assert.match(id, /^[A-Za-z0-9+/]{48}$/);
      assert.match(Buffer.from(id, 'base64').toString(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    assert.notEqual(c.rules[0].id, c.rules[1].id);
    assert.notEqual(generateRuleId(), generateRuleId());
  });

  it('accepts an ID of 255 ASCII characters and 1000 rules', () => {
    assert.equal(only(doc(v2({ id: `<ID>${'i'.repeat(255)}</ID>` }))).id.length, 255);
    const many = Array.from({ length: 1000 }, (_, i) => v2({ id: `<ID>r${i}</ID>`, priority: `<Priority>${i}</Priority>` }));
    assert.equal(parse(doc(many.join(''))).rules.length, 1000);
  });

  it('accepts every storage class of the model', () => {
    for (const sc of ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'OUTPOSTS', 'GLACIER_IR']) {
      assert.equal(only(doc(v1({ dest: dest('dest', `<StorageClass>${sc}</StorageClass>`) }))).destination.storageClass, sc);
    }
  });
});

describe('parseReplicationConfiguration: invalid documents', () => {
  const malformed: [string, string][] = [
    ['an empty body', ''],
    ['not XML', 'replication please'],
    ['unbalanced XML', `<ReplicationConfiguration><Role>${ROLE}</Role>`],
    ['another root', `<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`],
    ['two roots', `${doc(v2())}${doc(v2())}`.replace(/<\?xml[^>]*>/g, '')],
    ['no Role', doc(v2(), '')],
    ['two Roles', doc(v2(), `<Role>${ROLE}</Role><Role>${ROLE}</Role>`)],
    ['no Rule', doc('')],
    ['an empty Rule', doc('<Rule></Rule>')],
    ['an unknown element under the root', doc(v2() + '<Bogus/>')],
    ['text under the root', doc(v2() + 'loose text')],
    ['an unknown element in a rule', doc(v2({ extra: '<Bogus>1</Bogus>' }))],
    ['an unknown element in a destination', doc(v2({ dest: dest('dest', '<Region>x</Region>') }))],
    ['a rule with neither Prefix nor Filter', doc(`<Rule><Status>Enabled</Status>${dest()}</Rule>`)],
    ['a rule-level Prefix together with Filter', doc(v2({ extra: '<Prefix>a</Prefix>' }))],
    ['a Filter with two children', doc(v2({ filter: '<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>' }))],
    ['a Filter with two Prefixes', doc(v2({ filter: '<Filter><Prefix>a</Prefix><Prefix>b</Prefix></Filter>' }))],
    ['a Filter with two Tags outside And', doc(v2({ filter: '<Filter><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></Filter>' }))],
    ['an empty And', doc(v2({ filter: '<Filter><And></And></Filter>' }))],
    ['a Tag without Value', doc(v2({ filter: '<Filter><Tag><Key>k</Key></Tag></Filter>' }))],
    ['a Tag without Key', doc(v2({ filter: '<Filter><Tag><Value>v</Value></Tag></Filter>' }))],
    ['a rule without Status', doc(v2({ status: '' }))],
    ['a Status other than Enabled/Disabled', doc(v2({ status: '<Status>enabled</Status>' }))],
    ['a rule without Destination', doc(v2({ dest: '' }))],
    ['a Destination without Bucket', doc(v2({ dest: '<Destination><StorageClass>STANDARD</StorageClass></Destination>' }))],
    ['an unknown storage class', doc(v2({ dest: dest('dest', '<StorageClass>COLD</StorageClass>') }))],
    ['a non-integer Priority', doc(v2({ priority: '<Priority>high</Priority>' }))],
    ['a Priority beyond int32', doc(v2({ priority: '<Priority>2147483648</Priority>' }))],
    ['a DeleteMarkerReplication status of Maybe', doc(v2({ dmr: dmr('Maybe') }))],
    ['a DeleteMarkerReplication without Status', doc(v2({ dmr: '<DeleteMarkerReplication/>' }))],
    ['an Owner other than Destination', doc(v2({ dest: dest('dest', '<Account>1</Account><AccessControlTranslation><Owner>Source</Owner></AccessControlTranslation>') }))],
    ['a non-integer RTC Minutes', doc(v2({ dest: dest('dest', '<ReplicationTime><Status>Enabled</Status><Time><Minutes>x</Minutes></Time></ReplicationTime>' + METRICS) }))],
    ['a bad ExistingObjectReplication status', doc(v2({ extra: '<ExistingObjectReplication><Status>On</Status></ExistingObjectReplication>' }))],
  ];
  for (const [name, xml] of malformed) {
    it(`MalformedXML: ${name}`, () => throwsS3(() => parse(xml), 'MalformedXML'));
  }

  it('more than 1000 rules is InvalidRequest', () => {
    const many = Array.from({ length: 1001 }, (_, i) => v2({ priority: `<Priority>${i}</Priority>` }));
    throwsS3(
      () => parse(doc(many.join(''))),
      'InvalidRequest',
      'The number of replication rules must not exceed the allowed limit of 1000 rules.',
    );
  });

  it('V2 without Priority or DeleteMarkerReplication', () => {
    throwsS3(() => parse(doc(v2({ priority: '' }))), 'InvalidRequest', schemaMessage('Priority', true));
    throwsS3(() => parse(doc(v2({ dmr: '' }))), 'InvalidRequest', schemaMessage('DeleteMarkerReplication', true));
    // Priority is checked before DeleteMarkerReplication.
    throwsS3(() => parse(doc(v2({ priority: '', dmr: '' }))), 'InvalidRequest', schemaMessage('Priority', true));
  });

  it('a negative Priority', () => {
    throwsS3(() => parse(doc(v2({ priority: '<Priority>-1</Priority>' }))), 'InvalidRequest', 'Priority must be between 0 and 2147483647.');
  });

  it('duplicate priorities, whatever the destinations and statuses', () => {
    throwsS3(() => parse(doc(v2() + v2())), 'InvalidRequest', 'Found duplicate priority 1.');
    throwsS3(
      () => parse(doc(v2({ priority: '<Priority>7</Priority>', dest: dest('dest-a') }) + v2({ priority: '<Priority>7</Priority>', status: '<Status>Disabled</Status>', dest: dest('dest-b') }))),
      'InvalidRequest',
      'Found duplicate priority 7.',
    );
  });

  it('duplicate rule IDs, in V1 and V2', () => {
    throwsS3(
      () => parse(doc(v2({ id: '<ID>same</ID>' }) + v2({ id: '<ID>same</ID>', priority: '<Priority>2</Priority>' }))),
      'InvalidArgument',
      'Rule Id must be unique.',
      { ArgumentName: 'ID', ArgumentValue: 'same' },
    );
    throwsS3(() => parse(doc(v1({ id: '<ID>same</ID>' }) + v1({ id: '<ID>same</ID>' }))), 'InvalidArgument', 'Rule Id must be unique.');
  });

  it('an ID longer than 255 characters or with non-ASCII characters', () => {
    const long = 'i'.repeat(256);
    throwsS3(() => parse(doc(v2({ id: `<ID>${long}</ID>` }))), 'InvalidArgument', 'ID length should not exceed allowed limit of 255', {
      ArgumentName: 'ID',
      ArgumentValue: long,
    });
    throwsS3(() => parse(doc(v2({ id: '<ID>règle</ID>' }))), 'InvalidArgument', 'Rule ID must not contain non-ASCII characters.', {
      ArgumentName: 'ID',
      ArgumentValue: 'règle',
    });
  });

  it('a prefix longer than 1024 characters', () => {
    const long = 'p'.repeat(1025);
    throwsS3(() => parse(doc(v2({ filter: `<Filter><Prefix>${long}</Prefix></Filter>` }))), 'InvalidArgument');
    throwsS3(() => parse(doc(v1({ prefix: `<Prefix>${long}</Prefix>` }))), 'InvalidArgument');
    assert.equal(only(doc(v1({ prefix: `<Prefix>${'p'.repeat(1024)}</Prefix>` }))).prefix?.length, 1024);
  });

  it('a tag filter with DeleteMarkerReplication Enabled', () => {
    const message =
      'Delete marker replication is not supported if any Tag filter is specified. Please refer to S3 Developer Guide for more information.';
    throwsS3(() => parse(doc(v2({ filter: '<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>', dmr: dmr('Enabled') }))), 'InvalidRequest', message);
    throwsS3(
      () => parse(doc(v2({ filter: '<Filter><And><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>', dmr: dmr('Enabled') }))),
      'InvalidRequest',
      message,
    );
    // A prefix-only And has no tags: delete markers may replicate.
    assert.equal(only(doc(v2({ filter: '<Filter><And><Prefix>p</Prefix></And></Filter>', dmr: dmr('Enabled') }))).deleteMarkerReplication, 'Enabled');
  });

  it('duplicate or invalid tag keys in a filter', () => {
    throwsS3(
      () => parse(doc(v2({ filter: '<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter>' }))),
      'InvalidRequest',
      'Duplicate Tag Keys are not allowed.',
    );
    throwsS3(() => parse(doc(v2({ filter: '<Filter><Tag><Key></Key><Value>v</Value></Tag></Filter>' }))), 'InvalidTag', 'The TagKey you have provided is invalid');
    throwsS3(() => parse(doc(v2({ filter: '<Filter><Tag><Key>k</Key><Value>a*b</Value></Tag></Filter>' }))), 'InvalidTag', 'The TagValue you have provided is invalid');
  });

  it('AccessControlTranslation without Account, or with an empty one', () => {
    const message = 'Account must be specified if the Owner in AccessControlTranslation has a value';
    const act = '<AccessControlTranslation><Owner>Destination</Owner></AccessControlTranslation>';
    throwsS3(() => parse(doc(v2({ dest: dest('dest', act) }))), 'InvalidRequest', message);
    throwsS3(() => parse(doc(v2({ dest: dest('dest', `<Account></Account>${act}`) }))), 'InvalidRequest', message);
  });

  it('KMS replication needs both SseKmsEncryptedObjects and a ReplicaKmsKeyID', () => {
    const sse = '<SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects></SourceSelectionCriteria>';
    throwsS3(
      () => parse(doc(v2({ extra: sse }))),
      'InvalidRequest',
      'ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.',
    );
    throwsS3(
      () => parse(doc(v2({ dest: dest('dest', '<EncryptionConfiguration><ReplicaKmsKeyID>k</ReplicaKmsKeyID></EncryptionConfiguration>') }))),
      'InvalidRequest',
      'SseKmsEncryptedObjects must be specified if EncryptionConfiguration is present.',
    );
    throwsS3(() => parse(doc(v2({ extra: '<SourceSelectionCriteria></SourceSelectionCriteria>' }))), 'InvalidRequest', 'SourceSelectionCriteria cannot be empty.');
  });

  it('RTC and metrics thresholds other than 15 minutes', () => {
    throwsS3(
      () => parse(doc(v2({ dest: dest('dest', RTC.replace('15', '10') + METRICS) }))),
      'InvalidArgument',
      'Only a value of 15 minutes is accepted for Time.',
    );
    throwsS3(
      () => parse(doc(v2({ dest: dest('dest', RTC + METRICS.replace('15', '30')) }))),
      'InvalidArgument',
      'Only a value of 15 minutes is accepted for EventThreshold.',
    );
    throwsS3(() => parse(doc(v2({ dest: dest('dest', METRICS.replace('15', '16')) }))), 'InvalidArgument');
  });

  it('RTC or metrics missing a child', () => {
    throwsS3(() => parse(doc(v2({ dest: dest('dest', '<ReplicationTime><Status>Enabled</Status></ReplicationTime>' + METRICS) }))), 'InvalidArgument');
    throwsS3(() => parse(doc(v2({ dest: dest('dest', '<ReplicationTime><Status>Enabled</Status><Time></Time></ReplicationTime>' + METRICS) }))), 'InvalidArgument');
    throwsS3(() => parse(doc(v2({ dest: dest('dest', '<ReplicationTime><Time><Minutes>15</Minutes></Time></ReplicationTime>' + METRICS) }))), 'InvalidArgument');
    throwsS3(() => parse(doc(v2({ dest: dest('dest', RTC + '<Metrics><EventThreshold><Minutes>15</Minutes></EventThreshold></Metrics>') }))), 'InvalidArgument');
    throwsS3(() => parse(doc(v2({ dest: dest('dest', RTC + '<Metrics><Status>Enabled</Status></Metrics>') }))), 'InvalidArgument');
  });

  it('RTC without metrics, or enabled beside disabled metrics', () => {
    throwsS3(
      () => parse(doc(v2({ dest: dest('dest', RTC) }))),
      'InvalidRequest',
      'Replication destination must contain both ReplicationTime and Metrics or neither.',
    );
    throwsS3(
      () => parse(doc(v2({ dest: dest('dest', RTC + METRICS.replace('Enabled', 'Disabled')) }))),
      'InvalidRequest',
      'Metrics must be enabled when ReplicationTime is enabled.',
    );
  });

  it('a destination Bucket that is not an S3 bucket ARN', () => {
    for (const bucket of ['dest', 'arn:aws:s3:::', 'arn:aws:s3:us-east-1:111122223333:dest', 'arn:aws:iam::111122223333:role/dest', 'arn:aws:s3:::Bad_Name', 'arn:aws:s3:::dest/key']) {
      throwsS3(
        () => parse(doc(v2({ dest: `<Destination><Bucket>${bucket}</Bucket></Destination>` }))),
        'InvalidArgument',
        'Invalid bucket ARN.',
        { ArgumentName: 'Bucket', ArgumentValue: bucket },
      );
    }
  });

  it('V1 with more than one distinct destination, even beside V2 rules', () => {
    const message = 'Number of distinct destination bucket ARNs cannot exceed 1';
    throwsS3(() => parse(doc(v1({ dest: dest('dest-a') }) + v1({ dest: dest('dest-b') }))), 'InvalidRequest', message);
    // One rule without Filter makes the document V1 (terraform-aws-s3-bucket#104).
    throwsS3(() => parse(doc(v2({ dest: dest('dest-a') }) + v1({ dest: dest('dest-b') }))), 'InvalidRequest', message);
  });

  it('V2-only elements in a V1 document', () => {
    throwsS3(() => parse(doc(v1({ extra: '<Priority>1</Priority>' }))), 'InvalidRequest', schemaMessage('Priority', false));
    throwsS3(() => parse(doc(v1({ extra: dmr() }))), 'InvalidRequest', schemaMessage('DeleteMarkerReplication', false));
    throwsS3(
      () => parse(doc(v1({ extra: '<SourceSelectionCriteria><ReplicaModifications><Status>Enabled</Status></ReplicaModifications></SourceSelectionCriteria>' }))),
      'InvalidRequest',
      schemaMessage('ReplicaModifications', false),
    );
    throwsS3(() => parse(doc(v1({ dest: dest('dest', RTC + METRICS) }))), 'InvalidRequest', schemaMessage('ReplicationTime', false));
    throwsS3(() => parse(doc(v1({ dest: dest('dest', METRICS) }))), 'InvalidRequest', schemaMessage('Metrics', false));
    // A filtered rule in a V1 document (same destination), once Priority and DMR are gone.
    throwsS3(() => parse(doc(v2({ priority: '', dmr: '' }) + v1())), 'InvalidRequest', schemaMessage('Filter', false));
  });

  it('V1 accepts SseKmsEncryptedObjects and ExistingObjectReplication', () => {
    const rule = only(
      doc(
        v1({
          extra:
            '<SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects></SourceSelectionCriteria><ExistingObjectReplication><Status>Enabled</Status></ExistingObjectReplication>',
          dest: dest('dest', '<EncryptionConfiguration><ReplicaKmsKeyID>key</ReplicaKmsKeyID></EncryptionConfiguration>'),
        }),
      ),
    );
    assert.equal(rule.sseKmsEncryptedObjects, 'Enabled');
    assert.equal(rule.existingObjectReplication, 'Enabled');
    assert.equal(rule.destination.replicaKmsKeyId, 'key');
  });
});

describe('replicationConfigurationXml', () => {
  it('renders a V1 document without V2 elements', () => {
    const xml = replicationConfigurationXml({
      role: ROLE,
      rules: [{ id: 'r1', status: 'Enabled', prefix: '', destination: { bucket: 'dest', arn: 'arn:aws:s3:::dest' } }],
    });
    assert.equal(
      xml,
      `<?xml version="1.0" encoding="UTF-8"?>\n<ReplicationConfiguration xmlns="${NS}"><Role>${ROLE}</Role><Rule><ID>r1</ID><Prefix></Prefix><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::dest</Bucket></Destination></Rule></ReplicationConfiguration>`,
    );
  });

  it('renders a V2 rule with Priority and DeleteMarkerReplication always present', () => {
    const xml = replicationConfigurationXml({
      role: ROLE,
      rules: [{ id: 'r', status: 'Enabled', filter: { kind: 'all' }, destination: { bucket: 'd', arn: 'arn:aws:s3:::d' } }],
    });
    assert.match(xml, /<Rule><ID>r<\/ID><Priority>0<\/Priority><Filter><\/Filter><Status>Enabled<\/Status><Destination><Bucket>arn:aws:s3:::d<\/Bucket><\/Destination><DeleteMarkerReplication><Status>Disabled<\/Status><\/DeleteMarkerReplication><\/Rule>/);
  });

  it('renders And filters with flattened Tags, and every destination setting in model order', () => {
    const xml = replicationConfigurationXml({
      role: ROLE,
      rules: [
        {
          id: 'r',
          status: 'Enabled',
          priority: 4,
          filter: { kind: 'and', prefix: 'p', tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] },
          deleteMarkerReplication: 'Disabled',
          sseKmsEncryptedObjects: 'Enabled',
          replicaModifications: 'Disabled',
          existingObjectReplication: 'Enabled',
          destination: {
            bucket: 'd',
            arn: 'arn:aws:s3:::d',
            account: '444455556666',
            storageClass: 'STANDARD',
            ownerOverride: 'Destination',
            replicaKmsKeyId: 'k',
            replicationTime: { status: 'Enabled', minutes: 15 },
            metrics: { status: 'Enabled', minutes: 15 },
          },
        },
      ],
    });
    assert.ok(
      xml.includes(
        '<Filter><And><Prefix>p</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></And></Filter>' +
          '<Status>Enabled</Status><SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects><ReplicaModifications><Status>Disabled</Status></ReplicaModifications></SourceSelectionCriteria>' +
          '<ExistingObjectReplication><Status>Enabled</Status></ExistingObjectReplication>' +
          '<Destination><Bucket>arn:aws:s3:::d</Bucket><Account>444455556666</Account><StorageClass>STANDARD</StorageClass><AccessControlTranslation><Owner>Destination</Owner></AccessControlTranslation>' +
          '<EncryptionConfiguration><ReplicaKmsKeyID>k</ReplicaKmsKeyID></EncryptionConfiguration><ReplicationTime><Status>Enabled</Status><Time><Minutes>15</Minutes></Time></ReplicationTime>' +
          '<Metrics><Status>Enabled</Status><EventThreshold><Minutes>15</Minutes></EventThreshold></Metrics></Destination>' +
          '<DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>',
      ),
      xml,
    );
  });

  it('escapes XML special characters', () => {
    const xml = replicationConfigurationXml({
      role: ROLE,
      rules: [{ id: '<&>', status: 'Enabled', prefix: 'a&b<c', destination: { bucket: 'd', arn: 'arn:aws:s3:::d' } }],
    });
    assert.ok(xml.includes('<ID>&lt;&amp;&gt;</ID><Prefix>a&amp;b&lt;c</Prefix>'), xml);
  });
});

describe('parse → render → parse', () => {
  /** Printable ASCII and a few letters beyond it; XML 1.0 cannot carry most control characters. */
  const textChar = fc.constantFrom(...'abcXYZ019 _.:/=+-@!#$%^*()[]{}|;,?~`\'"<>&üé文'.split(''));
  const text = (max: number, min = 0) => fc.string({ unit: textChar, minLength: min, maxLength: max });
  const tagChar = fc.constantFrom(...'abcXYZ019 _.:/=+-@üé文'.split(''));
  const tag: fc.Arbitrary<Tag> = fc
    .record({ key: fc.string({ unit: tagChar, minLength: 1, maxLength: 10 }), value: fc.string({ unit: tagChar, maxLength: 10 }) })
    .map((t): Tag => ({ key: t.key, value: t.value }));
  const tags = (min: number) => fc.uniqueArray(tag, { selector: (t) => t.key, minLength: min, maxLength: 4 });
  const filter: fc.Arbitrary<ReplicationFilter> = fc.oneof(
    fc.constant<ReplicationFilter>({ kind: 'all' }),
    text(20).map((prefix): ReplicationFilter => ({ kind: 'prefix', prefix })),
    tag.map((t): ReplicationFilter => ({ kind: 'tag', tag: t })),
    fc.record({ prefix: fc.option(text(20), { nil: undefined }), tags: tags(1) }).map(({ prefix, tags: ts }): ReplicationFilter =>
      prefix === undefined ? { kind: 'and', tags: ts } : { kind: 'and', prefix, tags: ts },
    ),
  );
  const status = fc.constantFrom<'Enabled' | 'Disabled'>('Enabled', 'Disabled');
  const bucket = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,20}[a-z0-9]$/);
  const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const destination = fc
    .record({
      bucket,
      account: optional(fc.stringMatching(/^\d{12}$/)),
      storageClass: optional(fc.constantFrom('STANDARD', 'STANDARD_IA', 'GLACIER', 'DEEP_ARCHIVE')),
      owner: fc.boolean(),
      rtc: fc.constantFrom('none', 'metrics', 'metrics15', 'rtc'),
    })
    .map((d) => {
      const out: ReplicationRule['destination'] = { bucket: d.bucket, arn: `arn:aws:s3:::${d.bucket}` };
      if (d.account !== undefined) out.account = d.account;
      if (d.storageClass !== undefined) out.storageClass = d.storageClass;
      if (d.owner && d.account !== undefined) out.ownerOverride = 'Destination';
      if (d.rtc === 'metrics') out.metrics = { status: 'Enabled' };
      if (d.rtc === 'metrics15') out.metrics = { status: 'Disabled', minutes: 15 };
      if (d.rtc === 'rtc') {
        out.replicationTime = { status: 'Enabled', minutes: 15 };
        out.metrics = { status: 'Enabled', minutes: 15 };
      }
      return out;
    });
  const id = fc.stringMatching(/^[ -~]{1,30}$/).filter((s) => s.trim() === s && s.trim() !== '');

  const v2Config: fc.Arbitrary<ReplicationConfiguration> = fc
    .uniqueArray(
      fc.record({ id, status, filter, dmr: status, eor: optional(status), mods: optional(status), destination }),
      { selector: (r) => r.id, minLength: 1, maxLength: 5 },
    )
    .chain((rules) => fc.shuffledSubarray(Array.from({ length: 50 }, (_, i) => i), { minLength: rules.length, maxLength: rules.length }).map((priorities) => ({ rules, priorities })))
    .map(({ rules, priorities }) => ({
      role: ROLE,
      rules: rules.map((r, i) => {
        const tagged = r.filter.kind === 'tag' || (r.filter.kind === 'and' && r.filter.tags.length > 0);
        const rule: ReplicationRule = {
          id: r.id,
          status: r.status,
          priority: priorities[i],
          filter: r.filter,
          deleteMarkerReplication: tagged ? 'Disabled' : r.dmr,
          destination: r.destination,
        };
        if (r.mods !== undefined) rule.replicaModifications = r.mods;
        if (r.eor !== undefined) rule.existingObjectReplication = r.eor;
        return rule;
      }),
    }));

  const v1Config: fc.Arbitrary<ReplicationConfiguration> = fc
    .record({
      rules: fc.uniqueArray(fc.record({ id, status, prefix: text(20), eor: optional(status) }), { selector: (r) => r.id, minLength: 1, maxLength: 5 }),
      destination: destination.map((d) => {
        const { metrics: _m, replicationTime: _r, ...rest } = d;
        return rest;
      }),
    })
    .map(({ rules, destination: d }) => ({
      role: ROLE,
      rules: rules.map((r) => {
        const rule: ReplicationRule = { id: r.id, status: r.status, prefix: r.prefix, destination: d };
        if (r.eor !== undefined) rule.existingObjectReplication = r.eor;
        return rule;
      }),
    }));

  it('a V2 configuration survives rendering and parsing unchanged', () => {
    fc.assert(
      fc.property(v2Config, (config) => {
        const again = parseReplicationConfiguration(replicationConfigurationXml(config));
        assert.deepEqual(again, config);
        assert.equal(replicationConfigurationXml(again), replicationConfigurationXml(config));
      }),
      { numRuns: 300 },
    );
  });

  it('a V1 configuration survives rendering and parsing unchanged', () => {
    fc.assert(
      fc.property(v1Config, (config) => {
        assert.deepEqual(parseReplicationConfiguration(replicationConfigurationXml(config)), config);
      }),
      { numRuns: 300 },
    );
  });
});
