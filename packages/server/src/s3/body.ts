import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { S3Error } from '../core/errors.ts';
import { createChunkedDecoder } from './auth/chunked.ts';
import type { SignedRequest } from './auth/sigv4.ts';

/**
 * The request payload as the client meant it: aws-chunked framing removed and verified, the
 * signed SHA-256 checked, trailers collected. Bytes stream through; nothing is buffered whole.
 */
export interface RequestBody {
  stream: Readable;
  /** The decoded length the client announced (Content-Length or x-amz-decoded-content-length). */
  length?: number;
  /** Trailing headers (e.g. `x-amz-checksum-crc32`), complete once `stream` has ended. */
  trailers(): Record<string, string>;
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function intHeader(req: IncomingMessage, name: string): number | undefined {
  const raw = req.headers[name];
  if (raw === undefined || Array.isArray(raw)) return undefined;
  // Digits only, and a number exactly representable (past 2^53 a length is not a length).
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new S3Error('InvalidArgument', `Invalid ${name} header`);
  }
  return Number(raw);
}

export function requestBody(req: IncomingMessage, auth: SignedRequest): RequestBody {
  const payload = auth.payload;
  if (payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer') {
    const decodedLength = intHeader(req, 'x-amz-decoded-content-length');
    if (decodedLength === undefined && payload.kind === 'streaming-signed') {
      throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.');
    }
    const decoder = createChunkedDecoder({
      signing:
        payload.kind === 'streaming-signed'
          ? {
              signingKey: auth.signingKey,
              seedSignature: auth.signature,
              amzDate: auth.amzDate,
              scope: auth.scope,
            }
          : undefined,
      trailer: payload.kind === 'streaming-unsigned-trailer' || payload.trailer,
      decodedLength,
    });
    req.on('error', (err) => decoder.destroy(err));
    // A bad chunk may fail the decoder before anyone reads it; keep the error for the reader
    // (it is in `errored` and rethrown by iteration) instead of throwing inside the HTTP parser.
    decoder.on('error', () => undefined);
    req.pipe(decoder);
    return { stream: decoder, length: decodedLength, trailers: () => decoder.trailers };
  }
  const length = intHeader(req, 'content-length');
  if (payload.kind === 'sha256' && payload.hex !== EMPTY_SHA256) {
    const check = new Sha256Check(payload.hex);
    req.on('error', (err) => check.destroy(err));
    check.on('error', () => undefined);
    req.pipe(check);
    return { stream: check, length, trailers: () => ({}) };
  }
  return { stream: req, length, trailers: () => ({}) };
}

/** Passes bytes through and fails at the end if they do not hash to the signed SHA-256. */
class Sha256Check extends Transform {
  readonly #hash = createHash('sha256');
  readonly #expected: string;

  constructor(expected: string) {
    super();
    this.#expected = expected.toLowerCase();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const actual = this.#hash.digest('hex');
    if (actual !== this.#expected) {
      cb(
        new S3Error('XAmzContentSHA256Mismatch', undefined, {
          fields: { ClientComputedContentSHA256: this.#expected, S3ComputedContentSHA256: actual },
        }),
      );
      return;
    }
    cb();
  }
}

/**
 * Reads a small request body (an XML or JSON document) into a string. More than `limit` bytes
 * is MaxMessageLengthExceeded, as S3 answers: refused before a byte is read when the declared
 * length says so, else as soon as the limit is passed.
 */
export async function readSmallBody(body: RequestBody, limit = 1024 * 1024): Promise<string> {
  if (body.length !== undefined && body.length > limit) throw new S3Error('MaxMessageLengthExceeded');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body.stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new S3Error('MaxMessageLengthExceeded');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
