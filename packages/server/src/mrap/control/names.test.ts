import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALIAS, MRAP_NAME, mrapArn, newAlias, parseMrapArn, parseRequestTokenArn, requestTokenArn } from './names.ts';

describe('MRAP names, aliases and ARNs', () => {
  test('names: 3–50 lowercase letters, digits and inner hyphens', () => {
    for (const ok of ['abc', 'my-mrap', 'a1-b2', '0ab', 'a'.repeat(50)]) assert.ok(MRAP_NAME.test(ok), ok);
    for (const bad of ['ab', 'a'.repeat(51), '-abc', 'abc-', 'Abc', 'a_b', 'a.b', 'a b', '']) assert.ok(!MRAP_NAME.test(bad), bad);
  });

  test('aliases are random, start with a letter and end in .mrap', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const a = newAlias();
      assert.match(a, ALIAS);
      assert.equal(a.length, 18);
      seen.add(a);
    }
    assert.equal(seen.size, 500);
    // Even when the random source's first byte would pick a digit, the alias starts with a letter.
    assert.match(newAlias(() => Buffer.alloc(13, 255)), /^[a-z][a-z0-9]{12}\.mrap$/);
  });

  test('MRAP ARNs have no Region and round-trip', () => {
    const arn = mrapArn('111122223333', 'mfzwi23gnjvgw.mrap');
    assert.equal(arn, 'arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap');
    assert.deepEqual(parseMrapArn(arn), { account: '111122223333', alias: 'mfzwi23gnjvgw.mrap' });
    for (const bad of [
      '',
      'mfzwi23gnjvgw.mrap',
      'arn:aws:s3:us-east-1:111122223333:accesspoint/mfzwi23gnjvgw.mrap',
      'arn:aws:s3::1111:accesspoint/mfzwi23gnjvgw.mrap',
      'arn:aws:s3::111122223333:accesspoint/my-access-point',
      'arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap/object/key',
    ]) {
      assert.equal(parseMrapArn(bad), undefined, bad);
    }
  });

  test('request token ARNs name the account, the operation and the token', () => {
    const token = 'a'.repeat(32);
    const arn = requestTokenArn('111122223333', 'PutMultiRegionAccessPointPolicy', token);
    assert.equal(arn, `arn:aws:s3:us-west-2:111122223333:async-request/mrap/put-policy/${token}`);
    assert.deepEqual(parseRequestTokenArn(arn), { account: '111122223333', token });
    assert.equal(parseRequestTokenArn(requestTokenArn('111122223333', 'CreateMultiRegionAccessPoint', token))?.token, token);
    assert.equal(parseRequestTokenArn(`arn:aws:s3:us-west-2:111122223333:async-request/mrap/rename/${token}`), undefined);
    assert.equal(parseRequestTokenArn('arn:nonsense'), undefined);
  });
});
