/**
 * Decoder for `Content-Encoding: aws-chunked` request bodies (SigV4 streaming uploads).
 *
 * Wire format, after any HTTP transfer-encoding has been removed by node:
 *
 *   <hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n      (repeated)
 *   0[;chunk-signature=<sig>]\r\n                          (final, empty chunk)
 *   <name>:<value>\r\n ...                                 (trailer mode only)
 *   x-amz-trailer-signature:<sig>\r\n                      (signed trailer mode only)
 *   \r\n
 *
 * Without trailers the final chunk is simply followed by the empty line, so one grammar
 * covers all four variants: after the zero-size chunk, read lines until an empty one.
 *
 * Data is passed through as slices of the incoming buffers, never copied or concatenated.
 * A chunk's signature can only be checked once all its data has gone by, so consumers see
 * bytes before they are verified: they must treat the object as uncommitted until the
 * stream ends without error (which they have to do anyway for truncated uploads).
 *
 * Errors are those AWS gives: any framing problem is IncompleteBody ("The request body
 * terminated unexpectedly"), a wrong chunk or trailer signature SignatureDoesNotMatch, a short
 * non-final chunk in a signed stream InvalidChunkSizeError, and a total that differs from
 * x-amz-decoded-content-length IncompleteBody with the expected and provided byte counts.
 */

import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../../core/errors.ts';
import { ALGORITHM, EMPTY_SHA256, hmacHex, sha256Hex, signaturesEqual } from './signing.ts';

export interface ChunkedDecoderOptions {
  /** Present for STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]; from the authenticated request. */
  signing?: { signingKey: Buffer; seedSignature: string; amzDate: string; scope: string };
  /** A trailer section is expected (…-TRAILER variants). */
  trailer: boolean;
  /** From x-amz-decoded-content-length, when given: a non-negative integer (else TypeError). */
  decodedLength?: number;
}

export interface ChunkedDecoder extends Transform {
  /** Trailing headers, lower-cased names (e.g. `x-amz-checksum-crc32`); complete at 'end'. */
  readonly trailers: Record<string, string>;
}

/**
 * @example
 * const decoder = createChunkedDecoder({ trailer: true, decodedLength: 5 });
 * await pipeline(req, decoder, fileSink);
 * decoder.trailers['x-amz-checksum-crc32']; // the caller compares it with its own CRC
 */
export function createChunkedDecoder(opts: ChunkedDecoderOptions): ChunkedDecoder {
  const { decodedLength } = opts;
  if (decodedLength !== undefined && !(Number.isSafeInteger(decodedLength) && decodedLength >= 0)) {
    // The caller parses x-amz-decoded-content-length and answers the client about a bad one.
    throw new TypeError(`decodedLength must be a non-negative integer, got ${decodedLength}`);
  }
  return new AwsChunkedDecoder(opts);
}

/** Longest chunk-header or trailer line accepted, CRLF included. */
const MAX_LINE = 4096;
/** Trailer lines accepted; S3 sends one checksum. */
const MAX_TRAILERS = 32;
/** AWS: "Only the last chunk is allowed to have a size less than 8192 bytes". */
const MIN_SIGNED_CHUNK = 8192;
const CHUNK_SIGNATURE = 'chunk-signature=';
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';
const CR = 0x0d;
const LF = 0x0a;

/**
 * Parser states: 'header' reads a `<hex-size>[;chunk-signature=…]` line, 'data' passes chunk
 * data through, 'cr'/'lf' expect the CRLF after the data, 'trailer' reads lines after the
 * zero-size chunk until an empty one, and 'done' accepts nothing more.
 */
type State = 'header' | 'data' | 'cr' | 'lf' | 'trailer' | 'done';

function truncated(): S3Error {
  return new S3Error('IncompleteBody', 'The request body terminated unexpectedly');
}

class AwsChunkedDecoder extends Transform implements ChunkedDecoder {
  readonly #signing: ChunkedDecoderOptions['signing'];
  readonly #trailerExpected: boolean;
  readonly #decodedLength: number | undefined;

  #state: State = 'header';
  /** The line being assembled; only lines (never data) are copied. */
  readonly #line = Buffer.allocUnsafe(MAX_LINE);
  #lineLength = 0;

  /** Data bytes still to come in the current chunk. */
  #remaining = 0;
  #chunkHash: Hash | undefined;
  #chunkSignature = '';
  #previousSignature: string;
  /** 1-based number of the chunk header being read, for InvalidChunkSizeError. */
  #chunkNumber = 0;
  #previousChunkSize = 0;
  #total = 0;

  /** Null prototype: a trailer named `__proto__` or `constructor` is just data. */
  readonly #trailers: Record<string, string> = Object.create(null) as Record<string, string>;
  #trailerCount = 0;
  /** `name:value\n` per trailer, in arrival order: what the trailer signature covers. */
  #canonicalTrailers = '';
  #trailerSignature: string | undefined;

  constructor(opts: ChunkedDecoderOptions) {
    super();
    this.#signing = opts.signing;
    this.#trailerExpected = opts.trailer;
    this.#decodedLength = opts.decodedLength;
    this.#previousSignature = opts.signing?.seedSignature ?? '';
  }

  get trailers(): Record<string, string> {
    return this.#trailers;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#consume(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.#state === 'done' ? null : truncated());
  }

