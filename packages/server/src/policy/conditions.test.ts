import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDate, parseNumber, parseOperator } from './conditions.ts';

describe('condition operator names', () => {
  test('reads qualifiers and IfExists', () => {
    assert.deepEqual(parseOperator('StringEquals'), { operator: 'StringEquals', ifExists: false });
    assert.deepEqual(parseOperator('StringLikeIfExists'), { operator: 'StringLike', ifExists: true });
    assert.deepEqual(parseOperator('ForAnyValue:StringLike'), { operator: 'StringLike', ifExists: false, qualifier: 'ForAnyValue' });
    assert.deepEqual(parseOperator('ForAllValues:ArnNotLikeIfExists'), { operator: 'ArnNotLike', ifExists: true, qualifier: 'ForAllValues' });
    assert.deepEqual(parseOperator('Null'), { operator: 'Null', ifExists: false });
  });
  test('refuses unknown, miscased and impossible names', () => {
    for (const bad of ['', 'StringEqualz', 'stringequals', 'STRINGEQUALS', 'IfExists', 'NullIfExists', 'ForAnyValue:Null', 'ForSomeValues:StringLike', 'ForAnyValue:', 'StringEqualsIfexists', 'toString', '__proto__', 'constructor']) {
      assert.equal(parseOperator(bad), undefined, bad);
    }
  });
});

describe('condition values', () => {
  test('numbers are decimals', () => {
    assert.equal(parseNumber('10'), 10);
    assert.equal(parseNumber('-1.5'), -1.5);
    assert.equal(parseNumber('1e3'), 1000);
    for (const bad of ['', ' 1', '0x10', 'Infinity', 'NaN', '1,000', '1e999']) assert.equal(parseNumber(bad), undefined, bad);
  });
  test('dates are ISO 8601 (W3C profile) or epoch seconds', () => {
    assert.equal(parseDate('2020-01-01T00:00:00Z'), Date.UTC(2020, 0, 1));
    assert.equal(parseDate('2020-01-01T01:00:00+01:00'), Date.UTC(2020, 0, 1));
    assert.equal(parseDate('2020-01-01T00:00Z'), Date.UTC(2020, 0, 1));
    assert.equal(parseDate('2020-01-01T00:00:00.123Z'), Date.UTC(2020, 0, 1) + 123);
    assert.equal(parseDate('2020-01-01'), Date.UTC(2020, 0, 1));
    assert.equal(parseDate('2020-02'), Date.UTC(2020, 1, 1));
    assert.equal(parseDate('2020'), Date.UTC(2020, 0, 1));
    assert.equal(parseDate('1577836800'), Date.UTC(2020, 0, 1));
    for (const bad of ['', 'tomorrow', '2020-01-01T00:00:00', '2020-13-01', 'Wed, 01 Jan 2020 00:00:00 GMT', '2020-01-01 00:00:00Z']) {
      assert.equal(parseDate(bad), undefined, bad);
    }
  });
});
