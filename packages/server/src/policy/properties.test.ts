import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { S3Error } from '../core/errors.ts';
import { evaluate, explain, statementApplies } from './evaluate.ts';
import { parsePolicy } from './parse.ts';
import type { Policy, RequestContext, RequestPrincipal } from './types.ts';

const OWNER = '111122223333';
const OTHER = '444455556666';
const B = 'arn:aws:s3:::photos';

const principalJson = fc.constantFrom<unknown>(
  '*',
  { AWS: '*' },
  { AWS: OWNER },
  { AWS: `arn:aws:iam::${OTHER}:root` },
  { AWS: `arn:aws:iam::${OWNER}:user/ana` },
  { Service: 's3.amazonaws.com' },
);
const conditionJson = fc.constantFrom<Record<string, unknown> | undefined>(
  undefined,
  { Bool: { 'aws:SecureTransport': 'true' } },
  { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
  { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
  { StringLike: { 's3:x-amz-acl': 'public-*' } },
  { StringNotEqualsIfExists: { 's3:x-amz-acl': 'private' } },
  { Null: { 's3:x-amz-acl': 'true' } },
  { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['team'] } },
);
const statementJson = (effect: fc.Arbitrary<string>) =>
  fc.record({
    Effect: effect,
    Principal: principalJson,
    Action: fc.subarray(['s3:GetObject', 's3:Get*', 's3:PutObject', 's3:*', 's3:?utObject'], { minLength: 1 }),
    Resource: fc.subarray([`${B}/*`, `${B}/a*`, `${B}/b/?`, `${B}/A`], { minLength: 1 }),
    Condition: conditionJson,
  });

const toPolicy = (statements: unknown[]): Policy =>
  parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), { kind: 'bucket' });

const policyArb = fc.array(statementJson(fc.constantFrom('Allow', 'Deny')), { minLength: 1, maxLength: 5 });

const requestArb: fc.Arbitrary<RequestContext> = fc.record({
  principal: fc.constantFrom<RequestPrincipal>(
    { type: 'anonymous' },
    { type: 'account', account: OWNER },
    { type: 'account', account: OWNER, user: 'ana' },
    { type: 'account', account: OTHER },
    { type: 'service', service: 's3.amazonaws.com' },
  ),
  action: fc.constantFrom('s3:GetObject', 's3:PutObject', 's3:GetObjectAcl', 's3:DeleteObject'),
  resource: fc.constantFrom(`${B}/a`, `${B}/abc`, `${B}/b/x`, `${B}/A`, `${B}/c`),
  keys: fc.record(
    {
      'aws:SecureTransport': fc.boolean(),
      'aws:SourceIp': fc.constantFrom('10.1.2.3', '192.0.2.1', '::ffff:10.0.0.1'),
      's3:x-amz-acl': fc.constantFrom('private', 'public-read'),
      's3:RequestObjectTagKeys': fc.constantFrom<readonly string[]>([], ['team'], ['x', 'y']),
    },
    { requiredKeys: [] },
  ),
});

