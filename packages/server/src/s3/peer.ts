/**
 * Signed S3 requests from this region to another region of the world, as the world's
 * service identity (e.g. to read a destination bucket's versioning before accepting a
 * replication configuration, or a copy source that lives elsewhere).
 */
import { request, type Dispatcher } from 'undici';
import type { Catalog } from '../catalog/catalog.ts';
import { signRequest } from './auth/sign.ts';

/**
 * Whom the request is for: the service identity itself, the service identity acting for an
 * account (judged by the region as that account), or nobody (sent unsigned: anonymous).
 */
export type PeerCaller = { service: true } | { onBehalfOf: string } | { anonymous: true };

export interface PeerRequest {
  method: 'GET' | 'HEAD';
  /** percent-encoded */
  path: string;
  query?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  caller?: PeerCaller;
}

/** The region's answer with its body still streaming; undefined when it cannot be reached. */
export async function peerStream(
  catalog: Catalog,
  regionName: string,
  req: PeerRequest,
): Promise<Dispatcher.ResponseData | undefined> {
  const region = catalog.region(regionName);
  if (!region) return undefined;
  const url = new URL(region.endpoint);
  const caller = req.caller ?? { service: true };
  const base: Record<string, string> = { ...req.headers, host: url.host };
  if ('onBehalfOf' in caller) base['x-meridian-on-behalf-of'] = caller.onBehalfOf;
  const headers =
    'anonymous' in caller
      ? base
      : signRequest({
          method: req.method,
          path: req.path,
          query: req.query,
          headers: base,
          region: regionName,
          credentials: catalog.serviceKey(),
        });
  try {
    return await request(`${url.origin}${req.path}${req.query ? `?${req.query}` : ''}`, {
      method: req.method,
      headers,
      headersTimeout: req.timeoutMs ?? 5000,
      bodyTimeout: req.timeoutMs ?? 30_000,
    });
  } catch {
    return undefined;
  }
}

/** A small answer read whole; undefined when the region cannot be reached. */
export async function peerRequest(
  catalog: Catalog,
  regionName: string,
  req: PeerRequest,
): Promise<{ status: number; text: string } | undefined> {
  const res = await peerStream(catalog, regionName, { ...req, timeoutMs: req.timeoutMs ?? 5000 });
  if (!res) return undefined;
  try {
    return { status: res.statusCode, text: await res.body.text() };
  } catch {
    return undefined;
  }
}
