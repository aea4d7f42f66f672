import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluate, explain } from './evaluate.ts';
import { parsePolicy } from './parse.ts';
import type { ContextValue, Policy, RequestContext, RequestPrincipal } from './types.ts';

const OWNER = '111122223333';
const OTHER = '444455556666';
const B = 'arn:aws:s3:::photos';
const OBJ = `${B}/cat.jpg`;

const anonymous: RequestPrincipal = { type: 'anonymous' };
const owner: RequestPrincipal = { type: 'account', account: OWNER };
const ana: RequestPrincipal = { type: 'account', account: OWNER, user: 'ana' };
const other: RequestPrincipal = { type: 'account', account: OTHER };

function policy(statements: Record<string, unknown>[], version = '2012-10-17', kind: 'bucket' | 'mrap' = 'bucket'): Policy {
  return parsePolicy(JSON.stringify({ Version: version, Statement: statements }), { kind });
}

/** An Allow to everyone of everything in the bucket, with a condition. */
function allowIf(condition: Record<string, unknown>): Policy {
  return policy([{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: [B, `${B}/*`], Condition: condition }]);
}

function req(patch: Partial<RequestContext> = {}, keys: Record<string, ContextValue | undefined> = {}): RequestContext {
  return { principal: anonymous, action: 's3:GetObject', resource: OBJ, keys, ...patch };
}

/** The decision of `allowIf(condition)` for a request with `keys`. */
function withKeys(condition: Record<string, unknown>, keys: Record<string, ContextValue | undefined>): string {
  return evaluate([allowIf(condition)], req({}, keys));
}

