import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { globParts, matchArn, wildcardMatch } from './wildcard.ts';

/** The reference: the pattern as an anchored regular expression over code points. */
function reference(pattern: string, subject: string, ignoreCase: boolean): boolean {
  const source = [...pattern]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'isu' : 'su').test(ignoreCase ? subject.toLowerCase() : subject);
}

describe('wildcardMatch', () => {
  const cases: [string, string, boolean, boolean?][] = [
    ['*', '', true],
    ['*', 'anything/at:all', true],
    ['', '', true],
    ['', 'a', false],
    ['a', 'a', true],
    ['a', 'A', false],
    ['a', 'A', true, true],
    ['?', '', false],
    ['?', 'ab', false],
    ['?', '😀', true],
    ['a*b', 'ab', true],
    ['a*b', 'a/x/b', true],
    ['a*b', 'a/x/c', false],
    ['a*b*c', 'abbbc', true],
    ['a*b*c', 'acb', false],
    ['*.jpg', 'x.jpg.png', false],
    ['**', 'x', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['s3:Get*', 's3:getobject', true, true],
    ['s3:Get*', 's3:getobject', false],
    ['x', 'x\ny', false],
  ];
  for (const [pattern, subject, expected, ignoreCase] of cases) {
    test(`${JSON.stringify(pattern)} vs ${JSON.stringify(subject)}${ignoreCase ? ' (ignoring case)' : ''}`, () =>
      assert.equal(wildcardMatch(pattern, subject, ignoreCase), expected));
  }

  test('agrees with a regular-expression reference', () => {
    const alphabet = fc.constantFrom('a', 'b', 'A', '/', ':', '*', '?', '.', '😀', '\n');
    const text = fc.array(alphabet, { maxLength: 10 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text, text, fc.boolean(), (pattern, subject, ignoreCase) => {
        assert.equal(wildcardMatch(pattern, subject, ignoreCase), reference(pattern, subject, ignoreCase));
      }),
      { numRuns: 1000 },
    );
  });

  test('a pattern matches itself when it holds no wildcards', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }).filter((s) => !/[*?]/.test(s)), (s) => wildcardMatch(s, s)),
    );
  });

  test('a long pathological pattern finishes quickly', () => {
    const started = Date.now();
    assert.equal(wildcardMatch('*a'.repeat(50) + 'b', 'a'.repeat(5000)), false);
    assert.ok(Date.now() - started < 1000);
  });
});

describe('matchArn', () => {
  const arn = (pattern: string, subject: string) => matchArn(globParts(pattern), subject);
  test('matches component by component', () => {
    assert.equal(arn('arn:aws:sns:*:111122223333:*', 'arn:aws:sns:us-east-1:111122223333:topic'), true);
    assert.equal(arn('arn:aws:sns:*:111122223333:*', 'arn:aws:sns:us-east-1:999999999999:topic'), false);
    assert.equal(arn('arn:aws:*', 'arn:aws:sns:us-east-1:1:t'), false);
    assert.equal(arn('arn:*:*:*:*:*', 'arn:aws:sns:us-east-1:1:t:with:colons'), true);
    assert.equal(arn('arn:aws:s3:::b/*', 'arn:aws:s3:::b/k'), true);
    assert.equal(arn('*', 'anything'), true);
    assert.equal(arn('arn:aws:s3:::b', 'not-an-arn'), false);
  });
});
