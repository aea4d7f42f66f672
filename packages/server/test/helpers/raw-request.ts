/**
 * Requests an SDK will not send: garbage bodies, odd paths, bodies cut short. They are signed
 * with the AWS signer itself (`@smithy/signature-v4`), so a failure is the server's answer to
 * the input, never a mistake in a home-made signer, and sent over plain node:http or a bare
 * socket so that nothing normalises them on the way.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import { CREDENTIALS } from './world.ts';

export interface RawCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RawRequest {
  method: string;
  /** Exactly as it goes on the request line, already percent-encoded: `/bucket/key`. */
  path: string;
  /** Decoded query parameters; '' for a bare subresource such as `?versioning`. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface SignOptions {
  region?: string;
  credentials?: RawCredentials;
  /** The x-amz-content-sha256 value; the SHA-256 of the body by default. */
  contentSha256?: string;
  date?: Date;
}

/** A signed request, plus what a chunk signer needs to continue the signature chain. */
export interface SignedRequest {
  method: string;
  /** Path and query as sent. */
  target: string;
  headers: Record<string, string>;
  /** The Authorization header's signature: the seed of a chunk signature chain. */
  signature: string;
  /** YYYYMMDDTHHMMSSZ */
  amzDate: string;
  /** date/region/s3/aws4_request */
  scope: string;
  /** Signs a string to sign with this request's signing key (hex HMAC-SHA256). */
  signString(stringToSign: string): Promise<string>;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** node:crypto SHA-256 (HMAC-SHA256 with a secret) in the shape the AWS signer takes. */
class Sha256 implements Checksum {
  readonly #secret: Buffer | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : toBuffer(secret);
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }

  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }

  reset(): void {
    this.#hash = this.#fresh();
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 3986 encoding, as SigV4 wants it for query components. */
function encodeComponent(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function queryString(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([k, v]) => (v === '' ? encodeComponent(k) : `${encodeComponent(k)}=${encodeComponent(v)}`))
    .join('&');
}

/**
 * Signs a request for `endpoint` with SigV4 in the Authorization header. The path is signed
 * as given (S3 does not normalise or double-encode paths), every header given is signed.
 *
 * @example
 * const signed = await signRequest(endpoint, { method: 'PUT', path: '/bucket', body: 'not xml' });
 * const res = await sendRaw(endpoint, signed, 'not xml');
 */
export async function signRequest(endpoint: string, req: RawRequest, opts: SignOptions = {}): Promise<SignedRequest> {
  const url = new URL(endpoint);
  const region = opts.region ?? 'us-east-1';
  const date = opts.date ?? new Date();
  const body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body);
  const headers: Record<string, string> = {
    host: url.host,
    'x-amz-content-sha256': opts.contentSha256 ?? sha256Hex(body),
    ...lowerCased(req.headers ?? {}),
  };
  if (req.body !== undefined && headers['content-length'] === undefined)
    headers['content-length'] = String(body.length);
  const signer = new SignatureV4({
    credentials: opts.credentials ?? CREDENTIALS,
    region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const query = req.query ?? {};
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: req.path,
      query,
      headers,
    },
    { signingDate: date },
  );
  const authorization = String(signed.headers.authorization);
  const match = /Credential=[^/]+\/([^,]+), SignedHeaders=[^,]+, Signature=([0-9a-f]{64})$/.exec(authorization);
  if (!match) throw new Error(`unexpected Authorization header ${authorization}`);
  const qs = queryString(query);
  return {
    method: req.method,
    target: qs === '' ? req.path : `${req.path}?${qs}`,
    headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, String(v)])),
    signature: match[2],
    amzDate: String(signed.headers['x-amz-date']),
    scope: match[1],
    signString: (stringToSign) => signer.sign(stringToSign, { signingDate: date, signingRegion: region }),
  };
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Sends a signed (or hand-made) request over a fresh connection and reads the whole answer. */
export function sendRaw(
  endpoint: string,
  req: { method: string; target: string; headers: Record<string, string> },
  body?: Buffer | string,
  timeoutMs = 10_000,
): Promise<RawResponse> {
  const url = new URL(endpoint);
  return new Promise<RawResponse>((resolve, reject) => {
    const r = httpRequest(
      { host: url.hostname, port: url.port, method: req.method, path: req.target, headers: req.headers, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const buf = Buffer.concat(parts);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, text: buf.toString('utf8') });
        });
      },
    );
    r.setTimeout(timeoutMs, () =>
      r.destroy(new Error(`no answer to ${req.method} ${req.target} within ${timeoutMs} ms`)),
    );
    r.on('error', reject);
    r.end(body);
  });
}

/** Signs and sends in one go. */
export async function rawRequest(endpoint: string, req: RawRequest, opts: SignOptions = {}): Promise<RawResponse> {
  const signed = await signRequest(endpoint, req, opts);
  return sendRaw(endpoint, signed, req.body);
}

/** The request line and headers as they go on the wire, ending with the blank line. */
export function requestHead(req: { method: string; target: string; headers: Record<string, string> }): string {
  return [
    `${req.method} ${req.target} HTTP/1.1`,
    ...Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ].join('\r\n');
}

export interface SocketAnswer {
  /** Everything the server wrote before the connection closed. */
  received: Buffer;
  /** Milliseconds from the last byte sent until the connection closed. */
  closedAfterMs: number;
}

/**
 * Writes `bytes` over a fresh bare socket, then half-closes it (`end`), tears it down after a
 * moment (`destroy`), or keeps it open and silent (`wait`) until the server closes it.
 * Resolves with what the server wrote back once the connection is closed; rejects if it is
 * still open after `timeoutMs`.
 */
