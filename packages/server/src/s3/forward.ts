import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Agent, type Dispatcher } from 'undici';
import { S3Error } from '../core/errors.ts';

/**
 * Passes a request through, unchanged, to the region that holds its bucket. Used when a
 * client signed a request for the bucket's region but sent it to another region's endpoint
 * (what the AWS SDK does after a 301 when it has a custom endpoint): the Host header, the
 * signature and the body stream go through as they are, so the owning region verifies the
 * client's own signature. Keep-alive pools per upstream; nothing is buffered.
 */
export class Forwarder {
  readonly #agent: Agent;

  constructor() {
    this.#agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  }

  async forward(req: IncomingMessage, res: ServerResponse, endpoint: string): Promise<void> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      headers[name] = value;
    }
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await this.#agent.request({
        origin: endpoint,
        path: req.url ?? '/',
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: hasBody ? req : undefined,
      });
    } catch {
      throw new S3Error('ServiceUnavailable', 'The region that holds this bucket is not reachable.');
    }
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      out[name] = value;
    }
    res.writeHead(upstream.statusCode, out);
    await pipeline(upstream.body, res);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** Headers of one connection, never passed on by a proxy (RFC 9110 §7.6.1), and `expect`. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);
