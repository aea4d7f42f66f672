/**
 * The MRAP data plane: a request addressed to a Multi-Region Access Point — virtual-hosted
 * `<alias>.mrap.<domain>`, path-style `/<alias>.mrap/<key>`, or the access point's ARN — is
 * checked (signature, supported operation), sent to the bucket of the nearest healthy active
 * region, and answered with that region's response, unchanged. Bodies stream both ways.
 *
 * The router acts for the caller: it verifies the client's SigV4 signature, then signs the
 * forwarded request as the world's service identity with `x-meridian-on-behalf-of` naming the
 * caller's account, so the region applies its own rules to that account.
 *
 * A region that cannot be reached is reported to `RegionHealth` (taken out of routing) and,
 * for requests that change nothing or whose body was small enough to keep, the next region
 * is tried. Multipart uploads stay in the region where they began.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, type Dispatcher } from 'undici';
import type { Catalog, MrapRecord, MrapRegion } from '../catalog/catalog.ts';
import { S3Error } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { evaluate, isPublicPolicy, parsePolicy, type Policy } from '../policy/index.ts';
import { ACCESS_POINT_BLOCK_HEADER, encodeAccessPointBlock } from '../s3/authorize.ts';
import { signRequest } from '../s3/auth/sign.ts';
import { createAuthenticator, type Authenticator, type SignedRequest } from '../s3/auth/sigv4.ts';
import { requestBody } from '../s3/body.ts';
import { HOP_BY_HOP as CONNECTION_HEADERS } from '../s3/forward.ts';
import type { RoutedRequest } from '../s3/server.ts';
import { matchRoute } from '../s3/router.ts';
import type { RegionHealth } from './health.ts';
import { MRAP_OPERATIONS, READ_OPERATIONS, UPLOAD_OPERATIONS, routeCandidates } from './routing.ts';

/** A region served by this process: the router hands it requests without an HTTP hop. */
export interface LocalRegion {
  serveRouted(req: IncomingMessage, res: ServerResponse, routed: RoutedRequest): Promise<boolean>;
}

export interface RouterOptions {
  catalog: Catalog;
  /** the regions of this process, by name (the rest are reached over HTTP) */
  local?: (region: string) => LocalRegion | undefined;
  health: RegionHealth;
  log: Logger;
  /** base domains for `<alias>.mrap.<domain>` addressing */
  domains: readonly string[];
  /** bodies up to this size are kept so the request can go to another region (default 64 KiB) */
  replayableBodyBytes?: number;
  now?: () => Date;
}

/** What the global server hands over for each request. */
export interface RequestInfo {
  requestId: string;
  hostId: string;
  rawPath: string;
  rawQuery: string;
}

interface Addressed {
  alias: string;
  /** the rest of the path after the access point, still percent-encoded ('' or '/key...') */
  rest: string;
}

/** The payload as the region receives it; a replayable one can be opened again. */
interface ForwardBody {
  replayable: boolean;
  open?: () => { stream: Readable; headers: Record<string, string> };
}

/** Per MRAP and region: what went through. */
interface Counters {
  requests: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
  failovers: number;
  totalMs: number;
}

/** Answers up to this size are read whole and sent in one write. */
const SMALL_ANSWER = 64 * 1024;

/** What the router never passes on: a connection's own headers, and the client's Host. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([...CONNECTION_HEADERS, 'host']);

/** Headers of the client's own signature and framing, which the forwarded request replaces. */
const CLIENT_ONLY = new Set([
  'authorization',
  'x-amz-date',
  'x-amz-content-sha256',
  'x-amz-security-token',
  'x-amz-decoded-content-length',
  'content-length',
  'x-meridian-on-behalf-of',
]);

export class MrapRouter {
  readonly #opts: RouterOptions;
  readonly #authenticate: Authenticator;
  readonly #agent = new Agent({ keepAliveTimeout: 10_000, connections: 128 });
  /** upload id → region where the upload began */
  readonly #uploads = new Map<string, string>();
  readonly #counters = new Map<string, Counters>();
  /** parsed access point policies, by their text */
  readonly #policies = new Map<string, Policy>();

  constructor(opts: RouterOptions) {
    this.#opts = opts;
    this.#authenticate = createAuthenticator((id) => opts.catalog.accessKey(id));
  }

