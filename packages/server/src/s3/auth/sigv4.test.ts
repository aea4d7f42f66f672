import assert from 'node:assert/strict';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { S3Client, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { buildQueryString, extendedEncodeURIComponent } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { S3Error } from '../../core/errors.ts';
import { canonicalPath, canonicalQuery, parseQuery } from './canonical.ts';
import { SigningKeyCache, deriveSigningKey, sha256Hex, spacedHex } from './signing.ts';
import { authenticate, createAuthenticator, type AuthRequest, type AuthResult, type Credential } from './sigv4.ts';

// ---------------------------------------------------------------------------------------------
// Fixtures

const ACCESS_KEY = 'AKIDMERIDIANTEST';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const CREDENTIAL: Credential = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET, accountId: '123456789012' };
const lookup = (id: string): Credential | undefined => (id === ACCESS_KEY ? CREDENTIAL : undefined);

const NOW = new Date('2026-01-01T12:00:00Z');
const AMZ_DATE = '20260101T120000Z';
const SCOPE = '20260101/us-east-1/s3/aws4_request';
const HOST = 'localhost';
const PORT = 9000;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The smithy signer's hash constructor, built on node:crypto (no @aws-crypto/sha256-js here). */
class NodeSha256 {
  readonly #secret: Buffer | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret = secret === undefined ? undefined : toBuffer(secret);
    this.#hash = this.#fresh();
  }

  update(data: Uint8Array): void {
    this.#hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }

  reset(): void {
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

interface RequestSpec {
  method?: string;
  /** Already encoded, as the S3 client puts it on the wire. */
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
  signingDate?: Date;
  secret?: string;
  accessKeyId?: string;
  sessionToken?: string;
  region?: string;
  now?: Date;
}

interface WireRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
}

/** What a server receives for a request the SDK would send (its node handler builds the URL this way). */
function toAuthRequest(r: WireRequest, now: Date): AuthRequest {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(r.headers)) headers[name.toLowerCase()] = value;
  return { method: r.method, rawPath: r.path, rawQuery: buildQueryString(r.query ?? {}), headers, now };
}

function wireRequest(spec: RequestSpec) {
  return {
    method: spec.method ?? 'GET',
    protocol: 'http:',
    hostname: HOST,
    port: PORT,
    path: spec.path ?? '/bucket/key',
    query: spec.query ?? {},
    headers: { host: `${HOST}:${PORT}`, ...spec.headers },
    body: spec.body,
  };
}

function credentialsOf(spec: RequestSpec) {
  return {
    accessKeyId: spec.accessKeyId ?? ACCESS_KEY,
    secretAccessKey: spec.secret ?? SECRET,
    sessionToken: spec.sessionToken,
  };
}

/** Signs with the real SDK signer configured as the S3 client configures it. */
async function signHeader(spec: RequestSpec = {}): Promise<AuthRequest> {
  const signer = new SignatureV4({
    service: 's3',
    region: spec.region ?? 'us-east-1',
    credentials: credentialsOf(spec),
    sha256: NodeSha256,
    uriEscapePath: false, // S3: the path is signed as sent, not double-encoded
  });
  const signed = await signer.sign(wireRequest(spec), { signingDate: spec.signingDate ?? NOW });
  return toAuthRequest(signed, spec.now ?? NOW);
}

/** Presigns with the S3 presigner (hoists x-amz-* headers, signs UNSIGNED-PAYLOAD). */
async function presign(spec: RequestSpec & { expiresIn?: number } = {}): Promise<AuthRequest> {
  const presigner = new S3RequestPresigner({
    region: spec.region ?? 'us-east-1',
    credentials: credentialsOf(spec),
    sha256: NodeSha256,
  });
  const signed = await presigner.presign(wireRequest(spec), {
    signingDate: spec.signingDate ?? NOW,
    expiresIn: spec.expiresIn ?? 3600,
  });
  return toAuthRequest(signed, spec.now ?? NOW);
}

/**
 * A deliberately independent, minimal signer for shapes the SDK never produces (Date header
 * instead of x-amz-date, hand-picked SignedHeaders).
 */
