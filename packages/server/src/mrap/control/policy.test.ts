import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mrapArn } from './names.ts';
import { checkPolicy, policyIsPublic, publicPolicyBlocked } from './policy.ts';

const ARN = mrapArn('111122223333', 'abc.mrap');
const statement = (s: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [s] });
const allow = { Effect: 'Allow', Action: 's3:GetObject', Resource: `${ARN}/object/*` };

describe('MRAP policies (through the policy engine)', () => {
  test('checkPolicy accepts policy documents for this access point and names what is wrong with others', () => {
    assert.equal(checkPolicy(statement({ ...allow, Principal: '*' }), ARN).ok, true);
    assert.equal(checkPolicy(JSON.stringify({ Version: '2008-10-17', Statement: { ...allow, Principal: '*' } }), ARN).ok, true);
    for (const [bad, why] of [
      ['not json', /JSON/],
      ['{"Version":"2012-10-17"}', /Statement/],
      [statement({ ...allow, Principal: '*', Effect: 'Maybe' }), /effect/i],
      [statement({ Effect: 'Allow', Principal: '*', Resource: `${ARN}/object/*` }), /Action/],
      [statement({ ...allow, Principal: '*', Resource: 'arn:aws:s3::111122223333:accesspoint/other.mrap/object/*' }), /resource/i],
    ] as const) {
      const r = checkPolicy(bad, ARN);
      assert.equal(r.ok, false, bad);
      if (!r.ok) assert.match(r.message, why, bad);
    }
  });

  test('public: an Allow for everyone without a fixing condition', () => {
    assert.equal(policyIsPublic(statement({ ...allow, Principal: '*' }), ARN), true);
    assert.equal(policyIsPublic(statement({ ...allow, Principal: { AWS: '*' } }), ARN), true);
    assert.equal(policyIsPublic(statement({ ...allow, Principal: { AWS: 'arn:aws:iam::111122223333:root' } }), ARN), false);
    assert.equal(
      policyIsPublic(statement({ ...allow, Principal: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '111122223333' } } }), ARN),
      false,
    );
    assert.equal(policyIsPublic(statement({ ...allow, Effect: 'Deny', Principal: '*' }), ARN), false);
    assert.equal(policyIsPublic(undefined, ARN), false);
  });

  test('publicPolicyBlocked: a public policy, with BlockPublicPolicy on for the access point or its account', () => {
    const parse = (text: string) => {
      const r = checkPolicy(text, ARN);
      assert.ok(r.ok);
      return r.policy;
    };
    const open = { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: true };
    const closed = { ...open, blockPublicPolicy: true };
    const pub = parse(statement({ ...allow, Principal: '*' }));
    const mine = parse(statement({ ...allow, Principal: { AWS: 'arn:aws:iam::111122223333:root' } }));
    assert.equal(publicPolicyBlocked(pub, closed, undefined), true);
    assert.equal(publicPolicyBlocked(pub, open, closed), true, "the account's setting");
    assert.equal(publicPolicyBlocked(pub, open, undefined), false);
    assert.equal(publicPolicyBlocked(pub, open, open), false);
    assert.equal(publicPolicyBlocked(mine, closed, closed), false, 'a policy that is not public is never blocked');
  });
});