  /**
   * The global server's data-plane hook. What it throws, the global server answers with S3's
   * error document (and names in its log line and metrics).
   */
  readonly handle = async (req: IncomingMessage, res: ServerResponse, info: RequestInfo): Promise<void> => {
    if (info.rawPath === '/_meridian/mrap/metrics') return this.#sendMetrics(res);
    await this.#route(req, res, info);
  };

  #address(req: IncomingMessage, rawPath: string): Addressed | undefined {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    for (const domain of this.#opts.domains) {
      const suffix = `.mrap.${domain.toLowerCase()}`;
      if (host.endsWith(suffix)) return { alias: `${host.slice(0, -suffix.length)}.mrap`, rest: rawPath === '/' ? '' : rawPath };
    }
    const slash = rawPath.indexOf('/', 1);
    const first = slash === -1 ? rawPath.slice(1) : rawPath.slice(1, slash);
    const rest = slash === -1 ? '' : rawPath.slice(slash);
    if (/^[a-z][a-z0-9]*\.mrap$/.test(first)) return { alias: first, rest };
    // The ARN as the bucket: arn:aws:s3::<account>:accesspoint/<alias>, raw or percent-encoded.
    const decoded = safeDecode(rawPath.slice(1));
    const arn = /^arn:aws:s3::\d{12}:accesspoint\/([a-z][a-z0-9]*\.mrap)(\/.*)?$/.exec(decoded ?? '');
    if (arn) {
      const key = arn[2] ?? '';
      return { alias: arn[1], rest: key === '' ? '' : `/${key.slice(1).split('/').map(encodeSegment).join('/')}` };
    }
    return undefined;
  }

  async #route(req: IncomingMessage, res: ServerResponse, info: RequestInfo): Promise<void> {
    const started = performance.now();
    const addressed = this.#address(req, info.rawPath);
    if (!addressed) {
      throw new S3Error('InvalidRequest', 'The global endpoint serves Multi-Region Access Points: address one as <alias>.mrap.');
    }
    const mrap = this.#opts.catalog.mrapByAlias(addressed.alias);
    if (!mrap) {
      throw new S3Error('NoSuchBucket', 'The specified Multi-Region Access Point does not exist', {
        fields: { BucketName: addressed.alias },
      });
    }
    if (mrap.status !== 'READY') {
      throw new S3Error('ServiceUnavailable', `The Multi-Region Access Point is ${mrap.status}, not READY.`);
    }
    const auth = this.#authenticate({
      method: req.method ?? 'GET',
      rawPath: info.rawPath,
      rawQuery: info.rawQuery,
      headers: req.headers,
      now: this.#opts.now?.() ?? new Date(),
    });
    // Anonymous requests are not supported through an MRAP (spec D.1).
    if (auth.kind === 'anonymous') throw new S3Error('AccessDenied');
    const query = new URLSearchParams(info.rawQuery);
    const key = safeDecode(addressed.rest.slice(1)) ?? '';
    const match = matchRoute({
      method: req.method ?? 'GET',
      target: key !== '' ? 'object' : 'bucket',
      query,
      hasHeader: (name) => req.headers[name] !== undefined,
    });
    const op = match.kind === 'route' ? match.route.op : undefined;
    if (!op || !MRAP_OPERATIONS.has(op)) {
      throw new S3Error('InvalidRequest', `${op ?? 'This operation'} is not supported through a Multi-Region Access Point.`, {
        fields: op ? { Operation: op } : {},
      });
    }
    this.#checkAccessPointPolicy(mrap, auth, match.kind === 'route' ? match.route.action : '', key, req);

    let candidates = routeCandidates(mrap, this.#opts.health);
    const uploadId = query.get('uploadId');
    if (uploadId !== null && UPLOAD_OPERATIONS.has(op)) {
      const region = this.#uploads.get(uploadId) ?? (await this.#findUpload(mrap, addressed.rest, uploadId));
      candidates = mrap.regions.filter((r) => r.region === region);
      if (candidates.length === 0) {
        throw new S3Error('NoSuchUpload', undefined, { fields: { UploadId: uploadId } });
      }
    }
    if (candidates.length === 0) throw new S3Error('ServiceUnavailable', 'No region of this Multi-Region Access Point is active.');

    // In-process regions are served directly, unless the router must read the answer first
    // (an upload id to pin, a 404 to fall back from).
    const readsAnswer =
      op === 'CreateMultipartUpload' || (mrap.options?.readFallback === true && (op === 'GetObject' || op === 'HeadObject'));
    let body: ForwardBody | undefined;
    for (let i = 0; i < candidates.length; i++) {
      const target = candidates[i];
      const counters = this.#count(mrap, target.region);
      counters.requests++;
      if (i > 0) counters.failovers++;
      const last = i === candidates.length - 1;
      const local = body === undefined && !readsAnswer ? this.#opts.local?.(target.region) : undefined;
      if (local) {
        const served = await local.serveRouted(req, res, {
          bucket: target.bucket,
          key: key === '' ? undefined : key,
          rawQuery: info.rawQuery,
          auth,
          accessPointBlock: mrap.publicAccessBlock,
        });
        if (served) {
          this.#counted(res, counters, started);
          return;
        }
        // Down: nothing of the request was read, so any next region can take it.
        this.#opts.health.reportFailure(target.region);
        counters.errors++;
        if (last) throw new S3Error('ServiceUnavailable', 'The region serving this request is not reachable.');
        continue;
      }
      body ??= await this.#body(req, auth);
      const retryable = READ_OPERATIONS.has(op) || body.replayable;
      let upstream: Dispatcher.ResponseData;
      try {
        upstream = await this.#forward(req, mrap, target, addressed.rest, info.rawQuery, auth, body);
      } catch (err) {
        this.#opts.health.reportFailure(target.region);
        counters.errors++;
        if (!retryable || last) {
          this.#opts.log.warn({ region: target.region, err: (err as Error).message }, 'MRAP request could not reach its region');
          throw new S3Error('ServiceUnavailable', 'The region serving this request is not reachable.');
        }
        continue;
      }
      if (upstream.statusCode >= 500) counters.errors++;
      // Opt-in read fallback: not there yet (replication lags) may mean there in another region.
      const fallback =
        upstream.statusCode === 404 &&
        mrap.options?.readFallback === true &&
        (op === 'GetObject' || op === 'HeadObject') &&
        !last &&
        this.#opts.health.healthy(candidates[i + 1].region);
      if (fallback) {
        await upstream.body.dump();
        continue;
      }
      await this.#answer(res, upstream, op, target, counters);
      counters.bytesIn += requestBytes(req);
      counters.totalMs += performance.now() - started;
      return;
    }
  }

  /** Counts an answer a region of this process wrote itself, once it is done. */
  #counted(res: ServerResponse, counters: Counters, started: number): void {
    const done = () => {
      if (res.statusCode >= 500) counters.errors++;
      const length = res.req.method === 'HEAD' ? 0 : Number(res.getHeader('content-length') ?? 0);
      if (Number.isFinite(length)) counters.bytesOut += length;
      counters.bytesIn += requestBytes(res.req);
      counters.totalMs += performance.now() - started;
    };
    if (res.writableFinished) done();
    else res.once('close', done);
  }

  /**
   * The access point's own policy, as AWS applies it before the bucket's: an explicit Deny
   * refuses anyone; another account needs an Allow, which Block Public Access (on for every
   * MRAP unless created otherwise) takes away when the policy is public. The owner's account
   * needs no Allow. The region then judges the request by the bucket's own rules.
   */
  #checkAccessPointPolicy(mrap: MrapRecord, auth: SignedRequest, action: string, key: string, req: IncomingMessage): void {
    const account = auth.credential.accountId;
    const owner = account === mrap.account;
    const text = mrap.policy?.established;
    if (text === undefined) {
      if (!owner) throw new S3Error('AccessDenied');
      return;
    }
    const arn = `arn:aws:s3::${mrap.account}:accesspoint/${mrap.alias}`;
    let policy = this.#policies.get(text);
    if (!policy) {
      policy = parsePolicy(text, { kind: 'mrap', resourceArns: [arn] });
      if (this.#policies.size > 1000) this.#policies.clear();
      this.#policies.set(text, policy);
    }
    const decision = evaluate([policy], {
      principal: { type: 'account', account, user: auth.credential.user },
      action,
      resource: key === '' ? arn : `${arn}/object/${key}`,
      keys: { 'aws:SourceIp': req.socket.remoteAddress ?? '', 'aws:SecureTransport': false },
      now: new Date(),
    });
    if (decision === 'Deny') throw new S3Error('AccessDenied');
    if (owner) return;
    // The access point's own setting or its account's (S3 Control PutPublicAccessBlock).
    const restrict =
      mrap.publicAccessBlock.restrictPublicBuckets || this.#opts.catalog.accountPublicAccessBlock(mrap.account)?.restrictPublicBuckets === true;
    const restricted = restrict && isPublicPolicy(policy);
    if (decision !== 'Allow' || restricted) throw new S3Error('AccessDenied');
  }

  /** The payload as the region should receive it; small ones are kept for a second attempt. */
  async #body(
    req: IncomingMessage,
    auth: SignedRequest,
  ): Promise<ForwardBody> {
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody || req.headers['content-length'] === '0') return { replayable: true };
    const decoded = requestBody(req, auth);
    const trailerNames = (req.headers['x-amz-trailer'] as string | undefined)?.trim();
    const limit = this.#opts.replayableBodyBytes ?? 64 * 1024;
    if (!trailerNames && decoded.length !== undefined && decoded.length <= limit) {
      const chunks: Buffer[] = [];
      for await (const c of decoded.stream as AsyncIterable<Buffer>) chunks.push(c);
      if (decoded.stream.errored) throw decoded.stream.errored;
      const bytes = Buffer.concat(chunks);
      return {
        replayable: true,
        open: () => ({ stream: Readable.from([bytes]), headers: { 'content-length': String(bytes.length) } }),
      };
    }
    if (!trailerNames) {
      return {
        replayable: false,
        open: () => ({
          stream: decoded.stream,
          headers: decoded.length !== undefined ? { 'content-length': String(decoded.length) } : ({} as Record<string, string>),
        }),
      };
    }
    // A trailing checksum travels on: the decoded bytes are framed again as aws-chunked with
    // an unsigned trailer, which the region verifies.
    return {
      replayable: false,
      open: () => ({
        stream: Readable.from(reframe(decoded.stream, decoded.trailers), { objectMode: false }),
        headers: {
          'content-encoding': 'aws-chunked',
          'x-amz-trailer': trailerNames,
          ...(decoded.length !== undefined ? { 'x-amz-decoded-content-length': String(decoded.length) } : {}),
        },
      }),
    };
  }

  async #forward(
    req: IncomingMessage,
    mrap: MrapRecord,
    target: MrapRegion,
    rest: string,
    rawQuery: string,
    auth: SignedRequest,
    body: ForwardBody,
  ): Promise<Dispatcher.ResponseData> {
    const region = this.#opts.catalog.region(target.region);
    if (!region) throw new Error(`region ${target.region} has no endpoint`);
    const url = new URL(region.endpoint);
    const path = `/${target.bucket}${rest}`;
    const opened = body.open?.();
    const headers = forwardedHeaders(req.headers);
    Object.assign(headers, opened?.headers ?? {}, {
      host: url.host,
      'x-meridian-on-behalf-of': auth.credential.accountId,
      // The region applies the access point's Block Public Access with the bucket's and the account's.
      [ACCESS_POINT_BLOCK_HEADER]: encodeAccessPointBlock(mrap.publicAccessBlock),
    });
    const signed = signRequest({
      method: req.method ?? 'GET',
      path,
      query: rawQuery,
      headers,
      region: target.region,
      credentials: this.#opts.catalog.serviceKey(),
      payload: opened?.headers['x-amz-trailer'] ? 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' : undefined,
    });
    return this.#agent.request({
      origin: url.origin,
      path: rawQuery ? `${path}?${rawQuery}` : path,
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: signed,
      body: opened?.stream,
    });
  }

  async #answer(
    res: ServerResponse,
    upstream: Dispatcher.ResponseData,
    op: string,
    target: MrapRegion,
    counters: Counters,
  ): Promise<void> {
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      out[name] = value;
    }
    if (op === 'CreateMultipartUpload' && upstream.statusCode === 200) {
      // Small: read it to pin the new upload to this region.
      const text = await upstream.body.text();
      const id = /<UploadId>([^<]+)<\/UploadId>/.exec(text)?.[1];
      if (id) this.#pin(id, target.region);
      out['content-length'] = String(Buffer.byteLength(text));
      res.writeHead(upstream.statusCode, out);
      res.end(text);
      return;
    }
    const length = Number(upstream.headers['content-length'] ?? 0);
    if (Number.isFinite(length)) counters.bytesOut += length;
    if (Number.isFinite(length) && length <= SMALL_ANSWER) {
      // A small answer goes out in one write: cheaper than a stream pipeline per request.
      const bytes = Buffer.from(await upstream.body.arrayBuffer());
      res.writeHead(upstream.statusCode, out);
      res.end(bytes);
      return;
    }
    res.writeHead(upstream.statusCode, out);
    await pipeline(upstream.body, res).catch((err: unknown) => {
      this.#opts.log.debug({ err }, 'MRAP response not fully sent');
      res.destroy();
    });
  }

  #pin(uploadId: string, region: string): void {
    if (this.#uploads.size >= 100_000) this.#uploads.delete(this.#uploads.keys().next().value as string);
    this.#uploads.set(uploadId, region);
  }

  /** Asks each region whether it holds the upload (the pin was lost, e.g. by a restart). */
  async #findUpload(mrap: MrapRecord, rest: string, uploadId: string): Promise<string | undefined> {
    for (const r of mrap.regions) {
      const region = this.#opts.catalog.region(r.region);
      if (!region) continue;
      const url = new URL(region.endpoint);
      const path = `/${r.bucket}${rest}`;
      const query = `max-parts=1&uploadId=${encodeURIComponent(uploadId)}`;
      const headers = signRequest({
        method: 'GET',
        path,
        query,
        headers: { host: url.host },
        region: r.region,
        credentials: this.#opts.catalog.serviceKey(),
      });
      try {
        const res = await this.#agent.request({ origin: url.origin, path: `${path}?${query}`, method: 'GET', headers });
        await res.body.dump();
        if (res.statusCode === 200) {
          this.#pin(uploadId, r.region);
          return r.region;
        }
      } catch {
        // That region is unreachable; the upload may be elsewhere.
      }
    }
    return undefined;
  }

  #count(mrap: MrapRecord, region: string): Counters {
    const id = `${mrap.alias}\u0000${region}`;
    let c = this.#counters.get(id);
    if (!c) {
      c = { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, failovers: 0, totalMs: 0 };
      this.#counters.set(id, c);
    }
    return c;
  }

  /** Requests per MRAP and region, with the health of each region. */
  metrics(): { regions: ReturnType<RegionHealth['snapshot']>; routes: (Counters & { alias: string; region: string })[] } {
    return {
      regions: this.#opts.health.snapshot(),
      routes: [...this.#counters].map(([id, c]) => {
        const [alias, region] = id.split('\u0000');
        return { alias, region, ...c };
      }),
    };
  }

  #sendMetrics(res: ServerResponse): void {
    const text = JSON.stringify(this.metrics());
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** The payload bytes a request announced. */
function requestBytes(req: IncomingMessage): number {
  return Number(req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length'] ?? 0) || 0;
}

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || CLIENT_ONLY.has(name)) continue;
    if (name === 'content-encoding') {
      // aws-chunked was the client's framing, now removed.
      const rest = String(value)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked');
      if (rest.length > 0) out[name] = rest.join(',');
      continue;
    }
    out[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}

/** Frames bytes as aws-chunked with the trailers at the end (STREAMING-UNSIGNED-PAYLOAD-TRAILER). */
async function* reframe(stream: Readable, trailers: () => Record<string, string>): AsyncGenerator<Buffer> {
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (chunk.length === 0) continue;
    yield Buffer.from(`${chunk.length.toString(16)}\r\n`);
    yield chunk;
    yield Buffer.from('\r\n');
  }
  if (stream.errored) throw stream.errored;
  const lines = Object.entries(trailers()).map(([k, v]) => `${k}:${v}\r\n`);
  yield Buffer.from(`0\r\n${lines.join('')}\r\n`);
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
