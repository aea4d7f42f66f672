import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePolicy } from './parse.ts';
import { isPublicPolicy } from './public.ts';

const B = 'arn:aws:s3:::photos';
const base = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${B}/*` };

function isPublic(statement: Record<string, unknown>, kind: 'bucket' | 'mrap' = 'bucket', more: Record<string, unknown>[] = []): boolean {
  const resource =
    kind === 'mrap' ? { Resource: 'arn:aws:s3::111122223333:accesspoint/abc.mrap/object/*' } : {};
  return isPublicPolicy(
    parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ ...base, ...resource, ...statement }, ...more] }), { kind }),
  );
}

const cond = (op: string, key: string, value: unknown) => ({ Condition: { [op]: { [key]: value } } });

describe('isPublicPolicy: the meaning of public', () => {
  const publicCases: [string, Record<string, unknown>][] = [
    ['Principal *', {}],
    ['{"AWS": "*"}', { Principal: { AWS: '*' } }],
    ['* among named accounts', { Principal: { AWS: ['111122223333', '*'] } }],
    ['a federated provider (AWS example)', { Principal: { Federated: 'graph.facebook.com' } }],
    ['NotAction', { Action: undefined, NotAction: 's3:DeleteObject' }],
    ['a wildcard source VPC (AWS example)', cond('StringLike', 'aws:SourceVpc', 'vpc-*')],
    ['a variable as the value', cond('StringEquals', 'aws:PrincipalAccount', '${aws:username}')],
    ['a key that fixes nothing', cond('StringEquals', 's3:x-amz-acl', 'private')],
    ['a secure-transport condition', cond('Bool', 'aws:SecureTransport', 'true')],
    ['a negated operator', cond('StringNotEquals', 'aws:SourceAccount', '111122223333')],
    ['IfExists', cond('StringEqualsIfExists', 'aws:SourceAccount', '111122223333')],
    ['ForAllValues', cond('ForAllValues:StringEquals', 'aws:SourceAccount', '111122223333')],
    ['a /7 IPv4 range', cond('IpAddress', 'aws:SourceIp', '10.0.0.0/7')],
    ['0.0.0.0/1', cond('IpAddress', 'aws:SourceIp', '0.0.0.0/1')],
    ['one broad range among narrow ones', cond('IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '0.0.0.0/0'])],
    ['a /31 IPv6 range', cond('IpAddress', 'aws:SourceIp', '2001:db8::/31')],
    ['NotIpAddress', cond('NotIpAddress', 'aws:SourceIp', '203.0.113.0/24')],
    ['an access point ARN with a wildcard account', cond('StringLike', 's3:DataAccessPointArn', 'arn:aws:s3:us-west-2:*:accesspoint/*')],
    ['a userid pattern', cond('StringLike', 'aws:userid', 'AROAEXAMPLE:*')],
  ];
  for (const [name, patch] of publicCases) {
    test(`public: ${name}`, () => assert.equal(isPublic(patch), true));
  }

  const privateCases: [string, Record<string, unknown>][] = [
    ['an account principal', { Principal: { AWS: '111122223333' } }],
    ['a user principal', { Principal: { AWS: 'arn:aws:iam::111122223333:user/ana' } }],
    ['a service principal', { Principal: { Service: 'cloudtrail.amazonaws.com' } }],
    ['a canonical user', { Principal: { CanonicalUser: 'abc' } }],
    ['a Deny', { Effect: 'Deny' }],
    ['a fixed source VPC (AWS example)', cond('StringEquals', 'aws:SourceVpc', 'vpc-91237329')],
    ['a fixed source VPC endpoint', cond('StringEquals', 'aws:SourceVpce', 'vpce-1a2b3c4d')],
    ['aws:SourceArn', cond('ArnEquals', 'aws:SourceArn', 'arn:aws:cloudfront::111122223333:distribution/E1')],
    ['aws:SourceArn with ArnLike but fixed', cond('ArnLike', 'aws:SourceArn', 'arn:aws:sns:us-east-1:111122223333:t')],
    ['aws:SourceOwner', cond('StringEquals', 'aws:SourceOwner', '111122223333')],
    ['aws:SourceAccount', cond('StringEquals', 'aws:SourceAccount', '111122223333')],
    ['aws:PrincipalAccount', cond('StringEquals', 'aws:PrincipalAccount', ['111122223333', '444455556666'])],
    ['aws:PrincipalOrgID', cond('StringEquals', 'aws:PrincipalOrgID', 'o-abc123')],
    ['aws:PrincipalArn', cond('ArnEquals', 'aws:PrincipalArn', 'arn:aws:iam::111122223333:role/r')],
    ['a KMS key id', cond('StringEquals', 's3:x-amz-server-side-encryption-aws-kms-key-id', 'arn:aws:kms:us-east-1:111122223333:key/k')],
    ['a fixed userid', cond('StringEquals', 'aws:userid', 'AIDAEXAMPLE')],
    ['s3:DataAccessPointAccount', cond('StringEquals', 's3:DataAccessPointAccount', '111122223333')],
    ['a fixed access point ARN', cond('StringEquals', 's3:DataAccessPointArn', 'arn:aws:s3:us-west-2:111122223333:accesspoint/ap')],
    ['any access point of a fixed account (bucket policy)', cond('StringLike', 's3:DataAccessPointArn', 'arn:aws:s3:us-west-2:111122223333:accesspoint/*')],
    ['a /24 IPv4 range', cond('IpAddress', 'aws:SourceIp', '203.0.113.0/24')],
    ['exactly /8', cond('IpAddress', 'aws:SourceIp', '10.0.0.0/8')],
    ['a single address', cond('IpAddress', 'aws:SourceIp', '203.0.113.9')],
    ['a /32 IPv6 range', cond('IpAddress', 'aws:SourceIp', '2001:db8::/32')],
    ['mixed narrow ranges', cond('IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '2001:db8:1::/48'])],
    ['a fixing condition next to one that fixes nothing', { Condition: { Bool: { 'aws:SecureTransport': 'true' }, StringEquals: { 'aws:SourceVpc': 'vpc-1' } } }],
    ['key names in any case', cond('StringEquals', 'AWS:SOURCEVPC', 'vpc-1')],
  ];
  for (const [name, patch] of privateCases) {
    test(`not public: ${name}`, () => assert.equal(isPublic(patch), false));
  }

  test('one public statement makes the whole policy public', () => {
    assert.equal(isPublic({ Principal: { AWS: '111122223333' } }, 'bucket', [base]), true);
    assert.equal(isPublic({ Principal: { AWS: '111122223333' } }, 'bucket', [{ ...base, Effect: 'Deny' }]), false);
  });

  test('an access point policy may not wildcard s3:DataAccessPointArn', () => {
    const c = cond('StringLike', 's3:DataAccessPointArn', 'arn:aws:s3:us-west-2:111122223333:accesspoint/*');
    assert.equal(isPublic(c, 'mrap'), true);
    assert.equal(isPublic(c, 'bucket'), false);
    assert.equal(isPublic({ Principal: '*' }, 'mrap'), true);
    assert.equal(isPublic({ Principal: { AWS: '111122223333' } }, 'mrap'), false);
  });
});
