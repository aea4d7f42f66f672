import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32 as awsCrc32 } from '@aws-crypto/crc32';
import { crc32c as awsCrc32c } from '@aws-crypto/crc32c';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import fc from 'fast-check';
import { S3Error } from '../core/errors.ts';
import type { ChecksumAlgorithm } from './checksum.ts';
import { assembleParts, checkObjectChecksum, MIN_PART_SIZE, type Assembled } from './multipart.ts';
import type { CompletedPart, PartRecord, UploadChecksum, UploadRecord } from './types.ts';

const UPLOAD_ID = 'upload-1';

function upload(checksum?: UploadChecksum): UploadRecord {
  return {
    bucket: 'b',
    key: 'k',
    uploadId: UPLOAD_ID,
    initiated: 1_700_000_000_000,
    owner: 'owner-1',
    storageClass: 'STANDARD',
    userMetadata: {},
    checksum,
  };
}

const md5Hex = (b: Buffer) => createHash('md5').update(b).digest('hex');

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** Digests computed by code that is not ours. */
function digest(a: ChecksumAlgorithm, data: Buffer): Buffer {
  switch (a) {
    case 'CRC32':
      return u32be(awsCrc32(data));
    case 'CRC32C':
      return u32be(awsCrc32c(data));
    case 'CRC64NVME':
      return crc64Sync(data);
    case 'SHA1':
      return createHash('sha1').update(data).digest();
    case 'SHA256':
      return createHash('sha256').update(data).digest();
  }
}

/** CRC64/NVME bit by bit: slow and obviously right (checked against the AWS SDK's below). */
function crc64Sync(data: Buffer): Buffer {
  const poly = 0x9a6c9329ac4bc9b5n;
  let crc = 0xffffffffffffffffn;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let i = 0; i < 8; i++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  crc ^= 0xffffffffffffffffn;
  return Buffer.from(crc.toString(16).padStart(16, '0'), 'hex');
}

const b64 = (a: ChecksumAlgorithm, data: Buffer) => digest(a, data).toString('base64');

/** Deterministic pseudo-random bytes, so a failing property run reproduces. */
function bytesFor(seed: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let off = 0, i = 0; off < size; i++) {
    off += createHash('sha256').update(`${seed}/${i}`).digest().copy(out, off);
  }
  return out;
}

/** A stored part holding `data`, with its checksum in `algorithm` if given. */
function part(partNumber: number, data: Buffer, algorithm?: ChecksumAlgorithm): PartRecord & { data: Buffer } {
  return {
    partNumber,
    size: data.length,
    etag: md5Hex(data),
    lastModified: 1_700_000_000_000 + partNumber,
    checksum: algorithm && { algorithm, value: b64(algorithm, data) },
    blob: data.length > 0 ? `blob-${partNumber}` : undefined,
    data,
  };
}

function stored(parts: (PartRecord & { data: Buffer })[]): PartRecord[] {
  return parts.map(({ data: _, ...p }) => p);
}

function asked(p: PartRecord, withChecksum = false): CompletedPart {
  return { partNumber: p.partNumber, etag: p.etag, ...(withChecksum && p.checksum ? { checksum: p.checksum } : {}) };
}

