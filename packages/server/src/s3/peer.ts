/**
 * A signed S3 request from this region to another region of the world, as the world's
 * service identity (e.g. to read a destination bucket's versioning before accepting a
 * replication configuration). Undefined when the region cannot be reached.
 */
import { request } from 'undici';
import type { Catalog } from '../catalog/catalog.ts';
import { signRequest } from './auth/sign.ts';

export async function peerRequest(
  catalog: Catalog,
  regionName: string,
  req: { method: 'GET' | 'HEAD'; path: string; query?: string; timeoutMs?: number },
): Promise<{ status: number; text: string } | undefined> {
  const region = catalog.region(regionName);
  if (!region) return undefined;
  const url = new URL(region.endpoint);
  const headers = signRequest({
    method: req.method,
    path: req.path,
    query: req.query,
    headers: { host: url.host },
    region: regionName,
    credentials: catalog.serviceKey(),
  });
  try {
    const res = await request(`${url.origin}${req.path}${req.query ? `?${req.query}` : ''}`, {
      method: req.method,
      headers,
      headersTimeout: req.timeoutMs ?? 5000,
      bodyTimeout: req.timeoutMs ?? 5000,
    });
    return { status: res.statusCode, text: await res.body.text() };
  } catch {
    return undefined;
  }
}
