import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  accountOfPrincipal,
  accountRootArn,
  isAccountId,
  parseAwsPrincipal,
  principalMatches,
  requestPrincipalArn,
} from './principal.ts';
import type { PrincipalSet } from './types.ts';

const set = (patch: Partial<PrincipalSet>): PrincipalSet => ({
  everyone: false,
  aws: [],
  canonicalUsers: [],
  services: [],
  federated: [],
  ...patch,
});

describe('account principals', () => {
  test('an account id and its root ARN map to each other', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{12}$/), (id) => {
        assert.equal(isAccountId(id), true);
        assert.equal(accountOfPrincipal(accountRootArn(id)), id);
        assert.equal(accountOfPrincipal(id), id);
        assert.deepEqual(parseAwsPrincipal(accountRootArn(id)), { kind: 'account', account: id });
      }),
    );
  });

  test('only accounts are accounts', () => {
    for (const v of ['12345678901', '1234567890123', 'abcdefghijkl', 'arn:aws:iam::111122223333:user/ana', 'arn:aws:iam::111122223333:root/x', 'arn:aws:iam::*:root']) {
      assert.equal(accountOfPrincipal(v), undefined, v);
    }
  });

  test('reads users, roles and sessions; refuses the rest', () => {
    assert.deepEqual(parseAwsPrincipal('arn:aws:iam::111122223333:user/ana'), {
      kind: 'user',
      account: '111122223333',
      arn: 'arn:aws:iam::111122223333:user/ana',
      name: 'ana',
    });
    assert.equal(parseAwsPrincipal('arn:aws:iam::111122223333:user/a/b/ana')?.kind, 'user');
    assert.equal(parseAwsPrincipal('arn:aws:iam::111122223333:role/service-role/r')?.kind, 'role');
    assert.equal(parseAwsPrincipal('arn:aws:sts::111122223333:assumed-role/r/session')?.kind, 'assumed-role');
    for (const bad of ['ana', '', 'arn:aws:iam::111122223333:user/', 'arn:aws:iam::111122223333:group/g', 'arn:aws:s3:::b', 'arn:aws:iam::1111:user/a']) {
      assert.equal(parseAwsPrincipal(bad), undefined, bad);
    }
  });

  test('the request ARN of a root, a user, and one given', () => {
    assert.equal(requestPrincipalArn({ type: 'account', account: '111122223333' }), 'arn:aws:iam::111122223333:root');
    assert.equal(requestPrincipalArn({ type: 'account', account: '111122223333', user: 'ana' }), 'arn:aws:iam::111122223333:user/ana');
    assert.equal(requestPrincipalArn({ type: 'account', account: '1', arn: 'arn:x' }), 'arn:x');
    assert.equal(requestPrincipalArn({ type: 'anonymous' }), undefined);
  });
});

describe('principalMatches', () => {
  const acct = set({ aws: [{ kind: 'account', account: '111122223333' }] });
  test('an account names every identity of that account and nothing else', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{12}$/), fc.option(fc.stringMatching(/^[a-z]{1,8}$/), { nil: undefined }), (account, user) => {
        const p = { type: 'account' as const, account, ...(user ? { user } : {}) };
        assert.equal(principalMatches(acct, p), account === '111122223333');
        assert.equal(principalMatches(set({ everyone: true }), p), true);
      }),
    );
  });
  test('anonymous is named only by *', () => {
    assert.equal(principalMatches(acct, { type: 'anonymous' }), false);
    assert.equal(principalMatches(set({ federated: ['x'] }), { type: 'anonymous' }), false);
    assert.equal(principalMatches(set({ everyone: true }), { type: 'anonymous' }), true);
  });
});