/** An assert.throws validator for an S3Error with exactly this code, message (if given) and fields. */
function s3(code: string, fields: Record<string, string>, message?: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof S3Error, `expected an S3Error, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.deepEqual(err.fields, fields);
    if (message !== undefined) assert.equal(err.message, message);
    return true;
  };
}

const MIN = 16;
const big = (n: number, fill: number) => Buffer.alloc(MIN + n, fill);

describe('assembleParts', () => {
  it('(the reference CRC64/NVME agrees with the AWS SDK)', async () => {
    for (const data of [Buffer.alloc(0), Buffer.from('123456789'), bytesFor(1, 1000)]) {
      const h = new Crc64Nvme();
      h.update(data);
      assert.deepEqual(crc64Sync(data), Buffer.from(await h.digest()));
    }
  });

  describe('errors', () => {
    it('an empty part list is InvalidRequest', () => {
      const p = part(1, big(0, 1));
      assert.throws(
        () => assembleParts(upload(), stored([p]), [], MIN),
        s3('InvalidRequest', {}, 'You must specify at least one part'),
      );
    });

    it('part numbers out of order or repeated are InvalidPartOrder with the upload id', () => {
      const ps = [part(1, big(0, 1)), part(2, big(0, 2)), part(3, big(0, 3))];
      const all = stored(ps);
      for (const order of [
        [2, 1],
        [1, 3, 2],
        [1, 1],
        [1, 2, 2, 3],
      ]) {
        const requested = order.map((n) => asked(all[n - 1]));
        assert.throws(
          () => assembleParts(upload(), all, requested, MIN),
          s3('InvalidPartOrder', { UploadId: UPLOAD_ID }),
        );
      }
    });

    it('InvalidPartOrder is reported before a missing part', () => {
      const all = stored([part(1, big(0, 1))]);
      assert.throws(
        () =>
          assembleParts(
            upload(),
            all,
            [
              { partNumber: 9, etag: 'nope' },
              { partNumber: 1, etag: all[0].etag },
            ],
            MIN,
          ),
        s3('InvalidPartOrder', { UploadId: UPLOAD_ID }),
      );
    });

    it('a part that was never uploaded is InvalidPart naming it', () => {
      const all = stored([part(1, big(0, 1)), part(3, big(0, 3))]);
      assert.throws(
        () => assembleParts(upload(), all, [asked(all[0]), { partNumber: 2, etag: 'abc' }, asked(all[1])], MIN),
        s3('InvalidPart', { UploadId: UPLOAD_ID, PartNumber: '2', ETag: 'abc' }),
      );
    });

    it('an ETag that does not match the stored part is InvalidPart; an empty ETag is not echoed', () => {
      const all = stored([part(1, big(0, 1)), part(2, big(0, 2))]);
      const wrong = md5Hex(Buffer.from('other'));
      assert.throws(
        () => assembleParts(upload(), all, [asked(all[0]), { partNumber: 2, etag: wrong }], MIN),
        s3('InvalidPart', { UploadId: UPLOAD_ID, PartNumber: '2', ETag: wrong }),
      );
      assert.throws(
        () => assembleParts(upload(), all, [{ partNumber: 1, etag: '' }], MIN),
        s3('InvalidPart', { UploadId: UPLOAD_ID, PartNumber: '1' }),
      );
    });

    it('with no parts stored at all, any list is InvalidPart', () => {
      assert.throws(
        () => assembleParts(upload(), [], [{ partNumber: 1, etag: 'e' }], MIN),
        s3('InvalidPart', { UploadId: UPLOAD_ID, PartNumber: '1', ETag: 'e' }),
      );
    });

    it("a part checksum in another algorithm than the upload's is BadDigest", () => {
      const all = stored([part(1, big(0, 1), 'CRC32C')]);
      assert.throws(
        () =>
          assembleParts(
            upload({ algorithm: 'CRC32C', type: 'COMPOSITE' }),
            all,
            [{ partNumber: 1, etag: all[0].etag, checksum: { algorithm: 'CRC32', value: 'AAAAAA==' } }],
            MIN,
          ),
        s3('BadDigest', {}, 'The crc32 you specified for part 1 did not match what we received.'),
      );
    });

    it('a part checksum value that differs from the stored one is InvalidPart', () => {
      const all = stored([part(1, big(0, 1), 'CRC32C'), part(2, big(0, 2), 'CRC32C')]);
      assert.throws(
        () =>
          assembleParts(
            upload({ algorithm: 'CRC32C', type: 'COMPOSITE' }),
            all,
            [
              asked(all[0], true),
              { partNumber: 2, etag: all[1].etag, checksum: { algorithm: 'CRC32C', value: all[0].checksum!.value } },
            ],
            MIN,
          ),
        s3('InvalidPart', { UploadId: UPLOAD_ID, PartNumber: '2', ETag: all[1].etag }),
      );
    });

    it('without an upload algorithm, a sent part checksum must match the one the part was uploaded with', () => {
      const withSha = stored([part(1, big(0, 1), 'SHA256')]);
      const sent = { partNumber: 1, etag: withSha[0].etag, checksum: withSha[0].checksum! };
      assert.equal(assembleParts(upload(), withSha, [sent], MIN).size, MIN);
      const other = { ...sent, checksum: { algorithm: 'SHA1' as const, value: b64('SHA1', big(0, 1)) } };
      assert.throws(
        () => assembleParts(upload(), withSha, [other], MIN),
        s3('InvalidPart', { UploadId: UPLOAD_ID, PartNumber: '1', ETag: sent.etag }),
      );
      const bare = stored([part(1, big(0, 1))]);
      assert.throws(
        () => assembleParts(upload(), bare, [sent], MIN),
        s3('InvalidPart', { UploadId: UPLOAD_ID, PartNumber: '1', ETag: sent.etag }),
      );
    });

    it("a COMPOSITE upload needs every part's checksum in the request", () => {
      const all = stored([part(1, big(0, 1), 'SHA1'), part(2, big(0, 2), 'SHA1'), part(3, big(0, 3), 'SHA1')]);
      assert.throws(
        () =>
          assembleParts(
            upload({ algorithm: 'SHA1', type: 'COMPOSITE' }),
            all,
            [asked(all[0], true), asked(all[1]), asked(all[2], true)],
            MIN,
          ),
        s3(
          'InvalidRequest',
          {},
          'The upload was created using a sha1 checksum. The complete request must include the checksum for each part. It was missing for part 2 in the request.',
        ),
      );
    });

    it('a FULL_OBJECT upload does not need part checksums in the request', () => {
      const all = stored([part(1, big(0, 1), 'CRC32'), part(2, big(0, 2), 'CRC32')]);
      const a = assembleParts(
        upload({ algorithm: 'CRC32', type: 'FULL_OBJECT' }),
        all,
        all.map((p) => asked(p)),
        MIN,
      );
      assert.equal(a.checksum?.value, b64('CRC32', Buffer.concat([big(0, 1), big(0, 2)])));
    });

    it('a non-last part below the minimum is EntityTooSmall with its size and ETag', () => {
      const ps = [part(1, big(0, 1)), part(2, Buffer.alloc(MIN - 1, 2)), part(3, Buffer.alloc(1, 3))];
      const all = stored(ps);
      assert.throws(
        () =>
          assembleParts(
            upload(),
            all,
            all.map((p) => asked(p)),
            MIN,
          ),
        s3('EntityTooSmall', {
          ProposedSize: String(MIN - 1),
          MinSizeAllowed: String(MIN),
          PartNumber: '2',
          ETag: all[1].etag,
        }),
      );
    });

    it('EntityTooSmall names the first small part; the last part may be any size, even empty', () => {
      const all = stored([part(1, Buffer.alloc(3, 1)), part(2, Buffer.alloc(2, 2)), part(3, Buffer.alloc(0))]);
      assert.throws(
        () =>
          assembleParts(
            upload(),
            all,
            all.map((p) => asked(p)),
            MIN,
          ),
        s3('EntityTooSmall', { ProposedSize: '3', MinSizeAllowed: String(MIN), PartNumber: '1', ETag: all[0].etag }),
      );
      const ok = stored([part(1, Buffer.alloc(MIN, 1)), part(2, Buffer.alloc(0))]);
      assert.equal(
        assembleParts(
          upload(),
          ok,
          ok.map((p) => asked(p)),
          MIN,
        ).size,
        MIN,
      );
      const single = stored([part(1, Buffer.alloc(1, 1))]);
      assert.equal(
        assembleParts(
          upload(),
          single,
          single.map((p) => asked(p)),
          MIN,
        ).size,
        1,
      );
    });

    it('checks the size of the parts asked for, not of stored parts left out', () => {
      const all = stored([part(1, big(0, 1)), part(2, Buffer.alloc(1, 2)), part(3, big(0, 3))]);
      const a = assembleParts(upload(), all, [asked(all[0]), asked(all[2])], MIN);
      assert.deepEqual(
        a.parts.map((p) => p.partNumber),
        [1, 3],
      );
    });

    it('defaults to a 5 MiB minimum', () => {
      assert.equal(MIN_PART_SIZE, 5 * 1024 * 1024);
      const at: PartRecord = { partNumber: 1, size: MIN_PART_SIZE, etag: md5Hex(Buffer.from('a')), lastModified: 0 };
      const under: PartRecord = { ...at, size: MIN_PART_SIZE - 1 };
      const last: PartRecord = { partNumber: 2, size: 1, etag: md5Hex(Buffer.from('b')), lastModified: 0 };
      assert.equal(assembleParts(upload(), [at, last], [asked(at), asked(last)]).size, MIN_PART_SIZE + 1);
      assert.throws(
        () => assembleParts(upload(), [under, last], [asked(under), asked(last)]),
        s3('EntityTooSmall', {
          ProposedSize: String(MIN_PART_SIZE - 1),
          MinSizeAllowed: String(MIN_PART_SIZE),
          PartNumber: '1',
          ETag: under.etag,
        }),
      );
    });
  });

  describe('results', () => {
    it('size, ETag (MD5 of the binary part MD5s, -N) and parts of a full list', () => {
      const ps = [part(1, randomBytes(MIN)), part(2, randomBytes(MIN + 5)), part(3, randomBytes(7))];
      const all = stored(ps);
      const a = assembleParts(
        upload(),
        all,
        all.map((p) => asked(p)),
        MIN,
      );
      assert.deepEqual(a.parts, all);
      assert.equal(a.size, 2 * MIN + 12);
      const md5s = Buffer.concat(ps.map((p) => createHash('md5').update(p.data).digest()));
      assert.equal(a.etag, `${md5Hex(md5s)}-3`);
      assert.equal(a.checksum, undefined, 'no checksum without an upload algorithm');
    });

    it('a single part still gets the -1 ETag', () => {
      const data = Buffer.from('hello');
      const all = stored([part(1, data)]);
      const a = assembleParts(upload(), all, [asked(all[0])], MIN);
      assert.equal(a.etag, `${md5Hex(createHash('md5').update(data).digest())}-1`);
    });

    it('property: any increasing subset of the stored parts, gaps allowed, assembles from exactly those parts', () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 8 }),
          fc.infiniteStream(fc.boolean()),
          fc.constantFrom<UploadChecksum | undefined>(
            undefined,
            { algorithm: 'CRC32', type: 'FULL_OBJECT' },
            { algorithm: 'CRC32C', type: 'FULL_OBJECT' },
            { algorithm: 'CRC64NVME', type: 'FULL_OBJECT' },
            { algorithm: 'CRC32C', type: 'COMPOSITE' },
            { algorithm: 'SHA256', type: 'COMPOSITE' },
          ),
          fc.integer({ min: 0, max: MIN }),
          (numbers, picks, checksum, lastSize) => {
            numbers.sort((x, y) => x - y);
            const ps = numbers.map((n, i) =>
              part(n, bytesFor(n, i === numbers.length - 1 ? lastSize : MIN + (n % 5)), checksum?.algorithm),
            );
            const choose = numbers.filter(() => picks.next().value as boolean);
            const wanted = (choose.length > 0 ? choose : [numbers[numbers.length - 1]]).map((n) =>
              ps.find((p) => p.partNumber === n)!,
            );
            // Only the last part chosen may be small.
            if (wanted.slice(0, -1).some((p) => p.size < MIN)) return;
            const a = assembleParts(
              upload(checksum),
              stored(ps),
              stored(wanted).map((p) => asked(p, true)),
              MIN,
            );
            assert.deepEqual(a.parts, stored(wanted));
            const bytes = Buffer.concat(wanted.map((p) => p.data));
            assert.equal(a.size, bytes.length);
            const md5s = Buffer.concat(wanted.map((p) => createHash('md5').update(p.data).digest()));
            assert.equal(a.etag, `${md5Hex(md5s)}-${wanted.length}`);
            if (!checksum) {
              assert.equal(a.checksum, undefined);
            } else if (checksum.type === 'FULL_OBJECT') {
              assert.deepEqual(a.checksum, { ...checksum, value: b64(checksum.algorithm, bytes) });
            } else {
              const binary = Buffer.concat(wanted.map((p) => digest(checksum.algorithm, p.data)));
              assert.deepEqual(a.checksum, {
                ...checksum,
                value: `${b64(checksum.algorithm, binary)}-${wanted.length}`,
              });
            }
          },
        ),
        { numRuns: 200 },
      );
    });

    it('a COMPOSITE CRC32C checksum is the CRC32C of the binary part CRCs, -N', () => {
      const ps = [part(1, big(3, 1), 'CRC32C'), part(2, big(0, 2), 'CRC32C'), part(3, Buffer.from('end'), 'CRC32C')];
      const all = stored(ps);
      const a = assembleParts(
        upload({ algorithm: 'CRC32C', type: 'COMPOSITE' }),
        all,
        all.map((p) => asked(p, true)),
        MIN,
      );
      const binary = Buffer.concat(ps.map((p) => u32be(awsCrc32c(p.data))));
      assert.deepEqual(a.checksum, {
        algorithm: 'CRC32C',
        type: 'COMPOSITE',
        value: `${u32be(awsCrc32c(binary)).toString('base64')}-3`,
      });
    });

    it('a FULL_OBJECT CRC64NVME checksum equals the CRC of the whole object, with empty parts too', () => {
      const ps = [
        part(1, randomBytes(MIN + 100), 'CRC64NVME'),
        part(2, randomBytes(MIN), 'CRC64NVME'),
        part(3, Buffer.alloc(0), 'CRC64NVME'),
      ];
      const all = stored(ps);
      const a = assembleParts(
        upload({ algorithm: 'CRC64NVME', type: 'FULL_OBJECT' }),
        all,
        all.map((p) => asked(p)),
        MIN,
      );
      const whole = Buffer.concat(ps.map((p) => p.data));
      assert.deepEqual(a.checksum, {
        algorithm: 'CRC64NVME',
        type: 'FULL_OBJECT',
        value: crc64Sync(whole).toString('base64'),
      });
      assert.equal(a.size, whole.length);
    });
  });
});

describe('checkObjectChecksum', () => {
  function assembled(checksum?: Assembled['checksum']): Assembled {
    return { parts: [], size: 0, etag: 'e-2', checksum };
  }
  const composite = assembled({ algorithm: 'CRC32C', type: 'COMPOSITE', value: 'AAECAw==-2' });
  const full = assembled({ algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: 'AAECAwQFBgc=' });
  const badDigest = (a: string) => s3('BadDigest', {}, `The ${a} you specified did not match the calculated checksum.`);

  it('accepts a composite value with or without its -N suffix', () => {
    checkObjectChecksum(composite, { algorithm: 'CRC32C', value: 'AAECAw==-2' });
    checkObjectChecksum(composite, { algorithm: 'CRC32C', value: 'AAECAw==' });
  });

  it('rejects a composite value with the wrong part count or digest', () => {
    assert.throws(
      () => checkObjectChecksum(composite, { algorithm: 'CRC32C', value: 'AAECAw==-3' }),
      badDigest('crc32c'),
    );
    assert.throws(
      () => checkObjectChecksum(composite, { algorithm: 'CRC32C', value: 'AAECBA==-2' }),
      badDigest('crc32c'),
    );
    assert.throws(
      () => checkObjectChecksum(composite, { algorithm: 'CRC32C', value: 'AAECBA==' }),
      badDigest('crc32c'),
    );
    assert.throws(() => checkObjectChecksum(composite, { algorithm: 'CRC32C', value: '' }), badDigest('crc32c'));
  });

  it('accepts a full-object value only exactly', () => {
    checkObjectChecksum(full, { algorithm: 'CRC64NVME', value: 'AAECAwQFBgc=' });
    assert.throws(
      () => checkObjectChecksum(full, { algorithm: 'CRC64NVME', value: 'AAECAwQFBgc=-2' }),
      badDigest('crc64nvme'),
    );
    assert.throws(
      () => checkObjectChecksum(full, { algorithm: 'CRC64NVME', value: 'AAECAwQFBgg=' }),
      badDigest('crc64nvme'),
    );
  });

  it("rejects another algorithm than the object's, even with the same value", () => {
    assert.throws(
      () => checkObjectChecksum(composite, { algorithm: 'CRC32', value: 'AAECAw==-2' }),
      badDigest('crc32'),
    );
    assert.throws(() => checkObjectChecksum(full, { algorithm: 'CRC32', value: 'AAECAwQFBgc=' }), badDigest('crc32'));
  });

  it('rejects any expected checksum when the object has none', () => {
    assert.throws(() => checkObjectChecksum(assembled(), { algorithm: 'SHA256', value: 'x' }), badDigest('sha256'));
  });

  it('checks what assembleParts computed', () => {
    const ps = [part(1, big(0, 1), 'CRC32'), part(2, Buffer.from('tail'), 'CRC32')];
    const all = stored(ps);
    const a = assembleParts(
      upload({ algorithm: 'CRC32', type: 'FULL_OBJECT' }),
      all,
      all.map((p) => asked(p)),
      MIN,
    );
    checkObjectChecksum(a, { algorithm: 'CRC32', value: b64('CRC32', Buffer.concat(ps.map((p) => p.data))) });
    assert.throws(
      () => checkObjectChecksum(a, { algorithm: 'CRC32', value: b64('CRC32', ps[0].data) }),
      badDigest('crc32'),
    );
  });
});
