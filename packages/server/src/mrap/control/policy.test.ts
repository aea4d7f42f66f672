import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPolicy, policyIsPublic } from './policy.ts';

const statement = (s: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [s] });
const allow = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3::111122223333:accesspoint/abc.mrap/object/*' };

describe('MRAP policies', () => {
  test('checkPolicy accepts policy documents and names what is wrong with others', () => {
    assert.deepEqual(checkPolicy(statement({ ...allow, Principal: '*' })), { ok: true });
    assert.deepEqual(checkPolicy(JSON.stringify({ Version: '2008-10-17', Statement: { ...allow, Principal: '*' } })), { ok: true });
    for (const [bad, why] of [
      ['not json', /valid JSON/],
      ['[]', /JSON object/],
      ['{"Statement":[]}', /version/],
      ['{"Version":"2020-01-01","Statement":[]}', /version/],
      ['{"Version":"2012-10-17"}', /Statement/],
      ['{"Version":"2012-10-17","Statement":[]}', /Statement/],
      ['{"Version":"2012-10-17","Statement":["x"]}', /object/],
      [statement({ ...allow, Effect: 'Maybe' }), /effect/],
      [statement({ Effect: 'Allow', Resource: '*' }), /Action/],
    ] as const) {
      const r = checkPolicy(bad);
      assert.equal(r.ok, false, bad);
      if (!r.ok) assert.match(r.message, why, bad);
    }
  });

  test('public: an unconditional Allow for everyone', () => {
    assert.equal(policyIsPublic(statement({ ...allow, Principal: '*' })), true);
    assert.equal(policyIsPublic(statement({ ...allow, Principal: { AWS: '*' } })), true);
    assert.equal(policyIsPublic(statement({ ...allow, Principal: { AWS: ['arn:aws:iam::111122223333:root', '*'] } })), true);
  });

  test('not public: named principals, conditions, Deny, no policy, an invalid policy', () => {
    assert.equal(policyIsPublic(statement({ ...allow, Principal: { AWS: 'arn:aws:iam::111122223333:root' } })), false);
    assert.equal(
      policyIsPublic(statement({ ...allow, Principal: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '111122223333' } } })),
      false,
    );
    assert.equal(policyIsPublic(statement({ ...allow, Effect: 'Deny', Principal: '*' })), false);
    assert.equal(policyIsPublic(statement({ ...allow, Principal: { Service: '*' } })), false);
    assert.equal(policyIsPublic(undefined), false);
    assert.equal(policyIsPublic('{"Principal":"*"}'), false);
  });
});
