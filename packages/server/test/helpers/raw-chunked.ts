/**
 * aws-chunked request bodies (SigV4 streaming uploads), written the way the AWS spec
 * describes them:
 *
 *   <hex-size>;chunk-signature=<sig>\r\n<data>\r\n   ... 0;chunk-signature=<sig>\r\n
 *   then `\r\n` (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), or trailer lines, an
 *   `x-amz-trailer-signature:<sig>\r\n` line and `\r\n` (…-PAYLOAD-TRAILER).
 *
 * chunk string to sign:   AWS4-HMAC-SHA256-PAYLOAD\n<amzDate>\n<scope>\n<prev-sig>\n<sha256("")>\n<sha256(chunk)>
 * trailer string to sign: AWS4-HMAC-SHA256-TRAILER\n<amzDate>\n<scope>\n<prev-sig>\n<sha256(trailer lines)>
 *
 * The first prev-sig is the seed: the Authorization header's signature, computed with
 * x-amz-content-sha256 set to the streaming constant and x-amz-decoded-content-length signed.
 */
import { signRequest, sha256Hex, type SignedRequest, type SignOptions } from './raw-request.ts';

export const STREAMING_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_PAYLOAD_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

const EMPTY_SHA256 = sha256Hex('');
const SIGNATURE_HEX = 64;

function chunkSizes(total: number, chunkSize: number): number[] {
  const sizes: number[] = [];
  for (let off = 0; off < total; off += chunkSize) sizes.push(Math.min(chunkSize, total - off));
  return sizes;
}

/** Trailer lines as they are hashed for the trailer signature: `name:value\n` each. */
function canonicalTrailers(trailers: Record<string, string>): string {
  return Object.entries(trailers)
    .map(([k, v]) => `${k}:${v}\n`)
    .join('');
}

/** Byte length of the signed encoding, which goes in the (signed) Content-Length. */
export function signedEncodedLength(dataLength: number, chunkSize: number, trailers?: Record<string, string>): number {
  const header = (size: number) => size.toString(16).length + ';chunk-signature='.length + SIGNATURE_HEX + 2;
  let n = 0;
  for (const size of chunkSizes(dataLength, chunkSize)) n += header(size) + size + 2;
  n += header(0);
  if (trailers) {
    for (const [k, v] of Object.entries(trailers)) n += k.length + 1 + v.length + 2;
    n += 'x-amz-trailer-signature:'.length + SIGNATURE_HEX + 2;
  }
  return n + 2;
}

export interface SignedChunkedOptions {
  chunkSize: number;
  /**
   * Trailing headers, e.g. `{ 'x-amz-checksum-crc32': '...' }`: makes it a …-TRAILER upload
   * (`{}` is one whose trailer section holds only the signature). Announced in x-amz-trailer
   * unless `headers` names another.
   */
  trailers?: Record<string, string>;
  /** Changes a chunk's bytes after it was signed, as a corrupting proxy would. */
  tamper?: (index: number, chunk: Buffer) => Buffer;
  /** Trailers sent in place of the signed `trailers` (same length), as a corrupting proxy would. */
  sendTrailers?: Record<string, string>;
}

/** Encodes `data` with a chunk signature chain seeded by `seed`. */
export async function encodeSignedChunks(
  seed: SignedRequest,
  data: Buffer,
  opts: SignedChunkedOptions,
): Promise<Buffer> {
  const out: Buffer[] = [];
  let previous = seed.signature;
  const signChunk = async (chunk: Buffer): Promise<string> => {
    const stringToSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      seed.amzDate,
      seed.scope,
      previous,
      EMPTY_SHA256,
      sha256Hex(chunk),
    ].join('\n');
    previous = await seed.signString(stringToSign);
    return previous;
  };
  let offset = 0;
  let index = 0;
  for (const size of chunkSizes(data.length, opts.chunkSize)) {
    const chunk = data.subarray(offset, offset + size);
    offset += size;
    const signature = await signChunk(chunk);
    const sent = opts.tamper ? opts.tamper(index, Buffer.from(chunk)) : chunk;
    out.push(Buffer.from(`${size.toString(16)};chunk-signature=${signature}\r\n`), sent, Buffer.from('\r\n'));
    index++;
  }
  out.push(Buffer.from(`0;chunk-signature=${await signChunk(Buffer.alloc(0))}\r\n`));
  if (opts.trailers) {
    const lines = canonicalTrailers(opts.trailers);
    const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', seed.amzDate, seed.scope, previous, sha256Hex(lines)].join('\n');
    const trailerSignature = await seed.signString(stringToSign);
    const sent = canonicalTrailers(opts.sendTrailers ?? opts.trailers);
    out.push(Buffer.from(sent.replace(/\n/g, '\r\n')), Buffer.from(`x-amz-trailer-signature:${trailerSignature}\r\n`));
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

export interface StreamingPut {
  signed: SignedRequest;
  body: Buffer;
}

/**
 * A complete signed streaming PutObject: headers signed with the streaming constant as
 * payload hash, then the chunk-signed body.
 *
 * @example
 * const { signed, body } = await signedStreamingPut(endpoint, '/bucket/key', data, { chunkSize: 65536 });
 * const res = await sendRaw(endpoint, signed, body);
 */
export async function signedStreamingPut(
  endpoint: string,
  path: string,
  data: Buffer,
  opts: SignedChunkedOptions & { headers?: Record<string, string>; sign?: SignOptions },
): Promise<StreamingPut> {
  const headers: Record<string, string> = {
    'content-encoding': 'aws-chunked',
    'content-length': String(signedEncodedLength(data.length, opts.chunkSize, opts.trailers)),
    'x-amz-decoded-content-length': String(data.length),
    ...opts.headers,
  };
  // An x-amz-trailer given in `headers` wins: a test can announce a trailer it then does not send.
  if (opts.trailers && opts.headers?.['x-amz-trailer'] === undefined) {
    headers['x-amz-trailer'] = Object.keys(opts.trailers).join(',');
  }
  const signed = await signRequest(
    endpoint,
    { method: 'PUT', path, headers },
    { ...opts.sign, contentSha256: opts.trailers ? STREAMING_PAYLOAD_TRAILER : STREAMING_PAYLOAD },
  );
  const body = await encodeSignedChunks(signed, data, opts);
  if (body.length !== Number(headers['content-length'])) {
    throw new Error(`encoded ${body.length} bytes, announced ${headers['content-length']}`);
  }
  return { signed, body };
}

/**
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER framing: no chunk signatures, trailer lines verbatim
 * (so a test can send a missing or mismatched trailer).
 */
export function encodeUnsignedChunks(data: Buffer, chunkSize: number, trailerLines: readonly string[]): Buffer {
  const out: Buffer[] = [];
  let offset = 0;
  for (const size of chunkSizes(data.length, chunkSize)) {
    out.push(Buffer.from(`${size.toString(16)}\r\n`), data.subarray(offset, offset + size), Buffer.from('\r\n'));
    offset += size;
  }
  out.push(Buffer.from('0\r\n'));
  for (const line of trailerLines) out.push(Buffer.from(`${line}\r\n`));
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}