export function exchangeRaw(
  endpoint: string,
  bytes: Buffer | string,
  then: 'end' | 'destroy' | 'wait',
  timeoutMs = 10_000,
): Promise<SocketAnswer> {
  const url = new URL(endpoint);
  return new Promise<SocketAnswer>((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const received: Buffer[] = [];
    let sentAt = Date.now();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${timeoutMs} ms (then: ${then})`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(received), closedAfterMs: Date.now() - sentAt });
    });
    socket.on('connect', () => {
      socket.write(bytes, () => {
        sentAt = Date.now();
        if (then === 'end') socket.end();
        // Give the bytes a moment on the wire so the server is mid-body when the peer vanishes.
        else if (then === 'destroy') setTimeout(() => socket.destroy(), 50);
      });
    });
  });
}

/**
 * Sends the request line, headers and `partial` bytes of body over a bare socket, then either
 * half-closes the connection (`end`: the client says it has nothing more to send), tears it
 * down (`destroy`: the client vanished) or stalls (`stall`: the client stays connected and
 * sends nothing more). Resolves with whatever the server wrote back before the connection
 * closed, or '' when it wrote nothing; rejects if it stays open for `timeoutMs`.
 */
export async function sendTruncated(
  endpoint: string,
  req: { method: string; target: string; headers: Record<string, string> },
  partial: Buffer,
  how: 'end' | 'destroy' | 'stall',
  timeoutMs = 10_000,
): Promise<string> {
  const bytes = Buffer.concat([Buffer.from(requestHead(req)), partial]);
  try {
    const { received } = await exchangeRaw(endpoint, bytes, how === 'stall' ? 'wait' : how, timeoutMs);
    return received.toString('utf8');
  } catch (err) {
    throw new Error(`truncated ${req.method} ${req.target}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Sends a request whose body goes out in `parts`, `intervalMs` apart, over a fresh connection
 * (a slow but steady client), and reads the whole answer.
 */
export function sendPaced(
  endpoint: string,
  req: { method: string; target: string; headers: Record<string, string> },
  parts: readonly Buffer[],
  intervalMs: number,
  timeoutMs = 30_000,
): Promise<RawResponse> {
  const url = new URL(endpoint);
  return new Promise<RawResponse>((resolve, reject) => {
    const r = httpRequest(
      { host: url.hostname, port: url.port, method: req.method, path: req.target, headers: req.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, text: buf.toString('utf8') });
        });
      },
    );
    r.setTimeout(timeoutMs, () =>
      r.destroy(new Error(`no answer to ${req.method} ${req.target} within ${timeoutMs} ms`)),
    );
    r.on('error', reject);
    r.flushHeaders();
    let i = 0;
    const next = (): void => {
      if (r.destroyed) return;
      if (i === parts.length) {
        r.end();
        return;
      }
      r.write(parts[i++]);
      setTimeout(next, intervalMs);
    };
    setTimeout(next, intervalMs);
  });
}

/**
 * Parses the first HTTP/1.1 response in bytes read off a bare socket (a Content-Length body,
 * as every S3 error has). `rest` is whatever followed it: a second, unasked-for response
 * would be there.
 */
export function parseRawResponse(raw: Buffer | string): RawResponse & { rest: Buffer } {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
  const headEnd = bytes.indexOf('\r\n\r\n');
  assert.ok(headEnd !== -1, `not a complete HTTP response: ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`);
  const [statusLine, ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
  assert.ok(status, `not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    assert.ok(colon > 0, `not a header line: ${JSON.stringify(line)}`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const start = headEnd + 4;
  const length = headers['content-length'] === undefined ? bytes.length - start : Number(headers['content-length']);
  assert.ok(
    start + length <= bytes.length,
    `the body is cut short: ${length} bytes announced, ${bytes.length - start} sent`,
  );
  const body = bytes.subarray(start, start + length);
  return {
    status: Number(status[1]),
    headers,
    body,
    text: body.toString('utf8'),
    rest: bytes.subarray(start + length),
  };
}

export interface S3ErrorBody {
  code?: string;
  message?: string;
  requestId?: string;
  /** Every simple child element of <Error>. */
  fields: Record<string, string>;
}

const XML_ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&apos;': "'" };

/** Reads an S3 `<Error>` document; fields are undefined when the body is not one. */
export function parseErrorBody(text: string): S3ErrorBody {
  const inner = /<Error>([\s\S]*)<\/Error>/.exec(text)?.[1] ?? '';
  const fields: Record<string, string> = {};
  for (const m of inner.matchAll(/<([A-Za-z0-9-]+)>([^<]*)<\/\1>/g)) {
    fields[m[1]] = m[2].replace(/&(lt|gt|amp|quot|apos);/g, (e) => XML_ENTITIES[e]);
  }
  return { code: fields.Code, message: fields.Message, requestId: fields.RequestId, fields };
}

/**
 * Asserts a raw response is exactly this S3 error: status, XML `<Code>`, and a request id that
 * is both in the `x-amz-request-id` header and the body's `<RequestId>`.
 */
export function assertS3Error(res: RawResponse, code: string, status: number): S3ErrorBody {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  const e = parseErrorBody(res.text);
  assert.equal(e.code, code, res.text);
  assert.match(String(res.headers['content-type']), /xml/);
  const requestId = res.headers['x-amz-request-id'];
  assert.ok(requestId, 'every error carries x-amz-request-id');
  assert.equal(e.requestId, requestId, 'the body names the same request id as the header');
  return e;
}
