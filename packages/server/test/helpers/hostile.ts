/**
 * What the hostile-input suites (test/hostile-*.test.ts) share: a one-region world whose log is
 * watched for internal errors, a raw socket exchange that notices a hang, the shape every S3
 * error answer must have, and sentinel objects that must come out of every property exactly as
 * they went in.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createLogger } from '../../src/core/log.ts';
import type { WorldOptions } from '../../src/cli/world.ts';
import { parseErrorBody, type RawResponse, type S3ErrorBody } from './raw-request.ts';
import { startTestWorld, type TestWorld } from './world.ts';

export interface HostileWorld extends TestWorld {
  endpointUrl: string;
  s3: S3Client;
  /** Every log line the world wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** The raw log text, as an operator would read it. */
  logText(): string;
  /** Fails if the server logged an internal error (a 500, or a failure after the answer began). */
  assertNoInternalErrors(): void;
  /** Passes over what was logged so far (after a known failure, so the next check starts clean). */
  skipLogs(): void;
}

/** A world of one region (us-east-1) whose log lines are kept for the test to read. */
export async function startHostileWorld(
  opts: Partial<WorldOptions> & { dataDir?: string; logLevel?: string } = {},
): Promise<HostileWorld> {
  const lines: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: opts.logLevel ?? 'warn',
    format: 'json',
    destination: {
      write(line: string) {
        lines.push(line);
        logs.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  const w = await startTestWorld({ regions: [{ name: 'us-east-1', port: 0 }], globalPort: undefined, logger, ...opts });
  const s3 = w.client('us-east-1');
  let checked = 0;
  return Object.assign(w, {
    endpointUrl: w.endpoint('us-east-1'),
    s3,
    logs,
    logText: () => lines.join(''),
    skipLogs() {
      checked = logs.length;
    },
    assertNoInternalErrors() {
      const fresh = logs.slice(checked);
      checked = logs.length;
      const internal = fresh.filter((l) => l.msg === 'internal error' || Number(l.level) >= 50);
      assert.deepEqual(
        internal.map((l) => ({ msg: l.msg, err: l.err })),
        [],
        'the server logged an internal error (a 500 in disguise)',
      );
    },
  });
}

export interface WireRequest {
  method: string;
  /** Path and query exactly as they go on the request line. */
  target: string;
  /** In order; names and values go on the wire as latin1 bytes, unvalidated. */
  headers: ReadonlyArray<readonly [string, string]> | Record<string, string>;
  body?: Buffer;
}

/** The request's bytes: request line, headers (latin1, as given), blank line, body. */
export function wireBytes(req: WireRequest): Buffer {
  const headers = Array.isArray(req.headers) ? req.headers : Object.entries(req.headers);
  const head = [`${req.method} ${req.target} HTTP/1.1`, ...headers.map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  return req.body ? Buffer.concat([Buffer.from(head, 'latin1'), req.body]) : Buffer.from(head, 'latin1');
}

export class HangError extends Error {}

/**
 * Writes `bytes` over a fresh connection and resolves with the first whole response (a
 * Content-Length body, or none for HEAD), or with what was received when the server closed
 * the connection. Rejects with `HangError` when neither happens within `timeoutMs`.
 * `pace` sends the bytes in pieces with pauses between them (a slow client).
 */
export function exchange(
  endpoint: string,
  bytes: Buffer | readonly Buffer[],
  opts: { timeoutMs?: number; head?: boolean; paceMs?: number; thenEnd?: boolean } = {},
): Promise<RawResponse & { closed: boolean }> {
  const url = new URL(endpoint);
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const pieces = Buffer.isBuffer(bytes) ? [bytes] : [...bytes];
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const received: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      const parsed = parseResponse(Buffer.concat(received), opts.head === true);
      if (!parsed && !closed) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (!parsed) {
        reject(
          new Error(
            `the server closed the connection without a whole answer: ${JSON.stringify(Buffer.concat(received).toString('latin1').slice(0, 300))}`,
          ),
        );
        return;
      }
      resolve({ ...parsed, closed });
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      socket.destroy();
      reject(new HangError(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => {
      received.push(c);
      finish(false);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      let i = 0;
      const next = () => {
        if (done || socket.destroyed) return;
        if (i === pieces.length) {
          if (opts.thenEnd) socket.end();
          return;
        }
        socket.write(pieces[i++], () => {
          if (opts.paceMs) setTimeout(next, opts.paceMs);
          else next();
        });
      };
      next();
    });
  });
}

function parseResponse(bytes: Buffer, head: boolean): RawResponse | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(m[1]);
  const length = head || status === 204 || status === 304 ? 0 : Number(headers['content-length'] ?? NaN);
  if (Number.isNaN(length)) {
    // No length: the body runs to the end of the connection (the caller sees `closed`).
    return undefined;
  }
  if (bytes.length < end + 4 + length) return undefined;
  const body = bytes.subarray(end + 4, end + 4 + length);
  return { status, headers, body, text: body.toString('utf8') };
}

/**
 * An S3 error answer as every one must be: a 4xx (never a 5xx), an XML `<Error>` with a code,
 * and the request id both in `x-amz-request-id` and the body's `<RequestId>` (HEAD answers have
 * no body: the header alone). Returns the parsed error.
 */
export function assertClientError(res: RawResponse, what: string, opts: { head?: boolean } = {}): S3ErrorBody {
  assert.ok(
    res.status >= 400 && res.status < 500,
    `${what}: expected a 4xx, got ${res.status}: ${res.text.slice(0, 500)}`,
  );
  return assertErrorDocument(res, what, opts);
}

function assertErrorDocument(res: RawResponse, what: string, opts: { head?: boolean }): S3ErrorBody {
  const requestId = res.headers['x-amz-request-id'];
  assert.ok(typeof requestId === 'string' && requestId !== '', `${what}: the answer carries x-amz-request-id`);
  if (opts.head) return { fields: {} };
  assert.match(String(res.headers['content-type']), /xml/, `${what}: an XML error document`);
  const e = parseErrorBody(res.text);
  assert.ok(e.code && /^[A-Za-z0-9]+$/.test(e.code), `${what}: an S3 error code in ${res.text.slice(0, 300)}`);
  assert.equal(e.requestId, requestId, `${what}: the body names the header's request id`);
  return e;
}

/**
 * Answers that are not errors are 2xx or 3xx; errors are clean 4xx, or S3's own 501
 * NotImplemented for what it does not do. Never another 5xx.
 */
export function assertNotServerError(res: RawResponse, what: string, opts: { head?: boolean } = {}): void {
  if (res.status === 501) {
    const e = assertErrorDocument(res, what, opts);
    if (!opts.head) assert.equal(e.code, 'NotImplemented', `${what}: ${res.text.slice(0, 300)}`);
  } else if (res.status >= 400) assertClientError(res, what, opts);
  else assert.ok(res.status >= 200 && res.status < 400, `${what}: status ${res.status}`);
}

export function md5Base64(data: Buffer | string): string {
  return createHash('md5').update(data).digest('base64');
}

/** Deterministic bytes of a given size: any stored copy can be compared exactly. */
export function patternBytes(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, i);
  return out;
}