describe('evaluation order', () => {
  const allow = { Sid: 'AllowAll', Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: `${B}/*` };
  const deny = { Sid: 'NoSecrets', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `${B}/secret/*` };

  test('no policies, or none that applies: ImplicitDeny', () => {
    assert.equal(evaluate([], req()), 'ImplicitDeny');
    assert.deepEqual(explain([policy([deny])], req()), { decision: 'ImplicitDeny' });
  });

  test('an Allow allows, and says which statement did', () => {
    assert.deepEqual(explain([policy([allow])], req()), {
      decision: 'Allow',
      by: { policy: 0, statement: 0, sid: 'AllowAll' },
    });
  });

  test('an explicit Deny beats an Allow whatever the order, across policies', () => {
    const secret = req({ resource: `${B}/secret/plan.txt` });
    assert.equal(evaluate([policy([allow, deny])], secret), 'Deny');
    assert.equal(evaluate([policy([deny, allow])], secret), 'Deny');
    assert.deepEqual(explain([policy([allow]), policy([deny])], secret), {
      decision: 'Deny',
      by: { policy: 1, statement: 0, sid: 'NoSecrets' },
    });
    assert.equal(evaluate([policy([allow]), policy([deny])], req()), 'Allow');
  });

  test('a Deny with an unmet condition does not deny', () => {
    const d = { ...deny, Resource: `${B}/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } };
    assert.equal(evaluate([policy([allow, d])], req({}, { 'aws:SecureTransport': true })), 'Allow');
    assert.equal(evaluate([policy([allow, d])], req({}, { 'aws:SecureTransport': false })), 'Deny');
  });
});

describe('principals', () => {
  const grant = (principal: unknown) =>
    policy([{ Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: `${B}/*` }]);
  const cases: [string, unknown, RequestPrincipal, string][] = [
    ['* allows anonymous', '*', anonymous, 'Allow'],
    ['{"AWS":"*"} allows anonymous', { AWS: '*' }, anonymous, 'Allow'],
    ['* allows a service', '*', { type: 'service', service: 's3.amazonaws.com' }, 'Allow'],
    ['an account id names its root', { AWS: OWNER }, owner, 'Allow'],
    ['an account id names its users', { AWS: OWNER }, ana, 'Allow'],
    ['a root ARN names its users', { AWS: `arn:aws:iam::${OWNER}:root` }, ana, 'Allow'],
    ['an account does not name another', { AWS: OWNER }, other, 'ImplicitDeny'],
    ['an account does not name anonymous', { AWS: OWNER }, anonymous, 'ImplicitDeny'],
    ['a user ARN names that user', { AWS: `arn:aws:iam::${OWNER}:user/ana` }, ana, 'Allow'],
    ['a user ARN does not name the account root', { AWS: `arn:aws:iam::${OWNER}:user/ana` }, owner, 'ImplicitDeny'],
    ['a user ARN does not name another user', { AWS: `arn:aws:iam::${OWNER}:user/bo` }, ana, 'ImplicitDeny'],
    ['a user ARN with a path names the user by name', { AWS: `arn:aws:iam::${OWNER}:user/eng/ana` }, ana, 'Allow'],
    ['a user ARN with a path is compared with the ARN given', { AWS: `arn:aws:iam::${OWNER}:user/eng/ana` }, { ...ana, arn: `arn:aws:iam::${OWNER}:user/ops/ana` }, 'ImplicitDeny'],
    ['a role names the caller with that ARN', { AWS: `arn:aws:iam::${OWNER}:role/r` }, { type: 'account', account: OWNER, arn: `arn:aws:iam::${OWNER}:role/r` }, 'Allow'],
    ['a canonical user', { CanonicalUser: 'c1' }, { ...other, canonicalId: 'c1' }, 'Allow'],
    ['another canonical user', { CanonicalUser: 'c1' }, { ...other, canonicalId: 'c2' }, 'ImplicitDeny'],
    ['a service', { Service: 's3.amazonaws.com' }, { type: 'service', service: 's3.amazonaws.com' }, 'Allow'],
    ['another service', { Service: 's3.amazonaws.com' }, { type: 'service', service: 'x.amazonaws.com' }, 'ImplicitDeny'],
    ['an account does not name a service', { AWS: OWNER }, { type: 'service', service: 's3.amazonaws.com' }, 'ImplicitDeny'],
    ['federated names nobody here', { Federated: 'graph.facebook.com' }, anonymous, 'ImplicitDeny'],
    ['a list names each member', { AWS: [OTHER, `arn:aws:iam::${OWNER}:user/ana`] }, ana, 'Allow'],
  ];
  for (const [name, principal, who, expected] of cases) {
    test(name, () => assert.equal(evaluate([grant(principal)], req({ principal: who })), expected));
  }

  test('NotPrincipal denies everyone it does not name', () => {
    const p = policy([
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${B}/*` },
      { Effect: 'Deny', NotPrincipal: { AWS: [`arn:aws:iam::${OWNER}:user/ana`] }, Action: 's3:*', Resource: `${B}/*` },
    ]);
    assert.equal(evaluate([p], req({ principal: ana })), 'Allow');
    assert.equal(evaluate([p], req({ principal: owner })), 'Deny');
    assert.equal(evaluate([p], req({ principal: other })), 'Deny');
    assert.equal(evaluate([p], req({ principal: anonymous })), 'Deny');
  });

  test('NotPrincipal naming an account spares all its identities', () => {
    const p = policy([{ Effect: 'Deny', NotPrincipal: { AWS: OWNER }, Action: 's3:*', Resource: `${B}/*` }]);
    assert.equal(evaluate([p], req({ principal: ana })), 'ImplicitDeny');
    assert.equal(evaluate([p], req({ principal: other })), 'Deny');
  });
});

describe('actions and resources', () => {
  const grant = (actions: unknown, resources: unknown) =>
    policy([{ Effect: 'Allow', Principal: '*', Action: actions, Resource: resources }]);

  test('actions compare without regard to case, with * and ?', () => {
    assert.equal(evaluate([grant('S3:GETOBJECT', `${B}/*`)], req()), 'Allow');
    assert.equal(evaluate([grant('s3:Get*', `${B}/*`)], req({ action: 's3:getobjectacl' })), 'Allow');
    assert.equal(evaluate([grant('s3:GetObject?cl', `${B}/*`)], req({ action: 's3:GetObjectAcl' })), 'Allow');
    assert.equal(evaluate([grant('s3:GetObjec?', `${B}/*`)], req({ action: 's3:GetObjectAcl' })), 'ImplicitDeny');
    assert.equal(evaluate([grant('s3:GetObject', `${B}/*`)], req({ action: 's3:PutObject' })), 'ImplicitDeny');
    assert.equal(evaluate([grant('*', `${B}/*`)], req({ action: 's3:PutObject' })), 'Allow');
  });

  test('resources compare with regard to case; * crosses / and ? is one character', () => {
    assert.equal(evaluate([grant('s3:GetObject', `${B}/*`)], req({ resource: `${B}/a/b/c` })), 'Allow');
    assert.equal(evaluate([grant('s3:GetObject', `${B}/*`)], req({ resource: `${B}/` })), 'Allow');
    assert.equal(evaluate([grant('s3:GetObject', `${B}/CAT.jpg`)], req()), 'ImplicitDeny');
    assert.equal(evaluate([grant('s3:GetObject', `${B}/c?t.jpg`)], req()), 'Allow');
    assert.equal(evaluate([grant('s3:GetObject', `${B}/c?.jpg`)], req()), 'ImplicitDeny');
    assert.equal(evaluate([grant('s3:GetObject', `${B}/*.jpg`)], req({ resource: `${B}/x/y.jpg` })), 'Allow');
    assert.equal(evaluate([grant('s3:GetObject', `${B}/*.jpg`)], req({ resource: `${B}/x/y.png` })), 'ImplicitDeny');
    // The bucket ARN is not an object of the bucket, and another bucket with the prefix is not it.
    assert.equal(evaluate([grant('s3:ListBucket', B)], req({ action: 's3:ListBucket', resource: `${B}-2` })), 'ImplicitDeny');
    assert.equal(evaluate([grant('s3:GetObject', `${B}/*`)], req({ resource: B })), 'ImplicitDeny');
  });

  test('a key holding * or ? is matched literally', () => {
    assert.equal(evaluate([grant('s3:GetObject', `${B}/a*`)], req({ resource: `${B}/a*` })), 'Allow');
    assert.equal(evaluate([grant('s3:GetObject', `${B}/a`)], req({ resource: `${B}/a*` })), 'ImplicitDeny');
  });

  test('NotAction applies to every other action', () => {
    const p = policy([
      { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: `${B}/*` },
      { Effect: 'Deny', Principal: '*', NotAction: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `${B}/*` },
    ]);
    assert.equal(evaluate([p], req()), 'Allow');
    assert.equal(evaluate([p], req({ action: 's3:GETOBJECTVERSION' })), 'Allow');
    assert.equal(evaluate([p], req({ action: 's3:PutObject' })), 'Deny');
  });

  test('NotResource applies to every other resource', () => {
    const p = policy([
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${B}/*` },
      { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', NotResource: `${B}/public/*` },
    ]);
    assert.equal(evaluate([p], req({ resource: `${B}/public/a` })), 'Allow');
    assert.equal(evaluate([p], req({ resource: `${B}/private/a` })), 'Deny');
  });

  test('MRAP policies name the access point and its objects', () => {
    const ap = 'arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap';
    const p = policy(
      [{ Effect: 'Allow', Principal: { AWS: OTHER }, Action: ['s3:GetObject', 's3:ListBucket'], Resource: [ap, `${ap}/object/*`] }],
      '2012-10-17',
      'mrap',
    );
    assert.equal(evaluate([p], req({ principal: other, resource: `${ap}/object/a/b` })), 'Allow');
    assert.equal(evaluate([p], req({ principal: other, action: 's3:ListBucket', resource: ap })), 'Allow');
    assert.equal(evaluate([p], req({ principal: owner, resource: `${ap}/object/a` })), 'ImplicitDeny');
  });
});

describe('condition operators', () => {
  const table: [string, Record<string, unknown>, Record<string, ContextValue | undefined>, string][] = [
    // String
    ['StringEquals match', { StringEquals: { 's3:x-amz-acl': 'private' } }, { 's3:x-amz-acl': 'private' }, 'Allow'],
    ['StringEquals is case-sensitive', { StringEquals: { 's3:x-amz-acl': 'private' } }, { 's3:x-amz-acl': 'PRIVATE' }, 'ImplicitDeny'],
    ['StringEquals has no wildcards', { StringEquals: { 's3:prefix': 'a*' } }, { 's3:prefix': 'abc' }, 'ImplicitDeny'],
    ['StringEquals values are alternatives', { StringEquals: { 's3:x-amz-acl': ['private', 'public-read'] } }, { 's3:x-amz-acl': 'public-read' }, 'Allow'],
    ['StringEquals, key missing', { StringEquals: { 's3:x-amz-acl': 'private' } }, {}, 'ImplicitDeny'],
    ['StringNotEquals match', { StringNotEquals: { 's3:x-amz-acl': 'public-read' } }, { 's3:x-amz-acl': 'private' }, 'Allow'],
    ['StringNotEquals no match', { StringNotEquals: { 's3:x-amz-acl': 'public-read' } }, { 's3:x-amz-acl': 'public-read' }, 'ImplicitDeny'],
    ['StringNotEquals is a NOR of its values', { StringNotEquals: { 's3:x-amz-acl': ['a', 'b'] } }, { 's3:x-amz-acl': 'b' }, 'ImplicitDeny'],
    ['StringNotEquals, key missing: true', { StringNotEquals: { 's3:x-amz-acl': 'public-read' } }, {}, 'Allow'],
    ['StringEqualsIgnoreCase', { StringEqualsIgnoreCase: { 'aws:username': 'ANA' } }, { 'aws:username': 'ana' }, 'Allow'],
    ['StringEqualsIgnoreCase no match', { StringEqualsIgnoreCase: { 'aws:username': 'ANA' } }, { 'aws:username': 'bo' }, 'ImplicitDeny'],
    ['StringNotEqualsIgnoreCase', { StringNotEqualsIgnoreCase: { 'aws:username': 'ANA' } }, { 'aws:username': 'ana' }, 'ImplicitDeny'],
    ['StringNotEqualsIgnoreCase other', { StringNotEqualsIgnoreCase: { 'aws:username': 'ANA' } }, { 'aws:username': 'bo' }, 'Allow'],
    ['StringLike *', { StringLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'home/ana/' }, 'Allow'],
    ['StringLike ?', { StringLike: { 's3:prefix': 'home/?' } }, { 's3:prefix': 'home/ab' }, 'ImplicitDeny'],
    ['StringLike empty string', { StringLike: { 's3:prefix': ['', 'home/'] } }, { 's3:prefix': '' }, 'Allow'],
    ['StringLike is case-sensitive', { StringLike: { 's3:prefix': 'Home/*' } }, { 's3:prefix': 'home/a' }, 'ImplicitDeny'],
    ['StringNotLike', { StringNotLike: { 's3:prefix': 'private/*' } }, { 's3:prefix': 'public/a' }, 'Allow'],
    ['StringNotLike no', { StringNotLike: { 's3:prefix': 'private/*' } }, { 's3:prefix': 'private/a' }, 'ImplicitDeny'],
    ['StringNotLike, key missing: true', { StringNotLike: { 's3:prefix': 'private/*' } }, {}, 'Allow'],
    // Numeric
    ['NumericEquals', { NumericEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '10.0' }, 'Allow'],
    ['NumericEquals no', { NumericEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': 11 }, 'ImplicitDeny'],
    ['NumericNotEquals', { NumericNotEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': 11 }, 'Allow'],
    ['NumericNotEquals no', { NumericNotEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': 10 }, 'ImplicitDeny'],
    ['NumericNotEquals, key missing', { NumericNotEquals: { 's3:max-keys': 10 } }, {}, 'Allow'],
    ['NumericLessThan', { NumericLessThan: { 's3:max-keys': 10 } }, { 's3:max-keys': 9 }, 'Allow'],
    ['NumericLessThan equal', { NumericLessThan: { 's3:max-keys': 10 } }, { 's3:max-keys': 10 }, 'ImplicitDeny'],
    ['NumericLessThanEquals', { NumericLessThanEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': 10 }, 'Allow'],
    ['NumericLessThanEquals above', { NumericLessThanEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': 11 }, 'ImplicitDeny'],
    ['NumericGreaterThan', { NumericGreaterThan: { 's3:max-keys': 10 } }, { 's3:max-keys': 11 }, 'Allow'],
    ['NumericGreaterThan equal', { NumericGreaterThan: { 's3:max-keys': 10 } }, { 's3:max-keys': 10 }, 'ImplicitDeny'],
    ['NumericGreaterThanEquals', { NumericGreaterThanEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': 10 }, 'Allow'],
    ['NumericGreaterThanEquals below', { NumericGreaterThanEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': 9 }, 'ImplicitDeny'],
    ['Numeric on a non-number', { NumericLessThan: { 's3:max-keys': 10 } }, { 's3:max-keys': 'many' }, 'ImplicitDeny'],
    ['Numeric, key missing', { NumericLessThan: { 's3:max-keys': 10 } }, {}, 'ImplicitDeny'],
    // Date
    ['DateEquals', { DateEquals: { 'aws:CurrentTime': '2024-05-01T00:00:00Z' } }, { 'aws:CurrentTime': '2024-05-01T02:00:00+02:00' }, 'Allow'],
    ['DateNotEquals', { DateNotEquals: { 'aws:CurrentTime': '2024-05-01' } }, { 'aws:CurrentTime': new Date('2024-05-02T00:00:00Z') }, 'Allow'],
    ['DateNotEquals same', { DateNotEquals: { 'aws:CurrentTime': '2024-05-01' } }, { 'aws:CurrentTime': '2024-05-01T00:00:00Z' }, 'ImplicitDeny'],
    ['DateLessThan', { DateLessThan: { 'aws:CurrentTime': '2024-05-01T00:00:00Z' } }, { 'aws:CurrentTime': '2024-04-30T23:59:59Z' }, 'Allow'],
    ['DateLessThan equal', { DateLessThan: { 'aws:CurrentTime': '2024-05-01T00:00:00Z' } }, { 'aws:CurrentTime': '2024-05-01T00:00:00Z' }, 'ImplicitDeny'],
    ['DateLessThanEquals', { DateLessThanEquals: { 'aws:CurrentTime': '2024-05-01T00:00:00Z' } }, { 'aws:CurrentTime': '2024-05-01T00:00:00Z' }, 'Allow'],
    ['DateGreaterThan', { DateGreaterThan: { 'aws:CurrentTime': '2024-05-01T00:00:00Z' } }, { 'aws:CurrentTime': '2024-05-01T00:00:01Z' }, 'Allow'],
    ['DateGreaterThan before', { DateGreaterThan: { 'aws:CurrentTime': '2024-05-01T00:00:00Z' } }, { 'aws:CurrentTime': '2024-04-01T00:00:00Z' }, 'ImplicitDeny'],
    ['DateGreaterThanEquals', { DateGreaterThanEquals: { 'aws:CurrentTime': '2024-05-01T00:00:00Z' } }, { 'aws:CurrentTime': '2024-05-01T00:00:00.000Z' }, 'Allow'],
    ['Date against epoch seconds', { DateLessThan: { 'aws:EpochTime': '2024-05-01T00:00:00Z' } }, { 'aws:EpochTime': 1714521599 }, 'Allow'],
    ['Date policy value in epoch seconds', { DateGreaterThan: { 'aws:CurrentTime': 1714521600 } }, { 'aws:CurrentTime': '2024-05-02T00:00:00Z' }, 'Allow'],
    ['Date, key missing', { DateLessThan: { 'aws:CurrentTime': '2024-05-01T00:00:00Z' } }, {}, 'ImplicitDeny'],
    // Bool
    ['Bool true', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': true }, 'Allow'],
    ['Bool false', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': false }, 'ImplicitDeny'],
    ['Bool is case-insensitive', { Bool: { 'aws:SecureTransport': 'TRUE' } }, { 'aws:SecureTransport': 'true' }, 'Allow'],
    ['Bool JSON boolean', { Bool: { 'aws:SecureTransport': false } }, { 'aws:SecureTransport': 'false' }, 'Allow'],
    ['Bool, key missing', { Bool: { 'aws:SecureTransport': 'false' } }, {}, 'ImplicitDeny'],
    // IP
    ['IpAddress v4 in', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.113.200' }, 'Allow'],
    ['IpAddress v4 out', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.114.1' }, 'ImplicitDeny'],
    ['IpAddress bare address is /32', { IpAddress: { 'aws:SourceIp': '203.0.113.7' } }, { 'aws:SourceIp': '203.0.113.7' }, 'Allow'],
    ['IpAddress bare address, other', { IpAddress: { 'aws:SourceIp': '203.0.113.7' } }, { 'aws:SourceIp': '203.0.113.8' }, 'ImplicitDeny'],
    ['IpAddress v6 in', { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } }, { 'aws:SourceIp': '2001:db8:1234:5678:abcd::1' }, 'Allow'],
    ['IpAddress v6 out', { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } }, { 'aws:SourceIp': '2001:db8:1234:5679::1' }, 'ImplicitDeny'],
    ['IpAddress host bits set', { IpAddress: { 'aws:SourceIp': '2001:4860:4860::8888/32' } }, { 'aws:SourceIp': '2001:4860:ffff::1' }, 'Allow'],
    ['IpAddress v4 block, v6 client', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, { 'aws:SourceIp': '2001:db8::1' }, 'ImplicitDeny'],
    ['IpAddress v4-mapped client', { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }, { 'aws:SourceIp': '::ffff:127.0.0.1' }, 'Allow'],
    ['IpAddress mixed list', { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:db8::/32'] } }, { 'aws:SourceIp': '2001:db8::9' }, 'Allow'],
    ['IpAddress garbage client', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, { 'aws:SourceIp': 'localhost' }, 'ImplicitDeny'],
    ['NotIpAddress out', { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '198.51.100.1' }, 'Allow'],
    ['NotIpAddress in', { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.113.1' }, 'ImplicitDeny'],
    ['NotIpAddress, key missing', { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, {}, 'Allow'],
    ['IpAddress, key missing', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, {}, 'ImplicitDeny'],
    // ARN
    ['ArnEquals', { ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:topic' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:topic' }, 'Allow'],
    ['ArnLike per component', { ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*:111122223333:*' } }, { 'aws:SourceArn': 'arn:aws:sns:eu-west-1:111122223333:t' }, 'Allow'],
    ['ArnLike * does not cross a colon', { ArnLike: { 'aws:SourceArn': 'arn:aws:someservice:*:111122223333:finance/*' } }, { 'aws:SourceArn': 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt' }, 'ImplicitDeny'],
    ['StringLike * does cross it', { StringLike: { 'aws:SourceArn': 'arn:aws:someservice:*:111122223333:finance/*' } }, { 'aws:SourceArn': 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt' }, 'Allow'],
    ['ArnLike resource may hold colons', { ArnLike: { 'aws:SourceArn': 'arn:aws:logs:*:*:log-group:*' } }, { 'aws:SourceArn': 'arn:aws:logs:us-east-1:111122223333:log-group:a:b' }, 'Allow'],
    ['ArnLike is case-sensitive', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/Ana' } }, { 'aws:PrincipalArn': 'arn:aws:iam::1:user/ana' }, 'ImplicitDeny'],
    ['ArnLike, not an ARN', { ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, { 'aws:SourceArn': 'topic' }, 'ImplicitDeny'],
    ['ArnNotEquals', { ArnNotEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:1:t' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:1:u' }, 'Allow'],
    ['ArnNotLike', { ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:1:*' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:1:u' }, 'ImplicitDeny'],
    ['ArnNotLike, key missing', { ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:1:*' } }, {}, 'Allow'],
    // Null
    ['Null true, key missing', { Null: { 's3:x-amz-server-side-encryption': 'true' } }, {}, 'Allow'],
    ['Null true, key present', { Null: { 's3:x-amz-server-side-encryption': 'true' } }, { 's3:x-amz-server-side-encryption': 'AES256' }, 'ImplicitDeny'],
    ['Null false, key present', { Null: { 's3:x-amz-server-side-encryption': false } }, { 's3:x-amz-server-side-encryption': 'AES256' }, 'Allow'],
    ['Null false, key missing', { Null: { 's3:x-amz-server-side-encryption': 'false' } }, {}, 'ImplicitDeny'],
    ['Null true, empty set', { Null: { 's3:RequestObjectTagKeys': 'true' } }, { 's3:RequestObjectTagKeys': [] }, 'Allow'],
    // IfExists
    ['StringEqualsIfExists, key missing', { StringEqualsIfExists: { 's3:x-amz-acl': 'private' } }, {}, 'Allow'],
    ['StringEqualsIfExists, key present and wrong', { StringEqualsIfExists: { 's3:x-amz-acl': 'private' } }, { 's3:x-amz-acl': 'public-read' }, 'ImplicitDeny'],
    ['NumericLessThanIfExists, key missing', { NumericLessThanIfExists: { 's3:max-keys': 10 } }, {}, 'Allow'],
    ['IpAddressIfExists, key missing', { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } }, {}, 'Allow'],
    ['IpAddressIfExists, present and in', { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '10.1.2.3' }, 'Allow'],
    ['DateLessThanIfExists, key missing', { DateLessThanIfExists: { 'aws:CurrentTime': '2000-01-01' } }, {}, 'Allow'],
    ['BoolIfExists, present and false', { BoolIfExists: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': false }, 'ImplicitDeny'],
    ['ArnLikeIfExists, key missing', { ArnLikeIfExists: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, {}, 'Allow'],
    // Set qualifiers on multi-valued keys
    ['ForAnyValue: one matches', { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['team', 'cost'] } }, { 's3:RequestObjectTagKeys': ['x', 'team'] }, 'Allow'],
    ['ForAnyValue: none match', { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['team', 'cost'] } }, { 's3:RequestObjectTagKeys': ['x', 'y'] }, 'ImplicitDeny'],
    ['ForAnyValue: empty set', { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': 'team' } }, { 's3:RequestObjectTagKeys': [] }, 'ImplicitDeny'],
    ['ForAnyValue: key missing', { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': 'team' } }, {}, 'ImplicitDeny'],
    ['ForAllValues: all listed', { 'ForAllValues:StringLike': { 's3:RequestObjectTagKeys': ['team', 'cost*'] } }, { 's3:RequestObjectTagKeys': ['team', 'costcenter'] }, 'Allow'],
    ['ForAllValues: one not listed', { 'ForAllValues:StringLike': { 's3:RequestObjectTagKeys': ['team', 'cost*'] } }, { 's3:RequestObjectTagKeys': ['team', 'secret'] }, 'ImplicitDeny'],
    ['ForAllValues: empty set', { 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': 'team' } }, { 's3:RequestObjectTagKeys': [] }, 'Allow'],
    ['ForAllValues: key missing', { 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': 'team' } }, {}, 'Allow'],
    ['ForAnyValue:StringNotEquals: one unlisted', { 'ForAnyValue:StringNotEquals': { 's3:RequestObjectTagKeys': ['team'] } }, { 's3:RequestObjectTagKeys': ['team', 'x'] }, 'Allow'],
    ['ForAnyValue:StringNotEquals: all listed', { 'ForAnyValue:StringNotEquals': { 's3:RequestObjectTagKeys': ['team'] } }, { 's3:RequestObjectTagKeys': ['team'] }, 'ImplicitDeny'],
    ['ForAllValues:StringNotEquals: none listed', { 'ForAllValues:StringNotEquals': { 's3:RequestObjectTagKeys': ['secret'] } }, { 's3:RequestObjectTagKeys': ['a', 'b'] }, 'Allow'],
    ['ForAllValues:StringNotEquals: one listed', { 'ForAllValues:StringNotEquals': { 's3:RequestObjectTagKeys': ['secret'] } }, { 's3:RequestObjectTagKeys': ['a', 'secret'] }, 'ImplicitDeny'],
    ['ForAnyValue:StringLikeIfExists, key missing', { 'ForAnyValue:StringLikeIfExists': { 's3:RequestObjectTagKeys': 'team' } }, {}, 'Allow'],
    ['unqualified on a multi-valued key: any', { StringEquals: { 's3:RequestObjectTagKeys': 'team' } }, { 's3:RequestObjectTagKeys': ['x', 'team'] }, 'Allow'],
    // Keys
    ['key names are case-insensitive', { StringEquals: { 'S3:X-AMZ-ACL': 'private' } }, { 's3:x-amz-acl': 'private' }, 'Allow'],
    ['...and so are the request key names', { StringEquals: { 's3:x-amz-acl': 'private' } }, { 'S3:X-Amz-Acl': 'private' }, 'Allow'],
    ['tag keys are case-sensitive', { StringEquals: { 's3:ExistingObjectTag/Team': 'blue' } }, { 's3:existingobjecttag/team': 'blue' }, 'ImplicitDeny'],
    ['tag key prefix is case-insensitive', { StringEquals: { 's3:ExistingObjectTag/Team': 'blue' } }, { 'S3:EXISTINGOBJECTTAG/Team': 'blue' }, 'Allow'],
    ['any key the caller gives', { StringEquals: { 'aws:RequestTag/x': 'y' } }, { 'aws:RequestTag/x': 'y' }, 'Allow'],
  ];
  for (const [name, condition, keys, expected] of table) {
    test(name, () => assert.equal(withKeys(condition, keys), expected));
  }

  test('conditions are ANDed across operators and keys', () => {
    const c = { StringEquals: { 's3:x-amz-acl': 'private', 's3:prefix': 'a' }, Bool: { 'aws:SecureTransport': 'true' } };
    assert.equal(withKeys(c, { 's3:x-amz-acl': 'private', 's3:prefix': 'a', 'aws:SecureTransport': true }), 'Allow');
    assert.equal(withKeys(c, { 's3:x-amz-acl': 'private', 's3:prefix': 'b', 'aws:SecureTransport': true }), 'ImplicitDeny');
    assert.equal(withKeys(c, { 's3:x-amz-acl': 'private', 's3:prefix': 'a', 'aws:SecureTransport': false }), 'ImplicitDeny');
  });

  test('a Deny with StringNotEqualsIfExists denies when the key is missing, as AWS documents', () => {
    const p = policy([
      { Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: `${B}/*` },
      { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `${B}/*`, Condition: { StringNotEqualsIfExists: { 's3:x-amz-acl': 'private' } } },
    ]);
    assert.equal(evaluate([p], req({ action: 's3:PutObject' })), 'Deny');
    assert.equal(evaluate([p], req({ action: 's3:PutObject' }, { 's3:x-amz-acl': 'private' })), 'Allow');
  });
});

describe('derived keys', () => {
  test('aws:PrincipalAccount, aws:PrincipalArn, aws:username, aws:userid, aws:PrincipalType', () => {
    assert.equal(evaluate([allowIf({ StringEquals: { 'aws:PrincipalAccount': OWNER } })], req({ principal: ana })), 'Allow');
    assert.equal(evaluate([allowIf({ StringEquals: { 'aws:PrincipalAccount': OWNER } })], req({ principal: other })), 'ImplicitDeny');
    assert.equal(evaluate([allowIf({ StringEquals: { 'aws:PrincipalAccount': OWNER } })], req()), 'ImplicitDeny');
    assert.equal(evaluate([allowIf({ ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${OWNER}:root` } })], req({ principal: owner })), 'Allow');
    assert.equal(evaluate([allowIf({ ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${OWNER}:user/*` } })], req({ principal: ana })), 'Allow');
    assert.equal(evaluate([allowIf({ StringEquals: { 'aws:username': 'ana' } })], req({ principal: ana })), 'Allow');
    assert.equal(evaluate([allowIf({ StringEquals: { 'aws:userid': OWNER } })], req({ principal: owner })), 'Allow');
    assert.equal(evaluate([allowIf({ StringEquals: { 'aws:PrincipalType': 'Anonymous' } })], req()), 'Allow');
    assert.equal(evaluate([allowIf({ Null: { 'aws:PrincipalAccount': 'true' } })], req()), 'Allow');
  });

  test('the caller can override a derived key', () => {
    assert.equal(evaluate([allowIf({ StringEquals: { 'aws:userid': 'AIDAEXAMPLE' } })], req({ principal: ana }, { 'aws:userid': 'AIDAEXAMPLE' })), 'Allow');
  });

  test('aws:CurrentTime and aws:EpochTime come from now', () => {
    const now = new Date('2024-05-01T12:00:00Z');
    assert.equal(evaluate([allowIf({ DateGreaterThan: { 'aws:CurrentTime': '2024-05-01T00:00:00Z' } })], req({ now })), 'Allow');
    assert.equal(evaluate([allowIf({ DateLessThan: { 'aws:CurrentTime': '2024-05-01T00:00:00Z' } })], req({ now })), 'ImplicitDeny');
    assert.equal(evaluate([allowIf({ NumericGreaterThanEquals: { 'aws:EpochTime': 1714564800 } })], req({ now })), 'Allow');
    assert.equal(evaluate([allowIf({ DateLessThan: { 'aws:CurrentTime': '2030-01-01' } })], req()), 'ImplicitDeny');
  });
});

describe('policy variables', () => {
  const home = (version: string) =>
    policy(
      [
        { Effect: 'Allow', Principal: { AWS: OWNER }, Action: 's3:ListBucket', Resource: B, Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*'] } } },
        { Effect: 'Allow', Principal: { AWS: OWNER }, Action: 's3:*', Resource: `${B}/home/\${aws:username}/*` },
      ],
      version,
    );

  test('${aws:username} in a resource and in a condition', () => {
    assert.equal(evaluate([home('2012-10-17')], req({ principal: ana, resource: `${B}/home/ana/x` })), 'Allow');
    assert.equal(evaluate([home('2012-10-17')], req({ principal: ana, resource: `${B}/home/bo/x` })), 'ImplicitDeny');
    const list = { action: 's3:ListBucket', resource: B, principal: ana };
    assert.equal(evaluate([home('2012-10-17')], req(list, { 's3:prefix': 'home/ana/docs/' })), 'Allow');
    assert.equal(evaluate([home('2012-10-17')], req(list, { 's3:prefix': 'home/bo/' })), 'ImplicitDeny');
  });

  test('a variable with no value matches nothing', () => {
    assert.equal(evaluate([home('2012-10-17')], req({ principal: owner, resource: `${B}/home//x` })), 'ImplicitDeny');
    assert.equal(evaluate([home('2012-10-17')], req({ principal: owner, resource: `${B}/home/\${aws:username}/x` })), 'ImplicitDeny');
  });

  test('under 2008-10-17 a variable is literal text', () => {
    assert.equal(evaluate([home('2008-10-17')], req({ principal: ana, resource: `${B}/home/ana/x` })), 'ImplicitDeny');
    assert.equal(evaluate([home('2008-10-17')], req({ principal: ana, resource: `${B}/home/\${aws:username}/x` })), 'Allow');
  });

  test('a variable value is literal, not a wildcard', () => {
    const sneaky = { type: 'account' as const, account: OWNER, user: '*' };
    assert.equal(evaluate([home('2012-10-17')], req({ principal: sneaky, resource: `${B}/home/ana/x` })), 'ImplicitDeny');
    assert.equal(evaluate([home('2012-10-17')], req({ principal: sneaky, resource: `${B}/home/*/x` })), 'Allow');
  });

  test('${aws:PrincipalAccount}, defaults and the ${*} ${?} ${$} literals', () => {
    const p = policy([
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${B}/\${aws:PrincipalAccount}/*` },
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${B}/anon/\${aws:userid, 'anonymous'}` },
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${B}/lit/\${*}\${?}\${$}` },
    ]);
    assert.equal(evaluate([p], req({ principal: other, resource: `${B}/${OTHER}/a` })), 'Allow');
    assert.equal(evaluate([p], req({ principal: other, resource: `${B}/${OWNER}/a` })), 'ImplicitDeny');
    assert.equal(evaluate([p], req({ resource: `${B}/anon/anonymous` })), 'Allow');
    assert.equal(evaluate([p], req({ resource: `${B}/lit/*?$` })), 'Allow');
    assert.equal(evaluate([p], req({ resource: `${B}/lit/ab$` })), 'ImplicitDeny');
  });

  test('variables in StringEquals, ArnLike and Bool values', () => {
    assert.equal(evaluate([allowIf({ StringEquals: { 's3:prefix': '${aws:username}' } })], req({ principal: ana }, { 's3:prefix': 'ana' })), 'Allow');
    assert.equal(evaluate([allowIf({ ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*:${aws:PrincipalAccount}:*' } })], req({ principal: ana }, { 'aws:SourceArn': `arn:aws:sns:x:${OWNER}:t` })), 'Allow');
    assert.equal(evaluate([allowIf({ Bool: { 'aws:SecureTransport': '${aws:ViaAWSService}' } })], req({}, { 'aws:SecureTransport': true, 'aws:ViaAWSService': 'true' })), 'Allow');
    // An unresolved variable in a negated operator matches nothing, so the negation holds.
    assert.equal(evaluate([allowIf({ StringNotEquals: { 's3:prefix': '${aws:username}' } })], req({}, { 's3:prefix': 'x' })), 'Allow');
  });
});
