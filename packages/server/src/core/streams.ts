import { Readable } from 'node:stream';

/** Reads a stream in pieces of at most a given size, keeping what is left of each chunk. */
export class ByteReader {
  readonly #it: AsyncIterator<Buffer>;
  #left: Buffer | undefined;

  constructor(stream: Readable) {
    this.#it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** Up to `max` bytes, or undefined at the end of the stream. */
  async read(max: number): Promise<Buffer | undefined> {
    let chunk = this.#left;
    this.#left = undefined;
    while (!chunk || chunk.length === 0) {
      const next = await this.#it.next();
      if (next.done) return undefined;
      chunk = next.value;
    }
    if (chunk.length > max) {
      this.#left = chunk.subarray(max);
      return chunk.subarray(0, max);
    }
    return chunk;
  }

  /** Exactly `n` bytes (fewer only if the stream ends first). */
  async readExactly(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const chunk = await this.read(n - got);
      if (!chunk) break;
      parts.push(chunk);
      got += chunk.length;
    }
    return Buffer.concat(parts, got);
  }

  /** What has not been read yet, as a stream. */
  rest(): Readable {
    const next = () => this.read(Infinity);
    return Readable.from(
      (async function* () {
        for (let chunk = await next(); chunk; chunk = await next()) yield chunk;
      })(),
      { objectMode: false },
    );
  }
}