interface Sentinel {
  bucket: string;
  key: string;
  body: Buffer;
  etag: string;
}

/**
 * Objects written before a property runs: after it, each must still read back with the same
 * ETag and the same bytes, and its bucket must still answer HeadBucket.
 */
export class Sentinels {
  readonly #s3: S3Client;
  readonly #items: Sentinel[] = [];

  constructor(s3: S3Client) {
    this.#s3 = s3;
  }

  /** Writes the sentinels into `bucket` (created when `create`): empty, tiny, binary, and one past the inline limit. */
  async write(bucket: string, opts: { create?: boolean } = {}): Promise<void> {
    if (opts.create) await this.#s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const bodies: Array<[string, Buffer]> = [
      ['sentinel/empty', Buffer.alloc(0)],
      ['sentinel/tiny', Buffer.from('the sentinel says hello')],
      ['sentinel/binary', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
      ['sentinel/large', patternBytes(`large:${bucket}`, 300 * 1024)],
    ];
    for (const [key, body] of bodies) {
      const out = await this.#s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      this.#items.push({ bucket, key, body, etag: String(out.ETag) });
    }
  }

  /** HeadBucket on every sentinel bucket works and every sentinel is byte-identical. */
  async verify(): Promise<void> {
    for (const bucket of new Set(this.#items.map((s) => s.bucket))) {
      await this.#s3.send(new HeadBucketCommand({ Bucket: bucket }));
    }
    for (const s of this.#items) {
      const got = await this.#s3.send(new GetObjectCommand({ Bucket: s.bucket, Key: s.key }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      assert.equal(got.ETag, s.etag, `${s.bucket}/${s.key} keeps its ETag`);
      assert.ok(bytes.equals(s.body), `${s.bucket}/${s.key} keeps its ${s.body.length} bytes (got ${bytes.length})`);
    }
  }
}

/** One edit of a byte string; applied in sequence, positions taken modulo the current length. */
export type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Buffer }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'overwrite'; at: number; byte: number }
  | { kind: 'duplicate'; at: number; length: number; times: number }
  | { kind: 'swap'; a: number; b: number; length: number };

