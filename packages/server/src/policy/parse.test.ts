import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { S3Error } from '../core/errors.ts';
import { MAX_POLICY_BYTES, MAX_POLICY_TEXT, MESSAGES, parsePolicy, type ParseOptions } from './parse.ts';

const BUCKET: ParseOptions = { kind: 'bucket', resourceArns: ['arn:aws:s3:::photos'] };
const MRAP_ARN = 'arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap';
const MRAP: ParseOptions = { kind: 'mrap', resourceArns: [MRAP_ARN] };

const read = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos/*' };
const doc = (...statements: Record<string, unknown>[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const with_ = (patch: Record<string, unknown>) => doc({ ...read, ...patch });
const without = (field: string) => {
  const s: Record<string, unknown> = { ...read };
  delete s[field];
  return doc(s);
};

function rejects(text: string, message: string, opts: ParseOptions = BUCKET): void {
  assert.throws(
    () => parsePolicy(text, opts),
    (err: unknown) => {
      assert.ok(err instanceof S3Error, `expected S3Error for ${text}`);
      assert.equal(err.code, 'MalformedPolicy');
      assert.equal(err.status, 400);
      assert.equal(err.message, message, text);
      return true;
    },
  );
}

describe('parsePolicy accepts what S3 accepts', () => {
  const valid: [string, string, ParseOptions?][] = [
    ['public read', doc(read)],
    ['Statement as one object, no Version (2008-10-17)', JSON.stringify({ Statement: read })],
    ['Version 2008-10-17 and an Id', JSON.stringify({ Version: '2008-10-17', Id: 'p1', Statement: [read] })],
    ['{"AWS": "*"}', with_({ Principal: { AWS: '*' } })],
    ['account id', with_({ Principal: { AWS: '111122223333' } })],
    ['root ARN', with_({ Principal: { AWS: 'arn:aws:iam::111122223333:root' } })],
    ['user ARN with a path', with_({ Principal: { AWS: 'arn:aws:iam::111122223333:user/team/ana' } })],
    ['role ARN', with_({ Principal: { AWS: 'arn:aws:iam::111122223333:role/reader' } })],
    ['list of AWS principals with *', with_({ Principal: { AWS: ['*', '444455556666'] } })],
    ['CanonicalUser', with_({ Principal: { CanonicalUser: '79a59df900b949e55d96a1e698fbaced' } })],
    ['Service', with_({ Principal: { Service: 'cloudfront.amazonaws.com' } })],
    ['Federated', with_({ Principal: { Federated: 'graph.facebook.com' } })],
    ['Deny with NotPrincipal', with_({ Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: '111122223333' } })],
    ['action wildcard and case', with_({ Action: ['S3:getobject*', 's3:Get?bject'] })],
    ['Action "*" with bucket and objects', with_({ Action: '*', Resource: ['arn:aws:s3:::photos', 'arn:aws:s3:::photos/*'] })],
    ['bucket action on bucket', with_({ Action: 's3:ListBucket', Resource: 'arn:aws:s3:::photos' })],
    ['bucket pattern reaching objects', with_({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::photo*' })],
    ['NotAction skips applicability', with_({ Action: undefined, NotAction: 's3:ListAllMyBuckets' })],
    ['NotResource', with_({ Resource: undefined, NotResource: 'arn:aws:s3:::photos/private/*' })],
    ['variable in the key part', with_({ Resource: 'arn:aws:s3:::photos/home/${aws:username}/*' })],
    [
      'every condition operator',
      with_({
        Condition: {
          StringEquals: { 's3:x-amz-acl': 'private' },
          StringNotEqualsIgnoreCase: { 'aws:username': 'ANA' },
          'ForAnyValue:StringLike': { 's3:RequestObjectTagKeys': ['team*'] },
          'ForAllValues:StringNotLike': { 's3:RequestObjectTagKeys': 'secret*' },
          NumericLessThanEquals: { 's3:max-keys': 10 },
          DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' },
          DateLessThanIfExists: { 'aws:EpochTime': '1893456000' },
          Bool: { 'aws:SecureTransport': true },
          IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/32'] },
          NotIpAddressIfExists: { 'aws:SourceIp': '192.0.2.7' },
          ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/*' },
          Null: { 's3:ExistingObjectTag/team': 'false' },
        },
      }),
    ],
    ['MRAP object and access point resources', with_({ Resource: [`${MRAP_ARN}/object/*`, MRAP_ARN], Action: ['s3:GetObject', 's3:ListBucket'] }), MRAP],
    ['MRAP management action on the access point', with_({ Resource: MRAP_ARN, Action: 's3:GetMultiRegionAccessPoint' }), MRAP],
  ];
  for (const [name, text, opts] of valid) {
    test(name, () => {
      const policy = parsePolicy(text, opts ?? BUCKET);
      assert.ok(policy.statements.length >= 1);
    });
  }

  test('keeps what it read', () => {
    const policy = parsePolicy(
      doc({ ...read, Sid: 'A', Condition: { 'ForAnyValue:StringLikeIfExists': { 'S3:Prefix': ['a/*', 3] } } }),
      BUCKET,
    );
    assert.deepEqual(policy, {
      kind: 'bucket',
      version: '2012-10-17',
      statements: [
        {
          index: 0,
          sid: 'A',
          effect: 'Allow',
          principal: { everyone: true, aws: [], canonicalUsers: [], services: [], federated: [] },
          notPrincipal: false,
          actions: ['s3:GetObject'],
          notAction: false,
          resources: ['arn:aws:s3:::photos/*'],
          notResource: false,
          conditions: [
            {
              written: 'ForAnyValue:StringLikeIfExists',
              operator: 'StringLike',
              qualifier: 'ForAnyValue',
              ifExists: true,
              key: 'S3:Prefix',
              values: ['a/*', '3'],
            },
          ],
        },
      ],
    });
  });

  test('parses AWS principals into accounts and users', () => {
    const p = parsePolicy(
      with_({ Principal: { AWS: ['111122223333', 'arn:aws:iam::444455556666:user/x/bo'] } }),
      BUCKET,
    ).statements[0].principal;
    assert.deepEqual(p.aws, [
      { kind: 'account', account: '111122223333' },
      { kind: 'user', account: '444455556666', arn: 'arn:aws:iam::444455556666:user/x/bo', name: 'bo' },
    ]);
  });
});

describe('parsePolicy refuses with S3 MalformedPolicy messages', () => {
  const big = doc({ ...read, Sid: 'x'.repeat(MAX_POLICY_BYTES) });
  const invalid: [string, string, string, ParseOptions?][] = [
    ['empty body', '', MESSAGES.notJson],
    ['leading whitespace', ` ${doc(read)}`, MESSAGES.notJson],
    ['a JSON array', '[]', MESSAGES.notJson],
    ['broken JSON', '{"Version":', MESSAGES.invalidJson],
    ['trailing comma', '{"Statement":[],}', MESSAGES.invalidJson],
    ['a repeated member', '{"Statement":{"Effect":"Deny","Effect":"Allow"}}', MESSAGES.invalidJson],
    ['too large', big, MESSAGES.tooLarge],
    ['too long to read, even if mostly whitespace', `{${' '.repeat(MAX_POLICY_TEXT)}}`, MESSAGES.tooLarge],
    ['unknown top-level field', JSON.stringify({ Statement: [read], Condition: {} }), 'Unknown field Condition'],
    ['lowercase field', JSON.stringify({ statement: [read] }), 'Unknown field statement'],
    ['bad version', JSON.stringify({ Version: '2020-01-01', Statement: [read] }), MESSAGES.version],
    ['numeric version', JSON.stringify({ Version: 2012, Statement: [read] }), MESSAGES.version],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' }), MESSAGES.missingStatement],
    ['empty Statement', doc(), MESSAGES.emptyStatement],
    ['Statement a string', JSON.stringify({ Statement: 'x' }), MESSAGES.syntax],
    ['statement not an object', JSON.stringify({ Statement: ['x'] }), MESSAGES.syntax],
    ['unknown statement field', with_({ condition: {} }), 'Unknown field condition'],
    ['Principal and NotPrincipal', with_({ NotPrincipal: '*' }), MESSAGES.syntax],
    ['Action and NotAction', with_({ NotAction: 's3:PutObject' }), MESSAGES.syntax],
    ['duplicate Sid', doc({ ...read, Sid: 'a' }, { ...read, Sid: 'a' }), MESSAGES.duplicateSid],
    ['no Effect', without('Effect'), MESSAGES.missingEffect],
    ['bad Effect', with_({ Effect: 'hello' }), 'Invalid effect: hello'],
    ['lowercase Effect', with_({ Effect: 'allow' }), 'Invalid effect: allow'],
    ['no Principal', without('Principal'), MESSAGES.missingPrincipal],
    ['Principal a bare account', with_({ Principal: '111122223333' }), MESSAGES.principal],
    ['empty Principal', with_({ Principal: {} }), MESSAGES.principal],
    ['unknown principal type', with_({ Principal: { User: 'ana' } }), MESSAGES.principal],
    ['AWS not an id or ARN', with_({ Principal: { AWS: 'ana' } }), MESSAGES.principal],
    ['short account id', with_({ Principal: { AWS: '12345' } }), MESSAGES.principal],
    ['wildcard in a principal ARN', with_({ Principal: { AWS: 'arn:aws:iam::111122223333:user/*' } }), MESSAGES.principal],
    ['empty AWS list', with_({ Principal: { AWS: [] } }), MESSAGES.principal],
    ['Service *', with_({ Principal: { Service: '*' } }), MESSAGES.principal],
    ['NotPrincipal with Allow', with_({ Principal: undefined, NotPrincipal: { AWS: '111122223333' } }), MESSAGES.principal],
    ['no Action', without('Action'), MESSAGES.missingAction],
    ['unknown action', with_({ Action: 's3:GetObjekt' }), MESSAGES.action],
    ['action of another service', with_({ Action: 'iam:PassRole' }), MESSAGES.action],
    ['action without a service', with_({ Action: 'GetObject' }), MESSAGES.action],
    ['empty action list', with_({ Action: [] }), MESSAGES.action],
    ['action not a string', with_({ Action: 7 }), MESSAGES.action],
    ['no Resource', without('Resource'), MESSAGES.missingResource],
    ['Resource *', with_({ Resource: '*' }), MESSAGES.resource],
    ['not an S3 ARN', with_({ Resource: 'photos/*' }), MESSAGES.resource],
    ['another bucket', with_({ Resource: 'arn:aws:s3:::other/*' }), MESSAGES.resource],
    ['bucket ARN without a bucket', with_({ Resource: 'arn:aws:s3:::/x' }), MESSAGES.resource],
    ['object action on the bucket', with_({ Action: 's3:PutObject', Resource: 'arn:aws:s3:::photos' }), MESSAGES.notApplicable],
    ['bucket action on objects', with_({ Action: 's3:ListBucket' }), MESSAGES.notApplicable],
    ['one of two actions inapplicable', with_({ Action: ['s3:GetObject', 's3:GetBucketAcl'] }), MESSAGES.notApplicable],
    ['account action', with_({ Action: 's3:ListAllMyBuckets' }), MESSAGES.notApplicable],
    ['unknown operator', with_({ Condition: { StringEqualz: { 's3:prefix': 'a' } } }), 'Invalid Condition type : StringEqualz'],
    ['operator names are exact', with_({ Condition: { stringequals: { 's3:prefix': 'a' } } }), 'Invalid Condition type : stringequals'],
    ['NullIfExists', with_({ Condition: { NullIfExists: { 's3:prefix': 'true' } } }), 'Invalid Condition type : NullIfExists'],
    ['unknown s3 key', with_({ Condition: { StringEquals: { 's3:x-acl': 'private' } } }), MESSAGES.conditionKey],
    ['key of another service', with_({ Condition: { StringEquals: { 'ec2:InstanceType': 't2' } } }), MESSAGES.conditionKey],
    ['tag key without a tag', with_({ Condition: { StringEquals: { 's3:ExistingObjectTag/': 'x' } } }), MESSAGES.conditionKey],
    ['bad number', with_({ Condition: { NumericLessThan: { 's3:max-keys': 'ten' } } }), 'Invalid value in Conditions for operator NumericLessThan'],
    ['bad date', with_({ Condition: { DateLessThan: { 'aws:CurrentTime': 'tomorrow' } } }), 'Invalid value in Conditions for operator DateLessThan'],
    ['date without a zone', with_({ Condition: { DateLessThan: { 'aws:CurrentTime': '2020-01-01T00:00' } } }), 'Invalid value in Conditions for operator DateLessThan'],
    ['bad Bool', with_({ Condition: { Bool: { 'aws:SecureTransport': 'yes' } } }), 'Invalid value in Conditions for operator Bool'],
    ['bad Null', with_({ Condition: { Null: { 's3:prefix': 'maybe' } } }), 'Invalid value in Conditions for operator Null'],
    ['bad IP', with_({ Condition: { IpAddress: { 'aws:SourceIp': '300.1.1.1/8' } } }), 'Invalid IP address in Conditions'],
    ['bad prefix length', with_({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } }), 'Invalid IP address in Conditions'],
    ['object as a value', with_({ Condition: { StringEquals: { 's3:prefix': { a: 1 } } } }), 'Invalid value in Conditions for operator StringEquals'],
    ['null value', with_({ Condition: { StringEquals: { 's3:prefix': null } } }), 'Invalid value in Conditions for operator StringEquals'],
    ['Condition not an object', with_({ Condition: [] }), MESSAGES.syntax],
    ['MRAP: a bucket ARN', with_({ Resource: 'arn:aws:s3:::photos/*' }), MESSAGES.resource, MRAP],
    ['MRAP: another access point', with_({ Resource: 'arn:aws:s3::111122223333:accesspoint/other.mrap/object/*' }), MESSAGES.resource, MRAP],
    ['MRAP: another account', with_({ Resource: 'arn:aws:s3::444455556666:accesspoint/mfzwi23gnjvgw.mrap/object/*' }), MESSAGES.resource, MRAP],
    ['MRAP: not object/', with_({ Resource: `${MRAP_ARN}/things/x` }), MESSAGES.resource, MRAP],
    ['MRAP: object action on the access point', with_({ Resource: MRAP_ARN }), MESSAGES.notApplicable, MRAP],
  ];
  for (const [name, text, message, opts] of invalid) {
    test(`${name} → ${message}`, () => rejects(text, message, opts));
  }

  test('principalExists lets the caller refuse unknown identities', () => {
    const opts: ParseOptions = { ...BUCKET, principalExists: (p) => p.account === '111122223333' };
    assert.doesNotThrow(() => parsePolicy(with_({ Principal: { AWS: '111122223333' } }), opts));
    rejects(with_({ Principal: { AWS: 'arn:aws:iam::444455556666:user/eve' } }), MESSAGES.principal, opts);
  });

  test('without resourceArns any bucket is accepted', () => {
    assert.doesNotThrow(() => parsePolicy(with_({ Resource: 'arn:aws:s3:::other/*' }), { kind: 'bucket' }));
  });
});
