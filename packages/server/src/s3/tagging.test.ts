import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { S3Error } from '../core/errors.ts';
import type { Tag } from '../storage/types.ts';
import { parseTaggingHeader, parseTaggingXml, taggingHeader, taggingXml, validateTags, type TagTarget } from './tagging.ts';
import { toXml } from './xml.ts';

/** Asserts `fn` throws this S3 error; `fields` must match exactly when given. */
function throwsS3(fn: () => unknown, code: string, message?: string, fields?: Record<string, string>): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof S3Error, `expected an S3Error, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.equal(err.message, message);
    if (fields !== undefined) assert.deepEqual(err.fields, fields);
    return true;
  });
}

function doc(tags: readonly Tag[]): string {
  return toXml('Tagging', taggingXml(tags));
}

function rawDoc(inner: string): string {
  return `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>${inner}</TagSet></Tagging>`;
}

const tagsOf = (n: number): Tag[] => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));

const BAD_HEADER =
  "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";

/** Characters S3 allows in tag keys and values. */
const tagChar = fc.constantFrom(...'abcXYZ019 _.:/=+-@üé文字Ωß٣'.split(''));
const tagKey = fc.string({ unit: tagChar, minLength: 1, maxLength: 20 });
const tagValue = fc.string({ unit: tagChar, maxLength: 20 });
const tagSet = (max: number) =>
  fc
    .uniqueArray(fc.record({ key: tagKey, value: tagValue }).map((t): Tag => ({ key: t.key, value: t.value })), { selector: (t) => t.key, maxLength: max })
    .filter((tags) => tags.every((t) => !t.key.toLowerCase().startsWith('aws:')));

describe('validateTags', () => {
  for (const [target, limit, message] of [
    ['object', 10, 'Object tags cannot be greater than 10'],
    ['bucket', 50, 'Bucket tag count cannot be greater than 50'],
  ] as const) {
    it(`allows ${limit} ${target} tags and refuses ${limit + 1} with BadRequest`, () => {
      validateTags(tagsOf(limit), target);
      throwsS3(() => validateTags(tagsOf(limit + 1), target), 'BadRequest', message);
    });
  }

  it('counts the limits in UTF-16 code units: 128 for keys, 256 for values', () => {
    validateTags([{ key: 'k'.repeat(128), value: 'v'.repeat(256) }], 'object');
    // 64 astral letters are 128 UTF-16 units.
    validateTags([{ key: '𝐀'.repeat(64), value: '' }], 'object');
    throwsS3(() => validateTags([{ key: '𝐀'.repeat(64) + 'a', value: '' }], 'object'), 'InvalidTag');
    throwsS3(
      () => validateTags([{ key: 'k'.repeat(129), value: '' }], 'object'),
      'InvalidTag',
      'The TagKey you have provided is invalid',
      { TagKey: 'k'.repeat(129) },
    );
    throwsS3(
      () => validateTags([{ key: 'k', value: 'v'.repeat(257) }], 'object'),
      'InvalidTag',
      'The TagValue you have provided is invalid',
      { TagKey: 'k', TagValue: 'v'.repeat(257) },
    );
  });

  it('refuses an empty key and allows an empty value', () => {
    validateTags([{ key: 'k', value: '' }], 'object');
    throwsS3(() => validateTags([{ key: '', value: 'v' }], 'object'), 'InvalidTag', 'The TagKey you have provided is invalid', {
      TagKey: '',
    });
  });

  it('allows letters, digits, spaces and _ . : / = + - @ in any script', () => {
    validateTags([{ key: 'a Z 9 _.:/=+-@', value: 'ünï 文字 ٣ Ω' }], 'object');
    validateTags([{ key: 'non\u00a0breaking', value: '' }], 'object');
  });

  for (const bad of ['a,b', 'a;b', 'a?b', 'a!b', 'a*b', 'a#b', 'a%b', 'a(b)', 'a\tb', 'a\nb', '😀', 'a&b', 'a<b', '"q"']) {
    it(`refuses ${JSON.stringify(bad)} in a key and in a value`, () => {
      throwsS3(() => validateTags([{ key: bad, value: 'v' }], 'bucket'), 'InvalidTag', 'The TagKey you have provided is invalid', {
        TagKey: bad,
      });
      throwsS3(
        () => validateTags([{ key: 'k', value: bad }], 'bucket'),
        'InvalidTag',
        'The TagValue you have provided is invalid',
        { TagKey: 'k', TagValue: bad },
      );
    });
  }

  it('refuses two tags with the same key, naming it', () => {
    throwsS3(
      () => validateTags([{ key: 'a', value: '1' }, { key: 'b', value: '' }, { key: 'a', value: '2' }], 'object'),
      'InvalidTag',
      'Cannot provide multiple Tags with the same key',
      { TagKey: 'a' },
    );
    // Keys are case-sensitive.
    validateTags([{ key: 'a', value: '1' }, { key: 'A', value: '2' }], 'object');
  });

  for (const key of ['aws:cost', 'AWS:cost', 'Aws:x', 'aws:']) {
    it(`refuses the reserved key ${key} with the message of the target`, () => {
      throwsS3(() => validateTags([{ key, value: 'v' }], 'object'), 'InvalidTag', 'Your TagKey cannot be prefixed with aws:', {
        TagKey: key,
      });
      throwsS3(
        () => validateTags([{ key, value: 'v' }], 'bucket'),
        'InvalidTag',
        'System tags cannot be added/updated by requester',
        { TagKey: key },
      );
    });
  }

  it('allows aws in a key when it is not the prefix aws:', () => {
    validateTags([{ key: 'aws', value: '' }, { key: 'awsome:x', value: '' }, { key: 'my:aws:x', value: '' }], 'object');
  });

  it('checks the count before anything else', () => {
    const tags = [...tagsOf(10), { key: 'bad,key', value: '' }];
    throwsS3(() => validateTags(tags, 'object'), 'BadRequest');
  });
});

describe('parseTaggingHeader', () => {
  const cases: [string, [string, string][]][] = [
    ['', []],
    ['a=1', [['a', '1']]],
    ['a=1&b=2', [['a', '1'], ['b', '2']]],
    ['a&b=', [['a', ''], ['b', '']]],
    ['a%20b=c%2Bd&e+f=g=h', [['a b', 'c+d'], ['e f', 'g=h']]],
    ['%C3%BC=%E6%96%87', [['ü', '文']]],
    ['a=1&&b=2&', [['a', '1'], ['b', '2']]],
    ['path=%2Fa%2Fb', [['path', '/a/b']]],
    ['k=%40home', [['k', '@home']]],
  ];
  for (const [header, tags] of cases) {
    it(`reads ${JSON.stringify(header)}`, () => {
      assert.deepEqual(
        parseTaggingHeader(header),
        tags.map(([key, value]) => ({ key, value })),
      );
    });
  }

  for (const header of ['a=1&a=2', 'a&a', '=1', '=', 'a=%FF', 'a=%zz', '%E6%96=x', 'a=%', 'a%2=1']) {
    it(`refuses ${JSON.stringify(header)} as InvalidArgument naming the header`, () => {
      throwsS3(() => parseTaggingHeader(header), 'InvalidArgument', BAD_HEADER, {
        ArgumentName: 'x-amz-tagging',
        ArgumentValue: header,
      });
    });
  }

  it('checks the tags as object tags', () => {
    throwsS3(() => parseTaggingHeader(tagsOf(11).map((t) => `${t.key}=${t.value}`).join('&')), 'BadRequest');
    parseTaggingHeader(tagsOf(10).map((t) => `${t.key}=${t.value}`).join('&'));
    throwsS3(() => parseTaggingHeader('a,b=1'), 'InvalidTag', 'The TagKey you have provided is invalid', { TagKey: 'a,b' });
    throwsS3(() => parseTaggingHeader('k=a%2Ab'), 'InvalidTag', 'The TagValue you have provided is invalid');
    throwsS3(() => parseTaggingHeader('aws:cost=1'), 'InvalidTag', 'Your TagKey cannot be prefixed with aws:', {
      TagKey: 'aws:cost',
    });
    throwsS3(() => parseTaggingHeader(`${'k'.repeat(129)}=1`), 'InvalidTag');
  });

  it('reads back every valid tag set that taggingHeader writes', () => {
    fc.assert(
      fc.property(tagSet(10), (tags) => {
        assert.deepEqual(parseTaggingHeader(taggingHeader(tags)), tags);
      }),
    );
  });

  it('reads the form URLSearchParams writes (+ for spaces)', () => {
    fc.assert(
      fc.property(tagSet(10), (tags) => {
        const form = new URLSearchParams(tags.map((t): [string, string] => [t.key, t.value])).toString();
        assert.deepEqual(parseTaggingHeader(form), tags);
      }),
    );
  });

  it('answers every input with tags or an S3 error, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (header) => {
        try {
          parseTaggingHeader(header);
        } catch (err) {
          assert.ok(err instanceof S3Error, String(err));
          assert.ok(['InvalidArgument', 'InvalidTag', 'BadRequest'].includes(err.code), err.code);
        }
      }),
    );
  });
});

describe('parseTaggingXml', () => {
  for (const target of ['object', 'bucket'] as TagTarget[]) {
    it(`reads back what taggingXml writes (${target})`, () => {
      fc.assert(
        fc.property(tagSet(target === 'object' ? 10 : 50), (tags) => {
          assert.deepEqual(parseTaggingXml(doc(tags), target), tags);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('keeps whitespace inside keys and values, and decodes entities', () => {
    const xml = rawDoc('\n  <Tag>\n    <Key> a b </Key>\n    <Value>  x &amp; y  </Value>\n  </Tag>\n');
    // The decoded value is what gets checked: `&` is not an allowed character.
    throwsS3(() => parseTaggingXml(xml, 'object'), 'InvalidTag', 'The TagValue you have provided is invalid', {
      TagKey: ' a b ',
      TagValue: '  x & y  ',
    });
    assert.deepEqual(parseTaggingXml(rawDoc('<Tag><Key> a </Key><Value>&#64;1 </Value></Tag>'), 'object'), [
      { key: ' a ', value: '@1 ' },
    ]);
  });

  it('reads an empty value written either way, and an empty tag set', () => {
    assert.deepEqual(parseTaggingXml(rawDoc('<Tag><Key>a</Key><Value/></Tag><Tag><Key>b</Key><Value></Value></Tag>'), 'object'), [
      { key: 'a', value: '' },
      { key: 'b', value: '' },
    ]);
    assert.deepEqual(parseTaggingXml(rawDoc(''), 'object'), []);
    assert.deepEqual(parseTaggingXml('<Tagging><TagSet/></Tagging>', 'bucket'), []);
    assert.deepEqual(parseTaggingXml('<?xml version="1.0" encoding="UTF-8"?>\n<Tagging><TagSet/></Tagging>\n', 'bucket'), []);
  });

  it('refuses an empty body with MissingRequestBodyError', () => {
    throwsS3(() => parseTaggingXml('', 'object'), 'MissingRequestBodyError', 'Request Body is empty');
    throwsS3(() => parseTaggingXml('  \n', 'bucket'), 'MissingRequestBodyError');
  });

  const malformed: [string, string][] = [
    ['no end', '<Tagging><TagSet>'],
    ['not XML', 'a=1'],
    ['no tag set', '<Tagging></Tagging>'],
    ['an empty Tagging', '<Tagging/>'],
    ['a tag without a value', rawDoc('<Tag><Key>a</Key></Tag>')],
    ['a tag without a key', rawDoc('<Tag><Value>a</Value></Tag>')],
    ['an empty tag', rawDoc('<Tag/>')],
    ['two keys in a tag', rawDoc('<Tag><Key>a</Key><Key>b</Key><Value/></Tag>')],
    ['a key with children', rawDoc('<Tag><Key><x/></Key><Value/></Tag>')],
    ['two tag sets', '<Tagging><TagSet/><TagSet/></Tagging>'],
    ['another root', '<Tags><TagSet></TagSet></Tags>'],
    ['two roots', '<Tagging><TagSet/></Tagging><Tagging><TagSet/></Tagging>'],
    ['text in the tag set', rawDoc('stray<Tag><Key>a</Key><Value/></Tag>')],
  ];
  for (const [name, xml] of malformed) {
    it(`refuses ${name} as MalformedXML`, () => {
      throwsS3(() => parseTaggingXml(xml, 'object'), 'MalformedXML');
    });
  }

  it('checks the tags for the target', () => {
    throwsS3(() => parseTaggingXml(doc(tagsOf(11)), 'object'), 'BadRequest', 'Object tags cannot be greater than 10');
    assert.equal(parseTaggingXml(doc(tagsOf(11)), 'bucket').length, 11);
    throwsS3(() => parseTaggingXml(doc(tagsOf(51)), 'bucket'), 'BadRequest', 'Bucket tag count cannot be greater than 50');
    throwsS3(() => parseTaggingXml(doc([{ key: 'a', value: '1' }, { key: 'a', value: '2' }]), 'object'), 'InvalidTag');
    throwsS3(
      () => parseTaggingXml(doc([{ key: 'aws:x', value: '1' }]), 'bucket'),
      'InvalidTag',
      'System tags cannot be added/updated by requester',
    );
  });
});

describe('taggingXml', () => {
  it('writes the tag set in order, escaping markup', () => {
    const xml = toXml('Tagging', taggingXml([{ key: 'b', value: '<&>' }, { key: 'a', value: '' }]));
    assert.match(xml, /<TagSet><Tag><Key>b<\/Key><Value>&lt;&amp;&gt;<\/Value><\/Tag><Tag><Key>a<\/Key><Value><\/Value><\/Tag><\/TagSet>/);
  });

  it('writes an empty TagSet element for no tags', () => {
    assert.match(toXml('Tagging', taggingXml([])), /<TagSet><\/TagSet>/);
  });
});