/**
 * Edits that keep most of a document's shape and break it somewhere: cuts, inserted
 * fragments (from `fragments`, or arbitrary text or bytes), deletions, flipped bytes,
 * repeated and swapped slices.
 */
export function mutationArb(fragments: readonly string[]): fc.Arbitrary<Mutation> {
  const at = fc.nat({ max: 1 << 20 });
  const insertion = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...fragments).map((s) => Buffer.from(s, 'utf8')) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => Buffer.from(s, 'utf8')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)) },
  );
  return fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at }),
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, bytes: insertion }) },
    fc.record({ kind: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('overwrite' as const), at, byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({
      kind: fc.constant('duplicate' as const),
      at,
      length: fc.integer({ min: 1, max: 120 }),
      times: fc.integer({ min: 1, max: 300 }),
    }),
    fc.record({ kind: fc.constant('swap' as const), a: at, b: at, length: fc.integer({ min: 1, max: 30 }) }),
  );
}

export function applyMutation(input: Buffer, m: Mutation): Buffer {
  const len = input.length;
  const pos = (n: number) => (len === 0 ? 0 : n % (len + 1));
  switch (m.kind) {
    case 'truncate':
      return input.subarray(0, pos(m.at));
    case 'insert': {
      const p = pos(m.at);
      return Buffer.concat([input.subarray(0, p), m.bytes, input.subarray(p)]);
    }
    case 'delete': {
      const p = pos(m.at);
      return Buffer.concat([input.subarray(0, p), input.subarray(p + m.length)]);
    }
    case 'overwrite': {
      if (len === 0) return input;
      const out = Buffer.from(input);
      out[m.at % len] = m.byte;
      return out;
    }
    case 'duplicate': {
      const p = pos(m.at);
      const slice = input.subarray(p, p + m.length);
      return Buffer.concat([input.subarray(0, p), ...Array.from({ length: m.times }, () => slice), input.subarray(p)]);
    }
    case 'swap': {
      if (len < 2) return input;
      let a = m.a % len;
      let b = m.b % len;
      if (a > b) [a, b] = [b, a];
      const n = Math.min(m.length, b - a);
      if (n <= 0) return input;
      const first = input.subarray(a, a + n);
      const second = input.subarray(b, b + n);
      return Buffer.concat([
        input.subarray(0, a),
        second,
        input.subarray(a + n, b),
        first,
        input.subarray(b + second.length),
      ]);
    }
  }
}

export function applyMutations(input: Buffer | string, ms: readonly Mutation[]): Buffer {
  return ms.reduce((b, m) => applyMutation(b, m), Buffer.isBuffer(input) ? input : Buffer.from(input, 'utf8'));
}

/** Mutation for display in a counterexample: inserted bytes as text. */
export function describeMutations(ms: readonly Mutation[]): string {
  return JSON.stringify(ms.map((m) => (m.kind === 'insert' ? { ...m, bytes: m.bytes.toString('latin1') } : m)));
}

/**
 * A generated request body and how it was made; printed short in a counterexample (how,
 * length, the first bytes) instead of as a byte array.
 */
export class Doc {
  constructor(
    readonly body: Buffer,
    readonly how: string,
  ) {}

  [fc.toStringMethod](): string {
    const text = this.body.toString('latin1');
    return `${this.how}: ${this.body.length} bytes ${JSON.stringify(text.length > 600 ? `${text.slice(0, 600)}…` : text)}`;
  }
}

/** fast-check settings for a property against a live server: the failing assertion is in the report. */
export function runs(numRuns: number): fc.Parameters<unknown> {
  return { numRuns, includeErrorInReport: true };
}