function signManually(req: AuthRequest, signedHeaders: string[], amzDate: string, payloadHash: string): string {
  const canonical = [
    req.method,
    req.rawPath,
    req.rawQuery,
    signedHeaders.map((h) => `${h}:${String(req.headers[h] ?? '').trim()}\n`).join(''),
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
  const key = deriveSigningKey(SECRET, amzDate.slice(0, 8), 'us-east-1', 's3');
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
}

function auth(req: AuthRequest): AuthResult {
  return authenticate(req, lookup);
}

function signedResult(req: AuthRequest) {
  const result = auth(req);
  assert.equal(result.kind, 'signed');
  if (result.kind !== 'signed') throw new Error('unreachable');
  return result;
}

function expectS3Error(
  fn: () => unknown,
  code: string,
  message?: string | RegExp,
  fields?: Record<string, string>,
): S3Error {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof S3Error, `expected S3Error ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `code (message: ${caught.message})`);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else if (message instanceof RegExp) assert.match(caught.message, message);
  for (const [name, value] of Object.entries(fields ?? {})) assert.equal(caught.fields[name], value, `field ${name}`);
  return caught;
}

function withHeaders(req: AuthRequest, headers: IncomingHttpHeaders): AuthRequest {
  return { ...req, headers: { ...req.headers, ...headers } };
}

function withoutHeader(req: AuthRequest, name: string): AuthRequest {
  const headers = { ...req.headers };
  delete headers[name];
  return { ...req, headers };
}

function replaceParam(req: AuthRequest, name: string, value: string): AuthRequest {
  const parts = req.rawQuery.split('&').map((p) => (p.startsWith(`${name}=`) ? `${name}=${value}` : p));
  return { ...req, rawQuery: parts.join('&') };
}

function dropParam(req: AuthRequest, name: string): AuthRequest {
  return {
    ...req,
    rawQuery: req.rawQuery
      .split('&')
      .filter((p) => !p.startsWith(`${name}=`))
      .join('&'),
  };
}

const UNSUPPORTED_MECHANISM =
  'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';
const BOTH_MECHANISMS =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified';

/** Keys that must survive the S3 client's encoding and our re-normalisation. */
const SPECIAL_KEYS = [
  'photos/2026/a b.jpg',
  'a+b=c&d',
  '100%',
  '100%25 literal',
  "tilde~star*bang!quote'(paren)",
  'ünïcödé/日本語/😀.txt',
  'two  spaces',
  'semi;colon,comma:colon@at$dollar#hash?question[br]{ce}|pipe^caret`tick"dq<lt>gt\\bs',
  'trailing/',
  'dot/./dotdot/../x',
  'double//slash',
  '-_.~',
];

function objectPath(bucket: string, key: string): string {
  return `/${bucket}/${key.split('/').map(extendedEncodeURIComponent).join('/')}`;
}

// ---------------------------------------------------------------------------------------------

describe('known answers from the AWS documentation', () => {
  const docsLookup = (id: string): Credential | undefined =>
    id === 'AKIAIOSFODNN7EXAMPLE'
      ? { accessKeyId: id, secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', accountId: '1' }
      : undefined;
  const docsNow = new Date('2013-05-24T00:00:00Z');

  it('derives the documented signing key', () => {
    const key = deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam');
    assert.equal(key.toString('hex'), 'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });

  it('verifies the documented GET Object example', () => {
    const result = authenticate(
      {
        method: 'GET',
        rawPath: '/test.txt',
        rawQuery: '',
        now: docsNow,
        headers: {
          host: 'examplebucket.s3.amazonaws.com',
          range: 'bytes=0-9',
          'x-amz-content-sha256': EMPTY_SHA256,
          'x-amz-date': '20130524T000000Z',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
        },
      },
      docsLookup,
    );
    assert.equal(result.kind, 'signed');
  });

  it('verifies the documented chunked-upload seed signature', () => {
    const result = authenticate(
      {
        method: 'PUT',
        rawPath: '/examplebucket/chunkObject.txt',
        rawQuery: '',
        now: docsNow,
        headers: {
          host: 's3.amazonaws.com',
          'content-encoding': 'aws-chunked',
          'content-length': '66824',
          'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
          'x-amz-date': '20130524T000000Z',
          'x-amz-decoded-content-length': '66560',
          'x-amz-storage-class': 'REDUCED_REDUNDANCY',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
        },
      },
      docsLookup,
    );
    assert.equal(result.kind, 'signed');
    if (result.kind !== 'signed') return;
    assert.deepEqual(result.payload, { kind: 'streaming-signed', trailer: false });
    assert.equal(result.signature, '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');
  });
});

describe('canonical request pieces', () => {
  it('normalises path percent-encoding without normalising the path', () => {
    assert.equal(canonicalPath(''), '/');
    assert.equal(canonicalPath('/'), '/');
    assert.equal(canonicalPath('/b/a%7eb%7E'), '/b/a~b~');
    assert.equal(canonicalPath('/b/%2f%2F'), '/b/%2F%2F');
    assert.equal(canonicalPath('/b/a b+c'), '/b/a%20b%2Bc');
    assert.equal(canonicalPath('/b/./../x//y'), '/b/./../x//y');
    assert.equal(canonicalPath('/b/%zz%4'), '/b/%25zz%254');
    assert.equal(canonicalPath('/b/%FF%fe'), '/b/%FF%FE');
    assert.equal(canonicalPath('/b/é'), '/b/%C3%A9');
  });

  it('sorts and normalises the query, reading + as a space', () => {
    const params = parseQuery('b=2&a=&c&a=x+y&%61b=%7e&&');
    assert.equal(canonicalQuery(params), 'a=&a=x%20y&ab=~&b=2&c=');
    assert.equal(canonicalQuery(parseQuery('X-Amz-Signature=abc&x=1'), 'X-Amz-Signature'), 'x=1');
    assert.equal(canonicalQuery(parseQuery('')), '');
  });
});

describe('Authorization header: accepted requests', () => {
  it('verifies a plain GET and describes it', async () => {
    const req = await signHeader();
    const result = signedResult(req);
    assert.equal(result.region, 'us-east-1');
    assert.equal(result.service, 's3');
    assert.equal(result.amzDate, AMZ_DATE);
    assert.equal(result.scope, SCOPE);
    assert.equal(result.presigned, false);
    assert.equal(result.credential.accountId, '123456789012');
    assert.deepEqual(result.payload, { kind: 'sha256', hex: EMPTY_SHA256 });
    assert.match(String(req.headers.authorization), new RegExp(`Signature=${result.signature}$`));
    assert.deepEqual(result.signingKey, deriveSigningKey(SECRET, '20260101', 'us-east-1', 's3'));
  });

  it('returns the scope region without judging it', async () => {
    const result = signedResult(await signHeader({ region: 'eu-central-1' }));
    assert.equal(result.region, 'eu-central-1');
    assert.equal(result.scope, '20260101/eu-central-1/s3/aws4_request');
  });

  it('verifies a PUT whose payload hash is signed', async () => {
    const body = 'hello world';
    const result = signedResult(
      await signHeader({ method: 'PUT', body, headers: { 'content-type': 'text/plain', 'content-length': '11' } }),
    );
    assert.deepEqual(result.payload, { kind: 'sha256', hex: sha256Hex(body) });
  });

  const modes = [
    ['UNSIGNED-PAYLOAD', { kind: 'unsigned' }],
    ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', { kind: 'streaming-unsigned-trailer' }],
    ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', { kind: 'streaming-signed', trailer: false }],
    ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', { kind: 'streaming-signed', trailer: true }],
  ] as const;
  for (const [value, mode] of modes) {
    it(`reports x-amz-content-sha256: ${value}`, async () => {
      const result = signedResult(await signHeader({ method: 'PUT', headers: { 'x-amz-content-sha256': value } }));
      assert.deepEqual(result.payload, mode);
    });
  }

  for (const key of SPECIAL_KEYS) {
    it(`verifies object key ${JSON.stringify(key)}`, async () => {
      signedResult(await signHeader({ path: objectPath('bucket', key) }));
      signedResult(await signHeader({ method: 'PUT', path: objectPath('bucket', key), body: 'x' }));
    });
  }

  it('accepts other spellings of the same path bytes', async () => {
    const req = await signHeader({ path: '/bucket/a~b%2Fc%C3%A9' });
    signedResult({ ...req, rawPath: '/bucket/a%7Eb%2fc%c3%a9' });
    signedResult({ ...req, rawPath: '/bucket/a%7eb%2Fc%C3%A9' });
  });

  it('verifies sub-resources without values (?acl, ?uploads)', async () => {
    const req = await signHeader({ query: { acl: '' } });
    assert.equal(req.rawQuery, 'acl=');
    signedResult(req);
    signedResult({ ...req, rawQuery: 'acl' });
    signedResult(await signHeader({ method: 'POST', query: { uploads: '' } }));
  });

  it('verifies a ListObjectsV2 query with an encoded slash and an empty value', async () => {
    const req = await signHeader({ path: '/bucket', query: { 'list-type': '2', prefix: 'a/b', 'start-after': '' } });
    assert.equal(req.rawQuery, 'list-type=2&prefix=a%2Fb&start-after=');
    signedResult(req);
    signedResult({ ...req, rawQuery: 'start-after=&prefix=a/b&list-type=2' });
  });

  it('verifies query names and values with special characters', async () => {
    const query = {
      prefix: "a b+c=d&e%f~g'h(i)j*k!l/ü😀",
      marker: '',
      'weird key+=&': 'v',
      tag: ['b', 'a', 'a b'],
    };
    signedResult(await signHeader({ path: '/bucket', query }));
  });

  it('reads a raw + in the query as a space, like URLSearchParams', async () => {
    const req = await signHeader({ path: '/bucket', query: { prefix: 'a b' } });
    assert.equal(req.rawQuery, 'prefix=a%20b');
    signedResult({ ...req, rawQuery: 'prefix=a+b' });
    expectS3Error(() => auth({ ...req, rawQuery: 'prefix=a%2Bb' }), 'SignatureDoesNotMatch');
  });

  it('tolerates the separator styles SDKs use in the Authorization header', async () => {
    const req = await signHeader();
    const m = /^AWS4-HMAC-SHA256 Credential=(\S+), SignedHeaders=(\S+), Signature=(\S+)$/.exec(
      String(req.headers.authorization),
    );
    assert.ok(m, String(req.headers.authorization));
    const [, credential, signedHeaders, signature] = m;
    for (const authorization of [
      `AWS4-HMAC-SHA256 Credential=${credential},SignedHeaders=${signedHeaders},Signature=${signature}`,
      `AWS4-HMAC-SHA256  Credential=${credential} ,  SignedHeaders=${signedHeaders} ,Signature=${signature}`,
      `AWS4-HMAC-SHA256 Signature=${signature}, Credential=${credential}, SignedHeaders=${signedHeaders}`,
      `AWS4-HMAC-SHA256 Credential=${credential} SignedHeaders=${signedHeaders} Signature=${signature}`,
    ]) {
      signedResult(withHeaders(req, { authorization }));
    }
  });

  it('canonicalises signed header values (trim, collapse spaces)', async () => {
    const req = await signHeader({ headers: { 'x-amz-meta-note': 'a b c' } });
    signedResult(withHeaders(req, { 'x-amz-meta-note': '  a   b \t c  ' }));
  });

  it('hashes header values as the bytes received (raw UTF-8 from non-JS clients)', () => {
    const client: AuthRequest = {
      method: 'PUT',
      rawPath: '/bucket/key',
      rawQuery: '',
      now: NOW,
      headers: {
        host: HOST,
        'x-amz-date': AMZ_DATE,
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        'x-amz-meta-name': 'Zoë 日本',
      },
    };
    const signedHeaders = ['host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-meta-name'];
    const authorization = signManually(client, signedHeaders, AMZ_DATE, 'UNSIGNED-PAYLOAD');
    // Node hands the server each header byte as one latin1 character.
    const asReceived = Buffer.from('Zoë 日本', 'utf8').toString('latin1');
    signedResult(withHeaders(client, { 'x-amz-meta-name': asReceived, authorization }));
  });

  it('uses a signed Date header when x-amz-date is absent', () => {
    const base: AuthRequest = {
      method: 'GET',
      rawPath: '/bucket/key',
      rawQuery: '',
      now: NOW,
      headers: { host: HOST, date: 'Thu, 01 Jan 2026 12:00:00 GMT', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    };
    const authorization = signManually(base, ['date', 'host', 'x-amz-content-sha256'], AMZ_DATE, 'UNSIGNED-PAYLOAD');
    const result = signedResult(withHeaders(base, { authorization }));
    assert.equal(result.amzDate, AMZ_DATE);
  });

  it('does not require x-amz-content-sha256 itself to be signed', () => {
    const base: AuthRequest = {
      method: 'GET',
      rawPath: '/bucket/key',
      rawQuery: '',
      now: NOW,
      headers: { host: HOST, 'x-amz-date': AMZ_DATE, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    };
    const authorization = signManually(base, ['host', 'x-amz-date'], AMZ_DATE, 'UNSIGNED-PAYLOAD');
    signedResult(withHeaders(base, { authorization }));
  });

  it('accepts clock differences within the allowed skew', async () => {
    signedResult(await signHeader({ signingDate: new Date(NOW.getTime() - 14 * 60_000) }));
    signedResult(await signHeader({ signingDate: new Date(NOW.getTime() + 14 * 60_000) }));
  });

  it('returns anonymous when the request carries no authentication', () => {
    assert.deepEqual(auth({ method: 'GET', rawPath: '/b/k', rawQuery: '', headers: { host: HOST }, now: NOW }), {
      kind: 'anonymous',
    });
    assert.deepEqual(
      auth({ method: 'GET', rawPath: '/b', rawQuery: 'list-type=2&x-amz-meta=1', headers: { host: HOST }, now: NOW }),
      { kind: 'anonymous' },
    );
  });
});

describe('Authorization header: rejected requests', () => {
  it('answers SignatureDoesNotMatch with the AWS diagnostic fields for a wrong secret', async () => {
    const req = await signHeader({ secret: 'not-the-secret', query: { 'list-type': '2' } });
    const err = expectS3Error(
      () => auth(req),
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
    assert.equal(err.status, 403);
    assert.equal(err.fields.AWSAccessKeyId, ACCESS_KEY);
    assert.match(String(req.headers.authorization), new RegExp(`Signature=${err.fields.SignatureProvided}$`));
    const canonical = err.fields.CanonicalRequest;
    assert.ok(canonical.startsWith('GET\n/bucket/key\nlist-type=2\nhost:localhost:9000\n'), canonical);
    assert.ok(canonical.endsWith(`\n\nhost;x-amz-content-sha256;x-amz-date\n${EMPTY_SHA256}`), canonical);
    assert.equal(err.fields.StringToSign, `AWS4-HMAC-SHA256\n${AMZ_DATE}\n${SCOPE}\n${sha256Hex(canonical)}`);
    assert.equal(err.fields.StringToSignBytes, spacedHex(Buffer.from(err.fields.StringToSign)));
    assert.equal(err.fields.CanonicalRequestBytes, spacedHex(Buffer.from(canonical)));
    assert.ok(err.fields.StringToSignBytes.startsWith('41 57 53 34 2d 48 4d 41 43'));
  });

  it('detects any change to what was signed', async () => {
    const req = await signHeader({
      method: 'PUT',
      path: '/bucket/key',
      headers: { 'x-amz-meta-a': '1', 'content-type': 'a/b' },
    });
    signedResult(req);
    const tampered: AuthRequest[] = [
      { ...req, method: 'POST' },
      { ...req, rawPath: '/bucket/key2' },
      { ...req, rawPath: '/bucket/Key' },
      { ...req, rawQuery: 'acl' },
      withHeaders(req, { 'x-amz-meta-a': '2' }),
      withHeaders(req, { 'content-type': 'a/c' }),
      withHeaders(req, { host: 'other-bucket.localhost:9000' }),
      withoutHeader(req, 'content-type'),
      withoutHeader(req, 'x-amz-meta-a'),
      withHeaders(req, { 'x-amz-content-sha256': sha256Hex('other') }),
    ];
    for (const t of tampered) expectS3Error(() => auth(t), 'SignatureDoesNotMatch');
  });

  it('answers InvalidAccessKeyId for an unknown key', async () => {
    const req = await signHeader({ accessKeyId: 'AKIDUNKNOWN' });
    const err = expectS3Error(() => auth(req), 'InvalidAccessKeyId', undefined, { AWSAccessKeyId: 'AKIDUNKNOWN' });
    assert.equal(err.status, 403);
  });

  it('answers InvalidAccessKeyId for a key id longer than 128 characters without looking it up', async () => {
    // A key store may throw on an over-long lookup key (LMDB refuses keys of 2 KB): a 500.
    const looked: string[] = [];
    const strict = createAuthenticator((id) => {
      looked.push(id);
      if (id.length > 1000) throw new RangeError('key too large');
      return lookup(id);
    });
    for (const id of ['A'.repeat(129), 'A'.repeat(5000)]) {
      const req = await signHeader({ accessKeyId: id });
      expectS3Error(() => strict(req), 'InvalidAccessKeyId', undefined, { AWSAccessKeyId: id });
    }
    assert.deepEqual(looked, []);
  });

  it('answers RequestTimeTooSkewed beyond 15 minutes, either way', async () => {
    const past = await signHeader({ signingDate: new Date(NOW.getTime() - 16 * 60_000) });
    const err = expectS3Error(() => auth(past), 'RequestTimeTooSkewed', undefined, {
      RequestTime: '20260101T114400Z',
      ServerTime: '2026-01-01T12:00:00Z',
      MaxAllowedSkewMilliseconds: '900000',
    });
    assert.equal(err.status, 403);
    const future = await signHeader({ signingDate: new Date(NOW.getTime() + 16 * 60_000) });
    expectS3Error(() => auth(future), 'RequestTimeTooSkewed');
  });

  it('honours a configured skew', async () => {
    const req = await signHeader({ signingDate: new Date(NOW.getTime() - 2 * 60_000) });
    const strict = createAuthenticator(lookup, { maxSkewMs: 60_000 });
    expectS3Error(() => strict(req), 'RequestTimeTooSkewed', undefined, { MaxAllowedSkewMilliseconds: '60000' });
  });

  it('requires x-amz-content-sha256', async () => {
    const req = withoutHeader(await signHeader(), 'x-amz-content-sha256');
    const err = expectS3Error(
      () => auth(req),
      'InvalidRequest',
      'Missing required header for this request: x-amz-content-sha256',
    );
    assert.equal(err.status, 400);
  });

  it('rejects an x-amz-content-sha256 that is neither a digest nor a known constant', async () => {
    for (const value of ['abc', 'unsigned-payload', EMPTY_SHA256.slice(1), `${EMPTY_SHA256}0`, 'STREAMING-PAYLOAD']) {
      const req = await signHeader({ headers: { 'x-amz-content-sha256': value } });
      expectS3Error(
        () => auth(req),
        'InvalidArgument',
        'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
        { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
      );
    }
  });

  it('answers NotImplemented for SigV4a streaming payloads', async () => {
    const req = await signHeader({ headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD' } });
    expectS3Error(() => auth(req), 'NotImplemented');
  });

  describe('malformed Authorization headers', () => {
    const good = `Credential=${ACCESS_KEY}/20260101/us-east-1/s3/aws4_request`;
    const sh = 'SignedHeaders=host;x-amz-content-sha256;x-amz-date';
    const sig = `Signature=${'0'.repeat(64)}`;
    const malformed = 'The authorization header is malformed; ';
    const cases: Array<[string, string, string]> = [
      ['AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=', 'InvalidRequest', UNSUPPORTED_MECHANISM],
      ['Bearer abc.def', 'InvalidArgument', 'Unsupported Authorization Type'],
      ['', 'InvalidArgument', 'Unsupported Authorization Type'],
      [
        'AWS4-HMAC-SHA256',
        'AuthorizationHeaderMalformed',
        `${malformed}the authorization header requires three components: Credential, SignedHeaders, and Signature.`,
      ],
      [
        `AWS4-HMAC-SHA256 ${good}, ${sh}`,
        'AuthorizationHeaderMalformed',
        `${malformed}the authorization header requires three components: Credential, SignedHeaders, and Signature.`,
      ],
      [
        `AWS4-HMAC-SHA256 ${good}, ${sh}, ${sig}, Foo=bar`,
        'AuthorizationHeaderMalformed',
        `${malformed}the authorization component "Foo=bar" is malformed.`,
      ],
      [
        `AWS4-HMAC-SHA256 ${good}, SignedHeaders, ${sig}`,
        'AuthorizationHeaderMalformed',
        `${malformed}the authorization component "SignedHeaders" is malformed.`,
      ],
      [
        `AWS4-HMAC-SHA256 ${good}, ${sh}, Signature=`,
        'AuthorizationHeaderMalformed',
        `${malformed}the authorization component "Signature=" is malformed.`,
      ],
      [
        `AWS4-HMAC-SHA256 ${good}, ${sh}, ${sig}, ${sig}`,
        'AuthorizationHeaderMalformed',
        `${malformed}the authorization component "${sig}" is malformed.`,
      ],
      [
        `AWS4-HMAC-SHA256 credential=${ACCESS_KEY}/20260101/us-east-1/s3/aws4_request, ${sh}, ${sig}`,
        'AuthorizationHeaderMalformed',
        `${malformed}the authorization component "credential=${ACCESS_KEY}/20260101/us-east-1/s3/aws4_request" is malformed.`,
      ],
      [
        `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20260101/us-east-1/s3, ${sh}, ${sig}`,
        'AuthorizationHeaderMalformed',
        `${malformed}the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
      ],
      [
        `AWS4-HMAC-SHA256 Credential=/20260101/us-east-1/s3/aws4_request, ${sh}, ${sig}`,
        'AuthorizationHeaderMalformed',
        `${malformed}the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
      ],
      [
        `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20260101//s3/aws4_request, ${sh}, ${sig}`,
        'AuthorizationHeaderMalformed',
        `${malformed}the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
      ],
      [
        `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20260101/us-east-1/s3/aws4_request/x, ${sh}, ${sig}`,
        'AuthorizationHeaderMalformed',
        `${malformed}the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
      ],
      [
        `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20260101/us-east-1/s3/aws4_requests, ${sh}, ${sig}`,
        'AuthorizationHeaderMalformed',
        `${malformed}incorrect terminal "aws4_requests". This endpoint uses "aws4_request".`,
      ],
      [
        `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20260101/us-east-1/ec2/aws4_request, ${sh}, ${sig}`,
        'AuthorizationHeaderMalformed',
        `${malformed}incorrect service "ec2". This endpoint belongs to "s3".`,
      ],
      [
        `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20260102/us-east-1/s3/aws4_request, ${sh}, ${sig}`,
        'AuthorizationHeaderMalformed',
        `${malformed}Invalid credential date. Date is not the same as X-Amz-Date.`,
      ],
      [
        `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/2026-01-01/us-east-1/s3/aws4_request, ${sh}, ${sig}`,
        'AuthorizationHeaderMalformed',
        `${malformed}Invalid credential date. Date is not the same as X-Amz-Date.`,
      ],
      [
        `AWS4-ECDSA-P256-SHA256 ${good}, ${sh}, ${sig}`,
        'NotImplemented',
        'A header you provided implies functionality that is not implemented',
      ],
    ];
    for (const [authorization, code, message] of cases) {
      it(`${code}: ${JSON.stringify(authorization).slice(0, 90)}`, () => {
        const req: AuthRequest = {
          method: 'GET',
          rawPath: '/bucket/key',
          rawQuery: '',
          now: NOW,
          headers: { host: HOST, 'x-amz-date': AMZ_DATE, 'x-amz-content-sha256': EMPTY_SHA256, authorization },
        };
        const err = expectS3Error(() => auth(req), code, message);
        assert.equal(err.status, code === 'NotImplemented' ? 501 : 400);
      });
    }
  });

  it('requires a valid x-amz-date or a signed Date header', async () => {
    const req = await signHeader();
    const message = 'AWS authentication requires a valid Date or x-amz-date header';
    expectS3Error(() => auth(withoutHeader(req, 'x-amz-date')), 'AccessDenied', message);
    for (const bad of ['20261301T120000Z', '20260230T120000Z', '2026-01-01T12:00:00Z', 'garbage', '']) {
      const err = expectS3Error(() => auth(withHeaders(req, { 'x-amz-date': bad })), 'AccessDenied', message);
      assert.equal(err.status, 403);
    }
    // A Date header that is not signed does not count.
    expectS3Error(
      () => auth(withHeaders(withoutHeader(req, 'x-amz-date'), { date: 'Thu, 01 Jan 2026 12:00:00 GMT' })),
      'AccessDenied',
      message,
    );
  });

  it('refuses x-amz-* headers and Host left out of the signature', async () => {
    const req = await signHeader({ method: 'PUT' });
    expectS3Error(
      () => auth(withHeaders(req, { 'x-amz-acl': 'public-read' })),
      'AccessDenied',
      'There were headers present in the request which were not signed',
      { HeadersNotSigned: 'x-amz-acl' },
    );
    expectS3Error(
      () => auth(withHeaders(req, { 'x-amz-tagging': 'a=b', 'x-amz-copy-source': '/b/k' })),
      'AccessDenied',
      undefined,
      { HeadersNotSigned: 'x-amz-copy-source, x-amz-tagging' },
    );
    // Headers outside x-amz-* may be added by proxies without invalidating the request.
    signedResult(
      withHeaders(req, { 'user-agent': 'curl', 'x-forwarded-for': '10.0.0.1', 'x-amzn-trace-id': 'Root=1' }),
    );

    const base: AuthRequest = {
      method: 'GET',
      rawPath: '/bucket/key',
      rawQuery: '',
      now: NOW,
      headers: { host: HOST, 'x-amz-date': AMZ_DATE, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    };
    const authorization = signManually(base, ['x-amz-content-sha256', 'x-amz-date'], AMZ_DATE, 'UNSIGNED-PAYLOAD');
    expectS3Error(() => auth(withHeaders(base, { authorization })), 'AccessDenied', undefined, {
      HeadersNotSigned: 'host',
    });
  });

  it('refuses SigV2', () => {
    expectS3Error(
      () =>
        auth({
          method: 'GET',
          rawPath: '/bucket/key',
          rawQuery: 'AWSAccessKeyId=AKID&Expires=1767268800&Signature=abc%3D',
          headers: { host: HOST },
          now: NOW,
        }),
      'InvalidRequest',
      UNSUPPORTED_MECHANISM,
    );
  });

  it('refuses two authentication mechanisms at once', async () => {
    const headerSigned = await signHeader();
    const presigned = await presign();
    for (const req of [
      { ...headerSigned, rawQuery: `X-Amz-Credential=${ACCESS_KEY}%2F${SCOPE.replaceAll('/', '%2F')}` },
      { ...headerSigned, rawQuery: 'X-Amz-Algorithm=AWS4-HMAC-SHA256' },
      { ...headerSigned, rawQuery: 'Signature=abc' },
      withHeaders(presigned, { authorization: String(headerSigned.headers.authorization) }),
    ]) {
      const err = expectS3Error(() => auth(req), 'InvalidArgument', BOTH_MECHANISMS);
      assert.equal(err.status, 400);
    }
  });
});

describe('presigned URLs', () => {
  it('verifies a presigned GET and reports an unsigned payload', async () => {
    const req = await presign({ path: objectPath('bucket', 'photos/a b.jpg') });
    assert.match(req.rawQuery, /X-Amz-Signature=[0-9a-f]{64}/);
    assert.equal(req.headers.authorization, undefined);
    const result = signedResult(req);
    assert.equal(result.presigned, true);
    assert.deepEqual(result.payload, { kind: 'unsigned' });
    assert.equal(result.scope, SCOPE);
    assert.equal(result.amzDate, AMZ_DATE);
  });

  for (const key of SPECIAL_KEYS) {
    it(`verifies a presigned PUT of key ${JSON.stringify(key)} with hoisted metadata`, async () => {
      const req = await presign({
        method: 'PUT',
        path: objectPath('bucket', key),
        query: { 'x-id': 'PutObject' },
        headers: { 'x-amz-meta-owner': 'ünï code', 'x-amz-acl': 'private' },
      });
      assert.match(req.rawQuery, /x-amz-meta-owner=/);
      signedResult(req);
    });
  }

  it('verifies URLs from getSignedUrl with a real S3Client', async () => {
    const client = new S3Client({
      region: 'us-west-2',
      endpoint: `http://${HOST}:${PORT}`,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
    });
    for (const key of SPECIAL_KEYS) {
      for (const command of [
        new GetObjectCommand({
          Bucket: 'bucket',
          Key: key,
          ResponseContentDisposition: 'attachment; filename="a b.txt"',
        }),
        new PutObjectCommand({ Bucket: 'bucket', Key: key, ContentType: 'text/plain' }),
      ]) {
        // Not `new URL(...)`: WHATWG URLs resolve '.' and '..' segments, HTTP clients do not.
        const url = await getSignedUrl(client, command, { expiresIn: 600 });
        const target = url.slice(url.indexOf('/', 'http://'.length));
        const question = target.indexOf('?');
        const result = signedResult({
          method: command instanceof GetObjectCommand ? 'GET' : 'PUT',
          rawPath: target.slice(0, question),
          rawQuery: target.slice(question + 1),
          headers: { host: `${HOST}:${PORT}` },
          now: new Date(),
        });
        assert.equal(result.region, 'us-west-2');
        assert.equal(result.presigned, true);
      }
    }
    client.destroy();
  });

  it('verifies a URL carrying a session token', async () => {
    const req = await presign({ sessionToken: 'FQoGZXIvYXdzE+/token=' });
    assert.match(req.rawQuery, /X-Amz-Security-Token=/);
    signedResult(req);
  });

  it('answers "Request has expired" once X-Amz-Expires has passed', async () => {
    const justValid = await presign({ expiresIn: 60, now: new Date(NOW.getTime() + 60_000) });
    signedResult(justValid);
    const expired = await presign({ expiresIn: 60, now: new Date(NOW.getTime() + 61_000) });
    const err = expectS3Error(() => auth(expired), 'AccessDenied', 'Request has expired', {
      'X-Amz-Expires': '60',
      Expires: '2026-01-01T12:01:00Z',
      ServerTime: '2026-01-01T12:01:01Z',
    });
    assert.equal(err.status, 403);
    // Skew does not apply to expiry: a week-old URL signed for a week is still good.
    signedResult(await presign({ expiresIn: 604800, now: new Date(NOW.getTime() + 604_799_000) }));
  });

  it('answers "Request is not yet valid" for a URL dated in the future', async () => {
    signedResult(await presign({ now: new Date(NOW.getTime() - 10 * 60_000) }));
    const early = await presign({ expiresIn: 3600, now: new Date(NOW.getTime() - 20 * 60_000) });
    expectS3Error(() => auth(early), 'AccessDenied', 'Request is not yet valid', {
      'X-Amz-Date': String(NOW.getTime()),
      Expires: '2026-01-01T13:00:00Z',
      ServerTime: '2026-01-01T11:40:00Z',
    });
  });

  it('validates X-Amz-Expires the way AWS does', async () => {
    const req = await presign({ expiresIn: 60 });
    const cases: Array<[string, string, string]> = [
      [
        '604801',
        'AuthorizationQueryParametersError',
        'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
      ],
      ['-1', 'AuthorizationQueryParametersError', 'X-Amz-Expires must be non-negative'],
      ['abc', 'AuthorizationQueryParametersError', 'X-Amz-Expires should be a number'],
      ['60.5', 'AuthorizationQueryParametersError', 'X-Amz-Expires should be a number'],
      ['0', 'AccessDenied', 'Request has expired'],
    ];
    for (const [value, code, message] of cases) {
      expectS3Error(() => auth(replaceParam(req, 'X-Amz-Expires', value)), code, message);
    }
    // In range but not what was signed.
    expectS3Error(() => auth(replaceParam(req, 'X-Amz-Expires', '61')), 'SignatureDoesNotMatch');
  });

  it('rejects malformed query parameters', async () => {
    const req = await presign();
    const required =
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';
    for (const name of [
      'X-Amz-Algorithm',
      'X-Amz-Date',
      'X-Amz-Expires',
      'X-Amz-SignedHeaders',
      'X-Amz-Signature',
      'X-Amz-Credential',
    ]) {
      expectS3Error(() => auth(dropParam(req, name)), 'AuthorizationQueryParametersError', required);
    }
    const credentialError = 'Error parsing the X-Amz-Credential parameter; ';
    const cases: Array<[string, string, string]> = [
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA1', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'],
      [
        'X-Amz-Credential',
        `${ACCESS_KEY}%2F20260101%2Fus-east-1%2Fs3`,
        `${credentialError}the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
      ],
      [
        'X-Amz-Credential',
        `${ACCESS_KEY}%2F20260101%2Fus-east-1%2Fsqs%2Faws4_request`,
        `${credentialError}incorrect service "sqs". This endpoint belongs to "s3".`,
      ],
      [
        'X-Amz-Credential',
        `${ACCESS_KEY}%2F20260101%2Fus-east-1%2Fs3%2Faws5_request`,
        `${credentialError}incorrect terminal "aws5_request". This endpoint uses "aws4_request".`,
      ],
      [
        'X-Amz-Credential',
        `${ACCESS_KEY}%2F20251231%2Fus-east-1%2Fs3%2Faws4_request`,
        `${credentialError}Invalid credential date. Date is not the same as X-Amz-Date.`,
      ],
      ['X-Amz-Date', '2026-01-01T12:00:00Z', "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""],
    ];
    for (const [name, value, message] of cases) {
      const err = expectS3Error(
        () => auth(replaceParam(req, name, value)),
        'AuthorizationQueryParametersError',
        message,
      );
      assert.equal(err.status, 400);
    }
  });

  it('answers SignatureDoesNotMatch, InvalidAccessKeyId and HeadersNotSigned like header auth', async () => {
    const req = await presign({ path: '/bucket/key' });
    expectS3Error(() => auth({ ...req, rawPath: '/bucket/other' }), 'SignatureDoesNotMatch');
    expectS3Error(() => auth({ ...req, method: 'DELETE' }), 'SignatureDoesNotMatch');
    expectS3Error(() => auth({ ...req, rawQuery: `${req.rawQuery}&versionId=1` }), 'SignatureDoesNotMatch');
    expectS3Error(() => auth(withHeaders(req, { host: 'evil:9000' })), 'SignatureDoesNotMatch');
    const wrongSecret = await presign({ secret: 'nope' });
    const err = expectS3Error(() => auth(wrongSecret), 'SignatureDoesNotMatch');
    assert.ok(!err.fields.CanonicalRequest.includes('X-Amz-Signature'), err.fields.CanonicalRequest);
    assert.ok(err.fields.CanonicalRequest.endsWith('\nhost\nUNSIGNED-PAYLOAD'), err.fields.CanonicalRequest);
    const unknownKey = await presign({ accessKeyId: 'AKIDUNKNOWN' });
    expectS3Error(() => auth(unknownKey), 'InvalidAccessKeyId', undefined, {
      AWSAccessKeyId: 'AKIDUNKNOWN',
    });
    expectS3Error(() => auth(withHeaders(req, { 'x-amz-acl': 'public-read' })), 'AccessDenied', undefined, {
      HeadersNotSigned: 'x-amz-acl',
    });
    expectS3Error(() => auth(replaceParam(req, 'X-Amz-SignedHeaders', '')), 'AccessDenied', undefined, {
      HeadersNotSigned: 'host',
    });
  });
});

describe('signing key cache', () => {
  it('derives once per (secret, date, region, service) and evicts the least recently used', () => {
    const cache = new SigningKeyCache(2);
    const a = cache.get(SECRET, '20260101', 'us-east-1', 's3');
    assert.deepEqual(a, deriveSigningKey(SECRET, '20260101', 'us-east-1', 's3'));
    assert.equal(cache.get(SECRET, '20260101', 'us-east-1', 's3'), a);
    const b = cache.get(SECRET, '20260101', 'eu-west-1', 's3');
    assert.notDeepEqual(a, b);
    assert.equal(cache.get(SECRET, '20260101', 'us-east-1', 's3'), a); // a is now most recent
    cache.get('other-secret', '20260101', 'us-east-1', 's3'); // evicts b
    assert.equal(cache.size, 2);
    assert.equal(cache.get(SECRET, '20260101', 'us-east-1', 's3'), a);
    assert.notEqual(cache.get(SECRET, '20260101', 'eu-west-1', 's3'), b);
  });

  it('keeps verifying across many requests with one authenticator', async () => {
    const authenticator = createAuthenticator(lookup, { signingKeyCacheSize: 1 });
    for (const region of ['us-east-1', 'eu-west-1', 'us-east-1']) {
      assert.equal(authenticator(await signHeader({ region })).kind, 'signed');
    }
  });
});
