/**
 * AWS Signature Version 4 verification for S3 requests: the Authorization header form and
 * the presigned (query string) form. Errors are the codes and messages AWS S3 answers with.
 *
 * Usage: build one authenticator per server (it owns the signing-key cache) and call it for
 * every request before reading the body.
 *
 * ```ts
 * const auth = createAuthenticator((id) => credentials.get(id));
 * const q = req.url.indexOf('?');
 * const rawPath = q < 0 ? req.url : req.url.slice(0, q);
 * const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
 * const result = auth({ method: req.method, rawPath, rawQuery, headers: req.headers, now: new Date() });
 * if (result.kind === 'signed' && result.region !== myRegion) throw wrongRegion(result.region);
 * ```
 *
 * What the caller still owns: the region check (it knows the expected region and must answer
 * AuthorizationHeaderMalformed / AuthorizationQueryParametersError with a `Region` field),
 * whether anonymous access is allowed, verifying `sha256` payloads against the body, and
 * decoding streaming bodies with `createChunkedDecoder` (chunked.ts) using `signingKey`,
 * `signature`, `amzDate` and `scope` from the result.
 */

import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../../core/errors.ts';
import {
  canonicalHeaders,
  canonicalPath,
  canonicalQuery,
  decodeQueryComponent,
  parseQuery,
  type QueryParam,
} from './canonical.ts';
import {
  ALGORITHM,
  SCOPE_TERMINATOR,
  SigningKeyCache,
  hmacHex,
  sha256Hex,
  signaturesEqual,
  spacedHex,
} from './signing.ts';

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  /** the world's service identity */
  service?: boolean;
  /** the account's user the key belongs to (absent for the account's root key) */
  user?: string;
}

export type CredentialLookup = (accessKeyId: string) => Credential | undefined;

export interface AuthRequest {
  /** 'GET', 'PUT', ... as received. */
  method: string;
  /** The request-target path exactly as received, before '?', still percent-encoded. */
  rawPath: string;
  /** The raw query string after '?', '' if none, still percent-encoded. */
  rawQuery: string;
  /** Lower-cased names, as node gives them. */
  headers: IncomingHttpHeaders;
  now: Date;
}

export type PayloadMode =
  /** UNSIGNED-PAYLOAD (and presigned URLs without a payload hash). */
  | { kind: 'unsigned' }
  /** The body must hash to `hex` (lower-case); the caller checks it while reading. */
  | { kind: 'sha256'; hex: string }
  /** STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: decode with signing enabled. */
  | { kind: 'streaming-signed'; trailer: boolean }
  /** STREAMING-UNSIGNED-PAYLOAD-TRAILER: aws-chunked framing, no chunk signatures. */
  | { kind: 'streaming-unsigned-trailer' };

export interface SignedRequest {
  kind: 'signed';
  credential: Credential;
  /** Region in the credential scope; not validated here. */
  region: string;
  service: string;
  /** YYYYMMDDTHHMMSSZ, as used in the string to sign. */
  amzDate: string;
  /** date/region/service/aws4_request */
  scope: string;
  /** The request's signature (the seed signature for chunked uploads), hex. */
  signature: string;
  /** Derived key, for chunk signatures. */
  signingKey: Buffer;
  payload: PayloadMode;
  presigned: boolean;
}

export type AuthResult = SignedRequest | { kind: 'anonymous' };

export interface AuthenticatorOptions {
  /** Allowed difference between request time and server time; default 15 minutes, as AWS. */
  maxSkewMs?: number;
  /** How many derived signing keys to keep; default 256. */
  signingKeyCacheSize?: number;
}

export type Authenticator = (req: AuthRequest) => AuthResult;

const SERVICE = 's3';
const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGNED_EXPIRES_SECONDS = 604800;

const UNSUPPORTED_MECHANISM =
  'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';
const BOTH_MECHANISMS =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified';
const INVALID_DATE_HEADER = 'AWS authentication requires a valid Date or x-amz-date header';
const MISSING_CONTENT_SHA256 = 'Missing required header for this request: x-amz-content-sha256';
const INVALID_CONTENT_SHA256 =
  'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.';
const MALFORMED_CREDENTIAL =
  'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".';
const CREDENTIAL_DATE_MISMATCH = 'Invalid credential date. Date is not the same as X-Amz-Date.';
const QUERY_PARAMS_REQUIRED =
  'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';
