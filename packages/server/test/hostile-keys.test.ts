/**
 * Hostile keys and ranges. Keys with every odd byte (NUL and control characters, `..`,
 * `../../etc/passwd`, `%2F`, NFC and NFD spellings, byte-order marks, 1024 bytes) are stored
 * and read back exactly, by GET and in listings, or refused with a clear 4xx; nothing is ever
 * written outside the data directory and no file is named after a key. Range headers of any
 * shape are answered 206, 200 or 416 as S3 answers them, never 500.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import {
  Sentinels,
  runs,
  assertClientError,
  assertNotServerError,
  exchange,
  patternBytes,
  startHostileWorld,
  wireBytes,
  type HostileWorld,
} from './helpers/hostile.ts';
import { signRequest, type RawResponse } from './helpers/raw-request.ts';

const BUCKET = 'hostile-keys';
/** In every generated key, so that a file named after a key anywhere would be found. */
const MARKER = 'zq7hostilemarker';

/** Percent-encodes every UTF-8 byte of a key except unreserved characters and '/'. */
function encodeKey(key: string): string {
  return [...Buffer.from(key, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-._~/]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

const FRAGMENTS = [
  '..',
  '../',
  '/..',
  '../../etc/passwd',
  '..\\..\\windows',
  '/',
  '//',
  './',
  '.',
  '%2F',
  '%252F',
  '%',
  '%00',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\r\n',
  '\t',
  ' ',
  '?',
  '#',
  '&',
  '+',
  '=',
  ';',
  '<',
  '>',
  '"',
  "'",
  '\\',
  '~',
  'é',
  'e\u0301',
  'Å',
  'A\u030A',
  '\u00A0',
  '\uFEFF',
  '\u202E',
  '\u200B',
  '\uFFFD',
  '\uFFFF',
  '😀',
  '\u{10FFFF}',
  'CON',
  'nul',
  '.git',
  '__proto__',
];

const keyArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 8 }),
    fc.nat(),
  )
  .map(([parts, at]) => {
    const i = parts.length === 0 ? 0 : at % (parts.length + 1);
    return [...parts.slice(0, i), MARKER, ...parts.slice(i)].join('');
  })
  // Lone surrogates are not text: they have no UTF-8 spelling to send.
  .filter((k) => !/[\uD800-\uDFFF]/u.test(k) && Buffer.byteLength(k) <= 1024);

