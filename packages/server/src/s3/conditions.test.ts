import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { S3Error } from '../core/errors.ts';
import type { ObjectVersion } from '../storage/types.ts';
import { checkConditions, etagMatches, parseRange } from './conditions.ts';

const ETAG = '5d41402abc4b2a76b9719d911017c592';
/** 2024-01-10T12:00:00.500Z: sub-second, as stored; HTTP dates only carry whole seconds. */
const MODIFIED = Date.UTC(2024, 0, 10, 12, 0, 0, 500);
const AT = new Date(Date.UTC(2024, 0, 10, 12, 0, 0)).toUTCString();
const BEFORE = new Date(Date.UTC(2024, 0, 10, 11, 59, 59)).toUTCString();
const AFTER = new Date(Date.UTC(2024, 0, 10, 12, 0, 1)).toUTCString();

const version: ObjectVersion = {
  bucket: 'b',
  key: 'k',
  versionId: 'null',
  isDeleteMarker: false,
  lastModified: MODIFIED,
  size: 5,
  etag: ETAG,
  storageClass: 'STANDARD',
  owner: 'o',
  userMetadata: {},
  data: { kind: 'inline', id: 'x' },
};

type Outcome = 200 | 304 | 412;

function outcome(headers: IncomingHttpHeaders): Outcome {
  try {
    checkConditions(headers, version);
    return 200;
  } catch (err) {
    assert.ok(err instanceof S3Error, `unexpected ${String(err)}`);
    if (err.code === 'NotModified') {
      assert.equal(err.status, 304);
      return 304;
    }
    assert.equal(err.code, 'PreconditionFailed');
    assert.equal(err.status, 412);
    return 412;
  }
}

const MATCH = `"${ETAG}"`;
const OTHER = '"0123456789abcdef0123456789abcdef"';

describe('checkConditions: single conditions', () => {
  const cases: [string, IncomingHttpHeaders, Outcome][] = [
    ['no conditions', {}, 200],
    ['If-Match with the ETag', { 'if-match': MATCH }, 200],
    ['If-Match with the unquoted ETag', { 'if-match': ETAG }, 200],
    ['If-Match *', { 'if-match': '*' }, 200],
    ['If-Match list containing the ETag', { 'if-match': `${OTHER}, ${MATCH}` }, 200],
    ['If-Match with another ETag', { 'if-match': OTHER }, 412],
    ['If-Match list without the ETag', { 'if-match': `${OTHER},"abc"` }, 412],
    ['If-None-Match with the ETag', { 'if-none-match': MATCH }, 304],
    ['If-None-Match *', { 'if-none-match': '*' }, 304],
    ['If-None-Match with a weak form of the ETag', { 'if-none-match': `W/${MATCH}` }, 304],
    ['If-None-Match list containing the ETag', { 'if-none-match': `${OTHER} , ${MATCH}` }, 304],
    ['If-None-Match with another ETag', { 'if-none-match': OTHER }, 200],
    ['If-Modified-Since before Last-Modified', { 'if-modified-since': BEFORE }, 200],
    ['If-Modified-Since at the Last-Modified second', { 'if-modified-since': AT }, 304],
    ['If-Modified-Since after Last-Modified', { 'if-modified-since': AFTER }, 304],
    ['If-Modified-Since that is not a date', { 'if-modified-since': 'yesterday-ish' }, 200],
    ['If-Unmodified-Since before Last-Modified', { 'if-unmodified-since': BEFORE }, 412],
    ['If-Unmodified-Since at the Last-Modified second', { 'if-unmodified-since': AT }, 200],
    ['If-Unmodified-Since after Last-Modified', { 'if-unmodified-since': AFTER }, 200],
    ['If-Unmodified-Since that is not a date', { 'if-unmodified-since': 'never' }, 200],
  ];
  for (const [name, headers, expected] of cases) {
    it(`${name} → ${expected}`, () => assert.equal(outcome(headers), expected));
  }
});

describe('checkConditions: precedence (RFC 7232 section 6, as S3 documents it)', () => {
  const cases: [string, IncomingHttpHeaders, Outcome][] = [
    ['If-Match true overrides If-Unmodified-Since false', { 'if-match': MATCH, 'if-unmodified-since': BEFORE }, 200],
    [
      'If-Match false fails even when If-Unmodified-Since holds',
      { 'if-match': OTHER, 'if-unmodified-since': AFTER },
      412,
    ],
    [
      'If-None-Match false (ETag matches) with If-Modified-Since true → 304',
      { 'if-none-match': MATCH, 'if-modified-since': BEFORE },
      304,
    ],
    [
      'If-None-Match true overrides If-Modified-Since false',
      { 'if-none-match': OTHER, 'if-modified-since': AFTER },
      200,
    ],
    ['412 beats 304: If-Match false with If-None-Match false', { 'if-match': OTHER, 'if-none-match': MATCH }, 412],
    [
      '412 beats 304: If-Unmodified-Since false with If-Modified-Since false',
      { 'if-unmodified-since': BEFORE, 'if-modified-since': AFTER },
      412,
    ],
    ['If-Match true and If-None-Match false → 304', { 'if-match': MATCH, 'if-none-match': MATCH }, 304],
    [
      'all four holding → 200',
      { 'if-match': MATCH, 'if-unmodified-since': AFTER, 'if-none-match': OTHER, 'if-modified-since': BEFORE },
      200,
    ],
  ];
  for (const [name, headers, expected] of cases) {
    it(`${name}`, () => assert.equal(outcome(headers), expected));
  }
});

