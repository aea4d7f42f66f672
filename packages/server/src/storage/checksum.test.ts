import { createHash, randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 as awsCrc32 } from '@aws-crypto/crc32';
import { crc32c as awsCrc32c } from '@aws-crypto/crc32c';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import fc from 'fast-check';
import {
  BodyDigest,
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checksumDigestLength,
  checksumHeaderName,
  combineCrcs,
  compositeChecksum,
  createHasher,
  createSoftwareCrc32,
  isValidChecksumValue,
  multipartEtag,
  parseChecksumAlgorithm,
} from './checksum.ts';

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** The same digest computed by code that is not ours. */
async function reference(a: ChecksumAlgorithm, data: Uint8Array): Promise<Buffer> {
  switch (a) {
    case 'CRC32':
      return u32be(awsCrc32(data));
    case 'CRC32C':
      return u32be(awsCrc32c(data));
    case 'CRC64NVME': {
      const h = new Crc64Nvme();
      h.update(data);
      return Buffer.from(await h.digest());
    }
    case 'SHA1':
      return createHash('sha1').update(data).digest();
    case 'SHA256':
      return createHash('sha256').update(data).digest();
  }
}

function oneShot(a: ChecksumAlgorithm, data: Uint8Array): Buffer {
  const h = createHasher(a);
  h.update(data);
  return h.digest();
}

const CHECK = Buffer.from('123456789');