describe('evaluation properties', () => {
  test('adding a Deny statement never turns a decision into Allow, and keeps a Deny a Deny', () => {
    fc.assert(
      fc.property(policyArb, statementJson(fc.constant('Deny')), requestArb, (statements, deny, request) => {
        const before = evaluate([toPolicy(statements)], request);
        const after = evaluate([toPolicy([...statements, deny])], request);
        if (before !== 'Allow') assert.notEqual(after, 'Allow');
        if (before === 'Deny') assert.equal(after, 'Deny');
      }),
      { numRuns: 150 },
    );
  });

  test('adding an Allow statement never undoes an Allow or a Deny', () => {
    fc.assert(
      fc.property(policyArb, statementJson(fc.constant('Allow')), requestArb, (statements, allow, request) => {
        const before = evaluate([toPolicy(statements)], request);
        const after = evaluate([toPolicy([...statements, allow])], request);
        if (before !== 'ImplicitDeny') assert.equal(after, before);
      }),
      { numRuns: 150 },
    );
  });

  test('statement and policy order never matter', () => {
    fc.assert(
      fc.property(policyArb, requestArb, fc.integer(), (statements, request, seed) => {
        const shuffled = [...statements].sort((a, b) => ((JSON.stringify(a).length * 31 + seed) % 7) - ((JSON.stringify(b).length * 31 + seed) % 7));
        assert.equal(evaluate([toPolicy(statements)], request), evaluate([toPolicy(shuffled)], request));
        const split = statements.map((s) => toPolicy([s]));
        assert.equal(evaluate(split, request), evaluate([...split].reverse(), request));
        assert.equal(evaluate(split, request), evaluate([toPolicy(statements)], request));
      }),
      { numRuns: 200 },
    );
  });

  test('the decision is Deny iff some Deny applies, else Allow iff some Allow applies; explain names one', () => {
    fc.assert(
      fc.property(policyArb, requestArb, (statements, request) => {
        const policy = toPolicy(statements);
        const applying = policy.statements.filter((s) => statementApplies(policy, s, request));
        const expected = applying.some((s) => s.effect === 'Deny') ? 'Deny' : applying.length > 0 ? 'Allow' : 'ImplicitDeny';
        const result = explain([policy], request);
        assert.equal(result.decision, expected);
        if (result.by) {
          const s = policy.statements[result.by.statement];
          assert.equal(s.effect, result.decision);
          assert.ok(statementApplies(policy, s, request));
        }
      }),
      { numRuns: 150 },
    );
  });

  test('statements that name other actions give ImplicitDeny', () => {
    fc.assert(
      fc.property(policyArb, requestArb, (statements, request) => {
        const others = statements.map((s) => ({ ...s, Action: 's3:RestoreObject' }));
        assert.equal(evaluate([toPolicy(others)], { ...request, action: 's3:GetObject' }), 'ImplicitDeny');
      }),
      { numRuns: 100 },
    );
  });

  test('a statement for everyone with no condition applies to every requester', () => {
    fc.assert(
      fc.property(requestArb, (request) => {
        const p = toPolicy([{ Effect: 'Allow', Principal: '*', Action: '*', Resource: `${B}/*` }]);
        assert.equal(evaluate([p], request), 'Allow');
      }),
      { numRuns: 50 },
    );
  });
});

describe('hostile policy documents', () => {
  const onlyMalformed = (text: string) => {
    try {
      parsePolicy(text, { kind: 'bucket', resourceArns: [B] });
    } catch (err) {
      assert.ok(err instanceof S3Error, `not an S3Error: ${String(err)}`);
      assert.equal(err.code, 'MalformedPolicy');
    }
  };

  test('arbitrary text is refused with MalformedPolicy, never another error', () => {
    fc.assert(fc.property(fc.string(), (s) => onlyMalformed(`{${s}`)), { numRuns: 250 });
  });

  test('arbitrary JSON in every field is refused with MalformedPolicy, never another error', () => {
    const field = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined));
    fc.assert(
      fc.property(
        fc.record({ Effect: field, Principal: field, Action: field, Resource: field, Condition: field, Sid: field }),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant('2012-10-17')),
        (statement, version) => {
          onlyMalformed(JSON.stringify({ Version: version, Statement: [statement] }));
          onlyMalformed(JSON.stringify({ Statement: statement }));
        },
      ),
      { numRuns: 250 },
    );
  });

  test('arbitrary condition blocks are refused with MalformedPolicy or evaluate without throwing', () => {
    const op = fc.constantFrom('StringEquals', 'ForAllValues:StringNotLike', 'NumericLessThan', 'DateGreaterThan', 'IpAddress', 'Null', 'ArnLike', 'Bool', 'BoolIfExists');
    const key = fc.constantFrom('aws:SourceIp', 's3:prefix', 'aws:CurrentTime', 's3:ExistingObjectTag/a', 'aws:username');
    fc.assert(
      fc.property(op, key, fc.jsonValue({ maxDepth: 1 }), fc.string(), (o, k, v, ctx) => {
        let policy: Policy;
        try {
          policy = toPolicy([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${B}/*`, Condition: { [o]: { [k]: v } } }]);
        } catch (err) {
          assert.ok(err instanceof S3Error && err.code === 'MalformedPolicy');
          return;
        }
        const d = evaluate([policy], { principal: { type: 'anonymous' }, action: 's3:GetObject', resource: `${B}/x`, keys: { [k]: ctx } });
        assert.ok(['Allow', 'ImplicitDeny'].includes(d));
      }),
      { numRuns: 250 },
    );
  });
});
