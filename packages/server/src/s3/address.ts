import { S3Error } from '../core/errors.ts';

/**
 * Where a request points: path-style (`/bucket/key`) or virtual-hosted-style
 * (`bucket.localhost:9001/key`). Keys are data, never paths: they are percent-decoded once
 * and otherwise kept byte for byte, so `..` or `%2F` mean nothing special.
 */
export interface Address {
  bucket?: string;
  key?: string;
  style: 'path' | 'virtual';
}

export function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const i = host.lastIndexOf(':');
  return i === -1 ? host : host.slice(0, i);
}

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

export function parseAddress(host: string | undefined, rawPath: string, domains: readonly string[]): Address {
  const name = hostWithoutPort(host ?? '').toLowerCase();
  // The longest matching domain wins: with `localhost` and `s3.localhost`, `b.s3.localhost` is bucket `b`.
  for (const domain of [...domains].sort((a, b) => b.length - a.length)) {
    if (name.length > domain.length + 1 && name.endsWith('.' + domain)) {
      const bucket = name.slice(0, -domain.length - 1);
      const key = rawPath.length > 1 ? decode(rawPath.slice(1)) : undefined;
      return { bucket, key, style: 'virtual' };
    }
  }
  if (rawPath === '/' || rawPath === '') return { style: 'path' };
  const rest = rawPath.slice(1);
  const slash = rest.indexOf('/');
  if (slash === -1) return { bucket: decode(rest), style: 'path' };
  const bucket = decode(rest.slice(0, slash));
  const rawKey = rest.slice(slash + 1);
  return { bucket, key: rawKey === '' ? undefined : decode(rawKey), style: 'path' };
}

/**
 * S3's bucket naming rules (general purpose buckets): 3-63 characters of lower-case letters,
 * digits, dots and hyphens, starting and ending with a letter or digit, no adjacent dots, not
 * an IP address, and none of the reserved prefixes and suffixes.
 */
export function isValidBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..')) return false;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return false;
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return false;
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)) return false;
  return true;
}
