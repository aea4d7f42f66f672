import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MAX_DEPTH, readJson } from './json.ts';

describe('readJson', () => {
  test('reads what JSON.parse reads', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        assert.deepEqual(JSON.stringify(readJson(text)), JSON.stringify(JSON.parse(text)));
      }),
    );
  });

  test('refuses what JSON.parse refuses', () => {
    for (const bad of ['', '{', '{"a"}', '{"a":1,}', '[1,]', "{'a':1}", '01', '1.', '.5', '+1', 'tru', 'nul', '"\u0001"', '"\\x"', '{} {}', 'NaN', '[1 2]']) {
      assert.throws(() => readJson(bad), { name: 'JsonSyntaxError' }, bad);
      assert.throws(() => JSON.parse(bad), SyntaxError, bad);
    }
  });

  test('refuses a member named twice, even after escapes', () => {
    assert.throws(() => readJson('{"a":1,"a":2}'), /duplicate member a/);
    assert.throws(() => readJson('{"a":1,"\\u0061":2}'), /duplicate/);
    assert.deepEqual(readJson('[{"a":1},{"a":2}]'), [{ a: 1 }, { a: 2 }].map((o) => Object.assign(Object.create(null), o)));
  });

  test('bounds nesting', () => {
    assert.doesNotThrow(() => readJson('['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH)));
    assert.throws(() => readJson('['.repeat(100_000)), /nested too deeply/);
  });

  test('a member named __proto__ is a member, not a prototype', () => {
    const v = readJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(v), null);
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('never throws anything but its syntax error on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          readJson(text);
        } catch (err) {
          assert.equal((err as Error).name, 'JsonSyntaxError');
        }
      }),
    );
  });
});
