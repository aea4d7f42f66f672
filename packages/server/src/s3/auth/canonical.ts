/**
 * The pieces of a SigV4 canonical request, computed from the request exactly as it arrived.
 *
 * S3 differs from other AWS services: the path is neither normalised ('.', '..', '//' stay)
 * nor double-encoded. Clients still differ in how they spell the same bytes ('~' vs '%7E',
 * '%2f' vs '%2F'), so every path segment, query name and query value is percent-decoded to
 * bytes and re-encoded with the RFC 3986 unreserved set, which is what AWS SDK signers emit
 * (`encodeURIComponent` plus `!'()*`).
 */

import type { IncomingHttpHeaders } from 'node:http';

const HEX_DIGITS = '0123456789ABCDEF';

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x7e // ~
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * Percent-decodes to bytes. A '%' not followed by two hex digits is kept literally (it will be
 * re-encoded as %25) rather than rejected: rejecting is the router's call, not the signer's.
 * Working on bytes keeps invalid UTF-8 such as `%FF` intact through the round trip.
 */
function percentDecode(s: string, plusIsSpace: boolean): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out.push((hi << 4) | lo);
        i += 2;
        continue;
      }
      out.push(c);
    } else if (c === 0x2b && plusIsSpace) {
      out.push(0x20);
    } else if (c < 0x80) {
      out.push(c);
    } else {
      // A raw non-ASCII character: its UTF-8 bytes (surrogate pairs taken together).
      const cp = s.codePointAt(i) ?? c;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return Buffer.from(out);
}

function percentEncode(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (isUnreserved(b)) out += String.fromCharCode(b);
    else out += `%${HEX_DIGITS[b >> 4]}${HEX_DIGITS[b & 15]}`;
  }
  return out;
}

function allUnreserved(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isUnreserved(s.charCodeAt(i))) return false;
  return true;
}

/** Decode then re-encode with the unreserved set. `plusIsSpace` for query components. */
export function normalizeComponent(raw: string, plusIsSpace: boolean): string {
  if (allUnreserved(raw)) return raw;
  return percentEncode(percentDecode(raw, plusIsSpace));
}

/**
 * A query component as text, for reading auth parameters. '+' means space, as in HTML forms
 * and `URLSearchParams`, so that the router and the signer read the same value.
 */
export function decodeQueryComponent(raw: string): string {
  if (allUnreserved(raw)) return raw;
  return percentDecode(raw, true).toString('utf8');
}

/** Canonical URI: each '/'-separated segment normalised; an empty path is '/'. */
export function canonicalPath(rawPath: string): string {
  if (rawPath === '') return '/';
  return rawPath
    .split('/')
    .map((segment) => normalizeComponent(segment, false))
    .join('/');
}

export interface QueryParam {
  /** Canonical (normalised, encoded) name. */
  name: string;
  /** Canonical (normalised, encoded) value; '' for `?acl` and `?acl=` alike. */
  value: string;
}

/** Splits a raw query string into canonical name/value pairs, in arrival order. */
export function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (rawQuery === '') return params;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    params.push({ name: normalizeComponent(name, true), value: normalizeComponent(value, true) });
  }
  return params;
}

/**
 * Canonical query string: pairs sorted by name then value (byte order; every character is
 * ASCII after encoding), `name=value` joined with '&'. `omit` drops a parameter by name,
 * case-insensitively (X-Amz-Signature in presigned URLs).
 */
export function canonicalQuery(params: readonly QueryParam[], omit?: string): string {
  const lowerOmit = omit?.toLowerCase();
  const kept = lowerOmit === undefined ? [...params] : params.filter((p) => p.name.toLowerCase() !== lowerOmit);
  kept.sort((a, b) => compare(a.name, b.name) || compare(a.value, b.value));
  return kept.map((p) => `${p.name}=${p.value}`).join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A header's canonical value: values of a repeated header joined with ',', surrounding
 * whitespace trimmed and inner runs of spaces/tabs collapsed to one space. Node has already
 * joined most repeated headers with ', ', which cannot be told apart from one value
 * containing ', '; SDKs never repeat signed headers, so this matters only in theory.
 * A signed header missing from the request canonicalises to '' and the signature then fails.
 */
export function canonicalHeaderValue(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  const joined = Array.isArray(value) ? value.map(trimAll).join(',') : trimAll(value);
  return joined;
}

function trimAll(v: string): string {
  return v.replace(/[ \t]+/g, ' ').trim();
}

/** The canonical headers block (each `name:value\n`) for the given signed header names. */
export function canonicalHeaders(headers: IncomingHttpHeaders, signedHeaders: readonly string[]): string {
  let out = '';
  for (const name of signedHeaders) out += `${name}:${canonicalHeaderValue(headers[name])}\n`;
  return out;
}