describe('hostile keys', () => {
  let root: string;
  let w: HostileWorld;
  let sentinels: Sentinels;
  let tmpBefore: Set<string>;

  async function send(
    method: string,
    path: string,
    opts: { query?: Record<string, string>; body?: Buffer } = {},
  ): Promise<RawResponse> {
    const signed = await signRequest(w.endpointUrl, { method, path, query: opts.query, body: opts.body });
    return exchange(w.endpointUrl, wireBytes({ ...signed, body: opts.body }), { head: method === 'HEAD' });
  }

  /** Keys listed under `prefix`, decoded from `encoding-type=url`. */
  async function listed(prefix: string): Promise<string[]> {
    const res = await send('GET', `/${BUCKET}`, { query: { 'list-type': '2', prefix, 'encoding-type': 'url' } });
    assert.equal(res.status, 200, res.text);
    return [...res.text.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) =>
      decodeURIComponent(m[1].replace(/&amp;/g, '&').replace(/\+/g, ' ')),
    );
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'meridian-hostile-keys-'));
    tmpBefore = new Set(await readdir(tmpdir()));
    w = await startHostileWorld({ dataDir: join(root, 'data') });
    sentinels = new Sentinels(w.s3);
    await sentinels.write(BUCKET, { create: true });
  });
  after(async () => {
    await w.close();
    await rm(root, { recursive: true, force: true });
  });

  test('any key of at most 1024 bytes round-trips through PUT, GET, HEAD and ListObjectsV2, byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(keyArb, async (key) => {
        const body = createHash('sha256').update(key).digest();
        const path = `/${BUCKET}/${encodeKey(key)}`;
        const put = await send('PUT', path, { body });
        assert.equal(put.status, 200, `PUT ${JSON.stringify(key)}: ${put.text}`);
        const got = await send('GET', path);
        assert.equal(got.status, 200, `GET ${JSON.stringify(key)}: ${got.text}`);
        assert.ok(got.body.equals(body), `GET ${JSON.stringify(key)} returns its own bytes`);
        const head = await send('HEAD', path);
        assert.equal(head.status, 200);
        assert.equal(head.headers.etag, put.headers.etag);
        assert.ok((await listed(key)).includes(key), `ListObjectsV2 names ${JSON.stringify(key)} exactly`);
        // Without encoding-type the listing is still an answer, never a 500.
        const plain = await send('GET', `/${BUCKET}`, { query: { 'list-type': '2', prefix: key } });
        assert.equal(plain.status, 200, plain.text);
      }),
      runs(150),
    );
    w.assertNoInternalErrors();
    await sentinels.verify();
  });

  test('NFC and NFD spellings are two distinct keys, each with its own bytes', async () => {
    const composable = fc.constantFrom('é', 'Å', 'ñ', 'ö', 'ḱ', 'ǘ', '가', 'ﬁ', 'Ω', 'ẛ̣');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(composable, fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 6 }),
        async (parts) => {
          const text = `nf/${MARKER}/${parts.join('')}`;
          const nfc = text.normalize('NFC');
          const nfd = text.normalize('NFD');
          fc.pre(nfc !== nfd);
          await w.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: nfc, Body: `NFC ${nfc}` }));
          await w.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: nfd, Body: `NFD ${nfd}` }));
          for (const [key, body] of [
            [nfc, `NFC ${nfc}`],
            [nfd, `NFD ${nfd}`],
          ]) {
            const got = await send('GET', `/${BUCKET}/${encodeKey(key)}`);
            assert.equal(got.text, body, `${JSON.stringify(key)} keeps its own object`);
          }
          const names = await listed(`nf/${MARKER}/`);
          assert.ok(names.includes(nfc) && names.includes(nfd), 'both spellings are listed');
        },
      ),
      runs(40),
    );
    w.assertNoInternalErrors();
  });

  test('a key of more than 1024 bytes is 400 KeyTooLongError for every operation; at most 1024 is served', async () => {
    const char = fc.constantFrom('a', 'é', '가', '😀', '\u0000', '/', '%');
    await fc.assert(
      fc.asyncProperty(
        fc.array(char, { minLength: 250, maxLength: 1100 }),
        fc.constantFrom('PUT', 'GET', 'HEAD', 'DELETE', 'POST-uploads'),
        async (chars, op) => {
          // Cut at a character boundary near the limit, on either side of it.
          let key = '';
          for (const c of chars) {
            if (Buffer.byteLength(key + c) > 1030) break;
            key += c;
          }
          const bytes = Buffer.byteLength(key);
          const path = `/${BUCKET}/${encodeKey(key)}`;
          const res =
            op === 'POST-uploads'
              ? await send('POST', path, { query: { uploads: '' } })
              : await send(op, path, op === 'PUT' ? { body: Buffer.from('long') } : {});
          const what = `${op} of a ${bytes}-byte key`;
          if (bytes > 1024) {
            const e = assertClientError(res, what, { head: op === 'HEAD' });
            if (op !== 'HEAD') assert.equal(e.code, 'KeyTooLongError', res.text);
            else assert.equal(res.status, 400);
          } else {
            assertNotServerError(res, what, { head: op === 'HEAD' });
            assert.ok([200, 204, 404].includes(res.status), `${what}: ${res.status} ${res.text}`);
          }
        },
      ),
      runs(80),
    );
    w.assertNoInternalErrors();
    await sentinels.verify();
  });

  test('keys in paths that are not valid percent-encoded UTF-8 are a clear 4xx, and store nothing', async () => {
    const junk = fc.constantFrom(
      '%',
      '%Z',
      '%G0',
      '%FF',
      '%C3',
      '%C3%28',
      '%E2%82',
      '%ED%A0%80',
      '%F4%90%80%80',
      '%C0%AF',
      '%00',
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 6, unit: 'grapheme-ascii' }), junk, async (prefix, bad) => {
        const path = `/${BUCKET}/${MARKER}${encodeKey(prefix)}${bad}`;
        const res = await send('PUT', path, { body: Buffer.from('never') });
        if (res.status === 200) {
          // Only what decodes to valid UTF-8 may be stored (%00 is NUL, a valid key byte).
          assert.equal(bad, '%00', `PUT ${path} was stored`);
        } else {
          assert.equal(assertClientError(res, `PUT ${path}`).code, 'InvalidURI', res.text);
        }
      }),
      runs(60),
    );
    w.assertNoInternalErrors();
    await sentinels.verify();
  });

  test('arbitrary request targets and Host headers (signed or anonymous) are answered, never with a 5xx', async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        BUCKET,
        'sentinel',
        'tiny',
        '..',
        '.',
        '',
        '%2F',
        '%2E%2E',
        '%',
        '%Z',
        '%C3%28',
        '%00',
        '_meridian',
        'metrics',
        'a..b',
        'A',
        'xn--a',
        '-x',
        'x'.repeat(64),
        'x'.repeat(2000),
        MARKER,
      ),
      fc.stringMatching(/^[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,20}$/),
    );
    const hostArb = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(
        'localhost',
        `${BUCKET}.localhost`,
        `.localhost`,
        'a..localhost',
        `${BUCKET}.s3.localhost:1`,
        '[::1]',
        '[::1',
        ':',
        '',
        'x'.repeat(300),
        `${'x'.repeat(70)}.localhost`,
        '127.0.0.1:99999',
        'UPPER.LOCALHOST',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 0, maxLength: 4 }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9=&%._~-]{0,40}$/), { nil: undefined }),
        hostArb,
        fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'OPTIONS', 'PATCH'),
        fc.boolean(),
        async (segments, query, host, method, signed) => {
          const path = `/${segments.join('/')}`;
          const target = query === undefined ? path : `${path}?${query}`;
          let headers: Record<string, string> = { host: host ?? new URL(w.endpointUrl).host, 'content-length': '0' };
          if (signed) {
            // Signing needs a parseable query: the raw one goes out, so a signature may not match.
            const req = await signRequest(w.endpointUrl, { method, path, headers: { 'content-length': '0' } });
            headers = { ...req.headers, host: headers.host };
          }
          const res = await exchange(w.endpointUrl, wireBytes({ method, target, headers }), {
            head: method === 'HEAD',
          });
          const what = `${signed ? 'signed' : 'anonymous'} ${method} ${target.slice(0, 200)} Host: ${String(host).slice(0, 80)}`;
          if (path.startsWith('/_meridian/') || path === '/metrics') {
            // Operator endpoints (health, metrics, status) answer in JSON or text, not S3 XML.
            assert.ok(res.status < 500, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
          } else {
            assertNotServerError(res, what, { head: method === 'HEAD' });
          }
        },
      ),
      runs(300),
    );
    w.assertNoInternalErrors();
    await sentinels.verify();
  });

  test('listing parameters of any content and length are answered, never with a 5xx', async (t) => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.constantFrom('', '/', '%', '\u0000', '\uFFFF', MARKER),
      fc.integer({ min: 1, max: 3000 }).map((n) => 'p'.repeat(n)),
      fc.integer({ min: 1, max: 700 }).map((n) => '😀'.repeat(n)),
    );
    const list = fc.constantFrom<{ op: string; query: Record<string, string>; params: string[] }>(
      {
        op: 'ListObjectsV2',
        query: { 'list-type': '2' },
        params: ['prefix', 'start-after', 'delimiter', 'continuation-token'],
      },
      { op: 'ListObjects', query: {}, params: ['prefix', 'marker', 'delimiter'] },
      {
        op: 'ListObjectVersions',
        query: { versions: '' },
        params: ['prefix', 'key-marker', 'version-id-marker', 'delimiter'],
      },
      {
        op: 'ListMultipartUploads',
        query: { uploads: '' },
        params: ['prefix', 'key-marker', 'upload-id-marker', 'delimiter'],
      },
    );
    // Whatever the known failure logged stays out of the next test's check.
    t.after(() => w.skipLogs());
    await fc.assert(
      fc.asyncProperty(
        list,
        fc.array(text, { minLength: 4, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        async (l, values, present) => {
          const query: Record<string, string> = { ...l.query };
          l.params.forEach((p, i) => {
            if (present[i]) query[p] = values[i];
          });
          const res = await send('GET', `/${BUCKET}`, { query });
          assertNotServerError(res, `${l.op} ${JSON.stringify(query).slice(0, 300)}`);
        },
      ),
      runs(150),
    );
    w.assertNoInternalErrors();
  });

  test('nothing was written outside the data directory and no file is named after a key', async () => {
    const paths: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = join(dir, entry.name);
        paths.push(relative(root, full));
        if (entry.isDirectory()) await walk(full);
      }
    };
    await walk(root);
    assert.ok(paths.length > 0);
    assert.deepEqual(
      paths.filter((p) => !p.startsWith('data')),
      [],
      'everything the world wrote is under its data directory',
    );
    assert.deepEqual(
      paths.filter((p) => p.includes(MARKER) || p.includes('passwd')),
      [],
      'no path is named after a key',
    );
    const tmpNow = (await readdir(tmpdir())).filter((n) => !tmpBefore.has(n));
    assert.deepEqual(
      tmpNow.filter((n) => n.includes(MARKER) || n === 'etc' || n === 'passwd'),
      [],
      'nothing next to the data directory either',
    );
    assert.deepEqual(
      (await readdir(process.cwd())).filter((n) => n.includes(MARKER)),
      [],
    );
  });
});

