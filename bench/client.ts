/**
 * A minimal SigV4-signed S3 client for load generation: undici keep-alive pool, path-style
 * URLs, `x-amz-content-sha256: UNSIGNED-PAYLOAD`, region us-east-1. It does only what the
 * scenarios need, with none of the AWS SDK's per-request middleware cost, so the load
 * generator stays cheap next to the server it measures. The same code drives every target.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { Readable } from 'node:stream';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, HttpRequest, SourceData } from '@smithy/types';
import { Pool } from 'undici';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ClientOptions {
  endpoint: string;
  credentials: Credentials;
  /** Keep-alive connections in the pool. */
  connections: number;
  region?: string;
}

export class S3RequestError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
    super(`${method} ${path} -> ${status}${code ? ` ${code}` : ''}`);
    this.name = 'S3RequestError';
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 / HMAC-SHA256 from node:crypto in the shape @smithy/signature-v4 expects. */
class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** Encodes a key the way S3 canonicalises it: every byte but unreserved ones and '/'. */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

export class S3BenchClient {
  private readonly pool: Pool;
  private readonly signer: SignatureV4;
  private readonly url: URL;

  constructor(opts: ClientOptions) {
    this.url = new URL(opts.endpoint);
    this.pool = new Pool(this.url.origin, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
    });
    this.signer = new SignatureV4({
      service: 's3',
      region: opts.region ?? 'us-east-1',
      credentials: opts.credentials,
      sha256: NodeSha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  private async sign(
    method: string,
    path: string,
    query: Record<string, string> = {},
  ): Promise<Record<string, string>> {
    const request: HttpRequest = {
      method,
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: this.url.port ? Number(this.url.port) : undefined,
      path,
      query,
      headers: { host: this.url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    };
    const signed = await this.signer.sign(request);
    return signed.headers;
  }

  /** Creates the bucket; one that already exists and is ours counts as created. */
  async createBucket(bucket: string): Promise<void> {
    const path = `/${encodeKey(bucket)}`;
    const headers = await this.sign('PUT', path);
    const res = await this.pool.request({ method: 'PUT', path, headers: { ...headers, 'content-length': '0' } });
    const body = await res.body.text();
    if (res.statusCode === 409 && body.includes('BucketAlreadyOwnedByYou')) return;
    if (res.statusCode !== 200) throw new S3RequestError('PUT', path, res.statusCode, body);
  }

  /** Resolves with the version id the target assigned, if it answered one. */
  async putObject(
    bucket: string,
    key: string,
    body: Buffer | Readable,
    length: number,
    signal?: AbortSignal,
  ): Promise<{ versionId?: string }> {
    const path = `/${encodeKey(bucket)}/${encodeKey(key)}`;
    const headers = await this.sign('PUT', path);
    const res = await this.pool.request({
      method: 'PUT',
      path,
      headers: { ...headers, 'content-length': String(length), 'content-type': 'application/octet-stream' },
      body,
      signal,
    });
    if (res.statusCode !== 200) {
      throw new S3RequestError('PUT', path, res.statusCode, await res.body.text());
    }
    await res.body.dump();
    const versionId = res.headers['x-amz-version-id'];
    return { versionId: typeof versionId === 'string' ? versionId : undefined };
  }

  /** HeadObject (of one version, if given): whether it exists; other answers throw. */
  async headObject(bucket: string, key: string, versionId?: string, signal?: AbortSignal): Promise<boolean> {
    const path = `/${encodeKey(bucket)}/${encodeKey(key)}`;
    const query: Record<string, string> = versionId === undefined ? {} : { versionId };
    const headers = await this.sign('HEAD', path, query);
    const res = await this.pool.request({ method: 'HEAD', path, query, headers, signal });
    await res.body.dump();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw new S3RequestError('HEAD', path, res.statusCode, '');
  }

  /** A signed GET of a JSON document (Meridian's operator endpoints under `/_meridian/`). */
  async getJson(path: string, query: Record<string, string> = {}, signal?: AbortSignal): Promise<unknown> {
    const headers = await this.sign('GET', path, query);
    const res = await this.pool.request({ method: 'GET', path, query, headers, signal });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new S3RequestError('GET', path, res.statusCode, text);
    return JSON.parse(text) as unknown;
  }

  /** Reads the whole object and returns its length; the bytes are discarded. */
  async getObject(bucket: string, key: string, signal?: AbortSignal): Promise<number> {
    const path = `/${encodeKey(bucket)}/${encodeKey(key)}`;
    const headers = await this.sign('GET', path);
    const res = await this.pool.request({ method: 'GET', path, headers, signal });
    if (res.statusCode !== 200) {
      throw new S3RequestError('GET', path, res.statusCode, await res.body.text());
    }
    let n = 0;
    for await (const chunk of res.body) n += (chunk as Buffer).length;
    return n;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** For an aborted run: drops connections without waiting for in-flight requests. */
  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}
