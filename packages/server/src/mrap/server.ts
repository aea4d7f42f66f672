/**
 * The global endpoint: one node:http server for the S3 Control API of Multi-Region Access
 * Points (`/v20180820/...`), health and readiness (`/_meridian/health`, `/_meridian/ready`),
 * and, for every other request, the MRAP data plane, which is injected (`dataPlane`).
 *
 * Conventions are the region endpoint's: every response carries `x-amz-request-id` and
 * `x-amz-id-2`, every thrown value becomes the S3 error document through `sendError`, a
 * request Node cannot parse still gets an error document, and `close` lets requests in
 * flight finish. Each request is logged in one line and counted in the process's metrics
 * (`region="global"`); `/metrics` serves them with the router's (see `#isScrape`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Catalog } from '../catalog/catalog.ts';
import { S3Error, isS3Error } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ProcessMetrics } from '../core/metrics.ts';
import { hostWithoutPort } from '../s3/address.ts';
import { createAuthenticator, type Authenticator } from '../s3/auth/sigv4.ts';
import {
  answerClientError,
  closeGracefully,
  idleBodyTimeout,
  listenOn,
  serverTimeouts,
  startRequest,
  type RequestRecord,
} from '../s3/http-edge.ts';
import { sendError } from '../s3/respond.ts';
import { matchRoute } from '../s3/router.ts';
import { ControlApi } from './control/api.ts';
import { matchControlRoute } from './control/table.ts';

/** What the global endpoint hands the data plane with each request. */
export interface DataPlaneInfo {
  requestId: string;
  hostId: string;
  /** the request-target path before '?', still percent-encoded */
  rawPath: string;
  /** the query string after '?', '' if none, still percent-encoded */
  rawQuery: string;
}

/**
 * Answers one data-plane request (anything that is not S3 Control or health). It owns the
 * response, including errors; `x-amz-request-id` and `x-amz-id-2` are already set.
 */
export type DataPlane = (req: IncomingMessage, res: ServerResponse, info: DataPlaneInfo) => Promise<void>;

export interface GlobalServerOptions {
  catalog: Catalog;
  log: Logger;
  /** The MRAP router; without it, data-plane requests are answered 501 NotImplemented. */
  dataPlane?: DataPlane;
  /** how long an asynchronous MRAP operation takes from NEW to done (default 200 ms) */
  asyncDelayMs?: number;
  /** how long a route update holds its MRAP (a concurrent one gets 409; default 0) */
  routeUpdateMs?: number;
  /** A control request body idle this long is answered RequestTimeout (default 20 s). */
  idleTimeoutMs?: number;
  /** Clock for signature checks (tests move it). */
  now?: () => Date;
  /** The process's Prometheus metrics: requests are counted as `region="global"`; `/metrics` serves them. */
  metrics?: ProcessMetrics;
  /** Readiness (`/_meridian/ready`): what is not ready yet; empty when the endpoint can serve. */
  notReady?: () => string[];
  /** base domains for `<alias>.mrap.<domain>` addressing (to name the access point in logs) */
  domains?: readonly string[];
}

/** The scope of the global endpoint's series in the process's metrics. */
const SCOPE = 'global';

const CONTROL_PREFIX = '/v20180820/';

export class GlobalServer {
  readonly #opts: GlobalServerOptions;
  readonly #server: Server;
  readonly #authenticate: Authenticator;
  readonly #control: ControlApi;
  readonly #log: Logger;
  /** The request in progress on each busy socket: a parse error there is answered through it. */
  readonly #busy = new WeakMap<Duplex, { req: IncomingMessage; res: ServerResponse; requestId: string; hostId: string }>();