describe('hostile Range headers', () => {
  let w: HostileWorld;
  let sentinels: Sentinels;
  const sizes = [0, 1, 10, 1000, 300 * 1024];
  const objects = new Map<number, Buffer>();

  before(async () => {
    w = await startHostileWorld();
    sentinels = new Sentinels(w.s3);
    await sentinels.write('hostile-ranges', { create: true });
    for (const size of sizes) {
      const body = patternBytes(`range:${size}`, size);
      objects.set(size, body);
      await w.s3.send(new PutObjectCommand({ Bucket: 'hostile-ranges', Key: `size/${size}`, Body: body }));
    }
  });
  after(() => w.close());

  /**
   * What S3 answers (RFC 7233 as S3 applies it): a single byte-range-spec is served; a first
   * byte at or past the end, a suffix of zero bytes, or any range of an empty object is 416;
   * anything else (other units, several ranges, reversed or unparseable ranges) is ignored and
   * the whole object served with 200.
   */
  function expected(
    range: string,
    size: number,
  ): { status: 200 } | { status: 206; start: number; end: number } | { status: 416 } {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (!m || (m[1] === '' && m[2] === '')) return { status: 200 };
    if (m[1] === '') {
      const suffix = Number(m[2]);
      if (suffix === 0 || size === 0) return { status: 416 };
      return { status: 206, start: Math.max(0, size - suffix), end: size - 1 };
    }
    const start = Number(m[1]);
    if (m[2] !== '' && Number(m[2]) < start) return { status: 200 };
    if (start >= size) return { status: 416 };
    return { status: 206, start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
  }

  const number = fc.oneof(
    fc.nat({ max: 12 }).map(String),
    fc.nat({ max: 400_000 }).map(String),
    fc.constantFrom(
      '0',
      '00',
      '007',
      '1000',
      '999',
      '307200',
      '307199',
      '9007199254740993',
      '99999999999999999999999',
      '1e3',
      '-1',
      '+1',
      ' 1',
      '0x10',
      '1.5',
    ),
    fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String),
  );
  const spec = fc.oneof(
    fc.tuple(number, number).map(([a, b]) => `${a}-${b}`),
    number.map((a) => `${a}-`),
    number.map((b) => `-${b}`),
    fc.constantFrom('-', '', '--', '1--2', '1-2-3', ' - '),
  );
  const rangeArb = fc.oneof(
    { weight: 5, arbitrary: spec.map((s) => `bytes=${s}`) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.array(spec, { minLength: 2, maxLength: 4 }), fc.constantFrom(',', ', ', ' ,'))
        .map(([s, separator]) => `bytes=${s.join(separator)}`),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom('bytes', 'Bytes', 'BYTES', 'items', 'bytes ', ' bytes', ''),
          fc.constantFrom('=', ' =', '= ', ':', ''),
          spec,
        )
        .map(([u, eq, s]) => `${u}${eq}${s}`),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }) },
  );

  test('any Range header: 206 with exactly the bytes asked for, 200 with the whole object, or 416 — as S3, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(rangeArb, fc.constantFrom(...sizes), fc.boolean(), async (range, size, head) => {
        fc.pre(!/[\r\n\0]/.test(range));
        const signed = await signRequest(w.endpointUrl, {
          method: head ? 'HEAD' : 'GET',
          path: `/hostile-ranges/size/${size}`,
          headers: { range },
        });
        const res = await exchange(w.endpointUrl, wireBytes(signed), { head });
        const what = `${head ? 'HEAD' : 'GET'} of ${size} bytes with Range ${JSON.stringify(range)}`;
        assertNotServerError(res, what, { head });
        // Node trims the value as HTTP does: the server sees what the model sees.
        const want = expected(range.replace(/^[ \t]+|[ \t]+$/g, ''), size);
        assert.equal(res.status, want.status, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
        const body = objects.get(size)!;
        if (want.status === 206) {
          assert.equal(res.headers['content-range'], `bytes ${want.start}-${want.end}/${size}`, what);
          assert.equal(res.headers['content-length'], String(want.end - want.start + 1), what);
          if (!head)
            assert.ok(res.body.equals(body.subarray(want.start, want.end + 1)), `${what}: the bytes asked for`);
        } else if (want.status === 200) {
          assert.equal(res.headers['content-length'], String(size), what);
          if (!head) assert.ok(res.body.equals(body), `${what}: the whole object`);
        } else {
          assert.equal(res.headers['content-range'], `bytes */${size}`, what);
          if (!head) assert.equal(assertClientError(res, what).code, 'InvalidRange');
        }
      }),
      runs(400),
    );
    w.assertNoInternalErrors();
    await sentinels.verify();
  });
  test('conditional headers of any value with any range: 200, 206, 304, 412 or 416, never 500', async () => {
    const etag = `"${createHash('md5').update(objects.get(10)!).digest('hex')}"`;
    const date = fc.oneof(
      fc.constantFrom(
        'Thu, 01 Jan 1970 00:00:00 GMT',
        'Fri, 31 Dec 9999 23:59:59 GMT',
        'yesterday',
        '0',
        '-1',
        '2026-13-45',
        new Date().toUTCString(),
      ),
      fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toUTCString()),
      fc.stringMatching(/^[ -~]{0,30}$/),
    );
    const tag = fc.oneof(
      fc.constantFrom('*', etag, `W/${etag}`, `${etag}, "x"`, '""', ',', '"', etag.slice(1, -1)),
      fc.stringMatching(/^[ -~]{0,40}$/),
    );
    const conditions = fc.record(
      {
        'if-match': tag,
        'if-none-match': tag,
        'if-modified-since': date,
        'if-unmodified-since': date,
        range: rangeArb,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(conditions, fc.boolean(), async (headers, head) => {
        const clean = Object.fromEntries(
          Object.entries(headers)
            .map(([k, v]) => [k, v.trim()])
            .filter(([, v]) => v !== ''),
        );
        const signed = await signRequest(w.endpointUrl, {
          method: head ? 'HEAD' : 'GET',
          path: '/hostile-ranges/size/10',
          headers: clean,
        });
        const res = await exchange(w.endpointUrl, wireBytes(signed), { head });
        const what = `${head ? 'HEAD' : 'GET'} with ${JSON.stringify(clean)}`;
        assert.ok([200, 206, 304, 412, 416].includes(res.status), `${what}: ${res.status} ${res.text.slice(0, 300)}`);
        if (res.status === 412 && !head) assert.equal(assertClientError(res, what).code, 'PreconditionFailed');
      }),
      runs(200),
    );
    w.assertNoInternalErrors();
    await sentinels.verify();
  });
});