const HEADERS_NOT_SIGNED = 'There were headers present in the request which were not signed';

interface Context {
  lookup: CredentialLookup;
  maxSkewMs: number;
  keys: SigningKeyCache;
}

/**
 * Builds the request authenticator. It throws `S3Error` for every request that carries
 * authentication and fails it, returns `{ kind: 'anonymous' }` when the request carries none,
 * and otherwise describes the verified request.
 *
 * @example
 * const auth = createAuthenticator((id) => (id === 'AKID' ? { accessKeyId: 'AKID', secretAccessKey: 's', accountId: '1' } : undefined));
 * auth({ method: 'GET', rawPath: '/', rawQuery: '', headers: {}, now: new Date() }); // { kind: 'anonymous' }
 */
export function createAuthenticator(lookup: CredentialLookup, opts: AuthenticatorOptions = {}): Authenticator {
  const ctx: Context = {
    lookup,
    maxSkewMs: opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
    keys: new SigningKeyCache(opts.signingKeyCacheSize),
  };
  return (req) => authenticateRequest(req, ctx);
}

/**
 * One-off convenience over `createAuthenticator`: builds a fresh authenticator (so nothing is
 * cached between calls). Servers should hold one `createAuthenticator` instead.
 */
export function authenticate(req: AuthRequest, lookup: CredentialLookup, opts?: { maxSkewMs?: number }): AuthResult {
  return createAuthenticator(lookup, opts)(req);
}

function authenticateRequest(req: AuthRequest, ctx: Context): AuthResult {
  const params = parseQuery(req.rawQuery);
  const authorization = firstValue(req.headers.authorization);
  const v4Query =
    hasParam(params, 'X-Amz-Algorithm') || hasParam(params, 'X-Amz-Credential') || hasParam(params, 'X-Amz-Signature');
  const v2Query = hasParam(params, 'Signature') || hasParam(params, 'AWSAccessKeyId');

  if (authorization !== undefined) {
    if (v4Query || v2Query) throw new S3Error('InvalidArgument', BOTH_MECHANISMS);
    return headerAuth(req, params, authorization, ctx);
  }
  if (v4Query) return queryAuth(req, params, ctx);
  if (v2Query) throw new S3Error('InvalidRequest', UNSUPPORTED_MECHANISM);
  return { kind: 'anonymous' };
}

// ---------------------------------------------------------------------------------------------
// Authorization header