  #consume(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      switch (this.#state) {
        case 'header':
        case 'trailer': {
          const lf = chunk.indexOf(LF, pos);
          const end = lf < 0 ? chunk.length : lf + 1;
          if (this.#lineLength + (end - pos) > MAX_LINE) throw truncated();
          chunk.copy(this.#line, this.#lineLength, pos, end);
          this.#lineLength += end - pos;
          pos = end;
          if (lf >= 0) this.#onLine();
          break;
        }
        case 'data': {
          const n = Math.min(this.#remaining, chunk.length - pos);
          const slice = chunk.subarray(pos, pos + n);
          this.#chunkHash?.update(slice);
          this.push(slice);
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) {
            if (this.#signing !== undefined && this.#chunkHash !== undefined) {
              this.#verifyChunk(this.#chunkHash.digest('hex'));
            }
            this.#chunkHash = undefined;
            this.#state = 'cr';
          }
          break;
        }
        case 'cr':
          if (chunk[pos++] !== CR) throw truncated();
          this.#state = 'lf';
          break;
        case 'lf':
          if (chunk[pos++] !== LF) throw truncated();
          this.#state = 'header';
          break;
        case 'done':
          // Bytes after the terminating empty line: the framing lied about where it ends.
          throw truncated();
      }
    }
  }

  /** A complete line (ending in LF) is in #line. */
  #onLine(): void {
    const length = this.#lineLength;
    this.#lineLength = 0;
    if (length < 2 || this.#line[length - 2] !== CR) throw truncated();
    // Header and trailer lines are ASCII metadata; latin1 maps bytes 1:1 without validation.
    const text = this.#line.toString('latin1', 0, length - 2);
    if (this.#state === 'header') this.#onChunkHeader(text);
    else this.#onTrailerLine(text);
  }

  #onChunkHeader(text: string): void {
    const semicolon = text.indexOf(';');
    const sizeText = semicolon < 0 ? text : text.slice(0, semicolon);
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw truncated();
    const size = parseInt(sizeText, 16);
    if (!Number.isSafeInteger(size)) throw truncated();

    if (this.#signing !== undefined) {
      const extension = semicolon < 0 ? '' : text.slice(semicolon + 1);
      if (!extension.startsWith(CHUNK_SIGNATURE)) throw truncated();
      const signature = extension.slice(CHUNK_SIGNATURE.length);
      if (!/^[0-9a-f]{64}$/.test(signature)) throw truncated();
      this.#chunkSignature = signature;
    }
    // Unsigned variants: any chunk extension is ignored.

    this.#chunkNumber++;
    if (
      this.#signing !== undefined &&
      size > 0 &&
      this.#chunkNumber > 1 &&
      this.#previousChunkSize < MIN_SIGNED_CHUNK
    ) {
      // AWS reports the chunk being read when it notices, and the size of the short one before it.
      throw new S3Error('InvalidChunkSizeError', undefined, {
        fields: { Chunk: String(this.#chunkNumber), BadChunkSize: String(this.#previousChunkSize) },
      });
    }
    this.#previousChunkSize = size;

    if (this.#decodedLength !== undefined && this.#total + size > this.#decodedLength) {
      throw this.#lengthMismatch(this.#total + size);
    }
    this.#total += size;

    if (size === 0) {
      if (this.#decodedLength !== undefined && this.#total !== this.#decodedLength) {
        throw this.#lengthMismatch(this.#total);
      }
      if (this.#signing !== undefined) this.#verifyChunk(EMPTY_SHA256);
      this.#state = 'trailer';
      return;
    }
    this.#remaining = size;
    this.#chunkHash = this.#signing !== undefined ? createHash('sha256') : undefined;
    this.#state = 'data';
  }

  #onTrailerLine(text: string): void {
    if (text === '') {
      if (this.#signing !== undefined && this.#trailerExpected) this.#verifyTrailer();
      this.#state = 'done';
      return;
    }
    if (!this.#trailerExpected) throw truncated();
    // Nothing may follow the trailer signature but the empty line.
    if (this.#trailerSignature !== undefined) throw truncated();

    const colon = text.indexOf(':');
    if (colon <= 0) throw truncated();
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (name === '') throw truncated();

    if (name === TRAILER_SIGNATURE) {
      // Only meaningful for signed streams; an unsigned stream's stray signature is ignored.
      if (this.#signing !== undefined) this.#trailerSignature = value;
      return;
    }
    if (++this.#trailerCount > MAX_TRAILERS) throw truncated();
    this.#trailers[name] = value;
    this.#canonicalTrailers += `${name}:${value}\n`;
  }

  #verifyChunk(dataHash: string): void {
    const signing = this.#signing;
    if (signing === undefined) return;
    const stringToSign = [
      `${ALGORITHM}-PAYLOAD`,
      signing.amzDate,
      signing.scope,
      this.#previousSignature,
      EMPTY_SHA256,
      dataHash,
    ].join('\n');
    if (!signaturesEqual(hmacHex(signing.signingKey, stringToSign), this.#chunkSignature)) {
      throw new S3Error('SignatureDoesNotMatch');
    }
    this.#previousSignature = this.#chunkSignature;
  }

  #verifyTrailer(): void {
    const signing = this.#signing;
    if (signing === undefined) return;
    if (this.#trailerSignature === undefined) throw truncated();
    const stringToSign = [
      `${ALGORITHM}-TRAILER`,
      signing.amzDate,
      signing.scope,
      this.#previousSignature,
      sha256Hex(Buffer.from(this.#canonicalTrailers, 'latin1')),
    ].join('\n');
    if (!signaturesEqual(hmacHex(signing.signingKey, stringToSign), this.#trailerSignature)) {
      throw new S3Error('SignatureDoesNotMatch');
    }
  }

  #lengthMismatch(provided: number): S3Error {
    return new S3Error('IncompleteBody', undefined, {
      fields: { NumberBytesExpected: String(this.#decodedLength), NumberBytesProvided: String(provided) },
    });
  }
}
