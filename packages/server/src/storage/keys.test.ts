import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { byteOrder } from './contract/helpers.ts';
import {
  compareKeys,
  currentKey,
  escapeKey,
  prefixSuccessor,
  unescapeKey,
  versionKey,
  versionStackPrefix,
} from './keys.ts';

const sign = (n: number) => Math.sign(n);
/** Keys that are valid UTF-8, weighted toward the bytes the escaping treats specially. */
const keyArb = fc.oneof(
  fc.string({ unit: fc.constantFrom('\u0000', '\u0001', '\u0002', 'a', '/', '\u00ff', '\uFFFD') }),
  fc.string({ unit: 'grapheme' }),
);
const versionIdArb = fc.string({
  unit: fc.constantFrom('0', '9', 'A', 'Z', 'a', 'z', 'n', 'u', 'l'),
  minLength: 1,
  maxLength: 6,
});

describe('escapeKey', () => {
  it('leaves keys without 00 or 01 bytes as their UTF-8 bytes', () => {
    assert.deepEqual(escapeKey('photos/cat.jpg'), Buffer.from('photos/cat.jpg'));
    assert.deepEqual(escapeKey('\u{1F600}'), Buffer.from('\u{1F600}'));
  });

  it('escapes 00 and 01 so the result contains no 00 byte', () => {
    assert.deepEqual(escapeKey('a\u0000b\u0001'), Buffer.from([0x61, 1, 1, 0x62, 1, 2]));
    fc.assert(fc.property(keyArb, (k) => !escapeKey(k).includes(0)));
  });

  it('round-trips through unescapeKey', () => {
    fc.assert(fc.property(keyArb, (k) => unescapeKey(escapeKey(k)) === k));
  });

  it('preserves UTF-8 byte order', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => sign(Buffer.compare(escapeKey(a), escapeKey(b))) === sign(byteOrder(a, b))),
    );
  });

  it('maps a key that extends another to an escaped form that extends it', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) =>
        escapeKey(a + b)
          .subarray(0, escapeKey(a).length)
          .equals(escapeKey(a)),
      ),
    );
  });
});

