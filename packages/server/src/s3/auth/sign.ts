/**
 * Signs an outgoing S3 request with SigV4 (the `Authorization` header, unsigned payload):
 * what a region uses to call another region, built on the same canonical forms that
 * verification uses, so both sides agree byte for byte.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { canonicalHeaders, canonicalPath, canonicalQuery, parseQuery } from './canonical.ts';
import { ALGORITHM, SCOPE_TERMINATOR, deriveSigningKey, hmacHex, sha256Hex } from './signing.ts';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RequestToSign {
  method: string;
  /** the path as it will be sent, already percent-encoded */
  path: string;
  /** the query string as it will be sent, without '?' */
  query?: string;
  /** lower-case names; `host` must be present */
  headers: Record<string, string>;
  region: string;
  credentials: SigningCredentials;
  now?: Date;
  /** `x-amz-content-sha256` (default UNSIGNED-PAYLOAD) */
  payload?: string;
}

/** Derived keys (four HMACs each) by secret, day and region: one derivation a day per region. */
const keys = new Map<string, Buffer>();

function signingKey(secret: string, date: string, region: string): Buffer {
  const id = `${secret}\u0000${date}\u0000${region}`;
  let key = keys.get(id);
  if (!key) {
    if (keys.size >= 256) keys.clear();
    key = deriveSigningKey(secret, date, region, 's3');
    keys.set(id, key);
  }
  return key;
}

/** The request's headers plus `x-amz-date`, `x-amz-content-sha256` and `authorization`. */
export function signRequest(req: RequestToSign): Record<string, string> {
  const now = req.now ?? new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...req.headers,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': req.payload ?? 'UNSIGNED-PAYLOAD',
  };
  const signed = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .filter((h) => h === 'host' || h.startsWith('x-amz-') || h.startsWith('x-meridian-') || h === 'content-type' || h === 'content-md5')
    .sort();
  const scope = `${date}/${req.region}/s3/${SCOPE_TERMINATOR}`;
  const canonical = [
    req.method,
    canonicalPath(req.path),
    canonicalQuery(parseQuery(req.query ?? '')),
    canonicalHeaders(headers as IncomingHttpHeaders, signed),
    signed.join(';'),
    req.payload ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(Buffer.from(canonical, 'utf8'))}`;
  const key = signingKey(req.credentials.secretAccessKey, date, req.region);
  headers.authorization =
    `${ALGORITHM} Credential=${req.credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signed.join(';')}, Signature=${hmacHex(key, stringToSign)}`;
  return headers;
}