  constructor(opts: GlobalServerOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ endpoint: 'global' });
    this.#authenticate = createAuthenticator((id) => opts.catalog.accessKey(id));
    this.#control = new ControlApi({
      catalog: opts.catalog,
      log: this.#log,
      asyncDelayMs: opts.asyncDelayMs,
      routeUpdateMs: opts.routeUpdateMs,
    });
    this.#server = createServer(serverTimeouts(opts.idleTimeoutMs ?? 20_000), (req, res) => {
      void this.#handle(req, res);
    });
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.#clientError(err, socket));
  }

  async listen(port: number, host: string): Promise<string> {
    const endpoint = await listenOn(this.#server, port, host);
    this.#control.start();
    return endpoint;
  }


  /** Stops accepting connections, lets requests in flight finish, then stops background work. */
  async close(): Promise<void> {
    await closeGracefully(this.#server);
    await this.#control.close();
  }


  /**
   * The same rule as a region's: only an unsigned GET of exactly `/metrics` (no Authorization
   * header, no X-Amz-Signature in the query) is a scrape; anything signed goes on as usual.
   */
  #isScrape(req: IncomingMessage, rawPath: string, rawQuery: string): boolean {
    return (
      this.#opts.metrics !== undefined &&
      rawPath === '/metrics' &&
      req.method === 'GET' &&
      req.headers.authorization === undefined &&
      !/(^|&)x-amz-signature=/i.test(rawQuery)
    );
  }

  async #sendMetrics(res: ServerResponse): Promise<void> {
    const metrics = this.#opts.metrics!;
    const text = await metrics.render(SCOPE);
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  }

  /** The operation a request asks for, the access point and the key, for logs and metrics. */
  #describe(req: IncomingMessage, rawPath: string, rawQuery: string, r: RequestRecord): void {
    const method = req.method ?? 'GET';
    if (rawPath.startsWith(CONTROL_PREFIX)) {
      const m = matchControlRoute(method, rawPath);
      r.operation = m.kind === 'operation' ? m.op : 'Unknown';
      return;
    }
    const host = hostWithoutPort(req.headers.host ?? '').toLowerCase();
    const domain = (this.#opts.domains ?? ['localhost']).find((d) => host.endsWith(`.mrap.${d.toLowerCase()}`));
    let rest: string;
    if (domain !== undefined) {
      r.bucket = host.slice(0, -`.${domain}`.length);
      rest = rawPath.slice(1);
    } else {
      const slash = rawPath.indexOf('/', 1);
      r.bucket = safeDecode(slash === -1 ? rawPath.slice(1) : rawPath.slice(1, slash));
      rest = slash === -1 ? '' : rawPath.slice(slash + 1);
    }
    r.key = rest === '' ? undefined : safeDecode(rest);
    const match = matchRoute({
      method,
      target: r.key !== undefined ? 'object' : 'bucket',
      query: new URLSearchParams(rawQuery),
      hasHeader: (name) => req.headers[name] !== undefined,
    });
    r.operation = match.kind === 'route' ? match.route.op : 'Unknown';
  }




  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { requestId, hostId, record, rawPath, rawQuery } = startRequest(req, res, this.#busy, {
      scope: SCOPE,
      metrics: this.#opts.metrics,
      log: this.#log,
    });
    try {
      if (this.#isScrape(req, rawPath, rawQuery)) {
        record.operation = 'Metrics';
        record.internal = true;
        await this.#sendMetrics(res);
        return;
      }
      if (rawPath.startsWith('/_meridian/')) {
        record.operation = `Meridian:${rawPath.slice('/_meridian/'.length)}`;
        record.internal = true;
      } else {
        this.#describe(req, rawPath, rawQuery, record);
      }
      if (rawPath === '/_meridian/health') {
        sendJson(res, 200, { status: 'ok', endpoint: 'global' });
        return;
      }
      if (rawPath === '/_meridian/ready') {
        const waiting = this.#opts.notReady?.() ?? [];
        sendJson(res, waiting.length > 0 ? 503 : 200, waiting.length > 0 ? { status: 'not ready', endpoint: 'global', waiting } : { status: 'ready', endpoint: 'global' });
        return;
      }
      if (rawPath === '/_meridian/metrics' && this.#opts.metrics) {
        await this.#sendMetrics(res);
        return;
      }
      if (rawPath.startsWith(CONTROL_PREFIX)) {
        idleBodyTimeout(req, res, this.#opts.idleTimeoutMs ?? 20_000, { requestId, hostId, resource: rawPath, log: this.#log });
        await this.#controlRequest(req, res, requestId, rawPath, rawQuery);
        return;
      }
      if (!this.#opts.dataPlane) {
        throw new S3Error('NotImplemented', 'The Multi-Region Access Point data plane is not available on this endpoint.');
      }
      await this.#opts.dataPlane(req, res, { requestId, hostId, rawPath, rawQuery });
    } catch (err) {
      if (isS3Error(err)) record.errorCode = err.code;
      sendError(req, res, err, { requestId, hostId, resource: rawPath, log: this.#log });
    } finally {
      // An answer given before the whole body was read must not leave the client stuck
      // sending into a full window: read and discard the rest.
      if (!req.complete && !req.destroyed) {
        req.unpipe();
        req.resume();
      }
    }
  }

  async #controlRequest(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    rawPath: string,
    rawQuery: string,
  ): Promise<void> {
    // Any Region in the credential scope: the SDK signs MRAP calls for us-west-2 and route
    // calls for whichever failover Region it was given.
    const auth = this.#authenticate({
      method: req.method ?? 'GET',
      rawPath,
      rawQuery,
      headers: req.headers,
      now: this.#opts.now?.() ?? new Date(),
    });
    if (auth.kind === 'anonymous') throw new S3Error('AccessDenied');
    await this.#control.handle({ req, res, requestId, rawPath, rawQuery, auth });
  }

  #clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    answerClientError(err, socket, this.#busy.get(socket), this.#log);
  }

}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}