function headerMalformed(detail: string): S3Error {
  return new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`);
}

function headerAuth(req: AuthRequest, params: QueryParam[], authorization: string, ctx: Context): SignedRequest {
  const trimmed = authorization.trim();
  const space = trimmed.search(/\s/);
  const scheme = space < 0 ? trimmed : trimmed.slice(0, space);
  const rest = space < 0 ? '' : trimmed.slice(space + 1);

  if (scheme === 'AWS') throw new S3Error('InvalidRequest', UNSUPPORTED_MECHANISM); // SigV2
  if (scheme === 'AWS4-ECDSA-P256-SHA256') {
    // SigV4a (multi-region access points) needs ECDSA verification; not implemented yet.
    throw new S3Error('NotImplemented', undefined, { fields: { Header: 'Authorization' } });
  }
  if (scheme !== ALGORITHM) {
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
      fields: { ArgumentName: 'Authorization', ArgumentValue: authorization },
    });
  }

  const components = parseAuthorizationComponents(rest);
  const scope = parseCredential(components.Credential, headerMalformed);
  const signedHeaders = splitSignedHeaders(components.SignedHeaders);
  if (signedHeaders.length === 0) {
    throw headerMalformed(`the authorization component "SignedHeaders=${components.SignedHeaders}" is malformed.`);
  }

  const date = requestDate(req.headers, signedHeaders);
  if (scope.date !== date.amzDate.slice(0, 8)) throw headerMalformed(CREDENTIAL_DATE_MISMATCH);

  const contentSha256 = firstValue(req.headers['x-amz-content-sha256']);
  if (contentSha256 === undefined) throw new S3Error('InvalidRequest', MISSING_CONTENT_SHA256);
  const payload = payloadMode(contentSha256);

  const now = req.now.getTime();
  if (Math.abs(now - date.time) > ctx.maxSkewMs) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      fields: {
        RequestTime: date.raw,
        ServerTime: isoSeconds(now),
        MaxAllowedSkewMilliseconds: String(ctx.maxSkewMs),
      },
    });
  }

  const credential = lookupCredential(ctx, scope.accessKeyId);
  requireSigned(req.headers, signedHeaders);
  const signingKey = ctx.keys.get(credential.secretAccessKey, scope.date, scope.region, scope.service);
  verifySignature({
    req,
    params,
    omitParam: undefined,
    signedHeaders,
    payloadHash: contentSha256,
    amzDate: date.amzDate,
    scope: scope.text,
    signingKey,
    provided: components.Signature,
    accessKeyId: scope.accessKeyId,
  });

  return {
    kind: 'signed',
    credential,
    region: scope.region,
    service: scope.service,
    amzDate: date.amzDate,
    scope: scope.text,
    signature: components.Signature,
    signingKey,
    payload,
    presigned: false,
  };
}

interface AuthorizationComponents {
  Credential: string;
  SignedHeaders: string;
  Signature: string;
}

/**
 * `Credential=..., SignedHeaders=..., Signature=...`. SDKs differ in the separators (", " or
 * ","); none of the three values can contain a comma or whitespace, so both are separators.
 */
function parseAuthorizationComponents(rest: string): AuthorizationComponents {
  const found: Partial<AuthorizationComponents> = {};
  for (const token of rest.split(/[\s,]+/)) {
    if (token === '') continue;
    const eq = token.indexOf('=');
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? '' : token.slice(eq + 1);
    if (
      (key !== 'Credential' && key !== 'SignedHeaders' && key !== 'Signature') ||
      value === '' ||
      found[key] !== undefined
    ) {
      throw headerMalformed(`the authorization component "${token}" is malformed.`);
    }
    found[key] = value;
  }
  if (found.Credential === undefined || found.SignedHeaders === undefined || found.Signature === undefined) {
    throw headerMalformed(
      'the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    );
  }
  return { Credential: found.Credential, SignedHeaders: found.SignedHeaders, Signature: found.Signature };
}

interface RequestDate {
  /** YYYYMMDDTHHMMSSZ for the string to sign. */
  amzDate: string;
  time: number;
  /** The header value as sent, for RequestTimeTooSkewed. */
  raw: string;
}

/** x-amz-date, or a signed Date header (RFC 1123, or ISO 8601 basic) when x-amz-date is absent. */
function requestDate(headers: IncomingHttpHeaders, signedHeaders: readonly string[]): RequestDate {
  const xAmzDate = firstValue(headers['x-amz-date']);
  if (xAmzDate !== undefined) {
    const time = parseAmzDate(xAmzDate);
    if (time === undefined) throw new S3Error('AccessDenied', INVALID_DATE_HEADER);
    return { amzDate: xAmzDate, time, raw: xAmzDate };
  }
  const date = firstValue(headers.date);
  if (date !== undefined && signedHeaders.includes('date')) {
    const time = parseAmzDate(date) ?? parseHttpDate(date);
    if (time !== undefined) return { amzDate: formatAmzDate(time), time, raw: date };
  }
  throw new S3Error('AccessDenied', INVALID_DATE_HEADER);
}

function payloadMode(value: string): PayloadMode {
  switch (value) {
    case 'UNSIGNED-PAYLOAD':
      return { kind: 'unsigned' };
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { kind: 'streaming-unsigned-trailer' };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return { kind: 'streaming-signed', trailer: false };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return { kind: 'streaming-signed', trailer: true };
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER':
      // Valid for S3, but SigV4a chunk signatures are not implemented.
      throw new S3Error('NotImplemented', undefined, { fields: { Header: 'x-amz-content-sha256' } });
  }
  if (/^[0-9a-fA-F]{64}$/.test(value)) return { kind: 'sha256', hex: value.toLowerCase() };
  throw new S3Error('InvalidArgument', INVALID_CONTENT_SHA256, {
    fields: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
  });
}

// ---------------------------------------------------------------------------------------------
// Presigned URLs

function queryMalformed(detail: string): S3Error {
  return new S3Error('AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter; ${detail}`);
}

function queryError(message: string): S3Error {
  return new S3Error('AuthorizationQueryParametersError', message);
}

