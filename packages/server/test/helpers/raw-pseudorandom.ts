/**
 * Deterministic pseudo-random bytes of any size, made on the fly: AES-128-CTR over zeros,
 * keyed by a seed. CTR mode makes every offset directly addressable, so a test can stream a
 * 100 MiB body, then check a download or a range against the same bytes without ever
 * holding the object in memory.
 */
import { createCipheriv, createHash, type Cipher } from 'node:crypto';
import { Readable } from 'node:stream';

const BLOCK = 16;

export class PseudoRandomBytes {
  readonly #key: Buffer;

  constructor(seed: string) {
    this.#key = createHash('sha256').update(seed).digest().subarray(0, 16);
  }

  /** A keystream positioned at `offset`. */
  #cipherAt(offset: number): { cipher: Cipher; skip: number } {
    const block = Math.floor(offset / BLOCK);
    const iv = Buffer.alloc(BLOCK);
    iv.writeBigUInt64BE(BigInt(block), 8);
    return { cipher: createCipheriv('aes-128-ctr', this.#key, iv), skip: offset - block * BLOCK };
  }

  /** Bytes [start, end): for ranges, so small enough to hold. */
  slice(start: number, end: number): Buffer {
    const { cipher, skip } = this.#cipherAt(start);
    return cipher.update(Buffer.alloc(end - start + skip)).subarray(skip);
  }

  /** `size` bytes as a stream of `chunkSize` pieces, generated as they are read. */
  stream(size: number, chunkSize = 64 * 1024): Readable {
    const { cipher } = this.#cipherAt(0);
    const zeros = Buffer.alloc(chunkSize);
    let produced = 0;
    return new Readable({
      read() {
        if (produced >= size) {
          this.push(null);
          return;
        }
        const n = Math.min(chunkSize, size - produced);
        produced += n;
        this.push(cipher.update(n === chunkSize ? zeros : zeros.subarray(0, n)));
      },
    });
  }

  /**
   * Compares bytes as they arrive, in order, with the generator's: `update` returns the offset
   * of the first differing byte, or -1.
   */
  verifier(): { update(chunk: Uint8Array): number; readonly offset: number } {
    const { cipher } = this.#cipherAt(0);
    let zeros = Buffer.alloc(0);
    let offset = 0;
    return {
      update(chunk: Uint8Array): number {
        if (zeros.length < chunk.length) zeros = Buffer.alloc(chunk.length);
        const expected = cipher.update(zeros.subarray(0, chunk.length));
        const got = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        const start = offset;
        offset += chunk.length;
        if (expected.equals(got)) return -1;
        for (let i = 0; i < chunk.length; i++) if (expected[i] !== got[i]) return start + i;
        return start;
      },
      get offset() {
        return offset;
      },
    };
  }
}
