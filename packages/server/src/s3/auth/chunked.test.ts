import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { crc32 } from '@aws-crypto/crc32';
import fc from 'fast-check';
import { S3Error } from '../../core/errors.ts';
import { createChunkedDecoder, type ChunkedDecoderOptions } from './chunked.ts';
import { deriveSigningKey, sha256Hex } from './signing.ts';

// ---------------------------------------------------------------------------------------------
// A test encoder producing what SDKs send, signed with the documented algorithm.

interface Signing {
  signingKey: Buffer;
  seedSignature: string;
  amzDate: string;
  scope: string;
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const SIGNING: Signing = {
  signingKey: deriveSigningKey('secret', '20260101', 'us-east-1', 's3'),
  seedSignature: sha256Hex('seed'),
  amzDate: '20260101T120000Z',
  scope: '20260101/us-east-1/s3/aws4_request',
};

function chunkSignature(s: Signing, previous: string, dataHash: string): string {
  const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, previous, EMPTY_SHA256, dataHash].join('\n');
  return createHmac('sha256', s.signingKey).update(stringToSign).digest('hex');
}

function trailerSignature(s: Signing, previous: string, trailers: Record<string, string>): string {
  const canonical = Object.entries(trailers)
    .map(([name, value]) => `${name}:${value}\n`)
    .join('');
  const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', s.amzDate, s.scope, previous, sha256Hex(canonical)].join('\n');
  return createHmac('sha256', s.signingKey).update(stringToSign).digest('hex');
}

interface EncodeOptions {
  chunkSize: number;
  signing?: Signing;
  trailers?: Record<string, string>;
}

/** Yields the framing and (uncopied) data pieces of an aws-chunked body. */
function* encodePieces(data: Uint8Array, opts: EncodeOptions): Generator<Buffer> {
  let previous = opts.signing?.seedSignature ?? '';
  const header = (size: number, dataHash: string): Buffer => {
    if (opts.signing === undefined) return Buffer.from(`${size.toString(16)}\r\n`);
    previous = chunkSignature(opts.signing, previous, dataHash);
    return Buffer.from(`${size.toString(16)};chunk-signature=${previous}\r\n`);
  };
  for (let offset = 0; offset < data.length; offset += opts.chunkSize) {
    const chunk = Buffer.from(data.buffer, data.byteOffset + offset, Math.min(opts.chunkSize, data.length - offset));
    yield header(chunk.length, opts.signing ? sha256Hex(chunk) : '');
    yield chunk;
    yield Buffer.from('\r\n');
  }
  yield header(0, EMPTY_SHA256);
  if (opts.trailers !== undefined) {
    for (const [name, value] of Object.entries(opts.trailers)) yield Buffer.from(`${name}:${value}\r\n`);
    if (opts.signing !== undefined) {
      yield Buffer.from(`x-amz-trailer-signature:${trailerSignature(opts.signing, previous, opts.trailers)}\r\n`);
    }
  }
  yield Buffer.from('\r\n');
}

function encode(data: Uint8Array, opts: EncodeOptions): Buffer {
  return Buffer.concat([...encodePieces(data, opts)]);
}

/** Cuts `buf` at the given offsets (any order, duplicates and out-of-range ignored). */
function fragment(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < buf.length))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const p of [...points, buf.length]) {
    pieces.push(buf.subarray(start, p));
    start = p;
  }
  return pieces;
}

function bytewise(buf: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) pieces.push(buf.subarray(i, i + 1));
  return pieces;
}

interface Decoded {
  data: Buffer;
  trailers: Record<string, string>;
}

async function decode(pieces: Iterable<Buffer>, opts: ChunkedDecoderOptions): Promise<Decoded> {
  const decoder = createChunkedDecoder(opts);
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(pieces), decoder, sink);
  return { data: Buffer.concat(out), trailers: { ...decoder.trailers } };
}