function queryAuth(req: AuthRequest, params: QueryParam[], ctx: Context): SignedRequest {
  const algorithm = paramValue(params, 'X-Amz-Algorithm');
  const credentialText = paramValue(params, 'X-Amz-Credential');
  const amzDate = paramValue(params, 'X-Amz-Date');
  const expiresText = paramValue(params, 'X-Amz-Expires');
  const signedHeadersText = paramValue(params, 'X-Amz-SignedHeaders');
  const signature = paramValue(params, 'X-Amz-Signature');
  if (
    algorithm === undefined ||
    credentialText === undefined ||
    amzDate === undefined ||
    expiresText === undefined ||
    signedHeadersText === undefined ||
    signature === undefined
  ) {
    throw queryError(QUERY_PARAMS_REQUIRED);
  }
  if (algorithm !== ALGORITHM) throw queryError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');

  const scope = parseCredential(credentialText, queryMalformed);
  const time = parseAmzDate(amzDate);
  if (time === undefined) {
    throw queryError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  }
  if (scope.date !== amzDate.slice(0, 8)) throw queryMalformed(CREDENTIAL_DATE_MISMATCH);

  if (!/^-?\d+$/.test(expiresText)) throw queryError('X-Amz-Expires should be a number');
  const expires = Number(expiresText);
  if (expires < 0) throw queryError('X-Amz-Expires must be non-negative');
  if (expires > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw queryError(
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    );
  }

  const now = req.now.getTime();
  const expiresAt = time + expires * 1000;
  if (time - now > ctx.maxSkewMs) {
    // AWS really does spell X-Amz-Date as epoch milliseconds in this error.
    throw new S3Error('AccessDenied', 'Request is not yet valid', {
      fields: { 'X-Amz-Date': String(time), Expires: isoSeconds(expiresAt), ServerTime: isoSeconds(now) },
    });
  }
  // X-Amz-Expires=0 is a URL that is never valid (AWS answers 403, not a parameter error).
  if (expires === 0 || now > expiresAt) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      fields: { 'X-Amz-Expires': expiresText, Expires: isoSeconds(expiresAt), ServerTime: isoSeconds(now) },
    });
  }

  const credential = lookupCredential(ctx, scope.accessKeyId);

  // The presigner's payload hash travels as a (signed) query parameter; a header is the
  // other place a signer may have put it; otherwise presigned URLs sign UNSIGNED-PAYLOAD.
  const payloadHash =
    paramValue(params, 'X-Amz-Content-Sha256') ?? firstValue(req.headers['x-amz-content-sha256']) ?? 'UNSIGNED-PAYLOAD';
  const payload = payloadMode(payloadHash);

  // An empty list is not malformed: it fails below as "host not signed", as on AWS.
  const signedHeaders = splitSignedHeaders(signedHeadersText);
  requireSigned(req.headers, signedHeaders);
  const signingKey = ctx.keys.get(credential.secretAccessKey, scope.date, scope.region, scope.service);
  verifySignature({
    req,
    params,
    omitParam: 'X-Amz-Signature',
    signedHeaders,
    payloadHash,
    amzDate,
    scope: scope.text,
    signingKey,
    provided: signature,
    accessKeyId: scope.accessKeyId,
  });

  return {
    kind: 'signed',
    credential,
    region: scope.region,
    service: scope.service,
    amzDate,
    scope: scope.text,
    signature,
    signingKey,
    payload,
    presigned: true,
  };
}

// ---------------------------------------------------------------------------------------------
// Shared

interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  /** date/region/service/aws4_request */
  text: string;
}

function parseCredential(value: string, malformed: (detail: string) => S3Error): Scope {
  const parts = value.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) throw malformed(MALFORMED_CREDENTIAL);
  const [accessKeyId, date, region, service, terminator] = parts;
  if (terminator !== SCOPE_TERMINATOR) {
    throw malformed(`incorrect terminal "${terminator}". This endpoint uses "${SCOPE_TERMINATOR}".`);
  }
  if (service !== SERVICE) throw malformed(`incorrect service "${service}". This endpoint belongs to "${SERVICE}".`);
  // The date's shape is checked by comparing it with the request date.
  return { accessKeyId, date, region, service, text: `${date}/${region}/${service}/${SCOPE_TERMINATOR}` };
}