describe('published check values', () => {
  // From the CRC catalogue (reveng) entries CRC-32/ISO-HDLC, CRC-32/ISCSI and CRC-64/NVME.
  it('CRC32("123456789") = 0xCBF43926', () => {
    assert.equal(oneShot('CRC32', CHECK).toString('hex'), 'cbf43926');
  });
  it('CRC32C("123456789") = 0xE3069283', () => {
    assert.equal(oneShot('CRC32C', CHECK).toString('hex'), 'e3069283');
  });
  it('CRC64NVME("123456789") = 0xAE8B14860A799888', () => {
    assert.equal(oneShot('CRC64NVME', CHECK).toString('hex'), 'ae8b14860a799888');
  });
  it('SHA1 and SHA256 of "abc" (FIPS 180 examples)', () => {
    const abc = Buffer.from('abc');
    assert.equal(oneShot('SHA1', abc).toString('hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
    assert.equal(
      oneShot('SHA256', abc).toString('hex'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
  it('the base64 S3 sends for "hello" is the big-endian digest', async () => {
    const hello = Buffer.from('hello');
    assert.equal(oneShot('CRC32', hello).toString('base64'), 'NhCmhg==');
    for (const a of CHECKSUM_ALGORITHMS) {
      assert.equal(oneShot(a, hello).toString('base64'), (await reference(a, hello)).toString('base64'), a);
    }
  });
  it('empty input', async () => {
    assert.equal(oneShot('CRC32', Buffer.alloc(0)).toString('base64'), 'AAAAAA==');
    assert.equal(oneShot('CRC32C', Buffer.alloc(0)).toString('base64'), 'AAAAAA==');
    assert.equal(oneShot('CRC64NVME', Buffer.alloc(0)).toString('base64'), 'AAAAAAAAAAA=');
    for (const a of CHECKSUM_ALGORITHMS) {
      assert.deepEqual(oneShot(a, Buffer.alloc(0)), await reference(a, Buffer.alloc(0)), a);
    }
  });
});

describe('createHasher', () => {
  for (const a of CHECKSUM_ALGORITHMS) {
    it(`${a} matches an independent implementation for every length 0..300`, async () => {
      const data = randomBytes(301);
      for (let n = 0; n <= 300; n++) {
        const slice = data.subarray(0, n);
        assert.deepEqual(oneShot(a, slice), await reference(a, slice), `${a} length ${n}`);
      }
    });

    it(`${a} gives the same digest whatever the chunking and alignment`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 0, maxLength: 4096 }),
          fc.array(fc.nat({ max: 200 }), { maxLength: 30 }),
          fc.nat({ max: 7 }),
          async (bytes, cuts, offset) => {
            // Copy behind `offset` spare bytes so chunks start at every alignment.
            const backing = new Uint8Array(bytes.length + offset);
            backing.set(bytes, offset);
            const data = backing.subarray(offset);
            const h = createHasher(a);
            let pos = 0;
            for (const cut of cuts) {
              const end = Math.min(data.length, pos + cut);
              h.update(data.subarray(pos, end));
              pos = end;
            }
            h.update(data.subarray(pos));
            assert.deepEqual(h.digest(), await reference(a, bytes));
          },
        ),
        { numRuns: 150 },
      );
    });

    it(`${a} digest has ${checksumDigestLength(a)} bytes`, () => {
      assert.equal(oneShot(a, CHECK).length, checksumDigestLength(a));
    });
  }

  it('the software CRC32 agrees with zlib.crc32 and the reference', () => {
    const data = randomBytes(1 << 20);
    const sw = createSoftwareCrc32();
    for (let pos = 0; pos < data.length; pos += 1000) sw.update(data.subarray(pos, pos + 1000));
    const expected = u32be(awsCrc32(data));
    assert.deepEqual(sw.digest(), expected);
    if (typeof zlib.crc32 === 'function') assert.deepEqual(u32be(zlib.crc32(data)), expected);
  });

  it('throughput over 64 MiB (printed, not asserted)', (t) => {
    const chunk = randomBytes(64 * 1024);
    const total = 64 * 1024 * 1024;
    const lines: string[] = [];
    const measure = (name: string, h: { update(c: Uint8Array): void; digest(): Buffer }) => {
      const start = performance.now();
      for (let done = 0; done < total; done += chunk.length) h.update(chunk);
      h.digest();
      const seconds = (performance.now() - start) / 1000;
      lines.push(`${name} ${(total / 1048576 / seconds).toFixed(0)} MiB/s`);
    };
    measure('MD5', createHash('md5'));
    for (const a of CHECKSUM_ALGORITHMS) measure(a, createHasher(a));
    measure('CRC32 (software)', createSoftwareCrc32());
    t.diagnostic(lines.join(', '));
  });
});

describe('BodyDigest', () => {
  it('computes MD5, size and the requested checksum in one pass', async () => {
    const data = randomBytes(100_003);
    for (const a of CHECKSUM_ALGORITHMS) {
      const d = new BodyDigest(a);
      for (let pos = 0; pos < data.length; pos += 4099) d.update(data.subarray(pos, pos + 4099));
      const md5 = createHash('md5').update(data).digest();
      assert.deepEqual(d.finish(), {
        md5Hex: md5.toString('hex'),
        md5Base64: md5.toString('base64'),
        size: data.length,
        checksum: { algorithm: a, base64: (await reference(a, data)).toString('base64') },
      });
    }
  });

  it('without an algorithm it reports MD5 and size only', () => {
    const d = new BodyDigest();
    d.update(Buffer.from('hello'));
    assert.deepEqual(d.finish(), {
      md5Hex: '5d41402abc4b2a76b9719d911017c592',
      md5Base64: 'XUFAKrxLKna5cZ2REBfFkg==',
      size: 5,
    });
  });

  it('an empty body has the well-known empty MD5', () => {
    const r = new BodyDigest('CRC32').finish();
    assert.equal(r.md5Hex, 'd41d8cd98f00b204e9800998ecf8427e');
    assert.equal(r.size, 0);
    assert.deepEqual(r.checksum, { algorithm: 'CRC32', base64: 'AAAAAA==' });
  });

  it('refuses updates after finish', () => {
    const d = new BodyDigest('SHA256');
    d.finish();
    assert.throws(() => d.update(Buffer.from('x')));
    assert.throws(() => d.finish());
  });
});

describe('names and values', () => {
  it('header names are x-amz-checksum-<lowercase>', () => {
    assert.deepEqual(CHECKSUM_ALGORITHMS.map(checksumHeaderName), [
      'x-amz-checksum-crc32',
      'x-amz-checksum-crc32c',
      'x-amz-checksum-sha1',
      'x-amz-checksum-sha256',
      'x-amz-checksum-crc64nvme',
    ]);
  });

  it('parses algorithm names case-insensitively', () => {
    assert.equal(parseChecksumAlgorithm('crc32'), 'CRC32');
    assert.equal(parseChecksumAlgorithm('Crc32C'), 'CRC32C');
    assert.equal(parseChecksumAlgorithm('sha256'), 'SHA256');
    assert.equal(parseChecksumAlgorithm('CRC64NVME'), 'CRC64NVME');
    assert.equal(parseChecksumAlgorithm('MD5'), undefined);
    assert.equal(parseChecksumAlgorithm('crc32 '), undefined);
    assert.equal(parseChecksumAlgorithm(''), undefined);
  });

  it('accepts a value only when it decodes to the digest length', () => {
    for (const a of CHECKSUM_ALGORITHMS) {
      const good = oneShot(a, CHECK).toString('base64');
      assert.equal(isValidChecksumValue(a, good), true, a);
      assert.equal(isValidChecksumValue(a, good.replace(/=+$/, '')), false, `${a} unpadded`);
      assert.equal(isValidChecksumValue(a, Buffer.alloc(checksumDigestLength(a) + 1).toString('base64')), false);
    }
    assert.equal(isValidChecksumValue('CRC32', 'AAAAAAAA'), false); // 6 bytes
    assert.equal(isValidChecksumValue('CRC32', 'y/Q5Jg=='), true);
    assert.equal(isValidChecksumValue('CRC32', 'y/Q5Jh=='), false); // non-zero trailing bits
    assert.equal(isValidChecksumValue('CRC32', 'y/Q5J*=='), false);
    assert.equal(isValidChecksumValue('CRC32', ''), false);
    assert.equal(isValidChecksumValue('SHA1', oneShot('SHA256', CHECK).toString('base64')), false);
  });
});

describe('multipart checksums', () => {
  const digestOf = (a: ChecksumAlgorithm, data: Uint8Array): string => {
    const h = createHasher(a);
    h.update(data);
    return h.digest().toString('base64');
  };

  for (const a of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    it(`combines ${a} part values into the whole object's value`, () => {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 6 }), (parts) => {
          const whole = Buffer.concat(parts);
          const combined = combineCrcs(
            a,
            parts.map((p) => ({ value: digestOf(a, p), size: p.length })),
          );
          assert.equal(combined, digestOf(a, whole));
        }),
        { numRuns: 200 },
      );
    });
  }

  it('combines across part sizes of gigabytes without reading them', () => {
    // x^(8n) for a 5 GiB part must be computed by squaring, not byte by byte.
    const started = process.hrtime.bigint();
    combineCrcs('CRC64NVME', [
      { value: 'AAAAAAAAAAA=', size: 5 * 1024 ** 3 },
      { value: 'AAAAAAAAAAA=', size: 5 * 1024 ** 3 },
    ]);
    assert.ok(process.hrtime.bigint() - started < 1_000_000_000n);
  });

  it('forms a composite checksum from the binary part checksums, with the part count', () => {
    const p1 = digestOf('SHA256', Buffer.from('part one'));
    const p2 = digestOf('SHA256', Buffer.from('part two'));
    const expected = digestOf('SHA256', Buffer.concat([Buffer.from(p1, 'base64'), Buffer.from(p2, 'base64')]));
    assert.equal(compositeChecksum('SHA256', [p1, p2]), `${expected}-2`);
  });

  it('forms the multipart ETag from the binary part MD5s', () => {
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const expected = createHash('md5')
      .update(Buffer.concat([Buffer.from(md5('a'), 'hex'), Buffer.from(md5('b'), 'hex')]))
      .digest('hex');
    assert.equal(multipartEtag([md5('a'), md5('b')]), `${expected}-2`);
  });
});
