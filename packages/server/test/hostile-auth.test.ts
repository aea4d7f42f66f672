/**
 * Hostile authentication: mutated Authorization headers, presigned URLs with bad dates,
 * expiries, duplicated parameters and credential scopes, and aws-chunked bodies whose framing,
 * chunk signatures or trailers are wrong. Every one is a 4xx S3 error (or, when a mutation
 * happens to leave the request as valid as it was, an ordinary success), never a 5xx or a hang,
 * and the object it tried to write holds either what it held before or, only on success,
 * exactly the bytes the client meant. Signatures are compared in constant time, and neither
 * secret keys nor signatures reach the log.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { crc32 } from 'node:zlib';
import { syncBuiltinESMExports } from 'node:module';
import { after, before, describe, mock, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import fc from 'fast-check';
import { createAuthenticator } from '../src/s3/auth/sigv4.ts';
import { createChunkedDecoder } from '../src/s3/auth/chunked.ts';
import {
  Sentinels,
  runs,
  applyMutations,
  assertClientError,
  assertNotServerError,
  describeMutations,
  exchange,
  mutationArb,
  patternBytes,
  startHostileWorld,
  wireBytes,
  type HostileWorld,
  type Mutation,
} from './helpers/hostile.ts';
import {
  STREAMING_PAYLOAD,
  STREAMING_PAYLOAD_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  encodeSignedChunks,
  encodeUnsignedChunks,
} from './helpers/raw-chunked.ts';
import { sendTruncated, signRequest, type RawResponse } from './helpers/raw-request.ts';
import { CREDENTIALS } from './helpers/world.ts';

const BUCKET = 'hostile-auth';
const TARGET = 'auth/target';
const PREVIOUS = Buffer.from('what the target held before anything hostile arrived');

function crc32Base64(data: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
}

describe('hostile authentication', () => {
  let w: HostileWorld;
  let sentinels: Sentinels;

  async function stored(): Promise<Buffer | undefined> {
    try {
      const got = await w.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: TARGET }));
      return Buffer.from(await got.Body!.transformToByteArray());
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  /**
   * The write's outcome is all or nothing: refused with a clean 4xx and the target as it was, or
   * accepted and the target holds exactly `intended` (then put back for the next run).
   */
  async function allOrNothing(res: RawResponse, intended: Buffer, what: string): Promise<void> {
    assertNotServerError(res, what);
    const now = await stored();
    if (res.status >= 300) {
      assert.ok(
        now?.equals(PREVIOUS),
        `${what}: refused (${res.status}), yet the target changed to ${now?.length} bytes`,
      );
      return;
    }
    assert.ok(
      now?.equals(intended),
      `${what}: accepted, yet the target holds ${now?.length} bytes, not the ${intended.length} sent`,
    );
    await w.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: TARGET, Body: PREVIOUS }));
  }

  before(async () => {
    w = await startHostileWorld();
    sentinels = new Sentinels(w.s3);
    await sentinels.write(BUCKET, { create: true });
    await w.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: TARGET, Body: PREVIOUS }));
  });
  after(() => w.close());

  async function stillSound(): Promise<void> {
    w.assertNoInternalErrors();
    await sentinels.verify();
    assert.ok((await stored())?.equals(PREVIOUS));
  }

  test('mutated Authorization, x-amz-date and x-amz-content-sha256 headers', async () => {
    const AUTH_FRAGMENTS = [
      ',',
      ', ',
      ' ',
      '\t',
      '=',
      '==',
      '/',
      ';',
      'Credential=',
      'SignedHeaders=',
      'Signature=',
      'Credential=x/20200101/us-east-1/s3/aws4_request',
      'AWS4-HMAC-SHA256 ',
      'AWS ',
      'AWS4-ECDSA-P256-SHA256 ',
      'aws4_request',
      'eu-west-1',
      's3',
      'host;',
      ';x-amz-meta-x',
      'content-length;',
      '0000000000000000000000000000000000000000000000000000000000000000',
      'é',
      '%',
      '%00',
      '\u00ff',
    ];
    const data = Buffer.from('bytes a mutated Authorization header tried to write');
    const headerArb = fc.constantFrom(
      'authorization',
      'authorization',
      'authorization',
      'x-amz-date',
      'x-amz-content-sha256',
    );
    await fc.assert(
      fc.asyncProperty(
        headerArb,
        fc.array(mutationArb(AUTH_FRAGMENTS), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        async (name, ms, unsignedPayload) => {
          const signed = await signRequest(
            w.endpointUrl,
            { method: 'PUT', path: `/${BUCKET}/${TARGET}`, body: data },
            unsignedPayload ? { contentSha256: 'UNSIGNED-PAYLOAD' } : {},
          );
          const original = signed.headers[name];
          const mutated = applyMutations(Buffer.from(original, 'latin1'), ms).toString('latin1');
          const headers = { ...signed.headers, [name]: mutated };
          const res = await exchange(w.endpointUrl, wireBytes({ ...signed, headers, body: data }));
          await allOrNothing(res, data, `${name}: ${JSON.stringify(mutated)} (${describeMutations(ms)})`);
          // HTTP drops white space around a header value: that edit changes nothing.
          const unchanged = mutated.replace(/^[ \t]+|[ \t]+$/g, '') === original;
          if (res.status < 300 && !unchanged) {
            // Only a change the signature does not cover may pass: the separators around the
            // Authorization components.
            assert.equal(name, 'authorization', `a changed ${name} was accepted: ${JSON.stringify(mutated)}`);
            // The same components, SignedHeaders read as a set of names the way the server does
            // (case-insensitive, empty entries ignored): the same signed request.
            const norm = (s: string) =>
              s
                .trim()
                .split(/[\s,]+/)
                .filter(Boolean)
                .map((c) =>
                  c.startsWith('SignedHeaders=')
                    ? `SignedHeaders=${c
                        .slice(14)
                        .split(';')
                        .map((h) => h.trim().toLowerCase())
                        .filter(Boolean)
                        .join(';')}`
                    : c,
                )
                .join(' ');
            assert.equal(
              norm(mutated),
              norm(original),
              `a changed Authorization header was accepted: ${JSON.stringify(mutated)}`,
            );
          }
        },
      ),
      runs(250),
    );
    await stillSound();
  });

  test('Authorization headers with components dropped, repeated, reordered or emptied', async () => {
    const data = Buffer.from('bytes a reshaped Authorization header tried to write');
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray([0, 1, 2, 0, 1, 2], { minLength: 0, maxLength: 6 }),
        fc.constantFrom('', ' ', ',', ', ', ' ,'),
        fc.constantFrom('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA256 ', 'aws4-hmac-sha256', 'AWS4-HMAC-SHA256\t', ''),
        fc.array(fc.constantFrom('keep', 'empty', 'lower-name', 'no-equals', 'double-equals'), {
          minLength: 3,
          maxLength: 3,
        }),
        async (order, separator, scheme, edits) => {
          const signed = await signRequest(w.endpointUrl, { method: 'PUT', path: `/${BUCKET}/${TARGET}`, body: data });
          const auth = signed.headers.authorization;
          const components = auth.slice(auth.indexOf(' ') + 1).split(', ');
          const edited = components.map((c, i) => {
            const eq = c.indexOf('=');
            switch (edits[i]) {
              case 'empty':
                return `${c.slice(0, eq)}=`;
              case 'lower-name':
                return `${c.slice(0, eq).toLowerCase()}${c.slice(eq)}`;
              case 'no-equals':
                return c.slice(0, eq) + c.slice(eq + 1);
              case 'double-equals':
                return `${c.slice(0, eq)}==${c.slice(eq + 1)}`;
              default:
                return c;
            }
          });
          const value = `${scheme} ${order.map((i) => edited[i]).join(separator)}`;
          const headers = { ...signed.headers, authorization: value };
          const res = await exchange(w.endpointUrl, wireBytes({ ...signed, headers, body: data }));
          await allOrNothing(res, data, `Authorization: ${JSON.stringify(value)}`);
          if (res.status < 300) {
            assert.deepEqual(edits, ['keep', 'keep', 'keep'], `accepted ${JSON.stringify(value)}`);
            assert.deepEqual([...new Set(order)].sort(), [0, 1, 2]);
            assert.equal(order.length, 3, `accepted a repeated component: ${JSON.stringify(value)}`);
            assert.notEqual(separator, '', `accepted components run together: ${JSON.stringify(value)}`);
            assert.equal(scheme.trim(), 'AWS4-HMAC-SHA256', `accepted scheme ${JSON.stringify(scheme)}`);
          }
        },
      ),
      runs(150),
    );
    await stillSound();
  });

  describe('presigned URLs', () => {
    type Param = [name: string, value: string];
    type QueryEdit =
      | { kind: 'set'; name: string; value: string }
      | { kind: 'duplicate'; name: string; value?: string; caseChange: boolean }
      | { kind: 'remove'; name: string }
      | { kind: 'raw'; ms: Mutation[] };

    const NAMES = [
      'X-Amz-Algorithm',
      'X-Amz-Credential',
      'X-Amz-Date',
      'X-Amz-Expires',
      'X-Amz-SignedHeaders',
      'X-Amz-Signature',
      'X-Amz-Content-Sha256',
      'x-id',
    ];
    const today = (offsetDays = 0) =>
      new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
    const amzDate = (offsetMs: number) =>
      new Date(Date.now() + offsetMs)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}Z$/, 'Z');

    const dateArb = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom(
        '20230230T000000Z',
        '20231301T000000Z',
        '20230101T250000Z',
        '20230101T006000Z',
        '00000000T000000Z',
        '20230101T000000',
        '2023-01-01T00:00:00Z',
        '99999999T999999Z',
        '+20230101T000000Z',
        '20230101t000000z',
      ),
      fc.integer({ min: -30 * 86_400_000, max: 30 * 86_400_000 }).map(amzDate),
    );
    const expiresArb = fc.oneof(
      fc.constantFrom(
        '-1',
        '0',
        '1',
        '604800',
        '604801',
        '99999999999999999999',
        '1e3',
        ' 60',
        '+60',
        '60.0',
        '',
        '0x10',
        '٣',
        '9'.repeat(400),
        '-0',
        '00000000000060',
      ),
      fc.integer({ min: -1_000_000, max: 2_000_000 }).map(String),
    );
    const credentialArb = fc.oneof(
      fc.constantFrom(
        `${CREDENTIALS.accessKeyId}/${today()}/us-east-1/s3/aws4_request/extra`,
        `${CREDENTIALS.accessKeyId}/${today()}/us-east-1/s3`,
        `${CREDENTIALS.accessKeyId}/${today()}/us-east-1/s4/aws4_request`,
        `${CREDENTIALS.accessKeyId}/${today()}/us-east-1/s3/aws5_request`,
        `${CREDENTIALS.accessKeyId}/${today()}/eu-west-1/s3/aws4_request`,
        `${CREDENTIALS.accessKeyId}/${today(-1)}/us-east-1/s3/aws4_request`,
        `${CREDENTIALS.accessKeyId}//us-east-1/s3/aws4_request`,
        `nobody/${today()}/us-east-1/s3/aws4_request`,
        `/${today()}/us-east-1/s3/aws4_request`,
        `${CREDENTIALS.accessKeyId}/${today()}/us-east-1/s3/aws4_request`.replace(/\//g, '%2F'),
        '',
        '////',
        `${CREDENTIALS.accessKeyId}/${today()}/${'r'.repeat(3000)}/s3/aws4_request`,
      ),
      fc
        .tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 10 }), fc.string({ maxLength: 12 }))
        .map(([k, d, r]) => `${k}/${d}/${r}/s3/aws4_request`),
    );
    const editArb: fc.Arbitrary<QueryEdit> = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), name: fc.constant('X-Amz-Date'), value: dateArb }),
      fc.record({ kind: fc.constant('set' as const), name: fc.constant('X-Amz-Expires'), value: expiresArb }),
      fc.record({ kind: fc.constant('set' as const), name: fc.constant('X-Amz-Credential'), value: credentialArb }),
      fc.record({
        kind: fc.constant('set' as const),
        name: fc.constantFrom(...NAMES),
        value: fc.oneof(
          fc.string({ maxLength: 70 }),
          fc.constantFrom('AWS4-HMAC-SHA256', 'host', 'host;x-amz-meta-a', '', 'UNSIGNED-PAYLOAD', 'f'.repeat(64)),
        ),
      }),
      fc.record({
        kind: fc.constant('duplicate' as const),
        name: fc.constantFrom(...NAMES),
        value: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        caseChange: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('remove' as const), name: fc.constantFrom(...NAMES) }),
      fc.record({
        kind: fc.constant('raw' as const),
        ms: fc.array(mutationArb(['&', '=', '%', '%ZZ', '%00', '%2F', '+', '?', '#', 'X-Amz-', ';', '\u00e9']), {
          minLength: 1,
          maxLength: 2,
        }),
      }),
    );

    function editQuery(query: string, edit: QueryEdit): string {
      if (edit.kind === 'raw') return applyMutations(Buffer.from(query, 'latin1'), edit.ms).toString('latin1');
      const params: Param[] = query.split('&').map((p) => {
        const eq = p.indexOf('=');
        return eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
      });
      const enc = (s: string) => encodeURIComponent(s);
      const i = params.findIndex(([n]) => n === edit.name);
      switch (edit.kind) {
        case 'set':
          if (i < 0) params.push([edit.name, enc(edit.value)]);
          else params[i] = [edit.name, enc(edit.value)];
          break;
        case 'duplicate': {
          const name = edit.caseChange ? edit.name.toLowerCase() : edit.name;
          params.push([name, edit.value === undefined ? (i < 0 ? '' : params[i][1]) : enc(edit.value)]);
          break;
        }
        case 'remove':
          if (i >= 0) params.splice(i, 1);
          break;
      }
      return params.map(([n, v]) => `${n}=${v}`).join('&');
    }

    test('presigned PUTs with bad dates, expiries, credential scopes, duplicated or missing parameters', async () => {
      const data = Buffer.from('bytes a mangled presigned URL tried to write');
      await fc.assert(
        fc.asyncProperty(fc.array(editArb, { minLength: 1, maxLength: 3 }), async (edits) => {
          const url = new URL(
            await getSignedUrl(w.s3, new PutObjectCommand({ Bucket: BUCKET, Key: TARGET }), { expiresIn: 300 }),
          );
          const query = edits.reduce(editQuery, url.search.slice(1));
          const target = `${url.pathname}?${query}`;
          const res = await exchange(
            w.endpointUrl,
            wireBytes({
              method: 'PUT',
              target,
              headers: { host: url.host, 'content-length': String(data.length) },
              body: data,
            }),
          );
          const what = `presigned PUT ${target}`;
          await allOrNothing(res, data, what);
          if (res.status < 300) {
            // Accepted only if the edits left every parameter the signature covers as it was, and
            // the signature first in the query (the one checked) is the one computed.
            const signedParams = new URLSearchParams(url.search);
            const sent = new URLSearchParams(query);
            for (const name of NAMES.filter((n) => n !== 'X-Amz-Signature')) {
              assert.deepEqual(sent.getAll(name), signedParams.getAll(name), `${what}: accepted with ${name} changed`);
            }
            assert.equal(
              sent.get('X-Amz-Signature'),
              signedParams.get('X-Amz-Signature'),
              `${what}: accepted another signature`,
            );
          }
        }),
        runs(300),
      );
      await stillSound();
    });

    test('presigned GETs answer 4xx (never 5xx) to the same edits, and with the request id', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(editArb, { minLength: 1, maxLength: 3 }), fc.boolean(), async (edits, head) => {
          const command = new GetObjectCommand({ Bucket: BUCKET, Key: 'sentinel/tiny' });
          const url = new URL(await getSignedUrl(w.s3, command, { expiresIn: 300 }));
          const target = `${url.pathname}?${edits.reduce(editQuery, url.search.slice(1))}`;
          const res = await exchange(
            w.endpointUrl,
            wireBytes({ method: head ? 'HEAD' : 'GET', target, headers: { host: url.host } }),
            { head },
          );
          assertNotServerError(res, `presigned ${head ? 'HEAD' : 'GET'} ${target}`, { head });
        }),
        runs(150),
      );
      await stillSound();
    });
  });

  describe('aws-chunked bodies', () => {
    type Mode = typeof STREAMING_PAYLOAD | typeof STREAMING_PAYLOAD_TRAILER | typeof STREAMING_UNSIGNED_TRAILER;
    type Framing =
      | { kind: 'bytes'; ms: Mutation[] }
      | { kind: 'chunk-size'; chunk: number; size: string }
      | { kind: 'chunk-signature'; chunk: number; signature: string }
      | { kind: 'trailer'; line: string }
      | { kind: 'drop-final' }
      | { kind: 'none' };
    type Delivery = 'exact' | 'declared-longer' | 'declared-shorter' | 'transfer-encoding';

    const FRAMING_FRAGMENTS = [
      '\r\n',
      '\r',
      '\n',
      ';',
      ';chunk-signature=',
      'chunk-signature=',
      '0\r\n\r\n',
      '0;chunk-signature=',
      'ffffffffffffffff',
      '10000000000000000',
      '-1',
      ' ',
      'zz',
      'x-amz-checksum-crc32:',
      'x-amz-checksum-crc32:AAAAAA==\r\n',
      'x-amz-trailer-signature:',
      'AAAAAA==',
      '\u0000',
    ];
    const framingArb: fc.Arbitrary<Framing> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('bytes' as const),
          ms: fc.array(mutationArb(FRAMING_FRAGMENTS), { minLength: 1, maxLength: 3 }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('chunk-size' as const),
          chunk: fc.nat({ max: 4 }),
          size: fc.oneof(
            fc.constantFrom(
              '0',
              '1',
              'ffffffffffffffff',
              '1ffffffffffffff',
              '-10',
              '0x10',
              '',
              ' 2000',
              '2000 ',
              'g',
              '00000000000000002000',
              '2000;',
              'FFFF',
            ),
            fc.nat({ max: 70_000 }).map((n) => n.toString(16)),
          ),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('chunk-signature' as const),
          chunk: fc.nat({ max: 4 }),
          signature: fc.oneof(
            fc.constantFrom('', '0'.repeat(64), 'F'.repeat(64), 'f'.repeat(63), 'f'.repeat(65), 'zz'.repeat(32)),
            fc.string({ maxLength: 70 }),
          ),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('trailer' as const),
          line: fc.constantFrom(
            'x-amz-checksum-crc32:AAAAAA==',
            'x-amz-checksum-crc32:',
            'x-amz-checksum-crc32:not base64!',
            'x-amz-checksum-crc32c:AAAAAA==',
            'x-amz-checksum-sha256:AAAAAA==',
            'x-amz-checksum-crc32',
            ':AAAAAA==',
            '',
          ),
        }),
      },
      fc.constant({ kind: 'drop-final' as const }),
      fc.constant({ kind: 'none' as const }),
    );

    /** Applies a framing edit to an encoded body (chunk numbers modulo the chunks there are). */
    function reframe(body: Buffer, framing: Framing): Buffer {
      const text = body.toString('latin1');
      switch (framing.kind) {
        case 'none':
          return body;
        case 'bytes':
          return applyMutations(body, framing.ms);
        case 'chunk-size':
        case 'chunk-signature': {
          // Only real chunk headers: walk the framing from the start.
          const starts: Array<{ at: number; size: number; header: string }> = [];
          let at = 0;
          while (at < text.length) {
            const eol = text.indexOf('\r\n', at);
            if (eol < 0) break;
            const header = text.slice(at, eol);
            const size = parseInt(header.split(';')[0], 16);
            starts.push({ at, size, header });
            if (size === 0) break;
            at = eol + 2 + size + 2;
          }
          const c = starts[framing.chunk % starts.length];
          const semicolon = c.header.indexOf(';');
          const newHeader =
            framing.kind === 'chunk-size'
              ? framing.size + (semicolon < 0 ? '' : c.header.slice(semicolon))
              : `${c.header.split(';')[0]};chunk-signature=${framing.signature}`;
          return Buffer.from(text.slice(0, c.at) + newHeader + text.slice(c.at + c.header.length), 'latin1');
        }
        case 'trailer': {
          const m = /x-amz-checksum-[a-z0-9]+:[^\r]*\r\n/.exec(text);
          if (!m) return Buffer.from(text.replace(/\r\n\r\n$/, `\r\n${framing.line}\r\n\r\n`), 'latin1');
          return Buffer.from(
            text.slice(0, m.index) +
              (framing.line === '' ? '' : `${framing.line}\r\n`) +
              text.slice(m.index + m[0].length),
            'latin1',
          );
        }
        case 'drop-final': {
          // Everything from the zero-size chunk on: the body ends after the last data chunk.
          const final = Math.max(text.lastIndexOf('\r\n0;chunk-signature='), text.lastIndexOf('\r\n0\r\n'));
          return final < 0 ? body : Buffer.from(text.slice(0, final + 2), 'latin1');
        }
      }
    }

    test('wrong chunk sizes, truncated chunks, non-hex sizes, bad chunk signatures, wrong or missing trailers, decoded-length mismatches', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<Mode>(STREAMING_PAYLOAD, STREAMING_PAYLOAD_TRAILER, STREAMING_UNSIGNED_TRAILER),
          fc.integer({ min: 0, max: 40_000 }),
          fc.integer({ min: 8192, max: 20_000 }),
          framingArb,
          fc.constantFrom<Delivery>(
            'exact',
            'exact',
            'exact',
            'declared-longer',
            'declared-shorter',
            'transfer-encoding',
          ),
          // x-amz-decoded-content-length: right, a little off, or not a usable length at all.
          fc.option(
            fc.oneof(
              fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
              fc.constantFrom(
                '99999999999999999999',
                '9007199254740993',
                '18446744073709551616',
                '-1',
                '1e3',
                '',
                '0x10',
                '5.0',
              ),
            ),
            { nil: undefined, freq: 4 },
          ),
          async (mode, size, chunkSize, framing, delivery, decoded) => {
            const data = patternBytes(`chunked:${size}`, size);
            const checksum = crc32Base64(data);
            const decodedLength = typeof decoded === 'string' ? decoded : String(Math.max(0, size + (decoded ?? 0)));
            const headers: Record<string, string> = {
              'content-encoding': 'aws-chunked',
              'x-amz-decoded-content-length': decodedLength,
            };
            if (mode !== STREAMING_PAYLOAD) headers['x-amz-trailer'] = 'x-amz-checksum-crc32';
            // Content-Length is left out of the signature so that it can follow the edited body.
            const signed = await signRequest(
              w.endpointUrl,
              { method: 'PUT', path: `/${BUCKET}/${TARGET}`, headers },
              { contentSha256: mode },
            );
            const encoded =
              mode === STREAMING_UNSIGNED_TRAILER
                ? encodeUnsignedChunks(data, chunkSize, [`x-amz-checksum-crc32:${checksum}`])
                : await encodeSignedChunks(signed, data, {
                    chunkSize,
                    trailers: mode === STREAMING_PAYLOAD_TRAILER ? { 'x-amz-checksum-crc32': checksum } : undefined,
                  });
            const body = reframe(encoded, framing);
            const sendHeaders: Record<string, string> = { ...signed.headers };
            const pieces: Buffer[] = [];
            switch (delivery) {
              case 'transfer-encoding':
                sendHeaders['transfer-encoding'] = 'chunked';
                if (body.length > 0)
                  pieces.push(Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n'));
                pieces.push(Buffer.from('0\r\n\r\n'));
                break;
              case 'declared-longer':
                sendHeaders['content-length'] = String(body.length + 10);
                pieces.push(body);
                break;
              case 'declared-shorter':
                sendHeaders['content-length'] = String(Math.max(0, body.length - 10));
                pieces.push(body);
                break;
              default:
                sendHeaders['content-length'] = String(body.length);
                pieces.push(body);
            }
            const head = wireBytes({ method: 'PUT', target: signed.target, headers: sendHeaders });
            // A body shorter than declared ends with the client's half-close: IncompleteBody.
            const res = await exchange(w.endpointUrl, [head, ...pieces], { thenEnd: delivery === 'declared-longer' });
            const what = `${mode} of ${size} bytes in ${chunkSize}-byte chunks, ${JSON.stringify(framing)}, ${delivery}, decoded length ${decodedLength}`;
            await allOrNothing(res, data, what);
            if (res.status < 300) {
              assert.equal(decodedLength, String(size), `${what}: accepted with a wrong x-amz-decoded-content-length`);
              assert.ok(delivery === 'exact' || delivery === 'transfer-encoding', `${what}: accepted`);
            }
          },
        ),
        runs(300),
      );
      await stillSound();
    });
  });

  test('every signature comparison goes through crypto.timingSafeEqual', async () => {
    const spy = mock.method(crypto, 'timingSafeEqual');
    syncBuiltinESMExports();
    try {
      const auth = createAuthenticator((id) => (id === CREDENTIALS.accessKeyId ? { ...CREDENTIALS } : undefined));
      const endpoint = 'http://127.0.0.1:9';
      const signed = await signRequest(endpoint, { method: 'GET', path: '/b/k' });
      const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
      const request = { method: 'GET', rawPath: '/b/k', rawQuery: '', headers, now: new Date() };
      auth(request);
      assert.equal(spy.mock.callCount(), 1, 'a header signature is compared with timingSafeEqual');
      const bad = { ...headers, authorization: headers.authorization.replace(/.$/, (c) => (c === '0' ? '1' : '0')) };
      assert.throws(() => auth({ ...request, headers: bad }), { code: 'SignatureDoesNotMatch' });
      assert.equal(spy.mock.callCount(), 2, 'and a wrong one too');
      const args = spy.mock.calls[1].arguments as unknown as [Buffer, Buffer];
      assert.equal(args[1].toString('latin1'), bad.authorization.slice(-64), 'comparing the signature provided');

      const url = new URL(await getSignedUrl(w.s3, new GetObjectCommand({ Bucket: 'b', Key: 'k' }), { expiresIn: 60 }));
      auth({
        method: 'GET',
        rawPath: url.pathname,
        rawQuery: url.search.slice(1),
        headers: { host: url.host },
        now: new Date(),
      });
      assert.equal(spy.mock.callCount(), 3, 'a presigned URL’s signature too');

      // A chunked body: one comparison per chunk and one for the trailer.
      const data = patternBytes('timing', 20_000);
      const streaming = await signRequest(
        endpoint,
        { method: 'PUT', path: '/b/k', headers: { 'x-amz-decoded-content-length': String(data.length) } },
        { contentSha256: STREAMING_PAYLOAD_TRAILER },
      );
      const body = await encodeSignedChunks(streaming, data, {
        chunkSize: 8192,
        trailers: { 'x-amz-checksum-crc32': crc32Base64(data) },
      });
      const streamingAuth = auth({
        method: 'PUT',
        rawPath: '/b/k',
        rawQuery: '',
        headers: Object.fromEntries(Object.entries(streaming.headers).map(([k, v]) => [k.toLowerCase(), v])),
        now: new Date(),
      });
      assert.equal(streamingAuth.kind, 'signed');
      if (streamingAuth.kind !== 'signed') return;
      const before = spy.mock.callCount();
      const decoder = createChunkedDecoder({
        signing: {
          signingKey: streamingAuth.signingKey,
          seedSignature: streamingAuth.signature,
          amzDate: streamingAuth.amzDate,
          scope: streamingAuth.scope,
        },
        trailer: true,
        decodedLength: data.length,
      });
      decoder.resume();
      decoder.end(body);
      await new Promise((resolve, reject) => decoder.on('end', resolve).on('error', reject));
      // 3 data chunks, the final empty chunk, the trailer.
      assert.equal(spy.mock.callCount() - before, 5, 'each chunk signature and the trailer signature');
    } finally {
      spy.mock.restore();
      syncBuiltinESMExports();
    }
  });
});