async function rejectsWith(promise: Promise<unknown>, code: string, fields?: Record<string, string>): Promise<S3Error> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof S3Error, `expected S3Error ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const [name, value] of Object.entries(fields ?? {})) assert.equal(caught.fields[name], value, `field ${name}`);
  return caught;
}

const TRUNCATED = 'The request body terminated unexpectedly';

interface Variant {
  name: string;
  signing?: Signing;
  trailers?: Record<string, string>;
  chunkSize: number;
}

const VARIANTS: Variant[] = [
  { name: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' }, chunkSize: 8192 },
  { name: 'aws-chunked with UNSIGNED-PAYLOAD (no trailer)', chunkSize: 5000 },
  { name: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', signing: SIGNING, chunkSize: 8192 },
  {
    name: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    signing: SIGNING,
    trailers: { 'x-amz-checksum-crc64nvme': 'AAAAAAAAAAA=' },
    chunkSize: 8192,
  },
];

function optionsFor(v: Variant, length: number): ChunkedDecoderOptions {
  return { signing: v.signing, trailer: v.trailers !== undefined, decodedLength: length };
}

// ---------------------------------------------------------------------------------------------

describe('aws-chunked decoder: the AWS documentation example', () => {
  // "Signature Calculations for the Authorization Header: Transferring Payload in Multiple
  // Chunks": 65536 + 1024 bytes of 'a', signed with the example credentials.
  const signing: Signing = {
    signingKey: deriveSigningKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1', 's3'),
    seedSignature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    amzDate: '20130524T000000Z',
    scope: '20130524/us-east-1/s3/aws4_request',
  };
  const body = Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
    Buffer.alloc(65536, 'a'),
    Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
    Buffer.alloc(1024, 'a'),
    Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
  ]);

  it('decodes it, with the documented Content-Length', async () => {
    assert.equal(body.length, 66824);
    const { data } = await decode([body], { signing, trailer: false, decodedLength: 66560 });
    assert.deepEqual(data, Buffer.alloc(66560, 'a'));
  });

  it('rejects it with one data byte changed', async () => {
    const tampered = Buffer.from(body);
    tampered[100] = 0x62;
    await rejectsWith(decode([tampered], { signing, trailer: false }), 'SignatureDoesNotMatch');
  });

  it('matches the test encoder byte for byte', () => {
    assert.deepEqual(encode(Buffer.alloc(66560, 'a'), { chunkSize: 65536, signing }), body);
  });
});

describe('aws-chunked decoder: round trips', () => {
  const data = randomBytes(20_000);

  for (const v of VARIANTS) {
    const body = encode(data, v);
    it(`${v.name}: whole, in 1-byte pieces and in random pieces`, async () => {
      const opts = optionsFor(v, data.length);
      for (const pieces of [
        [body],
        bytewise(body),
        fragment(
          body,
          Array.from({ length: 40 }, () => Math.floor(Math.random() * body.length)),
        ),
      ]) {
        const decoded = await decode(pieces, opts);
        assert.deepEqual(decoded.data, data);
        assert.deepEqual(decoded.trailers, v.trailers ?? {});
      }
    });
  }

  it('decodes empty bodies', async () => {
    for (const v of VARIANTS) {
      const decoded = await decode([encode(Buffer.alloc(0), v)], optionsFor(v, 0));
      assert.equal(decoded.data.length, 0, v.name);
      assert.deepEqual(decoded.trailers, v.trailers ?? {}, v.name);
    }
  });

  it('survives any fragmentation, chunk size and trailer set (property)', async () => {
    const trailerName = fc.stringMatching(/^x-amz-[a-z0-9-]{1,12}$/).filter((n) => n !== 'x-amz-trailer-signature');
    const trailerValue = fc.stringMatching(/^[A-Za-z0-9+/=]{0,24}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 40_000 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 20_000 }),
        fc.option(fc.dictionary(trailerName, trailerValue, { maxKeys: 3 }), { nil: undefined }),
        fc.array(fc.nat(), { maxLength: 60 }),
        async (bytes, signed, size, trailers, cuts) => {
          const chunkSize = signed ? Math.max(size, 8192) : size;
          const signing = signed ? SIGNING : undefined;
          const body = encode(bytes, { chunkSize, signing, trailers });
          const decoded = await decode(
            fragment(
              body,
              cuts.map((c) => c % (body.length + 1)),
            ),
            {
              signing,
              trailer: trailers !== undefined,
              decodedLength: bytes.length,
            },
          );
          assert.deepEqual(new Uint8Array(decoded.data), bytes);
          assert.deepEqual(decoded.trailers, { ...trailers });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('streams data out as slices of the input, before the body ends', async () => {
    const decoder = createChunkedDecoder({ trailer: false });
    const input = Buffer.from('a\r\n0123456789');
    const first = new Promise<Buffer>((resolve) => decoder.once('data', resolve));
    decoder.write(input);
    const out = await first;
    assert.equal(out.toString(), '0123456789');
    assert.equal(out.buffer, input.buffer, 'data must not be copied');
    decoder.destroy();
  });

  it('lower-cases trailer names and trims values', async () => {
    const body = Buffer.from('3\r\nabc\r\n0\r\nX-Amz-Checksum-CRC32 :  xyz== \r\n\r\n');
    const decoded = await decode([body], { trailer: true });
    assert.deepEqual(decoded.trailers, { 'x-amz-checksum-crc32': 'xyz==' });
  });
});

describe('aws-chunked decoder: STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer', () => {
  it('delivers the data and the trailer the caller checks against its own CRC32', async () => {
    const data = randomBytes(1024 * 1024 + 17);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data));
    const body = encode(data, { chunkSize: 65536, trailers: { 'x-amz-checksum-crc32': crc.toString('base64') } });

    const decoded = await decode(fragment(body, [1, 5, 65540, 65541, body.length - 3]), {
      trailer: true,
      decodedLength: data.length,
    });
    assert.deepEqual(decoded.data, data);
    const received = Buffer.alloc(4);
    received.writeUInt32BE(crc32(decoded.data));
    assert.equal(decoded.trailers['x-amz-checksum-crc32'], received.toString('base64'));
  });
});

describe('aws-chunked decoder: rejected bodies', () => {
  const data = randomBytes(20_000);
  const signedTrailer: Variant = VARIANTS[3];
  const signedBody = encode(data, signedTrailer);
  const signedOpts = optionsFor(signedTrailer, data.length);

  it('answers SignatureDoesNotMatch for changed data, chunk signatures or trailers', async () => {
    const text = signedBody.toString('latin1');
    const flipAt = (i: number): Buffer => {
      const copy = Buffer.from(signedBody);
      copy[i] ^= 0x01;
      return copy;
    };
    const signatureAt = (n: number): number => {
      let at = -1;
      for (let k = 0; k <= n; k++) at = text.indexOf('chunk-signature=', at + 1);
      return at + 'chunk-signature='.length;
    };
    const cases: Array<[string, Buffer]> = [
      ['a data byte in the first chunk', flipAt(text.indexOf('\r\n') + 2 + 10)],
      ['a data byte in the last data chunk', flipAt(text.lastIndexOf(';chunk-signature=') - 10)],
      [
        'the first chunk signature',
        Buffer.from(
          text.slice(0, signatureAt(0)) + swapHex(text[signatureAt(0)]) + text.slice(signatureAt(0) + 1),
          'latin1',
        ),
      ],
      [
        'the final chunk signature',
        Buffer.from(
          text.slice(0, signatureAt(3)) + swapHex(text[signatureAt(3)]) + text.slice(signatureAt(3) + 1),
          'latin1',
        ),
      ],
      ['the trailer value', Buffer.from(text.replace('crc64nvme:AAAAAAAAAAA=', 'crc64nvme:AAAAAAAAAAB='), 'latin1')],
      [
        'the trailer signature',
        Buffer.from(
          text.replace(/x-amz-trailer-signature:(.)/, (_m, c: string) => `x-amz-trailer-signature:${swapHex(c)}`),
          'latin1',
        ),
      ],
    ];
    for (const [what, body] of cases) {
      assert.notDeepEqual(body, signedBody, what);
      const err = await rejectsWith(decode([body], signedOpts), 'SignatureDoesNotMatch');
      assert.equal(err.status, 403, what);
    }
  });

  it('answers SignatureDoesNotMatch for a different seed signature or key', async () => {
    await rejectsWith(
      decode([signedBody], { ...signedOpts, signing: { ...SIGNING, seedSignature: sha256Hex('other') } }),
      'SignatureDoesNotMatch',
    );
    await rejectsWith(
      decode([signedBody], {
        ...signedOpts,
        signing: { ...SIGNING, signingKey: deriveSigningKey('other', '20260101', 'us-east-1', 's3') },
      }),
      'SignatureDoesNotMatch',
    );
  });

  it('answers IncompleteBody when the body stops anywhere before its end', async () => {
    const unsigned = encode(randomBytes(300), { chunkSize: 100, trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
    for (let cut = 0; cut < unsigned.length; cut++) {
      const err = await rejectsWith(decode([unsigned.subarray(0, cut)], { trailer: true }), 'IncompleteBody');
      assert.equal(err.message, TRUNCATED);
    }
    // Signed: every offset in the framing, and a sample inside the data.
    const cuts: number[] = [];
    let offset = 0;
    for (const piece of encodePieces(data, signedTrailer)) {
      const isData = piece.buffer === data.buffer;
      for (let i = 0; i <= piece.length; i++) if (!isData || i % 997 === 0) cuts.push(offset + i);
      offset += piece.length;
    }
    assert.equal(offset, signedBody.length);
    for (const cut of cuts) {
      if (cut >= signedBody.length) continue;
      await rejectsWith(decode([signedBody.subarray(0, cut)], signedOpts), 'IncompleteBody');
    }
  });

  it('answers IncompleteBody with byte counts when x-amz-decoded-content-length is wrong', async () => {
    for (const v of VARIANTS) {
      const body = encode(data, v);
      await rejectsWith(decode([body], optionsFor(v, data.length + 1)), 'IncompleteBody', {
        NumberBytesExpected: String(data.length + 1),
        NumberBytesProvided: String(data.length),
      });
      const err = await rejectsWith(decode([body], optionsFor(v, data.length - 1)), 'IncompleteBody', {
        NumberBytesExpected: String(data.length - 1),
      });
      assert.equal(err.message, 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
    }
  });

  it('refuses a decodedLength that is not a byte count (the caller must parse the header)', () => {
    for (const bad of [Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY]) {
      assert.throws(() => createChunkedDecoder({ trailer: false, decodedLength: bad }), TypeError);
    }
  });

  it('answers IncompleteBody for malformed framing', async () => {
    const unsignedCases: Array<[string, string, boolean]> = [
      ['non-hex size', 'zz\r\nabc\r\n0\r\n\r\n', false],
      ['empty size', '\r\nabc\r\n0\r\n\r\n', false],
      ['size with a sign', '-3\r\nabc\r\n0\r\n\r\n', false],
      ['size too large', `${'f'.repeat(17)}\r\nabc\r\n0\r\n\r\n`, false],
      ['bare LF after the size', '3\nabc\r\n0\r\n\r\n', false],
      ['data longer than its size', '3\r\nabcd\r\n0\r\n\r\n', false],
      ['data shorter than its size', '3\r\nab\r\n0\r\n\r\n', false],
      ['missing CRLF after data', '3\r\nabc0\r\n\r\n', false],
      ['trailers where none are expected', '3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n', false],
      ['a trailer line without a colon', '3\r\nabc\r\n0\r\nx-amz-checksum-crc32\r\n\r\n', true],
      ['a trailer line with an empty name', '3\r\nabc\r\n0\r\n:value\r\n\r\n', true],
      ['bytes after the final empty line', '3\r\nabc\r\n0\r\n\r\nextra', false],
      ['a second body after the end', '3\r\nabc\r\n0\r\n\r\n3\r\nabc\r\n0\r\n\r\n', false],
      ['no final empty line', '3\r\nabc\r\n0\r\n', false],
    ];
    for (const [what, body, trailer] of unsignedCases) {
      const err = await rejectsWith(decode([Buffer.from(body)], { trailer }), 'IncompleteBody');
      assert.equal(err.message, TRUNCATED, what);
    }
  });

  it('answers IncompleteBody for malformed chunk signatures in signed streams', async () => {
    const text = encode(Buffer.alloc(10, 'x'), { chunkSize: 8192, signing: SIGNING }).toString('latin1');
    const sig = /chunk-signature=([0-9a-f]{64})/.exec(text)?.[1] ?? '';
    const cases = [
      text.replace(`;chunk-signature=${sig}`, ''),
      text.replace(`chunk-signature=${sig}`, `chunk-signature=${sig.slice(1)}`),
      text.replace(`chunk-signature=${sig}`, `chunk-signature=${sig.toUpperCase()}`),
      text.replace(`chunk-signature=${sig}`, `chunk_signature=${sig}`),
      text.replace(`;chunk-signature=${sig}`, `;chunk-signature=${sig};x=y`),
    ];
    for (const body of cases) {
      await rejectsWith(decode([Buffer.from(body, 'latin1')], { signing: SIGNING, trailer: false }), 'IncompleteBody');
    }
    // A signed trailer section without its signature.
    const trailed = encode(Buffer.alloc(10, 'x'), {
      chunkSize: 8192,
      signing: SIGNING,
      trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' },
    })
      .toString('latin1')
      .replace(/x-amz-trailer-signature:[0-9a-f]{64}\r\n/, '');
    await rejectsWith(decode([Buffer.from(trailed, 'latin1')], { signing: SIGNING, trailer: true }), 'IncompleteBody');
  });

  it('fails an over-long chunk header as soon as 4 KiB arrive without CRLF', async () => {
    const decoder = createChunkedDecoder({ trailer: false });
    const failed = new Promise<unknown>((resolve) => decoder.once('error', resolve));
    decoder.write(Buffer.alloc(4000, '0'));
    decoder.write(Buffer.alloc(200, '0'));
    const err = await failed;
    assert.ok(err instanceof S3Error);
    assert.equal(err.code, 'IncompleteBody');
  });

  it('answers InvalidChunkSizeError for a short non-final chunk when signed only', async () => {
    const small = encode(randomBytes(9000), { chunkSize: 100, signing: SIGNING });
    const err = await rejectsWith(decode([small], { signing: SIGNING, trailer: false }), 'InvalidChunkSizeError', {
      Chunk: '2',
      BadChunkSize: '100',
    });
    assert.equal(err.status, 403);
    assert.equal(err.message, 'Only the last chunk is allowed to have a size less than 8192 bytes');
    // 8192 followed by a short last chunk is fine; so are small unsigned chunks.
    await decode([encode(randomBytes(9000), { chunkSize: 8192, signing: SIGNING })], {
      signing: SIGNING,
      trailer: false,
    });
    await decode([encode(randomBytes(9000), { chunkSize: 100 })], { trailer: false });
  });
});

describe('aws-chunked decoder: throughput', () => {
  it('passes 100 MiB of signed 64 KiB chunks through', async () => {
    const chunk = randomBytes(64 * 1024);
    const chunkHash = sha256Hex(chunk);
    const count = 1600; // 100 MiB
    function* pieces(): Generator<Buffer> {
      let previous = SIGNING.seedSignature;
      for (let i = 0; i < count; i++) {
        previous = chunkSignature(SIGNING, previous, chunkHash);
        yield Buffer.from(`10000;chunk-signature=${previous}\r\n`);
        yield chunk;
        yield Buffer.from('\r\n');
      }
      previous = chunkSignature(SIGNING, previous, EMPTY_SHA256);
      yield Buffer.from(`0;chunk-signature=${previous}\r\n\r\n`);
    }
    const expected = createHash('sha256');
    for (let i = 0; i < count; i++) expected.update(chunk);

    const decoder = createChunkedDecoder({ signing: SIGNING, trailer: false, decodedLength: count * chunk.length });
    const received = createHash('sha256');
    let bytes = 0;
    const started = performance.now();
    await pipeline(
      Readable.from(pieces()),
      decoder,
      new Writable({
        write(b: Buffer, _encoding, callback) {
          bytes += b.length;
          received.update(b);
          callback();
        },
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    assert.equal(bytes, count * chunk.length);
    assert.equal(received.digest('hex'), expected.digest('hex'));
    // A generous bound that still catches accidental quadratic buffering.
    assert.ok(seconds < 20, `took ${seconds.toFixed(2)} s`);
  });
});

function swapHex(c: string): string {
  return c === '0' ? '1' : '0';
}