describe('checkConditions: error details', () => {
  it('412 names the condition that failed', () => {
    assert.throws(
      () => checkConditions({ 'if-match': OTHER }, version),
      (err) => err instanceof S3Error && err.fields.Condition === 'If-Match',
    );
    assert.throws(
      () => checkConditions({ 'if-unmodified-since': BEFORE }, version),
      (err) => err instanceof S3Error && err.fields.Condition === 'If-Unmodified-Since',
    );
  });

  it('304 carries the quoted ETag and Last-Modified', () => {
    assert.throws(
      () => checkConditions({ 'if-none-match': MATCH }, version),
      (err) =>
        err instanceof S3Error &&
        err.headers.etag === MATCH &&
        err.headers['last-modified'] === new Date(MODIFIED).toUTCString(),
    );
  });
});

describe('etagMatches', () => {
  it('matches quoted, unquoted, weak and wildcard forms, in lists', () => {
    assert.equal(etagMatches(MATCH, ETAG), true);
    assert.equal(etagMatches(` ${MATCH} `, ETAG), true);
    assert.equal(etagMatches('"a", "b-2"', 'b-2'), true);
    assert.equal(etagMatches('"a", "b"', 'c'), false);
    assert.equal(etagMatches('*', 'anything'), true);
    assert.equal(etagMatches('"abc"', 'ab'), false);
    assert.equal(etagMatches('', ETAG), false);
  });
});

function invalidRange(size: number, requested: string): (err: unknown) => boolean {
  return (err) =>
    err instanceof S3Error &&
    err.code === 'InvalidRange' &&
    err.status === 416 &&
    err.headers['content-range'] === `bytes */${size}` &&
    err.fields.ActualObjectSize === String(size) &&
    err.fields.RangeRequested === requested;
}

describe('parseRange', () => {
  const ok: [string, number, { start: number; end: number }][] = [
    ['bytes=0-0', 10, { start: 0, end: 0 }],
    ['bytes=0-9', 10, { start: 0, end: 9 }],
    ['bytes=2-5', 10, { start: 2, end: 5 }],
    ['bytes=5-100', 10, { start: 5, end: 9 }],
    ['bytes=9-9', 10, { start: 9, end: 9 }],
    ['bytes=5-', 10, { start: 5, end: 9 }],
    ['bytes=0-', 1, { start: 0, end: 0 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-10', 10, { start: 0, end: 9 }],
    ['bytes=-50', 10, { start: 0, end: 9 }],
    ['  bytes=1-2  ', 10, { start: 1, end: 2 }],
    ['bytes=0-99999999999999999999', 10, { start: 0, end: 9 }],
  ];
  for (const [header, size, expected] of ok) {
    it(`${JSON.stringify(header)} of ${size} bytes → ${expected.start}-${expected.end}`, () => {
      assert.deepEqual(parseRange(header, size), expected);
    });
  }

  const whole: [string | undefined, number][] = [
    [undefined, 10],
    ['bytes=-', 10],
    ['bytes=5-2', 10],
    ['bytes=0-1,3-4', 10],
    ['bytes=0-1, 3-4', 10],
    ['bytes=abc', 10],
    ['bytes=1', 10],
    ['bytes 0-1', 10],
    ['items=0-1', 10],
    ['bytes=-1-2', 10],
    ['bytes=0x1-2', 10],
    ['', 10],
  ];
  for (const [header, size] of whole) {
    it(`${JSON.stringify(header)} → whole object`, () => assert.equal(parseRange(header, size), undefined));
  }

  const unsatisfiable: [string, number][] = [
    ['bytes=10-', 10],
    ['bytes=10-20', 10],
    ['bytes=99999999999999999999-', 10],
    ['bytes=-0', 10],
    ['bytes=0-', 0],
    ['bytes=0-0', 0],
    ['bytes=-5', 0],
  ];
  for (const [header, size] of unsatisfiable) {
    it(`${JSON.stringify(header)} of ${size} bytes → 416 InvalidRange`, () => {
      assert.throws(() => parseRange(header, size), invalidRange(size, header));
    });
  }

  it('property: a satisfiable range lies inside the object and has the length asked for', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.nat(12_000), fc.nat(12_000), (size, a, b) => {
        const [first, last] = a <= b ? [a, b] : [b, a];
        if (first >= size) return true;
        const r = parseRange(`bytes=${first}-${last}`, size)!;
        const suffix = parseRange(`bytes=-${b + 1}`, size)!;
        return (
          r.start === first &&
          r.end === Math.min(last, size - 1) &&
          suffix.end === size - 1 &&
          suffix.end - suffix.start + 1 === Math.min(b + 1, size)
        );
      }),
    );
  });
});