test('neither secret keys nor signatures reach the log, whatever the request', async () => {
  const w = await startHostileWorld({ logLevel: 'trace' });
  const seen = new Set<string>();
  const remember = (s: string | undefined) => {
    for (const m of (s ?? '').matchAll(/[0-9a-f]{64}/g)) seen.add(m[0]);
  };
  try {
    await w.s3.send(new CreateBucketCommand({ Bucket: 'secrets' }));
    await w.s3.send(new PutObjectCommand({ Bucket: 'secrets', Key: 'k', Body: 'hello' }));
    // Signed with the wrong secret: SignatureDoesNotMatch, whose body shows the StringToSign.
    const wrong = await signRequest(
      w.endpointUrl,
      { method: 'GET', path: '/secrets/k' },
      { credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' } },
    );
    remember(wrong.headers.authorization);
    assert.equal(
      assertClientError(await exchange(w.endpointUrl, wireBytes(wrong)), 'wrong secret').code,
      'SignatureDoesNotMatch',
    );
    // A good presigned URL, a tampered one, an expired one, and one whose upload is cut short.
    const get = await getSignedUrl(w.s3, new GetObjectCommand({ Bucket: 'secrets', Key: 'k' }), { expiresIn: 60 });
    remember(get);
    const u = new URL(get);
    assert.equal(
      (
        await exchange(
          w.endpointUrl,
          wireBytes({ method: 'GET', target: u.pathname + u.search, headers: { host: u.host } }),
        )
      ).status,
      200,
    );
    const tampered =
      u.pathname +
      u.search.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === 'a' ? 'b' : 'a'}`);
    remember(tampered);
    assertClientError(
      await exchange(w.endpointUrl, wireBytes({ method: 'GET', target: tampered, headers: { host: u.host } })),
      'tampered',
    );
    const put = new URL(
      await getSignedUrl(w.s3, new PutObjectCommand({ Bucket: 'secrets', Key: 'cut' }), { expiresIn: 60 }),
    );
    remember(put.search);
    await exchange(
      w.endpointUrl,
      wireBytes({
        method: 'PUT',
        target: put.pathname + put.search,
        headers: { host: put.host, 'content-length': '1000' },
        body: Buffer.alloc(10),
      }),
      { thenEnd: true },
    ).catch(() => undefined);
    // …and one whose client vanishes mid-body (the server logs the abandoned request).
    await sendTruncated(
      w.endpointUrl,
      { method: 'PUT', target: put.pathname + put.search, headers: { host: put.host, 'content-length': '100000' } },
      Buffer.alloc(5000),
      'destroy',
    );
    await new Promise((r) => setTimeout(r, 200));
    // A chunked upload with a bad chunk signature.
    const data = patternBytes('secret-chunks', 10_000);
    const streaming = await signRequest(
      w.endpointUrl,
      {
        method: 'PUT',
        path: '/secrets/chunked',
        headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(data.length) },
      },
      { contentSha256: STREAMING_PAYLOAD },
    );
    const body = await encodeSignedChunks(streaming, data, {
      chunkSize: 8192,
      tamper: (i, c) => (i === 1 ? Buffer.alloc(c.length) : c),
    });
    remember(streaming.headers.authorization);
    remember(body.toString('latin1'));
    const res = await exchange(
      w.endpointUrl,
      wireBytes({
        method: 'PUT',
        target: streaming.target,
        headers: { ...streaming.headers, 'content-length': String(body.length) },
        body,
      }),
    );
    assert.equal(assertClientError(res, 'tampered chunk').code, 'SignatureDoesNotMatch');
    // And an unsigned-trailer upload, an anonymous request, a malformed Authorization header.
    assertClientError(
      await exchange(w.endpointUrl, wireBytes({ method: 'GET', target: '/secrets/k', headers: { host: u.host } })),
      'anonymous',
    );
    const malformed = await signRequest(w.endpointUrl, { method: 'GET', path: '/secrets/k' });
    remember(malformed.headers.authorization);
    assertClientError(
      await exchange(
        w.endpointUrl,
        wireBytes({
          ...malformed,
          headers: {
            ...malformed.headers,
            authorization: malformed.headers.authorization.replace('Credential=', 'Credentials='),
          },
        }),
      ),
      'malformed',
    );

    const log = w.logText();
    assert.ok(w.logs.length > 8, `the requests were logged (${w.logs.length} lines)`);
    assert.ok(!log.includes(CREDENTIALS.secretAccessKey), 'the secret key is not in the log');
    assert.ok(!log.includes('not-the-secret'), 'nor a wrong secret a client signed with');
    const leaked = [...seen].filter((s) => log.includes(s));
    assert.deepEqual(leaked, [], 'no signature (header, presigned, chunk) is in the log');
  } finally {
    await w.close();
  }
});