describe('compareKeys', () => {
  it('orders by UTF-8 bytes where UTF-16 disagrees', () => {
    assert.ok(compareKeys('\uFFFD', '\u{1F600}') < 0, 'U+FFFD sorts before U+1F600 in UTF-8');
    assert.ok(compareKeys('\uE000', '\u{10000}') < 0);
    assert.ok(compareKeys('\u{10000}', '\uFFFF') > 0);
    assert.ok(compareKeys('a', 'b') < 0);
    assert.ok(compareKeys('a', 'a/') < 0);
    assert.equal(compareKeys('', ''), 0);
    assert.equal(compareKeys('\u{1F600}x', '\u{1F600}x'), 0);
    assert.ok(compareKeys('a\u0000', 'a') > 0);
  });

  it('agrees with UTF-8 byte order on keys whose astral characters differ in their first UTF-16 unit', () => {
    // Astral characters from distinct high-surrogate blocks; the shared-block case is tested below.
    const units = fc.constantFrom(
      'a',
      '\u0000',
      '\uD7FF',
      '\uE000',
      '\uFFFD',
      '\u{10000}',
      '\u{1F600}',
      '\u{E0041}',
      '\u{10FFFF}',
    );
    fc.assert(
      fc.property(
        fc.string({ unit: units }),
        fc.string({ unit: units }),
        (a, b) => sign(compareKeys(a, b)) === sign(byteOrder(a, b)),
      ),
    );
  });

  it('orders astral characters that share a UTF-16 high surrogate by code point', () => {
    assert.ok(compareKeys('\u{10000}x', '\u{10001}') < 0);
    assert.ok(compareKeys('\u{10001}', '\u{10000}x') > 0);
    assert.ok(compareKeys('😀😀\u{10001}', '😀😀\u{10000}') > 0);
    assert.ok(compareKeys('photo-😀.jpg', 'photo-😁.jpg') < 0);
    assert.ok(compareKeys('\u{1F600}', '\u{1F601}') < 0);
    assert.ok(compareKeys('\u{10FFFF}', '\u{10FFFE}') > 0);
  });

  it('property: has the sign of Buffer.compare on the UTF-8 encodings, over all of Unicode', () => {
    const sameBlock = (lo: number) => fc.integer({ min: lo, max: lo + 0x3ff }).map((cp) => String.fromCodePoint(cp));
    // Mostly arbitrary code points, plus characters from a few high-surrogate blocks and the
    // BMP characters around the surrogate range, so that pairs often differ only in a low surrogate.
    const unit = fc.oneof(
      { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 3 },
      { arbitrary: sameBlock(0x10000), weight: 1 },
      { arbitrary: sameBlock(0x1f400), weight: 1 },
      { arbitrary: sameBlock(0x10fc00), weight: 1 },
      { arbitrary: fc.constantFrom('a', '\u0000', '\uD7FF', '\uE000', '\uFFFD', '\uFFFF'), weight: 1 },
    );
    const text = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit, maxLength: 4 }));
    const utf8Sign = (a: string, b: string) => sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    fc.assert(
      fc.property(text, text, text, (common, a, b) => {
        assert.equal(sign(compareKeys(a, b)), utf8Sign(a, b), JSON.stringify([a, b]));
        assert.equal(sign(compareKeys(common + a, common + b)), utf8Sign(common + a, common + b));
        assert.equal(sign(compareKeys(b, a)) + sign(compareKeys(a, b)), 0, 'antisymmetric');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('version keys', () => {
  it('sort a stack newest first: lastModified descending, then version id descending', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 48 }),
        versionIdArb,
        fc.nat({ max: 2 ** 48 }),
        versionIdArb,
        (t1, id1, t2, id2) => {
          const expected = sign(t2 - t1 || byteOrder(id2, id1));
          return sign(Buffer.compare(versionKey('b', 'k', t1, id1), versionKey('b', 'k', t2, id2))) === expected;
        },
      ),
    );
  });

  it('keep every version of a key inside its stack prefix and after its current key', () => {
    fc.assert(
      fc.property(keyArb, fc.nat({ max: 2 ** 48 }), versionIdArb, (key, t, id) => {
        const vk = versionKey('bucket', key, t, id);
        const prefix = versionStackPrefix('bucket', key);
        return vk.subarray(0, prefix.length).equals(prefix) && Buffer.compare(vk, currentKey('bucket', key)) > 0;
      }),
    );
  });

  it("never put a longer key's versions inside a shorter key's stack", () => {
    fc.assert(
      fc.property(
        keyArb,
        keyArb.filter((s) => s.length > 0),
        fc.nat({ max: 2 ** 48 }),
        versionIdArb,
        (a, tail, t, id) => {
          const prefix = versionStackPrefix('b', a);
          return !versionKey('b', a + tail, t, id)
            .subarray(0, prefix.length)
            .equals(prefix);
        },
      ),
    );
  });
});

describe('prefixSuccessor', () => {
  it('is the smallest string above every extension of the prefix', () => {
    assert.deepEqual(prefixSuccessor(Buffer.from([1, 2, 3])), Buffer.from([1, 2, 4]));
    assert.deepEqual(prefixSuccessor(Buffer.from([1, 0xff, 0xff])), Buffer.from([2]));
    assert.equal(prefixSuccessor(Buffer.from([0xff, 0xff])), undefined);
    assert.equal(prefixSuccessor(Buffer.alloc(0)), undefined);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 6 }), fc.uint8Array({ maxLength: 6 }), (p, tail) => {
        const succ = prefixSuccessor(Buffer.from(p));
        const ext = Buffer.concat([p, tail]);
        return succ === undefined || Buffer.compare(ext, succ) < 0;
      }),
    );
  });
});