function splitSignedHeaders(value: string): string[] {
  return value
    .split(';')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

/** AWS access key ids are 16 to 128 characters; a longer one is not looked up at all. */
const MAX_ACCESS_KEY_ID = 128;

function lookupCredential(ctx: Context, accessKeyId: string): Credential {
  // A key store may refuse an over-long lookup key with an error (LMDB keys are < 2 KB).
  const credential = accessKeyId.length <= MAX_ACCESS_KEY_ID ? ctx.lookup(accessKeyId) : undefined;
  if (credential === undefined) {
    throw new S3Error('InvalidAccessKeyId', undefined, { fields: { AWSAccessKeyId: accessKeyId } });
  }
  return credential;
}

/**
 * AWS refuses requests whose Host or x-amz-* headers are not covered by the signature: they
 * would otherwise let whoever relays a signed request add or retarget behaviour (a copy
 * source, an ACL, another virtual-hosted bucket). x-amz-content-sha256 is exempt because the
 * canonical request's payload line binds its value anyway.
 */
function requireSigned(headers: IncomingHttpHeaders, signedHeaders: readonly string[]): void {
  const signed = new Set(signedHeaders);
  const notSigned: string[] = [];
  for (const name of Object.keys(headers)) {
    if (signed.has(name) || headers[name] === undefined) continue;
    if (name === 'host' || (name.startsWith('x-amz-') && name !== 'x-amz-content-sha256')) notSigned.push(name);
  }
  if (notSigned.length > 0) {
    throw new S3Error('AccessDenied', HEADERS_NOT_SIGNED, {
      fields: { HeadersNotSigned: notSigned.sort().join(', ') },
    });
  }
}

interface VerifyArgs {
  req: AuthRequest;
  params: readonly QueryParam[];
  omitParam: string | undefined;
  signedHeaders: readonly string[];
  payloadHash: string;
  amzDate: string;
  scope: string;
  signingKey: Buffer;
  provided: string;
  accessKeyId: string;
}

function verifySignature(a: VerifyArgs): void {
  const canonicalRequest = [
    a.req.method,
    canonicalPath(a.req.rawPath),
    canonicalQuery(a.params, a.omitParam),
    canonicalHeaders(a.req.headers, a.signedHeaders),
    a.signedHeaders.join(';'),
    a.payloadHash,
  ].join('\n');
  // Node decodes header bytes as latin1, so latin1 gives back the bytes the client hashed.
  // Callers constructing requests by hand may pass real Unicode; hash those as UTF-8.
  const canonicalBytes = Buffer.from(canonicalRequest, isLatin1(canonicalRequest) ? 'latin1' : 'utf8');
  const stringToSign = `${ALGORITHM}\n${a.amzDate}\n${a.scope}\n${sha256Hex(canonicalBytes)}`;
  const expected = hmacHex(a.signingKey, stringToSign);
  if (!signaturesEqual(expected, a.provided)) {
    throw new S3Error('SignatureDoesNotMatch', undefined, {
      fields: {
        AWSAccessKeyId: a.accessKeyId,
        StringToSign: stringToSign,
        SignatureProvided: a.provided,
        StringToSignBytes: spacedHex(Buffer.from(stringToSign, 'utf8')),
        CanonicalRequest: canonicalRequest,
        CanonicalRequestBytes: spacedHex(canonicalBytes),
      },
    });
  }
}

function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function findParam(params: readonly QueryParam[], name: string): QueryParam | undefined {
  const lower = name.toLowerCase();
  return params.find((p) => p.name.toLowerCase() === lower);
}

function hasParam(params: readonly QueryParam[], name: string): boolean {
  return findParam(params, name) !== undefined;
}

/** Decoded value of the first parameter with this name (names compared case-insensitively). */
function paramValue(params: readonly QueryParam[], name: string): string | undefined {
  const param = findParam(params, name);
  return param === undefined ? undefined : decodeQueryComponent(param.value);
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** YYYYMMDDTHHMMSSZ to epoch ms; undefined unless it is a real calendar time. */
function parseAmzDate(value: string): number | undefined {
  const m = AMZ_DATE.exec(value);
  if (m === null) return undefined;
  const time = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  // Date.UTC rolls 2026-02-30 over into March; a round trip catches that.
  return formatAmzDate(time) === value ? time : undefined;
}

function parseHttpDate(value: string): number | undefined {
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

function formatAmzDate(time: number): string {
  return new Date(time)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** 2026-01-01T00:00:00Z: AWS's spelling of times in error fields (no milliseconds). */
function isoSeconds(time: number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
